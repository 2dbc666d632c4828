//! Does a received message match an `expect`? Each matcher says what it wanted when it
//! does not; captures take a value out of a matched message.

use bytes::Bytes;
use regex::Regex;
use serde_json::Value;

use crate::collections::scenario::{Capture, Expect};
use crate::collections::vars::Vars;
use crate::error::Result;
use crate::frame::{Frame, Opcode};
use crate::socketio::Decoded;

/// A received data message as the matchers see it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub seq: u64,
    /// The text (Socket.IO: the event as `["event", ...args]`); `None` for binary.
    pub text: Option<String>,
    pub bytes: Bytes,
    /// Socket.IO: the event name and arguments.
    pub event: Option<(String, Vec<Value>)>,
}

impl Incoming {
    /// A frame the scenario looks at: a received data message, or (Socket.IO) a
    /// received event. Everything else (heartbeats, control frames) is `None`.
    pub fn from_frame(f: &Frame, decoded: Option<&Decoded>, socketio: bool) -> Option<Incoming> {
        if f.direction != crate::frame::Direction::In || !f.opcode.is_data() {
            return None;
        }
        if socketio {
            let d = decoded?;
            let event = d.event.clone()?;
            let args = d.args.clone().unwrap_or_default();
            return Some(Incoming {
                seq: f.seq,
                text: d.event_line().map(|v| v.to_string()),
                bytes: f.payload.clone(),
                event: Some((event, args)),
            });
        }
        Some(Incoming {
            seq: f.seq,
            text: (f.opcode == Opcode::Text).then(|| String::from_utf8_lossy(&f.payload).into_owned()),
            bytes: f.payload.clone(),
            event: None,
        })
    }

    fn json(&self) -> Option<Value> {
        if let Some((event, args)) = &self.event {
            let mut v = vec![Value::String(event.clone())];
            v.extend(args.iter().cloned());
            return Some(Value::Array(v));
        }
        serde_json::from_str(self.text.as_deref()?).ok()
    }

    /// The message as a report shows it: the text, or `hex:` and the bytes, cut short.
    pub fn show(&self) -> String {
        let full = match &self.text {
            Some(t) => t.clone(),
            None => format!("hex:{}", hex(&self.bytes)),
        };
        cut(&full, 400)
    }
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// An expect with its `{{variables}}` resolved and its regex compiled.
pub struct Ready {
    e: Expect,
    regex: Option<Regex>,
}

impl Ready {
    pub fn new(e: &Expect, vars: &Vars, place: &str) -> Result<Ready> {
        let mut e = e.clone();
        let s = |v: &mut Option<String>| -> Result<()> {
            if let Some(x) = v.as_mut() {
                *x = vars.resolve(x, place)?;
            }
            Ok(())
        };
        s(&mut e.equals)?;
        s(&mut e.contains)?;
        s(&mut e.regex)?;
        s(&mut e.event)?;
        if let Some(j) = e.json.as_mut() {
            resolve_value(j, vars, place)?;
        }
        if let Some(j) = e.pointer_equals.as_mut() {
            resolve_value(j, vars, place)?;
        }
        for a in e.args.iter_mut().flatten() {
            resolve_value(a, vars, place)?;
        }
        let regex = match &e.regex {
            Some(r) => Some(Regex::new(r).map_err(|err| crate::error::Error::InvalidPayload {
                format: "regex",
                reason: format!("{r:?} does not compile: {err}"),
            })?),
            None => None,
        };
        Ok(Ready { e, regex })
    }

    /// What the expect wants, in words: `contains "ok", json {"op":"ack"}`.
    pub fn describe(&self) -> String {
        describe(&self.e)
    }

