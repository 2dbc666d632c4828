//! The write side of an open connection. The actor owns one socket (no split halves
//! and no lock between them) and calls [`Writer::poll_write`] on it beside its reads
//! (see `Open::poll_io`): what is queued goes into tungstenite as fast as
//! the socket takes it, and a peer that stops reading never keeps the actor from
//! reading (and logging) what it sends, nor from honoring a disconnect. Nothing here
//! awaits: a message is committed to tungstenite's buffer whole or not at all, so the
//! actor's `select!` may drop its poll at any point without losing half a message.
//! Every frame is logged as it is committed, before the flush.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Sink;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data as OpData, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::deflate::Deflater;
use super::dial::Socket;
use super::read::{note_ping, PendingPings};
use super::wire::TapContext;
use super::{CloseInfo, Outgoing, Recorder};
use crate::error::{Error, Result};
use crate::frame::{Clock, Direction, Opcode};
use crate::socketio::Decoded;

pub(super) struct WriteReq {
    pub msg: Outgoing,
    pub reply: Option<oneshot::Sender<Result<u64>>>,
    /// The Socket.IO layer's view of the frame, logged beside it.
    pub note: Option<Decoded>,
}

/// A message committed to tungstenite, waiting for the flush to be answered.
enum Unflushed {
    /// A data or control frame, logged with this sequence number.
    Frame(oneshot::Sender<Result<u64>>, u64),
    /// A close frame: sent if the tap logged a close after `before`.
    Close(oneshot::Sender<Result<u64>>, u64),
}

pub(super) struct Writer {
    queue: VecDeque<WriteReq>,
    unflushed: Vec<Unflushed>,
    /// Something was committed and not flushed yet.
    dirty: bool,
    recorder: Arc<dyn Recorder>,
    tap: Arc<TapContext>,
    /// permessage-deflate in force: the compressor for outgoing messages.
    deflater: Option<Deflater>,
    clock: Clock,
    pings: PendingPings,
    /// Keepalive pings queued and not yet committed.
    pings_queued: usize,
}

impl Writer {
    pub fn new(
        recorder: Arc<dyn Recorder>,
        tap: Arc<TapContext>,
        deflater: Option<Deflater>,
        clock: Clock,
        pings: PendingPings,
    ) -> Self {
        Self {
            queue: VecDeque::new(),
            unflushed: Vec::new(),
            dirty: false,
            recorder,
            tap,
            deflater,
            clock,
            pings,
            pings_queued: 0,
        }
    }

    pub fn push(&mut self, req: WriteReq) {
        if req.reply.is_none() && req.msg.opcode() == Opcode::Ping {
            self.pings_queued += 1;
        }
        self.queue.push_back(req);
    }

    /// Keepalive pings queued and not yet written.
    pub fn pings_queued(&self) -> usize {
        self.pings_queued
    }

