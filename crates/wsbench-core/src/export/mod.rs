//! Export a tab's log to a file, and read exported or recorded logs back.
//!
//! Formats, one file each: [`ExportFormat::Ndjson`] (`ndjson.rs`, lossless, one frame
//! per line after a metadata line), [`ExportFormat::Json`] (`json.rs`, one document),
//! [`ExportFormat::Har`] (`har.rs`, HAR 1.2 with Chrome's `_webSocketMessages`),
//! [`ExportFormat::Csv`] (`csv.rs`) and [`ExportFormat::Text`] (`text.rs`, a
//! transcript). Every writer streams: the log is read in pages of 4096 frames and
//! written through a buffer, so memory does not grow with the log. [`export_to_path`]
//! writes atomically (the file appears only when complete) and reports progress to a
//! callback that can cancel. Readers sit beside their writers: `read.rs` reads NDJSON
//! and JSON back, `har/read.rs` HAR (also Playwright's and mitmproxy's), as
//! [`RecordedConnection`]s (`recorded.rs`).

mod csv;
mod har;
mod json;
mod ndjson;
mod read;
mod recorded;
mod redact;
mod text;
pub use crate::time;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::ConnectConfig;
use crate::connection::Handshake;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::frame_log::{FrameFilter, FrameLog, LogStats, SearchQuery};
use crate::session::Session;
use crate::socketio::Decoded;

pub use read::{read_log, read_log_file};
pub use recorded::{RecordedConnection, RecordedSummary, MAX_SAVED_MESSAGES};
pub use redact::{Redaction, REDACTED, SENSITIVE_HEADERS};

/// The `format` marker of wsbench's own exports (NDJSON line 1, the JSON document).
pub const LOG_FORMAT: &str = "wsbench-log";
/// Version of the NDJSON/JSON export format.
pub const LOG_FORMAT_VERSION: u32 = 1;
/// Frames read from the log per page while exporting.
pub const EXPORT_PAGE: usize = 4096;

/// A file format for a log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    /// `.ndjson` (or `.jsonl`): metadata line, then one frame record per line.
    #[default]
    Ndjson,
    /// `.json`: one document, the metadata with a `frames` array.
    Json,
    /// `.har`: HAR 1.2, the upgrade as one entry with `_webSocketMessages`.
    Har,
    /// `.csv`: one row per frame (RFC 4180).
    Csv,
    /// `.txt`: a readable transcript.
    Text,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Ndjson,
        ExportFormat::Json,
        ExportFormat::Har,
        ExportFormat::Csv,
        ExportFormat::Text,
    ];

    /// The format for a file extension (without the dot), case-insensitive.
    pub fn from_extension(ext: &str) -> Option<Self> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "ndjson" | "jsonl" => ExportFormat::Ndjson,
            "json" => ExportFormat::Json,
            "har" => ExportFormat::Har,
            "csv" => ExportFormat::Csv,
            "txt" => ExportFormat::Text,
            _ => return None,
        })
    }

    /// The format a front end names (`"ndjson"`, `"har"`, …: an extension).
    pub fn from_name(name: &str) -> Result<Self> {
        Self::from_extension(name).ok_or_else(|| Error::UnknownFormat(format!("unknown export format {name:?}")))
    }

    /// The format a path's extension names; the error lists the supported ones.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        Self::from_extension(ext).ok_or_else(|| {
            Error::UnknownFormat(format!(
                "cannot tell the log format of {:?} from {}; use .ndjson, .json, .har, .csv or .txt",
                path.display().to_string(),
                if ext.is_empty() {
                    "a name without an extension".to_owned()
                } else {
                    format!("the extension \".{ext}\"")
                }
            ))
        })
    }

    /// The usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Json => "json",
            ExportFormat::Har => "har",
            ExportFormat::Csv => "csv",
            ExportFormat::Text => "txt",
        }
    }

    /// A name for a save dialog's filter.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "NDJSON (lossless)",
            ExportFormat::Json => "JSON",
            ExportFormat::Har => "HAR 1.2 (Chrome DevTools)",
            ExportFormat::Csv => "CSV",
            ExportFormat::Text => "Text transcript",
        }
    }

    /// Whether [`read_log_file`] can open this format (NDJSON, JSON and HAR).
    pub fn can_import(self) -> bool {
        matches!(self, ExportFormat::Ndjson | ExportFormat::Json | ExportFormat::Har)
    }
}

