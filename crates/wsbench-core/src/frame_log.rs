//! The bounded per-tab log: the source of truth for every frame in and out.
//!
//! Short synchronous methods behind a `std::sync::Mutex`; no lock is ever held across
//! an `.await`. Search copies frames out in chunks (cheap `Bytes` clones) and scans
//! them with the lock released, so a long search never stalls the socket reader.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::LogLimits;
use crate::error::{Error, Result};
use crate::frame::{Direction, Frame, Opcode};
use crate::socketio::notes::Notes;
use crate::socketio::{Decoded, OpenInfo};

/// Counters a user sees next to the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Frames dropped from the front because a cap was reached.
    pub evicted_frames: u64,
    pub evicted_bytes: u64,
    /// Frames held now.
    pub held_frames: u64,
    pub held_bytes: u64,
    /// Sequence numbers held now: `first_seq..=last_seq` (both 0 when empty).
    pub first_seq: u64,
    pub last_seq: u64,
}

/// A frame as the log stores it: 56 bytes plus the payload. The sequence number
/// comes from the position (see [`FrameStore`]), the offset, direction and opcode
/// share one word.
struct Stored {
    payload: Bytes,
    at_us: i64,
    /// `offset_us << 8 | direction << 4 | opcode` (offsets saturate at 2^56 µs).
    offset_kind: u64,
    rtt_us: u32,
    // 4 bytes of padding left: room for one more per-frame u32 at no cost.
}

const OFFSET_MAX: u64 = (1 << 56) - 1;

impl Stored {
    fn new(f: Frame, payload: Bytes) -> Self {
        let kind = ((f.direction as u64) << 4) | f.opcode as u64;
        Self {
            payload,
            at_us: f.at_us,
            offset_kind: (f.offset_us.min(OFFSET_MAX) << 8) | kind,
            rtt_us: f.rtt_us,
        }
    }

    fn frame(&self, seq: u64) -> Frame {
        let direction = if (self.offset_kind >> 4) & 0xf == Direction::Out as u64 {
            Direction::Out
        } else {
            Direction::In
        };
        let opcode = match self.offset_kind & 0xf {
            0 => Opcode::Text,
            1 => Opcode::Binary,
            2 => Opcode::Ping,
            3 => Opcode::Pong,
            _ => Opcode::Close,
        };
        Frame {
            seq,
            at_us: self.at_us,
            offset_us: self.offset_kind >> 8,
            payload: self.payload.clone(),
            rtt_us: self.rtt_us,
            direction,
            opcode,
        }
    }
}

/// Payloads up to this size are copied into the log's arena; larger ones are kept
/// as they came (no copy).
const SMALL_PAYLOAD: usize = 256;
/// The size of one arena block.
const ARENA_BLOCK: usize = 256 * 1024;

/// Frames in fixed-size chunks: pushing never reallocates or copies the frames
/// already held (a `VecDeque` doubles, copying everything and holding up to twice
/// the memory), and evicting from the front frees whole chunks.
///
/// Small payloads are copied into shared arena blocks: the socket's read buffer is
/// then free to be reused at once (instead of each kept frame pinning part of it,
/// and the reader zeroing fresh pages for the next), and a block goes when its last
/// frame does. Sequence numbers are `first_seq + index` while they are consecutive
/// (always, for a live log); an imported log with gaps keeps them beside the frames.
struct FrameStore {
    chunks: std::collections::VecDeque<Vec<Stored>>,
    /// Index of the first live frame in `chunks[0]`.
    head: usize,
    len: usize,
    first_seq: u64,
    /// Each held frame's sequence number, only once they stop being consecutive.
    seqs: Option<std::collections::VecDeque<u64>>,
    arena: BytesMut,
}

const CHUNK: usize = 4096;

