//! Property tests of the inflate layer: whatever the server sends and however the
//! socket splits it, the layer never panics, never holds more than a chunk of
//! inflated data, caps every message, and hands tungstenite exactly the messages
//! that were compressed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use flate2::{Compress, Compression as Level, Decompress, FlushCompress, FlushDecompress};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncRead, ReadBuf};

use super::inflate::{parse_header, push_frame};
use super::{stored, DeflateCtx, Inflate, TAIL};
use crate::config::Compression;

const HEAD: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

/// A socket that hands out its bytes in the given piece sizes.
struct Pieces {
    data: Vec<u8>,
    at: usize,
    cuts: Vec<usize>,
    k: usize,
}

impl AsyncRead for Pieces {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let cut = this
            .cuts
            .get(this.k % this.cuts.len().max(1))
            .copied()
            .unwrap_or(usize::MAX);
        this.k += 1;
        let n = cut.max(1).min(buf.remaining()).min(this.data.len() - this.at);
        buf.put_slice(&this.data[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

/// Everything the layer hands up, read with reads of `read_size` bytes; the largest
/// amount it held at once is checked as it goes.
fn run(data: Vec<u8>, cuts: Vec<usize>, read_size: usize, max_message: usize) -> (Vec<u8>, Arc<DeflateCtx>) {
    let (up, ctx, _) = run_counting(data, cuts, read_size, max_message);
    (up, ctx)
}

/// `run`, with the number of messages the stored fast path handed up.
fn run_counting(
    data: Vec<u8>,
    cuts: Vec<usize>,
    read_size: usize,
    max_message: usize,
) -> (Vec<u8>, Arc<DeflateCtx>, usize) {
    let ctx = Arc::new(DeflateCtx::new(Some(Compression::default()), max_message, 1 << 20));
    let mut layer = Inflate::new(
        Pieces {
            data,
            at: 0,
            cuts,
            k: 0,
        },
        ctx.clone(),
    );
    let mut cx = Context::from_waker(Waker::noop());
    let mut up = Vec::new();
    let mut buf = vec![0; read_size.max(1)];
    loop {
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut layer).poll_read(&mut cx, &mut rb) {
            Poll::Ready(Ok(())) if rb.filled().is_empty() => break,
            Poll::Ready(Ok(())) => up.extend_from_slice(rb.filled()),
            other => panic!("the layer must not fail or wait on an in-memory socket: {other:?}"),
        }
        assert!(layer.held() <= 2 * 64 * 1024 + 16, "held {}", layer.held());
    }
    (up, ctx, layer.fast)
}

/// The messages in a stream of server frames: (opcode, payload), fragments joined.
fn messages(mut d: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur: Option<(u8, Vec<u8>)> = None;
    while let Some(h) = parse_header(d) {
        let end = h.header_len + h.len as usize;
        let payload = &d[h.header_len..end];
        assert!(!h.rsv1, "every frame handed up is plain");
        match (h.op, cur.as_mut()) {
            (0, Some((_, p))) => p.extend_from_slice(payload),
            (op, _) => cur = Some((op, payload.to_vec())),
        }
        if h.fin {
            out.extend(cur.take());
        }
        d = &d[end..];
    }
    assert!(d.is_empty(), "{} stray bytes", d.len());
    out
}

/// A server's compressed message: raw deflate, sync flush, marker removed.
fn compress(z: &mut Compress, data: &[u8]) -> Vec<u8> {
    if data.is_empty() {
        // zlib makes nothing of a flush right after a flush: an empty stored block.
        return vec![0x00];
    }
    let mut out = Vec::with_capacity(data.len() + 64);
    let start = z.total_in() as usize;
    loop {
        let done = z.total_in() as usize - start;
        z.compress_vec(&data[done..], &mut out, FlushCompress::Sync).unwrap();
        if z.total_in() as usize - start == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - 4);
    out
}

/// `payload` as frames of at most `frag` bytes; RSV1 on the first when compressed.
fn frames(out: &mut Vec<u8>, op: u8, payload: &[u8], frag: usize, compressed: bool) {
    let pieces: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(frag.max(1)).collect()
    };
    for (i, p) in pieces.iter().enumerate() {
        let mut f = Vec::new();
        push_frame(&mut f, if i == 0 { op } else { 0 }, i + 1 == pieces.len(), p);
        if i == 0 && compressed {
            f[0] |= 0x40;
        }
        out.extend(f);
    }
}

fn runner() -> TestRunner {
    let cases = std::env::var("WSBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn compressed_and_plain_messages_come_out_whole_whatever_the_split() {
    let message = (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec(prop::sample::select(b"ab \x00\xffxyz".to_vec()), 0..3000),
        1usize..500,
    );
    let strategy = (
        prop::collection::vec(message, 1..8),
        prop::collection::vec(1usize..300, 1..8),
        1usize..200,
    );
    runner()
        .run(&strategy, |(msgs, cuts, read_size)| {
            let mut z = Compress::new(Level::default(), false);
            let mut wire = HEAD.to_vec();
            let mut want = Vec::new();
            let mut sizes = Vec::new();
            for (binary, compressed, data, frag) in &msgs {
                let op = if *binary { 2 } else { 1 };
                let payload = if *compressed {
                    compress(&mut z, data)
                } else {
                    data.clone()
                };
                sizes.push(if *compressed { payload.len() as u32 } else { 0 });
                frames(&mut wire, op, &payload, *frag, *compressed);
                want.push((op, data.clone()));
            }
            let (up, ctx) = run(wire, cuts, read_size, 1 << 20);
            prop_assert!(up.starts_with(HEAD));
            prop_assert_eq!(messages(&up[HEAD.len()..]), want);
            let mut got = vec![0u32; sizes.len()];
            ctx.take_wire_lens(got.iter_mut());
            prop_assert_eq!(got, sizes);
            prop_assert!(ctx.fault().is_none());
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_bytes_after_the_answer_never_panic_and_stay_bounded() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..4000),
        prop::collection::vec(1usize..100, 1..6),
        1usize..100,
    );
    runner()
        .run(&strategy, |(mut junk, cuts, read_size)| {
            // Make most frames "compressed" so the inflater sees the junk.
            if let Some(b) = junk.first_mut() {
                *b |= 0x40;
            }
            let mut wire = HEAD.to_vec();
            wire.extend(junk);
            let (up, _) = run(wire, cuts, read_size, 4096);
            prop_assert!(up.starts_with(HEAD));
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_decompression_bomb_is_cut_at_the_cap_with_a_1009() {
    let mut z = Compress::new(Level::best(), false);
    let bomb = compress(&mut z, &vec![0; 50 << 20]);
    assert!(
        bomb.len() < 100 << 10,
        "50 MiB of zeros compress to {} bytes",
        bomb.len()
    );
    let mut wire = HEAD.to_vec();
    frames(&mut wire, 2, &bomb, 1 << 20, true);
    let (up, ctx) = run(wire, vec![4096], 1 << 16, 1 << 20);
    let fault = ctx.fault().expect("the layer failed the connection");
    assert_eq!(fault.code, 1009);
    assert!(
        fault.reason.contains("inflates past the limit of 1048576 bytes"),
        "{}",
        fault.reason
    );
    assert!(up.len() < (1 << 20) + (1 << 17), "handed up {} bytes", up.len());
}

/// What zlib alone makes of each compressed message (payload plus tail, one stream,
/// reset after each message when `reset_each`); None when zlib refuses one.
fn zlib_reference(payloads: &[Vec<u8>], reset_each: bool) -> Option<Vec<Vec<u8>>> {
    let mut z = Decompress::new(false);
    let mut out = Vec::new();
    for p in payloads {
        let mut input = p.clone();
        input.extend_from_slice(&TAIL);
        let mut msg = Vec::with_capacity(1 << 17);
        let start = z.total_in();
        while ((z.total_in() - start) as usize) < input.len() {
            let at = (z.total_in() - start) as usize;
            msg.reserve(1 << 16);
            let before = (z.total_in(), z.total_out());
            z.decompress_vec(&input[at..], &mut msg, FlushDecompress::None).ok()?;
            if (z.total_in(), z.total_out()) == before {
                return None;
            }
        }
        if reset_each {
            z.reset(false);
        }
        out.push(msg);
    }
    Some(out)
}

/// Messages of stored blocks (made by hand, or by zlib from random bytes) mixed with
/// compressed ones that point back into them, with context takeover on and off: the
/// layer hands up exactly what zlib alone inflates, and the fast path is taken.
#[test]
fn stored_and_compressed_messages_inflate_as_zlib_does_with_and_without_context_takeover() {
    let message = (0u8..4, prop::collection::vec(any::<u8>(), 0..3000), 1usize..4000);
    let strategy = (
        prop::bool::ANY,
        prop::collection::vec(message, 1..8),
        prop::collection::vec(1usize..5000, 1..6),
        1usize..9000,
    );
    let fast_total = std::cell::Cell::new(0);
    runner()
        .run(&strategy, |(takeover, msgs, cuts, read_size)| {
            let head: &[u8] = if takeover {
                HEAD
            } else {
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"
            };
            let mut z = Compress::new(Level::default(), false);
            let mut wire = head.to_vec();
            let mut payloads = Vec::new();
            let mut last: Vec<u8> = Vec::new();
            for (kind, data, frag) in &msgs {
                let input = match kind {
                    // The previous message again: back-references into it.
                    2 => last.clone(),
                    3 => [&last[..last.len() / 2], b"text text text text"].concat(),
                    // Random bytes: zlib stores them too, and keeps them in its window.
                    _ => data.clone(),
                };
                let payload = match kind {
                    // Stored blocks made by hand (as wsbench's own writer does); zlib
                    // makes nothing of an empty message after a flush.
                    _ if *kind == 0 || input.is_empty() => stored(&input),
                    _ => compress(&mut z, &input),
                };
                if !takeover {
                    z.reset();
                }
                last = data.clone();
                // Fragmented messages go to zlib; whole ones may take the fast path.
                let frag = if *kind == 0 { payload.len().max(1) } else { *frag };
                frames(&mut wire, 2, &payload, frag, true);
                payloads.push(payload);
            }
            let Some(want) = zlib_reference(&payloads, !takeover) else {
                return Ok(());
            };
            let (up, ctx, fast) = run_counting(wire, cuts, read_size, 1 << 20);
            fast_total.set(fast_total.get() + fast);
            prop_assert!(up.starts_with(head));
            let got: Vec<Vec<u8>> = messages(&up[head.len()..]).into_iter().map(|(_, d)| d).collect();
            prop_assert_eq!(got, want);
            prop_assert!(ctx.fault().is_none());
            let sizes: Vec<u32> = payloads.iter().map(|p| p.len() as u32).collect();
            let mut got = vec![0u32; sizes.len()];
            ctx.take_wire_lens(got.iter_mut());
            prop_assert_eq!(got, sizes);
            Ok(())
        })
        .unwrap();
    assert!(fast_total.get() > 0, "the stored fast path was never taken");
}

#[test]
fn a_stored_message_then_one_pointing_into_it_takes_the_fast_path_and_keeps_the_window() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..50_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    for takeover in [true, false] {
        let mut z = Compress::new(Level::default(), false);
        let first = compress(&mut z, &data);
        let again = compress(&mut z, &data[20_000..]);
        assert!(
            again.len() < 1000,
            "the second message points back: {} bytes",
            again.len()
        );
        assert_eq!(
            stored::scan(&first, first.len() as u64, 1 << 20),
            stored::Scan::Stored(50_000)
        );
        let mut wire = HEAD.to_vec();
        for p in [&first, &again, &stored(b"after"), &first] {
            frames(&mut wire, 2, p, 1 << 20, true);
        }
        if !takeover {
            // The same stream read by a layer that resets zlib each message cannot
            // resolve the back-reference: only check the fast path's count there.
            let (_, _, fast) = run_counting(wire, vec![1000], 4096, 1 << 20);
            assert!(fast >= 1);
            continue;
        }
        let (up, ctx, fast) = run_counting(wire, vec![1000, 70_000], 4096, 1 << 20);
        let got: Vec<Vec<u8>> = messages(&up[HEAD.len()..]).into_iter().map(|(_, d)| d).collect();
        assert_eq!(
            got,
            vec![data.clone(), data[20_000..].to_vec(), b"after".to_vec(), data.clone()]
        );
        assert!(ctx.fault().is_none());
        // The first message goes the fast way; once zlib has run, it keeps the stream.
        assert_eq!(fast, 1);
    }
}
