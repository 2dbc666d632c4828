//! Batched notifications: coalesced, bounded, and honest about what they dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::events::PreviewEncoding;
use wsbench_core::{BatchConfig, ConnState, ConnectConfig, EventBatch, EventSink, SessionManager};

use crate::support::*;

#[tokio::test]
async fn a_flood_is_coalesced_into_few_batches_with_exact_counters() {
    let addr = sends_then_closes(vec![Message::text("tick"); 50_000]).await;
    let (m, rec) = manager();
    let (id, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_end(&s).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let batches = rec.0.lock().unwrap().clone();
    let notified: u64 = batches
        .iter()
        .flat_map(|b| &b.sessions)
        .filter(|u| u.session == id)
        .map(|u| u.new_frames)
        .sum();
    let dropped: u64 = batches.iter().map(|b| b.dropped).sum();
    let stats = s.log().stats();
    assert_eq!(stats.frames_in, 50_001, "50 000 texts and the close");
    assert_eq!(notified + dropped, stats.frames_in + stats.frames_out);
    assert!(batches.len() < 2_000, "{} batches for 50k frames", batches.len());
    let last = batches
        .iter()
        .rev()
        .flat_map(|b| &b.sessions)
        .find(|u| u.session == id)
        .unwrap();
    assert_eq!(
        last.stats.last_seq, stats.last_seq,
        "the last batch carries final counters"
    );
    assert!(last.previews.len() <= BatchConfig::default().previews_per_session);
}

/// A consumer that takes 50 ms per batch.
/// A consumer stuck on its first batch until the test opens the gate: the stream is
/// logged meanwhile, whatever the machine's speed.
struct SlowSink(Arc<Mutex<Vec<EventBatch>>>, Arc<(Mutex<bool>, std::sync::Condvar)>);
impl EventSink for SlowSink {
    fn deliver(&self, batch: EventBatch) {
        let (open, cv) = &*self.1;
        let mut o = open.lock().unwrap();
        while !*o {
            o = cv.wait(o).unwrap();
        }
        drop(o);
        self.0.lock().unwrap().push(batch);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_loses_notifications_never_frames() {
    let addr = sends_then_closes(vec![Message::text("data"); 100_000]).await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let cfg = BatchConfig {
        queue: 64,
        max_frames: 64,
        ..BatchConfig::default()
    };
    let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let m = SessionManager::with_batching(Arc::new(SlowSink(got.clone(), gate.clone())), cfg);
    let id = m.create("slow", ConnectConfig::new(format!("ws://{addr}/")));
    m.connect(id).unwrap();
    let s = m.get(id).unwrap();
    wait_end(&s).await;
    assert_eq!(s.log().stats().frames_in, 100_001, "the log kept every frame");
    // 100,001 frames make at least 98 notifications (bursts of 1,024 at most) for a
    // queue of 64 while the consumer is stuck: some must have been dropped.
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    let states = |got: &Mutex<Vec<EventBatch>>| -> Vec<ConnState> {
        got.lock()
            .unwrap()
            .iter()
            .flat_map(|b| b.states.clone())
            .map(|s| s.state)
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !states(&got).iter().any(|s| matches!(s, ConnState::Closed { .. })) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dropped: u64 = got.lock().unwrap().iter().map(|b| b.dropped).sum();
    assert!(dropped > 0, "the batch reports dropped notifications");
    let states = states(&got);
    assert!(
        states.iter().any(|s| matches!(s, ConnState::Closed { .. })),
        "state changes are never dropped: {states:?}"
    );
}

#[tokio::test]
async fn previews_are_short_and_binary_is_base64() {
    let big = "é".repeat(10_000);
    let addr = scripted(move |mut ws| {
        let big = big.clone();
        async move {
            ws.send(Message::text(big)).await.unwrap();
            ws.send(Message::binary(vec![0xde, 0xad, 0xbe, 0xef])).await.unwrap();
            let _ = ws.close(None).await;
        }
    })
    .await
    .0;
    let (m, rec) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_end(&s).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let previews: Vec<_> = rec
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| b.sessions.clone())
        .flat_map(|u| u.previews)
        .collect();
    let text = &previews[0];
    assert_eq!(text.meta.len, 20_000);
    assert!(text.truncated && text.preview.len() <= 4096 && text.preview.chars().all(|c| c == 'é'));
    let bin = &previews[1];
    assert_eq!(
        (bin.encoding, bin.preview.as_str()),
        (PreviewEncoding::Base64, "3q2+7w==")
    );
    let json = serde_json::to_value(bin).unwrap();
    assert_eq!(
        (json["opcode"].as_str(), json["len"].as_u64()),
        (Some("binary"), Some(4)),
        "metadata is flattened: {json}"
    );
}