impl FrameStore {
    fn new() -> Self {
        Self {
            chunks: Default::default(),
            head: 0,
            len: 0,
            first_seq: 0,
            seqs: None,
            arena: BytesMut::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn keep(&mut self, payload: Bytes) -> Bytes {
        if payload.is_empty() || payload.len() > SMALL_PAYLOAD {
            return payload;
        }
        if self.arena.capacity() - self.arena.len() < payload.len() {
            self.arena = BytesMut::with_capacity(ARENA_BLOCK);
        }
        self.arena.extend_from_slice(&payload);
        self.arena.split().freeze()
    }

    fn push_back(&mut self, mut f: Frame) {
        if self.len == 0 {
            self.first_seq = f.seq;
        }
        let consecutive = f.seq == self.first_seq + self.len as u64;
        match self.seqs.as_mut() {
            Some(seqs) => seqs.push_back(f.seq),
            None if !consecutive => {
                let mut seqs: std::collections::VecDeque<u64> =
                    (self.first_seq..self.first_seq + self.len as u64).collect();
                seqs.push_back(f.seq);
                self.seqs = Some(seqs);
            }
            None => {}
        }
        if self.chunks.back().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push_back(Vec::with_capacity(CHUNK));
        }
        let payload = self.keep(std::mem::take(&mut f.payload));
        if let Some(c) = self.chunks.back_mut() {
            c.push(Stored::new(f, payload));
            self.len += 1;
        }
    }

    /// Drop the oldest frame; returns its payload length.
    fn pop_front(&mut self) -> Option<usize> {
        let first = self.chunks.front_mut()?;
        let len = std::mem::take(&mut first.get_mut(self.head)?.payload).len();
        self.head += 1;
        self.len -= 1;
        if self.head == first.len() && (first.len() == CHUNK || self.len == 0) {
            self.chunks.pop_front();
            self.head = 0;
        }
        match self.seqs.as_mut() {
            Some(seqs) => {
                seqs.pop_front();
                self.first_seq = seqs.front().copied().unwrap_or(self.first_seq + 1);
            }
            None => self.first_seq += 1,
        }
        Some(len)
    }

    fn stored(&self, i: usize) -> Option<&Stored> {
        if i >= self.len {
            return None;
        }
        let i = i + self.head;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn seq(&self, i: usize) -> Option<u64> {
        if i >= self.len {
            return None;
        }
        match &self.seqs {
            Some(seqs) => seqs.get(i).copied(),
            None => Some(self.first_seq + i as u64),
        }
    }

    fn payload_len(&self, i: usize) -> usize {
        self.stored(i).map_or(0, |s| s.payload.len())
    }

    fn get(&self, i: usize) -> Option<Frame> {
        Some(self.stored(i)?.frame(self.seq(i)?))
    }

    fn front_seq(&self) -> Option<u64> {
        self.seq(0)
    }

    fn back_seq(&self) -> Option<u64> {
        self.len.checked_sub(1).and_then(|i| self.seq(i))
    }

    fn range(&self, r: std::ops::Range<usize>) -> impl Iterator<Item = Frame> + '_ {
        r.filter_map(move |i| self.get(i))
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.head = 0;
        self.len = 0;
        self.seqs = None;
    }
}

/// A log with one reader that must see every frame (the CLI printing a stream): frames
/// not marked read are never evicted, and the connection stops reading its socket
/// while too many are unread (TCP then slows the peer down), so memory stays bounded
/// whatever the stream length and however slow the reader.
struct ReadGate {
    /// At most this many frames, and this many payload bytes, unread (a read may go
    /// past by one burst of buffered frames).
    max_frames: u64,
    max_bytes: u64,
    /// The first sequence number not read yet.
    next_unread: u64,
    unread_bytes: u64,
}

struct Inner {
    frames: FrameStore,
    gate: Option<ReadGate>,
    /// Sequence numbers are consecutive (always, for a live log). A log built from
    /// imported frames (a filtered export, say) may have gaps: lookups then search.
    contiguous: bool,
    held_bytes: usize,
    next_seq: u64,
    limits: LogLimits,
    stats: LogStats,
}

pub struct FrameLog {
    inner: Mutex<Inner>,
    /// Socket.IO mode: the decoded view of frames, by sequence number.
    notes: Notes,
    /// Last sequence number pushed; followers (the CLI, exporters) wait on it.
    last_seq: watch::Sender<u64>,
    /// With a read gate: whether the connection may read more (see [`FrameLog::poll_room`]).
    room: AtomicBool,
    /// The connection's reader, waiting for room.
    room_waker: Mutex<Option<Waker>>,
}

/// A search over the log. Empty `text` matches every frame passing the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchQuery {
    pub text: String,
    /// Treat `text` as a regular expression (Rust `regex` syntax).
    pub regex: bool,
    pub case_sensitive: bool,
    /// Only these directions; empty means both.
    pub directions: Vec<Direction>,
    /// Only these opcodes; empty means all.
    pub opcodes: Vec<Opcode>,
    /// Start at this sequence number (inclusive); 0 means the oldest held frame.
    pub from_seq: u64,
    /// Return at most this many sequence numbers; 0 means 10 000. All are counted.
    pub limit: usize,
    /// Socket.IO mode: only frames carrying one of these events; empty means all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Matching sequence numbers, oldest first, at most `limit`.
    pub seqs: Vec<u64>,
    /// How many frames matched in all.
    pub total: u64,
    pub scanned: u64,
}

