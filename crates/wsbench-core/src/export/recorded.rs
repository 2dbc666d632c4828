//! A connection read back from a log file ([`RecordedConnection`]), and what it
//! becomes: a saved connection, a read-only log, or the source of another export.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine as _;
use serde::de;
use serde::{Deserialize, Serialize};

use super::{ExportFormat, LogSource, SessionMeta, SENSITIVE_HEADERS};
use crate::collections::{MessageFormat, SavedConnection, SavedMessage};
use crate::config::{ConnectConfig, KeyValue, LogLimits};
use crate::connection::{Handshake, Header};
use crate::frame::{Direction, Frame, Opcode};
use crate::frame_log::FrameLog;
use crate::socketio::Decoded;

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
    /// Socket.IO mode: the decoded view of frames, by their index in `frames` (the
    /// `socketio` field of NDJSON/JSON records, `_socketio` of HAR messages).
    pub decoded: Vec<(usize, Decoded)>,
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
        if !self.decoded.is_empty() {
            // A HAR written by wsbench in Socket.IO mode: reopen it as one.
            c.socketio = Some(crate::config::SocketIoConfig::default());
        }
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

    /// [`Self::to_saved_connection`] without credential headers
    /// ([`SENSITIVE_HEADERS`]): what goes into a file that may be committed.
    pub fn to_saved_connection_without_credentials(&self) -> SavedConnection {
        let mut saved = self.to_saved_connection();
        saved
            .config
            .headers
            .retain(|h| !SENSITIVE_HEADERS.iter().any(|s| h.name.eq_ignore_ascii_case(s)));
        saved
    }

    /// The frames as a read-only log (their sequence numbers kept), under `limits`,
    /// with their decoded Socket.IO views.
    pub fn into_frame_log(self, limits: LogLimits) -> FrameLog {
        frame_log(limits, self.frames, self.decoded)
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
            log: Arc::new(frame_log(
                LogLimits {
                    max_frames: usize::MAX,
                    max_bytes: usize::MAX,
                },
                self.frames,
                self.decoded,
            )),
        }
    }
}

/// A log of `frames` with `decoded` (by index) attached to the frames' sequence
/// numbers. Numbers that do not strictly increase from 1 are renumbered 1..=n first,
/// as [`FrameLog::from_frames`] would, so the views land on the right frames.
fn frame_log(limits: LogLimits, mut frames: Vec<Frame>, decoded: Vec<(usize, Decoded)>) -> FrameLog {
    let ordered = frames.first().is_none_or(|f| f.seq > 0) && frames.windows(2).all(|w| w[0].seq < w[1].seq);
    if !ordered {
        for (i, f) in frames.iter_mut().enumerate() {
            f.seq = i as u64 + 1;
        }
    }
    let seqs: Vec<Option<u64>> = decoded.iter().map(|(i, _)| frames.get(*i).map(|f| f.seq)).collect();
    let log = FrameLog::from_frames(limits, frames);
    for (seq, (_, note)) in seqs.into_iter().zip(decoded) {
        if let Some(seq) = seq {
            log.set_decoded(seq, note);
        }
    }
    log
}

fn looks_like_json(t: &str) -> bool {
    let s = t.trim_start();
    (s.starts_with('{') || s.starts_with('[')) && serde_json::from_str::<de::IgnoredAny>(t).is_ok()
}
