//! Reconnects, timeouts, cancellation and isolation between connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::{
    ConnState, ConnectConfig, Direction, ErrorKind, Initiator, LocalServer, Opcode, Outgoing, ServerConfig,
};

use crate::support::*;

#[tokio::test]
async fn reconnects_after_the_server_restarts() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let port = server.addr().port();
    let (m, rec) = manager();
    let mut c = ConnectConfig::new(server.url());
    c.reconnect.enabled = true;
    c.reconnect.initial_delay_ms = 50;
    c.reconnect.max_delay_ms = 200;
    c.reconnect.max_attempts = 50;
    let (id, s) = open(&m, c);
    wait_open(&s).await;
    m.send(id, Outgoing::Text("before".into())).await.unwrap();

    server.shutdown();
    drop(server);
    wait_for(&s, "reconnecting", |st| matches!(st, ConnState::Reconnecting { .. })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = LocalServer::start(ServerConfig::echo().port(port)).await.unwrap();
    wait_for(&s, "open again", |st| st.is_open()).await;
    m.send(id, Outgoing::Text("after".into())).await.unwrap();
    wait_frame(&s, "echo after restart", |f| {
        f.text() == Some("after") && f.direction == wsbench_core::Direction::In
    })
    .await;
    assert!(
        s.log().get(1).is_some_and(|f| f.text() == Some("before")),
        "the log spans both connections"
    );

    // Every attempt was visible as state, each with its number.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let states = rec.states(id);
    let attempts: Vec<u32> = states
        .iter()
        .filter_map(|s| match s {
            ConnState::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert!(!attempts.is_empty());
    assert!(attempts.windows(2).all(|w| w[1] == w[0] + 1), "{attempts:?}");
    assert!(
        states.iter().any(|s| matches!(
            s,
            ConnState::Closed {
                code: 1001,
                initiated_by: Initiator::Server,
                ..
            }
        )),
        "{states:?}"
    );
    drop(server);
}

#[tokio::test]
async fn reconnect_gives_up_after_max_attempts() {
    let port = closed_port().await;
    let (m, rec) = manager();
    let mut c = ConnectConfig::new(format!("ws://127.0.0.1:{port}/"));
    c.reconnect.enabled = true;
    c.reconnect.initial_delay_ms = 10;
    c.reconnect.max_delay_ms = 20;
    c.reconnect.max_attempts = 3;
    let (id, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => assert_eq!(error.kind, ErrorKind::Refused),
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let connecting = rec
        .states(id)
        .iter()
        .filter(|s| matches!(s, ConnState::Connecting { .. }))
        .count();
    assert_eq!(connecting, 4, "the first attempt and 3 reconnects");
}

#[tokio::test]
async fn handshake_timeout_and_cancel_while_connecting() {
    // Accepts TCP but never answers the upgrade.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.timeouts.handshake_ms = 200;
    let (_, s) = open(&m, c);
    match wait_end(&s).await {
        ConnState::Failed { error } => {
            assert_eq!(error.kind, ErrorKind::Timeout);
            assert!(error.message.contains("200 ms"), "{}", error.message);
        }
        other => panic!("{other:?}"),
    }

    let (id, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_for(&s, "connecting", |st| matches!(st, ConnState::Connecting { .. })).await;
    let t = Instant::now();
    m.disconnect(id, 1000, "").unwrap();
    match wait_end(&s).await {
        ConnState::Closed {
            initiated_by, clean, ..
        } => assert_eq!((initiated_by, clean), (Initiator::Client, false)),
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(1), "cancel is immediate");
    m.connect(id).expect("the tab can connect again after a cancel");
}

#[tokio::test]
async fn a_stalled_connection_does_not_slow_another() {
    // Server A never reads: our writes to it back up in TCP buffers.
    let (stalled, _) = scripted(|ws| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    })
    .await;
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let (a, sa) = open(&m, ConnectConfig::new(format!("ws://{stalled}/")));
    let (b, sb) = open(&m, ConnectConfig::new(echo.url()));
    wait_open(&sa).await;
    wait_open(&sb).await;

    // Fill A's socket: 64 x 1 MiB never read by the server.
    let m2 = m.clone();
    let flood = tokio::spawn(async move {
        let big = bytes::Bytes::from(vec![1u8; 1 << 20]);
        for _ in 0..64 {
            if m2.send(a, Outgoing::Binary(big.clone())).await.is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!flood.is_finished(), "A is really stalled");

    let t = Instant::now();
    for i in 0..200 {
        m.send(b, Outgoing::Text(format!("m{i}"))).await.unwrap();
    }
    wait_frame(&sb, "last echo", |f| {
        f.text() == Some("m199") && f.direction == wsbench_core::Direction::In
    })
    .await;
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "200 round trips on B took {took:?} while A was stalled"
    );

    // A disconnect overtakes A's queued sends and ends the tab even though the
    // peer never reads our close frame.
    m.disconnect(a, 1000, "").unwrap();
    match wait_end(&sa).await {
        ConnState::Closed {
            initiated_by, clean, ..
        } => assert_eq!((initiated_by, clean), (Initiator::Client, false)),
        other => panic!("{other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(5), flood)
        .await
        .expect("queued sends were answered")
        .unwrap();
}

#[tokio::test]
async fn a_flooding_server_does_not_delay_another_connection() {
    let (flooder, _) = scripted(|mut ws| async move {
        let msg = Message::text("x".repeat(64));
        for _ in 0..200_000 {
            if ws.feed(msg.clone()).await.is_err() {
                return;
            }
        }
        let _ = ws.flush().await;
    })
    .await;
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let (_, sf) = open(&m, ConnectConfig::new(format!("ws://{flooder}/")));
    let (b, sb) = open(&m, ConnectConfig::new(echo.url()));
    wait_open(&sf).await;
    wait_open(&sb).await;
    let t = Instant::now();
    for i in 0..100 {
        m.send(b, Outgoing::Text(format!("q{i}"))).await.unwrap();
    }
    wait_frame(&sb, "echo", |f| {
        f.text() == Some("q99") && f.direction == wsbench_core::Direction::In
    })
    .await;
    eprintln!("100 round trips beside a flood: {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(sf.log().stats().frames_in > 0);
}

#[tokio::test]
async fn removing_a_tab_closes_its_connection_with_1001() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let (id, s) = open(&m, ConnectConfig::new(server.url()));
    wait_open(&s).await;
    m.remove(id).unwrap();
    match wait_end(&s).await {
        ConnState::Closed { code, clean, .. } => assert_eq!((code, clean), (1001, true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.get(id).err().map(|e| e.kind()), Some(ErrorKind::UnknownSession));
    assert!(s.log().page(0, 10).iter().any(|f| f.opcode == Opcode::Close));
}

#[tokio::test]
async fn a_second_connect_is_refused_while_the_first_runs_and_allowed_after() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let id = m.create("t", ConnectConfig::new(server.url()));
    m.connect(id).unwrap();
    let e = m.connect(id).unwrap_err();
    assert!(e.to_string().contains("disconnect first"), "{e}");
    let s = m.get(id).unwrap();
    wait_open(&s).await;
    m.disconnect(id, 1000, "").unwrap();
    wait_end(&s).await;
    m.connect(id).expect("a closed tab connects again at once");
    wait_for(&s, "open again", |st| st.is_open()).await;
}

#[tokio::test]
async fn a_connection_the_engine_failed_reconnects_when_asked_to() {
    let (addr, _) = scripted(|mut ws| async move {
        let _ = ws.send(Message::binary(vec![0u8; 4096])).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let (m, rec) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.limits.max_message_size = 1024;
    c.limits.max_frame_size = 1024;
    c.reconnect.enabled = true;
    c.reconnect.initial_delay_ms = 10;
    c.reconnect.max_delay_ms = 10;
    c.reconnect.max_attempts = 1;
    let (id, _s) = open(&m, c);
    let t = Instant::now();
    while rec.states(id).iter().filter(|st| st.is_open()).count() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no second open: {:?}",
            rec.states(id)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let states = rec.states(id);
    assert!(
        states
            .iter()
            .any(|st| matches!(st, ConnState::Closed { code: 1009, .. })),
        "{states:?}"
    );
    assert!(
        states
            .iter()
            .any(|st| matches!(st, ConnState::Reconnecting { attempt: 1, .. })),
        "{states:?}"
    );
}

#[test]
fn the_manager_works_from_threads_outside_the_runtime() {
    // A GUI toolkit calls from its own thread: connect must not need a runtime there.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, m) = rt.block_on(async {
        let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
        (server, manager().0)
    });
    let id = m.create("gui", ConnectConfig::new(server.url()));
    std::thread::spawn({
        let m = m.clone();
        move || m.connect(id).expect("connect from a plain thread")
    })
    .join()
    .unwrap();
    let s = m.get(id).unwrap();
    rt.block_on(async { wait_open(&s).await });
}

#[tokio::test]
async fn the_end_hook_fires_once_per_connection_that_opened_with_its_first_seq() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let ended: Arc<std::sync::Mutex<Vec<(u64, u64)>>> = Arc::default();
    let seen = ended.clone();
    m.set_on_session_end(Arc::new(move |s, from, _| seen.lock().unwrap().push((s.id, from))));
    let (id, s) = open(&m, ConnectConfig::new(server.url()));
    wait_open(&s).await;
    m.send(id, Outgoing::Text("one".into())).await.unwrap();
    wait_frame(&s, "echo", |f| f.direction == Direction::In).await;
    m.disconnect(id, 1000, "").unwrap();
    wait_end(&s).await;
    // The second connection of the same tab starts after the first one's frames.
    let before = s.log().stats().last_seq;
    m.connect(id).unwrap();
    wait_for(&s, "second open", |st| matches!(st, ConnState::Open { .. })).await;
    m.disconnect(id, 1000, "").unwrap();
    wait_for(&s, "second close", |st| matches!(st, ConnState::Closed { .. })).await;
    // A connection that never opened is not a session.
    let refused = m.create(
        "refused",
        ConnectConfig::new(format!("ws://127.0.0.1:{}/", closed_port().await)),
    );
    m.connect(refused).unwrap();
    wait_end(&m.get(refused).unwrap()).await;
    assert_eq!(*ended.lock().unwrap(), vec![(id, 1), (id, before + 1)]);
}

#[tokio::test]
async fn a_recorded_session_is_read_only() {
    let (m, _) = manager();
    let log = wsbench_core::FrameLog::new(Default::default());
    let id = m.create_read_only("rec", ConnectConfig::new("ws://127.0.0.1:1/"), log, None);
    assert!(m.snapshot().iter().any(|s| s.id == id && s.read_only));
    let e = m.connect(id).unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_connection_with_1001_and_waits_until_each_has_ended() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _rec) = manager();
    let (_, a) = open(&m, ConnectConfig::new(server.url()));
    let (b, closed_tab) = open(&m, ConnectConfig::new(server.url()));
    wait_open(&a).await;
    wait_open(&closed_tab).await;
    // A tab closed just before exit still has a connection finishing: it is waited for too.
    m.remove(b).unwrap();
    assert!(
        m.shutdown(Duration::from_secs(5)).await,
        "every connection ended in time"
    );
    match a.state() {
        ConnState::Closed {
            code,
            reason,
            clean,
            initiated_by,
        } => assert_eq!(
            (code, reason.as_str(), clean, initiated_by),
            (1001, "going away", true, Initiator::Client)
        ),
        other => panic!("not closed: {other:?}"),
    }
    assert!(closed_tab.state().is_terminal(), "{:?}", closed_tab.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_within_its_grace_when_the_peer_never_answers_the_close() {
    // The server completes the upgrade, then neither reads nor answers anything.
    let (addr, _) = scripted(|ws| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    })
    .await;
    let (m, _rec) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_open(&s).await;
    let t = Instant::now();
    assert!(
        !m.shutdown(Duration::from_millis(300)).await,
        "the close is still waiting for the peer"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // The engine's own bound still ends it: no reply within the close timeout.
    match wait_end(&s).await {
        ConnState::Closed { code, clean, .. } => assert_eq!((code, clean), (1001, false)),
        other => panic!("{other:?}"),
    }
}

/// The actor owns one socket: what the user sends goes out while a flood comes in,
/// every frame both ways is logged in wire order, and the close handshake works
/// after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_go_out_while_a_flood_comes_in_on_the_one_socket() {
    const FLOOD: u32 = 100_000;
    let (addr, _) = scripted(|ws| async move {
        let (mut tx, mut rx) = ws.split();
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(m)) = rx.next().await {
                if let Message::Text(t) = m {
                    let _ = etx.send(t.to_string());
                }
            }
        });
        for i in 0..FLOOD {
            // What arrived goes back between flood frames.
            while let Ok(t) = erx.try_recv() {
                if tx.feed(Message::text(format!("echo:{t}"))).await.is_err() {
                    return;
                }
            }
            if tx.feed(Message::text(format!("f{i}"))).await.is_err() {
                return;
            }
            if i % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
        let _ = tx.flush().await;
        while let Some(t) = erx.recv().await {
            if tx.send(Message::text(format!("echo:{t}"))).await.is_err() {
                return;
            }
        }
    })
    .await;
    let (m, _) = manager();
    let (id, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_open(&s).await;
    wait_frame(&s, "the flood", |f| f.text() == Some("f100")).await;
    let mut sent = Vec::new();
    for i in 0..50 {
        sent.push(
            m.send(id, Outgoing::Text(format!("m{i}")))
                .await
                .expect("sent during the flood"),
        );
    }
    wait_frame(&s, "the last echo", |f| f.text() == Some("echo:m49")).await;
    let last = FLOOD - 1;
    let end = wait_frame(&s, "the end of the flood", |f| f.text() == Some(&format!("f{last}"))).await;
    assert!(sent[0] < end.seq, "the first send went out before the flood ended");

    let frames = s.log().page(0, usize::MAX);
    let flood: Vec<&str> = frames
        .iter()
        .filter_map(|f| f.text())
        .filter(|t| t.starts_with('f'))
        .collect();
    assert_eq!(flood.len(), FLOOD as usize, "every flood frame is logged");
    assert!(flood.iter().enumerate().all(|(i, t)| *t == format!("f{i}")), "in order");
    let out: Vec<(u64, &str)> = frames
        .iter()
        .filter(|f| f.direction == Direction::Out)
        .map(|f| (f.seq, f.text().unwrap_or("")))
        .collect();
    let expect: Vec<(u64, String)> = sent
        .iter()
        .enumerate()
        .map(|(i, seq)| (*seq, format!("m{i}")))
        .collect();
    assert_eq!(
        out.iter().map(|(s, t)| (*s, t.to_string())).collect::<Vec<_>>(),
        expect,
        "each send is logged once, with the number its sender got"
    );
    let echoes = frames
        .iter()
        .filter_map(|f| f.text())
        .filter(|t| t.starts_with("echo:"))
        .count();
    assert_eq!(echoes, 50);

    m.disconnect(id, 1000, "done").unwrap();
    match wait_end(&s).await {
        ConnState::Closed { code, initiated_by, .. } => assert_eq!((code, initiated_by), (1000, Initiator::Client)),
        other => panic!("{other:?}"),
    }
}
