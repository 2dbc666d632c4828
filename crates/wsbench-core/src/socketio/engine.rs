//! Engine.IO packets over the WebSocket transport, protocol 4 (Socket.IO v3/v4
//! servers) and protocol 3 (Socket.IO v2 servers).
//!
//! A text frame is one packet: a type digit then its data (`0{...}` open, `1` close,
//! `2` ping, `3` pong, `4...` message, `5` upgrade, `6` noop). A binary frame is one
//! binary message: as it is in protocol 4, after a `0x04` type byte in protocol 3.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::CodecError;

/// The Engine.IO protocol revision spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EioVersion {
    /// Engine.IO 3: Socket.IO v2 servers (the client pings).
    V3,
    /// Engine.IO 4: Socket.IO v3 and v4 servers (the server pings).
    V4,
}

impl EioVersion {
    /// The value of the `EIO` query parameter.
    pub fn number(self) -> u8 {
        match self {
            EioVersion::V3 => 3,
            EioVersion::V4 => 4,
        }
    }
}

/// What the server says in its open packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInfo {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    /// Protocol 4 only: the largest payload the server accepts, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload: Option<u64>,
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket {
    Open(OpenInfo),
    Close,
    /// A ping, with its data (`probe` during an upgrade; usually empty).
    Ping(String),
    Pong(String),
    /// A text message (a Socket.IO packet in Socket.IO's use).
    Message(String),
    /// A binary message (a Socket.IO attachment in Socket.IO's use).
    Binary(Bytes),
    Upgrade,
    Noop,
}

/// A packet ready for the WebSocket: a text or a binary frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireFrame {
    Text(String),
    Binary(Bytes),
}

impl EnginePacket {
    /// The packet's name in the decoded view: `open`, `ping`, `message`...
    pub fn kind(&self) -> &'static str {
        match self {
            EnginePacket::Open(_) => "open",
            EnginePacket::Close => "close",
            EnginePacket::Ping(_) => "ping",
            EnginePacket::Pong(_) => "pong",
            EnginePacket::Message(_) => "message",
            EnginePacket::Binary(_) => "binary",
            EnginePacket::Upgrade => "upgrade",
            EnginePacket::Noop => "noop",
        }
    }

    /// The packet as a frame of `version`.
    pub fn encode(&self, version: EioVersion) -> WireFrame {
        let text = |t: char, data: &str| WireFrame::Text(format!("{t}{data}"));
        match self {
            EnginePacket::Open(info) => text('0', &serde_json::to_string(info).unwrap_or_default()),
            EnginePacket::Close => text('1', ""),
            EnginePacket::Ping(d) => text('2', d),
            EnginePacket::Pong(d) => text('3', d),
            EnginePacket::Message(m) => text('4', m),
            EnginePacket::Upgrade => text('5', ""),
            EnginePacket::Noop => text('6', ""),
            EnginePacket::Binary(b) => match version {
                EioVersion::V4 => WireFrame::Binary(b.clone()),
                EioVersion::V3 => {
                    let mut v = Vec::with_capacity(b.len() + 1);
                    v.push(4);
                    v.extend_from_slice(b);
                    WireFrame::Binary(Bytes::from(v))
                }
            },
        }
    }

    /// Decode a text frame.
    pub fn decode_text(s: &str) -> Result<EnginePacket, CodecError> {
        let mut chars = s.chars();
        let Some(t) = chars.next() else {
            return Err(CodecError::new(0, "empty Engine.IO packet"));
        };
        let data = chars.as_str();
        let no_data = |p: EnginePacket| {
            if data.is_empty() {
                Ok(p)
            } else {
                Err(CodecError::new(
                    1,
                    format!("unexpected data after Engine.IO {} packet", p.kind()),
                ))
            }
        };
        match t {
            '0' => serde_json::from_str::<OpenInfo>(data)
                .map(EnginePacket::Open)
                .map_err(|e| CodecError::new(1 + json_offset(data, &e), format!("bad open packet: {e}"))),
            '1' => no_data(EnginePacket::Close),
            '2' => Ok(EnginePacket::Ping(data.to_owned())),
            '3' => Ok(EnginePacket::Pong(data.to_owned())),
            '4' => Ok(EnginePacket::Message(data.to_owned())),
            '5' => no_data(EnginePacket::Upgrade),
            '6' => no_data(EnginePacket::Noop),
            'b' => Err(CodecError::new(
                0,
                "base64 binary packet ('b' prefix) is for long-polling; not expected on a WebSocket",
            )),
            other => Err(CodecError::new(0, format!("unknown Engine.IO packet type {other:?}"))),
        }
    }

    /// Decode a binary frame of `version`.
    pub fn decode_binary(b: &Bytes, version: EioVersion) -> Result<EnginePacket, CodecError> {
        match version {
            EioVersion::V4 => Ok(EnginePacket::Binary(b.clone())),
            EioVersion::V3 => match b.first() {
                Some(4) => Ok(EnginePacket::Binary(b.slice(1..))),
                Some(t) => Err(CodecError::new(
                    0,
                    format!("Engine.IO 3 binary frame starts with type byte {t:#04x}, expected 0x04 (message)"),
                )),
                None => Err(CodecError::new(0, "empty Engine.IO 3 binary frame (no type byte)")),
            },
        }
    }
}

