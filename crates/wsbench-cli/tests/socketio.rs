//! `wsbench-cli connect --socketio` against real socket.io@4 and socket.io@2
//! servers from npm (installed on first use; node and npm are required).

use std::io::Write;
use std::process::{Command, Output, Stdio};

#[path = "../../wsbench-core/tests/engine/sio_node.rs"]
mod sio_node;

use sio_node::NodeServer;

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsbench-cli"))
        .args(["connect", "--timeout", "15"])
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn version(major: u8) -> String {
    major.to_string()
}

#[test]
fn emit_then_print_events_and_acks_until_count() {
    for major in [4, 2] {
        let server = NodeServer::start(major, 0, &[("PING_INTERVAL", "200"), ("PING_TIMEOUT", "300")]);
        let url = server.url();
        let v = version(major);
        let o = run(
            &[
                "--socketio",
                &url,
                "--sio-version",
                &v,
                "--emit",
                "echo",
                r#"["a",{"n":1}]"#,
                "--ack",
                "--emit",
                "chat",
                r#"{"msg":"hi"}"#,
                "--count",
                "1",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "v{major}: {}", err(&o));
        let printed = out(&o);
        let lines: Vec<&str> = printed.lines().collect();
        assert!(
            lines.contains(&r#"{"ack":0,"args":["a",{"n":1}]}"#),
            "v{major}: {lines:?}"
        );
        assert!(lines.contains(&r#"["chat",{"msg":"hi"}]"#), "v{major}: {lines:?}");
        assert!(
            !out(&o).contains("\"2\"") && !out(&o).contains("ping"),
            "heartbeats are not printed"
        );
    }
}

#[test]
fn stdin_lines_are_emitted_and_the_end_waits_for_acks() {
    for major in [4, 2] {
        let server = NodeServer::start(major, 0, &[]);
        let url = server.url();
        let v = version(major);
        let o = run(
            &["--socketio", &url, "--sio-version", &v, "--ack"],
            Some("[\"echo\", 5, {\"x\": 1}]\nnot json\n"),
        );
        assert_eq!(o.status.code(), Some(0), "v{major}: {}", err(&o));
        assert_eq!(out(&o), "{\"ack\":0,\"args\":[5,{\"x\":1}]}\n");
        assert!(err(&o).contains("not JSON \"not json\""), "{}", err(&o));
    }
}

#[test]
fn namespaces_with_auth_and_connect_error_exits_1_with_the_message() {
    for major in [4, 2] {
        let server = NodeServer::start(major, 0, &[]);
        let url = server.url();
        let v = version(major);
        let ok = run(
            &[
                "--socketio",
                &url,
                "--sio-version",
                &v,
                "--namespace",
                "/admin",
                "--auth",
                r#"{"token":"secret"}"#,
                "--emit",
                "whoami",
                "[]",
                "--ack",
            ],
            None,
        );
        assert_eq!(ok.status.code(), Some(0), "v{major}: {}", err(&ok));
        assert!(out(&ok).starts_with(r#"{"ack":0,"args":["admin","#), "{}", out(&ok));
        let refused = run(
            &[
                "--socketio",
                &url,
                "--sio-version",
                &v,
                "--namespace",
                "admin",
                "--auth",
                r#"{"token":"no"}"#,
            ],
            None,
        );
        assert_eq!(refused.status.code(), Some(1), "v{major}: {}", err(&refused));
        assert!(
            err(&refused).contains("namespace /admin refused the connection: Not authorized"),
            "v{major}: {}",
            err(&refused)
        );
    }
}

#[test]
fn ndjson_prints_every_frame_with_its_decoded_fields() {
    let server = NodeServer::start(4, 0, &[]);
    let url = server.url();
    let o = run(&["--socketio", &url, "--emit", "echo", "1", "--ack", "--ndjson"], None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let lines: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["handshake"]["status"], 101, "the handshake line comes first");
    let frames = &lines[1..];
    assert_eq!(frames[0]["socketio"]["engine"], "open");
    assert!(frames[0]["socketio"]["open"]["sid"].is_string());
    assert_eq!(frames[1]["text"], "40");
    assert_eq!(frames[1]["socketio"]["packet"], "connect");
    let ack = frames
        .iter()
        .find(|f| f["socketio"]["ackOf"] == "echo")
        .expect("the ack");
    assert_eq!(ack["socketio"]["args"], serde_json::json!([1]));
    assert!(ack["rttUs"].as_u64().unwrap() > 0);
}

#[test]
fn usage_errors_and_a_version_mismatch() {
    let o = run(&["--socketio", "http://127.0.0.1:1", "--auth", "{"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--auth"), "{}", err(&o));
    let o = run(&["--socketio", "http://127.0.0.1:1", "--emit", "e", "[1"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["--socketio", "http://127.0.0.1:1", "--sio-version", "5"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("choose 4, 3 or 2"), "{}", err(&o));
    let o = run(&["ws://127.0.0.1:1", "--emit", "e", "1"], None);
    assert_eq!(o.status.code(), Some(2), "--emit needs --socketio");
    // A v2 server spoken to as v4: a clear error.
    let server = NodeServer::start(2, 0, &[]);
    let o = run(&["--socketio", &server.url(), "--count", "1"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("choose Socket.IO version 2"), "{}", err(&o));
    // A v4 server spoken to as v2 writes an HTTP 400 after the upgrade: a clear error too.
    let server = NodeServer::start(4, 0, &[]);
    let o = run(
        &["--socketio", &server.url(), "--sio-version", "2", "--count", "1"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("choose Socket.IO version 4"), "{}", err(&o));
}
