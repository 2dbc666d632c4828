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
    let lines: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
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
    assert_eq!(lines[1]["base64"], "3q2+7w==");
    assert_eq!(lines[2]["closeCode"], 1000);
    assert_eq!(lines[2]["closeReason"], "done");
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
