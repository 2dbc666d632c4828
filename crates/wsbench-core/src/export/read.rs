//! Reading logs back: wsbench's own NDJSON and JSON exports (and the CLI's
//! `--ndjson` output), beside their writers (`ndjson.rs`, `json.rs`), and HAR files
//! (read in `har/read.rs`). The format is told by content, not by the file name.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::har::{har_connections, HarLog};
use super::{ExportFormat, RecordedConnection, SessionMeta, LOG_FORMAT, LOG_FORMAT_VERSION};
use crate::connection::Header;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameRecord};
use crate::handshake::Handshake;
use crate::parse::{json_error_after, parse_error};
use crate::socketio::Decoded;

/// A frame record as read back: the raw fields with the decoded Socket.IO view
/// (`socketio`) when the export had one.
#[derive(Deserialize)]
struct RecordIn {
    #[serde(flatten)]
    record: FrameRecord,
    #[serde(default)]
    socketio: Option<Decoded>,
}

/// Frames read so far, with their decoded views by index.
#[derive(Default)]
struct ReadFrames {
    frames: Vec<Frame>,
    decoded: Vec<(usize, Decoded)>,
}

impl ReadFrames {
    fn push(&mut self, f: Frame, d: Option<Decoded>) {
        if let Some(d) = d {
            self.decoded.push((self.frames.len(), d));
        }
        self.frames.push(f);
    }
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
        None => return Err(parse_error(path.display(), 0, 0, "the file is empty")),
        Some(b'{') => {}
        Some(_) => {
            return Err(parse_error(
                path.display(),
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
                .map_err(|e| json_error_after(path.display(), skipped_lines, &e))?;
            return from_document(doc, path, skipped_lines);
        }
        Err(e) => return Err(json_error_after(path.display(), skipped_lines, &e)),
    };
    let line_no = skipped_lines + 1;
    match classify(doc, path, line_no)? {
        Sniffed::Document(doc) => {
            // A whole document on one line; nothing but space may follow.
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).map_err(io)?;
            if let Some(i) = rest.iter().position(|c| !c.is_ascii_whitespace()) {
                let line = line_no + 1 + rest[..i].iter().filter(|c| **c == b'\n').count();
                return Err(parse_error(
                    path.display(),
                    line,
                    1,
                    "unexpected content after the JSON document",
                ));
            }
            from_document(*doc, path, skipped_lines)
        }
        Sniffed::Meta(meta) => read_ndjson(r, path, Some(*meta), ReadFrames::default(), line_no),
        Sniffed::Frame(f, d) => {
            let mut read = ReadFrames::default();
            read.push(f, d.map(|d| *d));
            read_ndjson(r, path, None, read, line_no)
        }
        Sniffed::Handshake(h) => {
            let mut found = read_ndjson(r, path, None, ReadFrames::default(), line_no)?;
            if let Some(c) = found.first_mut().filter(|c| c.meta.is_none()) {
                c.url.clone_from(&h.url);
                c.subprotocol.clone_from(&h.subprotocol);
                c.notes = vec!["no metadata line: the URL and handshake are the CLI's".into()];
                c.handshake = Some(*h);
            }
            Ok(found)
        }
    }
}

enum Sniffed {
    /// A HAR or JSON export (handled by `from_document`).
    Document(Box<Doc>),
    Meta(Box<SessionMeta>),
    Frame(Frame, Option<Box<Decoded>>),
    /// `wsbench-cli connect --ndjson` prints the handshake first: `{"handshake": {...}}`.
    Handshake(Box<Handshake>),
}

fn meta_from(map: serde_json::Map<String, serde_json::Value>, path: &Path, line: usize) -> Result<SessionMeta> {
    let version = map.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > LOG_FORMAT_VERSION as u64 {
        return Err(parse_error(
            path.display(),
            line,
            1,
            format!("written by a newer wsbench (log format version {version}); update wsbench to open it"),
        ));
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
        parse_error(
            path.display(),
            line,
            1,
            format!("the export's metadata is not as expected: {e}"),
        )
    })
}

