//! The log under a flood: caps, exact eviction counts, paging and search.

use tokio_tungstenite::tungstenite::Message;
use wsbench_core::{ConnectConfig, Direction, Opcode, SearchQuery};

use crate::support::*;

#[tokio::test]
async fn a_flood_past_the_log_cap_evicts_the_oldest_and_counts_exactly() {
    let addr = sends_then_closes((0..20_000).map(|i| Message::text(format!("msg-{i}"))).collect()).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.log.max_frames = 1_000;
    let (_, s) = open(&m, c);
    wait_end(&s).await;
    let st = s.log().stats();
    let total = st.frames_in + st.frames_out;
    assert_eq!(st.frames_in, 20_001);
    assert_eq!(st.held_frames, 1_000);
    assert_eq!(st.evicted_frames, total - 1_000);
    assert_eq!(st.first_seq, st.evicted_frames + 1);
    let first = s.log().get(st.first_seq).unwrap();
    assert_eq!(
        first.text(),
        Some(format!("msg-{}", st.first_seq - 1).as_str()),
        "the oldest went first"
    );
    assert!(s.log().get(1).is_none());
}

#[tokio::test]
async fn byte_cap_bounds_memory_for_large_messages() {
    let addr = sends_then_closes(vec![Message::binary(vec![9u8; 100_000]); 100]).await;
    let (m, _) = manager();
    let mut c = ConnectConfig::new(format!("ws://{addr}/"));
    c.log.max_bytes = 1_000_000;
    let (_, s) = open(&m, c);
    wait_end(&s).await;
    let st = s.log().stats();
    assert!(st.held_bytes <= 1_000_000, "{}", st.held_bytes);
    assert_eq!(st.evicted_bytes + st.held_bytes, st.bytes_in + st.bytes_out);
}

#[tokio::test]
async fn paging_and_search_over_a_live_log() {
    let mut msgs: Vec<Message> = (0..1000)
        .map(|i| {
            Message::text(if i % 100 == 0 {
                format!("ERROR code={i}")
            } else {
                format!("ok {i}")
            })
        })
        .collect();
    msgs.push(Message::binary(b"binary Error inside".to_vec()));
    let addr = sends_then_closes(msgs).await;
    let (m, _) = manager();
    let (_, s) = open(&m, ConnectConfig::new(format!("ws://{addr}/")));
    wait_end(&s).await;
    let log = s.log();

    let page = log.page(101, 50);
    assert_eq!(
        (page.first().unwrap().seq, page.last().unwrap().seq, page.len()),
        (101, 150, 50)
    );
    let back = log.page_before(150, 50);
    assert_eq!(back, page);

    let r = log
        .search(&SearchQuery {
            text: "error".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 11, "10 texts and the binary frame, case-insensitive");
    let r = log
        .search(&SearchQuery {
            text: "error".into(),
            opcodes: vec![Opcode::Text],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 10);
    assert_eq!(r.seqs[1], 101);
    let r = log
        .search(&SearchQuery {
            text: "ERROR".into(),
            case_sensitive: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 10);
    let r = log
        .search(&SearchQuery {
            text: r"code=\d00$".into(),
            regex: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 9);
    let r = log
        .search(&SearchQuery {
            directions: vec![Direction::Out],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.total, 1, "only the close reply went out");
    let r = log
        .search(&SearchQuery {
            text: "ok".into(),
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((r.seqs.len(), r.total), (5, 990));
    let e = log
        .search(&SearchQuery {
            text: "(".into(),
            regex: true,
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("search pattern"), "{e}");
}
