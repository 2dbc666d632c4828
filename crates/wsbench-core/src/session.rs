//! A session is a tab: its config, its state, its frame log and (while connected)
//! the handle to its connection actor. [`SessionManager`] owns all of them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::collections::vars::Vars;
use crate::collections::SavedMessage;
use crate::config::ConnectConfig;
use crate::connection::{self, ConnState, ConnectionHandle, Finished, Outgoing, Recorder};
use crate::error::{Error, Result};
use crate::events::{BatchConfig, EventBus, EventSink, Notice, SessionId};
use crate::frame::Frame;
use crate::frame_log::{FrameLog, LogStats};
use crate::handshake::Handshake;
use crate::socketio::{Decoded, OpenInfo};
use crate::sync::lock;

pub struct Session {
    pub id: SessionId,
    name: Mutex<String>,
    config: Mutex<ConnectConfig>,
    log: Arc<FrameLog>,
    state: watch::Sender<ConnState>,
    /// The handshake of the last connection that opened (kept after it closes).
    handshake: Mutex<Option<Box<Handshake>>>,
    handle: Mutex<Option<ConnectionHandle>>,
    bus: Arc<EventBus>,
    /// Set while a connection is open: the first sequence number it logged.
    open_from_seq: Mutex<Option<u64>>,
    on_end: Arc<Mutex<Option<SessionEndHook>>>,
    /// A recording opened from a file or from history: it never connects.
    read_only: bool,
}

/// Called once per connection that opened, when it ends (closed, lost or failed),
/// with the first sequence number it logged and the final state: e.g. to write it
/// to history. Called before that state is published, so whoever waits for the
/// state also sees the hook's work as started. Runs on the connection's task:
/// return quickly (spawn anything slow).
pub type SessionEndHook = Arc<dyn Fn(Arc<Session>, u64, &ConnState) + Send + Sync>;

/// Everything a front end needs to draw a tab from scratch (after a reload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    pub id: SessionId,
    pub name: String,
    pub config: ConnectConfig,
    pub state: ConnState,
    /// The last handshake that opened, also after the connection closed.
    pub handshake: Option<Box<Handshake>>,
    pub stats: LogStats,
    /// A recorded session (history or an imported log) that cannot connect.
    #[serde(default)]
    pub read_only: bool,
    /// Socket.IO mode: the last Engine.IO open packet (sid, ping interval and timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socketio: Option<OpenInfo>,
}

impl Session {
    pub fn name(&self) -> String {
        lock(&self.name).clone()
    }

    pub fn config(&self) -> ConnectConfig {
        lock(&self.config).clone()
    }

    pub fn state(&self) -> ConnState {
        self.state.borrow().clone()
    }

    /// The handshake of the last connection that opened: `Some` once the tab has
    /// been open, even if it closed before a watcher saw the `Open` state.
    pub fn last_handshake(&self) -> Option<Box<Handshake>> {
        lock(&self.handshake).clone()
    }

    /// Watch state changes (every change, in order, is also in the event batches).
    pub fn watch_state(&self) -> watch::Receiver<ConnState> {
        self.state.subscribe()
    }

    pub fn log(&self) -> &Arc<FrameLog> {
        &self.log
    }

    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            id: self.id,
            name: self.name(),
            config: self.config(),
            state: self.state(),
            handshake: self.last_handshake(),
            stats: self.log.stats(),
            read_only: self.read_only,
            socketio: self.log.engine_open(),
        }
    }

    /// Socket.IO mode: the decoded view of frame `seq`.
    pub fn decoded(&self, seq: u64) -> Option<Arc<Decoded>> {
        self.log.decoded(seq)
    }

    /// Socket.IO mode: the decoded views of frames `from..=to`.
    pub fn decoded_range(&self, from: u64, to: u64) -> Vec<(u64, Arc<Decoded>)> {
        self.log.decoded_range(from, to)
    }

    /// Socket.IO mode: the frames carrying one of `events` (any event if empty).
    pub fn event_seqs(&self, events: &[String]) -> Vec<u64> {
        let q = crate::frame_log::SearchQuery {
            events: events.to_vec(),
            limit: usize::MAX,
            ..Default::default()
        };
        self.log.search(&q).map(|r| r.seqs).unwrap_or_default()
    }

    pub(crate) fn set_state(self: &Arc<Self>, state: ConnState) {
        tracing::debug!(session = self.id, state = state.name(), "state");
        if let ConnState::Open { handshake } = &state {
            *lock(&self.handshake) = Some(handshake.clone());
            *lock(&self.open_from_seq) = Some(self.log.stats().last_seq + 1);
        }
        let ended = matches!(state, ConnState::Closed { .. } | ConnState::Failed { .. });
        if ended {
            let from = lock(&self.open_from_seq).take();
            let hook = lock(&self.on_end).clone();
            if let (Some(from), Some(hook)) = (from, hook) {
                hook(self.clone(), from, &state);
            }
        }
        self.state.send_replace(state.clone());
        self.bus.state(self.id, state);
    }

    /// True for a recording (history, an imported log): it has a log but never connects.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Empty the log (counters restart at zero). A recording is what it recorded:
    /// it cannot be cleared.
    pub fn clear_log(&self) -> Result<LogStats> {
        if self.read_only {
            return Err(Error::ReadOnlySession {
                id: self.id,
                action: "be cleared",
            });
        }
        self.log.clear();
        Ok(self.log.stats())
    }

    fn handle(&self) -> Option<ConnectionHandle> {
        lock(&self.handle).clone().filter(|h| h.is_alive())
    }
}