/// A compiled [`SearchQuery`]; usable on any frame (live or imported).
pub struct FrameFilter {
    re: Option<regex::bytes::Regex>,
    directions: Vec<Direction>,
    opcodes: Vec<Opcode>,
    events: Vec<String>,
}

impl FrameFilter {
    pub fn new(q: &SearchQuery) -> Result<Self> {
        let re = if q.text.is_empty() {
            None
        } else {
            let pattern = if q.regex {
                q.text.clone()
            } else {
                regex::escape(&q.text)
            };
            let re = regex::bytes::RegexBuilder::new(&pattern)
                .case_insensitive(!q.case_sensitive)
                .size_limit(16 << 20)
                .build()
                .map_err(|e| Error::InvalidSearch {
                    pattern: q.text.clone(),
                    reason: e.to_string(),
                })?;
            Some(re)
        };
        Ok(Self {
            re,
            directions: q.directions.clone(),
            opcodes: q.opcodes.clone(),
            events: q.events.clone(),
        })
    }

    /// [`FrameFilter::matches`], plus the Socket.IO event names, read from `log`'s
    /// decoded views (a frame with none never matches an event filter).
    pub fn matches_in(&self, log: &FrameLog, f: &Frame) -> bool {
        let event_ok = self.events.is_empty()
            || log
                .decoded(f.seq)
                .is_some_and(|n| n.event.as_ref().is_some_and(|e| self.events.contains(e)));
        event_ok && self.matches(f)
    }

    pub fn matches(&self, f: &Frame) -> bool {
        (self.directions.is_empty() || self.directions.contains(&f.direction))
            && (self.opcodes.is_empty() || self.opcodes.contains(&f.opcode))
            && match &self.re {
                None => true,
                Some(re) if f.opcode == Opcode::Close => re.is_match(f.payload.get(2..).unwrap_or(&[])),
                Some(re) => re.is_match(&f.payload),
            }
    }
}

const SEARCH_CHUNK: usize = 32 * 1024;

impl FrameLog {
    pub fn new(limits: LogLimits) -> Self {
        let limits = LogLimits {
            max_frames: limits.max_frames.max(1),
            max_bytes: limits.max_bytes.max(1),
        };
        Self {
            inner: Mutex::new(Inner {
                frames: FrameStore::new(),
                gate: None,
                contiguous: true,
                held_bytes: 0,
                next_seq: 1,
                limits,
                stats: LogStats::default(),
            }),
            last_seq: watch::channel(0).0,
            notes: Notes::default(),
            room: AtomicBool::new(true),
            room_waker: Mutex::new(None),
        }
    }

