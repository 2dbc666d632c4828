//! How the frame log stores its frames: an 8-byte record per frame in fixed-size
//! chunks, small payloads packed back to back into blocks that belong to the chunk,
//! and the fields most frames do not have in small side tables.
//!
//! A record holds where its payload ends in the chunk's blocks (it starts where the
//! previous one ended), the direction and opcode, flags, and its time as
//! microseconds since the chunk's first frame. The sequence number comes from the
//! position. A frame whose time does not fit that (a reconnect's new clock, an
//! imported log, a time before the chunk's first) keeps its exact times in a side
//! table, as do a pong's round trip, a compressed frame's wire size and a payload
//! too big to copy. Nothing is rounded: every field reads back as it was given.
//!
//! A chunk's blocks go with its last frame; evicted blocks are kept (a few) and
//! filled again, so a log at its cap does not make the kernel zero fresh pages for
//! every frame it takes.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::frame::{Direction, Frame, Opcode};

pub(super) const CHUNK: usize = 4096;
/// Payloads up to this size are copied into the chunk's blocks; larger ones are kept
/// as they came (no copy). `CHUNK * SMALL_PAYLOAD` fits the record's 20-bit end.
const SMALL_PAYLOAD: usize = 255;
/// The size of one payload block.
const BLOCK: usize = 64 * 1024;
/// Evicted blocks kept for reuse, at most.
const SPARE_BLOCKS: usize = 32;

const END_BITS: u32 = 20;
const END_MASK: u32 = (1 << END_BITS) - 1;
const OPCODE_SHIFT: u32 = 20;
const OUT: u32 = 1 << 23;
const BIG: u32 = 1 << 24;
const RTT: u32 = 1 << 25;
const COMPRESSED: u32 = 1 << 26;
const EXACT_TIME: u32 = 1 << 27;

/// A frame as the log stores it: 8 bytes beside its payload bytes.
#[derive(Clone, Copy)]
struct Rec {
    /// `flags | opcode << 20 | end` (see the constants above).
    meta: u32,
    /// Microseconds since the chunk's first frame (unless `EXACT_TIME`).
    time: u32,
}

impl Rec {
    fn end(self) -> u32 {
        self.meta & END_MASK
    }

    fn has(self, flag: u32) -> bool {
        self.meta & flag != 0
    }
}

/// Values for a few of a chunk's frames, by index in the chunk (appended in order).
struct Side<T>(Vec<(u16, T)>);

impl<T> Default for Side<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Default> Side<T> {
    /// Let go of frame `i`'s value (an evicted frame's): the entry stays, so the
    /// indexes after it keep their places.
    fn release(&mut self, i: usize) {
        let i = i as u16;
        if let Ok(at) = self.0.binary_search_by_key(&i, |(k, _)| *k) {
            self.0[at].1 = T::default();
        }
    }
}

impl<T> Side<T> {
    fn get(&self, i: usize) -> Option<&T> {
        let i = i as u16;
        self.0
            .binary_search_by_key(&i, |(k, _)| *k)
            .ok()
            .map(|at| &self.0[at].1)
    }
}

struct Chunk {
    recs: Vec<Rec>,
    /// `at_us` of the chunk's first frame: records count their time from it.
    base_at: i64,
    /// `at_us - offset_us` of the chunk's first frame (one clock's start).
    epoch: i64,
    /// Full payload blocks, with where each starts in the chunk's payload bytes.
    blocks: Vec<(u32, Bytes)>,
    /// Where the block being filled (the store's `open`) starts, for the newest chunk.
    open_start: u32,
    big: Side<Bytes>,
    rtt: Side<u32>,
    compressed: Side<u32>,
    times: Side<(i64, u64)>,
}

impl Chunk {
    fn new(recs: Vec<Rec>) -> Self {
        Self {
            recs,
            base_at: 0,
            epoch: 0,
            blocks: Vec::new(),
            open_start: 0,
            big: Side::default(),
            rtt: Side::default(),
            compressed: Side::default(),
            times: Side::default(),
        }
    }

    fn start(&self, i: usize) -> u32 {
        i.checked_sub(1).map_or(0, |p| self.recs[p].end())
    }

    fn payload_len(&self, i: usize) -> usize {
        let r = self.recs[i];
        if r.has(BIG) {
            return self.big.get(i).map_or(0, Bytes::len);
        }
        (r.end() - self.start(i)) as usize
    }

