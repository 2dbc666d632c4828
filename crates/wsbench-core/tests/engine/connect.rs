//! Handshakes, sends, closes and failures as a user sees them.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::config::{ApiKeyPlacement, Auth, KeyValue};
use wsbench_core::server::ServerEventKind;
use wsbench_core::{
    ConnState, ConnectConfig, Direction, ErrorKind, Initiator, LocalServer, Opcode, Outgoing, ServerConfig,
};

use crate::support::*;

#[tokio::test]
async fn text_and_binary_round_trip_through_the_local_echo_server() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let (id, s) = open(&m, ConnectConfig::new(server.url()));
    let hs = wait_open(&s).await;
    assert_eq!(hs.status, 101);
    assert!(hs.request_line.starts_with("GET / HTTP/1.1"), "{}", hs.request_line);
    assert!(hs.timings.total_us >= hs.timings.upgrade_us);

    let seq_text = m.send(id, Outgoing::Text("héllo ✓".into())).await.unwrap();
    let bin = Bytes::from_static(&[0, 1, 2, 0xff, 0xfe]);
    let seq_bin = m.send(id, Outgoing::Binary(bin.clone())).await.unwrap();
    assert!(seq_bin > seq_text);

    let echoed = wait_frame(&s, "echoed binary", |f| {
        f.direction == Direction::In && f.opcode == Opcode::Binary
    })
    .await;
    assert_eq!(echoed.payload, bin);
    let text = wait_frame(&s, "echoed text", |f| {
        f.direction == Direction::In && f.opcode == Opcode::Text
    })
    .await;
    assert_eq!(text.text(), Some("héllo ✓"));
    assert_eq!(s.log().get(seq_text).unwrap().text(), Some("héllo ✓"));

    m.disconnect(id, 1000, "bye").unwrap();
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            reason,
            clean,
            initiated_by,
        } => {
            assert_eq!(
                (code, reason.as_str(), clean, initiated_by),
                (1000, "bye", true, Initiator::Client)
            );
        }
        other => panic!("{other:?}"),
    }
    let closes: Vec<_> = s
        .log()
        .page(0, 100)
        .into_iter()
        .filter(|f| f.opcode == Opcode::Close)
        .collect();
    assert_eq!(closes.len(), 2, "our close and the server's reply are both logged");
    assert_eq!(closes[0].close_info(), Some(wsbench_core::CloseInfo::new(1000, "bye")));
    assert_eq!(closes[0].direction, Direction::Out);
    assert_eq!(closes[1].direction, Direction::In);
}

#[tokio::test]
async fn headers_subprotocols_origin_and_auth_reach_the_server() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let mut c = ConnectConfig::new(server.url())
        .header("X-Trace", "abc 123")
        .header("X-Off", "no");
    c.headers[1].enabled = false;
    c.subprotocols = vec!["chat.v2".into(), "chat.v1".into()];
    c.origin = Some("https://app.example".into());
    c.auth = Auth::Bearer { token: "t0k3n".into() };
    let (_, s) = open(&m, c);
    let hs = wait_open(&s).await;
    assert_eq!(hs.subprotocol.as_deref(), Some("chat.v2"));
    assert!(hs
        .request_headers
        .iter()
        .any(|h| h.name == "authorization" && h.value == "Bearer t0k3n"));

    let ev = server.history().into_iter().find_map(|e| match e.kind {
        ServerEventKind::Connected { headers, .. } => Some(headers),
        _ => None,
    });
    let headers = ev.expect("server saw a client");
    let get = |n: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(n))
            .map(|h| h.value.clone())
    };
    assert_eq!(get("x-trace").as_deref(), Some("abc 123"));
    assert_eq!(get("x-off"), None, "a disabled header is not sent");
    assert_eq!(get("origin").as_deref(), Some("https://app.example"));
    assert_eq!(get("authorization").as_deref(), Some("Bearer t0k3n"));
    assert_eq!(get("sec-websocket-protocol").as_deref(), Some("chat.v2, chat.v1"));
}

