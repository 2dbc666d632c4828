//! One logged WebSocket frame, in either direction, control frames included.

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::close::{close_payload, CloseInfo};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent by us.
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum Opcode {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

impl Opcode {
    pub fn is_data(self) -> bool {
        matches!(self, Opcode::Text | Opcode::Binary)
    }

    pub fn parse(s: &str) -> Option<Opcode> {
        Some(match s.to_ascii_lowercase().as_str() {
            "text" => Opcode::Text,
            "binary" => Opcode::Binary,
            "ping" => Opcode::Ping,
            "pong" => Opcode::Pong,
            "close" => Opcode::Close,
            _ => return None,
        })
    }
}

/// A logged frame. Fragmented messages are logged once, reassembled, as tungstenite
/// delivers them. The payload shares the socket's read buffer (no copy). A close
/// frame's payload is its wire form: a big-endian code then the UTF-8 reason.
///
/// 72 bytes plus the payload (checked by a test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Per-connection-tab sequence number, from 1, never reused, survives reconnects.
    pub seq: u64,
    /// Wall-clock time, microseconds since the Unix epoch.
    pub at_us: i64,
    /// Microseconds since the current connection attempt began.
    pub offset_us: u64,
    pub payload: Bytes,
    /// Round-trip time for a pong that answers one of our pings, else 0.
    pub rtt_us: u32,
    /// permessage-deflate: the compressed payload bytes on the wire (all fragments,
    /// headers left out); 0 when the message went uncompressed.
    pub compressed_len: u32,
    pub direction: Direction,
    pub opcode: Opcode,
}

impl Frame {
    pub fn len(&self) -> usize {
        self.payload.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// The code and reason of a close frame that carries a code.
    pub fn close_info(&self) -> Option<CloseInfo> {
        if self.opcode != Opcode::Close {
            return None;
        }
        CloseInfo::from_payload(&self.payload)
    }

    /// Payload as UTF-8 text when it is valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }

    /// What every JSON form of a frame shares.
    pub fn meta(&self) -> FrameMeta {
        let close = self.close_info();
        FrameMeta {
            seq: self.seq,
            at_us: self.at_us,
            offset_us: self.offset_us,
            direction: self.direction,
            opcode: self.opcode,
            len: self.payload.len(),
            close_code: close.as_ref().map(|c| c.code),
            close_reason: close.map(|c| c.reason),
            rtt_us: (self.rtt_us > 0).then_some(self.rtt_us),
            compressed_len: (self.compressed_len > 0).then_some(self.compressed_len),
        }
    }

    /// The serializable, lossless form: text as text, anything else as base64.
    pub fn to_record(&self) -> FrameRecord {
        let (text, base64) = match (self.opcode, self.text()) {
            (Opcode::Text, Some(t)) => (Some(t.to_owned()), None),
            (Opcode::Close, _) => (None, None),
            _ if self.payload.is_empty() => (None, None),
            _ => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&self.payload)),
            ),
        };
        FrameRecord {
            meta: self.meta(),
            text,
            base64,
        }
    }
}

impl Frame {
    /// The frame a [`FrameRecord`] describes: the inverse of [`Frame::to_record`]
    /// (`to_record(from_record(r)) == r` for every record wsbench writes). Fails when
    /// the record's payload is not valid base64 or does not match its `len`.
    pub fn from_record(r: &FrameRecord) -> Result<Frame> {
        let m = &r.meta;
        let payload = match (m.opcode, &r.text, &r.base64) {
            (_, Some(_), Some(_)) => return Err(record_error("it has both \"text\" and \"base64\"")),
            (Opcode::Close, _, _) => match m.close_code {
                Some(code) => close_payload(code, m.close_reason.as_deref().unwrap_or("")),
                None if m.close_reason.as_deref().is_some_and(|r| !r.is_empty()) => {
                    return Err(record_error("a close reason needs a close code"))
                }
                None => Bytes::new(),
            },
            (_, Some(t), None) => Bytes::from(t.clone().into_bytes()),
            (_, None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map(Bytes::from)
                .map_err(|e| record_error(&format!("\"base64\" is not valid base64: {e}")))?,
            (_, None, None) => Bytes::new(),
        };
        if payload.len() != m.len {
            return Err(record_error(&format!(
                "\"len\" is {} but the payload has {} bytes",
                m.len,
                payload.len()
            )));
        }
        Ok(Frame {
            seq: m.seq,
            at_us: m.at_us,
            offset_us: m.offset_us,
            payload,
            rtt_us: m.rtt_us.unwrap_or(0),
            compressed_len: m.compressed_len.unwrap_or(0),
            direction: m.direction,
            opcode: m.opcode,
        })
    }
}

fn record_error(reason: &str) -> Error {
    Error::InvalidPayload {
        format: "frame record",
        reason: reason.to_owned(),
    }
}

/// A frame's metadata as JSON: `seq`, `atUs`, `offsetUs`, `direction`, `opcode`,
/// `len`, and when they apply `closeCode`, `closeReason`, `rttUs`, `compressedLen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameMeta {
    pub seq: u64,
    pub at_us: i64,
    pub offset_us: u64,
    pub direction: Direction,
    pub opcode: Opcode,
    pub len: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<u32>,
    /// Wire bytes of a compressed message (permessage-deflate); absent when uncompressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_len: Option<u32>,
}

