//! How the frame log stores its frames: compact records in fixed-size chunks, small
//! payloads in shared arena blocks.

use bytes::{Bytes, BytesMut};

use crate::frame::{Direction, Frame, Opcode};

/// A frame as the log stores it: 56 bytes plus the payload. The sequence number
/// comes from the position (see [`FrameStore`]), the offset, direction and opcode
/// share one word.
struct Stored {
    payload: Bytes,
    at_us: i64,
    /// `offset_us << 8 | direction << 4 | opcode` (offsets saturate at 2^56 µs).
    offset_kind: u64,
    rtt_us: u32,
    /// Compressed bytes on the wire (0: the message went uncompressed).
    compressed_len: u32,
}

const OFFSET_MAX: u64 = (1 << 56) - 1;

impl Stored {
    pub(super) fn new(f: Frame, payload: Bytes) -> Self {
        let kind = ((f.direction as u64) << 4) | f.opcode as u64;
        Self {
            payload,
            at_us: f.at_us,
            offset_kind: (f.offset_us.min(OFFSET_MAX) << 8) | kind,
            rtt_us: f.rtt_us,
            compressed_len: f.compressed_len,
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
            compressed_len: self.compressed_len,
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
pub(super) struct FrameStore {
    chunks: std::collections::VecDeque<Vec<Stored>>,
    /// Index of the first live frame in `chunks[0]`.
    head: usize,
    len: usize,
    first_seq: u64,
    /// Each held frame's sequence number, only once they stop being consecutive.
    seqs: Option<std::collections::VecDeque<u64>>,
    arena: BytesMut,
}

pub(super) const CHUNK: usize = 4096;

impl FrameStore {
    pub(super) fn new() -> Self {
        Self {
            chunks: Default::default(),
            head: 0,
            len: 0,
            first_seq: 0,
            seqs: None,
            arena: BytesMut::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
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

    pub(super) fn push_back(&mut self, mut f: Frame) {
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
    pub(super) fn pop_front(&mut self) -> Option<usize> {
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
        self.stored(i).map_or(0, |s| s.payload.len())
    }

    pub(super) fn get(&self, i: usize) -> Option<Frame> {
        Some(self.stored(i)?.frame(self.seq(i)?))
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
        self.chunks.clear();
        self.head = 0;
        self.len = 0;
        self.seqs = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_frame_costs_56_bytes_and_gives_back_the_frame_it_was_given() {
        assert_eq!(std::mem::size_of::<Stored>(), 56);
        let mut store = FrameStore::new();
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
                compressed_len: 9,
                direction,
                opcode,
            };
            let seq = store.len() as u64 + 1;
            store.push_back(Frame { seq, ..f.clone() });
            assert_eq!(store.get(store.len() - 1), Some(Frame { seq, ..f }));
        }
    }
}
