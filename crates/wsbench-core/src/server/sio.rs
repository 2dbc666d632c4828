//! The local server's Socket.IO mode: a Socket.IO v4 server (Engine.IO 4, WebSocket
//! transport) that broadcasts every event to the clients joined to its namespace,
//! the sender included (the chat tutorial's `io.emit`), and answers an ack request
//! with the event's own arguments. Any namespace can be joined; binary attachments
//! are passed on as they came.

use std::collections::HashSet;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::socketio::{EnginePacket, OpenInfo, SioPacket, SioType};

/// How often the server pings, and how long it waits for the pong (Socket.IO's defaults).
pub(super) const PING_INTERVAL_MS: u64 = 25_000;
pub(super) const PING_TIMEOUT_MS: u64 = 20_000;

/// One client's Socket.IO state.
pub(super) struct SioClient {
    sid: String,
    pub(super) joined: HashSet<String>,
    /// A binary packet waiting for its attachments.
    pending: Option<(SioPacket, Vec<Bytes>)>,
}

/// What the server does with a frame from a client.
#[derive(Default)]
pub(super) struct Reply {
    /// Frames for this client only.
    pub(super) to_sender: Vec<Message>,
    /// Frames for every client joined to the namespace.
    pub(super) broadcast: Option<(String, Vec<Message>)>,
}

fn text(s: String) -> Message {
    Message::Text(s.into())
}

fn message(p: &SioPacket) -> Message {
    text(format!("4{}", p.encode()))
}

impl SioClient {
    pub(super) fn new(id: u64) -> Self {
        Self {
            sid: format!("wsbench-{id}"),
            joined: HashSet::new(),
            pending: None,
        }
    }

    /// The Engine.IO open packet the client gets first.
    pub(super) fn open(&self, max_payload: usize) -> Message {
        let open = EnginePacket::Open(OpenInfo {
            sid: self.sid.clone(),
            upgrades: Vec::new(),
            ping_interval: PING_INTERVAL_MS,
            ping_timeout: PING_TIMEOUT_MS,
            max_payload: Some(max_payload as u64),
        });
        match open.encode(crate::socketio::EioVersion::V4) {
            crate::socketio::WireFrame::Text(t) => text(t),
            crate::socketio::WireFrame::Binary(b) => Message::Binary(b),
        }
    }

    /// A text frame from the client. A malformed packet closes the connection, as
    /// Socket.IO servers do: `Err` holds why.
    pub(super) fn on_text(&mut self, t: &str) -> Result<Reply, String> {
        let mut r = Reply::default();
        match EnginePacket::decode_text(t).map_err(|e| e.reason)? {
            EnginePacket::Ping(d) => r.to_sender.push(text(format!("3{d}"))),
            EnginePacket::Message(m) => {
                let p = SioPacket::decode(&m).map_err(|e| format!("{} at byte {}", e.reason, e.pos + 1))?;
                if self.pending.is_some() {
                    return Err("a packet arrived while attachments were expected".into());
                }
                if p.kind.is_binary() && p.attachments > 0 {
                    self.pending = Some((p, Vec::new()));
                } else {
                    self.packet(p, Vec::new(), &mut r);
                }
            }
            EnginePacket::Close => return Err("the client closed the Engine.IO session".into()),
            _ => {}
        }
        Ok(r)
    }

    /// A binary frame: the next attachment of the pending packet.
    pub(super) fn on_binary(&mut self, b: Bytes) -> Result<Reply, String> {
        let mut r = Reply::default();
        let Some((p, mut got)) = self.pending.take() else {
            return Err("a binary frame arrived with no binary packet before it".into());
        };
        got.push(b);
        if got.len() < p.attachments {
            self.pending = Some((p, got));
        } else {
            self.packet(p, got, &mut r);
        }
        Ok(r)
    }

    fn packet(&mut self, p: SioPacket, attachments: Vec<Bytes>, r: &mut Reply) {
        match p.kind {
            SioType::Connect => {
                self.joined.insert(p.nsp.clone());
                let ok = SioPacket::new(
                    SioType::Connect,
                    &p.nsp,
                    Some(json!({ "sid": format!("{}{}", self.sid, p.nsp) })),
                );
                r.to_sender.push(message(&ok));
            }
            SioType::Disconnect => {
                self.joined.remove(&p.nsp);
            }
            SioType::Event | SioType::BinaryEvent if self.joined.contains(&p.nsp) => {
                let bin = |frames: &mut Vec<Message>| frames.extend(attachments.iter().cloned().map(Message::Binary));
                if let Some(id) = p.id {
                    let ack = SioPacket {
                        kind: if p.kind.is_binary() {
                            SioType::BinaryAck
                        } else {
                            SioType::Ack
                        },
                        nsp: p.nsp.clone(),
                        id: Some(id),
                        data: Some(Value::Array(p.args())),
                        attachments: p.attachments,
                    };
                    r.to_sender.push(message(&ack));
                    bin(&mut r.to_sender);
                }
                // Passed on without the ack id: the others did not ask for anything.
                let out = SioPacket { id: None, ..p };
                let mut frames = vec![message(&out)];
                bin(&mut frames);
                r.broadcast = Some((out.nsp, frames));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &[Message]) -> Vec<String> {
        m.iter().map(|m| m.to_text().unwrap_or("<binary>").to_owned()).collect()
    }

    #[test]
    fn joins_broadcasts_acks_and_passes_attachments_on() {
        let mut c = SioClient::new(7);
        assert!(c.open(1000).to_text().unwrap().starts_with(r#"0{"sid":"wsbench-7""#));
        let r = c.on_text("40/chat,{\"token\":1}").unwrap();
        assert_eq!(texts(&r.to_sender), [r#"40/chat,{"sid":"wsbench-7/chat"}"#]);
        let r = c.on_text(r#"42/chat,5["chat","hi"]"#).unwrap();
        assert_eq!(texts(&r.to_sender), [r#"43/chat,5["hi"]"#]);
        let (nsp, frames) = r.broadcast.unwrap();
        assert_eq!(
            (nsp.as_str(), texts(&frames)),
            ("/chat", vec![r#"42/chat,["chat","hi"]"#.to_owned()])
        );
        // Not joined to "/": nothing is broadcast.
        assert!(c.on_text(r#"42["chat","x"]"#).unwrap().broadcast.is_none());
        c.on_text("40").unwrap();
        let r = c.on_text(r#"451-["file",{"_placeholder":true,"num":0}]"#).unwrap();
        assert!(
            r.broadcast.is_none() && r.to_sender.is_empty(),
            "waits for the attachment"
        );
        let r = c.on_binary(Bytes::from_static(b"\x01\x02")).unwrap();
        let (_, frames) = r.broadcast.unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1], Message::Binary(Bytes::from_static(b"\x01\x02")));
        assert_eq!(texts(&c.on_text("2").unwrap().to_sender), ["3"]);
        assert!(c.on_text("42[oops").err().unwrap().contains("byte"));
        assert!(c.on_binary(Bytes::new()).err().is_some());
    }
}
