//! From a [`ConnectConfig`] to an open WebSocket: validate and build the request
//! (synchronously, so bad input is an immediate error), then resolve, connect, TLS
//! and upgrade, timing each step and recording what went over the wire.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::handshake::client::{generate_key, Request};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;
use url::Url;

use super::wire::{TapContext, WireTap};
use super::{Handshake, Header, HttpFailure, Timings, TlsInfo};
use crate::config::{ApiKeyPlacement, Auth, ConnectConfig, TlsConfig};
use crate::error::{Error, Result};

/// Headers wsbench writes itself; a user-supplied copy would corrupt the handshake.
const MANAGED_HEADERS: [&str; 5] = [
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
    "sec-websocket-extensions",
];

/// RFC 3986 unreserved characters stay as they are; everything else is %XX (UTF-8).
const QUERY_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A validated, ready-to-dial connection target.
#[derive(Clone)]
pub struct Target {
    pub url: Url,
    pub host: String,
    pub port: u16,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub insecure: bool,
    /// Headers in the order they are written (after the five the protocol requires).
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    pub host_header: String,
    pub ws_config: WebSocketConfig,
    pub connect_timeout: Duration,
    pub handshake_timeout: Duration,
}

pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_ENCODE).to_string()
}

/// Parse and check a WebSocket URL, with a hint for the usual mistakes.
pub fn parse_url(input: &str) -> Result<Url> {
    let trimmed = input.trim();
    let bad = |reason: String| Error::InvalidUrl {
        url: input.to_owned(),
        reason,
    };
    if trimmed.is_empty() {
        return Err(bad("the URL is empty".into()));
    }
    if !trimmed.contains("://") {
        return Err(bad(format!(
            "missing scheme; did you mean \"ws://{trimmed}\" (or wss:// for TLS)?"
        )));
    }
    let url = Url::parse(trimmed).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "ws" | "wss" => {}
        "http" => {
            return Err(bad(format!(
                "http:// is not a WebSocket scheme; use \"{}\"",
                swap_scheme(trimmed, "ws")
            )))
        }
        "https" => {
            return Err(bad(format!(
                "https:// is not a WebSocket scheme; use \"{}\"",
                swap_scheme(trimmed, "wss")
            )))
        }
        other => return Err(bad(format!("unsupported scheme \"{other}\"; use ws:// or wss://"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL are not sent; use the Basic auth setting instead".into(),
        ));
    }
    Ok(url)
}

fn swap_scheme(url: &str, scheme: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => format!("{scheme}://{rest}"),
        None => url.to_owned(),
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| Error::InvalidHeader {
        name: name.to_owned(),
        reason: "a header name is a non-empty token: letters, digits and !#$%&'*+-.^_`|~ only".into(),
    })?;
    let v = HeaderValue::from_str(value).map_err(|_| Error::InvalidHeader {
        name: name.to_owned(),
        reason: "the value holds a control character or a line break".into(),
    })?;
    Ok((n, v))
}

