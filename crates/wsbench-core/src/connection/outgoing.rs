//! What a user can send on a connection.

use bytes::Bytes;

use super::CloseInfo;
use crate::error::{Error, Result};
use crate::frame::Opcode;
use crate::socketio::SioCommand;

/// What a user can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Binary(Bytes),
    /// A binary message never compressed, even when permessage-deflate is in force
    /// (data that does not compress, such as images or archives).
    BinaryUncompressed(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    Close {
        code: u16,
        reason: String,
    },
    /// A Socket.IO emit, ack, join or leave (Socket.IO mode only): encoded into
    /// frames by the connection's Socket.IO layer.
    SocketIo(SioCommand),
}

impl Outgoing {
    pub fn close(info: CloseInfo) -> Self {
        Outgoing::Close {
            code: info.code,
            reason: info.reason,
        }
    }

    pub fn opcode(&self) -> Opcode {
        match self {
            Outgoing::Text(_) => Opcode::Text,
            Outgoing::Binary(_) | Outgoing::BinaryUncompressed(_) => Opcode::Binary,
            Outgoing::Ping(_) => Opcode::Ping,
            Outgoing::Pong(_) => Opcode::Pong,
            Outgoing::Close { .. } => Opcode::Close,
            Outgoing::SocketIo(_) => Opcode::Text,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Outgoing::Text(s) => s.len(),
            Outgoing::Binary(b) | Outgoing::BinaryUncompressed(b) | Outgoing::Ping(b) | Outgoing::Pong(b) => b.len(),
            Outgoing::Close { reason, .. } => 2 + reason.len(),
            Outgoing::SocketIo(c) => c.wire_len(),
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
