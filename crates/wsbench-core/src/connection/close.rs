//! A close frame's code and reason, as a named value.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::error::Result;
use crate::frame::close_payload;

/// The code and reason of a close frame (sent, received, or asked for).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

/// "No status code was present" (RFC 6455 section 7.4.1): never on the wire.
pub const NO_STATUS: u16 = 1005;

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
