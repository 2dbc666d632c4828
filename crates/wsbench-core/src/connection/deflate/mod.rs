//! permessage-deflate (RFC 7692), built under and beside tungstenite, which has none:
//!
//! - the offer (`offer`) goes into the upgrade request `dial` builds;
//! - the answer is read by the stream layer ([`Inflate`], inflate.rs) at the exact byte
//!   where the HTTP response ends, checked by [`negotiate`] (RFC 7692 §5, §7), and kept
//!   in the shared [`DeflateCtx`] for `dial` (which fails the handshake on a bad answer);
//! - incoming compressed messages are inflated by that layer before tungstenite sees
//!   them, in bounded chunks, with a hard cap at the connection's max message size;
//! - outgoing messages are compressed by the writer ([`Deflater`]) and sent as raw
//!   frames with RSV1 set.
//!
//! The log keeps each message inflated, with its wire size (`Frame::compressed_len`).

mod inflate;
mod negotiate;

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

    /// The wire size of the next data message tungstenite hands up (0 if it went
    /// uncompressed or compression is off).
    pub(crate) fn take_wire_len(&self) -> u32 {
        if !self.active.load(Ordering::Acquire) {
            return 0;
        }
        lock(&self.wire_sizes).pop_front().unwrap_or(0)
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

/// Messages shorter than this go uncompressed: deflate's framing costs more than it saves.
pub(crate) const MIN_COMPRESS: usize = 64;
/// After a message that did not shrink, skip compression for this many messages at
/// most (doubling from 1): incompressible floods cost next to nothing.
const MAX_SKIP: u32 = 64;
/// The DEFLATE sync-flush marker every compressed message ends with on the wire
/// removed (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The writer's compressor for one connection.
pub(crate) struct Deflater {
    z: Compress,
    reset_each: bool,
    /// Messages left to send uncompressed, and the next penalty.
    skip: u32,
    penalty: u32,
}

impl Deflater {
    /// The compressor the agreed parameters call for; None when we may not compress
    /// (a 256-byte window, which zlib cannot produce for raw deflate: such a connection
    /// sends every message uncompressed, which RFC 7692 allows).
    pub(crate) fn new(p: &DeflateParams) -> Option<Self> {
        let bits = p.client_max_window_bits.unwrap_or(15);
        if !(9..=15).contains(&bits) {
            return None;
        }
        Some(Self {
            z: Compress::new_with_window_bits(Level::fast(), false, bits),
            reset_each: p.client_no_context_takeover,
            skip: 0,
            penalty: 1,
        })
    }

    /// The compressed payload for `data`, or None to send it as it is (too short, did
    /// not shrink, or a recent message did not shrink).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        if data.len() < MIN_COMPRESS {
            return None;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        let out = self.deflate(data);
        match out {
            Some(out) if out.len() < data.len() => {
                self.penalty = 1;
                if self.reset_each {
                    self.z.reset();
                }
                Some(out)
            }
            _ => {
                // The peer will not see this data: our window must not hold it.
                self.z.reset();
                self.skip = self.penalty;
                self.penalty = (self.penalty * 2).min(MAX_SKIP);
                None
            }
        }
    }

    /// Raw deflate of `data` with a sync flush, the trailing marker removed; None if
    /// zlib fails or the output would not be smaller than the input.
    fn deflate(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        let limit = data.len() + TAIL.len();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start_in = self.z.total_in();
        loop {
            let done = (self.z.total_in() - start_in) as usize;
            if out.len() == out.capacity() {
                if out.len() >= limit {
                    return None;
                }
                out.reserve(out.capacity().max(64));
            }
            let status = self.z.compress_vec(&data[done..], &mut out, FlushCompress::Sync).ok()?;
            let consumed = (self.z.total_in() - start_in) as usize == data.len();
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(z: &mut Decompress, wire: &[u8]) -> Vec<u8> {
        let mut input = wire.to_vec();
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        z.decompress_vec(&input, &mut out, FlushDecompress::Sync).unwrap();
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
            let mut d = Deflater::new(&params(None, no_takeover)).unwrap();
            let mut z = Decompress::new(false);
            let a = d.compress(text.as_bytes()).unwrap();
            let b = d.compress(text.as_bytes()).unwrap();
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
    fn short_and_incompressible_messages_go_as_they_are() {
        let mut d = Deflater::new(&params(Some(9), false)).unwrap();
        assert!(d.compress(b"hi").is_none());
        let noise: Vec<u8> = (0..4096).map(|_| fastrand::u8(..)).collect();
        assert!(d.compress(&noise).is_none());
        // Backoff: the next message is not even tried, then compression resumes.
        let text = "abc".repeat(100);
        assert!(d.compress(text.as_bytes()).is_none());
        let c = d.compress(text.as_bytes()).unwrap();
        assert_eq!(inflate(&mut Decompress::new(false), &c), text.as_bytes());
    }

    #[test]
    fn a_256_byte_window_means_no_compression() {
        assert!(Deflater::new(&params(Some(8), false)).is_none());
    }
}
