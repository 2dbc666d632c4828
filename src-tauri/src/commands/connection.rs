use bytes::Bytes;
use serde::Deserialize;
use tauri::State;
use wsbench_core::collections::vars::Vars;
use wsbench_core::{MessageFormat, Outgoing, SavedMessage};

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
    /// Socket.IO mode: an emit, ack, join or leave written as JSON (see
    /// `MessageFormat::SocketIo`), `{{variables}}` resolved first.
    SocketIo {
        data: String,
    },
}

impl SendRequest {
    /// The frame to send, with `{{variables}}` in data messages resolved.
    pub fn into_outgoing(self, vars: &Vars) -> wsbench_core::Result<Outgoing> {
        let data = |format: MessageFormat, data: &str| format.to_outgoing(&vars.resolve(data, "the message")?);
        Ok(match self {
            SendRequest::Text { data: d } => data(MessageFormat::Text, &d)?,
            SendRequest::Json { data: d } => data(MessageFormat::Json, &d)?,
            SendRequest::Hex { data: d } => data(MessageFormat::Hex, &d)?,
            SendRequest::Base64 { data: d } => data(MessageFormat::Base64, &d)?,
            SendRequest::Ping { data } => Outgoing::Ping(Bytes::from(data)),
            SendRequest::Pong { data } => Outgoing::Pong(Bytes::from(data)),
            SendRequest::Close { code, reason } => Outgoing::Close { code, reason },
            SendRequest::SocketIo { data: d } => data(MessageFormat::SocketIo, &d)?,
        })
    }
}

/// Start connecting with the active environment's variables, sending `onOpen`
/// (saved messages marked "on connect") each time it opens. Returns at once; the
/// outcome arrives as state. An unknown `{{variable}}` is an error here.
#[tauri::command]
pub async fn connect(state: State<'_, AppState>, id: u64, on_open: Option<Vec<SavedMessage>>) -> CmdResult<()> {
    let vars = state.vars();
    Ok(state.manager.connect_with(id, &vars, &on_open.unwrap_or_default())?)
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
    let msg = message.into_outgoing(&state.vars())?;
    Ok(state.manager.send(id, msg).await?)
}