/// A default file name: the tab name slugified (letters and digits kept, lower
/// case, everything else a single `-`, at most 60 characters), then the time as
/// `YYYY-MM-DDTHH-MM-SS`, then the extension: `local-echo-2026-11-22T10-31-05.ndjson`.
/// `at_us` is rendered as UTC; pass a time shifted by the local UTC offset to get
/// local time in the name.
pub fn default_file_name(session_name: &str, format: ExportFormat, at_us: i64) -> String {
    let slug = crate::file_name::slug(session_name, "wsbench", 60);
    format!("{slug}-{}.{}", time::file_stamp(at_us), format.extension())
}

/// [`default_file_name`] for now, in `dir`; an unknown `format` name is NDJSON.
pub fn default_path(dir: &Path, session_name: &str, format: &str) -> PathBuf {
    let format = ExportFormat::from_extension(format).unwrap_or(ExportFormat::Ndjson);
    let now = jiff::Timestamp::now().as_microsecond();
    dir.join(default_file_name(session_name, format, now))
}

/// The file an export goes to, refused when none was chosen.
pub fn check_target(path: &Path) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidName("choose a file to export to".into()));
    }
    Ok(path.to_path_buf())
}

/// Which frames to export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FrameSelection {
    /// Every frame the log holds when the export starts.
    #[default]
    All,
    /// The frames matching a search (its `limit` is ignored: every match is
    /// exported; `fromSeq` applies).
    Filter { query: SearchQuery },
    /// These sequence numbers (in log order, duplicates ignored).
    Selection { seqs: Vec<u64> },
}

/// How an export was chosen, as recorded in the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SelectionKind {
    All,
    Filter,
    Selection,
}

/// Which frames a file holds and how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectionInfo {
    pub kind: SelectionKind,
    /// Frames planned when the export started (see [`ExportSummary::missing`]).
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<SearchQuery>,
}

/// The first line of an NDJSON export and the top of a JSON export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMeta {
    /// Always [`LOG_FORMAT`]: what tells this line from a frame record.
    pub format: String,
    /// [`LOG_FORMAT_VERSION`].
    pub version: u32,
    /// The tab's name.
    pub name: String,
    /// The URL as dialed (from the handshake), else as configured.
    pub url: String,
    /// When the export was written, ISO 8601 UTC, and in µs since the epoch.
    pub exported_at: String,
    pub exported_at_us: i64,
    /// When the connection attempt of the first exported frame began (µs).
    #[serde(default)]
    pub started_at_us: Option<i64>,
    /// True when secrets were replaced with `[redacted]`.
    pub redacted: bool,
    pub selection: SelectionInfo,
    /// The log's counters when the export started.
    pub stats: LogStats,
    pub config: ConnectConfig,
    /// The handshake of the last connection that opened.
    #[serde(default)]
    pub handshake: Option<Handshake>,
}

/// What an export reads from: a tab's identity and its log.
#[derive(Clone)]
pub struct LogSource {
    pub name: String,
    pub config: ConnectConfig,
    pub handshake: Option<Handshake>,
    /// Counters for the metadata; `None` takes the log's own when the export starts.
    pub stats: Option<LogStats>,
    pub log: Arc<FrameLog>,
}

impl LogSource {
    /// A tab as it is now (its log keeps growing while connected; an export takes
    /// the frames held when it starts).
    pub fn from_session(s: &Session) -> Self {
        Self {
            name: s.name(),
            config: s.config(),
            handshake: s.last_handshake().map(|h| *h),
            stats: None,
            log: s.log().clone(),
        }
    }
}

/// What to export and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportOptions {
    pub format: ExportFormat,
    pub frames: FrameSelection,
    pub redaction: Redaction,
    /// The export time written in the metadata; `None` means now.
    pub exported_at_us: Option<i64>,
}

