//! What a connection is made of. Serde-friendly and versioned so the same struct can
//! live in collection files; every field has a default so old files keep loading.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const CONFIG_VERSION: u32 = 1;

/// 64 MiB, as tungstenite and browsers allow.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
/// 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// Frames kept per connection before the oldest are evicted.
pub const DEFAULT_LOG_MAX_FRAMES: usize = 2_000_000;
/// Payload bytes kept per connection before the oldest frames are evicted.
pub const DEFAULT_LOG_MAX_BYTES: usize = 256 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectConfig {
    pub version: u32,
    /// `ws://` or `wss://` URL; may already carry a query string.
    pub url: String,
    /// Extra query parameters, appended percent-encoded (RFC 3986) when enabled.
    pub params: Vec<KeyValue>,
    /// Handshake headers.
    pub headers: Vec<KeyValue>,
    /// Offered in `Sec-WebSocket-Protocol`, in order.
    pub subprotocols: Vec<String>,
    /// Sent as the `Origin` header when set.
    pub origin: Option<String>,
    pub auth: Auth,
    pub tls: TlsConfig,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub log: LogLimits,
    pub keepalive: Keepalive,
    pub reconnect: Reconnect,
    /// Where this connection's proxy comes from (see [`ProxySetting`]).
    #[serde(skip_serializing_if = "ProxySetting::is_system")]
    pub proxy: ProxySetting,
    /// permessage-deflate (RFC 7692): offered unless switched off.
    #[serde(skip_serializing_if = "Compression::is_default")]
    pub compression: Compression,
    /// Speak Socket.IO over the connection (WebSocket transport only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socketio: Option<SocketIoConfig>,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            url: String::new(),
            params: Vec::new(),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            origin: None,
            auth: Auth::None,
            tls: TlsConfig::default(),
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            log: LogLimits::default(),
            keepalive: Keepalive::default(),
            reconnect: Reconnect::default(),
            proxy: ProxySetting::System,
            compression: Compression::default(),
            socketio: None,
        }
    }
}

impl ConnectConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(KeyValue::new(name, value));
        self
    }

    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push(KeyValue::new(name, value));
        self
    }
}

/// Socket.IO mode: the settings of the Socket.IO client layered over the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SocketIoConfig {
    /// The server's Socket.IO major version: 4 or 3 (Engine.IO 4), or 2 (Engine.IO 3).
    pub version: u8,
    /// The handshake path.
    pub path: String,
    /// Namespaces joined once the Engine.IO session is open (and again on every
    /// reconnect); none means the main namespace `/`.
    pub namespaces: Vec<SioNamespace>,
    /// Answer Engine.IO pings (v3/v4 servers) or send them (v2 servers) automatically.
    pub auto_heartbeat: bool,
    /// Answer the server's ack requests with these arguments (a JSON array, or one
    /// value); none leaves them for the user to answer.
    pub auto_ack: Option<serde_json::Value>,
    /// Event names the user listens to (the log's event filter); empty means all.
    pub listen: Vec<String>,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        Self {
            version: 4,
            path: "/socket.io/".into(),
            namespaces: Vec::new(),
            auto_heartbeat: true,
            auto_ack: None,
            listen: Vec::new(),
        }
    }
}

/// A namespace to join, with its auth payload (a JSON object; the query of the
/// namespace for v2 servers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SioNamespace {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<serde_json::Value>,
}

impl SioNamespace {
    pub fn new(name: impl Into<String>, auth: Option<serde_json::Value>) -> Self {
        Self {
            name: name.into(),
            auth,
        }
    }
}

/// A name/value row that can be switched off without being deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl KeyValue {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            enabled: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer <token>`
    Bearer { token: String },
    /// `Authorization: Basic base64(username:password)`
    Basic { username: String, password: String },
    /// An API key sent as a header or as a query parameter.
    ApiKey {
        name: String,
        value: String,
        #[serde(default)]
        placement: ApiKeyPlacement,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ApiKeyPlacement {
    #[default]
    Header,
    Query,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TlsConfig {
    /// Trust the operating system's certificate store (in addition to webpki roots).
    pub system_roots: bool,
    /// Trust the Mozilla roots bundled with the app.
    pub webpki_roots: bool,
    /// An extra CA bundle in PEM, e.g. a local development CA.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS; needs `client_key_file`.
    pub client_cert_file: Option<PathBuf>,
    /// Private key (PEM, PKCS#8, PKCS#1 or SEC1) for `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
    /// Accept any certificate. Recorded in the handshake so it is never silent.
    pub accept_invalid_certs: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            system_roots: true,
            webpki_roots: true,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            accept_invalid_certs: false,
        }
    }
}

/// permessage-deflate (RFC 7692): what we offer. The server's answer decides what is
/// used; it is checked and recorded in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Compression {
    /// Offer permessage-deflate.
    pub enabled: bool,
    /// The largest window (8 to 15 bits) we compress with; none offers the parameter
    /// without a value (the server may pick any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_max_window_bits: Option<u8>,
    /// Ask the server to compress with at most this window (8 to 15 bits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_max_window_bits: Option<u8>,
    /// Promise to compress each message on its own (no shared context).
    pub client_no_context_takeover: bool,
    /// Ask the server to compress each message on its own.
    pub server_no_context_takeover: bool,
}

