//! Export and import: golden files for every writer, round trips, HAR validity and
//! a Chrome-shaped HAR, CSV read back by Python's csv module, redaction, cancel and
//! errors, and exports of a live session.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use wsbench_core::close::close_payload;
use wsbench_core::config::{Auth, KeyValue, LogLimits};
use wsbench_core::connection::{Handshake, Header, Timings, TlsInfo};
use wsbench_core::export::{
    default_file_name, export_to_path, export_to_writer, read_log, read_log_file, ExportFormat, ExportOptions,
    FrameSelection, LogSource, RecordedConnection, Redaction, SelectionKind,
};
use wsbench_core::{
    ConnectConfig, Direction, ErrorKind, Frame, FrameLog, LocalServer, MessageFormat, Opcode, Outgoing, SearchQuery,
    ServerConfig,
};

use crate::support::*;

/// 2026-11-22T03:04:45Z
const T0: i64 = 1_795_316_685_000_000;
const EXPORTED_AT: i64 = T0 + 60_000_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine/fixtures/export")
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsbench-export-{tag}-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn frame(seq: u64, ms: i64, direction: Direction, opcode: Opcode, payload: impl Into<Bytes>, rtt_us: u32) -> Frame {
    Frame {
        seq,
        at_us: T0 + ms * 1000 + seq as i64,
        offset_us: (5_000 + ms * 1000 + seq as i64) as u64,
        payload: payload.into(),
        rtt_us,
        compressed_len: 0,
        direction,
        opcode,
    }
}

/// The fixed frames every golden file is written from.
fn golden_frames() -> Vec<Frame> {
    use Direction::{In, Out};
    vec![
        frame(1, 0, Out, Opcode::Text, "hello ✓ — héllo, 日本語, 🎉", 0),
        frame(2, 3, In, Opcode::Text, "line one\nline two, with \"quotes\"\r\nend", 0),
        frame(3, 10, Out, Opcode::Text, "=1+1", 0),
        frame(4, 11, In, Opcode::Text, "@x", 0),
        frame(5, 12, In, Opcode::Text, "-2", 0),
        frame(6, 13, Out, Opcode::Text, "\tindented, +1", 0),
        Frame {
            compressed_len: 31,
            ..frame(7, 20, Out, Opcode::Text, r#"{"op":"subscribe","channel":"ticks"}"#, 0)
        },
        Frame {
            compressed_len: 9,
            ..frame(8, 21, In, Opcode::Binary, vec![0xfb, 0xef, 0xbe], 0)
        },
        frame(9, 22, In, Opcode::Binary, vec![0xde, 0xad, 0xbe, 0xef, 0x00], 0),
        frame(10, 30, Out, Opcode::Ping, "ka1", 0),
        frame(11, 31, In, Opcode::Pong, "ka1", 812),
        frame(12, 40, Out, Opcode::Text, "", 0),
        frame(13, 41, In, Opcode::Binary, Bytes::new(), 0),
        frame(14, 50, In, Opcode::Text, "evil\u{202E}txt.exe\u{7}", 0),
        frame(15, 60, Out, Opcode::Close, close_payload(1000, "bye, \"friend\""), 0),
        frame(16, 61, In, Opcode::Close, close_payload(1000, "bye, \"friend\""), 0),
    ]
}

fn h(name: &str, value: &str) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}

fn golden_config() -> ConnectConfig {
    let mut c = ConnectConfig::new("wss://echo.example/feed?room=1")
        .header("X-Trace", "1")
        .header("Cookie", "session=abc");
    c.subprotocols = vec!["chat.v2".into()];
    c.origin = Some("https://app.example".into());
    c.auth = Auth::Bearer {
        token: "tok-123".into(),
    };
    c
}

