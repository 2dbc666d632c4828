use bytes::Bytes;
use serde::Deserialize;
use tauri::State;
use wsbench_core::{MessageFormat, Outgoing};

use super::CmdResult;
use crate::AppState;

/// What the composer sends: `{ "type": "text" | "json" | "hex" | "base64", "data": … }`,
/// `{ "type": "ping" | "pong", "data": text }` or `{ "type": "close", "code", "reason" }`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SendRequest {
    Text {
        data: String,
    },
    /// Checked to be JSON, then sent as typed.
    Json {
        data: String,
    },
    Hex {
        data: String,
    },
    Base64 {
        data: String,
    },
    Ping {
        #[serde(default)]
        data: String,
    },
    Pong {
        #[serde(default)]
        data: String,
    },
    Close {
        code: u16,
        #[serde(default)]
        reason: String,
    },
}

impl SendRequest {
    pub fn into_outgoing(self) -> wsbench_core::Result<Outgoing> {
        Ok(match self {
            SendRequest::Text { data } => MessageFormat::Text.to_outgoing(&data)?,
            SendRequest::Json { data } => MessageFormat::Json.to_outgoing(&data)?,
            SendRequest::Hex { data } => MessageFormat::Hex.to_outgoing(&data)?,
            SendRequest::Base64 { data } => MessageFormat::Base64.to_outgoing(&data)?,
            SendRequest::Ping { data } => Outgoing::Ping(Bytes::from(data)),
            SendRequest::Pong { data } => Outgoing::Pong(Bytes::from(data)),
            SendRequest::Close { code, reason } => Outgoing::Close { code, reason },
        })
    }
}

/// Start connecting; returns at once (the outcome arrives as state).
#[tauri::command]
pub fn connect(state: State<'_, AppState>, id: u64) -> CmdResult<()> {
    Ok(state.manager.connect(id)?)
}

#[tauri::command]
pub fn disconnect(state: State<'_, AppState>, id: u64, code: Option<u16>, reason: Option<String>) -> CmdResult<()> {
    Ok(state
        .manager
        .disconnect(id, code.unwrap_or(1000), reason.as_deref().unwrap_or(""))?)
}

/// Send a message; resolves with its sequence number in the log.
#[tauri::command]
pub async fn send(state: State<'_, AppState>, id: u64, message: SendRequest) -> CmdResult<u64> {
    let msg = message.into_outgoing()?;
    Ok(state.manager.send(id, msg).await?)
}
