//! Crash safety of the store: a child process (this test binary, re-run with an env var
//! so it acts as the writer) saves a connection, an environment (with a secret, so two
//! files) and the app's state file in a loop through the engine's own workspace and
//! restore APIs, and is killed with SIGKILL at random points. After every kill each
//! file must be exactly the old or the new version (never partial, empty or mixed), and
//! the next open must load everything with no problem.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wsbench_core::restore::{AppStateFile, Draft, TabState};
use wsbench_core::workspace::Workspace;
use wsbench_core::{ConnectConfig, Environment, SavedConnection, SavedMessage, Variable};

/// Set in the child: the folder to write in, and the first sequence number.
const WRITER_DIR: &str = "WSBENCH_CRASH_WRITER_DIR";
const WRITER_START: &str = "WSBENCH_CRASH_WRITER_START";
/// Saves (one round = a connection, an environment and the state file) to complete.
const ROUNDS: u64 = 1000;
const CONN_ID: &str = "crash/target.json";
const ENV_NAME: &str = "Crash";

/// A body that differs in every byte position between versions, big enough (~8 KiB)
/// that a kill often lands inside a write.
fn body(seq: u64) -> String {
    let unit = format!("<{seq:06}>");
    unit.repeat(1000)
}

fn connection(seq: u64) -> SavedConnection {
    let mut c = SavedConnection::new("Target", ConnectConfig::new(format!("ws://127.0.0.1:1/{seq}")));
    c.messages.push(SavedMessage::text("payload", body(seq)));
    c
}

fn environment(seq: u64) -> Environment {
    Environment {
        name: ENV_NAME.into(),
        variables: vec![
            Variable::new("seq", seq.to_string()),
            Variable::new("pad", body(seq)),
            Variable::secret("token", format!("secret-{seq}")),
        ],
        ..Environment::default()
    }
}

fn state(seq: u64) -> AppStateFile {
    AppStateFile {
        environment: Some(format!("{seq}")),
        tabs: vec![TabState {
            name: format!("tab {seq}"),
            config: ConnectConfig::new(format!("ws://127.0.0.1:1/{seq}")),
            draft: Draft {
                text: body(seq),
                ..Draft::default()
            },
            ..TabState::default()
        }],
        ..AppStateFile::default()
    }
}

/// The child's side: save forever (until killed), reporting each completed write.
#[test]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(WRITER_DIR) else {
        return; // an ordinary test run: nothing to do
    };
    let dir = PathBuf::from(dir);
    let start: u64 = std::env::var(WRITER_START).unwrap().parse().unwrap();
    let (mut ws, _) = Workspace::open(dir.join("ws")).unwrap();
    let out = std::io::stdout();
    let say = |line: String| {
        let mut o = out.lock();
        writeln!(o, "{line}").unwrap();
        o.flush().unwrap();
    };
    say("@@ready".into());
    for seq in start.. {
        ws.save_connection(CONN_ID, &connection(seq), None, true).unwrap();
        say(format!("@@saved conn {seq}"));
        ws.save_environment(&environment(seq), None, true).unwrap();
        say(format!("@@saved env {seq}"));
        state(seq).save(&dir.join("state.json")).unwrap();
        say(format!("@@saved state {seq}"));
    }
}

/// What the child last reported for each file (0: not written yet).
#[derive(Default, Debug, Clone, Copy)]
struct Done {
    conn: u64,
    env: u64,
    state: u64,
}

impl Done {
    /// Read a `@@saved <what> <seq>` report (libtest may print its own text before it).
    fn record(&mut self, line: &str) {
        let Some(at) = line.find("@@saved ") else {
            return;
        };
        let mut w = line[at + 8..].split_whitespace();
        let what = w.next().unwrap_or_default();
        let seq: u64 = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        match what {
            "conn" => self.conn = seq,
            "env" => self.env = seq,
            "state" => self.state = seq,
            _ => {}
        }
    }
}

/// Check one file's bytes: a complete version `seq` with `done <= seq <= done + 1`
/// (the write in flight may have been renamed in before the report). Returns the
/// problem, if any.
fn check_version(
    what: &str,
    bytes: Option<Vec<u8>>,
    done: u64,
    seq_of: impl Fn(&[u8]) -> Option<u64>,
) -> Option<String> {
    let Some(bytes) = bytes else {
        return (done > 0).then(|| format!("{what}: missing after version {done} was saved"));
    };
    if bytes.is_empty() {
        return Some(format!("{what}: empty"));
    }
    match seq_of(&bytes) {
        None => Some(format!("{what}: not a complete version ({} bytes)", bytes.len())),
        Some(seq) if seq == done || seq == done + 1 => None,
        Some(seq) => Some(format!("{what}: version {seq}, expected {done} or {}", done + 1)),
    }
}

fn conn_seq(bytes: &[u8]) -> Option<u64> {
    let c: SavedConnection = serde_json::from_slice(bytes).ok()?;
    let seq: u64 = c.config.url.rsplit('/').next()?.parse().ok()?;
    (c.messages.len() == 1 && c.messages[0].body == body(seq)).then_some(seq)
}