    /// The payload of frame `i`; `open` is the block being filled when this is the
    /// newest chunk (its bytes are copied out, a full block's are shared).
    fn payload(&self, i: usize, open: Option<&BytesMut>) -> Bytes {
        let r = self.recs[i];
        if r.has(BIG) {
            return self.big.get(i).cloned().unwrap_or_default();
        }
        let (start, end) = (self.start(i), r.end());
        if start == end {
            return Bytes::new();
        }
        if let Some(open) = open.filter(|_| start >= self.open_start) {
            let (s, e) = ((start - self.open_start) as usize, (end - self.open_start) as usize);
            return open.get(s..e).map(Bytes::copy_from_slice).unwrap_or_default();
        }
        let at = self.blocks.partition_point(|(s, _)| *s <= start);
        match at.checked_sub(1).and_then(|b| self.blocks.get(b)) {
            Some((s, block)) if (end - s) as usize <= block.len() => {
                block.slice((start - s) as usize..(end - s) as usize)
            }
            _ => Bytes::new(),
        }
    }

    fn frame(&self, i: usize, seq: u64, open: Option<&BytesMut>) -> Frame {
        let r = self.recs[i];
        let exact = if r.has(EXACT_TIME) {
            self.times.get(i).copied()
        } else {
            None
        };
        let (at_us, offset_us) = exact.unwrap_or_else(|| {
            let at = self.base_at.saturating_add(r.time as i64);
            (at, at.saturating_sub(self.epoch).max(0) as u64)
        });
        let opcode = match (r.meta >> OPCODE_SHIFT) & 0x7 {
            0 => Opcode::Text,
            1 => Opcode::Binary,
            2 => Opcode::Ping,
            3 => Opcode::Pong,
            _ => Opcode::Close,
        };
        let rtt_us = if r.has(RTT) {
            self.rtt.get(i).copied().unwrap_or(0)
        } else {
            0
        };
        let compressed_len = if r.has(COMPRESSED) {
            self.compressed.get(i).copied().unwrap_or(0)
        } else {
            0
        };
        Frame {
            seq,
            at_us,
            offset_us,
            payload: self.payload(i, open),
            rtt_us,
            compressed_len,
            direction: if r.has(OUT) { Direction::Out } else { Direction::In },
            opcode,
        }
    }
}

/// Frames in fixed-size chunks: pushing never reallocates or copies the frames
/// already held (a `VecDeque` doubles, copying everything and holding up to twice
/// the memory), and evicting from the front frees whole chunks.
///
/// Sequence numbers are `first_seq + index` while they are consecutive (always, for
/// a live log); an imported log with gaps keeps them beside the frames.
pub(super) struct FrameStore {
    chunks: VecDeque<Chunk>,
    /// Index of the first live frame in `chunks[0]`.
    head: usize,
    len: usize,
    first_seq: u64,
    /// Each held frame's sequence number, only once they stop being consecutive.
    seqs: Option<VecDeque<u64>>,
    /// The block being filled, for the newest chunk.
    open: BytesMut,
    /// Blocks and record vectors of evicted chunks, to fill again.
    spare_blocks: Vec<BytesMut>,
    spare_recs: Option<Vec<Rec>>,
}

