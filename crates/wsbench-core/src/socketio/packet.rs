//! Socket.IO packets, carried in Engine.IO messages: protocol 5 (Socket.IO v3/v4)
//! and protocol 4 (Socket.IO v2).
//!
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`, e.g.
//! `2["chat","hi"]`, `2/admin,12["chat","hi"]`, `51-["up",{"_placeholder":true,"num":0}]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::json_offset;
use super::CodecError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SioType {
    Connect,
    Disconnect,
    Event,
    Ack,
    /// `ERROR` in protocol 4 (Socket.IO v2).
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl SioType {
    pub fn from_digit(d: u8) -> Option<SioType> {
        Some(match d {
            b'0' => SioType::Connect,
            b'1' => SioType::Disconnect,
            b'2' => SioType::Event,
            b'3' => SioType::Ack,
            b'4' => SioType::ConnectError,
            b'5' => SioType::BinaryEvent,
            b'6' => SioType::BinaryAck,
            _ => return None,
        })
    }

    pub fn digit(self) -> char {
        match self {
            SioType::Connect => '0',
            SioType::Disconnect => '1',
            SioType::Event => '2',
            SioType::Ack => '3',
            SioType::ConnectError => '4',
            SioType::BinaryEvent => '5',
            SioType::BinaryAck => '6',
        }
    }

    pub fn is_binary(self) -> bool {
        matches!(self, SioType::BinaryEvent | SioType::BinaryAck)
    }

    pub fn name(self) -> &'static str {
        match self {
            SioType::Connect => "connect",
            SioType::Disconnect => "disconnect",
            SioType::Event => "event",
            SioType::Ack => "ack",
            SioType::ConnectError => "connectError",
            SioType::BinaryEvent => "binaryEvent",
            SioType::BinaryAck => "binaryAck",
        }
    }
}

/// One Socket.IO packet. For a binary event or ack, `data` holds placeholders
/// (`{"_placeholder":true,"num":N}`) until its `attachments` are reassembled.
#[derive(Debug, Clone, PartialEq)]
pub struct SioPacket {
    pub kind: SioType,
    /// `/` for the main namespace.
    pub nsp: String,
    pub id: Option<u64>,
    pub data: Option<Value>,
    pub attachments: usize,
}

impl SioPacket {
    pub fn new(kind: SioType, nsp: &str, data: Option<Value>) -> Self {
        Self {
            kind,
            nsp: if nsp.is_empty() { "/".into() } else { nsp.to_owned() },
            id: None,
            data,
            attachments: 0,
        }
    }

