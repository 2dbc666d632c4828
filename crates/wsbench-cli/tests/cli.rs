//! `wsbench-cli` as a user runs it: the real binary against servers started here.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::{LocalServer, ServerConfig};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsbench-cli"))
}

/// Run the CLI on a blocking thread (the test's runtime keeps serving).
async fn run(args: Vec<String>, stdin: Option<&'static str>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = cli()
            .args(&args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn s(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A server that sends `msgs` then closes with 1000.
async fn sender(msgs: Vec<Message>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let msgs = msgs.clone();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                for m in msgs {
                    ws.send(m).await.unwrap();
                }
                ws.close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "done".into(),
                }))
                .await
                .unwrap();
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    format!("ws://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_count_prints_the_echoes() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--send",
            "one",
            "--send",
            "two ✓",
            "--count",
            "2",
        ]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "one\ntwo ✓\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_lines_are_sent_and_eof_closes_cleanly() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let o = run(s(&["connect", &server.url()]), Some("alpha\nbeta\n")).await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "alpha\nbeta\n");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closed = server.history().into_iter().any(|e| {
        matches!(
            e.kind,
            wsbench_core::server::ServerEventKind::Disconnected { code: Some(1000), .. }
        )
    });
    assert!(closed, "the server saw a clean 1000 close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_as_base64_and_ndjson_has_every_frame() {
    let url = sender(vec![Message::text("hi"), Message::binary(vec![0xde, 0xad, 0xbe, 0xef])]).await;
    let o = run(s(&["connect", &url]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "hi\nb64:3q2+7w==\n");

    // stdin is empty: our own close (at EOF) races the server's, so check each side.
    let o = run(s(&["connect", &url, "--ndjson"]), None).await;
    let all: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        all[0]["handshake"]["status"] == 101,
        "the handshake comes first: {:?}",
        all[0]
    );
    let lines = &all[1..];
    let side = |d: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|v| v["direction"] == d)
            .map(|v| v["opcode"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(side("in"), ["text", "binary", "close"], "{lines:?}");
    assert_eq!(side("out"), ["close"], "{lines:?}");
    let seqs: Vec<u64> = lines.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "every frame once, in order: {seqs:?}"
    );
    // Our close may be logged between the server's frames: find them by what they are.
    let received = |op: &str| {
        lines
            .iter()
            .find(|v| v["direction"] == "in" && v["opcode"] == op)
            .unwrap()
    };
    assert_eq!(received("binary")["base64"], "3q2+7w==");
    assert_eq!(received("close")["closeCode"], 1000);
    assert_eq!(received("close")["closeReason"], "done");
    assert!(lines[0]["atUs"].as_i64().unwrap() > 1_600_000_000_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_sends_back_every_message_with_its_opcode() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let sent = vec![Message::text("t1"), Message::binary(vec![1, 2, 3]), Message::text("")];
        for m in &sent {
            ws.send(m.clone()).await.unwrap();
        }
        let mut back = Vec::new();
        while back.len() < sent.len() {
            match ws.next().await {
                Some(Ok(m)) if m.is_text() || m.is_binary() => back.push(m),
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        ws.close(None).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
        (sent, back)
    });
    let o = run(s(&["connect", &format!("ws://{addr}/"), "--echo"]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    let (sent, back) = server.await.unwrap();
    assert_eq!(sent, back);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_go_to_stderr_with_a_status() {
    let o = run(s(&["connect", "http://localhost:9/x"]), None).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("use \"ws://localhost:9/x\""), "{}", err(&o));

    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(s(&["connect", &format!("ws://127.0.0.1:{port}/")]), None).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("connection refused"), "{}", err(&o));
    assert!(out(&o).is_empty());

    let o = run(s(&["connect", "ws://127.0.0.1:9/", "-H", "NoColon"]), None).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("Name: value"), "{}", err(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_upgrade_shows_status_and_body() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut tcp, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 2048];
        let _ = tcp.read(&mut buf).await;
        let body = "missing token";
        let _ = tcp
            .write_all(
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
    });
    let o = run(s(&["connect", &format!("ws://{addr}/")]), None).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("HTTP 401 Unauthorized") && err(&o).contains("missing token"),
        "{}",
        err(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_exits_with_status_3() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let t = std::time::Instant::now();
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--count",
            "5",
            "--send",
            "only one",
            "--timeout",
            "0.5",
        ]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(out(&o), "only one\n", "what arrived before the timeout is printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_subprotocols_from_the_command_line() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "-H",
            "X-Team: blue",
            "--subprotocol",
            "mqtt",
            "--send",
            "x",
            "--count",
            "1",
        ]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));
    let headers = server
        .history()
        .into_iter()
        .find_map(|e| match e.kind {
            wsbench_core::server::ServerEventKind::Connected {
                headers, subprotocol, ..
            } => Some((headers, subprotocol)),
            _ => None,
        })
        .unwrap();
    assert!(headers.0.iter().any(|h| h.name == "x-team" && h.value == "blue"));
    assert_eq!(headers.1.as_deref(), Some("mqtt"));
}

