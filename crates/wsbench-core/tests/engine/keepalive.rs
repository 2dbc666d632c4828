//! The keepalive timeout (half-open peers): a quiet but healthy server that answers
//! our pings stays connected; a silent one is declared dead with a clear reason (the
//! catalogue's "half-open peer, keepalive timeout" row), and reconnect follows.

use std::time::Duration;

use wsbench_core::{ConnState, ConnectConfig, LocalServer, Opcode, ServerConfig};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_server_that_answers_pings_stays_open() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let (m, _) = manager();
    let mut c = ConnectConfig::new(server.url());
    c.keepalive.ping_interval_ms = 100;
    c.keepalive.dead_after_ms = 1_500;
    let (_, s) = open(&m, c);
    wait_open(&s).await;
    // Many times the timeout's worth of pongs: each one counts as an answer.
    for _ in 0..3 {
        wait_frame(&s, "a pong", |f| f.opcode == Opcode::Pong).await;
    }
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    assert!(s.state().is_open(), "{:?}", s.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_declared_dead_and_reconnect_follows() {
    // Upgrades, then never reads nor writes again (a SIGSTOPped peer).
    let (addr, _) = scripted(|ws| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    })
    .await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.keepalive.ping_interval_ms = 200;
    c.keepalive.dead_after_ms = 1_000;
    let (_, s) = open(&m, c.clone());
    wait_open(&s).await;
    let end = wait_end(&s).await;
    let text = format!("{end:?}");
    assert!(
        text.contains("no answer from the server for 1 s (keepalive timeout)"),
        "{text}"
    );
    // With reconnect on, a new connection follows (the server upgrades again).
    c.reconnect.enabled = true;
    c.reconnect.max_attempts = 1;
    c.reconnect.initial_delay_ms = 500;
    let (_, s) = open(&m, c);
    wait_open(&s).await;
    wait_for(&s, "reconnecting", |st| matches!(st, ConnState::Reconnecting { .. })).await;
    wait_for(&s, "reconnected", |st| matches!(st, ConnState::Open { .. })).await;
}
