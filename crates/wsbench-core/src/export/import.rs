//! Reading logs back: wsbench's own NDJSON and JSON exports (and the CLI's
//! `--ndjson` output), and HAR files from Chrome DevTools, Playwright and mitmproxy.
//! The format is told by content, not by the file name.
//!
//! HAR WebSocket shapes handled (see `har.rs` for the sources):
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

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{ExportFormat, LogSource, SessionMeta, LOG_FORMAT, LOG_FORMAT_VERSION};
use crate::collections::{MessageFormat, SavedConnection, SavedMessage};
use crate::config::{ConnectConfig, KeyValue, LogLimits};
use crate::connection::{Handshake, Header, Timings};
use crate::error::{Error, Result};
use crate::frame::{Direction, Frame, FrameRecord, Opcode};
use crate::frame_log::FrameLog;

/// At most this many saved messages come out of one recorded connection (the
/// first distinct ones sent).
pub const MAX_SAVED_MESSAGES: usize = 1000;

/// Handshake headers the engine writes itself (or that belong to the transport):
/// never copied into a saved connection.
const GENERATED_HEADERS: [&str; 14] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "http2-settings",
];

/// One connection read from a file: its identity, handshake and frames.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedConnection {
    /// The tab name (wsbench exports), the HAR entry's comment, or host and path.
    pub name: String,
    pub url: String,
    /// The upgrade request's headers as recorded.
    pub request_headers: Vec<Header>,
    /// The subprotocol the server chose.
    pub subprotocol: Option<String>,
    /// When the connection began, µs since the epoch (0 if the file does not say).
    pub started_at_us: i64,
    pub handshake: Option<Handshake>,
    /// The metadata of a wsbench export.
    pub meta: Option<SessionMeta>,
    /// Oldest first. wsbench exports keep their sequence numbers and times; HAR
    /// messages get sequence numbers 1..=n and times from their `time`.
    pub frames: Vec<Frame>,
    pub source: ExportFormat,
    /// What was not imported, in plain words (e.g. "2 error events skipped").
    pub notes: Vec<String>,
}

/// A line in the list of connections a file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedSummary {
    pub index: usize,
    pub name: String,
    pub url: String,
    pub subprotocol: Option<String>,
    pub started_at_us: i64,
    pub frames: u64,
    pub sent: u64,
    pub received: u64,
    pub source: ExportFormat,
    pub notes: Vec<String>,
}

impl RecordedConnection {
    pub fn summary(&self, index: usize) -> RecordedSummary {
        let sent = self.frames.iter().filter(|f| f.direction == Direction::Out).count() as u64;
        RecordedSummary {
            index,
            name: self.name.clone(),
            url: self.url.clone(),
            subprotocol: self.subprotocol.clone(),
            started_at_us: self.started_at_us,
            frames: self.frames.len() as u64,
            sent,
            received: self.frames.len() as u64 - sent,
            source: self.source,
            notes: self.notes.clone(),
        }
    }

