use super::*;

fn frame(seq: u64, payload: Bytes) -> Frame {
    Frame {
        seq,
        at_us: 1_700_000_000_000_000 + seq as i64 * 3,
        offset_us: 5_000 + seq * 3,
        payload,
        rtt_us: 0,
        compressed_len: 0,
        direction: Direction::In,
        opcode: Opcode::Text,
    }
}

fn payload_of(seq: u64) -> Bytes {
    // Sizes cycle through empty, tiny, the small limit, just past it and big ones.
    let len = match seq % 7 {
        0 => 0,
        1 => 1,
        2 => SMALL_PAYLOAD,
        3 => SMALL_PAYLOAD + 1,
        4 => 32,
        5 => 3000,
        _ => (seq % 200) as usize,
    };
    Bytes::from((0..len).map(|i| (seq as usize * 31 + i) as u8).collect::<Vec<u8>>())
}

fn case(dir_op: (Direction, Opcode), payload: &'static [u8], at_us: i64, offset_us: u64, extra: (u32, u32)) -> Frame {
    Frame {
        seq: 0,
        at_us,
        offset_us,
        payload: Bytes::from_static(payload),
        rtt_us: extra.0,
        compressed_len: extra.1,
        direction: dir_op.0,
        opcode: dir_op.1,
    }
}

fn cases() -> Vec<Frame> {
    use Direction::{In, Out};
    const T0: i64 = 1_700_000_000_000_000;
    let mut huge = case((Out, Opcode::Binary), b"", T0 + 1, 11, (0, u32::MAX));
    huge.payload = Bytes::from(vec![9u8; 3 << 20]);
    vec![
        case((In, Opcode::Text), b"small", T0, 10, (0, 0)),
        huge,
        case((In, Opcode::Ping), b"", T0 + 2, 12, (0, 0)),
        case((In, Opcode::Pong), b"p", T0 + 3, 13, (812, 0)),
        case((Out, Opcode::Close), &[3, 232], T0 + 4, 14, (0, 0)),
        // A reconnect: a new clock (another epoch).
        case((In, Opcode::Text), b"again", T0 + 900_000, 1, (0, 7)),
        // Time going backwards, far future, before the epoch, huge offsets.
        case((In, Opcode::Text), b"b", T0 - 1_000_000_000_000, 2, (0, 0)),
        case((In, Opcode::Binary), b"f", i64::MAX, u64::MAX, (u32::MAX, 1)),
        case((Out, Opcode::Text), b"n", -5, 1 << 40, (1, 0)),
        case((In, Opcode::Text), b"m", i64::MIN, 0, (0, 0)),
        // More than 71 minutes after the chunk's first frame, same clock.
        case((In, Opcode::Text), b"late", T0 + (1 << 33), 10 + (1 << 33), (0, 0)),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, f)| Frame { seq: n as u64 + 1, ..f })
    .collect()
}

#[test]
fn a_record_is_8_bytes_and_every_field_reads_back_as_given() {
    assert_eq!(std::mem::size_of::<Rec>(), 8);
    let mut store = FrameStore::new();
    for (n, f) in cases().into_iter().enumerate() {
        store.push_back(f.clone());
        assert_eq!(store.get(n), Some(f.clone()), "case {n}");
        assert_eq!(store.payload_len(n), f.payload.len());
    }
    // Still right once they are no longer the newest.
    for n in 0..CHUNK + 10 {
        store.push_back(frame(cases_len() + n as u64 + 1, payload_of(n as u64)));
    }
    assert_eq!(store.get(1).unwrap().payload.len(), 3 << 20);
    assert_eq!(store.get(7).unwrap().at_us, i64::MAX);
    assert_eq!(store.get(7).unwrap().offset_us, u64::MAX);
    assert_eq!(store.get(10).unwrap().offset_us, 10 + (1 << 33));
}

fn cases_len() -> u64 {
    11
}

#[test]
fn payloads_across_blocks_and_chunks_read_back_and_eviction_recycles_blocks() {
    let mut store = FrameStore::new();
    let total = 5 * CHUNK as u64 + 123;
    let check = |store: &FrameStore| {
        for i in 0..store.len() {
            let f = store.get(i).unwrap();
            let expect = frame(f.seq, payload_of(f.seq));
            assert_eq!(f, expect, "frame {}", f.seq);
            assert_eq!(store.payload_len(i), expect.payload.len());
        }
    };
    for seq in 1..=total {
        store.push_back(frame(seq, payload_of(seq)));
    }
    check(&store);
    // A reader holds a payload from the oldest chunk while it is evicted.
    let held = store.get(4).unwrap();
    for _ in 0..2 * CHUNK + 7 {
        let len = store.pop_front().unwrap();
        assert!(len <= 3000);
    }
    assert!(!store.spare_blocks.is_empty(), "evicted blocks are kept to fill again");
    assert_eq!(held, frame(5, payload_of(5)), "a payload still held keeps its bytes");
    let spare = store.spare_blocks.len();
    for seq in total + 1..=total + 2 * CHUNK as u64 {
        store.push_back(frame(seq, payload_of(seq)));
        store.pop_front();
    }
    assert!(store.spare_blocks.len() <= SPARE_BLOCKS);
    assert!(
        store.spare_blocks.len() >= spare.min(1),
        "spare blocks are reused, not dropped"
    );
    check(&store);
    assert_eq!(store.front_seq(), Some(2 * CHUNK as u64 + 8 + 2 * CHUNK as u64));
    assert_eq!(store.back_seq(), Some(total + 2 * CHUNK as u64));

    // Down to nothing, and again.
    while store.pop_front().is_some() {}
    assert_eq!(store.len(), 0);
    for seq in 1..=10 {
        store.push_back(frame(seq, payload_of(seq)));
    }
    check(&store);
    store.clear();
    assert_eq!(store.len(), 0);
    store.push_back(frame(3, payload_of(3)));
    check(&store);
}

#[test]
fn a_small_flood_costs_its_payload_and_8_bytes_a_frame() {
    let mut store = FrameStore::new();
    let n = 20 * CHUNK as u64;
    for seq in 1..=n {
        store.push_back(frame(seq, Bytes::from(vec![b'a'; 32])));
    }
    let blocks: usize = store
        .chunks
        .iter()
        .flat_map(|c| c.blocks.iter())
        .map(|(_, b)| b.len())
        .sum::<usize>()
        + store.open.len();
    assert_eq!(blocks as u64, 32 * n, "payload bytes are packed back to back");
    assert!(store.chunks.iter().all(|c| c.times.0.is_empty() && c.big.0.is_empty()));
}

#[test]
fn an_evicted_big_payload_is_freed_as_its_frame_goes_not_with_its_chunk() {
    let mut s = FrameStore::new();
    let probe = Bytes::from(vec![7u8; 64 * 1024]);
    s.push_back(frame(0, probe.clone()));
    s.push_back(frame(1, Bytes::from(vec![1u8; 300])));
    let probe = match probe.try_into_mut() {
        Ok(_) => panic!("the store does not hold the payload it was given"),
        Err(still_shared) => still_shared,
    };
    assert_eq!(s.pop_front(), Some(64 * 1024));
    assert!(
        probe.try_into_mut().is_ok(),
        "the evicted frame's payload is still held by the store"
    );
    let next = s.get(0).expect("the second frame is still held");
    assert_eq!((next.seq, next.payload.len()), (1, 300));
}
