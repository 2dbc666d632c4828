//! The read side of an open connection: frames drained in bursts, pong round trips
//! matched to our pings, and read errors sorted into "fail the connection" and
//! "the transport is gone".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::deflate::DeflateCtx;
use super::dial::Socket;
use super::{CloseInfo, Recorder};
use crate::frame::{Clock, Direction, Frame, Opcode};
use crate::sync::lock;

/// Frames logged together at most, so a flood still yields to commands.
pub(super) const MAX_BURST: usize = 1024;
/// Frames drained in one burst share one clock reading per this many.
const STAMP_EVERY: usize = 64;
/// Payload bytes after which a burst ends, unless the recorder has less room (a
/// gated log: see `FrameLog::keep_unread`), then after that room.
const MAX_BURST_BYTES: usize = 8 << 20;

/// Pings we sent, to match pongs and measure the round trip.
pub(super) type PendingPings = Arc<Mutex<VecDeque<(Bytes, Instant)>>>;

/// What ended a burst: `None` if nothing did (the burst is full, or a ping arrived);
/// `Some(None)` for the end of the stream; else the close frame or the error.
pub(super) type BurstEnd = Option<Option<Result<Message, WsError>>>;

/// Everything already buffered, in one poll with the task's own waker: data and
/// ping/pong frames as log entries (at most `MAX_BURST`), then whatever ended the
/// burst (a close, an error or the end of the stream) for the caller to handle.
/// Polling with the real context matters: tokio-tungstenite re-registers its waker
/// on every poll, and a changing waker costs a clone and a drop each time.
/// Nothing is read while the recorder has no room for more.
pub(super) fn poll_burst(
    stream: &mut Socket,
    cx: &mut Context<'_>,
    clock: &Clock,
    pings: &PendingPings,
    deflate: &DeflateCtx,
    recorder: &dyn Recorder,
) -> Poll<(Vec<Frame>, BurstEnd)> {
    let Poll::Ready(room) = recorder.poll_room(cx) else {
        return Poll::Pending;
    };
    let max_bytes = room.min(MAX_BURST_BYTES);
    let mut burst = Vec::new();
    let mut bytes = 0;
    let mut stamp = None;
    while burst.len() < MAX_BURST && bytes < max_bytes {
        let item = match stream.poll_next_unpin(cx) {
            Poll::Ready(item) => item,
            Poll::Pending => break,
        };
        if burst.capacity() == 0 {
            burst.reserve(MAX_BURST); // once, not by doubling as the burst grows
        }
        // One clock read for every STAMP_EVERY frames: see the README (timestamps).
        if burst.len() % STAMP_EVERY == 0 {
            stamp = None;
        }
        let at = *stamp.get_or_insert_with(|| clock.stamp());
        match item {
            Some(Ok(Message::Text(t))) => {
                bytes += t.len();
                burst.push(at.frame(Direction::In, Opcode::Text, Bytes::from(t), 0));
            }
            Some(Ok(Message::Binary(b))) => {
                bytes += b.len();
                burst.push(at.frame(Direction::In, Opcode::Binary, b, 0));
            }
            Some(Ok(Message::Ping(b))) => {
                // The next poll makes tungstenite write its pong (logged by the tap):
                // log the ping first.
                burst.push(at.frame(Direction::In, Opcode::Ping, b, 0));
                return Poll::Ready((with_wire_lens(burst, deflate), None));
            }
            Some(Ok(Message::Pong(b))) => {
                let rtt = take_rtt(pings, &b);
                burst.push(at.frame(Direction::In, Opcode::Pong, b, rtt));
            }
            Some(Ok(Message::Frame(_))) => {}
            other => return Poll::Ready((with_wire_lens(burst, deflate), Some(other))),
        }
    }
    if burst.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready((with_wire_lens(burst, deflate), None))
    }
}

/// The burst's data frames get their permessage-deflate wire sizes.
fn with_wire_lens(mut burst: Vec<Frame>, deflate: &DeflateCtx) -> Vec<Frame> {
    let data = burst.iter_mut().filter(|f| f.opcode.is_data());
    deflate.take_wire_lens(data.map(|f| &mut f.compressed_len));
    burst
}

/// Remember a ping we are about to send (the last 64 at most).
pub(super) fn note_ping(pings: &PendingPings, payload: Bytes) {
    let mut q = lock(pings);
    q.push_back((payload, Instant::now()));
    if q.len() > 64 {
        q.pop_front();
    }
}

fn take_rtt(pings: &PendingPings, payload: &Bytes) -> u32 {
    let mut q = lock(pings);
    match q.iter().position(|(p, _)| p == payload) {
        Some(i) => {
            let sent = q[i].1;
            q.drain(..=i);
            sent.elapsed().as_micros().clamp(1, u32::MAX as u128) as u32
        }
        None => 0,
    }
}

pub(super) enum ReadError {
    /// We must fail the connection with this close (RFC 6455 section 7.1.7).
    Fail(CloseInfo),
    /// The transport is gone.
    Lost(String),
}

pub(super) fn classify(e: &WsError) -> ReadError {
    let fail = |code: u16, reason: String| ReadError::Fail(CloseInfo::new(code, reason));
    match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => fail(
            1009,
            format!("message of {size} bytes exceeds the limit of {max_size} bytes"),
        ),
        WsError::Capacity(c) => fail(1009, c.to_string()),
        WsError::Utf8(_) => fail(1007, "text message is not valid UTF-8".into()),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            ReadError::Lost("connection reset without a closing handshake".into())
        }
        WsError::Protocol(p) => fail(1002, format!("protocol error: {p}")),
        WsError::Io(io) => ReadError::Lost(format!("connection lost: {io}")),
        other => ReadError::Lost(format!("connection lost: {other}")),
    }
}
