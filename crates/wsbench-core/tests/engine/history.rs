//! Session history: one file per connection that opened, bounded by size, oldest
//! removed first, listed even when its index is lost.

use std::sync::Arc;

use wsbench_core::history::History;
use wsbench_core::{ConnectConfig, Direction, LocalServer, Outgoing, ServerConfig};

use crate::support::*;

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wsbench-history-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn each_session_is_recorded_and_the_oldest_go_first_when_over_the_bound() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let dir = temp_dir();
    let history = Arc::new(History::new(dir.clone(), u64::MAX));
    let (m, _) = manager();
    let (id, s) = open(&m, ConnectConfig::new(server.url()));
    let mut files = Vec::new();
    for round in 0..3u64 {
        if round > 0 {
            m.connect(id).unwrap();
        }
        wait_for(&s, "open", |st| matches!(st, wsbench_core::ConnState::Open { .. })).await;
        let from = s.log().stats().last_seq + 1;
        m.send(id, Outgoing::Text(format!("round {round} {}", "x".repeat(2000))))
            .await
            .unwrap();
        wait_frame(&s, "echo", |f| f.direction == Direction::In && f.seq >= from).await;
        m.disconnect(id, 1000, "").unwrap();
        wait_for(&s, "closed", |st| matches!(st, wsbench_core::ConnState::Closed { .. })).await;
        let e = history.record(&s, from, &s.state()).unwrap();
        assert_eq!((e.frames, e.outcome.as_str()), (4, "closed 1000"), "{e:?}");
        files.push(e);
    }
    let list = history.list().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list[0].started_at_us >= list[2].started_at_us, "newest first");
    // Each file holds its own session only.
    let text = std::fs::read_to_string(dir.join(&files[1].id)).unwrap();
    assert!(text.contains("round 1") && !text.contains("round 0") && !text.contains("round 2"));

    // A bound that fits two sessions removes the oldest.
    let two = files[1].bytes + files[2].bytes;
    history.set_max_bytes(two).unwrap();
    let ids: Vec<_> = history.list().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![files[2].id.clone(), files[1].id.clone()]);
    assert!(!dir.join(&files[0].id).exists());

    // A lost index is rebuilt from the files' first lines.
    std::fs::remove_file(dir.join("index.json")).unwrap();
    let rebuilt = history.list().unwrap();
    assert_eq!(rebuilt.len(), 2);
    assert_eq!(rebuilt[0].name, s.name());
    assert!(history.path_of("../index.json").is_err(), "ids cannot leave the folder");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The app's sidebar learns that a session is in the history from a notice in the
/// next event batch (not by guessing with a timer), and exit can wait for the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_write_is_announced_as_a_notice_and_exit_can_wait_for_it() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let dir = temp_dir();
    let history = Arc::new(History::new(dir.clone(), u64::MAX));
    let (m, rec) = manager();
    let weak = Arc::downgrade(&m);
    history.set_on_written(Arc::new(move |session, entry| {
        if let Some(m) = weak.upgrade() {
            m.notify(wsbench_core::Notice::HistoryWritten {
                session,
                entry: entry.id.clone(),
            });
        }
    }));
    let (id, s) = open(&m, ConnectConfig::new(server.url()));
    wait_for(&s, "open", |st| matches!(st, wsbench_core::ConnState::Open { .. })).await;
    m.disconnect(id, 1000, "").unwrap();
    wait_for(&s, "closed", |st| matches!(st, wsbench_core::ConnState::Closed { .. })).await;
    history.record_in_background(s.clone(), 1, &s.state());
    assert!(history.wait_idle(std::time::Duration::from_secs(10)), "the write ends");
    assert_eq!(history.pending(), 0);
    let listed = history.list().unwrap();
    assert_eq!(listed.len(), 1);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let notice = loop {
        let found = rec.0.lock().unwrap().iter().flat_map(|b| b.notices.clone()).next();
        if let Some(n) = found {
            break n;
        }
        assert!(std::time::Instant::now() < deadline, "no historyWritten notice arrived");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(
        serde_json::to_value(&notice).unwrap(),
        serde_json::json!({"type": "historyWritten", "session": id, "entry": listed[0].id}),
        "the shape the UI reads"
    );
    // A batch with no notice carries no `notices` key at all.
    let quiet = serde_json::to_value(wsbench_core::EventBatch::default()).unwrap();
    assert!(quiet.get("notices").is_none() && quiet.get("states").is_some());
    std::fs::remove_dir_all(dir).unwrap();
}
