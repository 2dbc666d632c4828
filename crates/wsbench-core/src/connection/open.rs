//! The open phase of a connection: a `select!` over the socket (writes, then a burst
//! of reads), user commands, a stop request, the keepalive tick and the close
//! deadline. The actor owns the one socket; the close handshake is tracked by
//! [`CloseHandshake`].

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::actor::Actor;
use super::closing::{CloseHandshake, Ending, Outbound, FAIL_LINGER};
use super::deflate::{DeflateCtx, Deflater};
use super::dial::Socket;
use super::read::{classify, poll_burst, BurstEnd, PendingPings, ReadError, MAX_BURST};
use super::wire::TapContext;
use super::writer::{WriteReq, Writer};
use super::{CloseInfo, Command, ConnState, Initiator, Outgoing, Recorder};
use crate::error::{Error, Result};
use crate::frame::{Clock, Direction, Frame, Opcode};
use crate::socketio::client::{Out, SioClient, Step};
use crate::socketio::{SioCommand, WireFrame};

/// One open connection, as the actor sees it while the socket is up.
struct Open {
    recorder: Arc<dyn Recorder>,
    clock: Clock,
    /// The one socket: written by `writer`, read in bursts, both from the actor.
    ws: Socket,
    writer: Writer,
    /// The last poll returned a burst: the next one writes before it reads.
    write_first: bool,
    pings: PendingPings,
    ping_no: u64,
    close: CloseHandshake,
    /// Socket.IO mode: the client layered over the connection.
    sio: Option<SioClient<Reply>>,
    /// permessage-deflate: what the read layer found wrong, if anything.
    deflate: Arc<DeflateCtx>,
}

/// Whoever waits for a sent message's sequence number.
type Reply = oneshot::Sender<Result<u64>>;

/// Keep reading, or the connection is over.
enum Flow {
    Go,
    Over,
}

impl Actor {
    pub(super) async fn run_open(
        &mut self,
        ws: Socket,
        tap: Arc<TapContext>,
        deflate: Arc<DeflateCtx>,
        clock: Clock,
    ) -> Ending {
        let mut open = Open::start(self.recorder.clone(), ws, tap, deflate.clone(), clock);
        open.sio = self.config.socketio.as_ref().and_then(|c| SioClient::new(c).ok());
        match self.stop_request() {
            Some(close) => open.stop(close),
            None => open.send_all(&self.on_open),
        }
        let ping_every = self.config.keepalive.ping_interval_ms;
        let mut keepalive = tokio::time::interval(Duration::from_millis(ping_every.max(1)));
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        keepalive.reset();
        let mut live = super::keepalive::Liveness::new(&self.config.keepalive);
        let recorder = self.recorder.clone();
        loop {
            // Read before the select: its socket branch holds `open` while it runs.
            let closing = open.close.is_closing();
            let (sio_deadline, close_deadline) = (open.sio_deadline(), open.close.deadline());
            let mut full = false;
            tokio::select! {
                (burst, end) = std::future::poll_fn(|cx| open.poll_io(cx, &deflate, &*recorder)) => {
                    live.heard();
                    full = burst.len() >= MAX_BURST;
                    if let Flow::Over = open.on_read(burst, end) {
                        break;
                    }
                },
                Some(cmd) = self.rx.recv() => open.on_command(cmd),
                Ok(()) = self.stop.changed() => {
                    if let Some(close) = self.stop_request() {
                        open.stop(close);
                    }
                }
                _ = keepalive.tick(), if ping_every > 0 && !closing => open.keepalive(),
                _ = sleep_until(sio_deadline) => {
                    if let Flow::Over = open.on_sio_timer() {
                        break;
                    }
                }
                _ = sleep_until(live.deadline()), if !closing => {
                    open.close.lost(live.why());
                    break;
                }
                _ = sleep_until(close_deadline) => {
                    open.close.time_out();
                    break;
                }
            }
            if full {
                // A flood keeps the socket ready without ever touching the network
                // (tungstenite parses from its buffer), so tokio's budget would let
                // one connection run for a very long time: give the other tasks
                // (other connections, the event batches) their turn after each full
                // burst.
                YieldOnce(false).await;
            }
        }
        open.end().await
    }
}

impl Open {
    fn start(
        recorder: Arc<dyn Recorder>,
        ws: Socket,
        tap: Arc<TapContext>,
        deflate: Arc<DeflateCtx>,
        clock: Clock,
    ) -> Self {
        let pings = PendingPings::default();
        let deflater = deflate.negotiated().ok().flatten().as_ref().map(Deflater::new);
        Self {
            writer: Writer::new(recorder.clone(), tap, deflater, clock, pings.clone()),
            write_first: false,
            recorder,
            clock,
            ws,
            pings,
            ping_no: 0,
            close: CloseHandshake::default(),
            sio: None,
            deflate,
        }
    }

