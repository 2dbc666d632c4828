//! The read side of permessage-deflate: a stream layer under tungstenite. Until the
//! HTTP response has ended it passes bytes through and reads the server's answer;
//! then, if compression was agreed, it walks the server's frames, passes control and
//! uncompressed frames through untouched, and turns each compressed message into
//! plain frames of at most one chunk each, inflated as tungstenite reads them. Memory
//! stays bounded: one read buffer, one chunk, and a hard cap on the inflated size.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use flate2::{Decompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stored::{self, Scan, WINDOW};
use super::{negotiate, DeflateCtx, TAIL};
use crate::close::CloseInfo;

/// Bytes read from the socket at once.
const READ_SIZE: usize = 128 * 1024;
/// Inflated bytes handed up per frame at most.
const CHUNK: usize = 64 * 1024;
/// Response heads longer than this are not read for the answer (tungstenite refuses them).
const MAX_HEAD: usize = 64 * 1024;
/// A frame tungstenite refuses (RSV2 set): how the layer makes it fail the connection.
const POISON: [u8; 2] = [0x80 | 0x20 | 0x02, 0x00];

enum Mode {
    /// Before the end of the HTTP response: the head read so far.
    Http(Vec<u8>),
    /// Compression not in force: bytes pass untouched.
    Raw,
    /// Compression in force: frames are walked.
    Frames,
}

#[derive(Clone, Copy)]
enum St {
    Header,
    /// Bytes to pass through untouched (a header and its payload).
    Pass(u64),
    /// Payload bytes to drop (after a fault).
    Skip(u64),
    /// Compressed payload left in this frame; is it the message's last frame; bytes
    /// of the sync marker fed so far.
    Inflate {
        left: u64,
        fin: bool,
        tail: usize,
    },
    /// A message of stored blocks handed up by the fast path (stored.rs): payload
    /// bytes left in the frame, stored bytes left in the current block, bytes handed
    /// up so far, the message's size, its wire size.
    Stored {
        left: u64,
        seg: u64,
        done: u64,
        total: u64,
        wire: u64,
    },
}

/// The data message being read.
struct Msg {
    compressed: bool,
    opcode: u8,
    /// A frame of it has been handed up (later ones are continuations).
    started: bool,
    wire: u64,
    inflated: u64,
    /// The deflate stream ended (BFINAL): the rest of the message is ignored.
    ended: bool,
}

pub struct Inflate<S> {
    inner: S,
    ctx: Arc<DeflateCtx>,
    mode: Mode,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Frames made here, waiting to be read.
    out: Vec<u8>,
    out_pos: usize,
    st: St,
    msg: Option<Msg>,
    z: Decompress,
    reset_each: bool,
    faulted: bool,
    scratch: Box<[u8]>,
    chunk: usize,
    /// zlib sits at a block boundary: the stored fast path may skip it.
    z_fresh: bool,
    /// What the fast path handed up since zlib last ran, for zlib's window.
    window: Vec<u8>,
    /// Messages the fast path handed up.
    #[cfg(test)]
    pub(super) fast: usize,
}

