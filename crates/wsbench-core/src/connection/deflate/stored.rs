//! The fast path for incompressible messages: a compressed message that is one frame
//! made only of DEFLATE stored blocks (BTYPE 00) is handed up by copying the stored
//! bytes straight from the read buffer, without zlib or an extra chunk copy.
//!
//! zlib's state stays exactly what zlib alone would have made of the message: the
//! fast path is only taken when zlib sits at a block boundary (a fresh or reset
//! stream, or one that has only seen fast-path messages since), and the message
//! with the 4-byte tail appended (RFC 7692 §7.2.2) must end at a block boundary too.
//! With context takeover, the last 32 KiB handed up are kept and given to zlib as its
//! window (raw inflate's `inflateSetDictionary` appends to the window) before zlib
//! inflates the next message.

use super::TAIL;

/// zlib's window (the inflater always uses 15 bits, which reads any server window).
pub(super) const WINDOW: usize = 32 * 1024;

/// What the bytes of a compressed frame seen so far say about the fast path.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scan {
    /// Only stored blocks, ending at a block boundary with the tail: the inflated size.
    Stored(u64),
    /// Something else: zlib inflates it.
    Not,
    /// Stored blocks so far, but the rest of the frame has not arrived.
    More,
}

/// Walks the block headers of a compressed message payload of `len` bytes, of which
/// `seen` is the part received so far, with the sync tail appended. Every block must
/// be non-final stored with zero padding bits, its data inside the payload, and the
/// inflated size at most `limit`.
pub(super) fn scan(seen: &[u8], len: u64, limit: u64) -> Scan {
    let end = len + TAIL.len() as u64;
    let byte = |k: u64| -> Result<u8, Scan> {
        if k < len {
            usize::try_from(k)
                .ok()
                .and_then(|k| seen.get(k).copied())
                .ok_or(Scan::More)
        } else {
            usize::try_from(k - len)
                .ok()
                .and_then(|k| TAIL.get(k).copied())
                .ok_or(Scan::Not)
        }
    };
    let mut at = 0u64;
    let mut total = 0u64;
    while at < end {
        let mut head = [0u8; 5];
        for (j, b) in head.iter_mut().enumerate() {
            match byte(at + j as u64) {
                Ok(v) => *b = v,
                Err(s) => return s,
            }
        }
        let n = u16::from_le_bytes([head[1], head[2]]);
        if head[0] != 0 || n != !u16::from_le_bytes([head[3], head[4]]) {
            return Scan::Not;
        }
        at += 5;
        if n > 0 && at + n as u64 > len {
            return Scan::Not;
        }
        at += n as u64;
        total += n as u64;
        if total > limit {
            return Scan::Not;
        }
    }
    if at == end {
        Scan::Stored(total)
    } else {
        Scan::Not
    }
}

/// Adds to `window` the part of `bytes`, found at offset `at` of a message of `total`
/// bytes, that can end up in zlib's window; `window` holds at most twice the window.
pub(super) fn keep(window: &mut Vec<u8>, bytes: &[u8], at: u64, total: u64) {
    let from = total.saturating_sub(WINDOW as u64);
    let skip = usize::try_from(from.saturating_sub(at))
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    window.extend_from_slice(&bytes[skip..]);
    if window.len() > 2 * WINDOW {
        window.drain(..window.len() - WINDOW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(data: &[u8]) -> Vec<u8> {
        let n = data.len() as u16;
        let mut v = vec![0];
        v.extend_from_slice(&n.to_le_bytes());
        v.extend_from_slice(&(!n).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn stored_blocks_ending_with_the_tail_are_taken_and_anything_else_is_not() {
        let mut p = block(b"hello");
        p.extend(block(b" world"));
        p.push(0);
        let len = p.len() as u64;
        assert_eq!(scan(&p, len, 1 << 20), Scan::Stored(11));
        assert_eq!(scan(&p[..7], len, 1 << 20), Scan::More);
        assert_eq!(scan(&p, len, 10), Scan::Not, "over the limit");
        // Without the first byte of the empty block, the tail does not end a block.
        assert_eq!(scan(&p[..p.len() - 1], len - 1, 1 << 20), Scan::Not);
        let mut final_block = p.clone();
        final_block[0] = 1;
        assert_eq!(scan(&final_block, len, 1 << 20), Scan::Not, "BFINAL goes to zlib");
        let mut bad_nlen = p.clone();
        bad_nlen[3] ^= 1;
        assert_eq!(scan(&bad_nlen, len, 1 << 20), Scan::Not);
        assert_eq!(scan(&[0x4a, 0x4c], 2, 1 << 20), Scan::Not, "a Huffman block");
        assert_eq!(scan(&[], 0, 1 << 20), Scan::Not);
    }

    #[test]
    fn keep_holds_the_last_window_of_what_was_handed_up() {
        let mut w = Vec::new();
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        for (i, piece) in data.chunks(7000).enumerate() {
            keep(&mut w, piece, (i * 7000) as u64, data.len() as u64);
        }
        assert!(w.len() <= 2 * WINDOW);
        assert!(w.ends_with(&data[data.len() - WINDOW..]));
    }
}