#[tokio::test]
async fn basic_auth_and_api_keys_in_header_and_query() {
    let (addr, seen) = scripted(|mut ws| async move { while let Some(Ok(_)) = ws.next().await {} }).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/a"));
    c.auth = Auth::Basic {
        username: "ada".into(),
        password: "l0ve:lace".into(),
    };
    wait_open(&open(&m, c).1).await;
    let mut c = ConnectConfig::new(format!("ws://{addr}/b"));
    c.auth = Auth::ApiKey {
        name: "X-Api-Key".into(),
        value: "k1".into(),
        placement: ApiKeyPlacement::Header,
    };
    wait_open(&open(&m, c).1).await;
    let mut c = ConnectConfig::new(format!("ws://{addr}/c?v=1"));
    c.auth = Auth::ApiKey {
        name: "api key".into(),
        value: "a&b=c".into(),
        placement: ApiKeyPlacement::Query,
    };
    wait_open(&open(&m, c).1).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].header("authorization"), Some("Basic YWRhOmwwdmU6bGFjZQ=="));
    assert_eq!(seen[1].header("x-api-key"), Some("k1"));
    assert_eq!(seen[2].path, "/c?v=1&api%20key=a%26b%3Dc");
}

#[tokio::test]
async fn query_parameters_are_percent_encoded_and_disabled_ones_skipped() {
    let (addr, seen) = scripted(|mut ws| async move { while let Some(Ok(_)) = ws.next().await {} }).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/feed?x=1"))
        .param("q", "a b+c&d=é/?")
        .param("off", "1")
        .param("empty", "");
    c.params[1].enabled = false;
    let (_, s) = open(&m, c);
    let hs = wait_open(&s).await;
    let expected = "/feed?x=1&q=a%20b%2Bc%26d%3D%C3%A9%2F%3F&empty=";
    assert_eq!(seen.lock().unwrap()[0].path, expected);
    assert_eq!(hs.request_line, format!("GET {expected} HTTP/1.1"));
}

#[tokio::test]
async fn bad_input_is_rejected_before_connecting_with_a_hint() {
    let (m, _) = manager();
    let cases = [
        (
            "http://localhost:8080/x",
            ErrorKind::InvalidUrl,
            "use \"ws://localhost:8080/x\"",
        ),
        (
            "https://example.test/",
            ErrorKind::InvalidUrl,
            "use \"wss://example.test/\"",
        ),
        (
            "localhost:8080",
            ErrorKind::InvalidUrl,
            "did you mean \"ws://localhost:8080\"",
        ),
        ("ftp://x/", ErrorKind::InvalidUrl, "unsupported scheme"),
        ("ws://", ErrorKind::InvalidUrl, "ws://"),
        ("", ErrorKind::InvalidUrl, "empty"),
        ("ws://exa mple.com/", ErrorKind::InvalidUrl, "invalid"),
    ];
    for (url, kind, hint) in cases {
        let id = m.create("bad", ConnectConfig::new(url));
        let e = m.connect(id).expect_err(url);
        assert_eq!(e.kind(), kind, "{url}: {e}");
        assert!(e.to_string().contains(hint), "{url}: {e}");
        assert_eq!(m.get(id).unwrap().state(), ConnState::Idle, "nothing started for {url}");
    }
    let id = m.create(
        "bad header",
        ConnectConfig::new("ws://127.0.0.1:1/").header("Bad Name", "x"),
    );
    let e = m.connect(id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidHeader);
    assert!(e.to_string().contains("\"Bad Name\""), "{e}");
    let id = m.create(
        "bad value",
        ConnectConfig::new("ws://127.0.0.1:1/").header("X-Ok", "line\nbreak"),
    );
    let e = m.connect(id).unwrap_err();
    assert!(
        e.to_string().contains("\"X-Ok\"") && e.to_string().contains("line break"),
        "{e}"
    );
    let id = m.create(
        "managed",
        ConnectConfig::new("ws://127.0.0.1:1/").header("Sec-WebSocket-Key", "x"),
    );
    assert!(m
        .connect(id)
        .unwrap_err()
        .to_string()
        .contains("writes this handshake header itself"));
}

