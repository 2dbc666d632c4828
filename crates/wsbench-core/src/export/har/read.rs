//! Reading HAR files back. WebSocket shapes handled (see `write.rs` for the sources):
//! - Chrome DevTools: the entry has `_resourceType: "websocket"`, a `ws://`/`wss://`
//!   URL and `_webSocketMessages` of `{type: "send"|"receive", time: seconds, opcode,
//!   data}`, text for opcode 1 and base64 otherwise. Chrome also records
//!   `{type: "error", opcode: -1}` entries for frame errors; they are skipped.
//! - mitmproxy (`savehar.py`): the same messages, but the entry's URL keeps the
//!   `http://`/`https://` scheme of the upgrade request and `timings` may be `null`.
//! - Playwright (`harTracer.ts`): the same four fields; `time` may be wall time in
//!   milliseconds or -1 when timing is omitted, and with `content: "attach"` the
//!   messages live in a `.jsonl` file named by `response.content._file`, next to
//!   the HAR, one message per line.
//!
//! So an entry is a WebSocket when it has `_webSocketMessages`, a `_resourceType`
//! of `websocket`, or a `ws(s)://` URL; a `time` above 1e11 is taken as milliseconds
//! (1e11 seconds is the year 5138), a missing or negative one as the entry's start.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use bytes::Bytes;
use serde::Deserialize;

