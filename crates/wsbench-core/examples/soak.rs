//! Soak and reconnect storm of one engine (run by `scripts/soak`).
//!
//! 1. Load: N connections to the built-in echo server, each sending R text messages a
//!    second for S seconds, with small log caps so eviction runs. Then every frame is
//!    accounted for (sent = logged out, echoed = logged in, held + evicted = logged),
//!    memory (RSS) is sampled, and the time `send` takes and the ping round trip under
//!    load are measured.
//! 2. Storm: N connections with reconnect on, to a server that drops every connection
//!    after 1-3 s, for T seconds. Reconnects are counted, and live tokio tasks and open
//!    file handles are counted before and after (every session removed).
//!
//!     soak [--conns 50] [--rate 1000] [--secs 60] [--storm-secs 60]
//!
//! Prints figures and exits 1 if a frame is unaccounted for or tasks or handles leak.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use wsbench_core::{
    ConnState, ConnectConfig, EventBatch, EventSink, LocalServer, Opcode, Outgoing, ServerConfig, SessionManager,
};

#[derive(Default)]
struct Counts {
    opens: AtomicU64,
    batches: AtomicU64,
    dropped: AtomicU64,
}

impl EventSink for Counts {
    fn deliver(&self, b: EventBatch) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.dropped.fetch_add(b.dropped, Ordering::Relaxed);
        let opens = b.states.iter().filter(|s| s.state.is_open()).count();
        self.opens.fetch_add(opens as u64, Ordering::Relaxed);
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn pct(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize]
}

async fn wait_all(m: &SessionManager, ids: &[wsbench_core::SessionId], pred: impl Fn(&ConnState) -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if ids.iter().all(|id| m.get(*id).is_ok_and(|s| pred(&s.state()))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn load(conns: u64, rate: u64, secs: u64) -> bool {
    let server = LocalServer::start(ServerConfig::echo()).await.expect("echo server");
    let counts = Arc::new(Counts::default());
    let m = Arc::new(SessionManager::new(counts.clone()));
    let mut ids = Vec::new();
    for i in 0..conns {
        let mut c = ConnectConfig::new(server.url());
        c.log.max_frames = 20_000; // caps reached after ~10 s at 1,000 msg/s
        let id = m.create(format!("soak {i}"), c);
        m.connect(id).expect("connect");
        ids.push(id);
    }
    wait_all(&m, &ids, ConnState::is_open).await;
    let rss_start = rss_mib();
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for &id in &ids {
        let (m, sent) = (m.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut slow = Vec::new();
            let per_tick = (rate / 100).max(1);
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut n = 0u64;
            while started.elapsed() < Duration::from_secs(secs) {
                tick.tick().await;
                for _ in 0..per_tick {
                    let t = Instant::now();
                    if m.send(id, Outgoing::Text(format!("soak message {n} of {id}")))
                        .await
                        .is_ok()
                    {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    slow.push(t.elapsed().as_micros() as u64);
                    n += 1;
                }
                if n % rate.max(1) == 0 {
                    let _ = m.send(id, Outgoing::Ping(Bytes::from_static(b"rtt"))).await;
                }
            }
            slow
        }));
    }
    let mut rss = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        rss.push((started.elapsed().as_secs(), rss_mib()));
    }
    let mut send_us: Vec<u64> = Vec::new();
    for t in tasks {
        send_us.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = sent.load(Ordering::Relaxed);
    // Let the last echoes arrive.
    let t = Instant::now();
    let echoed = |m: &SessionManager| {
        ids.iter()
            .map(|id| {
                let s = m.get(*id).unwrap().log().stats();
                (s.frames_out, s.frames_in)
            })
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    while echoed(&m).1 < echoed(&m).0 && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut out_text, mut in_text, mut held, mut evicted, mut logged) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut rtts = Vec::new();
    for id in &ids {
        let s = m.get(*id).unwrap();
        let st = s.log().stats();
        held += st.held_frames;
        evicted += st.evicted_frames;
        logged += st.frames_in + st.frames_out;
        for f in s.log().page(0, usize::MAX) {
            match (f.direction, f.opcode) {
                (wsbench_core::Direction::Out, Opcode::Text) => out_text += 1,
                (wsbench_core::Direction::In, Opcode::Text) => in_text += 1,
                (wsbench_core::Direction::In, Opcode::Pong) if f.rtt_us > 0 => rtts.push(f.rtt_us as u64),
                _ => {}
            }
        }
    }
    let (frames_out, frames_in) = echoed(&m);
    let pings = ids.len() as u64 * (sent / ids.len().max(1) as u64 / rate.max(1));
    println!("load: {conns} connections x {rate} msg/s x {secs} s in one engine");
    println!(
        "  sent {sent} messages in {elapsed:.1} s ({:.0} msg/s); logged out {frames_out}, in {frames_in} \
         (pings/pongs included, about {pings} each)",
        sent as f64 / elapsed
    );
    println!(
        "  log: {logged} frames logged = {held} held + {evicted} evicted by the caps; {out_text} text out and \
         {in_text} text in still held"
    );
    println!(
        "  event batches {}, frame notifications dropped for a slow consumer {} (the log keeps them)",
        counts.batches.load(Ordering::Relaxed),
        counts.dropped.load(Ordering::Relaxed)
    );
    println!(
        "  send() latency: p50 {} us, p99 {} us, max {} us over {} sends",
        pct(&mut send_us, 0.5),
        pct(&mut send_us, 0.99),
        send_us.iter().max().copied().unwrap_or(0),
        send_us.len()
    );
    println!(
        "  ping round trip under load: p50 {} us, p99 {} us ({} pongs held)",
        pct(&mut rtts, 0.5),
        pct(&mut rtts, 0.99),
        rtts.len()
    );
    let rss_line: Vec<String> = rss.iter().map(|(s, r)| format!("{s}s {r:.0}")).collect();
    println!("  RSS MiB: start {rss_start:.0}; {}", rss_line.join(", "));
    let accounted = logged == held + evicted && frames_out == frames_in && frames_out >= sent;
    println!("  every frame accounted for: {accounted}");
    for id in ids {
        let _ = m.disconnect(id, 1000, "soak over");
    }
    m.shutdown(Duration::from_secs(5)).await;
    accounted
}

/// A server that upgrades and drops each connection after 1-3 s.
async fn dropping_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let life = Duration::from_millis(1000 + fastrand::u64(0..2000));
                let _ = tokio::time::timeout(life, async {
                    while let Some(Ok(m)) = ws.next().await {
                        if m.is_text() && ws.send(m).await.is_err() {
                            break;
                        }
                    }
                })
                .await;
                drop(ws); // no close frame: a dropped connection
            });
        }
    });
    addr
}

