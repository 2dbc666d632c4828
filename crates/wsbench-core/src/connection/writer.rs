//! The writer sub-task of an open connection: it holds the sink half, so a peer that
//! stops reading never keeps the actor from reading (and logging) what it sends,
//! nor from honoring a disconnect. Every frame is logged as it is committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::{mpsc, oneshot};
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

pub(super) struct Writer {
    pub sink: SplitSink<Socket, Message>,
    pub rx: mpsc::UnboundedReceiver<WriteReq>,
    pub recorder: Arc<dyn Recorder>,
    pub tap: Arc<TapContext>,
    /// permessage-deflate in force: the compressor for outgoing messages.
    pub deflater: Option<Deflater>,
    pub clock: Clock,
    pub pings: PendingPings,
    /// Keepalive pings queued and not yet taken by the writer.
    pub ping_queued: Arc<AtomicUsize>,
}

impl Writer {
    /// Write requests in order until every sender is gone.
    pub async fn run(mut self) {
        while let Some(WriteReq { msg, reply, note }) = self.rx.recv().await {
            let result = match msg {
                Outgoing::Close { code, reason } => self.close(CloseInfo::new(code, reason)).await,
                msg => {
                    let keepalive = reply.is_none() && msg.opcode() == Opcode::Ping;
                    if keepalive {
                        self.ping_queued.fetch_sub(1, Ordering::AcqRel);
                    }
                    self.write(msg, note).await
                }
            };
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
        }
    }

    async fn write(&mut self, msg: Outgoing, note: Option<Decoded>) -> Result<u64> {
        let opcode = msg.opcode();
        let mut compressed_len = 0;
        let (message, payload) = match msg {
            Outgoing::Text(s) => {
                let u = Utf8Bytes::from(s);
                let b = Bytes::from(u.clone());
                match self.compress(OpCode::Data(OpData::Text), &b) {
                    Some((frame, n)) => {
                        compressed_len = n;
                        (frame, b)
                    }
                    None => (Message::Text(u), b),
                }
            }
            Outgoing::Binary(b) => match self.compress(OpCode::Data(OpData::Binary), &b) {
                Some((frame, n)) => {
                    compressed_len = n;
                    (frame, b)
                }
                None => (Message::Binary(b.clone()), b),
            },
            Outgoing::BinaryUncompressed(b) => (Message::Binary(b.clone()), b),
            Outgoing::Ping(b) => {
                note_ping(&self.pings, b.clone());
                (Message::Ping(b.clone()), b)
            }
            Outgoing::Pong(b) => {
                self.tap.expect_user_pong(b.clone());
                (Message::Pong(b.clone()), b)
            }
            Outgoing::Close { code, reason } => return self.close(CloseInfo::new(code, reason)).await,
            Outgoing::SocketIo(_) => {
                return Err(Error::NotConnected(
                    "a Socket.IO message needs a connection in Socket.IO mode".into(),
                ))
            }
        };
        // Log once the frame is committed to tungstenite's buffer and before the
        // flush, so a fast reply is never logged ahead of what it answers.
        match self.sink.feed(message).await {
            Ok(()) => {
                let mut frame = self.clock.frame(Direction::Out, opcode, payload, 0);
                frame.compressed_len = compressed_len;
                let seq = match note {
                    Some(note) => self.recorder.frame_decoded(frame, note),
                    None => self.recorder.frame(frame),
                };
                match self.sink.flush().await {
                    Ok(()) => Ok(seq),
                    Err(e) => Err(Error::Io(format!(
                        "frame {seq} was queued but the connection failed: {e}"
                    ))),
                }
            }
            Err(e) => Err(Error::Io(format!("send failed: {e}"))),
        }
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

    /// The tap logs the close frame if (and when) it really goes out: tungstenite
    /// skips it silently once the close handshake has begun.
    async fn close(&mut self, close: CloseInfo) -> Result<u64> {
        let before = self.tap.last_close_seq();
        match self.sink.send(Message::Close(Some(close.to_frame()))).await {
            Ok(()) if self.tap.last_close_seq() != before => Ok(self.tap.last_close_seq()),
            Ok(()) => Err(Error::NotConnected(
                "the connection was already closing; no close frame was sent".into(),
            )),
            Err(e) => Err(Error::Io(format!("send failed: {e}"))),
        }
    }
}