use crate::connection::{Handshake, Header, Timings};
use crate::error::{Error, Result};
use crate::export::{time, ExportFormat, RecordedConnection};
use crate::frame::{Direction, Frame, Opcode};
use crate::parse::{json_error, parse_error};
use crate::socketio::Decoded;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct HarLog {
    entries: Vec<HarEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarEntry {
    #[serde(rename = "startedDateTime")]
    started: Option<String>,
    time: Option<f64>,
    request: HarRequest,
    response: Option<HarResponse>,
    timings: Option<HarTimings>,
    #[serde(rename = "serverIPAddress")]
    server_ip: Option<String>,
    comment: Option<String>,
    #[serde(rename = "_resourceType")]
    resource_type: Option<String>,
    #[serde(rename = "_webSocketMessages")]
    messages: Option<Vec<HarMessage>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarRequest {
    method: Option<String>,
    url: String,
    #[serde(rename = "httpVersion")]
    http_version: Option<String>,
    headers: Vec<HarHeader>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarResponse {
    status: Option<f64>,
    #[serde(rename = "statusText")]
    status_text: Option<String>,
    #[serde(rename = "httpVersion")]
    http_version: Option<String>,
    headers: Vec<HarHeader>,
    content: Option<HarContent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarContent {
    #[serde(rename = "_file")]
    file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarHeader {
    name: String,
    value: String,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
struct HarTimings {
    dns: Option<f64>,
    connect: Option<f64>,
    ssl: Option<f64>,
    send: Option<f64>,
    wait: Option<f64>,
    receive: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarMessage {
    #[serde(rename = "type")]
    kind: String,
    time: Option<f64>,
    opcode: Option<f64>,
    data: Option<String>,
    /// wsbench's decoded Socket.IO view of the frame.
    #[serde(rename = "_socketio")]
    socketio: Option<Decoded>,
    /// wsbench's wire size of a compressed message.
    #[serde(rename = "_compressedLen")]
    compressed_len: Option<f64>,
}

fn headers(h: &[HarHeader]) -> Vec<Header> {
    h.iter()
        .map(|h| Header {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect()
}

fn header<'a>(h: &'a [Header], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn is_websocket(e: &HarEntry) -> bool {
    let url = e.request.url.to_ascii_lowercase();
    e.messages.is_some()
        || e.resource_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("websocket"))
        || url.starts_with("ws://")
        || url.starts_with("wss://")
}

/// mitmproxy records the upgrade under its HTTP URL.
fn ws_url(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        format!("wss://{}", &url[8..])
    } else if lower.starts_with("http://") {
        format!("ws://{}", &url[7..])
    } else {
        url.to_owned()
    }
}

/// `host/path` of a URL, for a name.
fn host_and_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.trim_end_matches('/').to_owned()
}

fn ms_to_us(ms: Option<f64>) -> u64 {
    ms.filter(|v| v.is_finite() && *v > 0.0)
        .map_or(0, |v| (v * 1000.0).round() as u64)
}

/// A HAR message time (seconds, or milliseconds from some Playwright versions) in µs.
fn message_time_us(t: Option<f64>) -> Option<i64> {
    let t = t.filter(|t| t.is_finite() && *t >= 0.0)?;
    Some(if t > 1e11 {
        (t * 1000.0).round() as i64
    } else {
        (t * 1_000_000.0).round() as i64
    })
}

pub(crate) fn har_connections(log: HarLog, path: &Path) -> Result<Vec<RecordedConnection>> {
    let total = log.entries.len();
    let mut out = Vec::new();
    for e in log.entries {
        if is_websocket(&e) {
            out.push(har_connection(e, path)?);
        }
    }
    if out.is_empty() {
        return Err(parse_error(
            path.display(),
            0,
            0,
            format!(
                "this HAR file has no WebSocket connection: none of its {total} entries is a WebSocket upgrade \
                 (record one in Chrome DevTools' Network panel, then \"Save all as HAR\")"
            ),
        ));
    }
    Ok(out)
}

fn har_connection(mut e: HarEntry, path: &Path) -> Result<RecordedConnection> {
    let url = ws_url(&e.request.url);
    let request_headers = headers(&e.request.headers);
    let mut notes = Vec::new();
    let messages = entry_messages(&mut e, path, &mut notes)?;
    let started_at_us = e
        .started
        .as_deref()
        .and_then(time::parse_iso)
        .or_else(|| messages.iter().find_map(|m| message_time_us(m.time)))
        .unwrap_or(0);
    let (frames, decoded) = har_frames(messages, started_at_us, &mut notes);
    let handshake = har_handshake(&e, &url, &request_headers);
    let name = e
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| host_and_path(&url));
    Ok(RecordedConnection {
        name,
        subprotocol: handshake.as_ref().and_then(|h| h.subprotocol.clone()),
        url,
        request_headers,
        started_at_us,
        handshake,
        meta: None,
        frames,
        decoded,
        source: ExportFormat::Har,
        notes,
    })
}

/// The entry's WebSocket messages: inline (Chrome, Firefox) or, from Playwright with
/// `content: "attach"`, in a `.jsonl` file next to the HAR.
fn entry_messages(e: &mut HarEntry, path: &Path, notes: &mut Vec<String>) -> Result<Vec<HarMessage>> {
    if let Some(messages) = e.messages.take() {
        return Ok(messages);
    }
    let attached = e
        .response
        .as_ref()
        .and_then(|r| r.content.as_ref())
        .and_then(|c| c.file.clone())
        .filter(|file| file.ends_with(".jsonl"));
    match attached {
        Some(file) => read_attached(path, &file, notes),
        None => Ok(Vec::new()),
    }
}

/// What a HAR message list holds that a log cannot, counted for the notes.
#[derive(Default)]
struct Skipped {
    types: usize,
    opcodes: usize,
    not_base64: usize,
}

/// The messages as frames, numbered from 1, with their decoded Socket.IO views by
/// index; what could not be kept is said in `notes`.
fn har_frames(
    messages: Vec<HarMessage>,
    started_at_us: i64,
    notes: &mut Vec<String>,
) -> (Vec<Frame>, Vec<(usize, Decoded)>) {
    let mut frames = Vec::with_capacity(messages.len());
    let mut decoded = Vec::new();
    let mut skipped = Skipped::default();
    for mut m in messages {
        if let Some(mut frame) = har_frame(&m, started_at_us, &mut skipped) {
            if let Some(d) = m.socketio.take() {
                decoded.push((frames.len(), d));
            }
            frame.seq = frames.len() as u64 + 1;
            frames.push(frame);
        }
    }
    if skipped.types > 0 {
        notes.push(format!(
            "{} messages that were neither sent nor received (errors) were skipped",
            skipped.types
        ));
    }
    if skipped.opcodes > 0 {
        notes.push(format!(
            "{} messages with an unknown opcode were skipped",
            skipped.opcodes
        ));
    }
    if skipped.not_base64 > 0 {
        notes.push(format!(
            "{} binary or control messages were not base64 and were kept as their text",
            skipped.not_base64
        ));
    }
    (frames, decoded)
}

/// One message as a frame (its `seq` left 0), or `None` (counted) when it is not a
/// sent or received frame with a known opcode.
fn har_frame(m: &HarMessage, started_at_us: i64, skipped: &mut Skipped) -> Option<Frame> {
    let direction = match m.kind.as_str() {
        "send" => Direction::Out,
        "receive" => Direction::In,
        _ => {
            skipped.types += 1;
            return None;
        }
    };
    let opcode = match m.opcode.map(|o| o as i64) {
        Some(1) => Opcode::Text,
        Some(2) => Opcode::Binary,
        Some(8) => Opcode::Close,
        Some(9) => Opcode::Ping,
        Some(10) => Opcode::Pong,
        _ => {
            skipped.opcodes += 1;
            return None;
        }
    };
    let data = m.data.as_deref().unwrap_or("");
    let payload = if opcode == Opcode::Text || data.is_empty() {
        Bytes::from(data.as_bytes().to_vec())
    } else {
        crate::payload::parse_base64(data).unwrap_or_else(|_| {
            skipped.not_base64 += 1;
            Bytes::from(data.as_bytes().to_vec())
        })
    };
    let at_us = message_time_us(m.time).unwrap_or(started_at_us);
    Some(Frame {
        seq: 0,
        at_us,
        offset_us: (at_us - started_at_us).max(0) as u64,
        payload,
        rtt_us: 0,
        compressed_len: m
            .compressed_len
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(0, |n| n.min(u32::MAX as f64) as u32),
        direction,
        opcode,
    })
}

/// The upgrade as a handshake, when the entry has a response with a status.
fn har_handshake(e: &HarEntry, url: &str, request_headers: &[Header]) -> Option<Handshake> {
    let r = e.response.as_ref()?;
    let status = r.status.filter(|s| *s > 0.0 && *s < 1000.0)? as u16;
    let response_headers = headers(&r.headers);
    let version = r
        .http_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or("HTTP/1.1");
    let request_version = e
        .request
        .http_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or("HTTP/1.1");
    let method = e.request.method.as_deref().unwrap_or("GET");
    Some(Handshake {
        url: url.to_owned(),
        remote_addr: e.server_ip.clone().unwrap_or_default(),
        request_line: format!("{method} {} {request_version}", request_target(url)),
        request_headers: request_headers.to_vec(),
        status_line: format!("{version} {status} {}", r.status_text.as_deref().unwrap_or("")),
        status,
        subprotocol: header(&response_headers, "sec-websocket-protocol").map(str::to_owned),
        extensions: header(&response_headers, "sec-websocket-extensions").map(str::to_owned),
        response_headers,
        tls: None,
        timings: har_timings(e),
        deflate: None,
        proxy: None,
    })
}

/// The request line's target: the URL's path and query (`/` when it has neither).
fn request_target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split('#').next().unwrap_or("");
    match rest.find('/') {
        Some(i) => rest[i..].to_owned(),
        None => match rest.find('?') {
            Some(i) => format!("/{}", &rest[i..]),
            None => "/".to_owned(),
        },
    }
}

/// HAR timings (ms, `-1` for "not applicable") as the handshake's µs; HAR's
/// `connect` includes `ssl`.
fn har_timings(e: &HarEntry) -> Timings {
    let t = e.timings.unwrap_or_default();
    let (dns_us, connect_us, tls_us) = (ms_to_us(t.dns), ms_to_us(t.connect), ms_to_us(t.ssl));
    let upgrade_us = ms_to_us(t.send) + ms_to_us(t.wait) + ms_to_us(t.receive);
    Timings {
        dns_us,
        tcp_us: connect_us.saturating_sub(tls_us),
        tls_us,
        upgrade_us,
        total_us: ms_to_us(e.time).max(dns_us + connect_us + upgrade_us),
    }
}

/// Playwright's attached messages: `file` next to the HAR, one JSON message a line.
fn read_attached(har: &Path, file: &str, notes: &mut Vec<String>) -> Result<Vec<HarMessage>> {
    let name = Path::new(file);
    let safe = name.components().count() == 1 && !file.contains(['/', '\\']);
    let path = har.parent().map(|d| d.join(name));
    let Some(path) = path.filter(|p| safe && p.is_file()) else {
        notes.push(format!(
            "the messages are in a separate file {file:?} that is not next to the HAR"
        ));
        return Ok(Vec::new());
    };
    let f = File::open(&path).map_err(|e| Error::io(&path, &e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| Error::io(&path, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let m: HarMessage = serde_json::from_str(&line).map_err(|e| {
            let mut err = json_error(path.display(), &e);
            if let Error::Parse { line, .. } = &mut err {
                *line = i + 1;
            }
            err
        })?;
        out.push(m);
    }
    Ok(out)
}
