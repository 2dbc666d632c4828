//! permessage-deflate (RFC 7692) against a raw in-process server that speaks it with
//! flate2: negotiation of each parameter, context takeover on and off, the inflate
//! cap (1009), and answers the client must refuse.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::{Compress, Compression as Level, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use wsbench_core::config::Compression;
use wsbench_core::connection::DeflateParams;
use wsbench_core::{ConnState, ConnectConfig, Direction, ErrorKind, Initiator, Opcode, Outgoing};

use crate::support::{manager, open, wait_end, wait_frame, wait_open};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// One client frame as the server read it (unmasked).
#[derive(Debug)]
struct ClientFrame {
    fin: bool,
    rsv1: bool,
    op: u8,
    payload: Vec<u8>,
}

/// The server's side of one connection: the socket and what the client offered.
struct Peer {
    tcp: TcpStream,
}

impl Peer {
    async fn read_frame(&mut self) -> Option<ClientFrame> {
        let mut h = [0u8; 2];
        self.tcp.read_exact(&mut h).await.ok()?;
        let len = match h[1] & 0x7f {
            126 => self.tcp.read_u16().await.ok()? as u64,
            127 => self.tcp.read_u64().await.ok()?,
            n => n as u64,
        };
        let mut mask = [0u8; 4];
        self.tcp.read_exact(&mut mask).await.ok()?;
        let mut payload = vec![0u8; len as usize];
        self.tcp.read_exact(&mut payload).await.ok()?;
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        Some(ClientFrame {
            fin: h[0] & 0x80 != 0,
            rsv1: h[0] & 0x40 != 0,
            op: h[0] & 0x0f,
            payload,
        })
    }

    /// The next data frame (control frames skipped).
    async fn read_data(&mut self) -> Option<ClientFrame> {
        loop {
            let f = self.read_frame().await?;
            if f.op < 8 {
                return Some(f);
            }
        }
    }

    async fn write(&mut self, first: u8, payload: &[u8]) {
        let mut v = vec![first];
        match payload.len() {
            n if n < 126 => v.push(n as u8),
            n if n < 65536 => {
                v.push(126);
                v.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                v.push(127);
                v.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        v.extend_from_slice(payload);
        let _ = self.tcp.write_all(&v).await;
    }

    /// A compressed text message (FIN + RSV1).
    async fn send_compressed(&mut self, z: &mut Compress, text: &[u8]) -> usize {
        let wire = deflate(z, text);
        self.write(0x80 | 0x40 | 0x1, &wire).await;
        wire.len()
    }

    /// Wait for the client's close frame; its code.
    async fn close_code(&mut self) -> Option<u16> {
        loop {
            let f = self.read_frame().await?;
            if f.op == 0x8 {
                return f.payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            }
        }
    }
}

fn deflate(z: &mut Compress, data: &[u8]) -> Vec<u8> {
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

fn inflate(z: &mut Decompress, wire: &[u8]) -> Vec<u8> {
    let mut input = wire.to_vec();
    input.extend_from_slice(&TAIL);
    let mut out = Vec::with_capacity(1 << 20);
    z.decompress_vec(&input, &mut out, FlushDecompress::Sync).unwrap();
    out
}

/// A server that answers the upgrade with `answer(offer)` as its
/// Sec-WebSocket-Extensions (None: no such header) and runs `script`.
async fn deflate_server<A, S, Fut>(answer: A, script: S) -> SocketAddr
where
    A: Fn(Option<&str>) -> Option<String> + Send + Sync + 'static,
    S: Fn(Peer) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (answer, script) = (Arc::new(answer), Arc::new(script));
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let (answer, script) = (answer.clone(), script.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tcp.read_exact(&mut b).await.is_err() {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let header = |name: &str| {
                    head.lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim().to_owned())
                };
                let key = header("sec-websocket-key").unwrap_or_default();
                let offer = header("sec-websocket-extensions");
                let mut resp = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
                    derive_accept_key(key.as_bytes())
                );
                if let Some(a) = answer(offer.as_deref()) {
                    resp.push_str(&format!("Sec-WebSocket-Extensions: {a}\r\n"));
                }
                resp.push_str("\r\n");
                if tcp.write_all(resp.as_bytes()).await.is_ok() {
                    script(Peer { tcp }).await;
                }
            });
        }
    });
    addr
}

/// What a server echo script saw: each client data frame (rsv1, payload on the wire).
type Seen = Arc<Mutex<Vec<(bool, Vec<u8>)>>>;

