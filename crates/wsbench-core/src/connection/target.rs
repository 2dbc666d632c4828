//! From a [`ConnectConfig`] to a validated, ready-to-dial [`Target`]: synchronously,
//! so bad input (URL, headers, parameters, TLS files) is an immediate error.

use std::time::Duration;

use base64::Engine as _;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use url::Url;

use super::proxy::{self, Proxy};
use super::tls::{tls_config, TlsClient};
use crate::config::{ApiKeyPlacement, Auth, Compression, ConnectConfig};
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
    pub tls: Option<TlsClient>,
    pub insecure: bool,
    /// Headers in the order they are written (after the five the protocol requires).
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    pub host_header: String,
    pub ws_config: WebSocketConfig,
    pub connect_timeout: Duration,
    pub handshake_timeout: Duration,
    /// The proxy to tunnel through, if any (connection, global, environment).
    pub proxy: Option<Proxy>,
    /// permessage-deflate as offered (None: not offered).
    pub compression: Option<Compression>,
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
    // WHATWG parsing reads "ws:///chat" as the host "chat"; the user left the host out.
    if trimmed
        .split_once("://")
        .is_some_and(|(_, rest)| rest.starts_with(['/', '\\']))
    {
        return Err(bad("the URL has no host".into()));
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
    let mut query = Query(url.query().map(str::to_owned).unwrap_or_default());
    for p in config.params.iter().filter(|p| p.enabled) {
        if p.name.is_empty() {
            return Err(Error::InvalidParam {
                name: String::new(),
                reason: "a query parameter needs a name".into(),
            });
        }
        query.add(&p.name, &p.value);
    }
    let mut extra = auth(&config.auth, &mut query)?;
    url.set_query((!query.0.is_empty()).then_some(query.0.as_str()));
    if !config.subprotocols.is_empty() {
        extra.push(subprotocols(&config.subprotocols)?);
    }
    if let Some(origin) = config.origin.as_deref().filter(|o| !o.is_empty()) {
        extra.push(header("Origin", origin)?);
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let default_host = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let host_header = user_headers(config, &mut extra)?.unwrap_or(default_host);
    header("Host", &host_header)?;

    let tls = if url.scheme() == "wss" {
        Some(tls_config(&config.tls)?)
    } else {
        None
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.limits.max_message_size))
        .max_frame_size(Some(config.limits.max_frame_size));
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let proxy = proxy::choose(&config.proxy, &url, &host, port)?;
    config.compression.check().map_err(|reason| Error::InvalidHeader {
        name: "Sec-WebSocket-Extensions".into(),
        reason,
    })?;
    Ok(Target {
        compression: config.compression.enabled.then_some(config.compression),
        proxy,
        host,
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

/// A query string being extended, parameters percent-encoded.
struct Query(String);

impl Query {
    fn add(&mut self, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(&percent_encode(name));
        self.0.push('=');
        self.0.push_str(&percent_encode(value));
    }
}

/// The headers an auth setting adds (an API key may go into the query instead).
fn auth(auth: &Auth, query: &mut Query) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut extra = Vec::new();
    match auth {
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
                return Err(Error::InvalidAuth {
                    reason: "the API key has an empty parameter name".into(),
                });
            }
            query.add(name, value)
        }
    }
    Ok(extra)
}

/// `Sec-WebSocket-Protocol` offering `protocols` in order; each must be a token.
fn subprotocols(protocols: &[String]) -> Result<(HeaderName, HeaderValue)> {
    for p in protocols {
        if p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            return Err(Error::InvalidSubprotocol {
                protocol: p.clone(),
                reason: "not a valid token (letters, digits and !#$%&'*+-.^_`|~ only)".into(),
            });
        }
    }
    header("Sec-WebSocket-Protocol", &protocols.join(", "))
}

/// Append the user's enabled headers to `extra`; returns a `Host` override if one is set.
fn user_headers(config: &ConnectConfig, extra: &mut Vec<(HeaderName, HeaderValue)>) -> Result<Option<String>> {
    let mut host = None;
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
            host = Some(h.value.clone());
            continue;
        }
        if extra.iter().any(|(e, _)| {
            e == n && (lower == "origin" || lower == "sec-websocket-protocol" || lower == "authorization")
        }) {
            return Err(Error::InvalidHeader {
                name: h.name.clone(),
                reason: "also set by the Origin, subprotocol or auth setting; keep one".into(),
            });
        }
        extra.push((n, v));
    }
    Ok(host)
}