    /// The event name of an event packet.
    pub fn event(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (SioType::Event | SioType::BinaryEvent, Some(Value::Array(a))) => a.first().and_then(Value::as_str),
            _ => None,
        }
    }

    /// The arguments: an event's after its name, an ack's all of them.
    pub fn args(&self) -> Vec<Value> {
        match (&self.kind, &self.data) {
            (SioType::Event | SioType::BinaryEvent, Some(Value::Array(a))) => a.iter().skip(1).cloned().collect(),
            (SioType::Ack | SioType::BinaryAck, Some(Value::Array(a))) => a.clone(),
            _ => Vec::new(),
        }
    }

    /// The packet as the text of an Engine.IO message.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        s.push(self.kind.digit());
        if self.kind.is_binary() {
            s.push_str(&self.attachments.to_string());
            s.push('-');
        }
        if self.nsp != "/" && !self.nsp.is_empty() {
            s.push_str(&self.nsp);
            s.push(',');
        }
        if let Some(id) = self.id {
            s.push_str(&id.to_string());
        }
        if let Some(d) = &self.data {
            s.push_str(&d.to_string());
        }
        s
    }

    /// Decode the text of an Engine.IO message. Positions in errors count bytes
    /// of `s` (the message without its Engine.IO type digit).
    pub fn decode(s: &str) -> Result<SioPacket, CodecError> {
        let b = s.as_bytes();
        let Some(&t) = b.first() else {
            return Err(CodecError::new(0, "empty Socket.IO packet"));
        };
        let kind = SioType::from_digit(t).ok_or_else(|| {
            let c = s.chars().next().unwrap_or('?');
            CodecError::new(0, format!("unknown Socket.IO packet type {c:?}"))
        })?;
        let mut i = 1;
        let mut attachments = 0;
        if kind.is_binary() {
            let dash = s[i..]
                .find('-')
                .ok_or_else(|| CodecError::new(i, "binary packet without its attachment count ('N-')"))?;
            attachments = s[i..i + dash]
                .parse::<usize>()
                .map_err(|_| CodecError::new(i, format!("bad attachment count {:?}", &s[i..i + dash])))?;
            i += dash + 1;
        }
        let mut nsp = "/".to_owned();
        if b.get(i) == Some(&b'/') {
            let end = s[i..].find(',').map_or(s.len(), |c| i + c);
            nsp = s[i..end].to_owned();
            i = (end + 1).min(s.len());
        }
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let id = if digits > 0 {
            let id = s[i..i + digits]
                .parse::<u64>()
                .map_err(|_| CodecError::new(i, format!("ack id {:?} is out of range", &s[i..i + digits])))?;
            i += digits;
            Some(id)
        } else {
            None
        };
        let rest = &s[i..];
        let data = if rest.is_empty() {
            None
        } else {
            let v = serde_json::from_str::<Value>(rest)
                .map_err(|e| CodecError::new(i + json_offset(rest, &e), format!("bad JSON data: {e}")))?;
            Some(v)
        };
        let p = SioPacket {
            kind,
            nsp,
            id,
            data,
            attachments,
        };
        p.check(i)?;
        Ok(p)
    }

    /// The data each packet type may carry.
    fn check(&self, at: usize) -> Result<(), CodecError> {
        let bad = |why: &str| Err(CodecError::new(at, format!("{} packet: {why}", self.kind.name())));
        match (self.kind, &self.data) {
            (SioType::Connect, None | Some(Value::Object(_))) => Ok(()),
            (SioType::Connect, _) => bad("data must be an object"),
            (SioType::Disconnect, None) => Ok(()),
            (SioType::Disconnect, _) => bad("carries no data"),
            (SioType::ConnectError, None | Some(Value::Object(_) | Value::String(_))) => Ok(()),
            (SioType::ConnectError, _) => bad("data must be an object or a string"),
            (SioType::Event | SioType::BinaryEvent, Some(Value::Array(a))) => match a.first() {
                Some(Value::String(_) | Value::Number(_)) => Ok(()),
                _ => bad("data must be an array starting with the event name"),
            },
            (SioType::Event | SioType::BinaryEvent, _) => bad("data must be an array starting with the event name"),
            (SioType::Ack | SioType::BinaryAck, Some(Value::Array(_))) if self.id.is_some() => Ok(()),
            (SioType::Ack | SioType::BinaryAck, Some(Value::Array(_))) => bad("no ack id"),
            (SioType::Ack | SioType::BinaryAck, _) => bad("data must be an array"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(s: &str) -> SioPacket {
        let p = SioPacket::decode(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(p.encode(), s, "re-encoding {s}");
        p
    }

    #[test]
    fn connect_and_disconnect() {
        let p = round_trip("0");
        assert_eq!((p.kind, p.nsp.as_str(), &p.data), (SioType::Connect, "/", &None));
        let p = round_trip(r#"0/admin,{"token":"123"}"#);
        assert_eq!((p.nsp.as_str(), p.data), ("/admin", Some(json!({"token":"123"}))));
        let p = round_trip(r#"0{"sid":"oSO0OpakMV_3jnilAAAA"}"#);
        assert_eq!(p.data, Some(json!({"sid":"oSO0OpakMV_3jnilAAAA"})));
        // Protocol 4 (v2): the namespace's answer carries no data, only the comma.
        let p = round_trip("0/admin,");
        assert_eq!((p.nsp.as_str(), p.data), ("/admin", None));
        let p = round_trip("1/admin,");
        assert_eq!((p.kind, p.nsp.as_str()), (SioType::Disconnect, "/admin"));
        round_trip("1");
        // v2 namespace CONNECT with a query string.
        assert_eq!(SioPacket::decode("0/admin?token=1,").unwrap().nsp, "/admin?token=1");
    }

    #[test]
    fn connect_errors_in_both_protocols() {
        let p = round_trip(r#"4{"data":{"code":7},"message":"Not authorized"}"#);
        assert_eq!(p.kind, SioType::ConnectError);
        let p = round_trip(r#"4/admin,"Not authorized""#);
        assert_eq!(p.data, Some(json!("Not authorized")));
    }

    #[test]
    fn events_with_namespace_and_ack_id() {
        let p = round_trip(r#"2["chat",{"msg":"hi"},2]"#);
        assert_eq!(p.event(), Some("chat"));
        assert_eq!(p.args(), vec![json!({"msg":"hi"}), json!(2)]);
        assert_eq!(p.id, None);
        let p = round_trip(r#"2/admin,12["ping"]"#);
        assert_eq!((p.nsp.as_str(), p.id, p.event()), ("/admin", Some(12), Some("ping")));
        assert!(p.args().is_empty());
        let p = round_trip(r#"212["ev","x"]"#);
        assert_eq!(p.id, Some(12));
    }

    #[test]
    fn acks() {
        let p = round_trip(r#"312["ok",1]"#);
        assert_eq!(
            (p.kind, p.id, p.args()),
            (SioType::Ack, Some(12), vec![json!("ok"), json!(1)])
        );
        let p = round_trip(r#"3/admin,5[]"#);
        assert_eq!((p.nsp.as_str(), p.id), ("/admin", Some(5)));
    }

    #[test]
    fn binary_events_and_acks_carry_their_attachment_count() {
        let p = round_trip(r#"51-["upload",{"_placeholder":true,"num":0}]"#);
        assert_eq!(
            (p.kind, p.attachments, p.event()),
            (SioType::BinaryEvent, 1, Some("upload"))
        );
        let p = round_trip(r#"52-/files,7["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
        assert_eq!((p.attachments, p.nsp.as_str(), p.id), (2, "/files", Some(7)));
        let p = round_trip(r#"61-3[{"_placeholder":true,"num":0}]"#);
        assert_eq!((p.kind, p.attachments, p.id), (SioType::BinaryAck, 1, Some(3)));
        let p = round_trip(r#"61-/files,3[{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.nsp, "/files");
    }

    #[test]
    fn malformed_packets_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("9", 0, "unknown Socket.IO packet type '9'"),
            ("é", 0, "unknown"),
            ("5[\"a\"]", 1, "attachment count"),
            ("5x-[\"a\"]", 1, "bad attachment count"),
            ("2[\"a\"", 4, "bad JSON"),
            ("2{\"a\":1}", 1, "event packet"),
            ("2[]", 1, "event name"),
            ("2", 1, "event name"),
            ("3[1]", 1, "no ack id"),
            ("31{}", 2, "must be an array"),
            ("0[1]", 1, "must be an object"),
            ("1[1]", 1, "carries no data"),
            ("4 1", 1, "must be an object or a string"),
            ("299999999999999999999999[\"a\"]", 1, "out of range"),
            ("2/admin,{\"a\"", 11, "bad JSON"),
        ];
        for (s, pos, what) in cases {
            let e = SioPacket::decode(s).expect_err(s);
            assert!(e.to_string().contains(what), "{s}: {e}");
            assert_eq!(e.pos, *pos, "{s}: {e}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet = [
            "0", "5", "6", "1", "-", "/", ",", "[", "]", "\"", "{", "}", "é", "9", "a", " ",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let n = rng.usize(0..12);
            let s: String = (0..n).map(|_| alphabet[rng.usize(0..alphabet.len())]).collect();
            let _ = SioPacket::decode(&s);
            let _ = super::super::engine::EnginePacket::decode_text(&s);
        }
    }
}
