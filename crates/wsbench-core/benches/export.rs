//! Export of a 1,000,000-frame log to every format, with the memory it takes.
//!
//!     cargo bench -p wsbench-core --bench export
//!
//! Fills a `FrameLog` with 100k, then 1M frames (text and binary, 32–200 B, both
//! directions), and exports each with `export_to_path` (the real path: streaming
//! writer, atomic temp file, fsync) to every format in a temp folder. For each it
//! prints the time, frames/s, the file size, and the memory the export took, two
//! ways: the peak of live heap bytes during the export minus those before it (a
//! counting allocator, exact), and the peak resident set during the export
//! (`VmHWM`, reset first by writing 5 to `/proc/self/clear_refs`) minus the resident
//! set before it (`VmRSS`; the allocator reuses pages freed by the previous export,
//! so after the first format this one reads near 0). A streaming writer keeps both
//! at a few MiB whatever the log's length; building the document in memory would
//! cost hundreds of MiB at 1M frames. Finally it reads the 1M-frame NDJSON file
//! back (an import holds every frame, so that one grows with the log).
//! `BENCH_FRAMES=N` runs one size only. Asserts nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use wsbench_core::config::{ConnectConfig, LogLimits};
use wsbench_core::export::{export_to_path, read_log_file, ExportFormat, ExportOptions, LogSource};
use wsbench_core::{Direction, Frame, FrameLog, Opcode};

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            grew(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Live heap bytes now, after resetting the peak to it.
fn reset_heap_peak() -> usize {
    let now = LIVE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset the peak resident set (Linux: writing 5 to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn build_log(n: usize) -> (FrameLog, u64) {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let words = [
        "tick",
        "price",
        "\"qty\"",
        "order",
        "book",
        "ÿes",
        "a,b",
        "line\nbreak",
        "=sum",
        "42",
    ];
    let t0 = 1_795_316_685_000_000i64;
    let mut frames = Vec::with_capacity(n);
    let mut bytes = 0u64;
    // Payloads share 64 KiB buffers, as frames read from a socket share its read
    // buffer (cloning one for a page then costs a reference count, no allocation).
    let mut buf = BytesMut::with_capacity(64 << 10);
    for i in 0..n {
        let len = 32 + (next() % 169) as usize;
        let binary = i % 4 == 3;
        if buf.capacity() < 256 {
            buf = BytesMut::with_capacity(64 << 10);
        }
        if binary {
            for _ in 0..len {
                buf.extend_from_slice(&[next() as u8]);
            }
        } else {
            let mut s = format!("{{\"seq\":{i},\"msg\":\"");
            while s.len() < len - 2 {
                s.push_str(words[(next() % words.len() as u64) as usize]);
                s.push(' ');
            }
            s.push_str("\"}");
            buf.extend_from_slice(s.as_bytes());
        }
        let payload: Bytes = buf.split().freeze();
        bytes += payload.len() as u64;
        frames.push(Frame {
            seq: i as u64 + 1,
            at_us: t0 + i as i64 * 37,
            offset_us: i as u64 * 37,
            payload,
            rtt_us: 0,
            compressed_len: 0,
            direction: if i % 2 == 0 { Direction::In } else { Direction::Out },
            opcode: if binary { Opcode::Binary } else { Opcode::Text },
        });
    }
    let log = FrameLog::from_frames(
        LogLimits {
            max_frames: usize::MAX,
            max_bytes: usize::MAX,
        },
        frames,
    );
    (log, bytes)
}

fn main() {
    let sizes: Vec<usize> = match std::env::var("BENCH_FRAMES").ok().and_then(|v| v.parse().ok()) {
        Some(n) => vec![n],
        None => vec![100_000, 1_000_000],
    };
    let dir = std::env::temp_dir().join(format!("wsbench-export-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return;
    }
    if !reset_peak() {
        println!("(cannot reset VmHWM here: the RSS column is the process peak, an upper bound)");
    }
    let mut rows = Vec::new();
    for &n in &sizes {
        let t = Instant::now();
        let (log, payload_bytes) = build_log(n);
        println!(
            "log: {n} frames, {:.1} MB of payload, built in {:.2} s; heap {:.0} MiB, process RSS {:.0} MiB",
            payload_bytes as f64 / 1e6,
            t.elapsed().as_secs_f64(),
            LIVE.load(Ordering::Relaxed) as f64 / (1 << 20) as f64,
            mib(status_kib("VmRSS:").unwrap_or(0))
        );
        let source = LogSource {
            name: "bench".into(),
            config: ConnectConfig::new("ws://127.0.0.1:9/bench").header("Authorization", "Bearer x"),
            handshake: None,
            stats: None,
            log: Arc::new(log),
        };
        for format in ExportFormat::ALL {
            let path = dir.join(format!("bench-{n}.{}", format.extension()));
            let rss_before = status_kib("VmRSS:").unwrap_or(0);
            reset_peak();
            let heap_before = reset_heap_peak();
            let t = Instant::now();
            let mut calls = 0u64;
            let r = export_to_path(&source, &path, &ExportOptions::new(format), |_, _| {
                calls += 1;
                true
            });
            let secs = t.elapsed().as_secs_f64();
            let heap_growth = PEAK.load(Ordering::Relaxed).saturating_sub(heap_before);
            let rss_growth = status_kib("VmHWM:").unwrap_or(0).saturating_sub(rss_before);
            rows.push(match r {
                Ok(s) => format!(
                    "| {n} | {format:?} | {secs:.2} s | {:.0} | {:.1} MB | {:.2} MiB | {:.1} MiB | {calls} |",
                    s.frames as f64 / secs,
                    s.bytes as f64 / 1e6,
                    heap_growth as f64 / (1 << 20) as f64,
                    mib(rss_growth),
                ),
                Err(e) => format!("| {n} | {format:?} | failed: {e} | | | | | |"),
            });
            if n != *sizes.last().unwrap_or(&n) || format != ExportFormat::Ndjson {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    println!();
    println!("| frames | format | time | frames/s | file | heap peak growth | RSS peak growth | progress calls |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!();
    if let Some(n) = sizes.last() {
        read_back(&dir.join(format!("bench-{n}.ndjson")));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn read_back(path: &Path) {
    let before = status_kib("VmRSS:").unwrap_or(0);
    reset_peak();
    let heap_before = reset_heap_peak();
    let t = Instant::now();
    match read_log_file(path) {
        Ok(conns) => {
            let secs = t.elapsed().as_secs_f64();
            let peak = status_kib("VmHWM:").unwrap_or(0);
            let frames = conns.first().map_or(0, |c| c.frames.len());
            println!(
                "import of the NDJSON file: {frames} frames in {secs:.2} s ({:.0} frames/s); heap peak growth {:.0} MiB, \
                 RSS peak growth {:.0} MiB (an import holds every frame)",
                frames as f64 / secs,
                PEAK.load(Ordering::Relaxed).saturating_sub(heap_before) as f64 / (1 << 20) as f64,
                mib(peak.saturating_sub(before))
            );
        }
        Err(e) => println!("import failed: {e}"),
    }
}