fn golden_handshake() -> Handshake {
    Handshake {
        url: "wss://echo.example/feed?room=1".into(),
        remote_addr: "203.0.113.7:443".into(),
        request_line: "GET /feed?room=1 HTTP/1.1".into(),
        request_headers: vec![
            h("Host", "echo.example"),
            h("Connection", "Upgrade"),
            h("Upgrade", "websocket"),
            h("Sec-WebSocket-Version", "13"),
            h("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            h("Sec-WebSocket-Protocol", "chat.v2"),
            h("Origin", "https://app.example"),
            h("X-Trace", "1"),
            h("Cookie", "session=abc"),
            h("Authorization", "Bearer tok-123"),
        ],
        status_line: "HTTP/1.1 101 Switching Protocols".into(),
        status: 101,
        response_headers: vec![
            h("Upgrade", "websocket"),
            h("Connection", "Upgrade"),
            h("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            h("Sec-WebSocket-Protocol", "chat.v2"),
            h("Set-Cookie", "route=r2; Path=/"),
        ],
        subprotocol: Some("chat.v2".into()),
        extensions: None,
        tls: Some(TlsInfo {
            version: "TLSv1_3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            alpn: Some("http/1.1".into()),
            certificate_verification_disabled: false,
            certificates: Vec::new(),
            pinned: false,
        }),
        timings: Timings {
            dns_us: 1_200,
            tcp_us: 3_400,
            tls_us: 8_100,
            upgrade_us: 4_500,
            total_us: 17_300,
        },
        deflate: None,
        proxy: None,
    }
}

fn source(frames: Vec<Frame>) -> LogSource {
    LogSource {
        name: "Local echo: feed #1".into(),
        config: golden_config(),
        handshake: Some(golden_handshake()),
        stats: None,
        log: Arc::new(FrameLog::from_frames(LogLimits::default(), frames)),
    }
}

fn options(format: ExportFormat) -> ExportOptions {
    ExportOptions {
        exported_at_us: Some(EXPORTED_AT),
        ..ExportOptions::new(format)
    }
}

fn export_bytes(src: &LogSource, opts: &ExportOptions) -> Vec<u8> {
    let mut out = Vec::new();
    export_to_writer(src, &mut out, opts, |_, _| true).unwrap();
    out
}

fn read_bytes(bytes: &[u8], name: &str) -> Vec<RecordedConnection> {
    read_log(std::io::Cursor::new(bytes), Path::new(name)).unwrap()
}

#[test]
fn golden_files_for_every_writer() {
    let src = source(golden_frames());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for format in ExportFormat::ALL {
        let got = export_bytes(&src, &options(format));
        let path = fixtures().join(format!("golden.{}", format.extension()));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
        if got != want {
            let got_s = String::from_utf8_lossy(&got);
            let want_s = String::from_utf8_lossy(&want);
            let line = got_s.lines().zip(want_s.lines()).position(|(a, b)| a != b);
            panic!(
                "{format:?} export differs from {} at line {:?}:\n got: {:?}\nwant: {:?}\n(UPDATE_GOLDEN=1 rewrites it after a deliberate change)",
                path.display(),
                line.map(|l| l + 1),
                line.and_then(|l| got_s.lines().nth(l)),
                line.and_then(|l| want_s.lines().nth(l)),
            );
        }
    }
}

#[test]
fn ndjson_and_json_round_trip_to_identical_bytes() {
    let src = source(golden_frames());
    for format in [ExportFormat::Ndjson, ExportFormat::Json] {
        let first = export_bytes(&src, &options(format));
        let read = read_bytes(&first, "x");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].frames, golden_frames(), "{format:?}: every frame as it was");
        assert_eq!(read[0].source, format);
        let again = export_bytes(&read.into_iter().next().unwrap().into_log_source(), &options(format));
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(first).unwrap(),
            "{format:?} -> import -> {format:?}"
        );
    }
    // Across formats: NDJSON -> JSON equals the JSON written directly.
    let nd = export_bytes(&src, &options(ExportFormat::Ndjson));
    let rc = read_bytes(&nd, "x").remove(0);
    assert_eq!(
        export_bytes(&rc.into_log_source(), &options(ExportFormat::Json)),
        export_bytes(&src, &options(ExportFormat::Json))
    );
}

fn assert_number(v: &Value, what: &str) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{what} must be a number, got {v}"))
}

fn assert_name_values(v: &Value, what: &str) {
    let a = v
        .as_array()
        .unwrap_or_else(|| panic!("{what} must be an array, got {v}"));
    for nv in a {
        assert!(nv["name"].is_string() && nv["value"].is_string(), "{what}: {nv}");
    }
}

/// The fields HAR 1.2 requires, with their types
/// (<http://www.softwareishard.com/blog/har-12-spec/>).
fn assert_har_1_2(har: &Value) {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert!(log["creator"]["name"].is_string() && log["creator"]["version"].is_string());
    let entries = log["entries"].as_array().expect("log.entries");
    for e in entries {
        let started = e["startedDateTime"].as_str().expect("startedDateTime");
        assert!(
            wsbench_core::export::time::parse_iso(started).is_some(),
            "startedDateTime is ISO 8601: {started}"
        );
        assert!(assert_number(&e["time"], "time") >= 0.0);
        let req = &e["request"];
        for k in ["method", "url", "httpVersion"] {
            assert!(req[k].is_string(), "request.{k}");
        }
        assert_name_values(&req["headers"], "request.headers");
        assert_name_values(&req["queryString"], "request.queryString");
        assert_name_values(&req["cookies"], "request.cookies");
        assert_number(&req["headersSize"], "request.headersSize");
        assert_number(&req["bodySize"], "request.bodySize");
        let resp = &e["response"];
        assert_number(&resp["status"], "response.status");
        for k in ["statusText", "httpVersion", "redirectURL"] {
            assert!(resp[k].is_string(), "response.{k}");
        }
        assert_name_values(&resp["headers"], "response.headers");
        assert_name_values(&resp["cookies"], "response.cookies");
        assert_number(&resp["content"]["size"], "content.size");
        assert!(resp["content"]["mimeType"].is_string(), "content.mimeType");
        assert_number(&resp["headersSize"], "response.headersSize");
        assert_number(&resp["bodySize"], "response.bodySize");
        assert!(e["cache"].is_object(), "cache");
        let t = &e["timings"];
        for k in ["send", "wait", "receive"] {
            assert!(assert_number(&t[k], k) >= 0.0, "timings.{k} >= 0");
        }
        for k in ["blocked", "dns", "connect", "ssl"] {
            if !t[k].is_null() {
                assert!(assert_number(&t[k], k) >= -1.0, "timings.{k} >= -1");
            }
        }
    }
}