    /// A log holding `frames` as they are, sequence numbers included (an imported
    /// file, opened read-only). Sequence numbers may have gaps; if they are not
    /// strictly increasing from 1 or more, the frames are renumbered 1..=n in order.
    /// The caps apply as usual (the oldest go first); new pushes continue after the
    /// last sequence number.
    pub fn from_frames(limits: LogLimits, mut frames: Vec<Frame>) -> Self {
        let ordered = frames.first().is_none_or(|f| f.seq > 0) && frames.windows(2).all(|w| w[0].seq < w[1].seq);
        if !ordered {
            for (i, f) in frames.iter_mut().enumerate() {
                f.seq = i as u64 + 1;
            }
        }
        let log = Self::new(limits);
        let last = {
            let mut guard = log.lock();
            let g = &mut *guard;
            let first = frames.first().map_or(1, |f| f.seq);
            let last = frames.last().map_or(0, |f| f.seq);
            g.contiguous = frames.is_empty() || last - first + 1 == frames.len() as u64;
            for f in frames {
                let len = f.payload.len();
                let (n, bytes) = match f.direction {
                    Direction::In => (&mut g.stats.frames_in, &mut g.stats.bytes_in),
                    Direction::Out => (&mut g.stats.frames_out, &mut g.stats.bytes_out),
                };
                *n += 1;
                *bytes += len as u64;
                g.held_bytes += len;
                g.frames.push_back(f);
            }
            g.next_seq = last + 1;
            Self::evict(g);
            last
        };
        log.last_seq.send_replace(last);
        log
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the log half-updated in a way
        // that matters more than losing the whole tab, so keep going.
        crate::sync::lock(&self.inner)
    }

    /// Append a frame, assigning its sequence number; returns it. Evicts from the
    /// front while either cap is exceeded; the newest frame is always kept.
    pub fn push(&self, mut frame: Frame) -> Frame {
        {
            let mut g = self.lock();
            frame.seq = Self::append(&mut g, frame.clone());
            Self::evict(&mut g);
            self.update_room(&g);
        }
        self.last_seq.send_replace(frame.seq);
        frame
    }

    /// Append a frame with its decoded view (Socket.IO mode); returns its number. The
    /// view is stored before followers hear of the frame, so they always find it.
    pub fn push_decoded(&self, frame: Frame, note: Decoded) -> u64 {
        let seq = {
            let mut g = self.lock();
            let seq = Self::append(&mut g, frame);
            Self::evict(&mut g);
            self.update_room(&g);
            seq
        };
        self.notes.insert(seq, note);
        self.last_seq.send_replace(seq);
        seq
    }

    /// The decoded view of frame `seq` (Socket.IO mode).
    pub fn decoded(&self, seq: u64) -> Option<std::sync::Arc<Decoded>> {
        self.notes.get(seq)
    }

    /// The decoded views of frames `from..=to`.
    pub fn decoded_range(&self, from: u64, to: u64) -> Vec<(u64, std::sync::Arc<Decoded>)> {
        self.notes.range(from, to)
    }

    /// The last Engine.IO open packet logged.
    pub fn engine_open(&self) -> Option<OpenInfo> {
        self.notes.open()
    }

    /// Append frames in order under one lock, with one notification for the lot.
    /// Returns the last sequence number assigned (None for no frames).
    pub fn push_many(&self, frames: Vec<Frame>) -> Option<u64> {
        let last = {
            let mut g = self.lock();
            for f in frames {
                Self::append(&mut g, f);
            }
            Self::evict(&mut g);
            self.update_room(&g);
            g.next_seq - 1
        };
        (last > 0).then(|| {
            self.last_seq.send_replace(last);
            last
        })
    }

