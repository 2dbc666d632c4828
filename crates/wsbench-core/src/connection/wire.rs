//! A transparent layer under tungstenite that parses the frames we write.
//!
//! tungstenite answers pings and close frames on its own, silently skips a close once
//! closing has begun, and offers no switch to stop answering pings. This tap sees
//! every outgoing frame, so it (a) logs every close frame and every automatic pong as
//! it really went out, and (b) drops automatic pongs when the user turned auto-pong
//! off. Data frames pass untouched; the read side is a plain pass-through.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Recorder;
use crate::frame::{Clock, Direction, Opcode};
use crate::sync::lock;

const OP_CLOSE: u8 = 0x8;
const OP_PONG: u8 = 0xA;
/// The largest payload of a valid control frame (RFC 6455, 5.5).
const MAX_CONTROL: u64 = 125;

pub struct TapContext {
    recorder: Arc<dyn Recorder>,
    clock: Clock,
    auto_pong: bool,
    /// Set once the HTTP upgrade is done: from then on every byte written is a frame.
    armed: AtomicBool,
    /// Payloads of pongs the user asked for (logged by the writer, never dropped).
    user_pongs: Mutex<VecDeque<Bytes>>,
    /// Sequence number of the last close frame written (0: none yet).
    last_close_seq: std::sync::atomic::AtomicU64,
    /// The HTTP upgrade request exactly as written (before `arm`), capped.
    request: Mutex<Vec<u8>>,
    /// The first bytes the server sent before the upgrade finished (a TLS record
    /// there means `ws://` was pointed at a TLS port).
    first_read: Mutex<Vec<u8>>,
}

const MAX_RECORDED_REQUEST: usize = 64 * 1024;
const FIRST_READ_BYTES: usize = 8;

impl TapContext {
    pub(crate) fn new(recorder: Arc<dyn Recorder>, clock: Clock, auto_pong: bool) -> Arc<Self> {
        Arc::new(Self {
            recorder,
            clock,
            auto_pong,
            armed: AtomicBool::new(false),
            user_pongs: Mutex::default(),
            last_close_seq: Default::default(),
            request: Mutex::default(),
            first_read: Mutex::default(),
        })
    }

    /// The bytes of the upgrade request as they went out.
    pub(crate) fn sent_request(&self) -> Vec<u8> {
        lock(&self.request).clone()
    }

    /// The first few bytes read before the upgrade finished.
    pub(crate) fn first_read(&self) -> Vec<u8> {
        lock(&self.first_read).clone()
    }

    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// Announce a user pong before handing it to tungstenite.
    pub(crate) fn expect_user_pong(&self, payload: Bytes) {
        lock(&self.user_pongs).push_back(payload);
    }

    /// The sequence number of the last close frame that went out (0 if none).
    pub(crate) fn last_close_seq(&self) -> u64 {
        self.last_close_seq.load(Ordering::Acquire)
    }

    /// Is this pong one the user sent? `take` consumes the match.
    fn is_user_pong(&self, payload: &[u8], take: bool) -> bool {
        let mut q = lock(&self.user_pongs);
        match q.iter().position(|p| p.as_ref() == payload) {
            Some(i) => {
                if take {
                    q.remove(i);
                }
                true
            }
            None => false,
        }
    }

    fn log_written(&self, op: u8, payload: Vec<u8>) {
        let opcode = if op == OP_PONG { Opcode::Pong } else { Opcode::Close };
        let seq = self
            .recorder
            .frame(self.clock.frame(Direction::Out, opcode, Bytes::from(payload), 0));
        if op == OP_CLOSE {
            self.last_close_seq.store(seq, Ordering::Release);
        }
    }
}

#[derive(Clone, Default)]
struct Parser {
    hdr: [u8; 14],
    have: usize,
    in_payload: bool,
    left: u64,
    /// The control frame being read: opcode, mask, unmasked payload so far.
    ctl: Option<(u8, [u8; 4], Vec<u8>)>,
}

/// A complete control frame seen by [`Parser::advance`].
struct Ctl {
    op: u8,
    payload: Vec<u8>,
    /// Byte offsets in the slice passed to `advance`; `start` is None when the frame
    /// began in an earlier write.
    start: Option<usize>,
    end: usize,
}

impl Parser {
    fn header_len(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        let b1 = self.hdr[1];
        let ext = match b1 & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
    }

