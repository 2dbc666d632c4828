//! Connection state as a front end sees it: every change is published through the
//! connection's recorder.

use serde::{Deserialize, Serialize};

use crate::error::ErrorInfo;
use crate::handshake::Handshake;

/// Who started closing.
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

    /// Idle, Closed or Failed: no connection attempt is under way in this tab.
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
