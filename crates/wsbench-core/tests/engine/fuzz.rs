//! Property tests (proptest, stable Rust) of every parser that takes outside input: hex
//! and base64 payloads, URLs and headers (config to target), the workspace's
//! connection, environment and secrets files, the app's state file, the Insomnia, Bruno
//! and OpenCollection importers, and the HAR / NDJSON / JSON log reader. The inputs are
//! arbitrary text and bytes, and mutations (flips, cuts, splices, duplications) of the
//! real fixtures, capped in size. The properties: no panic, and for line-based formats
//! an error that says where (line >= 1). The wire tap's frame parser is crate-private:
//! its property test is a unit test in `src/connection/wire/fuzz.rs`.
//!
//! The Socket.IO codec (Engine.IO 3/4 packets, Socket.IO packets with attachments, and
//! whole client sessions of arbitrary server frames) has its target here; the proxy
//! reply parsers (HTTP CONNECT, SOCKS5) are crate-private: their property tests are unit
//! tests in `src/connection/tunnel_fuzz.rs`.
//!
//! Each target prints how many inputs it ran. Layers that land later (permessage-deflate)
//! add a target here the same way.

use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wsbench_core::config::KeyValue;
use wsbench_core::{ConnectConfig, Error};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engine/fixtures");
/// Inputs per target; `WSBENCH_FUZZ_CASES` raises it for a longer run.
const DEFAULT_CASES: u32 = 1000;
/// Largest generated input, so every run is bounded in time and memory.
const MAX_INPUT: usize = 64 << 10;

fn cases() -> u32 {
    std::env::var("WSBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn seeds(names: &[&str]) -> Vec<Vec<u8>> {
    names
        .iter()
        .map(|n| std::fs::read(Path::new(FIXTURES).join(n)).unwrap_or_else(|e| panic!("{n}: {e}")))
        .collect()
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Cut(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to JSON, YAML and .bru, plus anything.
    let interesting = prop::sample::select(b"{}[]\":,\n\r\t #-|>'\\0019eE.+ \x00\xff".to_vec());
    let byte = prop_oneof![interesting, any::<u8>()];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Edit::Cut(i, n)),
        (any::<usize>(), prop::collection::vec(byte, 1..16)).prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |i: usize, b: &Vec<u8>| if b.is_empty() { 0 } else { i % (b.len() + 1) };
        match e {
            Edit::Flip(i, v) if !b.is_empty() => {
                let n = b.len();
                b[i % n] = *v
            }
            Edit::Flip(..) => {}
            Edit::Cut(i, n) => {
                let s = at(*i, &b);
                let end = (s + n).min(b.len());
                b.drain(s..end);
            }
            Edit::Insert(i, v) => {
                let s = at(*i, &b);
                b.splice(s..s, v.iter().copied());
            }
            Edit::Duplicate(i, n) => {
                let s = at(*i, &b);
                let end = (s + n).min(b.len());
                let copy = b[s..end].to_vec();
                b.splice(end..end, copy);
            }
            Edit::Truncate(i) => {
                let s = at(*i, &b);
                b.truncate(s);
            }
        }
    }
    b.truncate(MAX_INPUT);
    b
}

/// A mutated fixture, or plain random bytes (one in eight).
fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    prop_oneof![
        7 => (0..n, prop::collection::vec(edit(), 0..8)).prop_map(move |(i, e)| apply(seeds[i].clone(), &e)),
        1 => prop::collection::vec(any::<u8>(), 0..2048),
    ]
}

/// Run `check` on `cases()` inputs of `strategy`; print and return the count.
fn fuzz<S: Strategy>(target: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>) -> usize {
    let runs = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        runs.fetch_add(1, Ordering::Relaxed);
        check(v)
    });
    let n = runs.load(Ordering::Relaxed);
    println!("fuzz {target}: {n} executions");
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
    n
}

/// Errors about a file as a whole, which have no one place to point at.
const WHOLE_FILE: [&str; 2] = ["the file is empty", "has no WebSocket connection"];