impl ExportOptions {
    pub fn new(format: ExportFormat) -> Self {
        Self {
            format,
            ..Self::default()
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub format: ExportFormat,
    /// Frames written.
    pub frames: u64,
    /// Frames planned but gone before they were read (evicted by the log's caps
    /// from a live tab during the export, or selected sequence numbers not held).
    pub missing: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A format's writer: it appends to a buffer the driver flushes.
trait LogWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()>;
    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()>;
    /// A frame with its decoded Socket.IO packet: the lossless formats keep it.
    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        let _ = decoded;
        self.frame(out, f)
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()>;
}

/// A frame record with its decoded Socket.IO packet beside the raw fields.
#[derive(Serialize)]
struct DecodedRecord<'a> {
    #[serde(flatten)]
    record: crate::frame::FrameRecord,
    socketio: &'a Decoded,
}

/// A frame as a JSON record, with `socketio` when it has a decoded packet.
fn record_json(out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
    match decoded {
        Some(socketio) => serde_json::to_writer(
            &mut *out,
            &DecodedRecord {
                record: f.to_record(),
                socketio,
            },
        ),
        None => serde_json::to_writer(&mut *out, &f.to_record()),
    }
    .map_err(json_err)
}

fn writer_for(format: ExportFormat) -> Box<dyn LogWriter> {
    match format {
        ExportFormat::Ndjson => Box::new(ndjson::NdjsonWriter),
        ExportFormat::Json => Box::new(json::JsonWriter::default()),
        ExportFormat::Har => Box::new(har::HarWriter::default()),
        ExportFormat::Csv => Box::new(csv::CsvWriter::default()),
        ExportFormat::Text => Box::new(text::TextWriter),
    }
}

/// Serialization into a `Vec` fails only for types that cannot be JSON; none here.
fn json_err(e: serde_json::Error) -> Error {
    Error::Io(format!("cannot encode the export: {e}"))
}

/// Export to `path` atomically: the file appears only once complete; on an error
/// or a cancel nothing is left behind and an existing file at `path` is untouched.
/// `progress(done, total)` is called as frames are written; returning `false`
/// cancels (the result is then [`Error::Cancelled`]). Blocking: run it off the UI
/// thread (e.g. `spawn_blocking`).
pub fn export_to_path(
    source: &LogSource,
    path: &Path,
    options: &ExportOptions,
    progress: impl FnMut(u64, u64) -> bool,
) -> Result<ExportSummary> {
    crate::fs::write_atomic(path, |w| {
        export_inner(source, w, options, progress, &|e| Error::io(path, e))
    })
}

/// Export to any writer (a pipe, stdout, memory). See [`export_to_path`].
pub fn export_to_writer<W: Write>(
    source: &LogSource,
    w: &mut W,
    options: &ExportOptions,
    progress: impl FnMut(u64, u64) -> bool,
) -> Result<ExportSummary> {
    export_inner(source, w, options, progress, &|e| Error::Io(e.to_string()))
}

/// Which sequence numbers the export walks, planned when it starts.
enum Plan {
    /// Every held frame with `seq <= last`.
    All {
        last: u64,
    },
    Filter {
        filter: FrameFilter,
        from: u64,
        last: u64,
    },
    /// Sorted, deduplicated.
    Selection {
        seqs: Vec<u64>,
    },
}

/// A plan with what the metadata says about it.
struct Planned {
    plan: Plan,
    /// Frames the export will write (for the metadata and the progress bar).
    total: u64,
    kind: SelectionKind,
    /// The filter as written to the metadata (no limit).
    filter: Option<SearchQuery>,
}

/// Plan which frames the export walks, up to the last one in `stats` (taken when
/// the export starts): all, those a filter matches (counted first) or a selection.
fn plan(log: &FrameLog, frames: &FrameSelection, stats: &LogStats) -> Result<Planned> {
    let last = stats.last_seq;
    Ok(match frames {
        FrameSelection::All => Planned {
            plan: Plan::All { last },
            total: stats.held_frames,
            kind: SelectionKind::All,
            filter: None,
        },
        FrameSelection::Filter { query } => {
            let filter = FrameFilter::new(query)?;
            let total = count_matching(log, &filter, query.from_seq, last);
            let mut q = query.clone();
            q.limit = 0;
            Planned {
                plan: Plan::Filter {
                    filter,
                    from: query.from_seq,
                    last,
                },
                total,
                kind: SelectionKind::Filter,
                filter: Some(q),
            }
        }
        FrameSelection::Selection { seqs } => {
            let mut seqs = seqs.clone();
            seqs.sort_unstable();
            seqs.dedup();
            Planned {
                total: seqs.len() as u64,
                plan: Plan::Selection { seqs },
                kind: SelectionKind::Selection,
                filter: None,
            }
        }
    })
}

/// How many held frames from `from` up to `last` the filter matches.
fn count_matching(log: &FrameLog, filter: &FrameFilter, from: u64, last: u64) -> u64 {
    let mut total = 0u64;
    let mut next = from;
    loop {
        let page = log.page(next, EXPORT_PAGE * 8);
        let Some(l) = page.last() else { break };
        next = l.seq + 1;
        total += page
            .iter()
            .filter(|f| f.seq <= last && filter.matches_in(log, f))
            .count() as u64;
        if l.seq >= last || page.len() < EXPORT_PAGE * 8 {
            break;
        }
    }
    total
}

fn export_inner<W: Write>(
    source: &LogSource,
    w: &mut W,
    options: &ExportOptions,
    mut progress: impl FnMut(u64, u64) -> bool,
    io_err: &dyn Fn(&std::io::Error) -> Error,
) -> Result<ExportSummary> {
    let log = &source.log;
    let stats = log.stats();
    let Planned {
        plan,
        total,
        kind,
        filter: filter_query,
    } = plan(log, &options.frames, &stats)?;
    let redactor = redact::Redactor::new(&options.redaction, &source.config)?;
    let exported_at_us = options.exported_at_us.unwrap_or_else(crate::frame::now_us);
    let mut pages = Pages::new(log, plan);
    let first_page = pages.next_page();
    let meta = SessionMeta {
        format: LOG_FORMAT.to_owned(),
        version: LOG_FORMAT_VERSION,
        name: source.name.clone(),
        url: redactor.url(source.handshake.as_ref().map_or(&source.config.url, |h| &h.url)),
        exported_at: time::iso_us(exported_at_us),
        exported_at_us,
        started_at_us: first_page.first().map(|f| f.at_us - f.offset_us as i64),
        redacted: !options.redaction.include_secrets,
        selection: SelectionInfo {
            kind,
            count: total,
            filter: filter_query,
        },
        stats: source.stats.unwrap_or(stats),
        config: redactor.config(&source.config),
        handshake: source.handshake.as_ref().map(|h| redactor.handshake(h)),
    };

    let cancelled = || Error::Cancelled("the export".into());
    if !progress(0, total) {
        return Err(cancelled());
    }
    let mut writer = writer_for(options.format);
    let mut buf = Vec::with_capacity(128 << 10);
    let mut bytes = 0u64;
    let mut flush = |buf: &mut Vec<u8>, w: &mut W| -> Result<()> {
        w.write_all(buf).map_err(|e| io_err(&e))?;
        bytes += buf.len() as u64;
        buf.clear();
        Ok(())
    };
    writer.begin(&mut buf, &meta)?;
    let mut done = 0u64;
    let mut page = first_page;
    while !page.is_empty() {
        for f in &page {
            let decoded = source.log.decoded(f.seq).map(|d| redactor.decoded(&d));
            writer.frame_decoded(&mut buf, &redactor.frame(f), decoded.as_ref())?;
            if buf.len() >= 64 << 10 {
                flush(&mut buf, w)?;
            }
        }
        done += page.len() as u64;
        if !progress(done.min(total), total) {
            return Err(cancelled());
        }
        page = pages.next_page();
    }
    writer.end(&mut buf)?;
    flush(&mut buf, w)?;
    w.flush().map_err(|e| io_err(&e))?;
    Ok(ExportSummary {
        format: options.format,
        frames: done,
        missing: total.saturating_sub(done),
        bytes,
    })
}

/// Walks a plan page by page; only one page of frames is held at a time.
struct Pages<'a> {
    log: &'a FrameLog,
    plan: Plan,
    next: u64,
    /// Index into a selection's seqs.
    at: usize,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(log: &'a FrameLog, plan: Plan) -> Self {
        let next = match &plan {
            Plan::Filter { from, .. } => *from,
            _ => 0,
        };
        Self {
            log,
            plan,
            next,
            at: 0,
            done: false,
        }
    }