/// What a session's connection reports to: every frame goes into the log (the
/// source of truth) with a notification for the front end; every state change is
/// kept and published.
struct SessionRecorder(Arc<Session>);

impl Recorder for SessionRecorder {
    fn frame(&self, frame: Frame) -> u64 {
        let seq = self.0.log.push(frame).seq;
        self.0.bus.frames(self.0.id, seq, 1);
        seq
    }

    fn frame_decoded(&self, frame: Frame, decoded: Decoded) -> u64 {
        let seq = self.0.log.push_decoded(frame, decoded);
        self.0.bus.frames(self.0.id, seq, 1);
        seq
    }

    fn frames(&self, frames: Vec<Frame>) {
        let n = frames.len() as u64;
        if let Some(last) = self.0.log.push_many(frames) {
            self.0.bus.frames(self.0.id, last, n);
        }
    }

    fn state(&self, state: ConnState) {
        self.0.set_state(state);
    }

    fn poll_room(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<usize> {
        self.0.log.poll_room(cx)
    }

    fn id(&self) -> u64 {
        self.0.id
    }
}

/// Owns every session. Cheap to share behind an `Arc`; all methods are short and
/// never hold a lock across an `.await`.
pub struct SessionManager {
    sessions: Mutex<BTreeMap<SessionId, Arc<Session>>>,
    next_id: AtomicU64,
    bus: Arc<EventBus>,
    on_end: Arc<Mutex<Option<SessionEndHook>>>,
    /// The runtime connection actors run on, captured at construction, so every
    /// method works from any thread (a GUI thread included).
    runtime: tokio::runtime::Handle,
    /// One per connection started and not yet seen finished (removed tabs included).
    running: Mutex<Vec<Finished>>,
}

impl SessionManager {
    /// Must be called inside a tokio runtime: the batcher and every connection run
    /// on it. After that, methods can be called from any thread.
    pub fn new(sink: Arc<dyn EventSink>) -> Self {
        Self::with_batching(sink, BatchConfig::default())
    }

    pub fn with_batching(sink: Arc<dyn EventSink>, cfg: BatchConfig) -> Self {
        Self {
            sessions: Mutex::default(),
            next_id: AtomicU64::new(1),
            bus: Arc::new(EventBus::new(sink, cfg)),
            on_end: Arc::default(),
            runtime: tokio::runtime::Handle::current(),
            running: Mutex::default(),
        }
    }

    /// Replace the event consumer (e.g. a reloaded webview's new channel).
    pub fn set_sink(&self, sink: Arc<dyn EventSink>) {
        self.bus.set_sink(sink);
    }

    /// Send a notice to the event consumer with the next batch.
    pub fn notify(&self, notice: Notice) {
        self.bus.notice(notice);
    }

    /// Called when a connection that opened ends; see [`SessionEndHook`].
    pub fn set_on_session_end(&self, hook: SessionEndHook) {
        *lock(&self.on_end) = Some(hook);
    }

    pub fn create(&self, name: impl Into<String>, config: ConnectConfig) -> SessionId {
        let log = Arc::new(FrameLog::new(config.log));
        self.insert(name.into(), config, log, None, false)
    }

    /// A read-only tab over a recorded log (from history or an imported file), with
    /// the handshake it was recorded with. Connecting it is refused.
    pub fn create_read_only(
        &self,
        name: impl Into<String>,
        config: ConnectConfig,
        log: FrameLog,
        handshake: Option<Handshake>,
    ) -> SessionId {
        self.insert(name.into(), config, Arc::new(log), handshake.map(Box::new), true)
    }

    fn insert(
        &self,
        name: String,
        config: ConnectConfig,
        log: Arc<FrameLog>,
        handshake: Option<Box<Handshake>>,
        read_only: bool,
    ) -> SessionId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.bus.register(id, log.clone());
        let session = Arc::new(Session {
            id,
            name: Mutex::new(name),
            config: Mutex::new(config),
            log,
            state: watch::channel(ConnState::Idle).0,
            handshake: Mutex::new(handshake),
            handle: Mutex::new(None),
            bus: self.bus.clone(),
            open_from_seq: Mutex::new(None),
            on_end: self.on_end.clone(),
            read_only,
        });
        lock(&self.sessions).insert(id, session);
        id
    }

