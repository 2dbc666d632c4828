//! wss:// against a local server with a certificate from a test CA.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use wsbench_core::{ConnState, ConnectConfig, ErrorKind, LocalServer, Opcode, Outgoing, ServerConfig};

use crate::support::*;

pub struct Pki {
    pub ca: CertifiedIssuer<'static, KeyPair>,
    pub dir: std::path::PathBuf,
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub server_chain: Vec<CertificateDer<'static>>,
    pub server_key: PrivateKeyDer<'static>,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

pub fn pki(name: &str) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("wsbench test CA {name}"));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("wsbench-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Pki {
        dir,
        ca_pem: ca.as_ref().pem(),
        ca_der: ca.as_ref().der().clone(),
        server_chain: vec![server.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        client_cert_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
        ca,
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub async fn tls_server(p: &Pki, require_client_cert: bool) -> LocalServer {
    let client_ca = require_client_cert.then(|| p.ca_der.clone());
    tls_server_with(p.server_chain.clone(), p.server_key.clone_key(), client_ca).await
}

/// An echo server over TLS with this chain and key; with `client_ca`, it requires a
/// client certificate issued by that CA.
pub async fn tls_server_with(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<CertificateDer<'static>>,
) -> LocalServer {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if let Some(ca) = client_ca {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder.with_single_cert(chain, key).unwrap();
    LocalServer::start(ServerConfig {
        tls: Some(Arc::new(cfg)),
        ..ServerConfig::echo()
    })
    .await
    .unwrap()
}

pub fn write(p: &Pki, name: &str, text: &str) -> std::path::PathBuf {
    let path = p.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_error_and_its_ca_file_fixes_it() {
    let p = pki("ca");
    let server = tls_server(&p, false).await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(server.url()));
    match wait_end(&s).await {
        ConnState::Failed { error } => {
            assert_eq!(error.kind, ErrorKind::Tls);
            assert!(
                error.message.contains("not signed by a trusted CA"),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }

    let mut c = ConnectConfig::new(server.url());
    c.tls.ca_file = Some(write(&p, "ca.pem", &p.ca_pem));
    let (id, s) = open(&m, c);
    let hs = wait_open(&s).await;
    let tls = hs.tls.expect("TLS details recorded");
    assert!(!tls.certificate_verification_disabled);
    assert!(tls.version.contains("TLS"), "{}", tls.version);
    m.send(id, Outgoing::Text("over tls".into())).await.unwrap();
    wait_frame(&s, "echo over TLS", |f| {
        f.text() == Some("over tls") && f.direction == wsbench_core::Direction::In
    })
    .await;
}

#[tokio::test]
async fn accepting_invalid_certificates_is_explicit_and_recorded() {
    let p = pki("insecure");
    let server = tls_server(&p, false).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(server.url());
    c.tls.accept_invalid_certs = true;
    let (_, s) = open(&m, c);
    let hs = wait_open(&s).await;
    assert!(hs.tls.unwrap().certificate_verification_disabled);
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let p = pki("mtls");
    let server = tls_server(&p, true).await;
    let (m, _) = manager();
    let ca = write(&p, "ca.pem", &p.ca_pem);

    let mut c = ConnectConfig::new(server.url());
    c.tls.ca_file = Some(ca.clone());
    let (_, s) = open(&m, c.clone());
    assert!(
        matches!(wait_end(&s).await, ConnState::Failed { .. } | ConnState::Closed { .. }),
        "no client cert, no session"
    );

    c.tls.client_cert_file = Some(write(&p, "client.pem", &p.client_cert_pem));
    c.tls.client_key_file = Some(write(&p, "client.key", &p.client_key_pem));
    let (id, s) = open(&m, c);
    wait_open(&s).await;
    m.send(id, Outgoing::Text("mtls".into())).await.unwrap();
    wait_frame(&s, "echo", |f| {
        f.opcode == Opcode::Text && f.direction == wsbench_core::Direction::In
    })
    .await;
}

#[tokio::test]
async fn unreadable_or_wrong_tls_files_are_rejected_up_front() {
    let p = pki("files");
    let (m, _) = manager();
    let mut c = ConnectConfig::new("wss://localhost:1/");
    c.tls.ca_file = Some(p.dir.join("missing.pem"));
    let id = m.create("x", c.clone());
    let e = m.connect(id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::File);
    assert!(e.to_string().contains("missing.pem"), "{e}");

    c.tls.ca_file = Some(write(&p, "garbage.pem", "not a certificate"));
    let id = m.create("x", c.clone());
    assert!(m.connect(id).unwrap_err().to_string().contains("no PEM certificate"));

    c.tls.ca_file = None;
    c.tls.client_cert_file = Some(write(&p, "c.pem", &p.client_cert_pem));
    let id = m.create("x", c);
    assert!(m
        .connect(id)
        .unwrap_err()
        .to_string()
        .contains("both a client certificate file and its key file"));
}
