//! TLS as developers meet it: the openssl-style self-signed certificate pinned with
//! the CA file, every TLS failure worded for a person, the certificate chain
//! recorded on success and failure, the ws/wss port mix-ups and redirects.

use std::process::Command;

use rcgen::{date_time_ymd, CertificateParams, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wsbench_core::{ConnState, ConnectConfig, ErrorInfo, ErrorKind, LocalServer, ServerConfig};

use crate::support::*;
use crate::tls::{pki, tls_server_with, write, Pki};

async fn fails(c: ConnectConfig) -> ErrorInfo {
    let (m, _) = manager();
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn key_der(k: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der()))
}

/// A calendar day: year, month, day.
type Ymd = (i32, u8, u8);

/// A server certificate from the test CA with these names and dates.
fn leaf(p: &Pki, names: &[&str], dates: Option<(Ymd, Ymd)>) -> (CertificateDer<'static>, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if let Some(((y1, m1, d1), (y2, m2, d2))) = dates {
        params.not_before = date_time_ymd(y1, m1, d1);
        params.not_after = date_time_ymd(y2, m2, d2);
    }
    let cert = params.signed_by(&key, &p.ca).unwrap();
    (cert.der().clone(), key)
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext
/// subjectAltName=DNS:localhost,IP:127.0.0.1`, exactly as a developer types it.
fn openssl_self_signed(p: &Pki, san: &str) -> (std::path::PathBuf, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let cert = p.dir.join(format!("openssl-cert-{san}.pem"));
    let key = p.dir.join(format!("openssl-key-{san}.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", &format!("subjectAltName={san}"), "-days", "2"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let der = CertificateDer::from_pem_file(&cert).unwrap();
    let key_der = PrivateKeyDer::from_pem_file(&key).unwrap();
    (cert, der, key_der)
}

#[tokio::test]
async fn an_openssl_self_signed_certificate_is_pinned_by_the_ca_file() {
    let p = pki("openssl");
    let (cert_file, der, key) = openssl_self_signed(&p, "DNS:localhost,IP:127.0.0.1");
    let server = tls_server_with(vec![der], key, None).await;
    let url = format!("wss://127.0.0.1:{}/", server.addr().port());

    let e = fails(ConnectConfig::new(&url)).await;
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(
        e.message.contains("presents a CA certificate as its own"),
        "{}",
        e.message
    );
    assert!(e.message.contains("CA file (--ca)"), "{}", e.message);
    let chain = e.certificates.expect("the chain is recorded on failure");
    assert_eq!(chain[0].subject, "CN=localhost");
    assert!(chain[0].self_signed && chain[0].is_ca);

    for url in [url.clone(), format!("wss://localhost:{}/", server.addr().port())] {
        let mut c = ConnectConfig::new(&url);
        c.tls.ca_file = Some(cert_file.clone());
        let (m, _) = manager();
        let (_, s) = open(&m, c);
        let tls = wait_open(&s).await.tls.expect("TLS recorded");
        assert!(tls.pinned, "{url}");
        let leaf = &tls.certificates[0];
        assert_eq!(leaf.sans, vec!["DNS:localhost", "IP:127.0.0.1"]);
        assert_eq!(leaf.sha256.len(), 32 * 3 - 1, "{}", leaf.sha256);
        assert!(leaf.not_after > leaf.not_before, "{leaf:?}");
    }

    // Pinning still checks the name: a pinned certificate for another host fails.
    let (cert_file, der, key) = openssl_self_signed(&p, "DNS:other.test");
    let server = tls_server_with(vec![der], key, None).await;
    let mut c = ConnectConfig::new(server.url());
    c.tls.ca_file = Some(cert_file);
    let e = fails(c).await;
    assert!(
        e.message
            .contains("not valid for the host name \"localhost\": it holds DNS:other.test"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_signed_chain_is_recorded_on_success() {
    let p = pki("chain");
    let server = tls_server_with(p.server_chain.clone(), p.server_key.clone_key(), None).await;
    let mut c = ConnectConfig::new(server.url());
    c.tls.ca_file = Some(write(&p, "ca.pem", &p.ca_pem));
    let (m, _) = manager();
    let (_, s) = open(&m, c);
    let tls = wait_open(&s).await.tls.unwrap();
    assert!(!tls.pinned);
    assert_eq!(tls.certificates[0].sans, vec!["DNS:localhost"]);
    assert!(!tls.certificates[0].self_signed);
}

async fn served(cert: CertificateDer<'static>, key: &KeyPair) -> LocalServer {
    tls_server_with(vec![cert], key_der(key), None).await
}

fn trusting(p: &Pki, url: String) -> ConnectConfig {
    let mut c = ConnectConfig::new(url);
    c.tls.ca_file = Some(write(p, "ca.pem", &p.ca_pem));
    c
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_say_when() {
    let p = pki("dates");
    let (cert, key) = leaf(&p, &["localhost"], Some(((2020, 1, 1), (2021, 3, 4))));
    let server = served(cert, &key).await;
    let e = fails(trusting(&p, server.url())).await;
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(e.message.contains("expired on 2021-03-04"), "{}", e.message);
    assert!(e.certificates.is_some());

    let (cert, key) = leaf(&p, &["localhost"], Some(((2090, 5, 6), (2091, 1, 1))));
    let server = served(cert, &key).await;
    let e = fails(trusting(&p, server.url())).await;
    assert!(
        e.message.contains("not valid yet: only from 2090-05-06"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_wrong_host_name_lists_the_names_the_certificate_holds() {
    let p = pki("names");
    let (cert, key) = leaf(&p, &["api.example.test", "www.example.test"], None);
    let server = served(cert, &key).await;
    let e = fails(trusting(&p, server.url())).await;
    assert!(
        e.message.contains("not valid for the host name \"localhost\""),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("api.example.test") && e.message.contains("www.example.test"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn unknown_issuer_and_self_signed_are_told_apart() {
    let p = pki("issuer");
    let server = tls_server_with(p.server_chain.clone(), p.server_key.clone_key(), None).await;
    let e = fails(ConnectConfig::new(server.url())).await;
    assert!(e.message.contains("not signed by a trusted CA"), "{}", e.message);
    assert!(e.message.contains("add its CA file"), "{}", e.message);

    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let server = tls_server_with(vec![cert.der().clone()], key_der(&key), None).await;
    let e = fails(ConnectConfig::new(server.url())).await;
    assert!(e.message.contains("self-signed and not trusted"), "{}", e.message);

    // The CA file pins a plain (non-CA) self-signed certificate too.
    let mut c = ConnectConfig::new(server.url());
    c.tls.ca_file = Some(write(&p, "self.pem", &cert.pem()));
    let (m, _) = manager();
    let (_, s) = open(&m, c);
    wait_open(&s).await;
}

#[tokio::test]
async fn client_certificate_required_or_refused() {
    let p = pki("client");
    let server = tls_server_with(p.server_chain.clone(), p.server_key.clone_key(), Some(p.ca_der.clone())).await;
    let e = fails(trusting(&p, server.url())).await;
    assert_eq!(e.kind, ErrorKind::Tls, "{}", e.message);
    assert!(e.message.contains("requires a client certificate"), "{}", e.message);

    // A client certificate from another CA is refused.
    let other = pki("client-other");
    let mut c = trusting(&p, server.url());
    c.tls.client_cert_file = Some(write(&p, "other.pem", &other.client_cert_pem));
    c.tls.client_key_file = Some(write(&p, "other.key", &other.client_key_pem));
    let e = fails(c).await;
    assert!(e.message.contains("refused the client certificate"), "{}", e.message);
}

/// A TCP server answering every connection with `bytes`, then closing.
async fn answers(bytes: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = l.accept().await {
            let mut buf = [0u8; 2048];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(bytes).await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    port
}

#[tokio::test]
async fn a_protocol_version_mismatch_is_named() {
    // A fatal protocol_version alert, as a TLS-1.0-only server sends.
    let port = answers(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]).await;
    let e = fails(ConnectConfig::new(format!("wss://localhost:{port}/"))).await;
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(e.message.contains("TLS versions wsbench speaks"), "{}", e.message);
}

#[tokio::test]
async fn ws_at_a_tls_port_and_wss_at_a_plain_port_get_a_hint() {
    let p = pki("ports");
    let server = tls_server_with(p.server_chain.clone(), p.server_key.clone_key(), None).await;
    let e = fails(ConnectConfig::new(format!("ws://localhost:{}/", server.addr().port()))).await;
    assert!(e.message.contains("wss://"), "{}", e.message);

    // A server that answers with a TLS alert record says so exactly.
    let port = answers(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]).await;
    let e = fails(ConnectConfig::new(format!("ws://127.0.0.1:{port}/x"))).await;
    assert!(
        e.message.contains(&format!(
            "answered with TLS: this port expects wss://; use \"wss://127.0.0.1:{port}/x\""
        )),
        "{}",
        e.message
    );

    let plain = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let e = fails(ConnectConfig::new(format!("wss://127.0.0.1:{}/", plain.addr().port()))).await;
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(e.message.contains("use ws:// instead of wss://"), "{}", e.message);
}

#[tokio::test]
async fn a_redirect_shows_its_location_and_is_not_followed() {
    let port = answers(
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://example.test/socket?v=2\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let e = fails(ConnectConfig::new(format!("ws://127.0.0.1:{port}/old"))).await;
    assert_eq!(e.kind, ErrorKind::HttpStatus);
    assert!(
        e.message
            .contains("HTTP 301 Moved Permanently; it redirects to wss://example.test/socket?v=2 (not followed"),
        "{}",
        e.message
    );
    let http = e.http.unwrap();
    assert_eq!(http.location.as_deref(), Some("https://example.test/socket?v=2"));

    let port = answers(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n").await;
    let e = fails(ConnectConfig::new(format!("ws://127.0.0.1:{port}/old"))).await;
    assert_eq!(
        e.http.unwrap().redirect.as_deref(),
        Some(format!("ws://127.0.0.1:{port}/new").as_str())
    );
}