    pub fn get(&self, id: SessionId) -> Result<Arc<Session>> {
        lock(&self.sessions).get(&id).cloned().ok_or(Error::UnknownSession(id))
    }

    pub fn ids(&self) -> Vec<SessionId> {
        lock(&self.sessions).keys().copied().collect()
    }

    pub fn snapshot(&self) -> Vec<SessionSnapshot> {
        let all: Vec<_> = lock(&self.sessions).values().cloned().collect();
        all.iter().map(|s| s.snapshot()).collect()
    }

    pub fn rename(&self, id: SessionId, name: impl Into<String>) -> Result<()> {
        *lock(&self.get(id)?.name) = name.into();
        Ok(())
    }

    /// Replace the config used by the next connect (log caps apply at once).
    pub fn set_config(&self, id: SessionId, config: ConnectConfig) -> Result<()> {
        let s = self.get(id)?;
        s.log.set_limits(config.log);
        *lock(&s.config) = config;
        Ok(())
    }

    /// Start connecting with the session's config. Returns at once: bad input (URL,
    /// headers, TLS files) is an `Err` here; everything else arrives as state.
    pub fn connect(&self, id: SessionId) -> Result<()> {
        self.connect_with(id, &Vars::default(), &[])
    }

    /// Connect with `{{variables}}` resolved from `vars`, and send `on_open` (in order)
    /// each time the connection opens. An unknown variable or an invalid message is
    /// an `Err` before anything is dialed.
    pub fn connect_with(&self, id: SessionId, vars: &Vars, on_open: &[SavedMessage]) -> Result<()> {
        let s = self.get(id)?;
        if s.read_only {
            return Err(Error::ReadOnlySession { id, action: "connect" });
        }
        let config = vars.resolve_config(&s.config())?;
        let max = config.limits.max_message_size;
        let on_open = on_open
            .iter()
            .map(|m| {
                let place = format!("message {:?}", m.name);
                let body = vars.resolve(&m.body, &place)?;
                let msg = m.format.to_outgoing(&body)?;
                msg.validate(max)?;
                Ok(msg)
            })
            .collect::<Result<Vec<_>>>()?;
        // Check, spawn and store under one lock: two quick Connects start one actor.
        let mut slot = lock(&s.handle);
        if slot.as_ref().is_some_and(|h| h.is_alive()) {
            return Err(Error::AlreadyConnected {
                id,
                state: s.state().name(),
            });
        }
        let recorder = Arc::new(SessionRecorder(s.clone()));
        let handle = connection::start(&self.runtime, config, on_open, recorder)?;
        let mut running = lock(&self.running);
        running.retain(|f| !f.is_finished());
        running.push(handle.finished());
        *slot = Some(handle);
        Ok(())
    }

    /// Send a message; resolves with its sequence number in the log once written.
    pub async fn send(&self, id: SessionId, msg: Outgoing) -> Result<u64> {
        let s = self.get(id)?;
        let max = lock(&s.config).limits.max_message_size;
        msg.validate(max)?;
        let h = s
            .handle()
            .ok_or_else(|| Error::NotConnected(format!("session {id} is {}", s.state().name())))?;
        h.send(msg).await
    }

    /// Close cleanly with `code` and `reason`, or abandon a connect in progress.
    pub fn disconnect(&self, id: SessionId, code: u16, reason: &str) -> Result<()> {
        crate::payload::validate_close(code, reason)?;
        let s = self.get(id)?;
        match s.handle() {
            Some(h) => h.disconnect(code, reason.to_owned()),
            None => Ok(()),
        }
    }

    /// Close the tab: disconnect (code 1001, "going away") and forget the session.
    pub fn remove(&self, id: SessionId) -> Result<()> {
        let s = lock(&self.sessions).remove(&id).ok_or(Error::UnknownSession(id))?;
        if let Some(h) = s.handle() {
            let _ = h.disconnect(1001, "tab closed".into());
        }
        self.bus.unregister(id);
        Ok(())
    }

    /// App exit: close every live connection with 1001 "going away" and wait until
    /// every connection task has really ended (tabs closed before included), at most
    /// `grace`. Returns false if some were still running when `grace` ran out.
    /// Every last state (and the end-of-session hook) has been delivered when this
    /// returns true.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.disconnect_all();
        let running: Vec<Finished> = lock(&self.running).clone();
        let all = futures_util::future::join_all(running.into_iter().map(Finished::wait));
        tokio::time::timeout(grace, all).await.is_ok()
    }

    /// Disconnect every session (app exit). Returns at once.
    pub fn disconnect_all(&self) {
        let all: Vec<_> = lock(&self.sessions).values().cloned().collect();
        for s in all {
            if let Some(h) = s.handle() {
                let _ = h.disconnect(1001, "going away".into());
            }
        }
    }
}