impl FrameStore {
    pub(super) fn new() -> Self {
        Self {
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
            first_seq: 0,
            seqs: None,
            open: BytesMut::new(),
            spare_blocks: Vec::new(),
            spare_recs: None,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// A new chunk for frame `f`; the filled part of the open block goes with the
    /// chunk before (its free part stays open for the new one).
    fn new_chunk(&mut self, f: &Frame) {
        if let Some(last) = self.chunks.back_mut() {
            if !self.open.is_empty() {
                last.blocks.push((last.open_start, self.open.split().freeze()));
            }
        }
        let recs = self.spare_recs.take().unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let mut c = Chunk::new(recs);
        c.base_at = f.at_us;
        c.epoch = epoch(f).unwrap_or(i64::MIN);
        self.chunks.push_back(c);
    }

    /// Copy a small payload into the open block; returns where it ends.
    fn pack(&mut self, c: usize, payload: &[u8]) -> u32 {
        let Some(chunk) = self.chunks.get_mut(c) else { return 0 };
        let start = chunk.recs.last().map_or(0, |r| r.end());
        if self.open.capacity() - self.open.len() < payload.len() {
            let fresh = self
                .spare_blocks
                .pop()
                .unwrap_or_else(|| BytesMut::with_capacity(BLOCK));
            let full = std::mem::replace(&mut self.open, fresh);
            if !full.is_empty() {
                chunk.blocks.push((chunk.open_start, full.freeze()));
            }
        }
        if self.open.is_empty() {
            chunk.open_start = start;
        }
        self.open.extend_from_slice(payload);
        start + payload.len() as u32
    }

    pub(super) fn push_back(&mut self, f: Frame) {
        if self.len == 0 {
            self.first_seq = f.seq;
        }
        let consecutive = f.seq == self.first_seq + self.len as u64;
        match self.seqs.as_mut() {
            Some(seqs) => seqs.push_back(f.seq),
            None if !consecutive => {
                let mut seqs: VecDeque<u64> = (self.first_seq..self.first_seq + self.len as u64).collect();
                seqs.push_back(f.seq);
                self.seqs = Some(seqs);
            }
            None => {}
        }
        if self.chunks.back().is_none_or(|c| c.recs.len() == CHUNK) {
            self.new_chunk(&f);
        }
        let c = self.chunks.len() - 1;
        let ep = epoch(&f);
        let mut meta = (f.opcode as u32) << OPCODE_SHIFT;
        if f.direction == Direction::Out {
            meta |= OUT;
        }
        let small = f.payload.len() <= SMALL_PAYLOAD;
        let end = if small && !f.payload.is_empty() {
            self.pack(c, &f.payload)
        } else {
            self.chunks[c].recs.last().map_or(0, |r| r.end())
        };
        let chunk = &mut self.chunks[c];
        let i = chunk.recs.len() as u16;
        if !small {
            meta |= BIG;
            chunk.big.0.push((i, f.payload));
        }
        if f.rtt_us != 0 {
            meta |= RTT;
            chunk.rtt.0.push((i, f.rtt_us));
        }
        if f.compressed_len != 0 {
            meta |= COMPRESSED;
            chunk.compressed.0.push((i, f.compressed_len));
        }
        let delta = f.at_us.checked_sub(chunk.base_at).and_then(|d| u32::try_from(d).ok());
        let time = match delta {
            Some(d) if ep == Some(chunk.epoch) => d,
            _ => {
                meta |= EXACT_TIME;
                chunk.times.0.push((i, (f.at_us, f.offset_us)));
                0
            }
        };
        chunk.recs.push(Rec { meta: meta | end, time });
        self.len += 1;
    }

    /// Drop the oldest frame; returns its payload length.
    pub(super) fn pop_front(&mut self) -> Option<usize> {
        let first = self.chunks.front_mut()?;
        if self.head >= first.recs.len() {
            return None;
        }
        let len = first.payload_len(self.head);
        if first.recs[self.head].has(BIG) {
            // A big payload is freed as its frame goes, not with its whole chunk
            // (4096 frames of 64 KiB would be 256 MiB held past the log's caps).
            first.big.release(self.head);
        }
        let chunk_done = self.head + 1 == first.recs.len() && (first.recs.len() == CHUNK || self.len == 1);
        self.head += 1;
        self.len -= 1;
        if chunk_done {
            if let Some(c) = self.chunks.pop_front() {
                self.recycle(c);
            }
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

    /// Keep an evicted chunk's blocks (those no reader still holds) and records.
    fn recycle(&mut self, c: Chunk) {
        if self.chunks.is_empty() {
            // It was the newest chunk: what is in the open block was its.
            self.open.clear();
        }
        for (_, block) in c.blocks {
            if self.spare_blocks.len() >= SPARE_BLOCKS {
                break;
            }
            if let Ok(mut b) = block.try_into_mut() {
                b.clear();
                if b.capacity() >= BLOCK {
                    self.spare_blocks.push(b);
                }
            }
        }
        let mut recs = c.recs;
        recs.clear();
        self.spare_recs = Some(recs);
    }

    /// The chunk and index in it of held frame `i`, with the open block if the chunk
    /// is the newest.
    fn locate(&self, i: usize) -> Option<(&Chunk, usize, Option<&BytesMut>)> {
        if i >= self.len {
            return None;
        }
        let i = i + self.head;
        let c = i / CHUNK;
        let open = (c + 1 == self.chunks.len()).then_some(&self.open);
        Some((self.chunks.get(c)?, i % CHUNK, open))
    }

    pub(super) fn seq(&self, i: usize) -> Option<u64> {
        if i >= self.len {
            return None;
        }
        match &self.seqs {
            Some(seqs) => seqs.get(i).copied(),
            None => Some(self.first_seq + i as u64),
        }
    }

    pub(super) fn payload_len(&self, i: usize) -> usize {
        self.locate(i).map_or(0, |(c, i, _)| c.payload_len(i))
    }

    pub(super) fn get(&self, i: usize) -> Option<Frame> {
        let seq = self.seq(i)?;
        let (c, i, open) = self.locate(i)?;
        Some(c.frame(i, seq, open))
    }

    pub(super) fn front_seq(&self) -> Option<u64> {
        self.seq(0)
    }

    pub(super) fn back_seq(&self) -> Option<u64> {
        self.len.checked_sub(1).and_then(|i| self.seq(i))
    }

    pub(super) fn range(&self, r: std::ops::Range<usize>) -> impl Iterator<Item = Frame> + '_ {
        r.filter_map(move |i| self.get(i))
    }

    pub(super) fn clear(&mut self) {
        while let Some(c) = self.chunks.pop_front() {
            self.recycle(c);
        }
        self.open.clear();
        self.head = 0;
        self.len = 0;
        self.seqs = None;
    }
}

/// `at_us - offset_us`: the start of the clock that stamped the frame.
fn epoch(f: &Frame) -> Option<i64> {
    f.at_us.checked_sub(i64::try_from(f.offset_us).ok()?)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