async fn storm(conns: u64, secs: u64) -> bool {
    let metrics = tokio::runtime::Handle::current().metrics();
    let addr = dropping_server().await;
    let counts = Arc::new(Counts::default());
    let m = Arc::new(SessionManager::new(counts.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (tasks_before, fds_before) = (metrics.num_alive_tasks(), open_fds());
    let mut ids = Vec::new();
    for i in 0..conns {
        let mut c = ConnectConfig::new(format!("ws://{addr}/"));
        c.reconnect.enabled = true;
        c.reconnect.max_attempts = 0;
        c.reconnect.initial_delay_ms = 100;
        c.reconnect.max_delay_ms = 2_000;
        let id = m.create(format!("storm {i}"), c);
        m.connect(id).expect("connect");
        ids.push(id);
    }
    let started = Instant::now();
    let mut peak_tasks = 0;
    let mut peak_fds = 0;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak_tasks = peak_tasks.max(metrics.num_alive_tasks());
        peak_fds = peak_fds.max(open_fds());
        for id in &ids {
            if m.get(*id).is_ok_and(|s| s.state().is_open()) {
                let _ = m.send(*id, Outgoing::Text("still here".into())).await;
            }
        }
    }
    for id in &ids {
        let _ = m.disconnect(*id, 1000, "storm over");
    }
    wait_all(&m, &ids, |s| {
        matches!(s, ConnState::Closed { .. } | ConnState::Failed { .. } | ConnState::Idle)
    })
    .await;
    for id in &ids {
        let _ = m.remove(*id);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (tasks_after, fds_after) = (metrics.num_alive_tasks(), open_fds());
    println!("storm: {conns} connections with reconnect on, server drops each after 1-3 s, {secs} s");
    println!(
        "  connections opened {} (reconnects {}), peak tasks {peak_tasks}, peak fds {peak_fds}",
        counts.opens.load(Ordering::Relaxed),
        counts.opens.load(Ordering::Relaxed).saturating_sub(conns)
    );
    println!(
        "  tokio tasks before {tasks_before}, after {tasks_after}; open files before {fds_before}, after {fds_after}"
    );
    let ok = tasks_after <= tasks_before && fds_after <= fds_before;
    println!("  no leaked tasks or file handles: {ok}");
    ok
}

#[tokio::main]
async fn main() {
    wsbench_core::install_crypto_provider();
    let conns = arg("--conns", 50);
    let a = load(conns, arg("--rate", 1000), arg("--secs", 60)).await;
    let b = storm(conns, arg("--storm-secs", 60)).await;
    if !(a && b) {
        std::process::exit(1);
    }
}
