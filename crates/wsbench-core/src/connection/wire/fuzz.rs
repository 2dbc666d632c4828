//! Property tests of the wire tap's frame parser: any bytes in any split never panic,
//! never hold more than a control frame's 125 bytes, and give the same control frames
//! whatever the split; a stream of well-formed frames gives exactly its control frames.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{Parser, MAX_CONTROL};

/// Every control frame `advance` reports for `data` cut into `cuts`-sized pieces, with
/// absolute end offsets.
fn parse(data: &[u8], cuts: &[usize]) -> Vec<(u8, Vec<u8>, usize)> {
    let mut p = Parser::default();
    let mut seen = Vec::new();
    let (mut at, mut k) = (0, 0);
    while at < data.len() {
        let n = cuts.get(k).copied().unwrap_or(data.len()).clamp(1, data.len() - at);
        k += 1;
        p.advance(&data[at..at + n], |c| {
            seen.push((c.op, c.payload, c.end + at));
            true
        });
        at += n;
    }
    seen
}

/// A client frame as it goes on the wire (FIN set, masked with `mask`).
pub(super) fn frame(op: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut v = vec![0x80 | op];
    match payload.len() {
        n if n < 126 => v.push(0x80 | n as u8),
        n if n < 65536 => {
            v.push(0x80 | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(0x80 | 127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    v.extend_from_slice(&mask);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    v
}

fn runner() -> (TestRunner, AtomicUsize) {
    let cases = std::env::var("WSBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    (TestRunner::new(config), AtomicUsize::new(0))
}

#[test]
fn any_bytes_in_any_split_are_safe_and_split_independent() {
    let (mut r, runs) = runner();
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..4096),
        prop::collection::vec(1usize..64, 0..64),
    );
    let result = r.run(&strategy, |(data, cuts)| {
        runs.fetch_add(1, Ordering::Relaxed);
        let whole = parse(&data, &[]);
        let split = parse(&data, &cuts);
        prop_assert_eq!(&whole, &split);
        prop_assert!(whole.iter().all(|(op, p, _)| *op >= 8 && p.len() as u64 <= MAX_CONTROL));
        Ok(())
    });
    println!("fuzz wire tap (raw bytes): {} executions", runs.load(Ordering::Relaxed));
    result.unwrap();
}

#[test]
fn well_formed_frames_give_exactly_their_control_frames() {
    let (mut r, runs) = runner();
    let op = prop::sample::select(vec![0x0u8, 0x1, 0x2, 0x8, 0x9, 0xA]);
    let frames = prop::collection::vec(
        (op, prop::collection::vec(any::<u8>(), 0..300), any::<[u8; 4]>()),
        0..12,
    );
    let strategy = (frames, prop::collection::vec(1usize..200, 0..64));
    let result = r.run(&strategy, |(frames, cuts)| {
        runs.fetch_add(1, Ordering::Relaxed);
        let mut wire = Vec::new();
        let mut want = Vec::new();
        for (op, payload, mask) in &frames {
            let payload = if *op >= 8 {
                &payload[..payload.len().min(125)]
            } else {
                &payload[..]
            };
            wire.extend(frame(*op, payload, *mask));
            if *op >= 8 {
                want.push((*op, payload.to_vec(), wire.len()));
            }
        }
        prop_assert_eq!(parse(&wire, &cuts), want);
        Ok(())
    });
    println!("fuzz wire tap (frames): {} executions", runs.load(Ordering::Relaxed));
    result.unwrap();
}