#[test]
fn a_har_written_by_wsbench_is_har_1_2_in_chromes_shape_and_reads_back() {
    let src = source(golden_frames());
    let bytes = export_bytes(&src, &options(ExportFormat::Har));
    let har: Value = serde_json::from_slice(&bytes).expect("the HAR is one JSON document");
    assert_har_1_2(&har);
    let e = &har["log"]["entries"][0];
    assert_eq!(e["_resourceType"], "websocket");
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["request"]["url"], "wss://echo.example/feed?room=1");
    assert_eq!(e["request"]["queryString"][0]["name"], "room");
    assert_eq!(e["response"]["status"], 101);
    assert_eq!(e["response"]["statusText"], "Switching Protocols");
    assert_eq!(e["serverIPAddress"], "203.0.113.7");
    assert_eq!(e["timings"]["dns"], 1.2);
    assert_eq!(e["timings"]["connect"], 11.5, "connect includes ssl, as HAR 1.2 says");
    assert_eq!(e["timings"]["ssl"], 8.1);
    assert_eq!(e["timings"]["wait"], 4.5);
    let msgs = e["_webSocketMessages"].as_array().unwrap();
    assert_eq!(msgs.len(), 16);
    assert_eq!(
        msgs[0],
        serde_json::json!({"type":"send","time":1795316685.000001,"opcode":1,"data":"hello ✓ — héllo, 日本語, 🎉"})
    );
    assert_eq!(msgs[7]["data"], "++++", "binary as base64, as Chrome writes it");
    assert_eq!(
        (msgs[7]["type"].as_str(), msgs[7]["opcode"].as_u64()),
        (Some("receive"), Some(2))
    );
    assert_eq!(
        (msgs[9]["opcode"].as_u64(), msgs[10]["opcode"].as_u64()),
        (Some(9), Some(10))
    );
    assert_eq!(msgs[14]["opcode"], 8);
    assert_eq!(
        (msgs[6]["_compressedLen"].as_u64(), msgs[7]["_compressedLen"].as_u64()),
        (Some(31), Some(9)),
        "the wire size of a compressed message"
    );
    assert!(msgs[0].get("_compressedLen").is_none(), "absent when it went plain");

    let rc = read_bytes(&bytes, "x.har").remove(0);
    assert_eq!(rc.name, "Local echo: feed #1", "the entry's comment names it");
    assert_eq!(rc.frames.len(), 16);
    for (got, want) in rc.frames.iter().zip(golden_frames()) {
        assert_eq!(
            (got.direction, got.opcode, &got.payload, got.at_us, got.compressed_len),
            (
                want.direction,
                want.opcode,
                &want.payload,
                want.at_us,
                want.compressed_len
            ),
            "frame {}",
            want.seq
        );
    }
    let hs = rc.handshake.as_ref().unwrap();
    assert_eq!((hs.status, hs.subprotocol.as_deref()), (101, Some("chat.v2")));
    assert_eq!(
        (hs.timings.dns_us, hs.timings.tcp_us, hs.timings.tls_us),
        (1_200, 3_400, 8_100)
    );
    let saved = rc.to_saved_connection();
    assert_eq!(saved.config.url, "wss://echo.example/feed?room=1");
    assert_eq!(saved.config.origin.as_deref(), Some("https://app.example"));
    assert_eq!(saved.config.subprotocols, ["chat.v2"]);
    let names: Vec<&str> = saved.config.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["X-Trace", "Cookie", "Authorization"],
        "generated headers are left out"
    );
    assert_eq!(saved.config.headers[2].value, "[redacted]");
}

