//! permessage-deflate (RFC 7692), built under and beside tungstenite, which has none:
//!
//! - the offer (`offer`) goes into the upgrade request `dial` builds;
//! - the answer is read by the stream layer ([`Inflate`], inflate.rs) at the exact byte
//!   where the HTTP response ends, checked by [`negotiate`] (RFC 7692 §5, §7), and kept
//!   in the shared [`DeflateCtx`] for `dial` (which fails the handshake on a bad answer);
//! - incoming compressed messages are inflated by that layer before tungstenite sees
//!   them, in bounded chunks, with a hard cap at the connection's max message size; a
//!   whole message of stored blocks skips zlib (stored.rs), zlib's window kept right;
//! - outgoing messages are compressed by the writer ([`Deflater`]) and sent as raw
//!   frames with RSV1 set.
//!
//! The log keeps each message inflated, with its wire size (`Frame::compressed_len`).

mod inflate;
mod negotiate;
mod stored;

#[cfg(test)]
mod fuzz;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use flate2::{Compress, Compression as Level, FlushCompress, Status};

pub(crate) use inflate::Inflate;
pub(crate) use negotiate::{negotiate, offer};

use crate::close::CloseInfo;
use crate::config::Compression;
use crate::handshake::DeflateParams;
use crate::sync::lock;

/// What the read layer and the rest of the connection share.
pub(crate) struct DeflateCtx {
    /// What we offered (None: permessage-deflate was not offered).
    offer: Option<Compression>,
    max_message: usize,
    max_frame: usize,
    /// The server's answer, checked: set once the HTTP response has been read.
    negotiated: Mutex<Option<Result<Option<DeflateParams>, String>>>,
    /// Compression is in force (negotiated and valid).
    active: AtomicBool,
    /// Wire payload bytes of each data message the layer passed up, in order (0: the
    /// message went uncompressed).
    wire_sizes: Mutex<VecDeque<u32>>,
    /// Why the layer failed the connection (bad compressed data, a bomb).
    fault: Mutex<Option<CloseInfo>>,
}

impl DeflateCtx {
    pub(crate) fn new(offer: Option<Compression>, max_message: usize, max_frame: usize) -> Self {
        Self {
            offer,
            max_message,
            max_frame,
            negotiated: Mutex::new(None),
            active: AtomicBool::new(false),
            wire_sizes: Mutex::default(),
            fault: Mutex::new(None),
        }
    }

    /// The checked answer of the server; an error when the layer never saw the end of
    /// the HTTP response.
    pub(crate) fn negotiated(&self) -> Result<Option<DeflateParams>, String> {
        lock(&self.negotiated)
            .clone()
            .unwrap_or_else(|| Err("the HTTP response was never seen whole".into()))
    }

    fn settle(&self, answer: Result<Option<DeflateParams>, String>) {
        self.active.store(matches!(answer, Ok(Some(_))), Ordering::Release);
        *lock(&self.negotiated) = Some(answer);
    }

    /// Fill in the wire sizes of the data messages tungstenite handed up, in order
    /// (0 for one that went uncompressed): one lock per read burst, not per frame.
    pub(crate) fn take_wire_lens<'a>(&self, slots: impl Iterator<Item = &'a mut u32>) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let mut sizes = lock(&self.wire_sizes);
        for slot in slots {
            *slot = sizes.pop_front().unwrap_or(0);
        }
    }

    fn push_wire_len(&self, n: u64) {
        lock(&self.wire_sizes).push_back(n.min(u32::MAX as u64) as u32);
    }

    /// The close the layer asked for, if it failed the connection.
    pub(crate) fn fault(&self) -> Option<CloseInfo> {
        lock(&self.fault).clone()
    }

    fn set_fault(&self, close: CloseInfo) {
        lock(&self.fault).get_or_insert(close);
    }
}

/// Messages shorter than this go in stored blocks: deflate costs more than it saves.
pub(crate) const MIN_COMPRESS: usize = 64;
/// After a message that did not shrink, store the next ones (this many at most,
/// doubling from 1) without trying: incompressible floods cost next to nothing.
const MAX_SKIP: u32 = 64;
/// zlib-rs level 2 ("fast": no lazy matches). Level 1 ("quick") panicked inside
/// zlib-rs 0.6.8 on Autobahn's 12.5.18 (128 KiB messages of a PDF).
const LEVEL: u32 = 2;
/// The DEFLATE sync-flush marker every compressed message ends with on the wire
/// removed (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The writer's compressor for one connection.
pub(crate) struct Deflater {
    /// None: a 256-byte window, which zlib cannot produce for raw deflate: every
    /// message then goes in stored blocks.
    z: Option<Compress>,
    reset_each: bool,
    bits: u8,
    /// Messages left to send uncompressed, and the next penalty.
    skip: u32,
    penalty: u32,
}

impl Deflater {
    /// The compressor the agreed parameters call for.
    pub(crate) fn new(p: &DeflateParams) -> Self {
        let bits = p.client_max_window_bits.unwrap_or(15);
        Self {
            z: (9..=15)
                .contains(&bits)
                .then(|| Compress::new_with_window_bits(Level::new(LEVEL), false, bits)),
            reset_each: p.client_no_context_takeover,
            bits,
            skip: 0,
            penalty: 1,
        }
    }