/// A parse error of a line-based format must say where.
fn positioned(e: &Error, input: &[u8]) -> Result<(), TestCaseError> {
    if let Error::Parse { line, reason, .. } = e {
        let blank = input.iter().all(|b| b.is_ascii_whitespace());
        let whole = WHOLE_FILE.iter().any(|w| reason.contains(w));
        prop_assert!(*line >= 1 || blank || whole, "no position: {e}");
    }
    Ok(())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn hex_and_base64_payloads() {
    let hexish = "[0-9a-fA-F xX:,\\n\\t-]{0,300}";
    fuzz("hex", prop_oneof![hexish, ".{0,300}"], |s: String| {
        if let Ok(b) = wsbench_core::payload::parse_hex(&s) {
            prop_assert!(b.len() <= s.len() / 2);
        }
        Ok(())
    });
    let b64ish = "[A-Za-z0-9+/=_ \\n-]{0,300}";
    fuzz("base64", prop_oneof![b64ish, ".{0,300}"], |s: String| {
        if let Ok(b) = wsbench_core::payload::parse_base64(&s) {
            prop_assert!(b.len() <= s.len());
        }
        Ok(())
    });
}

#[test]
fn urls_and_headers_to_a_target() {
    let scheme = prop::sample::select(vec![
        "ws://", "wss://", "http://", "", "WS://", "ws:/", "ws:///", "x://",
    ]);
    let host = prop_oneof![
        "[a-z0-9.-]{0,20}",
        "\\[[0-9a-f:.%]{0,20}\\]",
        "[0-9.]{0,20}",
        "\\PC{0,12}",
        Just("bücher.example".to_owned()),
    ];
    let port = prop_oneof![
        Just(String::new()),
        "[0-9]{0,7}".prop_map(|p| format!(":{p}")),
        ":-?[0-9a-z]{0,4}"
    ];
    let path = "[/?#&=%a-z0-9 .@\\\\-]{0,20}";
    let header = ("\\PC{0,10}", "[\\PC\r\n\0]{0,20}");
    let strategy = (
        scheme,
        host,
        port,
        path,
        prop::collection::vec(header, 0..4),
        prop::collection::vec(("\\PC{0,6}", "\\PC{0,6}"), 0..3),
    );
    fuzz(
        "url+headers",
        strategy,
        |(scheme, host, port, path, headers, params)| {
            let mut c = ConnectConfig::new(format!("{scheme}{host}{port}{path}"));
            c.headers = headers.into_iter().map(|(n, v)| KeyValue::new(n, v)).collect();
            c.params = params.into_iter().map(|(n, v)| KeyValue::new(n, v)).collect();
            if let Ok(t) = wsbench_core::connection::target::prepare(&c) {
                prop_assert!(matches!(t.url.scheme(), "ws" | "wss"));
                prop_assert!(!t.host.is_empty());
            }
            Ok(())
        },
    );
}

#[test]
fn connection_environment_and_secrets_files() {
    let conns = seeds(&[
        "collections/echo-server.json",
        "collections/v1-flat.json",
        "collections/v1-no-version.json",
        "collections/newer-version.json",
        "collections/wrong-shape.json",
    ]);
    fuzz("connection file", input(conns), |b| {
        if let Err(e) = wsbench_core::collections::migrate::parse_connection(&b, "c.json") {
            positioned(&e, &b)?;
        }
        Ok(())
    });
    fuzz(
        "environment file",
        input(seeds(&["collections/staging.env.json"])),
        |b| {
            if let Err(e) = wsbench_core::workspace::parse_environment(&b, "environments/e.json") {
                positioned(&e, &b)?;
            }
            Ok(())
        },
    );
    let secrets = vec![br#"{"version": 1, "values": {"token": "abc", "key": "\u00e9"}}"#.to_vec()];
    fuzz("secrets file", input(secrets), |b| {
        if let Err(e) = wsbench_core::workspace::parse_secrets(&b, "environments/e.secrets.json") {
            positioned(&e, &b)?;
        }
        Ok(())
    });
}

#[test]
fn the_app_state_file() {
    use wsbench_core::restore::{AppStateFile, TabState};
    let good = AppStateFile {
        environment: Some("dev".into()),
        tabs: vec![TabState {
            name: "Echo".into(),
            config: ConnectConfig::new("ws://127.0.0.1:1/x").header("X-A", "1"),
            ..TabState::default()
        }],
        ..AppStateFile::default()
    };
    let dir = std::env::temp_dir().join(format!("wsbench-fuzz-state-{:016x}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let seed = serde_json::to_vec_pretty(&good).unwrap();
    fuzz("state file", input(vec![seed]), |b| {
        std::fs::write(&path, &b).unwrap();
        let loaded = AppStateFile::load(&path);
        if let Some(e) = &loaded.problem {
            positioned(e, &b)?;
        }
        prop_assert!(loaded.state.active <= loaded.state.tabs.len());
        Ok(())
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn insomnia_bruno_and_opencollection_importers() {
    let seeds = seeds(&[
        "import/insomnia-v4.json",
        "import/insomnia-v5.yaml",
        "import/bundled.opencollection.yml",
        "import/echo.bru",
        "import/broken.bru",
        "import/unknown.yaml",
    ]);
    fuzz("importers", input(seeds), |b| {
        let _ = wsbench_core::import::import_text(&text(&b), "fuzz");
        Ok(())
    });
    let bru = self::seeds(&["import/echo.bru"]);
    fuzz("bru", input(bru), |b| {
        let _ = wsbench_core::import::import_bru(&text(&b), "fuzz.bru");
        Ok(())
    });
}

#[test]
fn har_ndjson_and_json_log_reader() {
    let seeds = seeds(&[
        "export/golden.ndjson",
        "export/golden.har",
        "export/golden.json",
        "export/chrome.har",
    ]);
    fuzz("log reader", input(seeds), |b| {
        if let Err(e) = wsbench_core::export::read_log(Cursor::new(&b), Path::new("fuzz.log")) {
            positioned(&e, &b)?;
        }
        Ok(())
    });
}

/// Socket.IO and Engine.IO text packets as servers send them (both protocol versions).
const SIO_SEEDS: [&str; 12] = [
    r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    r#"0{"sid":"old","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#,
    "2",
    "3probe",
    "40",
    r#"40/chat,{"sid":"abc"}"#,
    r#"42["chat",{"msg":"hi"},2]"#,
    r#"42/chat,17["echo","a"]"#,
    r#"43/chat,17["ok"]"#,
    r#"44/admin,{"message":"Not authorized"}"#,
    r#"452-/files,9["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    r#"461-3[{"_placeholder":true,"num":0}]"#,
];

/// A server frame: text (a mutated seed) or binary (random bytes).
#[derive(Debug, Clone)]
enum SioFrame {
    Text(String),
    Binary(Vec<u8>),
}

fn sio_frame() -> impl Strategy<Value = SioFrame> {
    let seeds: Vec<Vec<u8>> = SIO_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    prop_oneof![
        4 => input(seeds).prop_map(|b| SioFrame::Text(text(&b))),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(SioFrame::Binary),
    ]
}

#[test]
fn socketio_and_engineio_codec() {
    use bytes::Bytes;
    use wsbench_core::socketio::{EioVersion, EnginePacket, SioClient, SioPacket};
    // Single packets: an error points inside the input.
    let seeds: Vec<Vec<u8>> = SIO_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    fuzz("engine.io + socket.io packet", input(seeds), |b| {
        let s = text(&b);
        if let Err(e) = EnginePacket::decode_text(&s) {
            prop_assert!(e.pos <= s.len() && !e.reason.is_empty(), "{e:?} in {s:?}");
        }
        let body = s.get(1..).unwrap_or("");
        match SioPacket::decode(body) {
            Err(e) => prop_assert!(e.pos <= body.len() && !e.reason.is_empty(), "{e:?} in {body:?}"),
            // What decodes encodes back to a packet that decodes the same.
            Ok(p) => prop_assert_eq!(SioPacket::decode(&p.encode()).ok(), Some(p)),
        }
        for v in [EioVersion::V3, EioVersion::V4] {
            let _ = EnginePacket::decode_binary(&Bytes::from(b.clone()), v);
        }
        Ok(())
    });
    // Whole sessions: any frames in any order, for v4, v3 and v2 clients, never panic,
    // and a frame that cannot be decoded says why on its decoded view.
    let session = (
        prop::sample::select(vec![4u8, 3, 2]),
        prop::collection::vec(sio_frame(), 1..24),
    );
    fuzz("socket.io client session", session, |(version, frames)| {
        let cfg = wsbench_core::config::SocketIoConfig {
            version,
            ..Default::default()
        };
        let mut c: SioClient<()> = SioClient::new(&cfg).unwrap();
        let now = tokio::time::Instant::now();
        for f in frames {
            let step = match &f {
                SioFrame::Text(t) => c.on_text(t, now),
                SioFrame::Binary(b) => c.on_binary(&Bytes::from(b.clone()), now),
            };
            if let Some(n) = &step.note {
                if let Some(e) = &n.error {
                    prop_assert!(!e.is_empty());
                }
            }
            prop_assert!(
                step.send.len() <= 64,
                "{} frames to send for one frame",
                step.send.len()
            );
            let _ = c.on_timer(now + std::time::Duration::from_secs(3600));
        }
        Ok(())
    });
}
