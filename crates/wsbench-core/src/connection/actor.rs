//! The connection actor: the only owner of its socket.
//!
//! One task per connection: dial (with reconnects), then a `select!` over incoming
//! frames, user commands, the keepalive tick and a stop request. Writes happen in a
//! writer sub-task holding the sink half, so a peer that stops reading never keeps us
//! from reading (and logging) what it sends, nor from honoring a disconnect.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::dial::{self, Socket, Target};
use super::wire::TapContext;
use super::{Command, ConnState, ConnectionHandle, Initiator, Outgoing, StopRequest};
use crate::config::ConnectConfig;
use crate::error::{Error, Result};
use crate::frame::{close_payload, Clock, Direction, Opcode};
use crate::session::Session;

/// How long we wait for the server's close reply after sending ours.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// After failing a connection (1002/1007/1009) we only linger briefly.
const FAIL_LINGER: Duration = Duration::from_secs(1);
/// Frames logged together at most, so a flood still yields to commands.
const MAX_BURST: usize = 1024;

pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    session: Arc<Session>,
    config: ConnectConfig,
    target: Target,
    on_open: Vec<Outgoing>,
) -> ConnectionHandle {
    let (tx, rx) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = watch::channel(None);
    let handle = ConnectionHandle::new(tx, Arc::new(stop_tx));
    let actor = Actor {
        session,
        config,
        target,
        on_open,
        rx,
        stop: stop_rx,
    };
    runtime.spawn(actor.run());
    handle
}

struct Actor {
    session: Arc<Session>,
    config: ConnectConfig,
    target: Target,
    /// Sent, in order, each time the connection opens (saved "send on connect" messages).
    on_open: Vec<Outgoing>,
    rx: mpsc::Receiver<Command>,
    stop: watch::Receiver<StopRequest>,
}

/// Pings we sent, to match pongs and measure the round trip.
type PendingPings = Arc<Mutex<VecDeque<(Bytes, Instant)>>>;

struct WriteReq {
    msg: Outgoing,
    reply: Option<oneshot::Sender<Result<u64>>>,
}

struct Ending {
    code: u16,
    reason: String,
    clean: bool,
    initiated_by: Initiator,
    /// The user asked to close (disconnect or a Close frame): never reconnect then.
    /// A close the engine started itself (1002/1007/1009) may reconnect.
    by_user: bool,
}

impl Actor {
    fn stop_request(&self) -> StopRequest {
        self.stop.borrow().clone()
    }

