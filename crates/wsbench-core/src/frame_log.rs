//! The bounded per-tab log: the source of truth for every frame in and out.
//!
//! Short synchronous methods behind a `std::sync::Mutex`; no lock is ever held across
//! an `.await`. Search copies frames out in chunks (cheap `Bytes` clones) and scans
//! them with the lock released, so a long search never stalls the socket reader.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::LogLimits;
use crate::error::Result;
use crate::frame::{Direction, Frame};
use crate::socketio::notes::Notes;
use crate::socketio::{Decoded, OpenInfo};

mod search;
mod store;

pub use search::{FrameFilter, SearchQuery, SearchResult};

use store::FrameStore;

impl LogStats {
    /// Count one frame in its direction: message bytes and wire bytes.
    fn count(&mut self, f: &Frame) {
        let len = f.payload.len() as u64;
        let wire = if f.compressed_len > 0 {
            f.compressed_len as u64
        } else {
            len
        };
        let (n, bytes, wire_bytes) = match f.direction {
            Direction::In => (&mut self.frames_in, &mut self.bytes_in, &mut self.wire_bytes_in),
            Direction::Out => (&mut self.frames_out, &mut self.bytes_out, &mut self.wire_bytes_out),
        };
        *n += 1;
        *bytes += len;
        *wire_bytes += wire;
    }
}

/// Counters a user sees next to the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Payload bytes as they went over the wire: a compressed message counts its
    /// compressed size (permessage-deflate), anything else its payload.
    pub wire_bytes_in: u64,
    pub wire_bytes_out: u64,
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
    /// How many more payload bytes the connection may read: `usize::MAX` without a
    /// read gate, 0 while the gate is full (see [`FrameLog::poll_room`]).
    room: AtomicUsize,
    /// The connection's reader, waiting for room.
    room_waker: Mutex<Option<Waker>>,
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
            room: AtomicUsize::new(usize::MAX),
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
                g.stats.count(&f);
                g.held_bytes += f.payload.len();
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

    /// Attach a decoded view to a frame already held (a log read back from a file).
    pub fn set_decoded(&self, seq: u64, note: Decoded) {
        self.notes.insert(seq, note);
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
        inner.stats.count(&frame);
        let len = frame.payload.len();
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
        if self.room.load(Ordering::SeqCst) > 0 {
            if let Some(w) = crate::sync::lock(&self.room_waker).take() {
                w.wake();
            }
        }
    }

    fn update_room(&self, inner: &Inner) {
        let room = match &inner.gate {
            None => usize::MAX,
            Some(g) if inner.next_seq.saturating_sub(g.next_unread) >= g.max_frames => 0,
            Some(g) => g.max_bytes.saturating_sub(g.unread_bytes).min(usize::MAX as u64) as usize,
        };
        self.room.store(room, Ordering::SeqCst);
    }

    /// Ready, with how many payload bytes the connection may read now, unless a
    /// read gate ([`FrameLog::keep_unread`]) is full; then the reader's next
    /// [`FrameLog::mark_read`] wakes `cx`. Without a gate: always `usize::MAX`.
    pub fn poll_room(&self, cx: &mut Context<'_>) -> Poll<usize> {
        let room = self.room.load(Ordering::SeqCst);
        if room > 0 {
            return Poll::Ready(room);
        }
        *crate::sync::lock(&self.room_waker) = Some(cx.waker().clone());
        match self.room.load(Ordering::SeqCst) {
            0 => Poll::Pending,
            room => Poll::Ready(room),
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
    use super::store::CHUNK;
    use super::*;
    use crate::frame::Opcode;
    use bytes::Bytes;

    fn frame(i: u64) -> Frame {
        let payload = Bytes::from(format!("frame {i}"));
        Frame {
            seq: 0,
            at_us: 0,
            offset_us: 0,
            payload,
            rtt_us: 0,
            compressed_len: 0,
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
        assert_eq!(
            log.poll_room(&mut cx),
            Poll::Ready(1000 - 3 * 7),
            "room for what the byte cap has left: frames 3 to 5 (7 bytes each) are unread"
        );
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