    /// The connection settings: a wsbench export's config as it was (secrets stay
    /// `[redacted]` if they were), or, from a HAR, the URL and the request headers
    /// less those the handshake generates, with `Origin` as `origin` and
    /// `Sec-WebSocket-Protocol` as `subprotocols`.
    pub fn config(&self) -> ConnectConfig {
        if let Some(m) = &self.meta {
            return m.config.clone();
        }
        let mut c = ConnectConfig::new(self.url.clone());
        for h in &self.request_headers {
            let lower = h.name.to_ascii_lowercase();
            if lower.starts_with(':') || GENERATED_HEADERS.contains(&lower.as_str()) {
                continue;
            }
            match lower.as_str() {
                "origin" => c.origin = Some(h.value.clone()),
                "sec-websocket-protocol" => c.subprotocols.extend(
                    h.value
                        .split(',')
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty()),
                ),
                _ => c.headers.push(KeyValue::new(h.name.clone(), h.value.clone())),
            }
        }
        c
    }

    /// The messages sent (text and binary), as saved messages "Message 1", … in
    /// the order first sent, each distinct body once, at most [`MAX_SAVED_MESSAGES`]:
    /// text that parses as a JSON object or array as `json`, other text as `text`,
    /// binary as `base64`.
    pub fn saved_messages(&self) -> Vec<SavedMessage> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for f in &self.frames {
            if out.len() >= MAX_SAVED_MESSAGES {
                break;
            }
            if f.direction != Direction::Out || !f.opcode.is_data() {
                continue;
            }
            let (format, body) = match (f.opcode, f.text()) {
                (Opcode::Text, Some(t)) if looks_like_json(t) => (MessageFormat::Json, t.to_owned()),
                (Opcode::Text, Some(t)) => (MessageFormat::Text, t.to_owned()),
                _ => (
                    MessageFormat::Base64,
                    base64::engine::general_purpose::STANDARD.encode(&f.payload),
                ),
            };
            if seen.insert((format, body.clone())) {
                out.push(SavedMessage {
                    name: format!("Message {}", out.len() + 1),
                    format,
                    body,
                    send_on_connect: false,
                });
            }
        }
        out
    }

    /// A saved connection: [`Self::config`] with [`Self::saved_messages`].
    pub fn to_saved_connection(&self) -> SavedConnection {
        SavedConnection {
            name: self.name.clone(),
            config: self.config(),
            messages: self.saved_messages(),
            ..SavedConnection::default()
        }
    }

    /// The frames as a read-only log (their sequence numbers kept), under `limits`.
    pub fn into_frame_log(self, limits: LogLimits) -> FrameLog {
        FrameLog::from_frames(limits, self.frames)
    }

    /// What an export of this connection reads from (to convert it to another
    /// format): the export's metadata is kept (name, config, handshake, counters).
    pub fn into_log_source(self) -> LogSource {
        let config = self.config();
        let stats = self.meta.as_ref().map(|m| m.stats);
        LogSource {
            name: self.name,
            config,
            handshake: self.handshake,
            stats,
            log: Arc::new(FrameLog::from_frames(
                LogLimits {
                    max_frames: usize::MAX,
                    max_bytes: usize::MAX,
                },
                self.frames,
            )),
        }
    }
}

fn looks_like_json(t: &str) -> bool {
    let s = t.trim_start();
    (s.starts_with('{') || s.starts_with('[')) && serde_json::from_str::<de::IgnoredAny>(t).is_ok()
}

fn parse_error(path: &Path, line: usize, column: usize, reason: impl Into<String>) -> Error {
    Error::Parse {
        path: path.display().to_string(),
        line,
        column,
        reason: reason.into(),
    }
}

fn json_error(path: &Path, line_offset: usize, e: &serde_json::Error) -> Error {
    let reason = e.to_string();
    // serde_json appends " at line L column C"; the error carries them separately.
    let reason = match reason.rfind(" at line ") {
        Some(i) if e.line() > 0 => reason[..i].to_owned(),
        _ => reason,
    };
    let line = if e.line() > 0 { e.line() + line_offset } else { 0 };
    parse_error(path, line, e.column(), reason)
}

/// Read every connection in a log file: a wsbench NDJSON or JSON export (one
/// connection; concatenated NDJSON exports give one each), the CLI's `--ndjson`
/// output, or a HAR file (each WebSocket entry, in file order). Malformed input is
/// [`Error::Parse`] with the line and column.
pub fn read_log_file(path: &Path) -> Result<Vec<RecordedConnection>> {
    let file = File::open(path).map_err(|e| Error::io(path, &e))?;
    read_log(BufReader::with_capacity(256 << 10, file), path)
}

