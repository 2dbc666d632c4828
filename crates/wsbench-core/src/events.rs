//! Notifications to a front end, coalesced into batches.
//!
//! The frame log is the source of truth; events only say "something changed" with
//! previews and counters. Frame notifications go through a bounded queue: when the
//! consumer is slow they are counted as dropped (never blocking the socket reader)
//! and the consumer resyncs from the log. State changes are rare and never dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::connection::ConnState;
use crate::frame::{Frame, FrameMeta, Opcode};
use crate::frame_log::{FrameLog, LogStats};
use crate::sync::lock;

pub type SessionId = u64;

/// Receives batches. Called from the batcher task: keep it quick and non-blocking
/// (hand the batch to a channel, a webview IPC channel, a counter...).
pub trait EventSink: Send + Sync + 'static {
    fn deliver(&self, batch: EventBatch);
}

/// A sink that discards everything (the CLI follows the log instead).
pub struct NullSink;

impl EventSink for NullSink {
    fn deliver(&self, _batch: EventBatch) {}
}

impl<F: Fn(EventBatch) + Send + Sync + 'static> EventSink for F {
    fn deliver(&self, batch: EventBatch) {
        self(batch)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// A batch is delivered at most this long after its first event...
    pub interval: Duration,
    /// ...or as soon as it holds this many frame notifications.
    pub max_frames: usize,
    /// Bounded queue between connections and the batcher.
    pub queue: usize,
    /// Bytes of payload per preview.
    pub preview_bytes: usize,
    /// Previews kept per session per batch (the newest); older ones are fetched on demand.
    pub previews_per_session: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(33),
            max_frames: 8192,
            queue: 65_536,
            preview_bytes: 4096,
            previews_per_session: 500,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PreviewEncoding {
    Text,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FramePreview {
    #[serde(flatten)]
    pub meta: FrameMeta,
    /// The first `preview_bytes` of the payload (of the reason, for a close frame):
    /// UTF-8 text, or base64 for binary and invalid text.
    pub preview: String,
    pub encoding: PreviewEncoding,
    pub truncated: bool,
    /// Socket.IO mode: the decoded packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socketio: Option<crate::socketio::Decoded>,
}

impl FramePreview {
    pub fn of(f: &Frame, max: usize) -> Self {
        let body: &[u8] = if f.opcode == crate::frame::Opcode::Close {
            f.payload.get(2..).unwrap_or(&[])
        } else {
            &f.payload
        };
        let truncated = body.len() > max;
        let cut = &body[..body.len().min(max)];
        let (preview, encoding) = match (f.opcode, std::str::from_utf8(cut)) {
            (Opcode::Binary, _) => (
                base64::engine::general_purpose::STANDARD.encode(cut),
                PreviewEncoding::Base64,
            ),
            (_, Ok(s)) => (s.to_owned(), PreviewEncoding::Text),
            // A cut in the middle of a UTF-8 sequence: keep the valid prefix as text.
            (_, Err(e)) if truncated && e.error_len().is_none() => (
                String::from_utf8_lossy(&cut[..e.valid_up_to()]).into_owned(),
                PreviewEncoding::Text,
            ),
            (_, Err(_)) => (
                base64::engine::general_purpose::STANDARD.encode(cut),
                PreviewEncoding::Base64,
            ),
        };
        FramePreview {
            meta: f.meta(),
            preview,
            encoding,
            truncated,
            socketio: None,
        }
    }
}

/// What changed in one session during a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUpdate {
    pub session: SessionId,
    /// Counters as of the end of the batch (exact: read from the log).
    pub stats: LogStats,
    /// Frame notifications for this session in the batch.
    pub new_frames: u64,
    /// Previews of the newest of those frames, oldest first.
    pub previews: Vec<FramePreview>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    pub session: SessionId,
    pub state: ConnState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventBatch {
    /// In the order they happened.
    pub states: Vec<StateChange>,
    pub sessions: Vec<SessionUpdate>,
    /// Frame notifications lost because the consumer was slow, since the last batch.
    /// The log still has the frames: resync from it when this is non-zero.
    pub dropped: u64,
    /// Things that happened outside any socket, in order (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
}

/// Something a front end should know that is not a frame or a state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Notice {
    /// A session that ended has been written to history as `entry`.
    #[serde(rename_all = "camelCase")]
    HistoryWritten { session: SessionId, entry: String },
}

/// What the unbounded queue carries: rare, never dropped.
enum Control {
    State(StateChange),
    Notice(Notice),
}

/// "`count` frames up to `last_seq` were logged": the queue carries no payloads, so
/// the socket reader never shares buffers with the batcher thread.
pub(crate) struct Logged {
    session: SessionId,
    last_seq: u64,
    count: u64,
}

pub(crate) struct EventBus {
    frames: mpsc::Sender<Logged>,
    states: mpsc::UnboundedSender<Control>,
    dropped: Arc<AtomicU64>,
    logs: Arc<Mutex<HashMap<SessionId, Arc<FrameLog>>>>,
    sink: Arc<Mutex<Arc<dyn EventSink>>>,
}

impl EventBus {
    /// Spawns the batcher on the current tokio runtime.
    pub fn new(sink: Arc<dyn EventSink>, cfg: BatchConfig) -> Self {
        let (ftx, frx) = mpsc::channel(cfg.queue.max(1));
        let (stx, srx) = mpsc::unbounded_channel();
        let bus = EventBus {
            frames: ftx,
            states: stx,
            dropped: Arc::new(AtomicU64::new(0)),
            logs: Arc::default(),
            sink: Arc::new(Mutex::new(sink)),
        };
        let batcher = Batcher {
            frames: frx,
            states: srx,
            dropped: bus.dropped.clone(),
            logs: bus.logs.clone(),
            sink: bus.sink.clone(),
            cfg,
        };
        tokio::spawn(batcher.run());
        bus
    }

    pub fn register(&self, id: SessionId, log: Arc<FrameLog>) {
        lock(&self.logs).insert(id, log);
    }

    pub fn unregister(&self, id: SessionId) {
        lock(&self.logs).remove(&id);
    }

    pub fn set_sink(&self, sink: Arc<dyn EventSink>) {
        *lock(&self.sink) = sink;
    }

    /// Notify `count` frames logged together, ending at `last_seq`. Never blocks:
    /// when the queue is full they are counted as dropped (the log still has them).
    pub fn frames(&self, session: SessionId, last_seq: u64, count: u64) {
        if self
            .frames
            .try_send(Logged {
                session,
                last_seq,
                count,
            })
            .is_err()
        {
            self.dropped.fetch_add(count, Ordering::Relaxed);
        }
    }

    pub fn state(&self, session: SessionId, state: ConnState) {
        let _ = self.states.send(Control::State(StateChange { session, state }));
    }

    pub fn notice(&self, notice: Notice) {
        let _ = self.states.send(Control::Notice(notice));
    }
}

struct Batcher {
    frames: mpsc::Receiver<Logged>,
    states: mpsc::UnboundedReceiver<Control>,
    dropped: Arc<AtomicU64>,
    logs: Arc<Mutex<HashMap<SessionId, Arc<FrameLog>>>>,
    sink: Arc<Mutex<Arc<dyn EventSink>>>,
    cfg: BatchConfig,
}

#[derive(Default)]
struct Pending {
    states: Vec<StateChange>,
    notices: Vec<Notice>,
    /// Per session: frames notified in this batch and the last sequence number.
    frames: BTreeMap<SessionId, (u64, u64)>,
    count: usize,
}

impl Pending {
    fn control(&mut self, c: Control) {
        match c {
            Control::State(s) => self.states.push(s),
            Control::Notice(n) => self.notices.push(n),
        }
    }
}

impl Batcher {
    async fn run(mut self) {
        loop {
            let mut p = Pending::default();
            // Wait for the first event of a batch.
            tokio::select! {
                biased;
                s = self.states.recv() => match s { Some(s) => p.control(s), None => return },
                f = self.frames.recv() => match f { Some(f) => self.add(&mut p, f), None => return },
            }
            let deadline = Instant::now() + self.cfg.interval;
            while p.count < self.cfg.max_frames {
                tokio::select! {
                    biased;
                    s = self.states.recv() => match s { Some(s) => p.control(s), None => break },
                    f = self.frames.recv() => match f { Some(f) => self.add(&mut p, f), None => break },
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            self.deliver(p);
        }
    }

    fn add(&self, p: &mut Pending, l: Logged) {
        let e = p.frames.entry(l.session).or_default();
        e.0 += l.count;
        e.1 = e.1.max(l.last_seq);
        p.count += l.count as usize;
    }

    fn deliver(&mut self, mut p: Pending) {
        // State changes never wait behind a backlog of frame notifications.
        while let Ok(s) = self.states.try_recv() {
            p.control(s);
        }
        let logs = lock(&self.logs).clone();
        let sessions = p
            .frames
            .into_iter()
            .map(|(session, (n, last_seq))| {
                let log = logs.get(&session);
                // Previews of the newest frames of this batch, read from the log (some
                // may already be evicted or cleared: the log is the truth).
                let keep = (n as usize).min(self.cfg.previews_per_session);
                let frames = log.map(|l| l.page_before(last_seq, keep)).unwrap_or_default();
                let first_new = (last_seq + 1).saturating_sub(n);
                SessionUpdate {
                    session,
                    stats: log.map(|l| l.stats()).unwrap_or_default(),
                    new_frames: n,
                    previews: frames
                        .iter()
                        .filter(|f| f.seq >= first_new && f.seq <= last_seq)
                        .map(|f| {
                            let mut p = FramePreview::of(f, self.cfg.preview_bytes);
                            p.socketio = log.and_then(|l| l.decoded(f.seq)).map(|d| (*d).clone());
                            p
                        })
                        .collect(),
                }
            })
            .collect();
        let batch = EventBatch {
            states: p.states,
            sessions,
            dropped: self.dropped.swap(0, Ordering::Relaxed),
            notices: p.notices,
        };
        let sink = lock(&self.sink).clone();
        sink.deliver(batch);
    }
}