    /// Commit what is queued while the socket takes it, then flush. Ready once
    /// everything queued is written and flushed (or failed); Pending while the socket
    /// is full (its waker is then registered).
    pub fn poll_write(&mut self, ws: &mut Socket, cx: &mut Context<'_>) -> Poll<()> {
        while !self.queue.is_empty() {
            match Pin::new(&mut *ws).poll_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    if let Some(req) = self.queue.pop_front() {
                        self.take(&req);
                        reply(req.reply, Err(Error::Io(format!("send failed: {e}"))));
                    }
                }
                Poll::Ready(Ok(())) => {
                    if let Some(req) = self.queue.pop_front() {
                        self.start(ws, req);
                    }
                }
            }
        }
        if !self.dirty {
            return Poll::Ready(());
        }
        let result = match Pin::new(&mut *ws).poll_flush(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r,
        };
        self.dirty = false;
        let last_close = self.tap.last_close_seq();
        for u in self.unflushed.drain(..) {
            match (u, &result) {
                (Unflushed::Frame(r, seq), Ok(())) => reply(Some(r), Ok(seq)),
                (Unflushed::Frame(r, seq), Err(e)) => reply(
                    Some(r),
                    Err(Error::Io(format!(
                        "frame {seq} was queued but the connection failed: {e}"
                    ))),
                ),
                (Unflushed::Close(r, before), _) if last_close != before => reply(Some(r), Ok(last_close)),
                (Unflushed::Close(r, _), Ok(())) => reply(
                    Some(r),
                    Err(Error::NotConnected(
                        "the connection was already closing; no close frame was sent".into(),
                    )),
                ),
                (Unflushed::Close(r, _), Err(e)) => reply(Some(r), Err(Error::Io(format!("send failed: {e}")))),
            }
        }
        Poll::Ready(())
    }

    /// The connection is over: whatever was not written is answered with an error.
    pub fn abandon(&mut self) {
        for req in std::mem::take(&mut self.queue) {
            reply(
                req.reply,
                Err(Error::NotConnected(
                    "the connection closed before this message was sent".into(),
                )),
            );
        }
        for u in self.unflushed.drain(..) {
            let (Unflushed::Frame(r, _) | Unflushed::Close(r, _)) = u;
            reply(
                Some(r),
                Err(Error::Io("the connection closed before the message was flushed".into())),
            );
        }
        self.pings_queued = 0;
    }

    fn take(&mut self, req: &WriteReq) {
        if req.reply.is_none() && req.msg.opcode() == Opcode::Ping {
            self.pings_queued = self.pings_queued.saturating_sub(1);
        }
    }

    /// Commit one message (the socket said it is ready) and log it.
    fn start(&mut self, ws: &mut Socket, req: WriteReq) {
        self.take(&req);
        let WriteReq { msg, reply: r, note } = req;
        if let Outgoing::Close { code, reason } = msg {
            let before = self.tap.last_close_seq();
            let close = CloseInfo::new(code, reason);
            match Pin::new(&mut *ws).start_send(Message::Close(Some(close.to_frame()))) {
                Ok(()) => {
                    self.dirty = true;
                    if let Some(r) = r {
                        self.unflushed.push(Unflushed::Close(r, before));
                    }
                }
                Err(e) => reply(r, Err(Error::Io(format!("send failed: {e}")))),
            }
            return;
        }
        let (message, payload, opcode, compressed_len) = match self.encode(msg) {
            Ok(m) => m,
            Err(e) => return reply(r, Err(e)),
        };
        match Pin::new(&mut *ws).start_send(message) {
            Ok(()) => {
                self.dirty = true;
                let mut frame = self.clock.frame(Direction::Out, opcode, payload, 0);
                frame.compressed_len = compressed_len;
                let seq = match note {
                    Some(note) => self.recorder.frame_decoded(frame, note),
                    None => self.recorder.frame(frame),
                };
                if let Some(r) = r {
                    self.unflushed.push(Unflushed::Frame(r, seq));
                }
            }
            Err(e) => reply(r, Err(Error::Io(format!("send failed: {e}")))),
        }
    }

    /// The message as tungstenite sends it, the payload to log, its opcode and its
    /// compressed size (0: uncompressed).
    fn encode(&mut self, msg: Outgoing) -> Result<(Message, Bytes, Opcode, u32)> {
        let opcode = msg.opcode();
        Ok(match msg {
            Outgoing::Text(s) => {
                let u = Utf8Bytes::from(s);
                let b = Bytes::from(u.clone());
                match self.compress(OpCode::Data(OpData::Text), &b) {
                    Some((frame, n)) => (frame, b, opcode, n),
                    None => (Message::Text(u), b, opcode, 0),
                }
            }
            Outgoing::Binary(b) => match self.compress(OpCode::Data(OpData::Binary), &b) {
                Some((frame, n)) => (frame, b, opcode, n),
                None => (Message::Binary(b.clone()), b, opcode, 0),
            },
            Outgoing::BinaryUncompressed(b) => (Message::Binary(b.clone()), b, opcode, 0),
            Outgoing::Ping(b) => {
                note_ping(&self.pings, b.clone());
                (Message::Ping(b.clone()), b, opcode, 0)
            }
            Outgoing::Pong(b) => {
                self.tap.expect_user_pong(b.clone());
                (Message::Pong(b.clone()), b, opcode, 0)
            }
            Outgoing::Close { .. } | Outgoing::SocketIo(_) => {
                return Err(Error::NotConnected(
                    "a Socket.IO message needs a connection in Socket.IO mode".into(),
                ))
            }
        })
    }

    /// permessage-deflate: the message as one compressed frame (RSV1 set), with its
    /// wire size; None when compression is not in force.
    fn compress(&mut self, opcode: OpCode, data: &[u8]) -> Option<(Message, u32)> {
        let out = self.deflater.as_mut()?.compress(data);
        let n = out.len().min(u32::MAX as usize) as u32;
        let header = FrameHeader {
            rsv1: true,
            opcode,
            ..FrameHeader::default()
        };
        Some((Message::Frame(Frame::from_payload(header, Bytes::from(out))), n))
    }
}

fn reply(to: Option<oneshot::Sender<Result<u64>>>, result: Result<u64>) {
    if let Some(to) = to {
        let _ = to.send(result);
    }
}
