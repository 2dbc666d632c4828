//! The two helpers of `scripts/bench-cli`, one binary:
//!
//!     flood serve COUNT SIZE text|binary   # prints ws://127.0.0.1:PORT/, serves until killed
//!     flood bare URL                       # a bare tokio-tungstenite read loop; prints the count
//!     flood print URL [--raw]              # the same loop, printing every message
//!
//! `serve` answers every client with the same flood: COUNT pre-encoded frames of SIZE
//! bytes written as fast as TCP takes them, then a close frame (1000). `bare` is the
//! baseline a WebSocket client cannot beat by much: it reads and counts messages and
//! does nothing else (release build, tungstenite's default read buffer). `print` is
//! the ceiling for a client that must print what it gets: the same loop writing each
//! message to stdout as `wsbench-cli connect` does (text + newline; binary as `b64:` +
//! base64 + newline, or with `--raw` its bytes as they are), through one buffered
//! writer, the base64 encoded into one reused buffer (no allocation per message) by
//! the same SIMD encoder the CLI uses (so the ratio measures the CLI, not the encoder).

use std::net::SocketAddr;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

fn frame(size: usize, binary: bool) -> Vec<u8> {
    let mut v = vec![if binary { 0x82 } else { 0x81 }];
    match size {
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
    // Printable, so text and binary payloads are the same bytes.
    v.extend((0..size).map(|i| b'a' + (i % 26) as u8));
    v
}

async fn serve(count: usize, size: usize, binary: bool) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = l.local_addr().expect("addr");
    println!("ws://{addr}/");
    let one = frame(size, binary);
    let per_chunk = (256 * 1024 / one.len()).max(1);
    let chunk: Vec<u8> = one.iter().copied().cycle().take(one.len() * per_chunk).collect();
    let chunk = std::sync::Arc::new(chunk);
    while let Ok((tcp, _)) = l.accept().await {
        let chunk = chunk.clone();
        let one = one.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let tcp = ws.get_mut();
            let mut left = count;
            while left >= per_chunk {
                if tcp.write_all(&chunk).await.is_err() {
                    return;
                }
                left -= per_chunk;
            }
            for _ in 0..left {
                if tcp.write_all(&one).await.is_err() {
                    return;
                }
            }
            let _ = tcp.write_all(&[0x88, 0x02, 0x03, 0xe8]).await;
            let _ = tcp.flush().await;
            // Keep the socket until the client goes.
            while let Some(Ok(_)) = ws.next().await {}
        });
    }
}

async fn open(url: &str) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse::<SocketAddr>()
        .expect("ws://IP:PORT/");
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .expect("handshake");
    ws
}

async fn bare(url: &str) -> u64 {
    let mut ws = open(url).await;
    let mut n = 0u64;
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Text(_) | Message::Binary(_) => n += 1,
            Message::Close(_) => break,
            _ => {}
        }
    }
    n
}

/// The bare loop, printing every message to stdout through one buffered writer.
async fn print(url: &str, raw: bool) {
    use std::io::Write as _;
    let mut ws = open(url).await;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut b64 = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        let written = match m {
            Message::Text(t) => out.write_all(t.as_bytes()).and_then(|()| out.write_all(b"\n")),
            Message::Binary(b) if raw => out.write_all(&b),
            Message::Binary(b) => {
                b64.clear();
                base64_simd::STANDARD.encode_append(&b, &mut b64);
                out.write_all(b"b64:")
                    .and_then(|()| out.write_all(&b64))
                    .and_then(|()| out.write_all(b"\n"))
            }
            Message::Close(_) => break,
            _ => Ok(()),
        };
        written.expect("stdout");
    }
    out.flush().expect("stdout");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve", count, size, kind] => {
            let count = count.parse().expect("COUNT");
            let size = size.parse().expect("SIZE");
            rt.block_on(serve(count, size, *kind == "binary"));
        }
        ["bare", url] => println!("{}", rt.block_on(bare(url))),
        ["print", url] => rt.block_on(print(url, false)),
        ["print", url, "--raw"] => rt.block_on(print(url, true)),
        _ => {
            eprintln!("usage: flood serve COUNT SIZE text|binary | flood bare URL | flood print URL [--raw]");
            std::process::exit(2);
        }
    }
}