/// Validate a config and build everything needed to dial. No I/O except reading the
/// TLS files named in the config.
pub fn prepare(config: &ConnectConfig) -> Result<Target> {
    let mut url = parse_url(&config.url)?;
    let mut query = url.query().map(str::to_owned).unwrap_or_default();
    let mut add_param = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&percent_encode(name));
        query.push('=');
        query.push_str(&percent_encode(value));
    };
    for p in config.params.iter().filter(|p| p.enabled) {
        if p.name.is_empty() {
            return Err(Error::InvalidConfig("a query parameter has an empty name".into()));
        }
        add_param(&p.name, &p.value);
    }
    let mut extra = Vec::new();
    match &config.auth {
        Auth::None => {}
        Auth::Bearer { token } => extra.push(header("Authorization", &format!("Bearer {}", token.trim()))?),
        Auth::Basic { username, password } => {
            let cred = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            extra.push(header("Authorization", &format!("Basic {cred}"))?)
        }
        Auth::ApiKey {
            name,
            value,
            placement: ApiKeyPlacement::Header,
        } => extra.push(header(name, value)?),
        Auth::ApiKey {
            name,
            value,
            placement: ApiKeyPlacement::Query,
        } => {
            if name.is_empty() {
                return Err(Error::InvalidConfig("the API key has an empty parameter name".into()));
            }
            add_param(name, value)
        }
    }
    url.set_query((!query.is_empty()).then_some(query.as_str()));

    if !config.subprotocols.is_empty() {
        for p in &config.subprotocols {
            if p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
            {
                return Err(Error::InvalidConfig(format!("subprotocol {p:?} is not a valid token")));
            }
        }
        extra.push(header("Sec-WebSocket-Protocol", &config.subprotocols.join(", "))?);
    }
    if let Some(origin) = config.origin.as_deref().filter(|o| !o.is_empty()) {
        extra.push(header("Origin", origin)?);
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    for h in config.headers.iter().filter(|h| h.enabled) {
        let (n, v) = header(&h.name, &h.value)?;
        let lower = n.as_str();
        if MANAGED_HEADERS.contains(&lower) {
            return Err(Error::InvalidHeader {
                name: h.name.clone(),
                reason: "wsbench writes this handshake header itself".into(),
            });
        }
        if lower == "host" {
            host_header = h.value.clone();
            continue;
        }
        if extra.iter().any(|(e, _): &(HeaderName, HeaderValue)| {
            e == n && (lower == "origin" || lower == "sec-websocket-protocol" || lower == "authorization")
        }) {
            return Err(Error::InvalidHeader {
                name: h.name.clone(),
                reason: "also set by the Origin, subprotocol or auth setting; keep one".into(),
            });
        }
        extra.push((n, v));
    }
    header("Host", &host_header)?;

    let tls = if url.scheme() == "wss" {
        Some(tls_config(&config.tls)?)
    } else {
        None
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.limits.max_message_size))
        .max_frame_size(Some(config.limits.max_frame_size));
    Ok(Target {
        host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
        port,
        url,
        tls,
        insecure: config.tls.accept_invalid_certs,
        extra_headers: extra,
        host_header,
        ws_config,
        connect_timeout: Duration::from_millis(config.timeouts.connect_ms.max(1)),
        handshake_timeout: Duration::from_millis(config.timeouts.handshake_ms.max(1)),
    })
}

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