    /// `Ok` when `m` matches every matcher, else the first that did not hold.
    pub fn check(&self, m: &Incoming) -> std::result::Result<(), String> {
        let e = &self.e;
        let text = m.text.as_deref();
        if let Some(want) = &e.equals {
            if text != Some(want.as_str()) {
                return Err(format!("not equal to {want:?}"));
            }
        }
        if let Some(want) = &e.contains {
            if !text.is_some_and(|t| t.contains(want.as_str())) {
                return Err(format!("does not contain {want:?}"));
            }
        }
        if let Some(re) = &self.regex {
            if !text.is_some_and(|t| re.is_match(t)) {
                return Err(format!("does not match the regex {:?}", re.as_str()));
            }
        }
        if let Some(want) = &e.hex {
            let want = crate::payload::parse_hex(want).map_err(|err| err.to_string())?;
            if m.bytes != want {
                return Err("the bytes differ".into());
            }
        }
        if let Some(want) = &e.event {
            let Some((event, args)) = &m.event else {
                return Err("not a Socket.IO event".into());
            };
            if event != want {
                return Err(format!("event {event:?}, not {want:?}"));
            }
            for (i, w) in e.args.iter().flatten().enumerate() {
                if !args.get(i).is_some_and(|a| subset(w, a)) {
                    return Err(format!("argument {} is not {w}", i + 1));
                }
            }
        }
        if e.json.is_some() || e.pointer.is_some() {
            let Some(json) = m.json() else {
                return Err("not JSON".into());
            };
            if let Some(want) = &e.json {
                if !subset(want, &json) {
                    return Err(format!("does not contain the JSON {want}"));
                }
            }
            if let Some(p) = &e.pointer {
                match (json.pointer(p), &e.pointer_equals) {
                    (None, _) => return Err(format!("has nothing at {p}")),
                    (Some(got), Some(want)) if got != want => return Err(format!("{p} is {got}, not {want}")),
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Every key of `want` is in `got` with a matching value (objects: a subset, at any
/// depth; arrays: same length, element by element; anything else: equal).
pub fn subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|gv| subset(v, gv))),
        (Value::Array(w), Value::Array(g)) => w.len() == g.len() && w.iter().zip(g).all(|(a, b)| subset(a, b)),
        _ => want == got,
    }
}

fn resolve_value(v: &mut Value, vars: &Vars, place: &str) -> Result<()> {
    match v {
        Value::String(s) => *s = vars.resolve(s, place)?,
        Value::Array(a) => {
            for x in a {
                resolve_value(x, vars, place)?;
            }
        }
        Value::Object(o) => {
            for x in o.values_mut() {
                resolve_value(x, vars, place)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `v` with every `{{variable}}` in its strings resolved.
pub fn resolved(v: &Value, vars: &Vars, place: &str) -> Result<Value> {
    let mut v = v.clone();
    resolve_value(&mut v, vars, place)?;
    Ok(v)
}

/// An expect in words.
pub fn describe(e: &Expect) -> String {
    let mut parts = Vec::new();
    let q = |k: &str, v: &Option<String>, parts: &mut Vec<String>| {
        if let Some(v) = v {
            parts.push(format!("{k} {v:?}"));
        }
    };
    q("equals", &e.equals, &mut parts);
    q("contains", &e.contains, &mut parts);
    q("regex", &e.regex, &mut parts);
    if let Some(j) = &e.json {
        parts.push(format!("json {j}"));
    }
    match (&e.pointer, &e.pointer_equals) {
        (Some(p), Some(v)) => parts.push(format!("{p} = {v}")),
        (Some(p), None) => parts.push(format!("{p} exists")),
        _ => {}
    }
    q("hex", &e.hex, &mut parts);
    q("event", &e.event, &mut parts);
    if let Some(a) = &e.args {
        parts.push(format!("args {}", Value::Array(a.clone())));
    }
    let what = if parts.is_empty() {
        "any message".to_owned()
    } else {
        parts.join(", ")
    };
    if e.none {
        format!("no message with {what}")
    } else {
        what
    }
}

/// The value `c` takes out of `m`, or why there is none.
pub fn capture(c: &Capture, m: &Incoming) -> std::result::Result<String, String> {
    if let Some(p) = &c.pointer {
        let json = m.json().ok_or("the message is not JSON")?;
        return match json.pointer(p) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Ok(v.to_string()),
            None => Err(format!("the message has nothing at {p}")),
        };
    }
    let r = c.regex.as_deref().unwrap_or_default();
    let re = Regex::new(r).map_err(|e| format!("the regex {r:?} does not compile: {e}"))?;
    let text = m.text.as_deref().ok_or("the message is binary")?;
    let caps = re.captures(text).ok_or(format!("the message does not match {r:?}"))?;
    let group = c.group.unwrap_or(if caps.len() > 1 { 1 } else { 0 });
    caps.get(group)
        .map(|g| g.as_str().to_owned())
        .ok_or(format!("group {group} of {r:?} matched nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(t: &str) -> Incoming {
        Incoming {
            seq: 1,
            text: Some(t.into()),
            bytes: Bytes::from(t.to_owned()),
            event: None,
        }
    }

    fn ready(v: Value) -> Ready {
        Ready::new(&serde_json::from_value(v).unwrap(), &Vars::default(), "t").unwrap()
    }

    #[test]
    fn json_subset_is_recursive_and_arrays_are_exact() {
        assert!(subset(&json!({"a": {"b": 1}}), &json!({"a": {"b": 1, "c": 2}, "d": 3})));
        assert!(!subset(&json!({"a": {"b": 2}}), &json!({"a": {"b": 1}})));
        assert!(!subset(&json!([1]), &json!([1, 2])));
        assert!(subset(&json!([{"x": 1}]), &json!([{"x": 1, "y": 2}])));
    }

    #[test]
    fn every_matcher_passes_and_fails() {
        let m = text(r#"{"op":"ack","data":{"id":7}}"#);
        for (pass, e) in [
            (true, json!({"contains": "ack"})),
            (false, json!({"contains": "nack"})),
            (true, json!({"regex": "\"id\":\\d+"})),
            (false, json!({"regex": "^ack"})),
            (true, json!({"json": {"op": "ack"}})),
            (false, json!({"json": {"op": "nack"}})),
            (true, json!({"pointer": "/data/id"})),
            (false, json!({"pointer": "/data/name"})),
            (true, json!({"pointer": "/data/id", "pointerEquals": 7})),
            (false, json!({"pointer": "/data/id", "pointerEquals": 8})),
            (true, json!({"equals": r#"{"op":"ack","data":{"id":7}}"#})),
            (false, json!({"equals": "ack"})),
            (false, json!({"event": "ack"})),
        ] {
            assert_eq!(ready(e.clone()).check(&m).is_ok(), pass, "{e}");
        }
        let bin = Incoming {
            seq: 2,
            text: None,
            bytes: Bytes::from_static(&[1, 0xff]),
            event: None,
        };
        assert!(ready(json!({"hex": "01 ff"})).check(&bin).is_ok());
        assert!(ready(json!({"hex": "01 fe"})).check(&bin).is_err());
        assert_eq!(bin.show(), "hex:01 ff");
        let sio = Incoming {
            seq: 3,
            text: Some(r#"["chat",{"from":"ann"},2]"#.into()),
            bytes: Bytes::new(),
            event: Some(("chat".into(), vec![json!({"from": "ann"}), json!(2)])),
        };
        assert!(ready(json!({"event": "chat", "args": [{"from": "ann"}]}))
            .check(&sio)
            .is_ok());
        assert!(ready(json!({"event": "chat", "args": [{"from": "bob"}]}))
            .check(&sio)
            .is_err());
        assert!(ready(json!({"event": "news"})).check(&sio).is_err());
        assert!(ready(json!({"json": ["chat", {"from": "ann"}, 2]})).check(&sio).is_ok());
    }

    #[test]
    fn captures_take_a_pointer_or_a_regex_group() {
        let m = text(r#"{"token":"abc123","n":5}"#);
        let c = |v: Value| capture(&serde_json::from_value(v).unwrap(), &m);
        assert_eq!(c(json!({"name": "t", "pointer": "/token"})).unwrap(), "abc123");
        assert_eq!(c(json!({"name": "t", "pointer": "/n"})).unwrap(), "5");
        assert!(c(json!({"name": "t", "pointer": "/x"})).is_err());
        assert_eq!(c(json!({"name": "t", "regex": "token\":\"(\\w+)"})).unwrap(), "abc123");
        assert_eq!(c(json!({"name": "t", "regex": "abc\\d+"})).unwrap(), "abc123");
        assert!(c(json!({"name": "t", "regex": "zzz(.)"})).is_err());
    }

    #[test]
    fn variables_resolve_in_expectations() {
        let mut vars = Vars::default();
        vars.set("tok", "abc");
        let e: Expect = serde_json::from_value(json!({"json": {"token": "{{tok}}"}})).unwrap();
        let r = Ready::new(&e, &vars, "t").unwrap();
        assert!(r.check(&text(r#"{"token":"abc"}"#)).is_ok());
        assert_eq!(r.describe(), r#"json {"token":"abc"}"#);
    }
}
