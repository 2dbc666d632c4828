//! Socket.IO mode against real servers from npm: socket.io v4 (Engine.IO 4) and
//! v2 (Engine.IO 3), started by the tests (see sio_node.rs).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wsbench_core::config::{SioNamespace, SocketIoConfig};
use wsbench_core::socketio::{Decoded, SioCommand};
use wsbench_core::{ConnState, ConnectConfig, Direction, Outgoing, Session, SessionId, SessionManager};

use crate::sio_node::NodeServer;
use crate::support::{manager, open, wait_for, wait_open};

fn config(server: &NodeServer, namespaces: Vec<SioNamespace>) -> ConnectConfig {
    ConnectConfig {
        socketio: Some(SocketIoConfig {
            version: server.major,
            namespaces,
            ..SocketIoConfig::default()
        }),
        ..ConnectConfig::new(server.url())
    }
}

fn ns(name: &str, auth: Option<Value>) -> SioNamespace {
    SioNamespace::new(name, auth)
}

/// Wait (10 s) for a logged frame whose decoded view satisfies `pred`, after `after`.
async fn wait_note(
    s: &Session,
    what: &str,
    after: u64,
    pred: impl Fn(Direction, &Decoded) -> bool,
) -> (u64, Arc<Decoded>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let last = s.log().stats().last_seq;
        for (seq, note) in s.decoded_range(after + 1, last) {
            let dir = s.log().get(seq).map(|f| f.direction).unwrap_or(Direction::In);
            if pred(dir, &note) {
                return (seq, note);
            }
        }
        if tokio::time::Instant::now() > deadline {
            let all: Vec<String> = s
                .decoded_range(1, last)
                .iter()
                .map(|(q, n)| format!("{q}: {}", serde_json::to_string(&**n).unwrap()))
                .collect();
            panic!("timed out waiting for {what}; decoded so far:\n{}", all.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_connect(ns: &'static str) -> impl Fn(Direction, &Decoded) -> bool {
    move |d, n| d == Direction::In && n.packet.as_deref() == Some("connect") && n.namespace.as_deref() == Some(ns)
}

fn is_event(name: &'static str) -> impl Fn(Direction, &Decoded) -> bool {
    move |d, n| d == Direction::In && n.event.as_deref() == Some(name) && !n.partial
}

async fn joined(m: &SessionManager, config: ConnectConfig, nsp: &'static str) -> (SessionId, Arc<Session>) {
    let (id, s) = open(m, config);
    wait_open(&s).await;
    wait_note(&s, &format!("CONNECT {nsp}"), 0, is_connect(nsp)).await;
    (id, s)
}

async fn emit(m: &SessionManager, id: SessionId, nsp: &str, event: &str, args: Vec<Value>, ack: bool) -> u64 {
    let cmd = SioCommand::emit(nsp, event, args, ack);
    tokio::time::timeout(Duration::from_secs(10), m.send(id, Outgoing::SocketIo(cmd)))
        .await
        .expect("emit written in time")
        .expect("emit accepted")
}

async fn chat_broadcast(major: u8) {
    let server = NodeServer::start(major, 0, &[]);
    let (m, _) = manager();
    let (a, sa) = joined(&m, config(&server, vec![]), "/").await;
    let (_b, sb) = joined(&m, config(&server, vec![]), "/").await;
    // The open packet is parsed and exposed.
    let open = m.get(a).unwrap().snapshot().socketio.expect("open packet exposed");
    assert!(!open.sid.is_empty() && open.ping_interval > 0 && open.ping_timeout > 0);
    assert_eq!(open.max_payload.is_some(), major == 4);
    let seq = emit(&m, a, "/", "chat", vec![json!({"msg": "hello"}), json!(2)], false).await;
    let sent = sa.decoded(seq).unwrap();
    assert_eq!(sent.event.as_deref(), Some("chat"));
    let raw = sa.log().get(seq).unwrap();
    assert_eq!(
        raw.text(),
        Some(r#"42["chat",{"msg":"hello"},2]"#),
        "the raw frame is logged as it went"
    );
    for s in [&sa, &sb] {
        let (seq, got) = wait_note(s, "the chat broadcast", 0, is_event("chat")).await;
        assert_eq!(got.args.as_deref(), Some(&[json!({"msg": "hello"}), json!(2)][..]));
        assert_eq!(s.event_seqs(&["chat".into()]).last(), Some(&seq));
    }
    // NDJSON and JSON exports carry the decoded packet beside each raw frame, and
    // redact the auth of namespaces.
    for format in [wsbench_core::ExportFormat::Ndjson, wsbench_core::ExportFormat::Json] {
        let mut out = Vec::new();
        let src = wsbench_core::LogSource::from_session(&sa);
        wsbench_core::export_to_writer(&src, &mut out, &wsbench_core::ExportOptions::new(format), |_, _| true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#""socketio":{"engine":"message","packet":"event","namespace":"/","event":"chat","args":[{"msg":"hello"},2]}"#),
            "{text}"
        );
        assert!(text.contains(r#""socketio":{"engine":"open","open":{"#), "{text}");
    }
    // An export filtered by event name holds the chat frames only.
    let options = wsbench_core::ExportOptions {
        frames: wsbench_core::FrameSelection::Filter {
            query: wsbench_core::SearchQuery {
                events: vec!["chat".into()],
                ..Default::default()
            },
        },
        ..wsbench_core::ExportOptions::new(wsbench_core::ExportFormat::Ndjson)
    };
    let mut out = Vec::new();
    let sum = wsbench_core::export_to_writer(
        &wsbench_core::LogSource::from_session(&sa),
        &mut out,
        &options,
        |_, _| true,
    )
    .unwrap();
    assert_eq!(sum.frames, 2, "the chat sent and its broadcast");
    // typing goes to the others only.
    emit(&m, a, "/", "typing", vec![json!("a")], false).await;
    wait_note(&sb, "typing", 0, is_event("typing")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sa
        .event_seqs(&["typing".into()])
        .iter()
        .all(|q| sa.log().get(*q).unwrap().direction == Direction::Out));
}

#[tokio::test]
async fn sio_v4_chat_broadcast_between_two_clients() {
    chat_broadcast(4).await;
}

#[tokio::test]
async fn sio_v2_chat_broadcast_between_two_clients() {
    chat_broadcast(2).await;
}

async fn namespaces_with_auth(major: u8) {
    let server = NodeServer::start(major, 0, &[]);
    let (m, _) = manager();
    let good = config(
        &server,
        vec![ns("/", None), ns("/admin", Some(json!({"token": "secret"})))],
    );
    let (id, s) = joined(&m, good, "/admin").await;
    let seq = emit(&m, id, "/admin", "whoami", vec![], true).await;
    let (_, ack) = wait_note(&s, "whoami ack", seq, |d, n| d == Direction::In && n.ack_of.is_some()).await;
    assert_eq!(ack.ack_of.as_deref(), Some("whoami"));
    assert_eq!(ack.args.as_ref().unwrap()[0], json!("admin"));
    assert_eq!(ack.namespace.as_deref(), Some("/admin"));
    // Leave the namespace.
    m.send(
        id,
        Outgoing::SocketIo(SioCommand::Leave {
            namespace: "/admin".into(),
        }),
    )
    .await
    .unwrap();
    let bad = config(&server, vec![ns("/admin", Some(json!({"token": "wrong"})))]);
    let (id, s) = open(&m, bad);
    wait_open(&s).await;
    let (_, refused) = wait_note(&s, "CONNECT_ERROR", 0, |d, n| {
        d == Direction::In && n.packet.as_deref() == Some("connectError")
    })
    .await;
    assert_eq!(refused.error.as_deref(), Some("Not authorized"));
    let e = m
        .send(
            id,
            Outgoing::SocketIo(SioCommand::emit("/admin", "whoami", vec![], false)),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Not authorized"), "{e}");
}

#[tokio::test]
async fn sio_v4_namespaces_with_auth_accepted_and_rejected() {
    namespaces_with_auth(4).await;
}

#[tokio::test]
async fn sio_v2_namespaces_with_auth_accepted_and_rejected() {
    namespaces_with_auth(2).await;
}

async fn acks_both_ways(major: u8) {
    let server = NodeServer::start(major, 0, &[]);
    let (m, _) = manager();
    let mut cfg = config(&server, vec![]);
    if let Some(sio) = cfg.socketio.as_mut() {
        sio.auto_ack = Some(json!(["yes", 42]));
    }
    let (id, s) = joined(&m, cfg, "/").await;
    let seq = emit(&m, id, "/", "echo", vec![json!("ping"), json!({"n": 1})], true).await;
    let (ack_seq, ack) = wait_note(&s, "echo ack", seq, |d, n| d == Direction::In && n.ack_of.is_some()).await;
    assert_eq!(ack.args.as_deref(), Some(&[json!("ping"), json!({"n": 1})][..]));
    assert!(ack.rtt_us.unwrap() > 0);
    assert!(
        s.log().get(ack_seq).unwrap().rtt_us > 0,
        "the ack's round trip is on its frame"
    );
    // The server asks; wsbench answers automatically; the server reports the answer.
    emit(&m, id, "/", "ask", vec![json!("q?")], false).await;
    let (_, q) = wait_note(&s, "question", 0, is_event("question")).await;
    assert!(q.ack_id.is_some());
    let (_, a) = wait_note(&s, "answered", 0, is_event("answered")).await;
    assert_eq!(a.args.as_deref(), Some(&[json!("yes"), json!(42)][..]));
}

#[tokio::test]
async fn sio_v4_acks_both_ways() {
    acks_both_ways(4).await;
}

#[tokio::test]
async fn sio_v2_acks_both_ways() {
    acks_both_ways(2).await;
}

async fn binary_both_ways(major: u8) {
    let server = NodeServer::start(major, 0, &[]);
    let (m, _) = manager();
    let (id, s) = joined(&m, config(&server, vec![]), "/").await;
    let cmd = SioCommand::Emit {
        namespace: "/".into(),
        event: "bin".into(),
        args: vec![json!({"name": "f", "data": {"_binary": "AAEC/w=="}})],
        ack: false,
        attachments: vec![bytes::Bytes::from_static(b"hello")],
    };
    m.send(id, Outgoing::SocketIo(cmd)).await.unwrap();
    let (seq, got) = wait_note(&s, "bin echoed", 0, is_event("bin")).await;
    assert_eq!(
        got.args.as_deref(),
        Some(
            &[
                json!({"name": "f", "data": {"_binary": "AAEC/w=="}}),
                json!({"_binary": "aGVsbG8="})
            ][..]
        )
    );
    assert_eq!(got.engine, "binary", "complete on its last attachment's frame");
    let raw = s.log().get(seq).unwrap();
    let expect: &[u8] = if major == 2 { b"\x04hello" } else { b"hello" };
    assert_eq!(&raw.payload[..], expect);
    // A binary ack.
    let seq = emit(&m, id, "/", "binack", vec![], true).await;
    let (_, ack) = wait_note(&s, "binary ack", seq, |d, n| d == Direction::In && n.ack_of.is_some()).await;
    assert_eq!(
        ack.args.as_deref(),
        Some(&[json!({"_binary": "AQID"}), json!("done")][..])
    );
}

#[tokio::test]
async fn sio_v4_binary_attachments_both_ways() {
    binary_both_ways(4).await;
}

#[tokio::test]
async fn sio_v2_binary_attachments_both_ways() {
    binary_both_ways(2).await;
}

async fn heartbeats_kept(major: u8) {
    let server = NodeServer::start(major, 0, &[("PING_INTERVAL", "200"), ("PING_TIMEOUT", "300")]);
    let (m, _) = manager();
    let (id, s) = joined(&m, config(&server, vec![]), "/").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        s.state().is_open(),
        "still open after 3x pingInterval+pingTimeout: {:?}",
        s.state()
    );
    let last = s.log().stats().last_seq;
    let notes = s.decoded_range(1, last);
    let (ours, theirs) = if major == 2 { ("ping", "pong") } else { ("pong", "ping") };
    let sent = notes
        .iter()
        .filter(|(q, n)| n.engine == ours && n.auto && s.log().get(*q).unwrap().direction == Direction::Out)
        .count();
    let got = notes.iter().filter(|(_, n)| n.engine == theirs).count();
    assert!(
        sent >= 4 && got >= 4,
        "heartbeats: {sent} {ours} sent, {got} {theirs} received"
    );
    let seq = emit(&m, id, "/", "echo", vec![json!(1)], true).await;
    wait_note(&s, "echo ack", seq, |d, n| d == Direction::In && n.ack_of.is_some()).await;
}

#[tokio::test]
async fn sio_v4_heartbeats_keep_the_connection_open() {
    heartbeats_kept(4).await;
}

#[tokio::test]
async fn sio_v2_heartbeats_keep_the_connection_open() {
    heartbeats_kept(2).await;
}

#[tokio::test]
async fn sio_v4_a_silent_server_is_declared_dead() {
    let server = NodeServer::start(4, 0, &[("PING_INTERVAL", "200"), ("PING_TIMEOUT", "300")]);
    let (m, _) = manager();
    let (_, s) = joined(&m, config(&server, vec![]), "/").await;
    server.signal("-STOP");
    let end = wait_for(&s, "dead", |st| st.is_terminal()).await;
    server.signal("-CONT");
    let ConnState::Closed { reason, clean, .. } = end else {
        panic!("{end:?}")
    };
    assert!(!clean && reason.contains("no ping from the server within"), "{reason}");
}

async fn restart_rejoins(major: u8) {
    let server = NodeServer::start(major, 0, &[]);
    let (m, _) = manager();
    let mut cfg = config(
        &server,
        vec![ns("/", None), ns("/admin", Some(json!({"token": "secret"})))],
    );
    cfg.reconnect.enabled = true;
    cfg.reconnect.initial_delay_ms = 100;
    cfg.reconnect.max_delay_ms = 300;
    cfg.reconnect.max_attempts = 0;
    let (id, s) = joined(&m, cfg, "/admin").await;
    let before = s.log().stats().last_seq;
    let port = server.stop();
    wait_for(&s, "reconnecting", |st| matches!(st, ConnState::Reconnecting { .. })).await;
    let _again = NodeServer::start(major, port, &[]);
    wait_note(&s, "CONNECT / again", before, is_connect("/")).await;
    wait_note(&s, "CONNECT /admin again", before, is_connect("/admin")).await;
    let seq = emit(&m, id, "/admin", "whoami", vec![], true).await;
    wait_note(&s, "whoami ack", seq, |d, n| d == Direction::In && n.ack_of.is_some()).await;
    let _ = m.disconnect(id, 1000, "");
}

#[tokio::test]
async fn sio_v4_server_restart_reconnects_and_rejoins() {
    restart_rejoins(4).await;
}

#[tokio::test]
async fn sio_v2_server_restart_reconnects_and_rejoins() {
    restart_rejoins(2).await;
}