/// The byte offset serde_json reports for `e` in `data` (line/column to offset).
pub(super) fn json_offset(data: &str, e: &serde_json::Error) -> usize {
    let line = e.line().max(1);
    let before: usize = data.split('\n').take(line - 1).map(|l| l.len() + 1).sum();
    (before + e.column().saturating_sub(1)).min(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN4: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    const OPEN3: &str = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

    #[test]
    fn every_text_packet_type_round_trips_in_both_versions() {
        for v in [EioVersion::V3, EioVersion::V4] {
            for s in [OPEN4, OPEN3, "1", "2", "2probe", "3", "3probe", "4hello", "4", "5", "6"] {
                let p = EnginePacket::decode_text(s).unwrap();
                let WireFrame::Text(back) = p.encode(v) else {
                    panic!("text")
                };
                assert_eq!(EnginePacket::decode_text(&back).unwrap(), p, "{s}");
            }
        }
    }

    #[test]
    fn open_packets_give_their_fields() {
        let EnginePacket::Open(o) = EnginePacket::decode_text(OPEN4).unwrap() else {
            panic!()
        };
        assert_eq!(o.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(
            (o.ping_interval, o.ping_timeout, o.max_payload),
            (25000, 20000, Some(1000000))
        );
        let EnginePacket::Open(o) = EnginePacket::decode_text(OPEN3).unwrap() else {
            panic!()
        };
        assert_eq!((o.sid.as_str(), o.max_payload), ("abc", None));
        assert_eq!(o.upgrades, vec!["websocket"]);
    }

    #[test]
    fn kinds_and_data() {
        assert_eq!(
            EnginePacket::decode_text("2").unwrap(),
            EnginePacket::Ping(String::new())
        );
        assert_eq!(
            EnginePacket::decode_text("3probe").unwrap(),
            EnginePacket::Pong("probe".into())
        );
        assert_eq!(
            EnginePacket::decode_text("42[\"a\"]").unwrap(),
            EnginePacket::Message("2[\"a\"]".into())
        );
        assert_eq!(EnginePacket::decode_text("1").unwrap().kind(), "close");
        assert_eq!(EnginePacket::decode_text("5").unwrap().kind(), "upgrade");
        assert_eq!(EnginePacket::decode_text("6").unwrap().kind(), "noop");
    }

    #[test]
    fn binary_frames_per_version() {
        let raw = Bytes::from_static(&[1, 2, 3]);
        assert_eq!(
            EnginePacket::decode_binary(&raw, EioVersion::V4).unwrap(),
            EnginePacket::Binary(raw.clone())
        );
        let v3 = Bytes::from_static(&[4, 1, 2, 3]);
        assert_eq!(
            EnginePacket::decode_binary(&v3, EioVersion::V3).unwrap(),
            EnginePacket::Binary(raw.clone())
        );
        assert_eq!(
            EnginePacket::Binary(raw.clone()).encode(EioVersion::V3),
            WireFrame::Binary(v3)
        );
        assert_eq!(
            EnginePacket::Binary(raw.clone()).encode(EioVersion::V4),
            WireFrame::Binary(raw)
        );
    }

    #[test]
    fn malformed_packets_are_clear_errors() {
        let e = EnginePacket::decode_text("").unwrap_err();
        assert_eq!(e.pos, 0);
        let e = EnginePacket::decode_text("9x").unwrap_err();
        assert!(e.to_string().contains("unknown Engine.IO packet type '9'"), "{e}");
        let e = EnginePacket::decode_text("0{\"sid\":1}").unwrap_err();
        assert!(e.to_string().contains("bad open packet"), "{e}");
        assert!(e.pos >= 1, "{e:?}");
        let e = EnginePacket::decode_text("0{\"sid\":\"a\",").unwrap_err();
        assert!(e.to_string().contains("at byte"), "{e}");
        assert!(EnginePacket::decode_text("1x")
            .unwrap_err()
            .to_string()
            .contains("after Engine.IO close"));
        assert!(EnginePacket::decode_text("bAAEC").is_err());
        let e = EnginePacket::decode_binary(&Bytes::from_static(&[2, 1]), EioVersion::V3).unwrap_err();
        assert!(e.to_string().contains("0x02"), "{e}");
        assert!(EnginePacket::decode_binary(&Bytes::new(), EioVersion::V3).is_err());
        // Multi-byte first characters never panic.
        assert!(EnginePacket::decode_text("é").is_err());
    }
}