/// The CLI's `{"handshake": {...}}` line.
fn handshake_line(map: &serde_json::Map<String, serde_json::Value>) -> Option<Handshake> {
    match (map.len(), map.get("handshake")) {
        (1, Some(h)) => serde_json::from_value(h.clone()).ok(),
        _ => None,
    }
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
    if let Some(h) = handshake_line(&doc.rest) {
        return Ok(Sniffed::Handshake(Box::new(h)));
    }
    if doc.rest.contains_key("seq") && doc.rest.contains_key("opcode") {
        let r: RecordIn = serde_json::from_value(serde_json::Value::Object(doc.rest))
            .map_err(|e| parse_error(path.display(), line, 1, format!("not a frame record: {e}")))?;
        let f = Frame::from_record(&r.record).map_err(|e| parse_error(path.display(), line, 1, e.to_string()))?;
        return Ok(Sniffed::Frame(f, r.socketio.map(Box::new)));
    }
    Err(parse_error(
        path.display(),
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
            path.display(),
            skipped_lines + 1,
            1,
            "this JSON has \"frames\" but no \"format\":\"wsbench-log\" metadata; it is not a wsbench export",
        ));
    }
    let meta = meta_from(doc.rest, path, skipped_lines + 1)?;
    Ok(vec![from_export(
        meta,
        doc.frames.map(|f| f.0).unwrap_or_default(),
        path,
        ExportFormat::Json,
    )])
}

pub(super) fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("Imported log")
        .to_owned()
}

fn from_export(meta: SessionMeta, read: ReadFrames, path: &Path, source: ExportFormat) -> RecordedConnection {
    let ReadFrames { frames, decoded } = read;
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
        decoded,
        source,
        notes: Vec::new(),
    }
}

fn read_ndjson(
    mut r: impl BufRead,
    path: &Path,
    mut meta: Option<SessionMeta>,
    mut frames: ReadFrames,
    mut line_no: usize,
) -> Result<Vec<RecordedConnection>> {
    let mut out = Vec::new();
    let finish = |meta: Option<SessionMeta>, read: ReadFrames| match meta {
        Some(m) => from_export(m, read, path, ExportFormat::Ndjson),
        None => RecordedConnection {
            name: stem(path),
            url: String::new(),
            request_headers: Vec::new(),
            subprotocol: None,
            started_at_us: read.frames.first().map_or(0, |f| f.at_us - f.offset_us as i64),
            handshake: None,
            meta: None,
            frames: read.frames,
            decoded: read.decoded,
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
        match serde_json::from_slice::<RecordIn>(&line) {
            Ok(r) => {
                let f = Frame::from_record(&r.record)
                    .map_err(|e| parse_error(path.display(), line_no, 1, e.to_string()))?;
                frames.push(f, r.socketio);
            }
            Err(e) => {
                // Another export's metadata line: concatenated exports.
                if let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&line) {
                    if handshake_line(&map).is_some() {
                        continue; // the CLI's handshake line (a reconnect's)
                    }
                    if is_meta(&map) {
                        let next = meta_from(map, path, line_no)?;
                        out.push(finish(meta.take(), std::mem::take(&mut frames)));
                        meta = Some(next);
                        continue;
                    }
                }
                let mut err = json_error_after(path.display(), 0, &e);
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
    frames: Option<Frames>,
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
                        "frames" => doc.frames = Some(map.next_value::<Frames>()?),
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

struct Frames(ReadFrames);

impl<'de> Deserialize<'de> for Frames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Frames;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of frame records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Frames, A::Error> {
                let mut out = ReadFrames {
                    frames: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16)),
                    decoded: Vec::new(),
                };
                while let Some(r) = seq.next_element::<RecordIn>()? {
                    let f = Frame::from_record(&r.record)
                        .map_err(|e| de::Error::custom(format!("frame {}: {e}", out.frames.len() + 1)))?;
                    out.push(f, r.socketio);
                }
                Ok(Frames(out))
            }
        }
        d.deserialize_seq(V)
    }
}