#[test]
fn a_chrome_har_imports_as_a_saved_connection_and_read_only_frames() {
    let conns = read_log_file(&fixtures().join("chrome.har")).unwrap();
    assert_eq!(conns.len(), 1, "the page's HTTP entry is not a WebSocket");
    let rc = &conns[0];
    assert_eq!(rc.url, "wss://stream.example/v2/feed?room=42");
    assert_eq!(rc.name, "stream.example/v2/feed");
    assert_eq!(rc.subprotocol.as_deref(), Some("chat.v2"));
    assert_eq!(
        rc.started_at_us,
        wsbench_core::export::time::parse_iso("2026-03-14T09:26:54.120Z").unwrap()
    );
    assert_eq!(
        rc.notes,
        ["1 messages that were neither sent nor received (errors) were skipped"]
    );
    let f = &rc.frames;
    assert_eq!(f.len(), 6);
    assert_eq!(f.iter().map(|f| f.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert_eq!((f[0].direction, f[0].opcode), (Direction::Out, Opcode::Text));
    assert_eq!(f[0].text(), Some(r#"{"op":"subscribe","room":42}"#));
    assert_eq!(f[0].at_us, 1_773_480_414_210_000);
    assert_eq!(f[0].offset_us, 90_000);
    assert_eq!((f[2].direction, f[2].opcode), (Direction::In, Opcode::Binary));
    assert_eq!(&f[2].payload[..], [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(f[3].at_us, 1_773_480_415_001_234, "microseconds survive the float");
    assert_eq!(&f[3].payload[..], [0, 1, 2]);
    assert_eq!(f[5].text(), Some("bye"));

    let saved = rc.to_saved_connection();
    assert_eq!(saved.name, "stream.example/v2/feed");
    assert_eq!(saved.config.url, "wss://stream.example/v2/feed?room=42");
    assert_eq!(saved.config.origin.as_deref(), Some("https://app.example"));
    assert_eq!(saved.config.subprotocols, ["chat.v2", "chat.v1"]);
    let headers: Vec<(&str, &str)> = saved
        .config
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    assert_eq!(
        headers.iter().map(|h| h.0).collect::<Vec<_>>(),
        [
            "Accept-Encoding",
            "Accept-Language",
            "Cache-Control",
            "Cookie",
            "Pragma",
            "User-Agent"
        ]
    );
    assert!(headers.contains(&("Cookie", "sid=abc123; theme=dark")));
    let msgs: Vec<(&str, MessageFormat, &str)> = saved
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.format, m.body.as_str()))
        .collect();
    assert_eq!(
        msgs,
        [
            ("Message 1", MessageFormat::Json, r#"{"op":"subscribe","room":42}"#),
            ("Message 2", MessageFormat::Base64, "AAEC"),
            ("Message 3", MessageFormat::Text, "hello ✓"),
        ]
    );
    // The saved messages are sendable as they are.
    for m in &saved.messages {
        m.format.to_outgoing(&m.body).unwrap();
    }
    // And the frames open as a read-only log with their sequence numbers.
    let log = rc.clone().into_frame_log(LogLimits::default());
    assert_eq!(log.get(3).unwrap().payload, f[2].payload);
}

#[test]
fn mitmproxy_and_playwright_har_shapes_import() {
    // mitmproxy's savehar: http(s) URL for the upgrade, null timings, seconds.
    let mitm = r#"{"log":{"version":"1.2","creator":{"name":"mitmproxy exporthar","version":"0.1"},"pages":[],"entries":[
      {"startedDateTime":"2022-10-20T08:48:38.013394+00:00","time":900,
       "request":{"method":"GET","url":"https://demo.example/v3/channel_1?notify_self","httpVersion":"HTTP/1.1","cookies":[],
         "headers":[{"name":"Host","value":"demo.example"},{"name":"Upgrade","value":"websocket"},{"name":"X-Team","value":"blue"}],
         "queryString":[],"headersSize":300,"bodySize":0},
       "response":{"status":101,"statusText":"Switching Protocols","httpVersion":"HTTP/1.1","cookies":[],"headers":[],
         "content":{"size":0,"compression":0,"mimeType":"","text":""},"redirectURL":"","headersSize":120,"bodySize":0},
       "cache":{},"timings":{"connect":null,"ssl":null,"send":1.5,"receive":0.2,"wait":30.1},
       "serverIPAddress":"198.51.100.9","_resourceType":"websocket",
       "_webSocketMessages":[{"type":"send","time":1666255718.5,"opcode":1,"data":"hi"},
                             {"type":"receive","time":1666255718.75,"opcode":2,"data":"AP8="}]}]}}"#;
    let rc = read_bytes(mitm.as_bytes(), "m.har").remove(0);
    assert_eq!(
        rc.url, "wss://demo.example/v3/channel_1?notify_self",
        "https becomes wss"
    );
    assert_eq!(rc.frames.len(), 2);
    assert_eq!(
        (rc.frames[1].direction, &rc.frames[1].payload[..]),
        (Direction::In, &[0, 255][..])
    );
    assert_eq!(rc.frames[0].at_us, 1_666_255_718_500_000);
    assert_eq!(rc.handshake.as_ref().unwrap().timings.upgrade_us, 31_800);
    assert_eq!(
        rc.to_saved_connection().config.headers,
        [KeyValue::new("X-Team", "blue")]
    );

    // Playwright: ws URL; message times in wall-clock milliseconds, or -1 when timing is omitted.
    let pw = r#"{"log":{"version":"1.2","creator":{"name":"Playwright","version":"1.56.0"},"entries":[
      {"startedDateTime":"2026-01-02T03:04:05.000Z","time":-1,"_resourceType":"websocket",
       "request":{"method":"GET","url":"ws://127.0.0.1:8080/ws","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":-1},
       "response":{"status":101,"statusText":"Switching Protocols","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":-1,"mimeType":"x-unknown"},"headersSize":-1,"bodySize":-1,"redirectURL":""},
       "cache":{},"timings":{"send":-1,"wait":-1,"receive":-1},
       "_webSocketMessages":[{"type":"send","time":1767323045250,"opcode":1,"data":"ms"},
                             {"type":"receive","time":-1,"opcode":1,"data":"untimed"}]}]}}"#;
    let rc = read_bytes(pw.as_bytes(), "p.har").remove(0);
    assert_eq!(rc.frames[0].at_us, 1_767_323_045_250_000, "milliseconds recognized");
    assert_eq!(rc.frames[1].at_us, rc.started_at_us, "no time: the entry's start");
    assert_eq!(rc.frames[1].text(), Some("untimed"));
}

