//! What the Socket.IO layer says about a frame (kept beside the raw frame in the
//! log), and what a user can ask of it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::OpenInfo;
use super::packet::SioPacket;

/// The decoded view of one logged frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Decoded {
    /// The Engine.IO packet: `open`, `close`, `ping`, `pong`, `message`, `binary`,
    /// `upgrade` or `noop`.
    pub engine: String,
    /// The Socket.IO packet type (`connect`, `event`, `ack`, `binaryEvent`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The arguments (after the event name), attachments as `{"_binary": base64}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_id: Option<u64>,
    /// Attachments the packet carries.
    #[serde(skip_serializing_if = "is_zero")]
    pub attachments: usize,
    /// On a binary frame: which attachment (from 0) of the packet before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<usize>,
    /// A received binary packet still waiting for its attachments (the complete
    /// packet is decoded on its last attachment's frame).
    #[serde(skip_serializing_if = "is_false")]
    pub partial: bool,
    /// On a received ack: the event it answers and the round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<u64>,
    /// The namespace's session id (CONNECT answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The Engine.IO open packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<OpenInfo>,
    /// Sent by wsbench on its own (heartbeat, namespace join, automatic ack).
    #[serde(skip_serializing_if = "is_false")]
    pub auto: bool,
    /// A CONNECT_ERROR's message, or why the frame could not be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Decoded {
    pub fn engine(kind: &str) -> Self {
        Self {
            engine: kind.to_owned(),
            ..Self::default()
        }
    }

    /// A Socket.IO packet (data already reassembled, if it had attachments).
    pub fn packet(p: &SioPacket) -> Self {
        let mut d = Self {
            engine: "message".into(),
            packet: Some(p.kind.name().to_owned()),
            namespace: Some(p.nsp.clone()),
            event: p.event().map(str::to_owned),
            ack_id: p.id,
            attachments: p.attachments,
            ..Self::default()
        };
        if d.event.is_some() || matches!(p.kind, super::SioType::Ack | super::SioType::BinaryAck) {
            d.args = Some(p.args());
        }
        d
    }

    pub fn is_heartbeat(&self) -> bool {
        matches!(self.engine.as_str(), "ping" | "pong") && self.packet.is_none()
    }

    /// The event as the CLI prints it: `["event", arg1, ...]`.
    pub fn event_line(&self) -> Option<Value> {
        let event = self.event.as_ref()?;
        let mut v = vec![Value::String(event.clone())];
        v.extend(self.args.iter().flatten().cloned());
        Some(Value::Array(v))
    }
}

/// What a user asks of the Socket.IO layer (sent as [`crate::Outgoing::SocketIo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SioCommand {
    /// Emit `event` with `args` on `namespace` (joined first if need be), asking for
    /// an ack when `ack` is set. `{"_binary": base64}` values in `args` and the
    /// `attachments` (referred to by placeholders, else appended as arguments) go
    /// as binary attachments.
    Emit {
        #[serde(default = "root")]
        namespace: String,
        event: String,
        #[serde(default)]
        args: Vec<Value>,
        #[serde(default)]
        ack: bool,
        #[serde(skip)]
        attachments: Vec<Bytes>,
    },
    /// Answer the server's ack request `id` on `namespace`.
    Ack {
        #[serde(default = "root")]
        namespace: String,
        id: u64,
        #[serde(default)]
        args: Vec<Value>,
    },
    /// Join a namespace (with an auth payload).
    Join {
        namespace: String,
        #[serde(default)]
        auth: Option<Value>,
    },
    /// Leave a namespace.
    Leave { namespace: String },
}

/// Arguments as typed in a composer: a JSON array is the argument list; anything
/// else is one JSON value per non-empty line.
pub fn parse_args(text: &str) -> crate::error::Result<Vec<Value>> {
    let bad = |line: usize, e: serde_json::Error| crate::error::Error::InvalidPayload {
        format: "Socket.IO arguments",
        reason: format!("line {line}: {e}"),
    };
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(text) {
        return Ok(a);
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str::<Value>(l).map_err(|e| bad(i + 1, e)))
        .collect()
}

fn root() -> String {
    "/".into()
}

impl SioCommand {
    /// A command written as JSON (a saved Socket.IO message), e.g.
    /// `{"type":"emit","namespace":"/","event":"chat","args":["hi"],"ack":true}`.
    pub fn from_json(body: &str) -> crate::error::Result<Self> {
        serde_json::from_str(body).map_err(|e| crate::error::Error::InvalidPayload {
            format: "Socket.IO message",
            reason: e.to_string(),
        })
    }

    pub fn emit(namespace: &str, event: &str, args: Vec<Value>, ack: bool) -> Self {
        SioCommand::Emit {
            namespace: namespace.to_owned(),
            event: event.to_owned(),
            args,
            ack,
            attachments: Vec::new(),
        }
    }

    /// About how many bytes the command takes on the wire.
    pub fn wire_len(&self) -> usize {
        let json = |v: &[Value]| v.iter().map(|a| a.to_string().len() + 1).sum::<usize>();
        match self {
            SioCommand::Emit {
                namespace,
                event,
                args,
                attachments,
                ..
            } => namespace.len() + event.len() + json(args) + attachments.iter().map(Bytes::len).sum::<usize>() + 8,
            SioCommand::Ack { namespace, args, .. } => namespace.len() + json(args) + 24,
            SioCommand::Join { namespace, auth } => {
                namespace.len() + auth.as_ref().map_or(0, |a| a.to_string().len()) + 4
            }
            SioCommand::Leave { namespace } => namespace.len() + 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saved_commands_and_typed_arguments() {
        let c = SioCommand::from_json(r#"{"type":"emit","event":"chat","args":["hi"],"ack":true}"#).unwrap();
        assert_eq!(c, SioCommand::emit("/", "chat", vec![json!("hi")], true));
        assert!(SioCommand::from_json(r#"{"type":"shout"}"#).is_err());
        assert_eq!(parse_args("[1, \"a\"]").unwrap(), vec![json!(1), json!("a")]);
        assert_eq!(
            parse_args("{\"a\":1}\n\n\"x\"\n").unwrap(),
            vec![json!({"a":1}), json!("x")]
        );
        assert!(parse_args("1\nnope").unwrap_err().to_string().contains("line 2"));
        assert!(parse_args("").unwrap().is_empty());
    }
}