    /// The socket: a burst of what already arrived is read, and what is queued is
    /// written (as far as the socket takes it) when there is nothing to read, or
    /// first thing in the poll after a burst, so writes are never starved by a flood.
    /// Reading first keeps the log in wire order: frames already received are logged
    /// before a message (a close, say) the user queued meanwhile. Ready with a burst
    /// only; the burst is logged before the next poll writes anything.
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        deflate: &DeflateCtx,
        recorder: &dyn Recorder,
    ) -> Poll<(Vec<Frame>, BurstEnd)> {
        if std::mem::take(&mut self.write_first) {
            let _ = self.writer.poll_write(&mut self.ws, cx);
        }
        match poll_burst(&mut self.ws, cx, &self.clock, &self.pings, deflate, recorder) {
            Poll::Ready(burst) => {
                self.write_first = true;
                Poll::Ready(burst)
            }
            Poll::Pending => {
                let _ = self.writer.poll_write(&mut self.ws, cx);
                Poll::Pending
            }
        }
    }

    fn queue(&mut self, msg: Outgoing, reply: Option<oneshot::Sender<Result<u64>>>) {
        self.writer.push(WriteReq { msg, reply, note: None });
    }

    /// The saved "send on connect" messages, in order.
    fn send_all(&mut self, msgs: &[Outgoing]) {
        for msg in msgs {
            match msg {
                Outgoing::SocketIo(cmd) => self.sio_command(cmd.clone(), None),
                msg => self.queue(msg.clone(), None),
            }
        }
    }

    fn send_close(&mut self, out: Outbound) {
        if out.announce {
            self.recorder.state(ConnState::Closing {
                initiated_by: Initiator::Client,
            });
        }
        self.queue(Outgoing::close(out.close), None);
    }

    fn stop(&mut self, close: CloseInfo) {
        if let Some(out) = self.close.stop(close) {
            self.send_close(out);
        }
    }

    fn on_read(&mut self, burst: Vec<Frame>, end: BurstEnd) -> Flow {
        if self.sio.is_some() {
            if let Flow::Over = self.sio_frames(burst) {
                return Flow::Over;
            }
        } else if !burst.is_empty() {
            self.recorder.frames(burst);
        }
        match end {
            Some(Some(Ok(Message::Close(cf)))) => {
                let close = CloseInfo::received(cf.as_ref());
                let frame = self.clock.frame(Direction::In, Opcode::Close, close.payload(), 0);
                self.recorder.frame(frame);
                if self.close.peer_closed(close) {
                    // tungstenite replies with the close frame; the tap logs it.
                    self.recorder.state(ConnState::Closing {
                        initiated_by: Initiator::Server,
                    });
                }
                Flow::Go
            }
            None | Some(Some(Ok(_))) => Flow::Go,
            Some(None) => Flow::Over,
            Some(Some(Err(e))) => self.on_read_error(&e),
        }
    }

    fn on_read_error(&mut self, e: &WsError) -> Flow {
        if self.close.over_on_error() {
            return Flow::Over;
        }
        if let Some(why) = self.sio_refused(e) {
            self.close.lost(why);
            return Flow::Over;
        }
        let read_error = match self.deflate.fault() {
            Some(close) => ReadError::Fail(close),
            None => classify(e),
        };
        match read_error {
            ReadError::Fail(close) => {
                tracing::info!(session = self.recorder.id(), code = close.code, reason = %close.reason, "failing the connection");
                if let Some(out) = self.close.fail(close) {
                    self.send_close(out);
                }
                Flow::Go
            }
            ReadError::Lost(why) => {
                self.close.lost(why);
                Flow::Over
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Send {
                msg: Outgoing::SocketIo(cmd),
                reply,
            } if !self.close.is_closing() => self.sio_command(cmd, Some(reply)),
            Command::Send { msg, reply } if !self.close.is_closing() => {
                if let Outgoing::Close { code, reason } = &msg {
                    self.close.user_close_frame(CloseInfo::new(*code, reason.clone()));
                    self.recorder.state(ConnState::Closing {
                        initiated_by: Initiator::Client,
                    });
                }
                self.queue(msg, Some(reply));
            }
            Command::Send { reply, .. } => {
                let _ = reply.send(Err(Error::NotConnected("the connection is closing".into())));
            }
        }
    }

    /// Socket.IO mode: decode and log each frame with its decoded view, then do what
    /// it calls for (heartbeat replies, queued emits, automatic acks).
    fn sio_frames(&mut self, burst: Vec<Frame>) -> Flow {
        let mut flow = Flow::Go;
        for mut f in burst {
            if let Flow::Over = flow {
                self.recorder.frame(f); // the connection is over: logged, not acted on
                continue;
            }
            let now = Instant::now();
            let step = match (f.opcode, self.sio.as_mut()) {
                (Opcode::Text, Some(c)) => match std::str::from_utf8(&f.payload) {
                    Ok(t) => c.on_text(t, now),
                    Err(_) => Step::empty(),
                },
                (Opcode::Binary, Some(c)) => c.on_binary(&f.payload, now),
                _ => Step::empty(),
            };
            let mut step = step;
            if step.rtt_us > 0 {
                f.rtt_us = step.rtt_us;
            }
            match step.note.take() {
                Some(note) => self.recorder.frame_decoded(f, note),
                None => self.recorder.frame(f),
            };
            if let Flow::Over = self.sio_apply(step) {
                flow = Flow::Over;
            }
        }
        flow
    }

    fn sio_apply(&mut self, step: Step<Reply>) -> Flow {
        for out in step.send {
            self.sio_queue(out);
        }
        for (reply, e) in step.refused {
            let _ = reply.send(Err(e));
        }
        if step.close {
            self.stop(CloseInfo::new(1000, "the server closed the Engine.IO session"));
        }
        match step.fail {
            Some(why) if !self.close.is_closing() => {
                tracing::info!(session = self.recorder.id(), reason = %why, "socket.io connection dead");
                self.close.lost(why);
                Flow::Over
            }
            _ => Flow::Go,
        }
    }

    fn sio_queue(&mut self, out: Out<Reply>) {
        let msg = match out.frame {
            WireFrame::Text(t) => Outgoing::Text(t),
            WireFrame::Binary(b) => Outgoing::Binary(b),
        };
        self.writer.push(WriteReq {
            msg,
            reply: out.reply,
            note: Some(out.note),
        });
    }

    fn sio_command(&mut self, cmd: SioCommand, reply: Option<Reply>) {
        let Some(client) = self.sio.as_mut() else {
            if let Some(reply) = reply {
                let _ = reply.send(Err(Error::NotConnected(
                    "this connection is not in Socket.IO mode".into(),
                )));
            }
            return;
        };
        match client.command(cmd, reply) {
            Ok(outs) => {
                for out in outs {
                    self.sio_queue(out);
                }
            }
            Err((reply, e)) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }

    /// Socket.IO mode: garbage before the Engine.IO open packet is, in practice, an
    /// HTTP error the server wrote after the upgrade (engine.io refusing the
    /// protocol version, e.g. `400 Unsupported protocol version`).
    fn sio_refused(&self, e: &WsError) -> Option<String> {
        let c = self.sio.as_ref().filter(|c| c.open_info().is_none())?;
        if !matches!(e, WsError::Protocol(_)) {
            return None;
        }
        let hint = match c.version() {
            crate::socketio::EioVersion::V3 => {
                "a Socket.IO v3/v4 server refuses Engine.IO 3 this way (unless allowEIO3 is on): choose Socket.IO version 4"
            }
            crate::socketio::EioVersion::V4 => "check the handshake path and the Socket.IO version",
        };
        Some(format!("the server refused the Engine.IO session ({e}); {hint}"))
    }

    fn sio_deadline(&self) -> Option<Instant> {
        self.sio.as_ref().and_then(SioClient::deadline)
    }

    fn on_sio_timer(&mut self) -> Flow {
        match self.sio.as_mut() {
            Some(c) => {
                let step = c.on_timer(Instant::now());
                self.sio_apply(step)
            }
            None => Flow::Go,
        }
    }

    fn keepalive(&mut self) {
        // A peer that stopped reading gets no pile of pings in our queue.
        if self.writer.pings_queued() == 0 {
            self.ping_no += 1;
            self.queue(Outgoing::Ping(Bytes::from(self.ping_no.to_be_bytes().to_vec())), None);
        }
    }

    /// Let what is queued (our close frame above all) be written and flushed,
    /// briefly: a peer that stopped reading must not keep the tab in Closing. What
    /// is still queued then is answered with an error; the socket goes before the
    /// last state is published.
    async fn end(mut self) -> Ending {
        let drained = std::future::poll_fn(|cx| self.writer.poll_write(&mut self.ws, cx));
        if tokio::time::timeout(FAIL_LINGER, drained).await.is_err() {
            tracing::debug!(session = self.recorder.id(), "the peer did not take what was queued");
        }
        self.writer.abandon();
        let Open { ws, close, .. } = self;
        drop(ws);
        close.ending()
    }
}

/// Let the scheduler run other tasks once. The task wakes itself while it runs, so
/// tokio queues it at the back of the run queue, where any worker takes it.
/// (`tokio::task::yield_now` defers the wake-up until the worker parks: a task that
/// blocks that worker, such as a slow event sink, would then hold the connection.)
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