#[test]
fn playwright_attached_messages_are_read_from_the_file_next_to_the_har() {
    let d = temp_dir("pw-attach");
    std::fs::write(
        d.join("0a1b.jsonl"),
        "{\"type\":\"send\",\"time\":1767323045.25,\"opcode\":1,\"data\":\"one\"}\n{\"type\":\"receive\",\"time\":1767323045.5,\"opcode\":1,\"data\":\"two\"}\n",
    )
    .unwrap();
    let har = r#"{"log":{"version":"1.2","creator":{"name":"Playwright","version":"1.56.0"},"entries":[
      {"startedDateTime":"2026-01-02T03:04:05.000Z","_resourceType":"websocket",
       "request":{"method":"GET","url":"ws://127.0.0.1:8080/ws","headers":[]},
       "response":{"status":101,"statusText":"","headers":[],"content":{"size":-1,"mimeType":"x-unknown","_file":"0a1b.jsonl"}}}]}}"#;
    std::fs::write(d.join("rec.har"), har).unwrap();
    let rc = read_log_file(&d.join("rec.har")).unwrap().remove(0);
    assert_eq!(
        rc.frames.iter().map(|f| f.text().unwrap()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_har_with_several_connections_lists_each_and_one_without_any_says_so() {
    let entry = |url: &str, data: &str| {
        format!(
            r#"{{"startedDateTime":"2026-01-02T03:04:05.000Z","request":{{"method":"GET","url":"{url}","headers":[]}},
               "response":{{"status":101,"headers":[]}},"_resourceType":"websocket",
               "_webSocketMessages":[{{"type":"receive","time":1767323046.0,"opcode":1,"data":"{data}"}}]}}"#
        )
    };
    let har = format!(
        r#"{{"log":{{"version":"1.2","entries":[{},{{"request":{{"url":"https://x.example/"}},"response":{{"status":200}}}},{}]}}}}"#,
        entry("wss://a.example/one", "A"),
        entry("ws://b.example/two", "B")
    );
    let conns = read_bytes(har.as_bytes(), "multi.har");
    let list: Vec<_> = conns.iter().enumerate().map(|(i, c)| c.summary(i + 1)).collect();
    assert_eq!(
        list.iter()
            .map(|s| (s.index, s.url.as_str(), s.frames))
            .collect::<Vec<_>>(),
        [(1, "wss://a.example/one", 1), (2, "ws://b.example/two", 1)]
    );
    assert_eq!(conns[1].frames[0].text(), Some("B"));

    let none =
        r#"{"log":{"version":"1.2","entries":[{"request":{"url":"https://x.example/"},"response":{"status":200}}]}}"#;
    let e = read_log(std::io::Cursor::new(none), Path::new("plain.har")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert!(
        e.to_string()
            .contains("has no WebSocket connection: none of its 1 entries is a WebSocket upgrade"),
        "{e}"
    );
}

#[test]
fn csv_parses_back_with_pythons_csv_module_cell_by_cell() {
    let path = fixtures().join("golden.csv");
    let script = r#"
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f, strict=True))
print(json.dumps(rows))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 must be installed (scripts/deps.sh installs it) to check the CSV export");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows[0],
        [
            "seq",
            "time",
            "atUs",
            "offsetUs",
            "direction",
            "opcode",
            "len",
            "compressedLen",
            "rttUs",
            "closeCode",
            "closeReason",
            "encoding",
            "payload"
        ]
    );
    let frames = golden_frames();
    assert_eq!(rows.len(), frames.len() + 1);
    let neutral = |s: &str| {
        if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        }
    };
    use base64::Engine as _;
    for (row, f) in rows[1..].iter().zip(&frames) {
        let close = f.close_info();
        let (encoding, payload) = match (f.opcode, f.text()) {
            (Opcode::Close, _) => ("", String::new()),
            _ if f.payload.is_empty() => ("", String::new()),
            (Opcode::Text, Some(t)) => ("text", neutral(t)),
            _ => (
                "base64",
                neutral(&base64::engine::general_purpose::STANDARD.encode(&f.payload)),
            ),
        };
        let want = [
            f.seq.to_string(),
            wsbench_core::export::time::iso_us(f.at_us),
            f.at_us.to_string(),
            f.offset_us.to_string(),
            if f.direction == Direction::In { "in" } else { "out" }.to_string(),
            format!("{:?}", f.opcode).to_lowercase(),
            f.payload.len().to_string(),
            if f.compressed_len > 0 {
                f.compressed_len.to_string()
            } else {
                String::new()
            },
            if f.rtt_us > 0 {
                f.rtt_us.to_string()
            } else {
                String::new()
            },
            close.as_ref().map(|c| c.code.to_string()).unwrap_or_default(),
            close.as_ref().map(|c| neutral(&c.reason)).unwrap_or_default(),
            encoding.to_string(),
            payload,
        ];
        assert_eq!(row, &want, "frame {}", f.seq);
    }
    // What a spreadsheet would have run as formulas is text.
    assert_eq!(rows[3][12], "'=1+1");
    assert_eq!(
        (rows[7][7].as_str(), rows[8][7].as_str()),
        ("31", "9"),
        "wire sizes of compressed messages"
    );
    assert_eq!(rows[4][12], "'@x");
    assert_eq!(rows[5][12], "'-2");
    assert_eq!(rows[2][12], "line one\nline two, with \"quotes\"\r\nend");
    assert_eq!(rows[8][12], "'++++", "base64 starting with + is neutralized too");
}