/// JSON shape of a whole frame (used by `--ndjson` and on-demand fetches): the
/// metadata plus the payload, `text` for valid text, else `base64`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameRecord {
    #[serde(flatten)]
    pub meta: FrameMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// One clock per connection: a single monotonic read per frame gives both the offset
/// from connect and the wall-clock time (start + offset), so they always agree.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    started: std::time::Instant,
    wall_start_us: i64,
}

/// Wall-clock time now, microseconds since the Unix epoch (0 if the clock is before it).
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Clock {
    pub fn start() -> Self {
        Self {
            started: std::time::Instant::now(),
            wall_start_us: now_us(),
        }
    }

    pub fn started(&self) -> std::time::Instant {
        self.started
    }

    /// A frame stamped now, with sequence number 0 until the log assigns one.
    pub fn frame(&self, direction: Direction, opcode: Opcode, payload: Bytes, rtt_us: u32) -> Frame {
        self.stamp().frame(direction, opcode, payload, rtt_us)
    }

    /// One reading of the clock, for frames stamped together (drained in one burst).
    pub fn stamp(&self) -> Stamp {
        let offset_us = self.started.elapsed().as_micros() as u64;
        Stamp {
            at_us: self.wall_start_us + offset_us as i64,
            offset_us,
        }
    }
}

/// A time read from a [`Clock`]: wall-clock and offset from the connection's start.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    at_us: i64,
    offset_us: u64,
}

impl Stamp {
    /// A frame with this time, with sequence number 0 until the log assigns one.
    pub fn frame(self, direction: Direction, opcode: Opcode, payload: Bytes, rtt_us: u32) -> Frame {
        Frame {
            seq: 0,
            at_us: self.at_us,
            offset_us: self.offset_us,
            payload,
            rtt_us,
            compressed_len: 0,
            direction,
            opcode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_costs_72_bytes_plus_payload() {
        assert_eq!(std::mem::size_of::<Frame>(), 72);
    }

    #[test]
    fn records_are_lossless() {
        let f = |opcode, payload: &'static [u8]| Frame {
            seq: 7,
            at_us: 1,
            offset_us: 2,
            payload: Bytes::from_static(payload),
            rtt_us: 0,
            compressed_len: 0,
            direction: Direction::In,
            opcode,
        };
        let t = f(Opcode::Text, "héllo".as_bytes()).to_record();
        assert_eq!(t.text.as_deref(), Some("héllo"));
        let b = f(Opcode::Binary, &[0, 255]).to_record();
        assert_eq!((b.text, b.base64.as_deref()), (None, Some("AP8=")));
        let c = Frame {
            payload: close_payload(4001, "bye"),
            ..f(Opcode::Close, b"")
        };
        let r = c.to_record();
        assert_eq!(
            (r.meta.close_code, r.meta.close_reason.as_deref(), r.meta.len),
            (Some(4001), Some("bye"), 5)
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains(r#""opcode":"close""#) && json.contains(r#""closeCode":4001"#),
            "{json}"
        );
    }

    #[test]
    fn from_record_inverts_to_record_and_rejects_what_does_not_add_up() {
        let f = |opcode, payload: Bytes, rtt_us| Frame {
            seq: 9,
            at_us: 1_795_316_685_421_769,
            offset_us: 2441,
            payload,
            rtt_us,
            compressed_len: 0,
            direction: Direction::Out,
            opcode,
        };
        let frames = [
            f(Opcode::Text, Bytes::from("héllo, \"world\"\n"), 0),
            f(Opcode::Text, Bytes::from_static(&[0xff, b'a']), 0),
            f(Opcode::Text, Bytes::new(), 0),
            f(Opcode::Binary, Bytes::from_static(&[0, 1, 255]), 0),
            f(Opcode::Binary, Bytes::new(), 0),
            f(Opcode::Ping, Bytes::from_static(b"p"), 0),
            f(Opcode::Pong, Bytes::from_static(b"p"), 812),
            f(Opcode::Close, close_payload(4001, "bye ✓"), 0),
            f(Opcode::Close, Bytes::new(), 0),
            Frame {
                compressed_len: 17,
                ..f(Opcode::Text, Bytes::from("a".repeat(100)), 0)
            },
        ];
        for frame in frames {
            let back = Frame::from_record(&frame.to_record()).unwrap();
            assert_eq!(back, frame);
        }
        let mut r = f(Opcode::Text, Bytes::from("abc"), 0).to_record();
        r.meta.len = 4;
        let e = Frame::from_record(&r).unwrap_err();
        assert!(
            e.to_string().contains("\"len\" is 4 but the payload has 3 bytes"),
            "{e}"
        );
        let mut r = f(Opcode::Binary, Bytes::from("abc"), 0).to_record();
        r.base64 = Some("@@@".into());
        let e = Frame::from_record(&r).unwrap_err();
        assert!(e.to_string().contains("not valid base64"), "{e}");
    }
}
