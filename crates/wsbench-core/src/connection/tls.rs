//! TLS for wss://: the client config (roots, a CA file, mutual TLS, the recorded
//! opt-in to skip certificate checks), the handshake over a connected stream, and
//! failure reasons a user can act on.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};

use super::certs;
use super::target::Target;
pub(super) use super::tls_words::reason;
use crate::config::TlsConfig;
use crate::error::{Error, Result};
use crate::handshake::{CertInfo, TlsInfo};
use crate::sync::lock;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let r = rustls_native_certs::load_native_certs();
        for e in &r.errors {
            tracing::warn!(error = %e, "could not load a system root certificate");
        }
        r.certs
    })
}

fn read_pem_certs(path: &std::path::Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let file_err = |reason: String| Error::File {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| file_err(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| file_err(format!("not a PEM {what}: {e}")))?;
    if certs.is_empty() {
        return Err(file_err(format!("no PEM certificate found (expected a {what})")));
    }
    Ok(certs)
}

fn roots(cfg: &TlsConfig, pinned: &[CertificateDer<'static>]) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    if cfg.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if cfg.system_roots {
        roots.add_parsable_certificates(native_roots().iter().cloned());
    }
    if let Some(path) = &cfg.ca_file {
        for c in pinned {
            roots.add(c.clone()).map_err(|e| Error::File {
                path: path.display().to_string(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(roots)
}

/// What a dial needs for wss://: the rustls config, and what its verifier saw of the
/// server (read after each handshake, successful or not).
#[derive(Clone)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    seen: Arc<Seen>,
    /// What the user set, so a failure can say what to change.
    pub(super) has_ca_file: bool,
    pub(super) has_client_cert: bool,
}

/// The chain the server presented last, and whether it matched a pinned certificate.
#[derive(Debug, Default)]
struct Seen {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    pinned: AtomicBool,
}

impl TlsClient {
    /// The chain the server presented in the last handshake, readable.
    pub(super) fn chain(&self) -> Vec<CertInfo> {
        lock(&self.seen.chain).iter().map(certs::describe).collect()
    }

    fn reset(&self) {
        lock(&self.seen.chain).clear();
        self.seen.pinned.store(false, Ordering::Relaxed);
    }
}

/// The client TLS config for `cfg`; reads the files it names.
pub(super) fn tls_config(cfg: &TlsConfig) -> Result<TlsClient> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidTls { reason: e.to_string() })?;
    let pinned = match &cfg.ca_file {
        Some(path) => read_pem_certs(path, "CA certificate")?,
        None => Vec::new(),
    };
    let inner = if cfg.accept_invalid_certs {
        None
    } else {
        let roots = Arc::new(roots(cfg, &pinned)?);
        let v = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| Error::InvalidTls {
                reason: format!(
                    "no certificate to trust ({e}): turn the system or bundled roots on, or give a CA file"
                ),
            })?;
        Some(v)
    };
    let seen = Arc::new(Seen::default());
    let verifier = Verifier {
        inner,
        pinned,
        provider: provider(),
        seen: seen.clone(),
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match (&cfg.client_cert_file, &cfg.client_key_file) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = read_pem_certs(cert, "client certificate")?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| Error::File {
                path: key.display().to_string(),
                reason: format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) found: {e}"),
            })?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| Error::File {
                path: key.display().to_string(),
                reason: format!("the key does not fit the client certificate: {e}"),
            })?
        }
        _ => {
            return Err(Error::InvalidTls {
                reason: "mutual TLS needs both a client certificate file and its key file".into(),
            })
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsClient {
        config: Arc::new(config),
        seen,
        has_ca_file: cfg.ca_file.is_some(),
        has_client_cert: cfg.client_cert_file.is_some(),
    })
}

/// The webpki verifier (absent: the explicit, recorded opt-in to accept any
/// certificate), plus pinning: a server certificate that is exactly one of the
/// CA file's certificates is trusted whatever its basic constraints, as long as it
/// is in its validity period and names the host. It records the chain it saw.
/// Handshake signatures are always verified, so the session is bound to the
/// presented certificate.
#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: Arc<Seen>,
}

impl Verifier {
    fn check_pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> std::result::Result<(), rustls::Error> {
        use rustls::CertificateError as C;
        let at = |secs: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs.max(0) as u64));
        let (not_before, not_after) = certs::validity(end_entity).ok_or(C::BadEncoding)?;
        let t = now.as_secs() as i64;
        if t > not_after {
            return Err(C::ExpiredContext {
                time: now,
                not_after: at(not_after),
            }
            .into());
        }
        if t < not_before {
            return Err(C::NotValidYetContext {
                time: now,
                not_before: at(not_before),
            }
            .into());
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)
    }
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        {
            let mut chain = lock(&self.seen.chain);
            chain.clear();
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Ok(v) => Ok(v),
            Err(e) if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) => {
                tracing::debug!(error = %e, "the server's certificate is the pinned one");
                self.check_pinned(end_entity, server_name, now)?;
                self.seen.pinned.store(true, Ordering::Relaxed);
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS handshake over `io` (TCP, or a proxy tunnel), SNI = the target host.
pub(super) async fn handshake<IO>(
    target: &Target,
    client: &TlsClient,
    io: IO,
) -> Result<(tokio_rustls::client::TlsStream<IO>, TlsInfo)>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(target.host.clone()).map_err(|e| Error::Tls {
        host: target.host.clone(),
        reason: format!("not a valid TLS server name: {e}"),
        certificates: Vec::new(),
    })?;
    client.reset();
    let tls = tokio_rustls::TlsConnector::from(client.config.clone())
        .connect(name, io)
        .await
        .map_err(|e| failure(target, client, &e))?;
    let (_, conn) = tls.get_ref();
    let info = TlsInfo {
        version: conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        alpn: conn.alpn_protocol().map(|a| String::from_utf8_lossy(a).into_owned()),
        certificate_verification_disabled: target.insecure,
        certificates: client.chain(),
        pinned: client.seen.pinned.load(Ordering::Relaxed),
    };
    Ok((tls, info))
}

/// A TLS failure (during the TLS handshake, or a TLS alert read later, as in TLS 1.3
/// when the server refuses the client certificate), worded for a person.
pub(super) fn failure(target: &Target, client: &TlsClient, e: &io::Error) -> Error {
    let chain = client.chain();
    Error::Tls {
        host: target.host.clone(),
        reason: reason(e, &chain, client),
        certificates: chain,
    }
}
