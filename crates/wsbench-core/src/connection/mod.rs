//! Connections: one actor task per connection owns its socket; the rest of the engine
//! talks to it through a clonable [`ConnectionHandle`].

pub(crate) mod actor;
pub mod dial;
pub(crate) mod wire;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Error, ErrorInfo, Result};
use crate::frame::Opcode;

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The user opted in to accepting any certificate for this connection.
    pub certificate_verification_disabled: bool,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Initiator {
    Client,
    Server,
}

/// Connection state. Connecting returns at once; everything after arrives as state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ConnState {
    /// Never connected in this tab.
    Idle,
    /// Attempt 1 is the first connect; later attempts are reconnects.
    Connecting {
        attempt: u32,
    },
    Open {
        handshake: Box<Handshake>,
    },
    Closing {
        initiated_by: Initiator,
    },
    Closed {
        code: u16,
        reason: String,
        clean: bool,
        initiated_by: Initiator,
    },
    Failed {
        error: ErrorInfo,
    },
    /// Waiting `delay_ms` before attempt `attempt` (of `max_attempts`, 0 = unlimited).
    Reconnecting {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        last_error: Option<ErrorInfo>,
    },
}

impl ConnState {
    pub fn is_open(&self) -> bool {
        matches!(self, ConnState::Open { .. })
    }

    /// Closed or Failed: the actor has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ConnState::Closed { .. } | ConnState::Failed { .. } | ConnState::Idle
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            ConnState::Idle => "idle",
            ConnState::Connecting { .. } => "connecting",
            ConnState::Open { .. } => "open",
            ConnState::Closing { .. } => "closing",
            ConnState::Closed { .. } => "closed",
            ConnState::Failed { .. } => "failed",
            ConnState::Reconnecting { .. } => "reconnecting",
        }
    }
}

/// What a user can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    Close { code: u16, reason: String },
}

impl Outgoing {
    pub fn opcode(&self) -> Opcode {
        match self {
            Outgoing::Text(_) => Opcode::Text,
            Outgoing::Binary(_) => Opcode::Binary,
            Outgoing::Ping(_) => Opcode::Ping,
            Outgoing::Pong(_) => Opcode::Pong,
            Outgoing::Close { .. } => Opcode::Close,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Outgoing::Text(s) => s.len(),
            Outgoing::Binary(b) | Outgoing::Ping(b) | Outgoing::Pong(b) => b.len(),
            Outgoing::Close { reason, .. } => 2 + reason.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything that can be checked before the message reaches the socket.
    pub fn validate(&self, max_message_size: usize) -> Result<()> {
        match self {
            Outgoing::Ping(b) | Outgoing::Pong(b) if b.len() > 125 => Err(Error::MessageTooLarge {
                what: "control frame payload",
                size: b.len(),
                limit: 125,
            }),
            Outgoing::Close { code, reason } => crate::payload::validate_close(*code, reason),
            m if m.len() > max_message_size => Err(Error::MessageTooLarge {
                what: "message",
                size: m.len(),
                limit: max_message_size,
            }),
            _ => Ok(()),
        }
    }
}

pub(crate) enum Command {
    Send {
        msg: Outgoing,
        reply: oneshot::Sender<Result<u64>>,
    },
}

/// A request to close: code and reason.
pub(crate) type StopRequest = Option<(u16, String)>;

/// A clonable way to talk to one connection's actor. Sends queue in order; a
/// disconnect overtakes queued sends (it travels on its own channel).
#[derive(Clone)]
pub struct ConnectionHandle {
    tx: mpsc::Sender<Command>,
    stop: std::sync::Arc<watch::Sender<StopRequest>>,
}

impl ConnectionHandle {
    pub(crate) fn new(tx: mpsc::Sender<Command>, stop: std::sync::Arc<watch::Sender<StopRequest>>) -> Self {
        Self { tx, stop }
    }

    /// Send a message; resolves with the logged frame's sequence number once written.
    pub async fn send(&self, msg: Outgoing) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Send { msg, reply })
            .await
            .map_err(|_| Error::NotConnected("the connection has ended".into()))?;
        rx.await
            .map_err(|_| Error::NotConnected("the connection ended before the message was sent".into()))?
    }

    /// Start a clean close (or abandon a connect in progress). Returns at once.
    pub fn disconnect(&self, code: u16, reason: String) -> Result<()> {
        if self.tx.is_closed() {
            return Err(Error::NotConnected("the connection has ended".into()));
        }
        self.stop.send_if_modified(|s| {
            if s.is_none() {
                *s = Some((code, reason));
                true
            } else {
                false
            }
        });
        Ok(())
    }

    pub fn is_alive(&self) -> bool {
        !self.tx.is_closed()
    }
}