impl Default for Compression {
    fn default() -> Self {
        Self {
            enabled: true,
            client_max_window_bits: None,
            server_max_window_bits: None,
            client_no_context_takeover: false,
            server_no_context_takeover: false,
        }
    }
}

impl Compression {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Compression switched off.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Window sizes out of RFC 7692's 8 to 15 range.
    pub fn check(&self) -> std::result::Result<(), String> {
        for (name, bits) in [
            ("client_max_window_bits", self.client_max_window_bits),
            ("server_max_window_bits", self.server_max_window_bits),
        ] {
            if let Some(n) = bits.filter(|n| !(8..=15).contains(n)) {
                return Err(format!("{name} must be from 8 to 15 (RFC 7692), not {n}"));
            }
        }
        Ok(())
    }
}

/// A connection's proxy. In order: the connection's own setting, then the app's
/// global setting (`set_global_proxy`), then the environment (`HTTPS_PROXY` for
/// wss://, `HTTP_PROXY` for ws://, `ALL_PROXY`, `NO_PROXY`; lower case first, as curl).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum ProxySetting {
    /// Defer: the global setting, then the environment.
    #[default]
    System,
    /// Connect directly, whatever the global setting and the environment say.
    None,
    /// This proxy: `http://`, `socks5://` or `socks5h://` (DNS at the proxy), with
    /// `user:password@` if it needs them.
    Url { url: String },
}

impl ProxySetting {
    pub fn is_system(&self) -> bool {
        matches!(self, ProxySetting::System)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Timeouts {
    /// DNS + TCP + TLS.
    pub connect_ms: u64,
    /// The HTTP upgrade exchange.
    pub handshake_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_ms: 10_000,
            handshake_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// Largest message accepted or sent, in bytes.
    pub max_message_size: usize,
    /// Largest single incoming frame payload, in bytes.
    pub max_frame_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogLimits {
    pub max_frames: usize,
    pub max_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self {
            max_frames: DEFAULT_LOG_MAX_FRAMES,
            max_bytes: DEFAULT_LOG_MAX_BYTES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Keepalive {
    /// Send a ping this often while open; 0 turns keepalive pings off.
    pub ping_interval_ms: u64,
    /// Answer the server's pings automatically (RFC 6455 requires it; turn off to test
    /// a server's timeout handling).
    pub auto_pong: bool,
    /// Declare the connection dead when nothing (no data, no pong) arrives for this
    /// long while open; 0 turns it off (the default). Pair it with `ping_interval_ms`
    /// so a quiet but healthy server still answers (see `connection/keepalive.rs`).
    /// Left out of files while 0.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub dead_after_ms: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            ping_interval_ms: 0,
            auto_pong: true,
            dead_after_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Reconnect {
    pub enabled: bool,
    /// Attempts after the first connection is lost or fails; 0 means no limit.
    pub max_attempts: u32,
    pub initial_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            enabled: false,
            max_attempts: 10,
            initial_delay_ms: 500,
            max_delay_ms: 30_000,
        }
    }
}

impl Reconnect {
    /// Exponential backoff with "equal jitter": half the step is fixed, half random,
    /// so a fleet of clients does not reconnect in lockstep.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let exp = attempt.saturating_sub(1).min(30);
        let step = self
            .initial_delay_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms)
            .max(1);
        step / 2 + fastrand::u64(0..=step - step / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_under_the_cap() {
        let r = Reconnect {
            enabled: true,
            max_attempts: 0,
            initial_delay_ms: 100,
            max_delay_ms: 1_000,
        };
        for attempt in 1..40 {
            let step = (100u64 << (attempt - 1).min(30)).min(1_000);
            for _ in 0..50 {
                let d = r.delay_ms(attempt);
                assert!(
                    d >= step / 2 && d <= step,
                    "attempt {attempt}: {d} not in {}..={step}",
                    step / 2
                );
            }
        }
        let spread: std::collections::HashSet<u64> = (0..50).map(|_| r.delay_ms(5)).collect();
        assert!(spread.len() > 5, "jitter spreads reconnects");
    }

    #[test]
    fn old_or_partial_files_load_with_defaults() {
        let c: ConnectConfig = serde_json::from_str(r#"{"url":"ws://x/","headers":[{"name":"A"}]}"#).unwrap();
        assert_eq!(c.version, CONFIG_VERSION);
        assert!(c.headers[0].enabled);
        assert_eq!(c.limits.max_message_size, 64 << 20);
        assert_eq!(c.limits.max_frame_size, 16 << 20);
        assert!(c.keepalive.auto_pong && !c.reconnect.enabled);
        let json = serde_json::to_string(&ConnectConfig {
            auth: Auth::Bearer { token: "t".into() },
            ..c
        })
        .unwrap();
        assert!(json.contains(r#""auth":{"type":"bearer","token":"t"}"#), "{json}");
        assert!(json.contains(r#""maxMessageSize""#), "{json}");
    }
}
