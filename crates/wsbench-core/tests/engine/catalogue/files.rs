//! File rows: corrupt, mistyped, future, huge, binary, unreadable and unwritable files
//! and folders, a full disk and names Windows cannot store, across the workspace, the
//! app's state file, imports and log files. Each row runs in its own workspace that
//! holds one good connection, which must still load (and a new one save) afterwards.

use std::fs;
use std::path::{Path, PathBuf};

use wsbench_core::restore::AppStateFile;
use wsbench_core::workspace::Workspace;
use wsbench_core::{ConnectConfig, Error, SavedConnection, SavedMessage};

use super::{check, Seen};

type Action = fn(&Path) -> Seen;

pub struct Row {
    pub name: &'static str,
    pub action: Action,
    pub kind: &'static str,
    pub message: &'static str,
}

fn row(name: &'static str, action: Action, kind: &'static str, message: &'static str) -> Row {
    Row {
        name,
        action,
        kind,
        message,
    }
}

/// The table. One line per row; `{path}` is the row's folder.
pub fn rows() -> Vec<Row> {
    vec![
        // --- workspace files: reported with path and position, never rewritten
        row("connection: corrupt JSON", |d| load(d, "bad.json", b"{\"version\": 2,\n  \"name\": "), "Problem", "cannot read \"bad.json\" (line 2, column 10): EOF while parsing a value"),
        row("connection: wrong types", |d| load(d, "typed.json", br#"{"version": 2, "name": 5}"#), "Problem", "cannot read \"typed.json\" (line 1, column *): *invalid type: integer `5`, expected a string*"),
        row("connection: future version", |d| load(d, "future.json", br#"{"version": 99, "name": "x"}"#), "Problem", "cannot read \"future.json\"*: *newer*"),
        row("connection: binary garbage", |d| load(d, "garbage.json", &[0, 159, 146, 150, 255, 0xfe]), "Problem", "cannot read \"garbage.json\" (line 1, column *): *"),
        row("connection: empty file", |d| load(d, "empty.json", b""), "Problem", "cannot read \"empty.json\" (line 1, column 0): EOF while parsing a value"),
        row("connection: huge file (17 MiB)", huge_connection, "Problem", "cannot read \"huge.json\": it is larger than 16 MiB, the most wsbench reads from such a file"),
        row("connection: unreadable file", unreadable_connection, "Problem", "cannot read \"locked.json\": *"),
        row("environment: corrupt JSON", |d| load(d, "environments/dev.json", b"{\"name\": \"dev\",\n\"variables\": [}"), "Problem", "cannot read \"environments/dev.json\" (line 2, column *): *"),
        row("environment: wrong types", |d| load(d, "environments/dev.json", br#"{"name": "dev", "variables": {"a": 1}}"#), "Problem", "cannot read \"environments/dev.json\" (line 1, column *): *invalid type*"),
        row("environment: corrupt secrets file", corrupt_secrets, "Problem", "cannot read \"environments/dev.secrets.json\" (line 1, column *): *"),
        row("workspace marker: corrupt", |d| load(d, "wsbench-workspace.json", b"[1, 2"), "Problem", "cannot read \"wsbench-workspace.json\" (line 1, column *): *"),
        // --- writes that cannot happen: worded errors, nothing half-written
        row("save into a read-only folder", read_only_folder, "File", "cannot use \"*locked*\": *"),
        row("save on a full disk", full_disk, "File", "cannot use \"*\": the disk is full"),
        // --- names Windows cannot store
        row("collection named CON", |d| create_collection(d, "CON"), "InvalidName", "\"CON\" is not a valid collection: *"),
        row("collection with a colon", |d| create_collection(d, "a:b"), "InvalidName", "\"a:b\" is not a valid collection: *"),
        row("collection with < and >", |d| create_collection(d, "<tmp>"), "InvalidName", "\"<tmp>\" is not a valid collection: *"),
        row("collection ending in a dot", |d| create_collection(d, "notes."), "InvalidName", "\"notes.\" is not a valid collection: *"),
        row("collection with a backslash", |d| create_collection(d, "a\\b"), "InvalidName", "\"a\\\\b\" is not a valid collection: *"),
        row("collection named lpt1.txt", |d| create_collection(d, "lpt1.txt"), "InvalidName", "\"lpt1.txt\" is not a valid collection: CON, PRN, AUX, NUL, COM0-9 and LPT0-9 are device names on Windows"),
        row("collection with ..", |d| create_collection(d, "../outside"), "InvalidName", "\"../outside\" is not a valid collection: *"),
        row("connection named AUX gets a safe file name", |d| create_named(d, "AUX"), "Saved", "aux-connection.json"),
        row("connection named with | and ?", |d| create_named(d, "what|is?"), "Saved", "what-is.json"),
        // --- the app's state file: kept aside, defaults used
        row("state: corrupt JSON", |d| state(d, b"{\"version\": 1,\n\"tabs\": [oops"), "Parse", "cannot read \"{path}/state.json\" (line 2, column 10): expected value at line 2 column 10; the file was kept as {path}/state.corrupt-*.json"),
        row("state: wrong types", |d| state(d, br#"{"tabs": "none"}"#), "Parse", "cannot read \"{path}/state.json\" (line 1, column *): invalid type: string \"none\", expected a sequence*; the file was kept as *"),
        row("state: future version", |d| state(d, br#"{"version": 7}"#), "Parse", "cannot read \"{path}/state.json\": it was written by a newer wsbench (format version 7; this one reads up to 1); the file was kept as *"),
        row("state: binary garbage", |d| state(d, &[0xff, 0xd8, 0xff, 0xe0, 0, 16]), "Parse", "cannot read \"{path}/state.json\" (line 1, column *): *; the file was kept as *"),
        row("state: huge file (17 MiB)", huge_state, "File", "cannot use \"{path}/state.json\": it is larger than 16 MiB, the most wsbench reads from such a file"),
        // --- imports and logs from outside
        row("import: not a collection", |d| import(d, "notes.json", b"{\"hello\": 1}"), "Parse", "cannot read \"{path}/notes.json\"*: *"),
        row("import: binary garbage", |d| import(d, "blob.yaml", &[0, 1, 2, 0xff, 0xfe]), "File", "cannot use \"{path}/blob.yaml\": stream did not contain valid UTF-8"),
        row("import: huge file (65 MiB)", huge_import, "File", "cannot use \"{path}/big.json\": it is larger than 64 MiB, the most wsbench reads from such a file"),
        row("log: NDJSON with a bad line", bad_ndjson, "Parse", "cannot read \"{path}/log.ndjson\" (line 4, column *): *"),
        row("log: HAR that is not JSON", |d| log(d, "log.har", b"<html>not a HAR</html>"), "Parse", "cannot read \"{path}/log.har\"*: *"),
    ]
}

fn write(d: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = d.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, bytes).unwrap();
    p
}

fn of_error(e: &Error) -> Seen {
    Seen {
        kind: format!("{:?}", e.kind()),
        message: e.to_string(),
    }
}

fn ok(what: impl Into<String>) -> Seen {
    Seen {
        kind: "Saved".into(),
        message: what.into(),
    }
}

/// Write `rel` and open the workspace: the row's problem (there must be exactly one).
fn load(d: &Path, rel: &str, bytes: &[u8]) -> Seen {
    write(d, rel, bytes);
    problem(d)
}

fn problem(d: &Path) -> Seen {
    match Workspace::open(d) {
        Ok((_, report)) if report.problems.len() == 1 => Seen {
            kind: "Problem".into(),
            message: report.problems[0].to_string(),
        },
        Ok((_, report)) => Seen {
            kind: format!("{} problems", report.problems.len()),
            message: format!("{:?}", report.problems),
        },
        Err(e) => of_error(&e),
    }
}

fn sparse(p: &Path, len: u64) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::File::create(p).unwrap().set_len(len).unwrap();
}

fn huge_connection(d: &Path) -> Seen {
    sparse(&d.join("huge.json"), 17 << 20);
    problem(d)
}

fn unreadable_connection(d: &Path) -> Seen {
    // Root reads anything: a link to nowhere stands in for a file it cannot read.
    std::os::unix::fs::symlink(d.join("nowhere.txt"), d.join("locked.json")).unwrap();
    problem(d)
}

fn corrupt_secrets(d: &Path) -> Seen {
    write(
        d,
        "environments/dev.json",
        br#"{"version": 1, "name": "dev", "variables": []}"#,
    );
    load(d, "environments/dev.secrets.json", b"{\"values\": ")
}

/// As root (who ignores permissions) the folder becomes a link into /sys/kernel,
/// where nobody may create files; otherwise chmod 0555.
fn read_only_folder(d: &Path) -> Seen {
    use std::os::unix::fs::PermissionsExt;
    let (mut ws, _) = Workspace::open(d).unwrap();
    ws.create_collection("locked").unwrap();
    let dir = d.join("locked");
    let root = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if root {
        fs::remove_dir(&dir).unwrap();
        std::os::unix::fs::symlink("/sys/kernel", &dir).unwrap();
    } else {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let r = ws.save_connection("locked/x.json", &conn("x", 0), None, false);
    if root {
        fs::remove_file(&dir).unwrap();
    } else {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    r.map_or_else(|e| of_error(&e), |s| ok(s.id))
}

/// A 256 KiB tmpfs where root may mount one; else the error an ENOSPC write gives.
fn full_disk(d: &Path) -> Seen {
    let mnt = d.join("small");
    fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let e = std::io::Error::from_raw_os_error(28);
        return of_error(&Error::io(mnt.join("x.json"), &e));
    }
    let seen = match Workspace::open(&mnt) {
        Ok((mut ws, _)) => {
            let r = ws.save_connection("big.json", &conn("big", 1 << 20), None, false);
            let left: Vec<_> = fs::read_dir(&mnt).unwrap().flatten().map(|e| e.file_name()).collect();
            match r {
                Err(e) if !left.iter().any(|n| n.to_string_lossy().contains("big")) => of_error(&e),
                Err(e) => ok(format!("{e}, but left {left:?}")),
                Ok(s) => ok(s.id),
            }
        }
        Err(e) => of_error(&e),
    };
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    seen
}

fn create_collection(d: &Path, name: &str) -> Seen {
    let (mut ws, _) = Workspace::open(d).unwrap();
    ws.create_collection(name).map_or_else(|e| of_error(&e), ok)
}

fn create_named(d: &Path, name: &str) -> Seen {
    let (mut ws, _) = Workspace::open(d).unwrap();
    ws.create_connection("", &conn(name, 0))
        .map_or_else(|e| of_error(&e), |s| ok(s.id))
}

fn state(d: &Path, bytes: &[u8]) -> Seen {
    let p = write(d, "state.json", bytes);
    let loaded = AppStateFile::load(&p);
    match loaded.problem {
        Some(e) => of_error(&e),
        None => ok("loaded"),
    }
}

fn huge_state(d: &Path) -> Seen {
    sparse(&d.join("state.json"), 17 << 20);
    match AppStateFile::load(&d.join("state.json")).problem {
        Some(e) => of_error(&e),
        None => ok("loaded"),
    }
}

fn import(d: &Path, name: &str, bytes: &[u8]) -> Seen {
    let p = write(d, name, bytes);
    wsbench_core::import::import_path(&p).map_or_else(|e| of_error(&e), |_| ok("imported"))
}

fn huge_import(d: &Path) -> Seen {
    let p = d.join("big.json");
    sparse(&p, 65 << 20);
    let r = wsbench_core::import::import_path(&p);
    fs::remove_file(&p).unwrap();
    r.map_or_else(|e| of_error(&e), |_| ok("imported"))
}

fn log(d: &Path, name: &str, bytes: &[u8]) -> Seen {
    let p = write(d, name, bytes);
    wsbench_core::read_log_file(&p).map_or_else(|e| of_error(&e), |_| ok("read"))
}

fn bad_ndjson(d: &Path) -> Seen {
    // The golden export's first lines, then a broken one.
    let golden = include_str!("../fixtures/export/golden.ndjson");
    let mut text: String = golden.lines().take(3).flat_map(|l| [l, "\n"]).collect();
    text.push_str("{\"seq\": 4, oops}\n");
    log(d, "log.ndjson", text.as_bytes())
}

fn conn(name: &str, pad: usize) -> SavedConnection {
    let mut c = SavedConnection::new(name, ConnectConfig::new("ws://127.0.0.1:1/"));
    if pad > 0 {
        c.messages.push(SavedMessage::text("pad", "x".repeat(pad)));
    }
    c
}

/// After a row: the good connection still loads, and a new one saves and loads.
fn still_works(d: &Path, name: &str) -> Option<String> {
    let (mut ws, _) = match Workspace::open(d) {
        Ok(w) => w,
        Err(e) => return Some(format!("{name}: the workspace no longer opens: {e}")),
    };
    if ws.connection("good.json").map(|l| l.connection.name).ok().as_deref() != Some("good") {
        return Some(format!("{name}: the good connection was lost"));
    }
    if let Err(e) = ws.create_connection("after", &conn("after", 0)) {
        return Some(format!("{name}: cannot save afterwards: {e}"));
    }
    let (ws, _) = Workspace::open(d).ok()?;
    ws.connection("after/after.json")
        .is_err()
        .then(|| format!("{name}: what was saved afterwards does not load"))
}

/// Run every row in its own folder; returns the row count and mismatches.
pub fn run() -> (usize, Vec<String>) {
    let base = std::env::temp_dir().join(format!("wsbench-catalogue-{:016x}", fastrand::u64(..)));
    let rows = rows();
    let mut bad = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let d = base.join(format!("row-{i}"));
        let (mut ws, _) = Workspace::open(&d).unwrap();
        ws.save_connection("good.json", &conn("good", 0), None, false).unwrap();
        drop(ws);
        let seen = (r.action)(&d);
        let vars = [("path", d.display().to_string())];
        bad.extend(check(r.name, &seen, r.kind, r.message, &vars));
        bad.extend(still_works(&d, r.name));
    }
    let _ = fs::remove_dir_all(&base);
    (rows.len(), bad)
}
