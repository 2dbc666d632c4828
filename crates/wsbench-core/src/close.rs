//! A close frame's code and reason, as a named value: what a connection is asked to
//! send, what it received, and what a logged close frame holds. A leaf below `frame`
//! and `connection`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::error::Result;

/// The code and reason of a close frame (sent, received, or asked for).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

/// "No status code was present" (RFC 6455 section 7.4.1): never on the wire.
pub const NO_STATUS: u16 = 1005;

/// Encode a close frame's payload as it goes on the wire.
pub fn close_payload(code: u16, reason: &str) -> Bytes {
    let mut v = Vec::with_capacity(2 + reason.len());
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(reason.as_bytes());
    Bytes::from(v)
}

impl CloseInfo {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// A close frame as it was received; one without a payload reads as 1005.
    pub fn received(frame: Option<&CloseFrame>) -> Self {
        frame.map_or_else(
            || Self::new(NO_STATUS, ""),
            |c| Self::new(u16::from(c.code), c.reason.as_str()),
        )
    }

    /// The code and reason of a close frame's wire payload (`None` when it carries no code).
    pub fn from_payload(payload: &[u8]) -> Option<Self> {
        let code = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
        Some(Self::new(code, String::from_utf8_lossy(&payload[2..])))
    }

    /// The payload as it goes on the wire (empty for 1005).
    pub fn payload(&self) -> Bytes {
        if self.code == NO_STATUS {
            Bytes::new()
        } else {
            close_payload(self.code, &self.reason)
        }
    }

    /// Can a client send this? (RFC 6455 section 7.4: codes, reason length.)
    pub fn validate(&self) -> Result<()> {
        crate::payload::validate_close(self.code, &self.reason)
    }

    pub(crate) fn to_frame(&self) -> CloseFrame {
        CloseFrame {
            code: CloseCode::from(self.code),
            reason: self.reason.clone().into(),
        }
    }
}