/// [`read_log_file`] from any reader; `path` names it in errors and gives
/// connections without a name theirs (and locates Playwright's attached files).
pub fn read_log(mut r: impl BufRead, path: &Path) -> Result<Vec<RecordedConnection>> {
    let io = |e: std::io::Error| Error::io(path, &e);
    // Skip a BOM and blank space, counting lines for error positions.
    let mut skipped_lines = 0usize;
    let mut first_byte = None;
    let mut bom_checked = false;
    loop {
        let buf = r.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break;
        }
        let mut n = 0;
        if !bom_checked {
            bom_checked = true;
            if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                n = 3;
            }
        }
        while n < buf.len() && buf[n].is_ascii_whitespace() {
            if buf[n] == b'\n' {
                skipped_lines += 1;
            }
            n += 1;
        }
        if n < buf.len() {
            first_byte = Some(buf[n]);
            r.consume(n);
            break;
        }
        r.consume(n);
    }
    match first_byte {
        None => return Err(parse_error(path, 0, 0, "the file is empty")),
        Some(b'{') => {}
        Some(_) => {
            return Err(parse_error(
                path,
                skipped_lines + 1,
                1,
                "this is not a wsbench log (NDJSON or JSON export) or a HAR file; \
                 CSV and text transcripts cannot be opened, export NDJSON to keep a log you can open again",
            ))
        }
    }
    let mut first = Vec::new();
    r.read_until(b'\n', &mut first).map_err(io)?;
    let doc = match serde_json::from_slice::<Doc>(&first) {
        Ok(doc) => doc,
        // The first line is not a whole JSON value: one document over many lines.
        Err(e) if e.is_eof() => {
            let doc: Doc = serde_json::from_reader(std::io::Cursor::new(first).chain(r))
                .map_err(|e| json_error(path, skipped_lines, &e))?;
            return from_document(doc, path, skipped_lines);
        }
        Err(e) => return Err(json_error(path, skipped_lines, &e)),
    };
    let line_no = skipped_lines + 1;
    match classify(doc, path, line_no)? {
        Sniffed::Document(doc) => {
            // A whole document on one line; nothing but space may follow.
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).map_err(io)?;
            if let Some(i) = rest.iter().position(|c| !c.is_ascii_whitespace()) {
                let line = line_no + 1 + rest[..i].iter().filter(|c| **c == b'\n').count();
                return Err(parse_error(path, line, 1, "unexpected content after the JSON document"));
            }
            from_document(*doc, path, skipped_lines)
        }
        Sniffed::Meta(meta) => read_ndjson(r, path, Some(*meta), Vec::new(), line_no),
        Sniffed::Frame(f) => read_ndjson(r, path, None, vec![f], line_no),
    }
}

enum Sniffed {
    /// A HAR or JSON export (handled by `from_document`).
    Document(Box<Doc>),
    Meta(Box<SessionMeta>),
    Frame(Frame),
}

fn meta_from(map: serde_json::Map<String, serde_json::Value>, path: &Path, line: usize) -> Result<SessionMeta> {
    let version = map.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > LOG_FORMAT_VERSION as u64 {
        return Err(parse_error(
            path,
            line,
            1,
            format!("written by a newer wsbench (log format version {version}); update wsbench to open it"),
        ));
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| parse_error(path, line, 1, format!("the export's metadata is not as expected: {e}")))
}

fn is_meta(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.get("format").and_then(|v| v.as_str()) == Some(LOG_FORMAT)
}

fn classify(doc: Doc, path: &Path, line: usize) -> Result<Sniffed> {
    if doc.log.is_some() || doc.frames.is_some() {
        return Ok(Sniffed::Document(Box::new(doc)));
    }
    if is_meta(&doc.rest) {
        return Ok(Sniffed::Meta(Box::new(meta_from(doc.rest, path, line)?)));
    }
    if doc.rest.contains_key("seq") && doc.rest.contains_key("opcode") {
        let record: FrameRecord = serde_json::from_value(serde_json::Value::Object(doc.rest))
            .map_err(|e| parse_error(path, line, 1, format!("not a frame record: {e}")))?;
        let f = Frame::from_record(&record).map_err(|e| parse_error(path, line, 1, e.to_string()))?;
        return Ok(Sniffed::Frame(f));
    }
    Err(parse_error(
        path,
        line,
        1,
        "this JSON is not a wsbench log (no \"format\":\"wsbench-log\" metadata or frame records) or a HAR file (no \"log\")",
    ))
}

fn from_document(doc: Doc, path: &Path, skipped_lines: usize) -> Result<Vec<RecordedConnection>> {
    if let Some(log) = doc.log {
        return har_connections(log, path);
    }
    if !is_meta(&doc.rest) {
        return Err(parse_error(
            path,
            0,
            0,
            "this JSON has \"frames\" but no \"format\":\"wsbench-log\" metadata; it is not a wsbench export",
        ));
    }
    let meta = meta_from(doc.rest, path, skipped_lines + 1)?;
    Ok(vec![from_export(
        meta,
        doc.frames.unwrap_or_default(),
        path,
        ExportFormat::Json,
    )])
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("Imported log")
        .to_owned()
}