    /// Number, count and store one frame; returns its sequence number.
    fn append(inner: &mut Inner, mut frame: Frame) -> u64 {
        let seq = inner.next_seq;
        inner.next_seq += 1;
        frame.seq = seq;
        let len = frame.payload.len();
        let (frames, bytes) = match frame.direction {
            Direction::In => (&mut inner.stats.frames_in, &mut inner.stats.bytes_in),
            Direction::Out => (&mut inner.stats.frames_out, &mut inner.stats.bytes_out),
        };
        *frames += 1;
        *bytes += len as u64;
        inner.held_bytes += len;
        inner.frames.push_back(frame);
        if let Some(g) = inner.gate.as_mut() {
            g.unread_bytes += len as u64;
        }
        seq
    }

    fn evict(inner: &mut Inner) {
        let keep_from = inner.gate.as_ref().map_or(u64::MAX, |g| g.next_unread);
        while inner.frames.len() > 1
            && (inner.frames.len() > inner.limits.max_frames || inner.held_bytes > inner.limits.max_bytes)
            && inner.frames.front_seq().is_some_and(|s| s < keep_from)
        {
            if let Some(len) = inner.frames.pop_front() {
                inner.held_bytes -= len;
                inner.stats.evicted_frames += 1;
                inner.stats.evicted_bytes += len as u64;
            }
        }
    }

    /// Give the log one reader that must see every frame: from now on frames not
    /// marked read ([`FrameLog::mark_read`]) are never evicted, and while more than
    /// `max_frames` frames or `max_bytes` payload bytes are unread the connection
    /// stops reading its socket ([`FrameLog::poll_room`]). The caps then bound what
    /// is kept of the frames already read.
    pub fn keep_unread(&self, max_frames: usize, max_bytes: usize) {
        let mut g = self.lock();
        let next_unread = g.frames.front_seq().unwrap_or(g.next_seq);
        g.gate = Some(ReadGate {
            max_frames: max_frames.max(1) as u64,
            max_bytes: max_bytes.max(1) as u64,
            next_unread,
            unread_bytes: g.held_bytes as u64,
        });
        self.update_room(&g);
    }

    /// The reader has seen every frame before `next_seq`: they may be evicted, and
    /// the connection may read again if it was waiting for room.
    pub fn mark_read(&self, next_seq: u64) {
        let mut guard = self.lock();
        let g = &mut *guard;
        let Some(unread) = g.gate.as_ref().map(|gate| gate.next_unread) else {
            return;
        };
        if next_seq <= unread {
            return;
        }
        let from = Self::index_of(g, unread);
        let to = Self::index_of(g, next_seq).min(g.frames.len());
        let read: u64 = (from..to).map(|i| g.frames.payload_len(i) as u64).sum();
        let Some(gate) = g.gate.as_mut() else { return };
        gate.unread_bytes = gate.unread_bytes.saturating_sub(read);
        gate.next_unread = next_seq;
        Self::evict(g);
        self.update_room(g);
        drop(guard);
        if self.room.load(Ordering::SeqCst) {
            if let Some(w) = crate::sync::lock(&self.room_waker).take() {
                w.wake();
            }
        }
    }

    fn update_room(&self, inner: &Inner) {
        let room = inner.gate.as_ref().is_none_or(|g| {
            inner.next_seq.saturating_sub(g.next_unread) < g.max_frames && g.unread_bytes < g.max_bytes
        });
        self.room.store(room, Ordering::SeqCst);
    }

    /// Ready while the connection may read more frames: always, unless a reader
    /// gate ([`FrameLog::keep_unread`]) is full; then the reader's next
    /// [`FrameLog::mark_read`] wakes `cx`.
    pub fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.room.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *crate::sync::lock(&self.room_waker) = Some(cx.waker().clone());
        if self.room.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    pub fn stats(&self) -> LogStats {
        let g = self.lock();
        let mut s = g.stats;
        s.held_frames = g.frames.len() as u64;
        s.held_bytes = g.held_bytes as u64;
        s.first_seq = g.frames.front_seq().unwrap_or(0);
        s.last_seq = g.frames.back_seq().unwrap_or(0);
        s
    }