    /// The next non-empty batch of frames to write, or an empty one at the end.
    fn next_page(&mut self) -> Vec<Frame> {
        while !self.done {
            let page = match &self.plan {
                Plan::All { last } | Plan::Filter { last, .. } => {
                    let mut page = self.log.page(self.next, EXPORT_PAGE);
                    match page.last() {
                        Some(l) if l.seq < *last && page.len() == EXPORT_PAGE => self.next = l.seq + 1,
                        _ => self.done = true,
                    }
                    let last = *last;
                    page.retain(|f| f.seq <= last);
                    if let Plan::Filter { filter, .. } = &self.plan {
                        let log = &self.log;
                        page.retain(|f| filter.matches_in(log, f));
                    }
                    page
                }
                Plan::Selection { seqs } => {
                    let Some(&from) = seqs.get(self.at) else {
                        self.done = true;
                        break;
                    };
                    let page = self.log.page(from, EXPORT_PAGE);
                    let Some(page_last) = page.last().map(|f| f.seq) else {
                        self.done = true;
                        break;
                    };
                    let mut out = Vec::new();
                    let mut frames = page.into_iter().peekable();
                    while let Some(&want) = seqs.get(self.at) {
                        if want > page_last {
                            break;
                        }
                        self.at += 1;
                        while frames.next_if(|f| f.seq < want).is_some() {}
                        if let Some(f) = frames.next_if(|f| f.seq == want) {
                            out.push(f);
                        }
                    }
                    if self.at >= seqs.len() {
                        self.done = true;
                    }
                    out
                }
            };
            if !page.is_empty() {
                return page;
            }
        }
        Vec::new()
    }
}