/// Inflate each client message (window `client_bits`), check it, and answer it
/// compressed twice (context kept unless `server_reset`).
async fn echo(mut p: Peer, seen: Seen, client_bits: u8, server_bits: u8, server_reset: bool) {
    let mut unz = Decompress::new_with_window_bits(false, client_bits);
    let mut z = Compress::new_with_window_bits(Level::default(), false, server_bits);
    while let Some(f) = p.read_data().await {
        seen.lock().unwrap().push((f.rsv1, f.payload.clone()));
        assert!(f.fin);
        let text = if f.rsv1 {
            inflate(&mut unz, &f.payload)
        } else {
            f.payload
        };
        for _ in 0..2 {
            p.send_compressed(&mut z, &text).await;
            if server_reset {
                z.reset();
            }
        }
    }
}

fn config(addr: SocketAddr, c: Compression) -> ConnectConfig {
    let mut config = ConnectConfig::new(format!("ws://{addr}/"));
    config.compression = c;
    config
}

const TEXT: &str = "permessage-deflate round trip: the same words, the same words, the same words again";

/// Connect with `c`, the server answering `answer`; send TEXT twice; return the
/// agreed parameters, the server's view of our frames and the log's inbound frames.
async fn round_trip(c: Compression, answer: &'static str, bits: (u8, u8), reset: bool) -> RoundTrip {
    let seen: Seen = Arc::default();
    let offers: Arc<Mutex<Vec<String>>> = Arc::default();
    let (seen2, offers2) = (seen.clone(), offers.clone());
    let addr = deflate_server(
        move |offer| {
            offers2.lock().unwrap().push(offer.unwrap_or("").to_owned());
            Some(answer.to_owned())
        },
        move |p| echo(p, seen2.clone(), bits.0, bits.1, reset),
    )
    .await;
    let (m, _) = manager();
    let (id, s) = open(&m, config(addr, c));
    let hs = wait_open(&s).await;
    for _ in 0..2 {
        m.send(id, Outgoing::Text(TEXT.into())).await.unwrap();
    }
    let log = s.log().clone();
    wait_frame(&s, "four answers", |f| f.seq > 0 && log.stats().frames_in >= 4).await;
    let inbound: Vec<_> = log
        .page(0, 100)
        .into_iter()
        .filter(|f| f.direction == Direction::In && f.opcode == Opcode::Text)
        .collect();
    let outbound: Vec<_> = log
        .page(0, 100)
        .into_iter()
        .filter(|f| f.direction == Direction::Out && f.opcode == Opcode::Text)
        .collect();
    for f in inbound.iter().chain(&outbound) {
        assert_eq!(f.text(), Some(TEXT), "the log holds the inflated message");
    }
    let offer = offers.lock().unwrap()[0].clone();
    let seen = seen.lock().unwrap().clone();
    let stats = log.stats();
    let _ = m.disconnect(id, 1000, "");
    RoundTrip {
        offer,
        agreed: hs.deflate,
        seen,
        inbound_wire: inbound.iter().map(|f| f.compressed_len).collect(),
        outbound_wire: outbound.iter().map(|f| f.compressed_len).collect(),
        stats,
        request_offer: hs
            .request_headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions"))
            .map(|h| h.value.clone()),
    }
}

struct RoundTrip {
    offer: String,
    agreed: Option<DeflateParams>,
    seen: Vec<(bool, Vec<u8>)>,
    inbound_wire: Vec<u32>,
    outbound_wire: Vec<u32>,
    stats: wsbench_core::LogStats,
    request_offer: Option<String>,
}

#[tokio::test]
async fn defaults_offer_deflate_and_messages_round_trip_compressed_both_ways() {
    let r = round_trip(Compression::default(), "permessage-deflate", (15, 15), false).await;
    assert_eq!(
        r.offer,
        "permessage-deflate; client_max_window_bits, permessage-deflate; client_no_context_takeover; client_max_window_bits"
    );
    assert_eq!(
        r.request_offer.as_deref(),
        Some(r.offer.as_str()),
        "the handshake records the offer"
    );
    assert_eq!(r.agreed, Some(DeflateParams::default()));
    assert_eq!(r.seen.len(), 2);
    assert!(
        r.seen.iter().all(|(rsv1, p)| *rsv1 && p.len() < TEXT.len()),
        "we compress"
    );
    // Context takeover both ways: the second copy refers to the first.
    assert!(r.seen[1].1.len() < r.seen[0].1.len(), "{:?}", r.seen);
    assert_eq!(
        r.outbound_wire,
        r.seen.iter().map(|(_, p)| p.len() as u32).collect::<Vec<_>>()
    );
    assert_eq!(r.inbound_wire.len(), 4);
    assert!(
        r.inbound_wire.iter().all(|&n| n > 0 && (n as usize) < TEXT.len()),
        "{:?}",
        r.inbound_wire
    );
    assert!(
        r.inbound_wire[1] < r.inbound_wire[0],
        "server context kept: {:?}",
        r.inbound_wire
    );
    assert_eq!(r.stats.bytes_in, 4 * TEXT.len() as u64);
    assert_eq!(
        r.stats.wire_bytes_in,
        r.inbound_wire.iter().map(|&n| n as u64).sum::<u64>()
    );
    assert!(r.stats.wire_bytes_out < r.stats.bytes_out);
}

