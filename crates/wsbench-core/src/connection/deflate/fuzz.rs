//! Property tests of the inflate layer: whatever the server sends and however the
//! socket splits it, the layer never panics, never holds more than a chunk of
//! inflated data, caps every message, and hands tungstenite exactly the messages
//! that were compressed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use flate2::{Compress, Compression as Level, FlushCompress};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncRead, ReadBuf};

use super::inflate::{parse_header, push_frame};
use super::{DeflateCtx, Inflate, TAIL};
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
    (up, ctx)
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
            let got: Vec<u32> = sizes.iter().map(|_| ctx.take_wire_len()).collect();
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