#[tokio::test]
async fn refused_port_fails_with_refused() {
    let port = closed_port().await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://127.0.0.1:{port}/")));
    match wait_end(&s).await {
        ConnState::Failed { error } => {
            assert_eq!(error.kind, ErrorKind::Refused);
            assert!(
                error.message.contains(&format!("127.0.0.1:{port}")),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rejected_upgrade_keeps_status_headers_and_body() {
    for (status, body) in [
        ("401 Unauthorized", "token expired, log in again"),
        ("404 Not Found", "no route /chat"),
    ] {
        let addr = http_answer(status, body).await;
        let (m, _) = manager();
        let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/chat")));
        match wait_end(&s).await {
            ConnState::Failed { error } => {
                assert_eq!(error.kind, ErrorKind::HttpStatus);
                let http = error.http.expect("http details");
                assert_eq!(http.status.to_string(), status[..3]);
                assert_eq!(http.body, body);
                assert!(http.headers.iter().any(|h| h.name == "x-reason" && h.value == "test"));
                assert!(error.message.contains(&status[..3]), "{}", error.message);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn server_close_code_and_reason_are_reported() {
    let (addr, _) = scripted(|mut ws| async move {
        ws.send(Message::text("last words")).await.unwrap();
        ws.close(Some(CloseFrame {
            code: CloseCode::from(4001),
            reason: "kicked: idle".into(),
        }))
        .await
        .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            reason,
            clean,
            initiated_by,
        } => {
            assert_eq!(
                (code, reason.as_str(), clean, initiated_by),
                (4001, "kicked: idle", true, Initiator::Server)
            );
        }
        other => panic!("{other:?}"),
    }
    let log = s.log().page(0, 10);
    let kinds: Vec<_> = log.iter().map(|f| (f.direction, f.opcode)).collect();
    assert_eq!(
        kinds,
        [
            (Direction::In, Opcode::Text),
            (Direction::In, Opcode::Close),
            (Direction::Out, Opcode::Close)
        ],
        "the automatic close reply is logged too"
    );
    assert_eq!(
        log[2].close_info(),
        Some(wsbench_core::CloseInfo::new(4001, "kicked: idle"))
    );
}

#[tokio::test]
async fn abrupt_reset_ends_in_1006_not_a_hang() {
    let (addr, _) = scripted(|mut ws| async move {
        ws.send(Message::text("about to vanish")).await.unwrap();
        let _ = ws.next().await;
        ws.get_ref().set_zero_linger().unwrap();
        drop(ws); // RST, no close frame
    })
    .await;
    let (m, _) = manager();
    let (id, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_open(&s).await;
    m.send(id, Outgoing::Text("go".into())).await.unwrap();
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            clean,
            initiated_by,
            reason,
        } => {
            assert_eq!(
                (code, clean, initiated_by),
                (1006, false, Initiator::Server),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn oversized_incoming_message_fails_with_1009() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let (addr, _) = scripted(move |mut ws| {
        let tx = tx.lock().unwrap().take();
        async move {
            ws.send(Message::binary(vec![7u8; 2000])).await.unwrap();
            let mut code = None;
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Close(Some(cf)) = m {
                    code = Some(u16::from(cf.code));
                }
            }
            let _ = tx.unwrap().send(code);
        }
    })
    .await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.limits.max_message_size = 1000;
    c.limits.max_frame_size = 1000;
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            reason,
            initiated_by,
            ..
        } => {
            assert_eq!((code, initiated_by), (1009, Initiator::Client));
            assert!(reason.contains("1000"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let sent_close = s
        .log()
        .page(0, 10)
        .into_iter()
        .find(|f| f.opcode == Opcode::Close && f.direction == Direction::Out);
    assert_eq!(sent_close.and_then(|f| f.close_info()).map(|c| c.code), Some(1009));
    let seen = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert_eq!(seen, Some(1009), "the server received our 1009 close frame");
}

#[tokio::test]
async fn invalid_utf8_text_fails_with_1007() {
    let (addr, _) = scripted(|mut ws| async move {
        let raw = server_frame(0x1, &[0x68, 0x69, 0xff, 0xfe]);
        ws.get_mut().write_all(&raw).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    match wait_end(&s).await {
        ConnState::Closed { code, clean, .. } => assert_eq!((code, clean), (1007, false)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn outgoing_messages_are_checked_before_sending() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let mut c = ConnectConfig::new(server.url());
    c.limits.max_message_size = 10;
    let (id, s) = open(&m, c);
    wait_open(&s).await;
    let e = m.send(id, Outgoing::Text("x".repeat(11))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MessageTooLarge);
    assert!(
        e.to_string().contains("11 bytes") && e.to_string().contains("10 bytes"),
        "{e}"
    );
    let e = m.send(id, Outgoing::Ping(Bytes::from(vec![0; 126]))).await.unwrap_err();
    assert!(e.to_string().contains("125"), "{e}");
    let e = m
        .send(
            id,
            Outgoing::Close {
                code: 1006,
                reason: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("1006"), "{e}");
    let e = m.disconnect(id, 4000, &"r".repeat(124)).unwrap_err();
    assert!(e.to_string().contains("123 bytes"), "{e}");
    assert!(s.state().is_open(), "rejected sends leave the connection open");
    assert_eq!(s.log().stats().frames_out, 0, "nothing reached the socket");
}

#[tokio::test]
async fn ping_measures_round_trip_and_keepalive_pings() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let mut c = ConnectConfig::new(server.url());
    c.keepalive.ping_interval_ms = 50;
    let (id, s) = open(&m, c);
    wait_open(&s).await;
    let seq = m
        .send(id, Outgoing::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    let pong = wait_frame(&s, "pong", |f| {
        f.opcode == Opcode::Pong && &f.payload[..] == b"are you there"
    })
    .await;
    assert!(pong.seq > seq);
    assert!(pong.rtt_us > 0, "round trip recorded on the pong");
    // Keepalive: at least two automatic pings answered.
    let mut follow = s.log().follow();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = s
                .log()
                .page(0, 1000)
                .iter()
                .filter(|f| f.opcode == Opcode::Pong && f.payload.len() == 8 && f.rtt_us > 0)
                .count();
            if n >= 2 {
                break;
            }
            follow.changed().await.unwrap();
        }
    })
    .await
    .expect("keepalive pings answered");
}

/// The server pings us and reports whether a pong came back within 500 ms.
async fn pong_seen(auto_pong: bool) -> (bool, Vec<wsbench_core::Frame>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let (addr, _) = scripted(move |mut ws| {
        let tx = tx.lock().unwrap().take();
        async move {
            ws.send(Message::Ping(Bytes::from_static(b"hb-1"))).await.unwrap();
            let got = tokio::time::timeout(Duration::from_millis(500), async {
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Pong(p) = m {
                        return Some(p);
                    }
                }
                None
            })
            .await;
            let _ = tx.unwrap().send(matches!(got, Ok(Some(p)) if &p[..] == b"hb-1"));
        }
    })
    .await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.keepalive.auto_pong = auto_pong;
    let (_, s) = open(&m, c);
    wait_open(&s).await;
    let seen = rx.await.unwrap();
    (seen, s.log().page(0, 10))
}

#[tokio::test]
async fn auto_pong_answers_pings_and_can_be_turned_off() {
    let (seen, log) = pong_seen(true).await;
    assert!(seen, "server got its pong");
    let ping = log
        .iter()
        .find(|f| f.direction == Direction::In && f.opcode == Opcode::Ping)
        .expect("ping logged");
    let pong = log
        .iter()
        .find(|f| f.direction == Direction::Out && f.opcode == Opcode::Pong && &f.payload[..] == b"hb-1");
    let pong = pong.unwrap_or_else(|| panic!("the automatic pong is in the log: {log:?}"));
    assert!(
        pong.seq > ping.seq && pong.offset_us >= ping.offset_us,
        "the pong is logged after its ping: {log:?}"
    );
    let (seen, log) = pong_seen(false).await;
    assert!(!seen, "no pong with auto-pong off");
    assert!(log
        .iter()
        .any(|f| f.direction == Direction::In && f.opcode == Opcode::Ping));
    assert!(!log.iter().any(|f| f.opcode == Opcode::Pong), "{log:?}");
}

#[tokio::test]
async fn a_manual_pong_still_goes_out_with_auto_pong_off() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let (addr, _) = scripted(move |mut ws| {
        let tx = tx.lock().unwrap().take();
        async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Pong(p) = m {
                    let _ = tx.unwrap().send(p);
                    return;
                }
            }
        }
    })
    .await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.keepalive.auto_pong = false;
    let (id, s) = open(&m, c);
    wait_open(&s).await;
    m.send(id, Outgoing::Pong(Bytes::from_static(b"unsolicited")))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert_eq!(&got[..], b"unsolicited");
    let pongs: Vec<_> = s
        .log()
        .page(0, 10)
        .into_iter()
        .filter(|f| f.opcode == Opcode::Pong)
        .collect();
    assert_eq!(pongs.len(), 1, "logged once, by the writer");
}

#[tokio::test]
async fn sending_while_not_connected_is_a_clear_error() {
    let (m, _) = manager();
    let id = m.create("idle", ConnectConfig::new("ws://127.0.0.1:1/"));
    let e = m.send(id, Outgoing::Text("x".into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConnected);
    assert!(e.to_string().contains("idle"), "{e}");
    let e = m.send(999, Outgoing::Text("x".into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownSession);
}

#[tokio::test]
async fn headers_listed_in_the_handshake_are_the_ones_sent() {
    let (addr, seen) = scripted(|mut ws| async move { while let Some(Ok(_)) = ws.next().await {} }).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/x"));
    c.headers.push(KeyValue::new("X-One", "1"));
    c.origin = Some("http://o.test".into());
    let (_, s) = open(&m, c);
    let hs = wait_open(&s).await;
    let server_saw = seen.lock().unwrap()[0].clone();
    let recorded: Vec<(String, String)> = hs
        .request_headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.clone()))
        .collect();
    assert_eq!(recorded, server_saw.headers, "same headers, same order");
    assert!(
        hs.request_line.ends_with(" HTTP/1.1") && hs.request_line.starts_with("GET /x "),
        "{}",
        hs.request_line
    );
    assert!(hs.response_headers.iter().any(|h| h.name == "sec-websocket-accept"));
}

#[tokio::test]
async fn broadcast_server_sends_every_message_to_every_client_and_logs_them() {
    let server = LocalServer::start(ServerConfig::broadcast()).await.unwrap();
    let (m, _) = manager();
    let (a, sa) = open(&m, ConnectConfig::new(format!("{}room", server.url())));
    let (_, sb) = open(&m, ConnectConfig::new(server.url()));
    wait_open(&sa).await;
    wait_open(&sb).await;
    // Both clients are registered once the server logged both handshakes.
    for _ in 0..100 {
        if server.client_count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.send(a, Outgoing::Text("to everyone".into())).await.unwrap();
    for s in [&sa, &sb] {
        wait_frame(s, "broadcast", |f| {
            f.direction == Direction::In && f.text() == Some("to everyone")
        })
        .await;
    }
    let history = server.history();
    let paths: Vec<_> = history
        .iter()
        .filter_map(|e| match &e.kind {
            ServerEventKind::Connected { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert!(paths.contains(&"/room") && paths.contains(&"/"), "{paths:?}");
    assert!(history.iter().any(|e| matches!(
        e.kind,
        ServerEventKind::Message {
            opcode: Opcode::Text,
            len: 11
        }
    )));
}

#[tokio::test]
async fn a_peer_that_keeps_tcp_open_after_the_close_handshake_still_closed_cleanly() {
    let (addr, _) = scripted(|mut ws| async move {
        ws.send(Message::Close(Some(CloseFrame {
            code: CloseCode::from(4002),
            reason: "later".into(),
        })))
        .await
        .unwrap();
        // Read our reply, then hold the TCP connection open.
        let _ = ws.next().await;
        tokio::time::sleep(Duration::from_secs(20)).await;
    })
    .await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    match wait_end(&s).await {
        ConnState::Closed {
            code,
            reason,
            clean,
            initiated_by,
        } => {
            assert_eq!(
                (code, reason.as_str(), clean, initiated_by),
                (4002, "later", true, Initiator::Server)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_ignores_the_offered_subprotocols_is_a_clear_failure() {
    let (addr, _) = scripted(|mut ws| async move { while let Some(Ok(_)) = ws.next().await {} }).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.subprotocols = vec!["graphql-ws".into()];
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => {
            assert_eq!(error.kind, ErrorKind::Handshake);
            assert!(
                error.message.contains("accepted none of the offered subprotocols"),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
}