#[tokio::test]
async fn each_parameter_is_offered_and_honoured() {
    // client_max_window_bits=10: we compress with a 1 KiB window, the server inflates with it.
    let c = Compression {
        client_max_window_bits: Some(10),
        ..Compression::default()
    };
    let r = round_trip(c, "permessage-deflate; client_max_window_bits=10", (10, 15), false).await;
    assert_eq!(
        r.offer,
        "permessage-deflate; client_max_window_bits=10, permessage-deflate; client_no_context_takeover; client_max_window_bits=10"
    );
    assert_eq!(r.agreed.unwrap().client_max_window_bits, Some(10));

    // The server may lower our window without being asked for a value.
    let r = round_trip(
        Compression::default(),
        "permessage-deflate; client_max_window_bits=9",
        (9, 15),
        false,
    )
    .await;
    assert_eq!(r.agreed.unwrap().client_max_window_bits, Some(9));

    let c = Compression {
        server_max_window_bits: Some(11),
        ..Compression::default()
    };
    let r = round_trip(c, "permessage-deflate; server_max_window_bits=11", (15, 11), false).await;
    assert!(
        r.offer
            .starts_with("permessage-deflate; client_max_window_bits; server_max_window_bits=11, "),
        "{}",
        r.offer
    );
    assert_eq!(r.agreed.unwrap().server_max_window_bits, Some(11));
    assert_eq!(r.inbound_wire.len(), 4);
}

#[tokio::test]
async fn context_takeover_on_and_off() {
    let c = Compression {
        client_no_context_takeover: true,
        server_no_context_takeover: true,
        ..Compression::default()
    };
    let r = round_trip(
        c,
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        (15, 15),
        true,
    )
    .await;
    assert_eq!(
        r.offer,
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits"
    );
    let agreed = r.agreed.unwrap();
    assert!(agreed.client_no_context_takeover && agreed.server_no_context_takeover);
    // No shared context: the same message compresses to the same bytes each time.
    assert_eq!(r.seen[0].1, r.seen[1].1);
    assert!(r.inbound_wire.windows(2).all(|w| w[0] == w[1]), "{:?}", r.inbound_wire);

    // The server may impose client_no_context_takeover unasked.
    let r = round_trip(
        Compression::default(),
        "permessage-deflate; client_no_context_takeover",
        (15, 15),
        false,
    )
    .await;
    assert!(r.agreed.unwrap().client_no_context_takeover);
    assert_eq!(r.seen[0].1, r.seen[1].1);
}

#[tokio::test]
async fn switched_off_nothing_is_offered_and_messages_go_plain() {
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let addr = deflate_server(
        |offer| {
            assert_eq!(offer, None, "nothing offered");
            None
        },
        move |mut p| {
            let seen = seen2.clone();
            async move {
                while let Some(f) = p.read_data().await {
                    seen.lock().unwrap().push((f.rsv1, f.payload.clone()));
                    p.write(0x81, &f.payload).await;
                }
            }
        },
    )
    .await;
    let (m, _) = manager();
    let (id, s) = open(&m, config(addr, Compression::off()));
    assert_eq!(wait_open(&s).await.deflate, None);
    m.send(id, Outgoing::Text(TEXT.into())).await.unwrap();
    let f = wait_frame(&s, "echo", |f| f.direction == Direction::In).await;
    assert_eq!((f.text(), f.compressed_len), (Some(TEXT), 0));
    assert_eq!(seen.lock().unwrap()[0], (false, TEXT.as_bytes().to_vec()));
}

