//! The Socket.IO client state machine, frame by frame, with no socket.

use bytes::Bytes;
use serde_json::json;
use tokio::time::{Duration, Instant};

use crate::config::{SioNamespace, SocketIoConfig};
use crate::socketio::client::{Out, SioClient};
use crate::socketio::{SioCommand, WireFrame};

const OPEN4: &str = r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
const OPEN3: &str = r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200}"#;

fn client(version: u8, namespaces: &[(&str, Option<serde_json::Value>)]) -> SioClient<u32> {
    let cfg = SocketIoConfig {
        version,
        namespaces: namespaces
            .iter()
            .map(|(n, a)| SioNamespace::new(*n, a.clone()))
            .collect(),
        ..SocketIoConfig::default()
    };
    SioClient::new(&cfg).unwrap()
}

fn texts(out: &[Out<u32>]) -> Vec<String> {
    out.iter()
        .map(|o| match &o.frame {
            WireFrame::Text(t) => t.clone(),
            WireFrame::Binary(b) => format!("bin:{b:?}"),
        })
        .collect()
}

#[test]
fn v4_joins_namespaces_with_auth_after_the_open_packet_and_answers_pings() {
    let now = Instant::now();
    let mut c = client(4, &[("/", None), ("admin", Some(json!({"token": "t"})))]);
    let step = c.on_text(OPEN4, now);
    let note = step.note.unwrap();
    assert_eq!(note.engine, "open");
    assert_eq!(note.open.as_ref().unwrap().max_payload, Some(1000000));
    assert_eq!(texts(&step.send), vec!["40", r#"40/admin,{"token":"t"}"#]);
    assert!(step.send.iter().all(|o| o.note.auto));
    let step = c.on_text("2", now);
    assert_eq!(texts(&step.send), vec!["3"]);
    assert!(step.note.unwrap().is_heartbeat());
    assert_eq!(c.deadline(), Some(now + Duration::from_millis(500)));
    // No ping within pingInterval + pingTimeout: dead.
    assert!(c.on_timer(now + Duration::from_millis(499)).fail.is_none());
    let fail = c.on_timer(now + Duration::from_millis(500)).fail.unwrap();
    assert!(
        fail.contains("no ping from the server within pingInterval + pingTimeout (500 ms)"),
        "{fail}"
    );
}

#[test]
fn heartbeats_can_be_left_to_the_user() {
    let cfg = SocketIoConfig {
        auto_heartbeat: false,
        ..SocketIoConfig::default()
    };
    let mut c: SioClient<u32> = SioClient::new(&cfg).unwrap();
    c.on_text(OPEN4, Instant::now());
    assert!(c.on_text("2", Instant::now()).send.is_empty());
}

#[test]
fn emits_wait_for_their_namespace_then_acks_match_with_rtt() {
    let now = Instant::now();
    let mut c = client(4, &[]);
    c.on_text(OPEN4, now);
    let out = c
        .command(SioCommand::emit("/", "chat", vec![json!("hi")], true), Some(7))
        .ok()
        .unwrap();
    assert!(out.is_empty(), "queued until the namespace is connected");
    let step = c.on_text(r#"40{"sid":"n1"}"#, now);
    assert_eq!(step.note.as_ref().unwrap().sid.as_deref(), Some("n1"));
    assert_eq!(texts(&step.send), vec![r#"420["chat","hi"]"#]);
    assert_eq!(step.send[0].reply, Some(7));
    let note = &step.send[0].note;
    assert_eq!((note.event.as_deref(), note.ack_id), (Some("chat"), Some(0)));
    let step = c.on_text(r#"430["ok",1]"#, now);
    let note = step.note.unwrap();
    assert_eq!(note.ack_of.as_deref(), Some("chat"));
    assert_eq!(note.args, Some(vec![json!("ok"), json!(1)]));
    assert!(step.rtt_us > 0 && note.rtt_us.is_some());
    // A second emit goes at once, with the next ack id, on another namespace.
    c.on_text("40/admin,{\"sid\":\"x\"}", now);
    let out = c
        .command(SioCommand::emit("admin", "e", vec![], true), None)
        .ok()
        .unwrap();
    assert_eq!(texts(&out), vec![r#"42/admin,1["e"]"#]);
}

#[test]
fn emitting_on_an_unjoined_namespace_joins_it_first() {
    let mut c = client(4, &[]);
    c.on_text(OPEN4, Instant::now());
    let out = c
        .command(SioCommand::emit("/x", "e", vec![], false), None)
        .ok()
        .unwrap();
    assert_eq!(texts(&out), vec!["40/x,"]);
    let step = c.on_text(r#"40/x,{"sid":"a"}"#, Instant::now());
    assert_eq!(texts(&step.send), vec![r#"42/x,["e"]"#]);
}

#[test]
fn connect_error_refuses_waiting_emits_with_the_servers_message() {
    let mut c = client(4, &[("/admin", Some(json!({"token": "bad"})))]);
    c.on_text(OPEN4, Instant::now());
    assert!(c
        .command(SioCommand::emit("/admin", "e", vec![], false), Some(1))
        .ok()
        .unwrap()
        .is_empty());
    let step = c.on_text(r#"44/admin,{"message":"Not authorized"}"#, Instant::now());
    assert_eq!(step.note.unwrap().error.as_deref(), Some("Not authorized"));
    assert_eq!(step.refused.len(), 1);
    assert!(step.refused[0].1.to_string().contains("Not authorized"));
    let (reply, e) = c
        .command(SioCommand::emit("/admin", "e", vec![], false), Some(2))
        .err()
        .unwrap();
    assert_eq!(reply, Some(2));
    assert!(e.to_string().contains("refused"), "{e}");
}

#[test]
fn a_connect_error_with_an_empty_message_still_says_why() {
    // Found by the Socket.IO property test: `44/admin,{"message":""}` gave an empty error.
    let mut c = client(4, &[("/admin", None)]);
    c.on_text(OPEN4, Instant::now());
    let step = c.on_text(r#"44/admin,{"message":""}"#, Instant::now());
    assert_eq!(
        step.note.unwrap().error.as_deref(),
        Some("refused, with no reason given")
    );
}

#[test]
fn server_ack_requests_are_answered_automatically_or_by_hand() {
    let cfg = SocketIoConfig {
        auto_ack: Some(json!("got it")),
        ..SocketIoConfig::default()
    };
    let mut c: SioClient<u32> = SioClient::new(&cfg).unwrap();
    c.on_text(OPEN4, Instant::now());
    c.on_text("40", Instant::now());
    let step = c.on_text(r#"425["question",1]"#, Instant::now());
    assert_eq!(step.note.as_ref().unwrap().ack_id, Some(5));
    assert_eq!(texts(&step.send), vec![r#"435["got it"]"#]);
    assert!(step.send[0].note.auto);
    let mut c = client(4, &[]);
    c.on_text(OPEN4, Instant::now());
    c.on_text("40", Instant::now());
    assert!(c.on_text(r#"425["question",1]"#, Instant::now()).send.is_empty());
    let cmd = SioCommand::Ack {
        namespace: "/".into(),
        id: 5,
        args: vec![json!({"a": 1})],
    };
    assert_eq!(texts(&c.command(cmd, None).ok().unwrap()), vec![r#"435[{"a":1}]"#]);
}

#[test]
fn binary_emits_send_placeholders_then_attachments_in_both_versions() {
    for (v, open, prefix) in [(4, OPEN4, vec![]), (2, OPEN3, vec![4u8])] {
        let mut c = client(v, &[]);
        c.on_text(open, Instant::now());
        c.on_text("40", Instant::now());
        let cmd = SioCommand::Emit {
            namespace: "/".into(),
            event: "up".into(),
            args: vec![json!({"name": "f", "data": {"_binary": "AQI="}})],
            ack: false,
            attachments: vec![Bytes::from_static(b"x")],
        };
        let out = c.command(cmd, None).ok().unwrap();
        assert_eq!(out.len(), 3);
        let WireFrame::Text(t) = &out[0].frame else { panic!() };
        assert_eq!(
            t,
            r#"452-["up",{"data":{"_placeholder":true,"num":0},"name":"f"},{"_placeholder":true,"num":1}]"#
        );
        let mut first = prefix.clone();
        first.extend_from_slice(&[1, 2]);
        assert_eq!(out[1].frame, WireFrame::Binary(Bytes::from(first)));
        let mut second = prefix.clone();
        second.push(b'x');
        assert_eq!(out[2].frame, WireFrame::Binary(Bytes::from(second)));
        assert_eq!(out[0].note.attachments, 2);
        assert_eq!(out[0].note.args.as_ref().unwrap()[1], json!({"_binary": "eA=="}));
        assert_eq!(out[2].note.attachment, Some(1));
    }
}

#[test]
fn binary_events_and_acks_received_are_reassembled() {
    for (v, open, prefix) in [(4, OPEN4, vec![]), (2, OPEN3, vec![4u8])] {
        let mut c = client(v, &[]);
        let now = Instant::now();
        c.on_text(open, now);
        c.on_text("40", now);
        let head = c.on_text(
            r#"452-["file",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}}]"#,
            now,
        );
        assert!(head.note.as_ref().unwrap().partial);
        let mut b = prefix.clone();
        b.push(1);
        let step = c.on_binary(&Bytes::from(b), now);
        assert_eq!(step.note.as_ref().unwrap().attachment, Some(0));
        assert!(step.note.as_ref().unwrap().event.is_none());
        let mut b = prefix.clone();
        b.push(2);
        let step = c.on_binary(&Bytes::from(b), now);
        let note = step.note.unwrap();
        assert_eq!(note.event.as_deref(), Some("file"));
        assert_eq!(note.attachment, Some(1));
        assert_eq!(
            note.args.unwrap(),
            vec![json!({"_binary": "AQ=="}), json!({"a": {"_binary": "Ag=="}})]
        );
        // A binary ack to our emit.
        c.command(SioCommand::emit("/", "get", vec![], true), None)
            .ok()
            .unwrap();
        c.on_text(r#"461-0[{"_placeholder":true,"num":0}]"#, now);
        let mut b = prefix.clone();
        b.push(9);
        let note = c.on_binary(&Bytes::from(b), now).note.unwrap();
        assert_eq!(note.ack_of.as_deref(), Some("get"));
        assert_eq!(note.args.unwrap(), vec![json!({"_binary": "CQ=="})]);
    }
}

#[test]
fn v3_clients_ping_and_die_without_a_pong_and_join_namespaces_by_query() {
    let now = Instant::now();
    let mut c = client(2, &[("/", None), ("/admin", Some(json!({"token": "a b"})))]);
    let step = c.on_text(OPEN3, now);
    assert_eq!(
        texts(&step.send),
        vec!["40/admin?token=a%20b,"],
        "the main namespace joins by itself"
    );
    assert_eq!(c.deadline(), Some(now + Duration::from_millis(300)));
    let step = c.on_timer(now + Duration::from_millis(300));
    assert_eq!(texts(&step.send), vec!["2"]);
    c.on_text("3", now + Duration::from_millis(310));
    let step = c.on_timer(now + Duration::from_millis(600));
    assert_eq!(texts(&step.send), vec!["2"]);
    assert!(step.fail.is_none());
    let fail = c.on_timer(now + Duration::from_millis(800)).fail.unwrap();
    assert!(fail.contains("no pong"), "{fail}");
    // A v2 CONNECT_ERROR carries a string.
    let step = c.on_text(r#"44/admin,"Not authorized""#, now);
    assert_eq!(step.note.unwrap().error.as_deref(), Some("Not authorized"));
}

#[test]
fn the_wrong_engine_io_version_is_a_clear_failure() {
    let mut c = client(4, &[]);
    let fail = c.on_text(OPEN3, Instant::now()).fail.unwrap();
    assert!(fail.contains("Engine.IO 3") && fail.contains("version 2"), "{fail}");
    assert!(SioClient::<u32>::new(&SocketIoConfig {
        version: 5,
        ..SocketIoConfig::default()
    })
    .is_err());
}

#[test]
fn malformed_frames_are_noted_never_fatal() {
    let mut c = client(4, &[]);
    c.on_text(OPEN4, Instant::now());
    for bad in ["", "x", "42[", "4{}", "45-[]", "0{"] {
        let step = c.on_text(bad, Instant::now());
        assert!(step.note.unwrap().error.is_some(), "{bad:?}");
        assert!(step.fail.is_none());
    }
    let note = c.on_binary(&Bytes::from_static(b"x"), Instant::now()).note.unwrap();
    assert!(note.error.unwrap().contains("no binary packet"));
    let e = c.on_text("42[\"a\",", Instant::now()).note.unwrap().error.unwrap();
    assert!(e.contains("byte"), "{e}");
}

#[test]
fn engine_close_asks_to_close_the_websocket() {
    let mut c = client(4, &[]);
    assert!(c.on_text("1", Instant::now()).close);
    assert_eq!(c.on_text("6", Instant::now()).note.unwrap().engine, "noop");
}