fn from_export(meta: SessionMeta, frames: Vec<Frame>, path: &Path, source: ExportFormat) -> RecordedConnection {
    let started_at_us = meta
        .started_at_us
        .or_else(|| frames.first().map(|f| f.at_us - f.offset_us as i64))
        .unwrap_or(meta.exported_at_us);
    let request_headers = match &meta.handshake {
        Some(h) => h.request_headers.clone(),
        None => meta
            .config
            .headers
            .iter()
            .filter(|h| h.enabled)
            .map(|h| Header {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
    };
    let name = if meta.name.is_empty() {
        stem(path)
    } else {
        meta.name.clone()
    };
    RecordedConnection {
        name,
        url: meta.url.clone(),
        request_headers,
        subprotocol: meta.handshake.as_ref().and_then(|h| h.subprotocol.clone()),
        started_at_us,
        handshake: meta.handshake.clone(),
        meta: Some(meta),
        frames,
        source,
        notes: Vec::new(),
    }
}

fn read_ndjson(
    mut r: impl BufRead,
    path: &Path,
    mut meta: Option<SessionMeta>,
    mut frames: Vec<Frame>,
    mut line_no: usize,
) -> Result<Vec<RecordedConnection>> {
    let mut out = Vec::new();
    let finish = |meta: Option<SessionMeta>, frames: Vec<Frame>| match meta {
        Some(m) => from_export(m, frames, path, ExportFormat::Ndjson),
        None => RecordedConnection {
            name: stem(path),
            url: String::new(),
            request_headers: Vec::new(),
            subprotocol: None,
            started_at_us: frames.first().map_or(0, |f| f.at_us - f.offset_us as i64),
            handshake: None,
            meta: None,
            frames,
            source: ExportFormat::Ndjson,
            notes: vec!["no metadata line: the URL and handshake are unknown".into()],
        },
    };
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).map_err(|e| Error::io(path, &e))? == 0 {
            break;
        }
        line_no += 1;
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        match serde_json::from_slice::<FrameRecord>(&line) {
            Ok(record) => {
                let f = Frame::from_record(&record).map_err(|e| parse_error(path, line_no, 1, e.to_string()))?;
                frames.push(f);
            }
            Err(e) => {
                // Another export's metadata line: concatenated exports.
                if let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&line) {
                    if is_meta(&map) {
                        let next = meta_from(map, path, line_no)?;
                        out.push(finish(meta.take(), std::mem::take(&mut frames)));
                        meta = Some(next);
                        continue;
                    }
                }
                let mut err = json_error(path, 0, &e);
                if let Error::Parse { line, .. } = &mut err {
                    *line = line_no;
                }
                return Err(err);
            }
        }
    }
    out.push(finish(meta, frames));
    Ok(out)
}

/// A top-level JSON object: a HAR (`log`), a JSON export (`frames` plus metadata),
/// an NDJSON metadata line or frame record (everything in `rest`). Frames are
/// converted as they are read, so a large export is never held twice.
#[derive(Default)]
struct Doc {
    log: Option<HarLog>,
    frames: Option<Vec<Frame>>,
    rest: serde_json::Map<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Doc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Doc, A::Error> {
                let mut doc = Doc::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "log" => doc.log = Some(map.next_value()?),
                        "frames" => doc.frames = Some(map.next_value::<Frames>()?.0),
                        _ => {
                            let v = map.next_value()?;
                            doc.rest.insert(key, v);
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

struct Frames(Vec<Frame>);

impl<'de> Deserialize<'de> for Frames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Frames;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of frame records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Frames, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(r) = seq.next_element::<FrameRecord>()? {
                    let f = Frame::from_record(&r)
                        .map_err(|e| de::Error::custom(format!("frame {}: {e}", out.len() + 1)))?;
                    out.push(f);
                }
                Ok(Frames(out))
            }
        }
        d.deserialize_seq(V)
    }
}

// ---- HAR ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HarLog {
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