    pub fn limits(&self) -> LogLimits {
        self.lock().limits
    }

    /// Change the caps; evicts at once if the new caps are smaller.
    pub fn set_limits(&self, limits: LogLimits) {
        let mut g = self.lock();
        let inner = &mut *g;
        inner.limits = LogLimits {
            max_frames: limits.max_frames.max(1),
            max_bytes: limits.max_bytes.max(1),
        };
        Self::evict(inner);
    }

    /// Drop every held frame. Counters of traffic stay; sequence numbers go on.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.frames.clear();
        g.held_bytes = 0;
        g.contiguous = true;
        let next = g.next_seq;
        if let Some(gate) = g.gate.as_mut() {
            gate.next_unread = next;
            gate.unread_bytes = 0;
        }
        self.update_room(&g);
        self.notes.clear();
    }

    /// Index of the first held frame with a sequence number `>= seq` (may be past
    /// the end).
    fn index_of(inner: &Inner, seq: u64) -> usize {
        if inner.contiguous {
            let first = inner.frames.front_seq().unwrap_or(inner.next_seq);
            return seq.saturating_sub(first).min(usize::MAX as u64) as usize;
        }
        let (mut lo, mut hi) = (0, inner.frames.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if inner.frames.seq(mid).is_some_and(|s| s < seq) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn get(&self, seq: u64) -> Option<Frame> {
        let g = self.lock();
        let i = Self::index_of(&g, seq);
        if g.frames.seq(i) != Some(seq) {
            return None;
        }
        g.frames.get(i)
    }

    /// Up to `limit` frames with `seq >= from_seq`, oldest first. A `from_seq` older
    /// than the oldest held frame starts at the oldest held frame.
    pub fn page(&self, from_seq: u64, limit: usize) -> Vec<Frame> {
        let g = self.lock();
        let start = Self::index_of(&g, from_seq);
        let start = start.min(g.frames.len());
        let end = start.saturating_add(limit).min(g.frames.len());
        g.frames.range(start..end).collect()
    }

    /// Up to `limit` frames with `seq <= before_seq`, returned oldest first: the page
    /// that ends at `before_seq` (for scrolling backwards and "jump to latest").
    pub fn page_before(&self, before_seq: u64, limit: usize) -> Vec<Frame> {
        let g = self.lock();
        if g.frames.front_seq().is_none_or(|s| before_seq < s) {
            return Vec::new();
        }
        let end = Self::index_of(&g, before_seq.saturating_add(1)).min(g.frames.len());
        let start = end.saturating_sub(limit);
        g.frames.range(start..end).collect()
    }

    pub fn search(&self, q: &SearchQuery) -> Result<SearchResult> {
        let filter = FrameFilter::new(q)?;
        let limit = if q.limit == 0 { 10_000 } else { q.limit };
        let mut out = SearchResult::default();
        let mut next = q.from_seq;
        loop {
            let chunk = self.page(next, SEARCH_CHUNK);
            let Some(last) = chunk.last() else { break };
            next = last.seq + 1;
            for f in &chunk {
                out.scanned += 1;
                if filter.matches_in(self, f) {
                    out.total += 1;
                    if out.seqs.len() < limit {
                        out.seqs.push(f.seq);
                    }
                }
            }
            if chunk.len() < SEARCH_CHUNK {
                break;
            }
        }
        Ok(out)
    }

    /// Follow new frames: the receiver's value is the last sequence number pushed.
    pub fn follow(&self) -> watch::Receiver<u64> {
        self.last_seq.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn frame(i: u64) -> Frame {
        let payload = Bytes::from(format!("frame {i}"));
        Frame {
            seq: 0,
            at_us: 0,
            offset_us: 0,
            payload,
            rtt_us: 0,
            direction: Direction::In,
            opcode: Opcode::Text,
        }
    }

    #[test]
    fn eviction_and_paging_across_chunk_boundaries() {
        let log = FrameLog::new(LogLimits {
            max_frames: 5_000,
            max_bytes: usize::MAX,
        });
        for i in 1..=3 * CHUNK as u64 + 17 {
            let f = log.push(frame(i));
            assert_eq!(f.seq, i);
        }
        let st = log.stats();
        let total = 3 * CHUNK as u64 + 17;
        assert_eq!(
            (st.held_frames, st.evicted_frames, st.last_seq),
            (5_000, total - 5_000, total)
        );
        assert_eq!(st.first_seq, total - 4_999);
        for seq in [
            st.first_seq,
            st.first_seq + 1,
            2 * CHUNK as u64,
            2 * CHUNK as u64 + 1,
            total,
        ] {
            assert_eq!(
                log.get(seq).unwrap().payload,
                Bytes::from(format!("frame {seq}")),
                "{seq}"
            );
        }
        assert!(log.get(st.first_seq - 1).is_none() && log.get(total + 1).is_none());
        assert!(
            log.page_before(st.first_seq - 1, 5).is_empty(),
            "nothing before the oldest held frame"
        );
        let back = log.page_before(st.first_seq + 2, 5);
        assert_eq!(
            back.iter().map(|f| f.seq).collect::<Vec<_>>(),
            (st.first_seq..=st.first_seq + 2).collect::<Vec<_>>()
        );
        assert_eq!(
            log.page_before(u64::MAX, 2).last().map(|f| f.seq),
            Some(total),
            "past the end: the newest"
        );
        let page = log.page(2 * CHUNK as u64 - 2, 5);
        assert_eq!(
            page.iter().map(|f| f.seq).collect::<Vec<_>>(),
            (2 * CHUNK as u64 - 2..2 * CHUNK as u64 + 3).collect::<Vec<_>>()
        );
        let mut batch: Vec<Frame> = (0..10).map(frame).collect();
        batch.truncate(10);
        assert_eq!(log.push_many(batch), Some(total + 10));
        assert_eq!(log.stats().held_frames, 5_000);
        log.set_limits(LogLimits {
            max_frames: 10,
            max_bytes: usize::MAX,
        });
        assert_eq!(log.page(0, 100).len(), 10);
        log.clear();
        assert_eq!(log.stats().held_frames, 0);
        assert_eq!(
            log.push(frame(0)).seq,
            total + 11,
            "sequence numbers go on after a clear"
        );
    }

    #[test]
    fn a_stored_frame_costs_56_bytes_and_gives_back_the_frame_it_was_given() {
        assert_eq!(std::mem::size_of::<Stored>(), 56);
        let log = FrameLog::new(LogLimits::default());
        let big = Bytes::from(vec![7u8; SMALL_PAYLOAD + 1]);
        for (direction, opcode, payload) in [
            (Direction::In, Opcode::Text, Bytes::from("small")),
            (Direction::Out, Opcode::Binary, big),
            (Direction::In, Opcode::Ping, Bytes::new()),
            (Direction::Out, Opcode::Pong, Bytes::from("p")),
            (Direction::In, Opcode::Close, Bytes::from_static(&[3, 232])),
        ] {
            let f = Frame {
                seq: 0,
                at_us: -5,
                offset_us: 1 << 40,
                payload,
                rtt_us: 812,
                direction,
                opcode,
            };
            let pushed = log.push(f.clone());
            assert_eq!(log.get(pushed.seq), Some(Frame { seq: pushed.seq, ..f }));
        }
    }

    #[test]
    fn a_log_from_frames_keeps_their_sequence_numbers_gaps_included() {
        let with_seq = |seq| Frame { seq, ..frame(seq) };
        let log = FrameLog::from_frames(LogLimits::default(), [3, 17, 40, 41, 9000].map(with_seq).to_vec());
        let st = log.stats();
        assert_eq!(
            (st.held_frames, st.first_seq, st.last_seq, st.frames_in),
            (5, 3, 9000, 5)
        );
        assert_eq!(log.get(17).unwrap().payload, Bytes::from("frame 17"));
        assert!(log.get(16).is_none() && log.get(18).is_none() && log.get(1).is_none());
        let seqs = |v: Vec<Frame>| v.iter().map(|f| f.seq).collect::<Vec<_>>();
        assert_eq!(seqs(log.page(4, 2)), [17, 40]);
        assert_eq!(seqs(log.page(0, 100)), [3, 17, 40, 41, 9000]);
        assert_eq!(seqs(log.page_before(40, 2)), [17, 40]);
        assert_eq!(seqs(log.page_before(39, 2)), [3, 17]);
        assert_eq!(seqs(log.page_before(u64::MAX, 1)), [9000]);
        let r = log
            .search(&SearchQuery {
                text: "frame 4".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.seqs, [40, 41]);
        assert_eq!(log.push(frame(0)).seq, 9001, "pushes continue after the last");
        assert_eq!(seqs(log.page(9000, 5)), [9000, 9001]);

        let shuffled = FrameLog::from_frames(LogLimits::default(), [5, 2, 2].map(with_seq).to_vec());
        assert_eq!(seqs(shuffled.page(0, 10)), [1, 2, 3], "out of order: renumbered");
        let capped = FrameLog::from_frames(
            LogLimits {
                max_frames: 2,
                max_bytes: usize::MAX,
            },
            (1..=5).map(with_seq).collect(),
        );
        let st = capped.stats();
        assert_eq!((st.held_frames, st.evicted_frames, st.first_seq), (2, 3, 4));
    }

    struct Flag(std::sync::atomic::AtomicBool);

    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_read_gate_keeps_unread_frames_and_holds_the_reader_until_there_is_room() {
        let log = FrameLog::new(LogLimits {
            max_frames: 2,
            max_bytes: usize::MAX,
        });
        log.keep_unread(5, 1000);
        let flag = std::sync::Arc::new(Flag(Default::default()));
        let waker = std::task::Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        for i in 1..=4 {
            log.push(frame(i));
        }
        assert!(log.poll_room(&mut cx).is_ready(), "4 unread of 5");
        log.push(frame(5));
        assert!(log.poll_room(&mut cx).is_pending(), "5 unread: full");
        assert_eq!(log.stats().held_frames, 5, "unread frames are kept past the cap");
        log.mark_read(3);
        assert!(flag.0.load(Ordering::SeqCst), "reading makes room and wakes the reader");
        assert!(log.poll_room(&mut cx).is_ready());
        let seqs: Vec<u64> = log.page(0, 10).iter().map(|f| f.seq).collect();
        assert_eq!(seqs, [3, 4, 5], "read frames go as the cap says, unread ones stay");
        log.mark_read(6);
        assert_eq!(log.stats().held_frames, 2);

        // The byte cap counts too.
        log.push(Frame {
            payload: Bytes::from(vec![0u8; 1000]),
            ..frame(0)
        });
        assert!(log.poll_room(&mut cx).is_pending(), "1000 bytes unread: full");
        log.clear();
        assert!(log.poll_room(&mut cx).is_ready(), "a cleared log has nothing unread");
    }

    #[test]
    fn the_byte_cap_keeps_the_newest_frame_even_if_alone_it_is_too_big() {
        let log = FrameLog::new(LogLimits {
            max_frames: 100,
            max_bytes: 10,
        });
        log.push(frame(1));
        log.push(frame(22_222_222));
        let st = log.stats();
        assert_eq!((st.held_frames, st.evicted_frames), (1, 1));
    }
}
