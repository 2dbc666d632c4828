//! What went over the wire during the HTTP upgrade: the request and response as they
//! really went, TLS details, timings, and a refused upgrade. A leaf: it imports
//! nothing from the crate, so the error module can name [`HttpFailure`] without a cycle.

use serde::{Deserialize, Serialize};

/// A name/value pair as it went over the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// The handshake as it really went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// The URL actually dialed (query parameters and API key applied).
    pub url: String,
    pub remote_addr: String,
    /// `GET /path?query HTTP/1.1`
    pub request_line: String,
    pub request_headers: Vec<Header>,
    /// `HTTP/1.1 101 Switching Protocols`
    pub status_line: String,
    pub status: u16,
    pub response_headers: Vec<Header>,
    pub subprotocol: Option<String>,
    pub extensions: Option<String>,
    pub tls: Option<TlsInfo>,
    pub timings: Timings,
    /// permessage-deflate as agreed with the server (None: not in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deflate: Option<DeflateParams>,
    /// The proxy the connection went through, and its exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyInfo>,
}

/// permessage-deflate parameters the server agreed to (RFC 7692 §7). A window size
/// left out means 15 bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeflateParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_max_window_bits: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_max_window_bits: Option<u8>,
    #[serde(default)]
    pub client_no_context_takeover: bool,
    #[serde(default)]
    pub server_no_context_takeover: bool,
}

/// The proxy a connection went through: which, why, and what was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyInfo {
    /// `http://host:port`, `socks5h://host:port`: never with credentials.
    pub url: String,
    /// "HTTP CONNECT", "SOCKS5" or "SOCKS5h".
    pub kind: String,
    /// Where the setting came from: "connection", "global" or the environment
    /// variable's name.
    pub source: String,
    /// The CONNECT request and answer, or the SOCKS steps, one line each (`> ` sent,
    /// `< ` received); credentials are never written here.
    pub exchange: Vec<String>,
    /// Microseconds from the proxy's TCP connection to an open tunnel.
    pub tunnel_us: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The user opted in to accepting any certificate for this connection.
    pub certificate_verification_disabled: bool,
    /// The chain the server presented, its own certificate first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertInfo>,
    /// The server's certificate is exactly the one given as the CA file (pinned).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

/// Microseconds spent in each step of the connect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    pub dns_us: u64,
    pub tcp_us: u64,
    pub tls_us: u64,
    pub upgrade_us: u64,
    pub total_us: u64,
}

/// A non-101 answer to the upgrade: what the server said and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpFailure {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
    /// The first KiB of the body, decoded as UTF-8 (lossy).
    pub body: String,
    pub body_truncated: bool,
    /// A redirect's `Location` header, as sent (3xx only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The `Location` as a WebSocket URL to try instead (resolved, http→ws, https→wss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

/// One certificate of the chain the server sent, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Subject alternative names: `DNS:example.com`, `IP:127.0.0.1`.
    pub sans: Vec<String>,
    /// SHA-256 of the DER, upper-case hex pairs joined by `:` (as browsers show it).
    pub sha256: String,
    /// Basic constraints say CA.
    pub is_ca: bool,
    /// Subject and issuer are the same name.
    pub self_signed: bool,
}
