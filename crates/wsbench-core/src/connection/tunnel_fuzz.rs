//! Property tests of the proxy reply parsers (HTTP CONNECT answers, SOCKS5 method,
//! auth and connect replies): any bytes the proxy sends never panic, never make the
//! parser hold more than its caps (16 KiB of head, 1 KiB of body), never hang, and an
//! error always names the proxy and the step of the exchange that failed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::AsyncWriteExt;

use super::open;
use crate::connection::proxy::Proxy;
use crate::error::Error;

fn cases() -> u32 {
    std::env::var("WSBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// A well-formed reply with random bytes overwritten, cut or appended, or plain noise.
fn reply(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    let mutated = (
        0..n,
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        any::<usize>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(move |(i, flips, cut, tail)| {
            let mut b = seeds[i].clone();
            for (at, v) in flips {
                let len = b.len();
                if len > 0 {
                    b[at % len] = v;
                }
            }
            if cut % 3 == 0 {
                b.truncate(cut % (b.len() + 1));
            } else if cut % 3 == 1 {
                b.extend(tail);
            }
            b
        });
    prop_oneof![
        6 => mutated,
        1 => prop::collection::vec(any::<u8>(), 0..512),
        // A head that never ends: the 16 KiB cap must stop it.
        1 => (1usize..40_000).prop_map(|n| {
            let mut b = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
            b.resize(n.max(20), b'a');
            b
        }),
    ]
}

fn fuzz(target: &str, proxy_url: &str, host: &str, seeds: Vec<Vec<u8>>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let proxy = Proxy::parse(proxy_url, "test").unwrap();
    let runs = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&reply(seeds), |bytes| {
        runs.fetch_add(1, Ordering::Relaxed);
        let out = rt.block_on(async {
            let (mut client, mut server) = tokio::io::duplex(1 << 17);
            server.write_all(&bytes).await.unwrap();
            server.shutdown().await.unwrap();
            let r = tokio::time::timeout(Duration::from_secs(5), open(&mut client, &proxy, host, 443)).await;
            drop(server);
            r
        });
        let Ok(out) = out else {
            return Err(TestCaseError::fail("the parser hung on a reply that had ended"));
        };
        match out {
            Ok(info) => prop_assert!(info.exchange.len() < 200, "{} exchange lines", info.exchange.len()),
            Err(Error::Proxy { proxy, reason, http }) => {
                prop_assert!(proxy.contains("127.0.0.1:3128"), "{proxy}");
                prop_assert!(!reason.is_empty());
                if let Some(h) = http {
                    prop_assert!(h.body.len() <= 1024 && h.headers.len() < 16 * 1024);
                }
            }
            Err(e) => return Err(TestCaseError::fail(format!("not a proxy error: {e:?}"))),
        }
        Ok(())
    });
    println!("fuzz {target}: {} executions", runs.load(Ordering::Relaxed));
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
}

#[test]
fn http_connect_answers() {
    fuzz(
        "proxy HTTP CONNECT answer",
        "http://u:p@127.0.0.1:3128",
        "example.test",
        vec![
            b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec(),
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 11\r\n\r\nlogin first".to_vec(),
            b"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 99999999999999999999\r\n\r\nno".to_vec(),
        ],
    );
}

#[test]
fn socks5_replies() {
    fuzz(
        "proxy SOCKS5 replies",
        "socks5h://u:p@127.0.0.1:3128",
        "example.test",
        vec![
            vec![5, 2, 1, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80],
            vec![5, 2, 1, 0, 5, 0, 0, 3, 4, b'h', b'o', b's', b't', 1, 187],
            vec![
                5, 2, 1, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80,
            ],
            vec![5, 2, 1, 1],
            vec![5, 0xff],
            vec![5, 2, 1, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
        ],
    );
}
