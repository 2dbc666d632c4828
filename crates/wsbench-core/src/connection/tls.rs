//! TLS for wss://: the client config (roots, a CA file, mutual TLS, the recorded
//! opt-in to skip certificate checks), the handshake over a connected stream, and
//! failure reasons a user can act on.

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};

use super::target::Target;
use crate::config::TlsConfig;
use crate::error::{Error, Result};
use crate::handshake::TlsInfo;

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

fn roots(cfg: &TlsConfig) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    if cfg.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if cfg.system_roots {
        roots.add_parsable_certificates(native_roots().iter().cloned());
    }
    if let Some(path) = &cfg.ca_file {
        for c in read_pem_certs(path, "CA certificate")? {
            roots.add(c).map_err(|e| Error::File {
                path: path.display().to_string(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(roots)
}

/// The client TLS config for `cfg`; reads the files it names.
pub(super) fn tls_config(cfg: &TlsConfig) -> Result<Arc<rustls::ClientConfig>> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidTls { reason: e.to_string() })?;
    let builder = if cfg.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
    } else {
        builder.with_root_certificates(roots(cfg)?)
    };
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
    Ok(Arc::new(config))
}

/// The explicit, recorded opt-in to skip certificate checks. Handshake signatures are
/// still verified, so the session is at least bound to the presented certificate.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS handshake over `io` (TCP, or a proxy tunnel), SNI = the target host.
pub(super) async fn handshake<IO>(
    target: &Target,
    cfg: &Arc<rustls::ClientConfig>,
    io: IO,
) -> Result<(tokio_rustls::client::TlsStream<IO>, TlsInfo)>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(target.host.clone()).map_err(|e| Error::Tls {
        host: target.host.clone(),
        reason: format!("not a valid TLS server name: {e}"),
    })?;
    let tls = tokio_rustls::TlsConnector::from(cfg.clone())
        .connect(name, io)
        .await
        .map_err(|e| Error::Tls {
            host: target.host.clone(),
            reason: tls_reason(&e),
        })?;
    let (_, conn) = tls.get_ref();
    let info = TlsInfo {
        version: conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        alpn: conn.alpn_protocol().map(|a| String::from_utf8_lossy(a).into_owned()),
        certificate_verification_disabled: target.insecure,
    };
    Ok((tls, info))
}

fn tls_reason(e: &io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => {
            use rustls::CertificateError as C;
            match c {
                C::UnknownIssuer => {
                    "the certificate is not signed by a trusted CA (add its CA file, or accept invalid certificates)"
                        .to_string()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the certificate is not valid for this host name".to_string()
                }
                C::Expired | C::ExpiredContext { .. } => "the certificate has expired".to_string(),
                other => format!("invalid certificate: {other:?}"),
            }
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}