#[test]
fn serve_prints_its_url_and_echoes() {
    let mut child = cli()
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    let o = cli()
        .args(["connect", &url, "--send", "ping?", "--count", "1"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "ping?\n");
}

/// A server that upgrades, then never reads nor writes (a half-open peer): with
/// `--ping-every` and `--dead-after` the CLI gives up with a clear reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_after_gives_up_on_a_silent_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let ws = tokio_tungstenite::accept_async(tcp).await;
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                drop(ws);
            });
        }
    });
    let url = format!("ws://{addr}/");
    let o = run(
        s(&[
            "connect",
            &url,
            "--ping-every",
            "0.2",
            "--dead-after",
            "1",
            "--count",
            "1",
        ]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("no answer from the server for 1 s"), "{}", err(&o));
    let o = run(s(&["connect", &url, "--dead-after", "soon"]), None).await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

/// `serve --socketio` is a Socket.IO v4 server the Socket.IO client talks to: the
/// emit comes back as a broadcast and its ack carries the same arguments.
#[test]
fn serve_socketio_broadcasts_events_and_answers_acks() {
    let mut child = cli()
        .args(["serve", "--socketio", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    let o = cli()
        .args(["connect", "--timeout", "15", "--socketio", &url])
        .args([
            "--namespace",
            "/chat",
            "--emit",
            "chat",
            r#"["hi",{"n":1}]"#,
            "--ack",
            "--count",
            "1",
        ])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(o.status.success(), "{}", err(&o));
    let printed = out(&o);
    let lines: Vec<&str> = printed.lines().collect();
    assert!(lines.contains(&r#"["chat","hi",{"n":1}]"#), "{lines:?}");
    assert!(lines.contains(&r#"{"ack":0,"args":["hi",{"n":1}]}"#), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_stops_at_n_even_when_more_arrived_together() {
    let url = sender((1..=50).map(|i| Message::text(format!("m{i}"))).collect()).await;
    let o = run(s(&["connect", &url, "--count", "3"]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "m1\nm2\nm3\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fewer_messages_than_count_is_a_failure_and_bad_timeouts_are_usage_errors() {
    let url = sender(vec![Message::text("only"), Message::text("two")]).await;
    let o = run(s(&["connect", &url, "--count", "5"]), None).await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(out(&o), "only\ntwo\n");
    assert!(err(&o).contains("closed after 2 of 5 messages"), "{}", err(&o));

    for bad in ["inf", "-1", "NaN"] {
        let o = run(s(&["connect", &url, &format!("--timeout={bad}")]), None).await;
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", err(&o));
        assert!(err(&o).contains("--timeout"), "{}", err(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_against_a_flood_exits_instead_of_hanging() {
    let url = sender((0..30_000).map(|i| Message::text(format!("f{i}"))).collect()).await;
    let t = std::time::Instant::now();
    let o = run(s(&["connect", &url, "--count", "1"]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "f0\n");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("wsbench-cli-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn path_arg(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_writes_the_session_in_the_format_of_its_extension() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let d = temp_dir("out");
    let nd = d.join("session.ndjson");
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--send",
            "one, \"two\"",
            "--send",
            "=1+1",
            "--count",
            "2",
            "-H",
            "Authorization: Bearer sekrit-token",
            "--out",
            &path_arg(&nd),
        ]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "one, \"two\"\n=1+1\n", "printing goes on as usual");
    assert!(err(&o).contains("wrote 6 frames to"), "{}", err(&o));
    let text = std::fs::read_to_string(&nd).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["format"], "wsbench-log");
    assert_eq!(lines[0]["url"], server.url());
    assert_eq!(lines[0]["selection"]["count"], 6);
    let frames: Vec<(String, String, String)> = lines[1..]
        .iter()
        .map(|v| {
            (
                v["direction"].as_str().unwrap().to_owned(),
                v["opcode"].as_str().unwrap().to_owned(),
                v["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let f = |d: &str, o: &str, t: &str| (d.to_owned(), o.to_owned(), t.to_owned());
    // Each side in order (an echo may arrive before the second send).
    let side = |d: &str| frames.iter().filter(|x| x.0 == d).cloned().collect::<Vec<_>>();
    assert_eq!(
        side("out"),
        [
            f("out", "text", "one, \"two\""),
            f("out", "text", "=1+1"),
            f("out", "close", "")
        ]
    );
    assert_eq!(
        side("in"),
        [
            f("in", "text", "one, \"two\""),
            f("in", "text", "=1+1"),
            f("in", "close", "")
        ]
    );
    assert!(
        !text.contains("sekrit-token") && text.contains("[redacted]"),
        "redacted by default"
    );

    // The same session as HAR, with the secret kept on request.
    let har = d.join("session.HAR");
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--send",
            "x",
            "--count",
            "1",
            "-H",
            "Authorization: Bearer sekrit-token",
            "--out",
            &path_arg(&har),
            "--include-secrets",
        ]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let entry = &v["log"]["entries"][0];
    assert_eq!(entry["response"]["status"], 101);
    assert_eq!(entry["_webSocketMessages"][0]["type"], "send");
    assert_eq!(entry["_webSocketMessages"][0]["data"], "x");
    let auth = entry["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case("authorization"))
        .unwrap();
    assert_eq!(auth["value"], "Bearer sekrit-token");
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_with_an_unknown_extension_is_a_usage_error_before_connecting() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let d = temp_dir("badext");
    let o = run(
        s(&["connect", &server.url(), "--out", &path_arg(&d.join("log.xlsx"))]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("the extension \".xlsx\"; use .ndjson, .json, .har, .csv or .txt"),
        "{}",
        err(&o)
    );
    let o = run(
        s(&["connect", &server.url(), "--out", "/nonexistent-wsbench/log.ndjson"]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("does not exist"), "{}", err(&o));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.history().is_empty(), "no connection was attempted");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_is_written_after_a_timeout_and_after_a_failure() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let d = temp_dir("timeout");
    let csv = d.join("t.csv");
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--count",
            "5",
            "--send",
            "only one",
            "--timeout",
            "0.5",
            "--out",
            &path_arg(&csv),
        ]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("seq,time,"), "{text}");
    assert_eq!(text.matches(",text,only one\r\n").count(), 2, "sent and echoed: {text}");
    assert!(text.contains(",close,"), "the timeout's close is in the log: {text}");

    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nd = d.join("refused.ndjson");
    let o = run(
        s(&["connect", &format!("ws://127.0.0.1:{port}/"), "--out", &path_arg(&nd)]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = std::fs::read_to_string(&nd).unwrap();
    let meta: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (meta["selection"]["count"].as_u64(), meta["handshake"].is_null()),
        (Some(0), true)
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_between_formats_and_pick_a_connection_from_a_har() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let d = temp_dir("convert");
    let nd = d.join("a.ndjson");
    let o = run(
        s(&[
            "connect",
            &server.url(),
            "--send",
            "a,b",
            "--count",
            "1",
            "--out",
            &path_arg(&nd),
        ]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));

    // NDJSON -> HAR -> NDJSON keeps every frame's direction, opcode, payload and time.
    let har = d.join("a.har");
    let o = run(s(&["convert", &path_arg(&nd), &path_arg(&har)]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("wrote 4 frames to"), "{}", err(&o));
    let back = d.join("back.ndjson");
    let o = run(s(&["convert", &path_arg(&har), &path_arg(&back)]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    let frames = |p: &std::path::Path| -> Vec<(String, String, String, i64)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["direction"].as_str().unwrap().to_owned(),
                    v["opcode"].as_str().unwrap().to_owned(),
                    format!("{}{}", v["text"].as_str().unwrap_or(""), v["closeCode"]),
                    v["atUs"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(frames(&back), frames(&nd));
    let csv = d.join("a.csv");
    let o = run(s(&["convert", &path_arg(&nd), &path_arg(&csv)]), None).await;
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read_to_string(&csv).unwrap().matches("\"a,b\"").count(), 2);

    // A HAR with two WebSocket connections.
    let entry = |url: &str, data: &str| {
        format!(
            r#"{{"startedDateTime":"2026-01-02T03:04:05.000Z","request":{{"method":"GET","url":"{url}","headers":[]}},
               "response":{{"status":101,"headers":[]}},"_resourceType":"websocket",
               "_webSocketMessages":[{{"type":"receive","time":1767323046.0,"opcode":1,"data":"{data}"}}]}}"#
        )
    };
    let multi = d.join("multi.har");
    std::fs::write(
        &multi,
        format!(
            r#"{{"log":{{"version":"1.2","entries":[{},{}]}}}}"#,
            entry("wss://a.example/one", "from A"),
            entry("wss://b.example/two", "from B")
        ),
    )
    .unwrap();
    let txt = d.join("b.txt");
    let o = run(s(&["convert", &path_arg(&multi), &path_arg(&txt)]), None).await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("holds 2 WebSocket connections; pick one with --connection N")
            && err(&o).contains("  2: wss://b.example/two (1 frames)"),
        "{}",
        err(&o)
    );
    let o = run(
        s(&["convert", &path_arg(&multi), &path_arg(&txt), "--connection", "2"]),
        None,
    )
    .await;
    assert!(o.status.success(), "{}", err(&o));
    let t = std::fs::read_to_string(&txt).unwrap();
    assert!(
        t.contains("# url: wss://b.example/two") && t.contains("← text         6 B  from B"),
        "{t}"
    );
    let o = run(
        s(&["convert", &path_arg(&multi), &path_arg(&txt), "--connection", "3"]),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));

    // Errors: bad output extension (usage), unreadable input (with its line).
    let o = run(s(&["convert", &path_arg(&nd), &path_arg(&d.join("x.pdf"))]), None).await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let bad = d.join("bad.ndjson");
    std::fs::write(&bad, "{\"seq\":1,\"atUs\":1,\"offsetUs\":0,\"direction\":\"in\",\"opcode\":\"text\",\"len\":1,\"text\":\"a\"}\n{oops\n").unwrap();
    let o = run(s(&["convert", &path_arg(&bad), &path_arg(&d.join("y.json"))]), None).await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("(line 2, column 2)"), "{}", err(&o));
    assert!(!d.join("y.json").exists());
    std::fs::remove_dir_all(d).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_holds_when_the_peer_stops_reading_our_echoes() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // 32 MiB out, nothing read back: the client's echoes fill both socket buffers
        // and its writer blocks with an echo in flight.
        let big = vec![7u8; 1 << 20];
        for _ in 0..32 {
            if ws.send(Message::binary(big.clone())).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let t = std::time::Instant::now();
    let o = run(s(&["connect", &url, "--echo", "--timeout", "1"]), None).await;
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(err(&o).contains("timed out after 1 s"), "{}", err(&o));
}

#[test]
fn completions_and_man_page_come_from_the_real_options() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = cli().args(["completions", shell]).output().unwrap();
        assert!(o.status.success(), "{shell}: {}", err(&o));
        let script = out(&o);
        for word in [
            "wsbench-cli",
            "connect",
            "serve",
            "convert",
            "header",
            "subprotocol",
            "ndjson",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let o = cli().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");

    let o = cli().arg("man").output().unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let page = out(&o);
    assert!(page.contains(".TH wsbench-cli 1"), "not a section-1 man page");
    for word in ["connect", "serve", "convert", env!("CARGO_PKG_VERSION")] {
        assert!(page.contains(word), "the man page lacks {word}");
    }
    // The packaging subcommands stay out of the user's help.
    let help = out(&cli().arg("--help").output().unwrap());
    assert!(!help.contains("completions") && !help.contains("man "), "{help}");
}

/// Run the CLI with these extra environment variables.
async fn run_env(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        cli()
            .args(&args)
            .envs(env)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_and_no_proxy_flags() {
    let dead = format!(
        "http://u:hunter2@127.0.0.1:{}",
        TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let o = run(s(&["connect", &server.url(), "--proxy", &dead, "--send", "x"]), None).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("could not reach the proxy"), "{}", err(&o));
    assert!(!err(&o).contains("hunter2"), "{}", err(&o));

    // A name that never resolves: through the proxy it is a proxy error, directly a DNS one.
    let nowhere = "ws://wsbench-test.invalid/";
    let o = run_env(s(&["connect", nowhere]), vec![("HTTP_PROXY", dead.clone())]).await;
    assert!(err(&o).contains("(from HTTP_PROXY)"), "{}", err(&o));
    let o = run_env(
        s(&["connect", nowhere, "--no-proxy"]),
        vec![("HTTP_PROXY", dead.clone())],
    )
    .await;
    assert!(err(&o).contains("could not resolve host"), "{}", err(&o));
}