    /// Run `fut` while refusing sends; `None` if a disconnect was requested first.
    async fn while_not_open<F: std::future::Future>(&mut self, what: &str, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.stop_request().is_some() {
                return None;
            }
            tokio::select! {
                r = &mut fut => return Some(r),
                // Every handle is gone (the tab was removed): nobody can use us.
                r = self.stop.changed() => if r.is_err() { return None },
                Some(Command::Send { reply, .. }) = self.rx.recv() => {
                    let _ = reply.send(Err(Error::NotConnected(format!("still {what}; wait until the connection is open"))));
                }
            }
        }
    }

    /// Publish the last state. The command channel closes first, so whoever reacts
    /// to this state (e.g. by connecting again) finds the tab free.
    fn finish(&mut self, state: ConnState) {
        self.rx.close();
        self.session.set_state(state);
    }

    fn cancelled(&mut self) {
        let (code, reason) = self.stop_request().unwrap_or((1000, String::new()));
        let reason = if reason.is_empty() {
            "cancelled before the connection opened".to_owned()
        } else {
            reason
        };
        self.finish(ConnState::Closed {
            code,
            reason,
            clean: false,
            initiated_by: Initiator::Client,
        });
    }

    /// Wait before reconnect attempt `attempt`; false if the user gave up meanwhile.
    async fn backoff(&mut self, attempt: u32, last_error: Option<Error>) -> bool {
        let rc = self.config.reconnect;
        let delay = rc.delay_ms(attempt);
        self.session.set_state(ConnState::Reconnecting {
            attempt,
            max_attempts: rc.max_attempts,
            delay_ms: delay,
            last_error: last_error.map(|e| e.info()),
        });
        self.while_not_open("reconnecting", tokio::time::sleep(Duration::from_millis(delay)))
            .await
            .is_some()
    }

    fn may_retry(&self, attempt: u32) -> bool {
        let rc = self.config.reconnect;
        rc.enabled && (rc.max_attempts == 0 || attempt < rc.max_attempts)
    }

    async fn run(mut self) {
        // Reconnect attempts since the last successful open.
        let mut attempt: u32 = 0;
        loop {
            self.session.set_state(ConnState::Connecting { attempt: attempt + 1 });
            let clock = Clock::start();
            let tap = TapContext::new(self.session.clone(), clock, self.config.keepalive.auto_pong);
            let target = self.target.clone();
            let dialing = dial::dial(&target, tap.clone());
            let Some(result) = self.while_not_open("connecting", dialing).await else {
                return self.cancelled();
            };
            match result {
                Err(e) => {
                    tracing::info!(session = self.session.id, error = %e, "connect failed");
                    if self.may_retry(attempt) {
                        attempt += 1;
                        if self.backoff(attempt, Some(e)).await {
                            continue;
                        }
                        return self.cancelled();
                    }
                    self.finish(ConnState::Failed { error: e.info() });
                    return;
                }
                Ok((ws, handshake)) => {
                    tap.arm();
                    attempt = 0;
                    self.session.set_state(ConnState::Open {
                        handshake: Box::new(handshake),
                    });
                    let end = self.run_open(ws, tap, clock).await;
                    let closed = ConnState::Closed {
                        code: end.code,
                        reason: end.reason,
                        clean: end.clean,
                        initiated_by: end.initiated_by,
                    };
                    if end.by_user || !self.may_retry(attempt) {
                        return self.finish(closed);
                    }
                    self.session.set_state(closed);
                    attempt += 1;
                    if !self.backoff(attempt, None).await {
                        return self.cancelled();
                    }
                }
            }
        }
    }

    async fn run_open(&mut self, ws: Socket, tap: Arc<TapContext>, clock: Clock) -> Ending {
        let (sink, mut stream) = ws.split();
        let pings: PendingPings = Arc::default();
        // Keepalive pings queued for the writer and not yet taken by it.
        let ping_queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (wtx, wrx) = mpsc::unbounded_channel::<WriteReq>();
        let writer = tokio::spawn(writer(
            sink,
            wrx,
            self.session.clone(),
            tap,
            clock,
            pings.clone(),
            ping_queued.clone(),
        ));
        let session = self.session.clone();

        let ping_every = self.config.keepalive.ping_interval_ms;
        let mut keepalive = tokio::time::interval(Duration::from_millis(ping_every.max(1)));
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        keepalive.reset();
        let mut ping_no: u64 = 0;

        // Who started closing, with the code and reason of the first close frame.
        let mut closing: Option<Initiator> = None;
        let mut our_close: Option<(u16, String)> = None;
        let mut their_close: Option<(u16, String)> = None;
        let mut failure: Option<(u16, String)> = None;
        let mut lost: Option<String> = None;
        let mut deadline: Option<Instant> = None;
        let mut timed_out = false;

        let begin_close = |code: u16,
                           reason: String,
                           closing: &mut Option<Initiator>,
                           our: &mut Option<(u16, String)>,
                           linger: Duration| {
            if our.is_some() {
                return None;
            }
            if *closing == Some(Initiator::Server) {
                // tungstenite has answered the server's close already.
                return None;
            }
            *our = Some((code, reason.clone()));
            if closing.is_none() {
                *closing = Some(Initiator::Client);
                session.set_state(ConnState::Closing {
                    initiated_by: Initiator::Client,
                });
            }
            let _ = wtx.send(WriteReq {
                msg: Outgoing::Close { code, reason },
                reply: None,
            });
            Some(Instant::now() + linger)
        };

        let mut by_user = false;
        if let Some((code, reason)) = self.stop_request() {
            by_user = true;
            deadline = begin_close(code, reason, &mut closing, &mut our_close, CLOSE_TIMEOUT);
        } else {
            for msg in &self.on_open {
                let _ = wtx.send(WriteReq {
                    msg: msg.clone(),
                    reply: None,
                });
            }
        }

        loop {
            tokio::select! {
                (burst, rest) = std::future::poll_fn(|cx| poll_burst(&mut stream, cx, &clock, &pings)) => {
                    if !burst.is_empty() {
                        session.record_many(burst);
                    }
                    match rest {
                        Some(Some(Ok(Message::Close(cf)))) => {
                            let (code, reason) = cf.map_or((1005, String::new()), |c| (u16::from(c.code), c.reason.to_string()));
                            let payload = if code == 1005 { Bytes::new() } else { close_payload(code, &reason) };
                            session.record(&clock, Direction::In, Opcode::Close, payload, 0);
                            their_close = Some((code, reason));
                            if closing.is_none() {
                                closing = Some(Initiator::Server);
                                session.set_state(ConnState::Closing { initiated_by: Initiator::Server });
                                // tungstenite replies with the close frame; the tap logs it.
                                deadline = Some(Instant::now() + CLOSE_TIMEOUT);
                            }
                        }
                        None | Some(Some(Ok(_))) => {}
                        Some(None) => break,
                        Some(Some(Err(e))) => {
                            if failure.is_some() || our_close.is_some() && their_close.is_some() {
                                break;
                            }
                            match classify(&e) {
                                ReadError::Fail(code, reason) => {
                                    tracing::info!(session = session.id, code, %reason, "failing the connection");
                                    failure = Some((code, reason.clone()));
                                    deadline = begin_close(code, reason, &mut closing, &mut our_close, FAIL_LINGER)
                                        .or(Some(Instant::now() + FAIL_LINGER));
                                }
                                ReadError::Lost(why) => {
                                    lost = Some(why);
                                    break;
                                }
                            }
                        }
                    }
                },
                Some(cmd) = self.rx.recv() => match cmd {
                    Command::Send { msg, reply } if closing.is_none() => {
                        if let Outgoing::Close { code, reason } = &msg {
                            by_user = true;
                            our_close = Some((*code, reason.clone()));
                            closing = Some(Initiator::Client);
                            session.set_state(ConnState::Closing { initiated_by: Initiator::Client });
                            deadline = Some(Instant::now() + CLOSE_TIMEOUT);
                        }
                        let _ = wtx.send(WriteReq { msg, reply: Some(reply) });
                    }
                    Command::Send { reply, .. } => {
                        let _ = reply.send(Err(Error::NotConnected("the connection is closing".into())));
                    }
                },
                Ok(()) = self.stop.changed() => {
                    if let Some((code, reason)) = self.stop_request() {
                        by_user = true;
                        if let Some(d) = begin_close(code, reason, &mut closing, &mut our_close, CLOSE_TIMEOUT) {
                            deadline = Some(deadline.map_or(d, |old| old.min(d)));
                        }
                    }
                }
                _ = keepalive.tick(), if ping_every > 0 && closing.is_none() => {
                    // A peer that stopped reading gets no pile of pings in our queue.
                    if ping_queued.load(std::sync::atomic::Ordering::Acquire) == 0 {
                        ping_no += 1;
                        ping_queued.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                        let _ = wtx.send(WriteReq { msg: Outgoing::Ping(Bytes::from(ping_no.to_be_bytes().to_vec())), reply: None });
                    }
                }
                _ = sleep_until(deadline) => {
                    timed_out = true;
                    break;
                }
            }
        }
        // Let the writer flush what is queued (our close frame above all), briefly: a
        // peer that stopped reading must not keep the tab in Closing.
        drop(wtx);
        let abort = writer.abort_handle();
        if tokio::time::timeout(FAIL_LINGER, writer).await.is_err() {
            abort.abort();
        }
        drop(stream);

        if let Some((code, reason)) = failure {
            return Ending {
                code,
                reason,
                clean: false,
                initiated_by: Initiator::Client,
                by_user,
            };
        }
        let initiated_by = closing.unwrap_or(Initiator::Server);
        let first = match initiated_by {
            Initiator::Client => our_close.clone(),
            Initiator::Server => their_close.clone(),
        };
        // Clean: close frames went both ways. The peer's frame arrived; ours either
        // went first or was tungstenite's reply. Whether the peer then dropped TCP in
        // time does not change what the two sides agreed.
        let exchanged = their_close.is_some() && (our_close.is_some() || initiated_by == Initiator::Server);
        let (code, reason, clean) = match first {
            Some((code, reason)) if exchanged => (code, reason, true),
            Some((code, reason)) if timed_out => {
                let reason = if reason.is_empty() {
                    "no close reply from the peer".into()
                } else {
                    format!("{reason} (no close reply from the peer)")
                };
                (code, reason, false)
            }
            _ => (
                1006,
                lost.unwrap_or_else(|| "connection closed without a close frame".into()),
                false,
            ),
        };
        Ending {
            code,
            reason,
            clean,
            initiated_by,
            by_user,
        }
    }
}