#[tokio::test]
async fn binary_can_opt_out_of_compression_per_message() {
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let addr = deflate_server(
        |_| Some("permessage-deflate".into()),
        move |p| echo(p, seen2.clone(), 15, 15, false),
    )
    .await;
    let (m, _) = manager();
    let (id, s) = open(&m, config(addr, Compression::default()));
    wait_open(&s).await;
    let data = bytes::Bytes::from(vec![b'z'; 4096]);
    let seq = m.send(id, Outgoing::BinaryUncompressed(data.clone())).await.unwrap();
    let seq2 = m.send(id, Outgoing::Binary(data.clone())).await.unwrap();
    wait_frame(&s, "answers", |f| f.direction == Direction::In && f.seq > seq2).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0], (false, data.to_vec()), "sent as it is");
    assert!(seen[1].0 && seen[1].1.len() < 100, "compressed");
    assert_eq!(s.log().get(seq).unwrap().compressed_len, 0);
    assert_eq!(s.log().get(seq2).unwrap().compressed_len as usize, seen[1].1.len());
}

#[tokio::test]
async fn a_compressed_message_over_the_size_limit_is_a_1009_close() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    // 16 MiB of zeros: about 16 KiB on the wire (made before the runtime is busy).
    let bomb = Arc::new(deflate(&mut Compress::new(Level::best(), false), &vec![0u8; 16 << 20]));
    assert!(bomb.len() < 40_000, "{}", bomb.len());
    let addr = deflate_server(
        |_| Some("permessage-deflate".into()),
        move |mut p| {
            let tx = tx.lock().unwrap().take();
            let bomb = bomb.clone();
            async move {
                p.write(0x80 | 0x40 | 0x2, &bomb).await;
                let code = p.close_code().await;
                if let Some(tx) = tx {
                    let _ = tx.send(code);
                }
            }
        },
    )
    .await;
    let (m, _) = manager();
    let mut c = config(addr, Compression::default());
    c.limits.max_message_size = 1 << 20;
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            reason,
            initiated_by,
            ..
        } => {
            assert_eq!((code, initiated_by), (1009, Initiator::Client), "{reason}");
            assert!(reason.contains("inflates past the limit of 1048576 bytes"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let seen = tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, Some(1009), "the server received our 1009 close frame");
}

/// Connect to a server answering `answer` with compression `c`; the handshake error.
async fn refused(c: Compression, answer: &'static str) -> String {
    let addr = deflate_server(move |_| Some(answer.to_owned()), |_| async {}).await;
    let (m, _) = manager();
    let (_, s) = open(&m, config(addr, c));
    match wait_end(&s).await {
        ConnState::Failed { error } => {
            assert_eq!(error.kind, ErrorKind::Handshake, "{}", error.message);
            error.message
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_extension_that_was_not_offered_fails_the_handshake_with_the_reason() {
    let e = refused(Compression::off(), "permessage-deflate").await;
    assert!(
        e.contains("the server accepted the extension \"permessage-deflate\", which was not offered"),
        "{e}"
    );
    let e = refused(Compression::default(), "x-webkit-deflate-frame").await;
    assert!(e.contains("\"x-webkit-deflate-frame\", which was not offered"), "{e}");
}

#[tokio::test]
async fn invalid_parameters_in_the_answer_fail_the_handshake_with_the_reason() {
    let cases = [
        (
            "permessage-deflate; client_max_window_bits=16",
            "client_max_window_bits=16 is not a window size",
        ),
        (
            "permessage-deflate; server_max_window_bits",
            "server_max_window_bits needs a value",
        ),
        ("permessage-deflate; mystery", "unknown parameter \"mystery\""),
        (
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "client_no_context_takeover appears twice",
        ),
        (
            "permessage-deflate, permessage-deflate",
            "accepted permessage-deflate twice",
        ),
    ];
    for (answer, why) in cases {
        let e = refused(Compression::default(), answer).await;
        assert!(e.contains("permessage-deflate") && e.contains(why), "{answer}: {e}");
    }
    let c = Compression {
        client_max_window_bits: Some(10),
        ..Compression::default()
    };
    let e = refused(c, "permessage-deflate; client_max_window_bits=12").await;
    assert!(e.contains("larger than the 10 offered"), "{e}");
}

#[tokio::test]
async fn window_bits_out_of_range_are_refused_before_dialing() {
    let (m, _) = manager();
    let mut c = ConnectConfig::new("ws://127.0.0.1:9/");
    c.compression.server_max_window_bits = Some(16);
    let id = m.create("bad", c);
    let e = m.connect(id).unwrap_err();
    assert!(
        e.to_string().contains("server_max_window_bits must be from 8 to 15"),
        "{e}"
    );
}