    /// Walk `data`; call `on_ctl` for every control frame that ends inside it.
    fn advance(&mut self, data: &[u8], mut on_ctl: impl FnMut(Ctl) -> bool) {
        let mut i = 0;
        let mut start = None;
        while i < data.len() {
            if !self.in_payload {
                if self.have == 0 {
                    start = Some(i);
                }
                let need = self.header_len();
                let n = (need - self.have).min(data.len() - i);
                self.hdr[self.have..self.have + n].copy_from_slice(&data[i..i + n]);
                self.have += n;
                i += n;
                if self.have < self.header_len() {
                    continue;
                }
                let b1 = self.hdr[1];
                let (len, at) = match b1 & 0x7f {
                    126 => (u16::from_be_bytes([self.hdr[2], self.hdr[3]]) as u64, 4),
                    127 => (u64::from_be_bytes(self.hdr[2..10].try_into().unwrap_or([0; 8])), 10),
                    n => (n as u64, 2),
                };
                let mask = if b1 & 0x80 != 0 {
                    [self.hdr[at], self.hdr[at + 1], self.hdr[at + 2], self.hdr[at + 3]]
                } else {
                    [0; 4]
                };
                let op = self.hdr[0] & 0x0f;
                // A control frame holds at most 125 bytes; keep no more of a bogus one.
                self.ctl = (op >= 0x8).then(|| (op, mask, Vec::with_capacity(len.min(MAX_CONTROL) as usize)));
                self.in_payload = true;
                self.left = len;
            }
            let n = (self.left.min((data.len() - i) as u64)) as usize;
            if let Some((_, mask, buf)) = self.ctl.as_mut() {
                let keep = (MAX_CONTROL as usize).saturating_sub(buf.len()).min(n);
                for &b in &data[i..i + keep] {
                    let k = mask[buf.len() % 4];
                    buf.push(b ^ k);
                }
            }
            i += n;
            self.left -= n as u64;
            if self.left == 0 {
                self.in_payload = false;
                self.have = 0;
                if let Some((op, _, payload)) = self.ctl.take() {
                    if !on_ctl(Ctl {
                        op,
                        payload,
                        start: start.take(),
                        end: i,
                    }) {
                        return;
                    }
                }
                start = None;
            }
        }
    }
}

pub struct WireTap<S> {
    inner: S,
    ctx: Arc<TapContext>,
    parser: Parser,
}

impl<S> WireTap<S> {
    pub(crate) fn new(inner: S, ctx: Arc<TapContext>) -> Self {
        Self {
            inner,
            ctx,
            parser: Parser::default(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WireTap<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ctx.armed.load(Ordering::Acquire) {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        let mut first = lock(&this.ctx.first_read);
        let room = FIRST_READ_BYTES.saturating_sub(first.len());
        let got = &buf.filled()[before..];
        first.extend_from_slice(&got[..got.len().min(room)]);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WireTap<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.ctx.armed.load(Ordering::Acquire) {
            let r = Pin::new(&mut this.inner).poll_write(cx, buf);
            if let Poll::Ready(Ok(n)) = r {
                let mut req = lock(&this.ctx.request);
                let room = MAX_RECORDED_REQUEST.saturating_sub(req.len());
                req.extend_from_slice(&buf[..n.min(room)]);
            }
            return r;
        }
        // Where does the first automatic pong we must suppress start?
        let mut pass = buf.len();
        if !this.ctx.auto_pong {
            let mut scan = this.parser.clone();
            let ctx = &this.ctx;
            // Length of a pong to swallow when it starts this buffer.
            let mut swallow = 0;
            scan.advance(buf, |c| {
                if c.op == OP_PONG && !ctx.is_user_pong(&c.payload, false) {
                    if let Some(s) = c.start {
                        if s == 0 {
                            swallow = c.end;
                        }
                        pass = s;
                        return false;
                    }
                }
                true
            });
            if swallow > 0 {
                // Report the pong as written without writing it.
                this.parser.advance(&buf[..swallow], |_| true);
                return Poll::Ready(Ok(swallow));
            }
        }
        match Pin::new(&mut this.inner).poll_write(cx, &buf[..pass]) {
            Poll::Ready(Ok(n)) => {
                let ctx = &this.ctx;
                this.parser.advance(&buf[..n], |c| {
                    let auto_pong = c.op == OP_PONG && !ctx.is_user_pong(&c.payload, true);
                    if auto_pong || c.op == OP_CLOSE {
                        ctx.log_written(c.op, c.payload);
                    }
                    true
                });
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(op: u8, payload: &[u8]) -> Vec<u8> {
        super::fuzz::frame(op, payload, [1, 2, 3, 4])
    }

    #[test]
    fn finds_control_frames_between_data_frames_in_any_split() {
        let mut wire = masked(0x1, &vec![b'x'; 300]);
        let pong_at = wire.len();
        wire.extend(masked(0xA, b"hb"));
        let pong_end = wire.len();
        wire.extend(masked(0x2, &vec![0; 70_000]));
        wire.extend(masked(0x8, &[0x03, 0xe8, b'o', b'k']));
        for chunk in [1, 2, 3, 7, 100, wire.len()] {
            let mut p = Parser::default();
            let mut seen = Vec::new();
            let mut base = 0;
            for piece in wire.chunks(chunk) {
                p.advance(piece, |c| {
                    seen.push((c.op, c.payload, c.start.map(|s| s + base), c.end + base));
                    true
                });
                base += piece.len();
            }
            assert_eq!(seen.len(), 2, "chunk {chunk}");
            assert_eq!((seen[0].0, &seen[0].1[..]), (OP_PONG, &b"hb"[..]));
            assert_eq!(seen[0].3, pong_end);
            if chunk == wire.len() {
                assert_eq!(seen[0].2, Some(pong_at));
            }
            assert_eq!((seen[1].0, &seen[1].1[..]), (OP_CLOSE, &[0x03, 0xe8, b'o', b'k'][..]));
        }
    }
}