/// Everything already buffered, in one poll with the task's own waker: data and
/// ping/pong frames as log entries (at most `MAX_BURST`), then whatever ended the
/// burst (a close, an error or the end of the stream) for the caller to handle.
/// Polling with the real context matters: tokio-tungstenite re-registers its waker
/// on every poll, and a changing waker costs a clone and a drop each time.
#[allow(clippy::type_complexity)]
fn poll_burst(
    stream: &mut futures_util::stream::SplitStream<Socket>,
    cx: &mut std::task::Context<'_>,
    clock: &Clock,
    pings: &PendingPings,
) -> std::task::Poll<(Vec<crate::frame::Frame>, Option<Option<Result<Message, WsError>>>)> {
    use std::task::Poll;
    let mut burst = Vec::new();
    while burst.len() < MAX_BURST {
        let item = match stream.poll_next_unpin(cx) {
            Poll::Ready(item) => item,
            Poll::Pending => break,
        };
        match item {
            Some(Ok(Message::Text(t))) => burst.push(clock.frame(Direction::In, Opcode::Text, Bytes::from(t), 0)),
            Some(Ok(Message::Binary(b))) => burst.push(clock.frame(Direction::In, Opcode::Binary, b, 0)),
            Some(Ok(Message::Ping(b))) => {
                // The next poll makes tungstenite write its pong (logged by the tap):
                // log the ping first.
                burst.push(clock.frame(Direction::In, Opcode::Ping, b, 0));
                return Poll::Ready((burst, None));
            }
            Some(Ok(Message::Pong(b))) => {
                let rtt = take_rtt(pings, &b);
                burst.push(clock.frame(Direction::In, Opcode::Pong, b, rtt));
            }
            Some(Ok(Message::Frame(_))) => {}
            other => return Poll::Ready((burst, Some(other))),
        }
    }
    if burst.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready((burst, None))
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn take_rtt(pings: &PendingPings, payload: &Bytes) -> u32 {
    let mut q = pings.lock().unwrap_or_else(|p| p.into_inner());
    match q.iter().position(|(p, _)| p == payload) {
        Some(i) => {
            let sent = q[i].1;
            q.drain(..=i);
            sent.elapsed().as_micros().clamp(1, u32::MAX as u128) as u32
        }
        None => 0,
    }
}

enum ReadError {
    /// We must fail the connection with this close code (RFC 6455 section 7.1.7).
    Fail(u16, String),
    /// The transport is gone.
    Lost(String),
}

fn classify(e: &WsError) -> ReadError {
    match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => ReadError::Fail(
            1009,
            format!("message of {size} bytes exceeds the limit of {max_size} bytes"),
        ),
        WsError::Capacity(c) => ReadError::Fail(1009, c.to_string()),
        WsError::Utf8(_) => ReadError::Fail(1007, "text message is not valid UTF-8".into()),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            ReadError::Lost("connection reset without a closing handshake".into())
        }
        WsError::Protocol(p) => ReadError::Fail(1002, format!("protocol error: {p}")),
        WsError::Io(io) => ReadError::Lost(format!("connection lost: {io}")),
        other => ReadError::Lost(format!("connection lost: {other}")),
    }
}