fn env_seq(bytes: &[u8]) -> Option<u64> {
    let e: Environment = serde_json::from_slice(bytes).ok()?;
    let seq: u64 = e.variables.iter().find(|v| v.name == "seq")?.value.parse().ok()?;
    let pad = e.variables.iter().find(|v| v.name == "pad")?;
    (pad.value == body(seq)).then_some(seq)
}

fn secrets_seq(bytes: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v["values"]["token"].as_str()?.strip_prefix("secret-")?.parse().ok()
}

fn state_seq(bytes: &[u8]) -> Option<u64> {
    let s: AppStateFile = serde_json::from_slice(bytes).ok()?;
    let seq: u64 = s.environment.as_deref()?.parse().ok()?;
    let tab = s.tabs.first()?;
    (tab.name == format!("tab {seq}") && tab.draft.text == body(seq)).then_some(seq)
}

/// Every file is old or new, and a fresh open loads it all with no problem.
fn verify(dir: &Path, done: Done) -> Vec<String> {
    let read = |p: PathBuf| fs::read(p).ok();
    let ws = dir.join("ws");
    let mut bad: Vec<String> = [
        check_version("connection", read(ws.join(CONN_ID)), done.conn, conn_seq),
        check_version(
            "environment",
            read(ws.join("environments/crash.json")),
            done.env,
            env_seq,
        ),
        check_version(
            "secrets",
            read(ws.join("environments/crash.secrets.json")),
            done.env,
            secrets_seq,
        ),
        check_version("state", read(dir.join("state.json")), done.state, state_seq),
    ]
    .into_iter()
    .flatten()
    .collect();
    match Workspace::open(&ws) {
        Ok((w, report)) => {
            bad.extend(report.problems.iter().map(|p| format!("open: {p}")));
            if done.conn > 0 && w.connection(CONN_ID).is_err() {
                bad.push("open: the connection did not load".into());
            }
            if done.env > 0 && w.environment(ENV_NAME).is_err() {
                bad.push("open: the environment did not load".into());
            }
        }
        Err(e) => bad.push(format!("open: {e}")),
    }
    if let Some(p) = AppStateFile::load(&dir.join("state.json")).problem {
        bad.push(format!("state load: {p}"));
    }
    bad
}

/// Temp files that killed writes left behind (loaders skip them).
fn leftover_temps(dir: &Path) -> usize {
    temp_paths(dir).len()
}

fn temp_paths(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if wsbench_core::fs::is_temp_file(&p) {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, &mut v);
    v
}

fn temp_names(dir: &Path) -> Vec<String> {
    temp_paths(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn age_temps(dir: &Path) {
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for p in temp_paths(dir) {
        let f = fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(long_ago).unwrap();
    }
}

#[test]
fn saves_killed_at_random_points_leave_old_or_new_files_and_load() {
    // A RAM-backed folder when there is one: a SIGKILL leaves the page cache as it was,
    // so atomicity against a killed process is the same, without a disk's fsync cost.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("wsbench-crash-{:016x}", fastrand::u64(..)));
    fs::create_dir_all(&dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let (mut done, mut kills, mut corrupt) = (Done::default(), 0u64, Vec::new());
    while done.state < ROUNDS {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "crash test overran: {done:?}"
        );
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_DIR, &dir)
            .env(WRITER_START, (done.state + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Mostly kill while saving; now and then during start-up (the open writes too).
        if fastrand::u8(..10) > 0 {
            for l in lines.by_ref() {
                let l = l.unwrap();
                done.record(&l);
                if l.ends_with("@@ready") {
                    break;
                }
            }
            std::thread::sleep(Duration::from_micros(fastrand::u64(0..30_000)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        for l in lines {
            done.record(&l.unwrap());
        }
        corrupt.extend(
            verify(&dir, done)
                .into_iter()
                .map(|p| format!("after kill {kills}: {p}")),
        );
        // The next writer starts from the last complete round; files one ahead are fine.
        done.conn = done.conn.min(done.state);
        done.env = done.env.min(done.state);
    }
    let temps = leftover_temps(&dir);
    // The next save of each file sweeps its old leftovers (aged here by hand).
    age_temps(&dir);
    let (mut ws, _) = Workspace::open(dir.join("ws")).unwrap();
    let seq = done.state + 1;
    ws.save_connection(CONN_ID, &connection(seq), None, true).unwrap();
    ws.save_environment(&environment(seq), None, true).unwrap();
    state(seq).save(&dir.join("state.json")).unwrap();
    let swept = temps - leftover_temps(&dir);
    println!(
        "crash safety: {ROUNDS} rounds of saves (connection, environment + secrets, state), {kills} SIGKILLs, \
         {} corrupt files, {temps} temp files left behind ({swept} swept by the next saves), {:.1} s",
        corrupt.len(),
        started.elapsed().as_secs_f64()
    );
    let saved_names = [".target.json", ".crash.json", ".crash.secrets.json", ".state.json"];
    let unswept = temp_names(&dir);
    assert!(
        !unswept.iter().any(|n| saved_names.iter().any(|s| n.starts_with(s))),
        "{unswept:?}"
    );
    assert!(corrupt.is_empty(), "{corrupt:#?}");
    assert!(kills >= 20, "too few kills to mean anything: {kills}");
    fs::remove_dir_all(&dir).unwrap();
}