#[test]
fn secrets_are_redacted_by_default_and_kept_on_request() {
    let mut config = ConnectConfig::new("wss://user:hunter2@api.example/s?k=KEY-999&room=1")
        .header("Authorization", "Basic dXNlcjpodW50ZXIy")
        .header("X-Env", "prod-SECRETVAR-x");
    config.auth = Auth::ApiKey {
        name: "k".into(),
        value: "KEY-999".into(),
        placement: wsbench_core::config::ApiKeyPlacement::Query,
    };
    let hs = Handshake {
        url: config.url.clone(),
        request_line: "GET /s?k=KEY-999&room=1 HTTP/1.1".into(),
        request_headers: vec![
            h("Cookie", "sid=c00kie"),
            h("Proxy-Authorization", "Basic cHJveHk="),
            h("X-Env", "prod-SECRETVAR-x"),
        ],
        response_headers: vec![h("Set-Cookie", "sid=newc00kie; HttpOnly")],
        ..golden_handshake()
    };
    let frames = vec![
        frame(
            1,
            0,
            Direction::Out,
            Opcode::Text,
            r#"{"login":"SECRETVAR","key":"KEY-999"}"#,
            0,
        ),
        frame(2, 1, Direction::In, Opcode::Text, "welcome", 0),
        frame(
            3,
            2,
            Direction::In,
            Opcode::Close,
            close_payload(4001, "bad SECRETVAR"),
            0,
        ),
    ];
    let src = LogSource {
        name: "secrets".into(),
        config,
        handshake: Some(hs),
        stats: None,
        log: Arc::new(FrameLog::from_frames(LogLimits::default(), frames)),
    };
    let secrets = [
        "hunter2",
        "KEY-999",
        "dXNlcjpodW50ZXIy",
        "c00kie",
        "cHJveHk=",
        "SECRETVAR",
    ];
    for format in ExportFormat::ALL {
        let redacted = ExportOptions {
            redaction: Redaction {
                include_secrets: false,
                secret_values: vec!["SECRETVAR".into()],
            },
            ..options(format)
        };
        let text = String::from_utf8(export_bytes(&src, &redacted)).unwrap();
        for s in secrets {
            assert!(!text.contains(s), "{format:?} leaks {s:?}:\n{text}");
        }
        assert!(text.contains("[redacted]"), "{format:?}");
        assert!(text.contains("welcome"), "{format:?}: the rest is kept");
        assert!(
            format == ExportFormat::Csv || text.contains("room=1"),
            "{format:?}: the rest is kept"
        );

        let everything = ExportOptions {
            redaction: Redaction {
                include_secrets: true,
                secret_values: vec!["SECRETVAR".into()],
            },
            ..options(format)
        };
        let text = String::from_utf8(export_bytes(&src, &everything)).unwrap();
        assert!(!text.contains("[redacted]"), "{format:?}");
        for s in ["KEY-999", "SECRETVAR"] {
            assert!(text.contains(s), "{format:?} keeps {s:?} when asked");
        }
    }
    // NDJSON spells out what was redacted where.
    let nd = String::from_utf8(export_bytes(&src, &options(ExportFormat::Ndjson))).unwrap();
    let meta: Value = serde_json::from_str(nd.lines().next().unwrap()).unwrap();
    assert_eq!(meta["redacted"], true);
    assert_eq!(meta["url"], "wss://user:[redacted]@api.example/s?k=[redacted]&room=1");
    assert_eq!(meta["config"]["auth"]["value"], "[redacted]");
    assert_eq!(meta["handshake"]["requestLine"], "GET /s?k=[redacted]&room=1 HTTP/1.1");
    assert_eq!(meta["handshake"]["requestHeaders"][0]["value"], "[redacted]");
    assert_eq!(meta["handshake"]["responseHeaders"][0]["value"], "[redacted]");
}

