//! `connect --socketio`: the Socket.IO settings from the command line, emits, and
//! how decoded frames print.

use serde_json::{json, Value};
use wsbench_core::config::{SioNamespace, SocketIoConfig};
use wsbench_core::socketio::{normalize_namespace, Decoded, SioCommand};
use wsbench_core::{Direction, Error, Frame};

use crate::args::ConnectArgs;

fn bad_json(what: &str, text: &str, e: &serde_json::Error) -> Error {
    Error::InvalidPayload {
        format: "JSON",
        reason: format!("{what} {text:?}: {e}"),
    }
}

/// The Socket.IO settings the arguments describe; bad JSON is a usage error.
pub fn config(a: &ConnectArgs) -> Result<SocketIoConfig, Error> {
    if a.echo {
        return Err(Error::InvalidParam {
            name: "--echo".into(),
            reason: "is for raw WebSocket mode, not --socketio".into(),
        });
    }
    let auth = a
        .auth
        .as_deref()
        .map(|t| serde_json::from_str::<Value>(t).map_err(|e| bad_json("--auth", t, &e)))
        .transpose()?;
    let names = if a.namespaces.is_empty() {
        vec!["/".to_owned()]
    } else {
        a.namespaces.clone()
    };
    let mut c = SocketIoConfig {
        version: a.sio_version,
        namespaces: names
            .iter()
            .map(|n| SioNamespace::new(n.clone(), auth.clone()))
            .collect(),
        ..SocketIoConfig::default()
    };
    if let Some(p) = &a.path {
        c.path = p.clone();
    }
    for pair in a.emit.chunks(2) {
        emit_args(pair.get(1).map_or("", String::as_str))?;
    }
    Ok(c)
}

/// `--emit`'s JSON: an array is the argument list, anything else one argument.
fn emit_args(text: &str) -> Result<Vec<Value>, Error> {
    match serde_json::from_str::<Value>(text).map_err(|e| bad_json("--emit argument", text, &e))? {
        Value::Array(a) => Ok(a),
        v => Ok(vec![v]),
    }
}

/// The namespaces joined, as the engine names them.
pub fn namespaces(a: &ConnectArgs) -> Vec<String> {
    if a.namespaces.is_empty() {
        return vec!["/".into()];
    }
    a.namespaces.iter().map(|n| normalize_namespace(n)).collect()
}

/// The namespace emits go to.
fn namespace(a: &ConnectArgs) -> String {
    a.namespaces.first().cloned().unwrap_or_else(|| "/".into())
}

/// The --emit commands, in order.
pub fn emits(a: &ConnectArgs) -> Vec<SioCommand> {
    a.emit
        .chunks(2)
        .map(|pair| {
            let args = emit_args(pair.get(1).map_or("null", String::as_str)).unwrap_or_default();
            SioCommand::emit(&namespace(a), &pair[0], args, a.ack)
        })
        .collect()
}

/// A stdin line `["event", ...args]` as an emit.
pub fn line_emit(a: &ConnectArgs, line: &str) -> Result<SioCommand, String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Array(mut v)) if v.first().is_some_and(Value::is_string) => {
            let event = v.remove(0);
            Ok(SioCommand::emit(
                &namespace(a),
                event.as_str().unwrap_or_default(),
                v,
                a.ack,
            ))
        }
        Ok(_) => Err(format!("not an event {line:?}: write [\"event\", arg1, ...]")),
        Err(e) => Err(format!("not JSON {line:?}: {e}")),
    }
}

/// What a received frame means to the CLI.
pub enum Seen {
    Event,
    Ack,
    /// A namespace accepted us.
    Joined(String),
    /// A namespace refused us (CONNECT_ERROR), with the server's message.
    Refused(String),
    Other,
}

pub fn classify(f: &Frame, note: Option<&Decoded>) -> Seen {
    let Some(n) = note.filter(|_| f.direction == Direction::In) else {
        return Seen::Other;
    };
    match n.packet.as_deref() {
        Some("event" | "binaryEvent") if !n.partial => Seen::Event,
        Some("ack" | "binaryAck") if !n.partial => Seen::Ack,
        Some("connect") => Seen::Joined(n.namespace.clone().unwrap_or_else(|| "/".into())),
        Some("connectError") => Seen::Refused(format!(
            "namespace {} refused the connection: {}",
            n.namespace.as_deref().unwrap_or("/"),
            n.error.as_deref().unwrap_or("no reason given")
        )),
        _ => Seen::Other,
    }
}

/// Append `f` as printed in Socket.IO mode: received events and acks, or with
/// `ndjson` every frame with its decoded fields under `socketio`.
pub fn print(out: &mut Vec<u8>, f: &Frame, note: Option<&Decoded>, seen: &Seen, ndjson: bool) {
    let line = if ndjson {
        let mut v = serde_json::to_value(f.to_record()).unwrap_or(Value::Null);
        if let (Value::Object(o), Some(n)) = (&mut v, note) {
            o.insert("socketio".into(), serde_json::to_value(n).unwrap_or(Value::Null));
        }
        Some(v)
    } else {
        match (seen, note) {
            (Seen::Event, Some(n)) => n.event_line(),
            (Seen::Ack, Some(n)) => Some(json!({"ack": n.ack_id, "args": n.args.clone().unwrap_or_default()})),
            _ => None,
        }
    };
    if let Some(v) = line {
        out.extend_from_slice(v.to_string().as_bytes());
        out.push(b'\n');
    }
}