fn tls_config(cfg: &TlsConfig) -> Result<Arc<rustls::ClientConfig>> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidConfig(format!("TLS: {e}")))?;
    let builder = if cfg.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
    } else {
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
        builder.with_root_certificates(roots)
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
            return Err(Error::InvalidConfig(
                "mutual TLS needs both a client certificate file and its key file".into(),
            ))
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

/// TCP or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

pub type Socket = WebSocketStream<WireTap<Stream>>;

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

fn tls_reason(e: &io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => {
            use rustls::CertificateError as C;
            let hint = match c {
                C::UnknownIssuer => {
                    "the certificate is not signed by a trusted CA (add its CA file, or accept invalid certificates)"
                        .to_string()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the certificate is not valid for this host name".to_string()
                }
                C::Expired | C::ExpiredContext { .. } => "the certificate has expired".to_string(),
                other => format!("invalid certificate: {other:?}"),
            };
            hint
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

/// Resolve, connect, TLS and upgrade. `tap` sees every byte written.
pub async fn dial(target: &Target, tap: Arc<TapContext>) -> Result<(Socket, Handshake)> {
    let t0 = Instant::now();
    let mut timings = Timings::default();
    let connect = async {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| Error::Dns {
                host: target.host.clone(),
                reason: e.to_string(),
            })?
            .collect();
        timings.dns_us = us(t0.elapsed());
        if addrs.is_empty() {
            return Err(Error::Dns {
                host: target.host.clone(),
                reason: "no address found".into(),
            });
        }
        let t1 = Instant::now();
        let mut last = None;
        let mut tcp = None;
        // Each address gets its share of the timeout, so one that never answers
        // (a broken IPv6 route, say) leaves time for the next.
        let per_address = (target.connect_timeout / addrs.len() as u32).max(Duration::from_millis(500));
        for addr in &addrs {
            match tokio::time::timeout(per_address, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    tcp = Some((s, *addr));
                    break;
                }
                Ok(Err(e)) => last = Some((e, *addr)),
                Err(_) => {
                    let msg = format!("no answer within {} ms", per_address.as_millis());
                    last = Some((io::Error::new(io::ErrorKind::TimedOut, msg), *addr))
                }
            }
        }
        let (tcp, addr) = match (tcp, last) {
            (Some(t), _) => t,
            (None, Some((e, addr))) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(Error::Refused { addr: addr.to_string() })
            }
            (None, Some((e, addr))) => {
                return Err(Error::Connect {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })
            }
            (None, None) => unreachable!("addrs is not empty"),
        };
        let _ = tcp.set_nodelay(true);
        timings.tcp_us = us(t1.elapsed());
        let t2 = Instant::now();
        let (stream, tls_info) = match &target.tls {
            None => (Stream::Plain(tcp), None),
            Some(cfg) => {
                let name = ServerName::try_from(target.host.clone()).map_err(|e| Error::Tls {
                    host: target.host.clone(),
                    reason: format!("not a valid TLS server name: {e}"),
                })?;
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
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
                timings.tls_us = us(t2.elapsed());
                (Stream::Tls(Box::new(tls)), Some(info))
            }
        };
        Ok((stream, tls_info, addr))
    };
    let (stream, tls_info, addr) = tokio::time::timeout(target.connect_timeout, connect)
        .await
        .map_err(|_| Error::Timeout {
            stage: "connect",
            ms: target.connect_timeout.as_millis() as u64,
        })??;

    let key = generate_key();
    let uri: Uri = target.url.as_str().parse().map_err(|e| Error::InvalidUrl {
        url: target.url.to_string(),
        reason: format!("{e}"),
    })?;
    let mut builder = Request::builder()
        .method("GET")
        .uri(uri)
        .header("Host", &target.host_header)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", &key);
    for (n, v) in &target.extra_headers {
        builder = builder.header(n, v);
    }
    let request = builder.body(()).map_err(|e| Error::Handshake(e.to_string()))?;
    let path = match target.url.query() {
        Some(q) => format!("{}?{q}", target.url.path()),
        None => target.url.path().to_owned(),
    };
    let request_line = format!("GET {path} HTTP/1.1");
    let mut request_headers: Vec<Header> = [
        ("Host", target.host_header.as_str()),
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", key.as_str()),
    ]
    .iter()
    .map(|(n, v)| Header {
        name: n.to_string(),
        value: v.to_string(),
    })
    .collect();
    request_headers.extend(target.extra_headers.iter().map(|(n, v)| Header {
        name: n.to_string(),
        value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
    }));

    let t3 = Instant::now();
    let upgrade =
        tokio_tungstenite::client_async_with_config(request, WireTap::new(stream, tap.clone()), Some(target.ws_config));
    let (ws, response) = tokio::time::timeout(target.handshake_timeout, upgrade)
        .await
        .map_err(|_| Error::Timeout {
            stage: "WebSocket handshake",
            ms: target.handshake_timeout.as_millis() as u64,
        })?
        .map_err(handshake_error)?;
    timings.upgrade_us = us(t3.elapsed());
    timings.total_us = us(t0.elapsed());
    // Record what really went out (tungstenite orders and spells some headers its
    // own way); what we built is the fallback.
    let (request_line, request_headers) = parse_request(&tap.sent_request()).unwrap_or((request_line, request_headers));

    let headers = header_list(response.headers());
    let find = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let status = response.status();
    Ok((
        ws,
        Handshake {
            url: target.url.to_string(),
            remote_addr: addr.to_string(),
            request_line,
            request_headers,
            status_line: format!(
                "HTTP/1.1 {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
            status: status.as_u16(),
            response_headers: headers,
            subprotocol: find("sec-websocket-protocol"),
            extensions: find("sec-websocket-extensions"),
            tls: tls_info,
            timings,
        },
    ))
}

/// Split a written HTTP request into its request line and headers.
fn parse_request(bytes: &[u8]) -> Option<(String, Vec<Header>)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':')?;
            Some(Header {
                name: n.to_owned(),
                value: v.trim().to_owned(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((line, headers))
}

fn header_list(h: &tokio_tungstenite::tungstenite::http::HeaderMap) -> Vec<Header> {
    h.iter()
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        })
        .collect()
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Http(resp) => {
            const MAX: usize = 1024;
            let body = resp.body().as_deref().unwrap_or_default();
            let cut = &body[..body.len().min(MAX)];
            Error::HttpStatus(Box::new(HttpFailure {
                status: resp.status().as_u16(),
                reason: resp.status().canonical_reason().unwrap_or("").to_owned(),
                headers: header_list(resp.headers()),
                body: String::from_utf8_lossy(cut).into_owned(),
                body_truncated: body.len() > MAX,
            }))
        }
        WsError::Io(e) => Error::Io(format!("during the WebSocket handshake: {e}")),
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e)) => Error::Handshake(match e {
            SubProtocolError::NoSubProtocol => {
                "the server accepted none of the offered subprotocols (its answer has no Sec-WebSocket-Protocol header)"
                    .into()
            }
            SubProtocolError::InvalidSubProtocol => "the server chose a subprotocol that was not offered".into(),
            SubProtocolError::ServerSentSubProtocolNoneRequested => {
                "the server chose a subprotocol although none was offered".into()
            }
        }),
        WsError::Protocol(p) => Error::Handshake(p.to_string()),
        other => Error::Handshake(other.to_string()),
    }
}