#[test]
fn a_cancelled_export_leaves_no_file_and_keeps_the_previous_one() {
    let frames: Vec<Frame> = (1..=20_000)
        .map(|i| frame(i, i as i64, Direction::In, Opcode::Text, format!("m{i}"), 0))
        .collect();
    let src = source(frames);
    let d = temp_dir("cancel");
    let p = d.join("log.ndjson");
    let mut calls = Vec::new();
    let e = export_to_path(&src, &p, &options(ExportFormat::Ndjson), |done, total| {
        calls.push((done, total));
        done < 8192
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert_eq!(e.to_string(), "the export was cancelled");
    assert_eq!(calls, [(0, 20_000), (4096, 20_000), (8192, 20_000)]);
    assert!(std::fs::read_dir(&d).unwrap().next().is_none(), "no file, no temp file");

    std::fs::write(&p, "previous export").unwrap();
    let e = export_to_path(&src, &p, &options(ExportFormat::Har), |_, _| false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "previous export");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);

    let mut last = (0, 0);
    let s = export_to_path(&src, &p, &options(ExportFormat::Ndjson), |done, total| {
        assert!(done >= last.0, "progress only grows");
        last = (done, total);
        true
    })
    .unwrap();
    assert_eq!(last, (20_000, 20_000));
    assert_eq!((s.frames, s.missing), (20_000, 0));
    assert_eq!(s.bytes, std::fs::metadata(&p).unwrap().len());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_unwritable_destination_is_a_clear_error() {
    let src = source(golden_frames());
    let e = export_to_path(
        &src,
        Path::new("/nonexistent-wsbench-dir/log.ndjson"),
        &options(ExportFormat::Ndjson),
        |_, _| true,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::File);
    assert_eq!(
        e.to_string(),
        "cannot use \"/nonexistent-wsbench-dir/log.ndjson\": it does not exist"
    );
    let d = temp_dir("unwritable");
    let file = d.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let e = export_to_path(&src, &file.join("log.csv"), &options(ExportFormat::Csv), |_, _| true).unwrap_err();
    assert!(e.to_string().starts_with("cannot use"), "{e}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn malformed_files_say_where() {
    let src = source(golden_frames());
    let nd = String::from_utf8(export_bytes(&src, &options(ExportFormat::Ndjson))).unwrap();
    let mut lines: Vec<&str> = nd.lines().collect();
    lines[3] = r#"{"seq":3,"atUs":1,"offsetUs":0,"direction":"out","opcode":"text","len":2,"text":"x"#;
    let broken = lines.join("\n");
    let e = read_log(std::io::Cursor::new(broken), Path::new("broken.ndjson")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert!(
        e.to_string()
            .starts_with("cannot read \"broken.ndjson\" (line 4, column "),
        "{e}"
    );

    lines[3] = r#"{"seq":3,"atUs":1,"offsetUs":0,"direction":"out","opcode":"text","len":5,"text":"x"}"#;
    let e = read_log(std::io::Cursor::new(lines.join("\n")), Path::new("len.ndjson")).unwrap_err();
    assert!(
        e.to_string().contains("(line 4, column 1)") && e.to_string().contains("\"len\" is 5"),
        "{e}"
    );

    let json = String::from_utf8(export_bytes(&src, &options(ExportFormat::Json))).unwrap();
    let broken = json.replacen("\"opcode\":\"binary\"", "\"opcode\":\"binery\"", 1);
    let e = read_log(std::io::Cursor::new(broken), Path::new("b.json")).unwrap_err();
    assert!(e.to_string().contains("(line 9, column"), "{e}");
    assert!(e.to_string().contains("binery"), "{e}");

    let e = read_log(std::io::Cursor::new("seq,time\r\n1,2\r\n"), Path::new("x.csv")).unwrap_err();
    assert!(
        e.to_string().contains("CSV and text transcripts cannot be opened"),
        "{e}"
    );
    let e = read_log(std::io::Cursor::new("{\"hello\":1}\n"), Path::new("x.json")).unwrap_err();
    assert!(e.to_string().contains("not a wsbench log"), "{e}");
    let e = read_log(std::io::Cursor::new("  \n"), Path::new("empty.ndjson")).unwrap_err();
    assert!(e.to_string().contains("the file is empty"), "{e}");
    let e = read_log_file(Path::new("/nonexistent-wsbench/x.har")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::File);
    let newer = "{\"format\":\"wsbench-log\",\"version\":99}\n";
    let e = read_log(std::io::Cursor::new(newer), Path::new("new.ndjson")).unwrap_err();
    assert!(e.to_string().contains("newer wsbench"), "{e}");
}

#[test]
fn file_names_and_formats_from_extensions() {
    assert_eq!(
        default_file_name("Local echo", ExportFormat::Ndjson, T0),
        "local-echo-2026-11-22T03-04-45.ndjson"
    );
    assert_eq!(
        default_file_name("  /etc/passwd: *?<>| ", ExportFormat::Har, T0),
        "etc-passwd-2026-11-22T03-04-45.har"
    );
    assert_eq!(
        default_file_name("", ExportFormat::Csv, T0),
        "wsbench-2026-11-22T03-04-45.csv"
    );
    assert_eq!(
        default_file_name("Prüfung 日本", ExportFormat::Text, T0),
        "prüfung-日本-2026-11-22T03-04-45.txt"
    );
    assert!(default_file_name(&"x".repeat(500), ExportFormat::Json, T0).len() < 90);
    for (name, f) in [
        ("a.ndjson", ExportFormat::Ndjson),
        ("a.JSONL", ExportFormat::Ndjson),
        ("a.Json", ExportFormat::Json),
        ("dir.x/a.HAR", ExportFormat::Har),
        ("a.csv", ExportFormat::Csv),
        ("a.txt", ExportFormat::Text),
    ] {
        assert_eq!(ExportFormat::from_path(Path::new(name)).unwrap(), f, "{name}");
    }
    let e = ExportFormat::from_path(Path::new("log.xlsx")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot tell the log format of \"log.xlsx\" from the extension \".xlsx\"; use .ndjson, .json, .har, .csv or .txt"
    );
    assert_eq!(e.kind(), wsbench_core::ErrorKind::UnknownFormat);
    let e = ExportFormat::from_path(Path::new("log")).unwrap_err();
    assert!(e.to_string().contains("a name without an extension"), "{e}");
}

#[test]
fn the_clis_ndjson_output_opens_too() {
    // `wsbench-cli connect --ndjson` prints frame records without a metadata line.
    let lines: String = golden_frames()
        .iter()
        .map(|f| serde_json::to_string(&f.to_record()).unwrap() + "\n")
        .collect();
    let rc = read_bytes(lines.as_bytes(), "/tmp/capture.ndjson").remove(0);
    assert_eq!(rc.name, "capture");
    assert_eq!(rc.frames, golden_frames());
    assert!(rc.meta.is_none() && rc.url.is_empty());
    assert_eq!(rc.notes, ["no metadata line: the URL and handshake are unknown"]);
}

#[test]
fn an_export_opens_as_its_saved_connection() {
    let src = source(golden_frames());
    let rc = read_bytes(&export_bytes(&src, &options(ExportFormat::Ndjson)), "x").remove(0);
    let saved = rc.to_saved_connection();
    assert_eq!(saved.name, "Local echo: feed #1");
    assert_eq!(saved.config.url, "wss://echo.example/feed?room=1");
    assert_eq!(saved.config.origin.as_deref(), Some("https://app.example"));
    assert_eq!(
        saved.config.auth,
        Auth::Bearer {
            token: "[redacted]".into()
        }
    );
    assert_eq!(saved.config.headers[1], KeyValue::new("Cookie", "[redacted]"));
    let msgs: Vec<(MessageFormat, &str)> = saved.messages.iter().map(|m| (m.format, m.body.as_str())).collect();
    assert_eq!(
        msgs,
        [
            (MessageFormat::Text, "hello ✓ — héllo, 日本語, 🎉"),
            (MessageFormat::Text, "=1+1"),
            (MessageFormat::Text, "\tindented, +1"),
            (MessageFormat::Json, r#"{"op":"subscribe","channel":"ticks"}"#),
            (MessageFormat::Text, ""),
        ]
    );
    assert_eq!(rc.summary(1).sent, 7);
}

#[test]
fn concatenated_ndjson_exports_are_one_connection_each() {
    let a = export_bytes(&source(golden_frames()), &options(ExportFormat::Ndjson));
    let mut b_src = source(golden_frames()[..2].to_vec());
    b_src.name = "second".into();
    let b = export_bytes(&b_src, &options(ExportFormat::Ndjson));
    let both = [a, b].concat();
    let conns = read_bytes(&both, "x");
    assert_eq!(
        conns
            .iter()
            .map(|c| (c.name.as_str(), c.frames.len()))
            .collect::<Vec<_>>(),
        [("Local echo: feed #1", 16), ("second", 2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_session_exports_all_a_filter_or_a_selection() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let id = m.create("live echo", ConnectConfig::new(server.url()).header("X-Tab", "live"));
    m.connect(id).unwrap();
    let s = m.get(id).unwrap();
    wait_open(&s).await;
    for i in 0..10 {
        m.send(id, Outgoing::Text(format!("msg {i}"))).await.unwrap();
    }
    m.send(id, Outgoing::Binary(Bytes::from_static(&[1, 2, 3])))
        .await
        .unwrap();
    wait_frame(&s, "the binary echo", |f| {
        f.direction == Direction::In && f.opcode == Opcode::Binary
    })
    .await;
    m.disconnect(id, 1000, "done").unwrap();
    wait_end(&s).await;

    let src = LogSource::from_session(&s);
    let held = s.log().stats().held_frames;
    let d = temp_dir("live");
    let run = |frames: FrameSelection, name: &str| {
        let p = d.join(name);
        let opts = ExportOptions {
            frames,
            ..ExportOptions::new(ExportFormat::from_path(&p).unwrap())
        };
        let summary = export_to_path(&src, &p, &opts, |_, _| true).unwrap();
        (summary, read_log_file(&p).unwrap().remove(0))
    };

    let (sum, rc) = run(FrameSelection::All, "all.ndjson");
    assert_eq!((sum.frames, sum.missing), (held, 0));
    assert_eq!(
        rc.frames,
        s.log().page(0, usize::MAX),
        "the file holds the log, frame for frame"
    );
    let meta = rc.meta.as_ref().unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.selection.kind),
        ("live echo", SelectionKind::All)
    );
    let hs = meta.handshake.as_ref().expect("the handshake as it went");
    assert!(hs
        .request_headers
        .iter()
        .any(|h| h.name == "x-tab" || h.name == "X-Tab"));
    assert_eq!(meta.url, server.url());

    let (sum, rc) = run(
        FrameSelection::Filter {
            query: SearchQuery {
                text: "msg [2-4]".into(),
                regex: true,
                directions: vec![Direction::In],
                limit: 1,
                ..Default::default()
            },
        },
        "filter.json",
    );
    assert_eq!(sum.frames, 3, "every match, whatever the query's limit");
    assert_eq!(
        rc.frames.iter().map(|f| f.text().unwrap()).collect::<Vec<_>>(),
        ["msg 2", "msg 3", "msg 4"]
    );
    assert_eq!(rc.meta.as_ref().unwrap().selection.kind, SelectionKind::Filter);
    let read_only = rc.into_frame_log(LogLimits::default());
    let kept_seq = read_only.page(0, 1)[0].seq;
    assert!(
        read_only.get(kept_seq).is_some() && kept_seq > 1,
        "seqs kept, with gaps"
    );

    let (sum, rc) = run(
        FrameSelection::Selection {
            seqs: vec![3, 1, 3, 999_999],
        },
        "pick.har",
    );
    assert_eq!((sum.frames, sum.missing), (2, 1), "an unknown seq is reported missing");
    assert_eq!(rc.frames.len(), 2);
    assert_eq!(rc.frames[0].payload, s.log().get(1).unwrap().payload);
    assert_eq!(rc.frames[1].payload, s.log().get(3).unwrap().payload);
    assert_eq!(rc.url, server.url());

    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_log_that_grows_or_evicts_during_the_export_is_exported_as_it_was_when_it_started() {
    let limits = LogLimits {
        max_frames: 10_000,
        max_bytes: usize::MAX,
    };
    let mk = |i: u64| frame(i, i as i64, Direction::In, Opcode::Text, format!("m{i}"), 0);
    let log = Arc::new(FrameLog::from_frames(limits, (1..=10_000).map(mk).collect()));
    let src = LogSource {
        log: log.clone(),
        ..source(Vec::new())
    };
    // New frames arrive while the export runs: they are not part of it.
    let mut out = Vec::new();
    let s = export_to_writer(&src, &mut out, &options(ExportFormat::Ndjson), |_, _| {
        log.push_many((0..100).map(mk).collect());
        true
    })
    .unwrap();
    assert_eq!((s.frames, s.missing), (10_000, 0));
    let rc = read_bytes(&out, "x").remove(0);
    assert_eq!(rc.frames.len(), 10_000);
    assert_eq!(rc.meta.unwrap().selection.count, 10_000);

    // A flood evicts frames not yet written: the summary says how many are missing.
    let first = log.stats().first_seq;
    let mut out = Vec::new();
    let s = export_to_writer(&src, &mut out, &options(ExportFormat::Csv), |done, _| {
        if done == 4096 {
            // Evicts the 4096 frames written and the next 3000.
            log.push_many((0..7_096).map(mk).collect());
        }
        true
    })
    .unwrap();
    assert_eq!((s.frames + s.missing, s.missing), (10_000, 3_000));
    let rows = String::from_utf8(out).unwrap();
    assert_eq!(rows.lines().count(), 1 + 7_000);
    let has = |seq: u64| rows.contains(&format!("\r\n{seq},"));
    assert!(has(first + 4095) && !has(first + 4096) && !has(first + 7095) && has(first + 7096));
}