impl<S> Inflate<S> {
    pub(crate) fn new(inner: S, ctx: Arc<DeflateCtx>) -> Self {
        let chunk = CHUNK.min(ctx.max_frame).max(1);
        Self {
            inner,
            ctx,
            mode: Mode::Http(Vec::new()),
            buf: vec![0; READ_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            out: Vec::new(),
            out_pos: 0,
            st: St::Header,
            msg: None,
            // Window 15 inflates whatever window the server uses.
            z: Decompress::new(false),
            reset_each: false,
            faulted: false,
            scratch: vec![0; chunk].into_boxed_slice(),
            chunk,
            z_fresh: true,
            window: Vec::new(),
            #[cfg(test)]
            fast: 0,
        }
    }

    /// Bytes held now: buffered input and frames made but not yet read.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        (self.end - self.pos) + (self.out.len() - self.out_pos)
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Read more from the socket into the buffer (`eof` on the end of the stream).
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncRead + Unpin,
    {
        // Move what is left to the front only when the end is reached (or nothing is
        // left): a frame awaited whole is not moved on every read.
        if self.pos > 0 && (self.pos == self.end || self.end == self.buf.len()) {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let mut grown = vec![0; self.buf.len() * 2];
            grown[..self.end].copy_from_slice(&self.buf[..self.end]);
            self.buf = grown.into_boxed_slice();
        }
        let mut rb = ReadBuf::new(&mut self.buf[self.end..]);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut rb))?;
        let n = rb.filled().len();
        self.eof = n == 0;
        self.end += n;
        Poll::Ready(Ok(()))
    }

    /// Hand `n` buffered bytes up as they are.
    fn pass(&mut self, n: usize, to: &mut ReadBuf<'_>) {
        to.put_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
    }

    /// The HTTP response head, up to its blank line; then the answer is checked.
    fn http(&mut self, to: &mut ReadBuf<'_>) {
        let Mode::Http(head) = &mut self.mode else { return };
        let room = to.remaining().min(self.end - self.pos);
        let mut n = 0;
        let mut done = false;
        while n < room {
            head.push(self.buf[self.pos + n]);
            n += 1;
            if head.ends_with(b"\r\n\r\n") {
                done = true;
                break;
            }
        }
        let too_long = head.len() > MAX_HEAD;
        let switching = head.starts_with(b"HTTP/1.1 101 ");
        let answer = done.then(|| negotiate(self.ctx.offer.as_ref(), &extension_headers(head)));
        self.pass(n, to);
        match answer {
            Some(Ok(Some(p))) if switching => {
                self.reset_each = p.server_no_context_takeover;
                self.ctx.settle(Ok(Some(p)));
                self.mode = Mode::Frames;
            }
            Some(answer) => {
                self.ctx.settle(answer);
                self.mode = Mode::Raw;
                // A refusal's body comes with its head, as tungstenite expects.
                let more = to.remaining().min(self.end - self.pos);
                self.pass(more, to);
            }
            None if too_long => self.mode = Mode::Raw,
            None => {}
        }
    }

    /// One step over the buffered frames; false when nothing could be done without
    /// more input.
    fn step(&mut self, to: &mut ReadBuf<'_>) -> bool {
        match self.st {
            St::Pass(left) | St::Skip(left) => {
                let n = (left.min((self.end - self.pos) as u64) as usize).min(to.remaining());
                if left > 0 && n == 0 {
                    return false;
                }
                match self.st {
                    St::Pass(_) => self.pass(n, to),
                    _ => self.pos += n,
                }
                let left = left - n as u64;
                self.st = match (self.st, left) {
                    (_, 0) => St::Header,
                    (St::Pass(_), _) => St::Pass(left),
                    _ => St::Skip(left),
                };
                true
            }
            St::Header => self.header(),
            St::Inflate { left, fin, tail } => self.inflate(left, fin, tail),
            St::Stored { .. } => self.stored(to),
        }
    }

    /// Decide what the frame whose header starts the buffer is.
    fn header(&mut self) -> bool {
        let Some(h) = parse_header(self.avail()) else {
            return false;
        };
        let total = h.header_len as u64 + h.len;
        if self.faulted {
            self.st = if h.op >= 8 { St::Pass(total) } else { St::Skip(total) };
            return true;
        }
        let plain = !h.rsv1 && !h.other_rsv;
        let clean = h.rsv1 && !h.other_rsv && !h.masked && h.len <= self.ctx.max_frame as u64;
        if clean && h.fin && self.msg.is_none() && matches!(h.op, 1 | 2) {
            match self.scan_stored(&h) {
                Scan::Stored(n) => {
                    self.begin_stored(&h, n);
                    return true;
                }
                Scan::More => return false,
                Scan::Not => {}
            }
        }
        self.st = St::Pass(total);
        match (h.op, &mut self.msg) {
            (1 | 2, None) if clean => {
                if let Err(e) = self.restore_window() {
                    self.fail(
                        total,
                        1011,
                        format!("the compression window could not be restored: {e}"),
                    );
                    return true;
                }
                self.msg = Some(Msg {
                    compressed: true,
                    opcode: h.op,
                    started: false,
                    wire: 0,
                    inflated: 0,
                    ended: false,
                });
                self.begin_inflate(&h);
            }
            (1 | 2, None) if plain && h.fin => self.ctx.push_wire_len(0),
            (1 | 2, None) if plain => {
                self.msg = Some(Msg {
                    compressed: false,
                    opcode: h.op,
                    started: true,
                    wire: 0,
                    inflated: 0,
                    ended: false,
                })
            }
            (0, Some(m))
                if m.compressed && !h.rsv1 && !h.other_rsv && !h.masked && h.len <= self.ctx.max_frame as u64 =>
            {
                self.begin_inflate(&h)
            }
            (0, Some(m)) if !m.compressed && plain && h.fin => {
                self.msg = None;
                self.ctx.push_wire_len(0);
            }
            // Control frames, and anything tungstenite must refuse, go up as they are.
            _ => {}
        }
        true
    }

    fn begin_inflate(&mut self, h: &Header) {
        self.pos += h.header_len;
        if let Some(m) = self.msg.as_mut() {
            m.wire += h.len;
        }
        self.st = St::Inflate {
            left: h.len,
            fin: h.fin,
            tail: 0,
        };
    }

    fn inflate(&mut self, mut left: u64, fin: bool, mut tail: usize) -> bool {
        let Some(mut msg) = self.msg.take() else {
            self.st = St::Header;
            return true;
        };
        let avail = left.min((self.end - self.pos) as u64) as usize;
        let input: &[u8] = if left > 0 {
            &self.buf[self.pos..self.pos + avail]
        } else if fin {
            &TAIL[tail..]
        } else {
            &[]
        };
        let (in0, out0) = (self.z.total_in(), self.z.total_out());
        if msg.ended {
            // Whatever follows the end of the deflate stream is ignored.
        } else if let Err(e) = self
            .z
            .decompress(input, &mut self.scratch, FlushDecompress::None)
            .map(|st| {
                if st == Status::StreamEnd {
                    msg.ended = true;
                }
            })
        {
            self.fail(
                left,
                1007,
                format!("a compressed message from the server does not inflate: {e}"),
            );
            return true;
        }
        let consumed = if msg.ended && self.z.total_in() == in0 {
            input.len()
        } else {
            (self.z.total_in() - in0) as usize
        };
        let produced = (self.z.total_out() - out0) as usize;
        if left > 0 {
            self.pos += consumed;
            left -= consumed as u64;
        } else if fin {
            tail += consumed;
        }
        msg.inflated += produced as u64;
        if msg.inflated > self.ctx.max_message as u64 {
            let why = format!(
                "a compressed message inflates past the limit of {} bytes ({} bytes on the wire so far)",
                self.ctx.max_message, msg.wire
            );
            self.fail(left, 1009, why);
            return true;
        }
        let drained = produced < self.chunk;
        let complete = left == 0 && fin && (tail == TAIL.len() || msg.ended) && drained;
        if produced > 0 || complete {
            let op = if msg.started { 0 } else { msg.opcode };
            msg.started = true;
            push_frame(&mut self.out, op, complete, &self.scratch[..produced]);
        }
        if complete {
            self.ctx.push_wire_len(msg.wire);
            if self.reset_each || msg.ended {
                self.z.reset(false);
                self.z_fresh = true;
            }
            self.st = St::Header;
            return true;
        }
        self.msg = Some(msg);
        self.st = if left == 0 && !fin && drained {
            St::Header
        } else {
            St::Inflate { left, fin, tail }
        };
        if consumed == 0 && produced == 0 && left > 0 && avail > 0 {
            // zlib took nothing and gave nothing: never spin on it.
            self.fail(
                left,
                1007,
                "a compressed message from the server does not inflate".into(),
            );
            return true;
        }
        consumed > 0 || produced > 0 || matches!(self.st, St::Header)
    }

    /// Whether the frame whose header is `h` (a whole compressed message) can take the
    /// stored fast path; `More` waits for the rest of a frame that may.
    fn scan_stored(&self, h: &Header) -> Scan {
        if !self.z_fresh || h.len > self.chunk as u64 + 64 {
            return Scan::Not;
        }
        let start = self.pos + h.header_len;
        let seen = &self.buf[start..self.end.max(start)];
        let limit = self.chunk.min(self.ctx.max_message) as u64;
        stored::scan(&seen[..seen.len().min(h.len as usize)], h.len, limit)
    }

    fn begin_stored(&mut self, h: &Header, total: u64) {
        self.pos += h.header_len;
        push_head(&mut self.out, h.op, true, total as usize);
        self.st = St::Stored {
            left: h.len,
            seg: 0,
            done: 0,
            total,
            wire: h.len,
        };
    }

    /// One step of the fast path: stored bytes straight up, block headers skipped
    /// (the scan checked them), then the empty block the tail ends.
    fn stored(&mut self, to: &mut ReadBuf<'_>) -> bool {
        let St::Stored {
            mut left,
            mut seg,
            mut done,
            total,
            wire,
        } = self.st
        else {
            return false;
        };
        let avail = (self.end - self.pos) as u64;
        if seg > 0 {
            let n = seg.min(avail).min(to.remaining() as u64) as usize;
            if n == 0 {
                return false;
            }
            if !self.reset_each {
                stored::keep(&mut self.window, &self.buf[self.pos..self.pos + n], done, total);
            }
            self.pass(n, to);
            (seg, left, done) = (seg - n as u64, left - n as u64, done + n as u64);
        } else if left >= 5 {
            if avail < 5 {
                return false;
            }
            seg = u16::from_le_bytes([self.buf[self.pos + 1], self.buf[self.pos + 2]]) as u64;
            self.pos += 5;
            left -= 5;
        } else {
            if avail < left {
                return false;
            }
            self.pos += left as usize;
            self.ctx.push_wire_len(wire);
            if self.reset_each {
                self.window.clear();
            }
            #[cfg(test)]
            {
                self.fast += 1;
            }
            self.st = St::Header;
            return true;
        }
        self.st = St::Stored {
            left,
            seg,
            done,
            total,
            wire,
        };
        true
    }

    /// Before zlib inflates a message: give it what the fast path handed up since it
    /// last ran, as its window.
    fn restore_window(&mut self) -> Result<(), flate2::DecompressError> {
        self.z_fresh = false;
        if !self.window.is_empty() {
            let from = self.window.len().saturating_sub(WINDOW);
            self.z.set_dictionary(&self.window[from..])?;
            self.window.clear();
        }
        Ok(())
    }

    /// Fail the connection: record why, hand tungstenite a frame it refuses, and from
    /// then on drop data frames (control frames, the peer's close above all, still go up).
    fn fail(&mut self, left: u64, code: u16, why: String) {
        self.ctx.set_fault(CloseInfo::new(code, why));
        self.out.extend_from_slice(&POISON);
        self.faulted = true;
        self.msg = None;
        self.st = if left > 0 { St::Skip(left) } else { St::Header };
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Inflate<S> {
    /// Fills `to` with as many frames as are buffered (one poll per burst, not per
    /// frame), reading the socket only when nothing is left to hand up.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, to: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let start = to.filled().len();
        loop {
            if this.out_pos < this.out.len() {
                let n = (this.out.len() - this.out_pos).min(to.remaining());
                to.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    this.out.clear();
                    this.out_pos = 0;
                }
            }
            if to.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.pos == this.end && matches!(this.mode, Mode::Raw) {
                if to.filled().len() > start {
                    return Poll::Ready(Ok(()));
                }
                return Pin::new(&mut this.inner).poll_read(cx, to);
            }
            let progressed = match this.mode {
                Mode::Raw => {
                    let n = (this.end - this.pos).min(to.remaining());
                    this.pass(n, to);
                    true
                }
                Mode::Http(_) if this.pos < this.end => {
                    this.http(to);
                    // tungstenite reads the response head on its own: hand it up alone.
                    return Poll::Ready(Ok(()));
                }
                Mode::Http(_) => false,
                Mode::Frames => this.step(to),
            };
            if progressed {
                continue;
            }
            if to.filled().len() > start {
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                if this.pos < this.end {
                    // A truncated frame: hand it up as it is, then the end.
                    this.mode = Mode::Raw;
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            ready!(this.fill(cx))?;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Inflate<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

pub(super) struct Header {
    pub fin: bool,
    pub rsv1: bool,
    pub other_rsv: bool,
    pub op: u8,
    pub masked: bool,
    pub len: u64,
    pub header_len: usize,
}

/// A frame header at the start of `d`, once it is all there.
pub(super) fn parse_header(d: &[u8]) -> Option<Header> {
    let (&b0, &b1) = (d.first()?, d.get(1)?);
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let masked = b1 & 0x80 != 0;
    let header_len = 2 + ext + if masked { 4 } else { 0 };
    if d.len() < header_len {
        return None;
    }
    let len = match ext {
        2 => u16::from_be_bytes([d[2], d[3]]) as u64,
        8 => u64::from_be_bytes(d[2..10].try_into().ok()?),
        _ => (b1 & 0x7f) as u64,
    };
    Some(Header {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        other_rsv: b0 & 0x30 != 0,
        op: b0 & 0x0f,
        masked,
        len,
        header_len,
    })
}

/// A server frame (unmasked) carrying `payload`.
pub(super) fn push_frame(out: &mut Vec<u8>, op: u8, fin: bool, payload: &[u8]) {
    push_head(out, op, fin, payload.len());
    out.extend_from_slice(payload);
}

/// The header of a server frame (unmasked) of `len` payload bytes.
fn push_head(out: &mut Vec<u8>, op: u8, fin: bool, len: usize) {
    out.push(if fin { 0x80 } else { 0 } | op);
    match len {
        n if n < 126 => out.push(n as u8),
        n if n <= u16::MAX as usize => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
}

/// Every `Sec-WebSocket-Extensions` value of an HTTP response head.
fn extension_headers(head: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}