async fn writer(
    mut sink: SplitSink<Socket, Message>,
    mut rx: mpsc::UnboundedReceiver<WriteReq>,
    session: Arc<Session>,
    tap: Arc<TapContext>,
    clock: Clock,
    pings: PendingPings,
    ping_queued: Arc<std::sync::atomic::AtomicUsize>,
) {
    while let Some(WriteReq { msg, reply }) = rx.recv().await {
        let opcode = msg.opcode();
        let (message, payload) = match msg {
            Outgoing::Text(s) => {
                let u = Utf8Bytes::from(s);
                let b = Bytes::from(u.clone());
                (Message::Text(u), b)
            }
            Outgoing::Binary(b) => (Message::Binary(b.clone()), b),
            Outgoing::Ping(b) => {
                let mut q = pings.lock().unwrap_or_else(|p| p.into_inner());
                q.push_back((b.clone(), Instant::now()));
                if q.len() > 64 {
                    q.pop_front();
                }
                (Message::Ping(b.clone()), b)
            }
            Outgoing::Pong(b) => {
                tap.expect_user_pong(b.clone());
                (Message::Pong(b.clone()), b)
            }
            Outgoing::Close { code, reason } => {
                // The tap logs the close frame if (and when) it really goes out:
                // tungstenite skips it silently once the close handshake has begun.
                let before = tap.last_close_seq();
                let close = Message::Close(Some(CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                }));
                let result = match sink.send(close).await {
                    Ok(()) if tap.last_close_seq() != before => Ok(tap.last_close_seq()),
                    Ok(()) => Err(Error::NotConnected(
                        "the connection was already closing; no close frame was sent".into(),
                    )),
                    Err(e) => Err(Error::Io(format!("send failed: {e}"))),
                };
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
                continue;
            }
        };
        if reply.is_none() && opcode == Opcode::Ping {
            ping_queued.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
        // Log once the frame is committed to tungstenite's buffer and before the
        // flush, so a fast reply is never logged ahead of what it answers.
        let result = match sink.feed(message).await {
            Ok(()) => {
                let f = session.record(&clock, Direction::Out, opcode, payload, 0);
                match sink.flush().await {
                    Ok(()) => Ok(f.seq),
                    Err(e) => Err(Error::Io(format!(
                        "frame {} was queued but the connection failed: {e}",
                        f.seq
                    ))),
                }
            }
            Err(e) => Err(Error::Io(format!("send failed: {e}"))),
        };
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }
}
