//! Socket.IO over the engine's WebSocket connection: a codec (Engine.IO 3/4 and
//! Socket.IO 4/5 packets, binary attachments) and a sans-IO client state machine
//! that the connection actor drives. Every raw frame is still logged; the decoded
//! packet is attached beside it.
//!
//! ```text
//! frame <-> engine.rs (Engine.IO packet) <-> packet.rs (Socket.IO packet)
//!                                         <-> binary.rs (placeholders <-> attachments)
//! client.rs: handshake, heartbeats, namespaces, acks -> Decoded (decoded.rs)
//! ```

pub mod binary;
pub mod client;
pub mod decoded;
pub mod engine;
pub mod notes;
pub mod packet;
pub mod url;

pub use client::{normalize_namespace, SioClient};
pub use decoded::{Decoded, SioCommand};
pub use engine::{EioVersion, EnginePacket, OpenInfo, WireFrame};
pub use packet::{SioPacket, SioType};

/// A packet that cannot be decoded: what is wrong and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at byte {pos})")]
pub struct CodecError {
    pub pos: usize,
    pub reason: String,
}

impl CodecError {
    pub fn new(pos: usize, reason: impl Into<String>) -> Self {
        Self {
            pos,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
#[path = "tests/client.rs"]
mod client_tests;