fn har_connections(log: HarLog, path: &Path) -> Result<Vec<RecordedConnection>> {
    let total = log.entries.len();
    let mut out = Vec::new();
    for e in log.entries {
        if is_websocket(&e) {
            out.push(har_connection(e, path)?);
        }
    }
    if out.is_empty() {
        return Err(parse_error(
            path,
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
    let started_at_us = e.started.as_deref().and_then(super::time::parse_iso);
    let mut notes = Vec::new();
    let mut messages = e.messages.take();
    if messages.is_none() {
        // Playwright with `content: "attach"`: the messages are in a .jsonl file.
        if let Some(file) = e
            .response
            .as_ref()
            .and_then(|r| r.content.as_ref())
            .and_then(|c| c.file.clone())
        {
            if file.ends_with(".jsonl") {
                messages = Some(read_attached(path, &file, &mut notes)?);
            }
        }
    }
    let messages = messages.unwrap_or_default();
    let started_at_us = started_at_us
        .or_else(|| messages.iter().find_map(|m| message_time_us(m.time)))
        .unwrap_or(0);

    let mut frames = Vec::with_capacity(messages.len());
    let (mut skipped_types, mut skipped_opcodes, mut not_base64) = (0usize, 0usize, 0usize);
    for m in &messages {
        let direction = match m.kind.as_str() {
            "send" => Direction::Out,
            "receive" => Direction::In,
            _ => {
                skipped_types += 1;
                continue;
            }
        };
        let opcode = match m.opcode.map(|o| o as i64) {
            Some(1) => Opcode::Text,
            Some(2) => Opcode::Binary,
            Some(8) => Opcode::Close,
            Some(9) => Opcode::Ping,
            Some(10) => Opcode::Pong,
            _ => {
                skipped_opcodes += 1;
                continue;
            }
        };
        let data = m.data.as_deref().unwrap_or("");
        let payload = if opcode == Opcode::Text || data.is_empty() {
            Bytes::from(data.as_bytes().to_vec())
        } else {
            match crate::payload::parse_base64(data) {
                Ok(b) => b,
                Err(_) => {
                    not_base64 += 1;
                    Bytes::from(data.as_bytes().to_vec())
                }
            }
        };
        let at_us = message_time_us(m.time).unwrap_or(started_at_us);
        frames.push(Frame {
            seq: frames.len() as u64 + 1,
            at_us,
            offset_us: (at_us - started_at_us).max(0) as u64,
            payload,
            rtt_us: 0,
            direction,
            opcode,
        });
    }
    if skipped_types > 0 {
        notes.push(format!(
            "{skipped_types} messages that were neither sent nor received (errors) were skipped"
        ));
    }
    if skipped_opcodes > 0 {
        notes.push(format!(
            "{skipped_opcodes} messages with an unknown opcode were skipped"
        ));
    }
    if not_base64 > 0 {
        notes.push(format!(
            "{not_base64} binary or control messages were not base64 and were kept as their text"
        ));
    }

    let handshake = e.response.as_ref().and_then(|r| {
        let status = r.status.filter(|s| *s > 0.0 && *s < 1000.0)? as u16;
        let response_headers = headers(&r.headers);
        let version = r
            .http_version
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or("HTTP/1.1")
            .to_owned();
        let target = {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            let rest = rest.split('#').next().unwrap_or("");
            match rest.find('/') {
                Some(i) => rest[i..].to_owned(),
                None => match rest.find('?') {
                    Some(i) => format!("/{}", &rest[i..]),
                    None => "/".to_owned(),
                },
            }
        };
        let t = e.timings.unwrap_or_default();
        let (dns_us, connect_us, tls_us) = (ms_to_us(t.dns), ms_to_us(t.connect), ms_to_us(t.ssl));
        let upgrade_us = ms_to_us(t.send) + ms_to_us(t.wait) + ms_to_us(t.receive);
        let tcp_us = connect_us.saturating_sub(tls_us);
        Some(Handshake {
            url: url.clone(),
            remote_addr: e.server_ip.clone().unwrap_or_default(),
            request_line: format!(
                "{} {target} {}",
                e.request.method.as_deref().unwrap_or("GET"),
                e.request
                    .http_version
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .unwrap_or("HTTP/1.1")
            ),
            request_headers: request_headers.clone(),
            status_line: format!("{version} {status} {}", r.status_text.as_deref().unwrap_or("")),
            status,
            subprotocol: header(&response_headers, "sec-websocket-protocol").map(str::to_owned),
            extensions: header(&response_headers, "sec-websocket-extensions").map(str::to_owned),
            response_headers,
            tls: None,
            timings: Timings {
                dns_us,
                tcp_us,
                tls_us,
                upgrade_us,
                total_us: ms_to_us(e.time).max(dns_us + connect_us + upgrade_us),
            },
        })
    });
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
        source: ExportFormat::Har,
        notes,
    })
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
            let mut err = json_error(&path, 0, &e);
            if let Error::Parse { line, .. } = &mut err {
                *line = i + 1;
            }
            err
        })?;
        out.push(m);
    }
    Ok(out)
}