    /// The compressed payload for `data`. Every message goes out compressed (RSV1
    /// set), as browsers do; one that is short, or would not shrink, goes in DEFLATE
    /// stored blocks: a copy plus 5 bytes per 64 KiB, valid in any context.
    pub(crate) fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        if data.len() < MIN_COMPRESS || self.skip > 0 {
            self.skip = self.skip.saturating_sub(1);
            return stored(data);
        }
        let Some(z) = self.z.as_mut() else {
            return stored(data);
        };
        // A panic inside zlib must not take the connection down: store the message
        // and start a fresh compressor (which also clears the window, as it must).
        let tried = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| deflate(z, data)));
        let Ok(out) = tried else {
            *z = Compress::new_with_window_bits(Level::new(LEVEL), false, self.bits);
            self.skip = self.penalty;
            return stored(data);
        };
        match out {
            Some(out) if out.len() < data.len() => {
                self.penalty = 1;
                if self.reset_each {
                    z.reset();
                }
                out
            }
            _ => {
                // The peer will not see this data compressed: our window must not hold it.
                z.reset();
                self.skip = self.penalty;
                self.penalty = (self.penalty * 2).min(MAX_SKIP);
                stored(data)
            }
        }
    }
}

/// Raw deflate of `data` with a sync flush, the trailing marker removed; None if
/// zlib fails or the output would not be smaller than the input.
fn deflate(z: &mut Compress, data: &[u8]) -> Option<Vec<u8>> {
    let limit = data.len() + TAIL.len();
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let start_in = z.total_in();
    loop {
        let done = (z.total_in() - start_in) as usize;
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return None;
            }
            out.reserve(out.capacity().max(64));
        }
        let status = z.compress_vec(&data[done..], &mut out, FlushCompress::Sync).ok()?;
        let consumed = (z.total_in() - start_in) as usize == data.len();
        // A sync flush is complete when zlib stops short of filling the buffer.
        if consumed && out.len() < out.capacity() && matches!(status, Status::Ok | Status::BufError) {
            break;
        }
    }
    if !out.ends_with(&TAIL) {
        return None;
    }
    out.truncate(out.len() - TAIL.len());
    Some(out)
}

/// `data` as DEFLATE stored blocks (BFINAL 0), then the first byte of the empty
/// stored block whose other 4 bytes the receiver appends (RFC 7692 §7.2.3.4); an
/// empty message is that byte alone (§7.2.3.6).
fn stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65535 + 1) + 1);
    for block in data.chunks(65535) {
        let n = block.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.push(0x00);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(z: &mut Decompress, wire: &[u8]) -> Vec<u8> {
        let mut input = wire.to_vec();
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        let before = z.total_in();
        z.decompress_vec(&input, &mut out, FlushDecompress::Sync).unwrap();
        assert_eq!(
            z.total_in() - before,
            input.len() as u64,
            "the whole message and marker inflate"
        );
        out
    }

    fn params(client_bits: Option<u8>, no_takeover: bool) -> DeflateParams {
        DeflateParams {
            client_max_window_bits: client_bits,
            client_no_context_takeover: no_takeover,
            ..DeflateParams::default()
        }
    }

    #[test]
    fn compresses_text_and_keeps_context_unless_told_not_to() {
        let text = "the quick brown fox jumps over the lazy dog, ".repeat(20);
        for no_takeover in [false, true] {
            let mut d = Deflater::new(&params(None, no_takeover));
            let mut z = Decompress::new(false);
            let a = d.compress(text.as_bytes());
            let b = d.compress(text.as_bytes());
            assert!(a.len() < text.len() / 4);
            assert_eq!(inflate(&mut z, &a), text.as_bytes());
            assert_eq!(inflate(&mut z, &b), text.as_bytes());
            if no_takeover {
                assert_eq!(a, b, "no context: the same message compresses the same");
            } else {
                assert!(b.len() < a.len(), "the second refers to the first");
            }
        }
    }

    #[test]
    fn short_and_incompressible_messages_go_in_stored_blocks() {
        let mut d = Deflater::new(&params(Some(9), false));
        let mut z = Decompress::new(false);
        let mut round_trip = |d: &mut Deflater, data: &[u8]| {
            let wire = d.compress(data);
            assert_eq!(inflate(&mut z, &wire), data);
            wire.len()
        };
        assert_eq!(round_trip(&mut d, b""), 1);
        assert_eq!(round_trip(&mut d, b"hi"), 2 + 5 + 1);
        let noise: Vec<u8> = (0..200_000).map(|_| fastrand::u8(..)).collect();
        assert_eq!(
            round_trip(&mut d, &noise),
            noise.len() + 5 * 4 + 1,
            "four stored blocks"
        );
        // Backoff: the next message is stored without trying, then compression resumes.
        let text = "abc".repeat(100);
        assert_eq!(round_trip(&mut d, text.as_bytes()), text.len() + 5 + 1);
        assert!(round_trip(&mut d, text.as_bytes()) < 50);
    }

    #[test]
    fn a_256_byte_window_means_stored_blocks() {
        let mut d = Deflater::new(&params(Some(8), false));
        let text = "abc".repeat(100);
        let wire = d.compress(text.as_bytes());
        assert_eq!(wire.len(), text.len() + 6);
        assert_eq!(inflate(&mut Decompress::new(false), &wire), text.as_bytes());
    }
}
