//! The workspace file store: round trips, the exact bytes on disk, conflicts with
//! outside edits, corrupt files, migrations with backups, secrets, undo, crashes and
//! read-only folders. Every test works in its own temp folder.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wsbench_core::config::{
    ApiKeyPlacement, Auth, Keepalive, KeyValue, Limits, LogLimits, Reconnect, Timeouts, TlsConfig,
};
use wsbench_core::workspace::revision;
use wsbench_core::workspace::{ChangeKind, ExternalChange, ItemKind, Workspace};
use wsbench_core::{
    ConnectConfig, Environment, Error, ErrorKind, MessageFormat, SavedConnection, SavedMessage, Variable,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engine/fixtures/collections");

/// A temp folder removed at the end (permissions restored first).
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("wsbench-store-{tag}-{:016x}", fastrand::u64(..)));
        fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
    fn at(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.at(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.at(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    fn fixture(&self, name: &str, rel: &str) {
        self.write(rel, &fixture(name));
    }
    fn exists(&self, rel: &str) -> bool {
        self.at(rel).exists()
    }
    fn open(&self) -> Workspace {
        Workspace::open(&self.0).unwrap().0
    }
    /// Every file under the folder, relative, sorted.
    fn files(&self) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut v = Vec::new();
        walk(&self.0, &self.0, &mut v);
        v.sort();
        v
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fn writable(p: &Path) {
                if let Ok(m) = fs::symlink_metadata(p) {
                    if m.is_dir() {
                        let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
                        for e in fs::read_dir(p).into_iter().flatten().flatten() {
                            writable(&e.path());
                        }
                    }
                }
            }
            writable(&self.0);
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fixture(name: &str) -> String {
    fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// A connection with every field set away from its default.
fn full_connection() -> SavedConnection {
    let mut config = ConnectConfig::new("wss://echo.example/socket?room=1")
        .header("X-Trace", "1")
        .param("debug", "true");
    config.params.push(KeyValue {
        name: "verbose".into(),
        value: "2".into(),
        enabled: false,
    });
    config.subprotocols = vec!["chat.v2".into(), "chat.v1".into()];
    config.origin = Some("https://app.example".into());
    config.auth = Auth::ApiKey {
        name: "X-Key".into(),
        value: "{{apiKey}}".into(),
        placement: ApiKeyPlacement::Query,
    };
    config.tls = TlsConfig {
        system_roots: false,
        webpki_roots: true,
        ca_file: Some("certs/ca.pem".into()),
        client_cert_file: Some("certs/client.pem".into()),
        client_key_file: Some("certs/client.key".into()),
        accept_invalid_certs: true,
    };
    config.timeouts = Timeouts {
        connect_ms: 5_000,
        handshake_ms: 3_000,
    };
    config.limits = Limits {
        max_message_size: 1 << 20,
        max_frame_size: 1 << 16,
    };
    config.log = LogLimits {
        max_frames: 10_000,
        max_bytes: 1 << 24,
    };
    config.keepalive = Keepalive {
        ping_interval_ms: 30_000,
        auto_pong: false,
        dead_after_ms: 90_000,
    };
    config.reconnect = Reconnect {
        enabled: true,
        max_attempts: 0,
        initial_delay_ms: 250,
        max_delay_ms: 10_000,
    };
    SavedConnection {
        messages: vec![
            SavedMessage::text("Hello", "hello {{user}}"),
            SavedMessage {
                name: "Subscribe".into(),
                format: MessageFormat::Json,
                body: r#"{"op":"subscribe","channel":"ticker"}"#.into(),
                send_on_connect: true,
            },
            SavedMessage {
                name: "Raw".into(),
                format: MessageFormat::Hex,
                body: "01 02 ff".into(),
                send_on_connect: false,
            },
            SavedMessage {
                name: "Blob".into(),
                format: MessageFormat::Base64,
                body: "AQL/".into(),
                send_on_connect: false,
            },
        ],
        ..SavedConnection::new("Echo server", config)
    }
}

/// A scenario using every key the schema declares for one.
fn full_scenario() -> wsbench_core::collections::scenario::Scenario {
    serde_json::from_value(serde_json::json!({
        "timeoutMs": 30000,
        "stepTimeoutMs": 2000,
        "steps": [
            {"type": "send", "message": "Hello"},
            {"type": "send", "text": "t"},
            {"type": "send", "json": {"a": 1}},
            {"type": "send", "hex": "01"},
            {"type": "send", "base64": "AQ=="},
            {"type": "send", "event": "chat", "args": ["hi"], "namespace": "/"},
            {"type": "expect", "equals": "e", "contains": "c", "regex": "r", "json": {"a": 1},
             "pointer": "/a", "pointerEquals": 1, "hex": "01", "event": "chat", "args": [1],
             "none": true, "timeoutMs": 10},
            {"type": "expect", "strict": true},
            {"type": "capture", "name": "tok", "pointer": "/token"},
            {"type": "capture", "name": "id", "regex": "id=(\\d+)", "group": 1},
            {"type": "wait", "ms": 5},
            {"type": "close", "code": 4000, "reason": "bye"},
            {"type": "expectClose", "code": 4000, "timeoutMs": 100},
            {"type": "repeat", "times": 2, "everyMs": 10, "forMs": 100, "steps": [{"type": "wait", "ms": 1}]}
        ]
    }))
    .unwrap()
}

fn conn(name: &str) -> SavedConnection {
    SavedConnection::new(name, ConnectConfig::new("ws://127.0.0.1:9001/"))
}

fn tree_ids(ws: &Workspace) -> Vec<String> {
    fn walk(n: &wsbench_core::workspace::CollectionNode, out: &mut Vec<String>) {
        out.extend(n.connections.iter().map(|c| c.id.clone()));
        for c in &n.collections {
            walk(c, out);
        }
    }
    let mut v = Vec::new();
    walk(&ws.tree().root, &mut v);
    v
}

fn change(path: &str, kind: ChangeKind, item: ItemKind) -> ExternalChange {
    ExternalChange {
        path: path.into(),
        kind,
        item,
    }
}

/// Root ignores file permissions; read the effective uid without libc.
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Make `dir` refuse new files for real: chmod 0555 for a normal user; as root (who
/// ignores permissions) replace it with a link to /sys/kernel, where nobody may create
/// files. Returns a function that undoes it.
#[cfg(unix)]
fn make_unwritable(dir: &Path) -> impl FnOnce() {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir.to_path_buf();
    if running_as_root() {
        let aside = dir.with_extension("aside");
        fs::rename(&dir, &aside).unwrap();
        std::os::unix::fs::symlink("/sys/kernel", &dir).unwrap();
        Box::new(move || {
            fs::remove_file(&dir).unwrap();
            fs::rename(&aside, &dir).unwrap();
        }) as Box<dyn FnOnce()>
    } else {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        Box::new(move || fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap())
    }
}

// --- opening ----------------------------------------------------------------------

#[test]
fn a_new_workspace_gets_its_marker_gitignore_and_environments_folder() {
    let t = Temp::new("new");
    let root = t.at("My APIs");
    let (ws, report) = Workspace::open(&root).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(ws.name(), "My APIs");
    assert_eq!(
        fs::read_to_string(root.join("wsbench-workspace.json")).unwrap(),
        "{\n  \"version\": 1,\n  \"name\": \"My APIs\"\n}\n"
    );
    let gitignore = fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "*.secrets.json"), "{gitignore}");
    assert!(root.join("environments").is_dir());
    assert!(ws.tree().root.connections.is_empty() && ws.tree().root.collections.is_empty());

    // An existing .gitignore is appended to, once, keeping what it had.
    let t2 = Temp::new("gitignore");
    t2.write(".gitignore", "target/\n*.log");
    t2.write("wsbench-workspace.json", "{\"version\": 1, \"name\": \"Team\"}");
    let ws = t2.open();
    assert_eq!(ws.name(), "Team", "the marker's name wins over the folder name");
    let g = t2.read(".gitignore");
    assert!(g.starts_with("target/\n*.log\n"), "{g}");
    assert_eq!(g.matches("*.secrets.json").count(), 1);
    t2.open();
    assert_eq!(t2.read(".gitignore"), g, "reopening adds nothing");
    assert_eq!(
        t2.read("wsbench-workspace.json"),
        "{\"version\": 1, \"name\": \"Team\"}",
        "an existing marker is never rewritten"
    );
}

#[test]
fn opening_a_file_or_an_unwritable_folder_is_a_clear_error() {
    let t = Temp::new("open-err");
    t.write("notes.txt", "x");
    let e = Workspace::open(t.at("notes.txt")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::File);
    assert!(
        e.to_string().contains("notes.txt") && e.to_string().contains("is a file, not a folder"),
        "{e}"
    );

    #[cfg(unix)]
    {
        fs::create_dir(t.at("locked")).unwrap();
        let undo = make_unwritable(&t.at("locked"));
        let e = Workspace::open(t.at("locked").join("ws")).unwrap_err();
        undo();
        let msg = e.to_string();
        assert!(msg.contains("read-only") || msg.contains("permission denied"), "{msg}");
        assert!(msg.contains("locked"), "names the path: {msg}");
    }
}

// --- the format on disk -------------------------------------------------------------

#[test]
fn a_connection_file_is_pretty_stable_json_that_round_trips() {
    let t = Temp::new("roundtrip");
    let mut ws = t.open();
    let saved = ws.create_connection("chat", &full_connection()).unwrap();
    assert_eq!(saved.id, "chat/echo-server.json");
    // Byte for byte what a user sees in `git diff`: 2-space indent, struct order, final newline.
    assert_eq!(t.read("chat/echo-server.json"), fixture("echo-server.json"));
    assert_eq!(saved.revision, revision(fixture("echo-server.json").as_bytes()));

    // Saving the same value again gives the same bytes and the same revision.
    let again = ws
        .save_connection(&saved.id, &full_connection(), Some(&saved.revision), false)
        .unwrap();
    assert_eq!(again.revision, saved.revision);
    assert_eq!(t.read("chat/echo-server.json"), fixture("echo-server.json"));

    // A fresh open reads back exactly what was saved.
    let (ws2, report) = Workspace::open(&t.0).unwrap();
    assert!(report.problems.is_empty() && report.migrated.is_empty());
    let loaded = ws2.connection("chat/echo-server.json").unwrap();
    assert_eq!(loaded.connection, full_connection());
    assert_eq!(loaded.revision, saved.revision);
    assert_eq!(loaded.migrated_from, None);
}

#[test]
fn names_become_unique_slug_file_names_in_nested_collections() {
    let t = Temp::new("slugs");
    let mut ws = t.open();
    assert_eq!(ws.create_connection("", &conn("Echo")).unwrap().id, "echo.json");
    assert_eq!(ws.create_connection("", &conn("echo")).unwrap().id, "echo-2.json");
    assert_eq!(
        ws.create_connection("chat/rooms", &conn("Chat / Rooms: #general!"))
            .unwrap()
            .id,
        "chat/rooms/chat-rooms-general.json"
    );
    // A name with nothing to slug falls back to "connection"; an empty name is refused.
    assert_eq!(ws.create_connection("", &conn("!!!")).unwrap().id, "connection.json");
    assert_eq!(
        ws.create_connection("", &conn("")).unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    // The marker's name is never taken by a connection.
    assert_eq!(
        ws.create_connection("", &conn("wsbench workspace")).unwrap().id,
        "wsbench-workspace-2.json"
    );
    assert!(t.read("wsbench-workspace.json").contains("\"version\": 1"));
    // Reserved or unsafe collection names are refused before anything is written.
    for bad in ["environments", "../outside", ".hidden", "a:b"] {
        let e = ws.create_connection(bad, &conn("x")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad}: {e}");
    }
    assert!(!t.exists("../outside"));
}

#[test]
fn the_tree_nests_collections_sorts_by_name_and_filters() {
    let t = Temp::new("tree");
    let mut ws = t.open();
    ws.create_connection("", &conn("zeta")).unwrap();
    ws.create_connection("", &conn("Alpha")).unwrap();
    let mut with_msgs = conn("Ticker feed");
    with_msgs.messages = vec![SavedMessage::text("a", "1"), SavedMessage::text("b", "2")];
    ws.create_connection("markets/crypto", &with_msgs).unwrap();
    ws.create_connection("markets", &conn("Stocks")).unwrap();
    ws.create_collection("empty").unwrap();
    ws.save_environment(
        &Environment {
            name: "staging".into(),
            ..Environment::default()
        },
        None,
        false,
    )
    .unwrap();

    let tree = ws.tree();
    let names: Vec<&str> = tree.root.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "zeta"], "case-insensitive order");
    let cols: Vec<&str> = tree.root.collections.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(cols, ["empty", "markets"]);
    let markets = &tree.root.collections[1];
    assert_eq!(markets.connections[0].name, "Stocks");
    let crypto = &markets.collections[0];
    assert_eq!(
        (crypto.path.as_str(), crypto.name.as_str()),
        ("markets/crypto", "crypto")
    );
    assert_eq!(crypto.connections[0].id, "markets/crypto/ticker-feed.json");
    assert_eq!(crypto.connections[0].collection, "markets/crypto");
    assert_eq!(crypto.connections[0].messages, 2);
    assert_eq!(tree.environments, ["staging"]);

    let f = tree.filter("TICK");
    assert!(f.root.connections.is_empty());
    assert_eq!(f.root.collections.len(), 1);
    assert_eq!(f.root.collections[0].connections.len(), 0, "Stocks does not match");
    assert_eq!(f.root.collections[0].collections[0].connections[0].name, "Ticker feed");
    let f = tree.filter("markets");
    assert_eq!(
        f.root.collections[0].collections.len(),
        1,
        "a matching collection keeps its contents"
    );
    assert_eq!(tree.filter("  ").root, tree.root);
    assert!(tree.filter("nothing like it").root.collections.is_empty());
}

// --- conflicts and outside changes ----------------------------------------------------

#[test]
fn a_save_never_silently_overwrites_an_outside_edit_or_delete() {
    let t = Temp::new("conflict");
    let mut ws = t.open();
    let saved = ws.create_connection("", &conn("Echo")).unwrap();
    let base = ws.connection(&saved.id).unwrap().revision;
    assert_eq!(base, saved.revision);

    // Someone edits the file in a text editor while the app has unsaved edits.
    let outside = t.read("echo.json").replace("Echo", "Echo (edited in vim)");
    t.write("echo.json", &outside);
    let mut mine = conn("Echo");
    mine.config.url = "ws://mine/".into();
    let e = ws.save_connection(&saved.id, &mine, Some(&base), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(
        e.to_string().contains("echo.json") && e.to_string().contains("changed on disk"),
        "{e}"
    );
    assert_eq!(t.read("echo.json"), outside, "nothing written");

    // No base revision means "a new file": refused too, since the file exists.
    let e = ws.save_connection(&saved.id, &mine, None, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);

    // After a rescan the app holds the outside version as its base and may save.
    assert_eq!(
        ws.rescan(),
        [change("echo.json", ChangeKind::Modified, ItemKind::Connection)]
    );
    let reloaded = ws.connection(&saved.id).unwrap();
    assert_eq!(reloaded.connection.name, "Echo (edited in vim)");
    let s = ws
        .save_connection(&saved.id, &mine, Some(&reloaded.revision), false)
        .unwrap();
    assert!(t.read("echo.json").contains("ws://mine/"));

    // Deleted outside: a conflict; forcing recreates it.
    fs::remove_file(t.at("echo.json")).unwrap();
    let e = ws
        .save_connection(&saved.id, &mine, Some(&s.revision), false)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(!t.exists("echo.json"));
    ws.save_connection(&saved.id, &mine, Some(&s.revision), true).unwrap();
    assert!(t.read("echo.json").contains("ws://mine/"));

    // Renaming works from the store's copy, so it also refuses to drop an outside edit.
    t.write("echo.json", &t.read("echo.json").replace("mine", "theirs!"));
    assert_eq!(
        ws.rename_connection(&saved.id, "Other").unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert!(t.read("echo.json").contains("theirs!"));
}

#[test]
fn rescan_reports_and_reloads_what_changed_outside_the_app() {
    let t = Temp::new("rescan");
    let mut ws = t.open();
    let keep = ws.create_connection("", &conn("Keep")).unwrap();
    ws.create_connection("chat", &conn("Gone")).unwrap();
    assert!(ws.rescan().is_empty(), "the store's own writes are not outside changes");

    t.write("chat/new.json", &fixture("v1-no-version.json"));
    t.write(
        "added/x.json",
        &serde_json::to_string(&conn("In a new folder")).unwrap(),
    );
    fs::remove_file(t.at("chat/gone.json")).unwrap();
    t.write(
        "keep.json",
        &t.read("keep.json").replace("\"Keep\"", "\"Kept, edited\""),
    );
    t.write(
        "environments/local.json",
        r#"{"version":1,"name":"local","variables":[]}"#,
    );
    t.write("chat/.hidden.json", "{}");
    t.write("chat/notes.md", "not a connection");
    t.write("chat/.gone.json.wsbench-tmp-1234abcd", "{\"half");

    let changes = ws.rescan();
    assert_eq!(
        changes,
        [
            change("added", ChangeKind::Added, ItemKind::Collection),
            change("added/x.json", ChangeKind::Added, ItemKind::Connection),
            change("chat/gone.json", ChangeKind::Removed, ItemKind::Connection),
            change("chat/new.json", ChangeKind::Added, ItemKind::Connection),
            change("environments/local.json", ChangeKind::Added, ItemKind::Environment),
            change("keep.json", ChangeKind::Modified, ItemKind::Connection),
        ]
    );
    assert_eq!(
        tree_ids(&ws),
        ["keep.json", "added/x.json", "chat/new.json"],
        "the tree shows the disk"
    );
    assert_eq!(ws.connection(&keep.id).unwrap().connection.name, "Kept, edited");
    assert_eq!(ws.connection("chat/new.json").unwrap().migrated_from, Some(1));
    assert!(ws.connection("chat/gone.json").is_err());
    assert_eq!(ws.tree().environments, ["local"]);
    assert!(ws.rescan().is_empty(), "nothing new");

    // Same bytes with a new mtime (a `touch`, a git checkout) is not a change.
    let bytes = fs::read(t.at("keep.json")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(t.at("keep.json"), &bytes).unwrap();
    assert!(ws.rescan().is_empty());

    fs::remove_dir_all(t.at("added")).unwrap();
    assert_eq!(
        ws.rescan(),
        [
            change("added", ChangeKind::Removed, ItemKind::Collection),
            change("added/x.json", ChangeKind::Removed, ItemKind::Connection),
        ]
    );
}

// --- problems -------------------------------------------------------------------------

#[test]
fn a_file_that_fails_to_parse_is_reported_with_its_line_left_untouched_and_the_rest_loads() {
    let t = Temp::new("corrupt");
    t.fixture("bad-json.json", "broken/bad.json");
    t.fixture("wrong-shape.json", "broken/shape.json");
    t.fixture("newer-version.json", "future.json");
    t.fixture("package.json", "tools/package.json");
    t.write("good.json", &serde_json::to_string(&conn("Good")).unwrap());
    t.write("empty.json", "");
    let before = t
        .files()
        .into_iter()
        .map(|f| (f.clone(), t.read(&f)))
        .collect::<BTreeMap<_, _>>();

    let (mut ws, report) = Workspace::open(&t.0).unwrap();
    let got: Vec<(String, usize, usize)> = report
        .problems
        .iter()
        .map(|p| (p.path.clone(), p.line, p.column))
        .collect();
    assert_eq!(
        got,
        [
            ("broken/bad.json".to_owned(), 6, 3),
            ("broken/shape.json".to_owned(), 6, 32),
            ("empty.json".to_owned(), 1, 0),
            ("future.json".to_owned(), 3, 3),
            ("tools/package.json".to_owned(), 1, 1),
        ]
    );
    let msg = |path: &str| report.problems.iter().find(|p| p.path == path).unwrap().message.clone();
    assert!(
        msg("broken/bad.json").contains("trailing comma"),
        "{}",
        msg("broken/bad.json")
    );
    assert!(msg("broken/shape.json").contains("expected a sequence"));
    assert!(msg("future.json").contains("newer wsbench"), "{}", msg("future.json"));
    assert!(msg("tools/package.json").contains("not a wsbench connection"));
    assert_eq!(
        report.problems[0].to_string(),
        "cannot read \"broken/bad.json\" (line 6, column 3): trailing comma"
    );

    // Everything else loads; the tree carries the problems for the sidebar.
    assert_eq!(tree_ids(&ws), ["good.json"]);
    assert_eq!(ws.tree().problems, report.problems);
    let e = ws.connection("future.json").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert!(e.to_string().contains("line 3"), "{e}");

    // Writing elsewhere, rescanning and reopening never touch the bad files.
    ws.create_connection("broken", &conn("Fine")).unwrap();
    ws.rescan();
    Workspace::open(&t.0).unwrap();
    for (f, text) in &before {
        assert_eq!(&t.read(f), text, "{f} was rewritten");
    }

    // A save over a problem file without force is a conflict, not a silent overwrite.
    let e = ws.save_connection("future.json", &conn("x"), None, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(t.read("future.json"), before["future.json"]);

    // Fixed by hand: the next rescan loads it and the problem is gone.
    t.write(
        "broken/bad.json",
        &before["broken/bad.json"].replace("\"ws://x/\",", "\"ws://x/\""),
    );
    let changes = ws.rescan();
    assert_eq!(
        changes,
        [change("broken/bad.json", ChangeKind::Modified, ItemKind::Connection)]
    );
    assert_eq!(ws.connection("broken/bad.json").unwrap().connection.name, "Broken");
    assert!(ws.problems().iter().all(|p| p.path != "broken/bad.json"));
}

/// A file the store cannot read (no permission for a normal user; a link to nowhere
/// as root, who can read anything) is a problem until it can be read.
#[cfg(unix)]
#[test]
fn an_unreadable_file_is_a_problem_until_it_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let t = Temp::new("unreadable");
    let text = serde_json::to_string(&conn("Locked")).unwrap();
    let root = running_as_root();
    if root {
        std::os::unix::fs::symlink(t.at("elsewhere.txt"), t.at("locked.json")).unwrap();
    } else {
        t.write("locked.json", &text);
        fs::set_permissions(t.at("locked.json"), fs::Permissions::from_mode(0o000)).unwrap();
    }
    t.write("ok.json", &serde_json::to_string(&conn("Ok")).unwrap());
    let (mut ws, report) = Workspace::open(&t.0).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let p = &report.problems[0];
    assert_eq!(p.path, "locked.json");
    let expected = if root { "it does not exist" } else { "permission denied" };
    assert!(p.message.contains(expected), "{p}");
    assert_eq!(tree_ids(&ws), ["ok.json"]);
    assert!(ws.rescan().is_empty(), "still unreadable is not a new change");

    if root {
        t.write("elsewhere.txt", &text);
    } else {
        fs::set_permissions(t.at("locked.json"), fs::Permissions::from_mode(0o644)).unwrap();
    }
    assert_eq!(
        ws.rescan(),
        [change("locked.json", ChangeKind::Modified, ItemKind::Connection)]
    );
    assert!(ws.problems().is_empty());
    assert_eq!(ws.connection("locked.json").unwrap().connection.name, "Locked");
}

#[test]
fn a_corrupt_marker_is_a_problem_and_the_workspace_still_opens() {
    let t = Temp::new("marker");
    t.write("wsbench-workspace.json", "{\"version\": 1, \"name\": ");
    t.write("a.json", &serde_json::to_string(&conn("A")).unwrap());
    let (ws, report) = Workspace::open(&t.0).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].path, "wsbench-workspace.json");
    assert_eq!(report.problems[0].line, 1);
    assert_eq!(tree_ids(&ws), ["a.json"]);
    assert_eq!(t.read("wsbench-workspace.json"), "{\"version\": 1, \"name\": ");
}

// --- migration ----------------------------------------------------------------------------

#[test]
fn a_version_1_file_is_migrated_in_memory_and_backed_up_before_the_first_write() {
    let t = Temp::new("migrate");
    t.fixture("v1-flat.json", "feeds/legacy.json");
    t.fixture("v1-no-version.json", "old.json");
    let original = t.read("feeds/legacy.json");

    let (mut ws, report) = Workspace::open(&t.0).unwrap();
    assert_eq!(report.migrated, ["feeds/legacy.json", "old.json"]);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(t.read("feeds/legacy.json"), original, "loading never writes");
    assert!(!t.exists("feeds/legacy.json.v1.bak"));

    let loaded = ws.connection("feeds/legacy.json").unwrap();
    assert_eq!(loaded.migrated_from, Some(1));
    let c = &loaded.connection;
    assert_eq!(c.version, 2);
    assert_eq!(c.name, "Legacy feed");
    assert_eq!(c.config.url, "wss://feed.example/v1");
    assert_eq!(c.config.headers, [KeyValue::new("X-Client", "wsbench")]);
    assert_eq!(c.config.subprotocols, ["feed.v1"]);
    assert_eq!(
        c.config.auth,
        Auth::Bearer {
            token: "{{token}}".into()
        }
    );
    assert_eq!(c.config.timeouts.connect_ms, 2_500);
    assert_eq!(c.config.timeouts.handshake_ms, 10_000, "missing fields take defaults");
    assert_eq!(
        c.messages,
        [
            SavedMessage::text("Subscribe", r#"{"op":"subscribe"}"#),
            SavedMessage::text("Ping", "ping"),
        ]
    );
    assert!(c
        .messages
        .iter()
        .all(|m| m.format == MessageFormat::Text && !m.send_on_connect));
    let old = ws.connection("old.json").unwrap();
    assert_eq!(
        (old.migrated_from, old.connection.config.url.as_str()),
        (Some(1), "ws://127.0.0.1:9001/")
    );
    assert_eq!(ws.tree().root.collections[0].connections[0].migrated_from, Some(1));

    // The first save keeps the original bytes next to the file, then writes version 2.
    let mut edited = loaded.connection.clone();
    edited.messages.push(SavedMessage::text("Bye", "bye"));
    let saved = ws
        .save_connection("feeds/legacy.json", &edited, Some(&loaded.revision), false)
        .unwrap();
    assert_eq!(saved.backup.as_deref(), Some("feeds/legacy.json.v1.bak"));
    assert_eq!(t.read("feeds/legacy.json.v1.bak"), original);
    let now: Value = serde_json::from_str(&t.read("feeds/legacy.json")).unwrap();
    assert_eq!(now["version"], 2);
    assert_eq!(now["config"]["url"], "wss://feed.example/v1");
    assert_eq!(now["messages"][2]["body"], "bye");
    assert_eq!(ws.connection("feeds/legacy.json").unwrap().migrated_from, None);

    // Later saves leave the backup alone, and backups never show up as connections.
    let again = ws
        .save_connection("feeds/legacy.json", &conn("Renamed"), Some(&saved.revision), false)
        .unwrap();
    assert_eq!(again.backup, None);
    assert_eq!(t.read("feeds/legacy.json.v1.bak"), original);
    assert!(ws.rescan().is_empty());
    assert_eq!(tree_ids(&ws), ["old.json", "feeds/legacy.json"]);

    // An existing backup is never overwritten (e.g. the file was restored from git).
    t.write("old.json.v1.bak", "an older backup");
    let old = ws.connection("old.json").unwrap();
    let s = ws.rename_connection("old.json", "Old echo, renamed").unwrap();
    assert_eq!((s.id.as_str(), s.backup.as_deref()), ("old-echo-renamed.json", None));
    assert_eq!(t.read("old.json.v1.bak"), "an older backup");
    assert!(!t.exists("old.json"));
    assert_ne!(old.revision, s.revision);
}

// --- rename, duplicate, move, delete, undo ---------------------------------------------------

#[test]
fn rename_duplicate_and_move_keep_the_sidebar_and_files_in_step() {
    let t = Temp::new("ops");
    let mut ws = t.open();
    let echo = ws.create_connection("chat", &full_connection()).unwrap();

    let r = ws.rename_connection(&echo.id, "Echo (prod)").unwrap();
    assert_eq!(r.id, "chat/echo-prod.json");
    assert!(!t.exists("chat/echo-server.json"));
    assert!(t.read("chat/echo-prod.json").contains("\"name\": \"Echo (prod)\""));
    assert_eq!(
        ws.connection(&r.id).unwrap().connection.config,
        full_connection().config
    );
    assert!(ws.connection(&echo.id).is_err());
    // Only the case changes: same slug, same file.
    assert_eq!(ws.rename_connection(&r.id, "ECHO (PROD)").unwrap().id, r.id);
    assert_eq!(
        ws.rename_connection(&r.id, "  ").unwrap_err().kind(),
        ErrorKind::InvalidName
    );

    let d = ws.duplicate_connection(&r.id).unwrap();
    assert_eq!(d.id, "chat/echo-prod-copy.json");
    let copy = ws.connection(&d.id).unwrap().connection;
    assert_eq!(copy.name, "ECHO (PROD) copy");
    assert_eq!(copy.messages, full_connection().messages);

    // Moving keeps the bytes; a name taken in the target gets a suffix.
    ws.create_connection("archive", &conn("echo prod")).unwrap();
    let bytes = t.read(&r.id);
    let m = ws.move_connection(&r.id, "archive").unwrap();
    assert_eq!(m.id, "archive/echo-prod-2.json");
    assert_eq!(t.read(&m.id), bytes);
    assert_eq!(m.revision, revision(bytes.as_bytes()));
    assert!(!t.exists(&r.id));
    // Sorted by name: "ECHO (PROD)" before "echo prod".
    assert_eq!(
        tree_ids(&ws),
        ["archive/echo-prod-2.json", "archive/echo-prod.json", d.id.as_str()]
    );
    let m2 = ws.move_connection(&m.id, "").unwrap();
    assert_eq!(m2.id, "echo-prod-2.json");
    assert!(ws.rescan().is_empty(), "the store knows about its own moves");
}

#[test]
fn delete_and_undo_restore_the_exact_bytes() {
    let t = Temp::new("undo");
    let mut ws = t.open();
    t.write(
        "chat/hand-written.json",
        "{\"version\":2,\"name\":\"Hand\",\"config\":{\"url\":\"ws://h/\"}}",
    );
    ws.rescan();
    let original = t.read("chat/hand-written.json");

    let del = ws.delete_connection("chat/hand-written.json").unwrap();
    assert!(!t.exists("chat/hand-written.json"));
    assert!(tree_ids(&ws).is_empty());
    let back = ws.undo_delete(&del.token).unwrap();
    assert_eq!(
        (back.item, back.id.as_str()),
        (ItemKind::Connection, "chat/hand-written.json")
    );
    assert_eq!(t.read("chat/hand-written.json"), original, "not reformatted");
    assert_eq!(ws.connection("chat/hand-written.json").unwrap().connection.name, "Hand");
    assert!(ws.undo_delete(&del.token).is_err(), "a token works once");

    // The name was taken in the meantime: restored next to it, nothing overwritten.
    let del = ws.delete_connection("chat/hand-written.json").unwrap();
    let newer = ws
        .save_connection("chat/hand-written.json", &conn("Newer"), None, false)
        .unwrap();
    let back = ws.undo_delete(&del.token).unwrap();
    assert_eq!(back.id, "chat/hand-written-2.json");
    assert_eq!(t.read("chat/hand-written-2.json"), original);
    assert_eq!(ws.connection(&newer.id).unwrap().connection.name, "Newer");

    // A file that failed to load can be deleted (and restored) too.
    t.fixture("bad-json.json", "bad.json");
    ws.rescan();
    let del = ws.delete_connection("bad.json").unwrap();
    assert!(ws.problems().is_empty());
    ws.undo_delete(&del.token).unwrap();
    assert_eq!(t.read("bad.json"), fixture("bad-json.json"));
    assert_eq!(ws.problems().len(), 1);
}

#[test]
fn collections_are_created_renamed_deleted_and_restored_with_everything_in_them() {
    let t = Temp::new("collections");
    let mut ws = t.open();
    assert_eq!(ws.create_collection("/chat/").unwrap(), "chat");
    assert_eq!(ws.create_collection("chat").unwrap_err().kind(), ErrorKind::File);
    ws.create_connection("chat", &conn("Echo")).unwrap();
    ws.create_connection("chat/rooms", &conn("General")).unwrap();
    ws.create_collection("chat/empty").unwrap();
    t.write("chat/README.md", "# notes kept with the collection\n");
    t.fixture("bad-json.json", "chat/rooms/bad.json");
    ws.rescan();

    let new = ws.rename_collection("chat", "Messaging").unwrap();
    assert_eq!(new.path, "Messaging");
    assert_eq!(
        new.moved_ids,
        BTreeMap::from([
            ("chat/echo.json".to_owned(), "Messaging/echo.json".to_owned()),
            (
                "chat/rooms/general.json".to_owned(),
                "Messaging/rooms/general.json".to_owned()
            ),
        ]),
        "every connection under it, with its old and new ID"
    );
    assert_eq!(tree_ids(&ws), ["Messaging/echo.json", "Messaging/rooms/general.json"]);
    assert_eq!(ws.problems()[0].path, "Messaging/rooms/bad.json");
    assert!(ws.connection("Messaging/rooms/general.json").is_ok());
    assert!(ws.rescan().is_empty(), "the store knows about its own rename");
    ws.create_collection("Other").unwrap();
    assert_eq!(
        ws.rename_collection("Messaging", "Other").unwrap_err().kind(),
        ErrorKind::File
    );
    assert_eq!(
        ws.rename_collection("Messaging", "a/b").unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    assert!(t.exists("Messaging/echo.json"), "nothing moved");
    assert_eq!(
        ws.rename_collection("Other", "other").unwrap().path,
        "other",
        "a case-only rename"
    );

    let before: Vec<(String, String)> = t
        .files()
        .into_iter()
        .filter(|f| f.starts_with("Messaging/"))
        .map(|f| (f.clone(), t.read(&f)))
        .collect();
    let del = ws.delete_collection("Messaging").unwrap();
    assert!(!t.exists("Messaging"));
    assert!(tree_ids(&ws).is_empty() && ws.problems().is_empty());
    assert!(
        t.files().iter().all(|f| !f.contains("wsbench-trash")),
        "{:?}",
        t.files()
    );
    assert!(ws.rescan().is_empty());

    let back = ws.undo_delete(&del.token).unwrap();
    assert_eq!((back.item, back.id.as_str()), (ItemKind::Collection, "Messaging"));
    for (f, text) in &before {
        assert_eq!(&t.read(f), text, "{f}");
    }
    assert!(t.at("Messaging/empty").is_dir(), "empty sub-collections come back");
    assert_eq!(tree_ids(&ws), ["Messaging/echo.json", "Messaging/rooms/general.json"]);
    assert_eq!(ws.problems().len(), 1);
    assert!(ws.rescan().is_empty());

    // Taken in the meantime: restored under a new name.
    let del = ws.delete_collection("Messaging").unwrap();
    ws.create_collection("Messaging").unwrap();
    assert_eq!(ws.undo_delete(&del.token).unwrap().id, "Messaging-2");
    assert!(t.exists("Messaging-2/README.md"));
    assert!(
        ws.delete_collection("").is_err(),
        "the workspace itself is not a collection"
    );
}

// --- environments and secrets ------------------------------------------------------------------

fn staging() -> Environment {
    Environment {
        name: "Staging".into(),
        variables: vec![
            Variable::new("host", "staging.example"),
            Variable::secret("token", "s3cr3t-t0ken"),
            Variable {
                enabled: false,
                ..Variable::secret("oldToken", "retired-t0ken")
            },
        ],
        ..Environment::default()
    }
}

#[test]
fn secret_values_live_only_in_the_git_ignored_secrets_file() {
    let t = Temp::new("env");
    let mut ws = t.open();
    let saved = ws.save_environment(&staging(), None, false).unwrap();
    assert_eq!(saved.name, "Staging");
    assert_eq!(t.read("environments/staging.json"), fixture("staging.env.json"));
    assert_eq!(
        t.read("environments/staging.secrets.json"),
        "{\n  \"version\": 1,\n  \"values\": {\n    \"oldToken\": \"retired-t0ken\",\n    \"token\": \"s3cr3t-t0ken\"\n  }\n}\n"
    );
    assert!(t.read(".gitignore").lines().any(|l| l == "*.secrets.json"));

    // Reopened: merged back; the tree lists the name.
    let (ws2, report) = Workspace::open(&t.0).unwrap();
    assert!(report.problems.is_empty());
    assert_eq!(ws2.environments(), [staging()]);
    assert_eq!(ws2.environment("Staging").unwrap().revision, saved.revision);
    assert_eq!(ws2.tree().environments, ["Staging"]);

    // A fresh clone has no secrets file: a problem to show, not a failure.
    fs::remove_file(t.at("environments/staging.secrets.json")).unwrap();
    let (ws3, report) = Workspace::open(&t.0).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].path, "environments/staging.secrets.json");
    assert!(
        report.problems[0].message.contains("not on this machine"),
        "{:?}",
        report.problems
    );
    let env = &ws3.environments()[0];
    assert_eq!(env.variables[0].value, "staging.example");
    assert_eq!(env.variables[1].value, "", "secret empty until entered again");

    // A corrupt secrets file: reported with its line, left as it is.
    t.write(
        "environments/staging.secrets.json",
        "{\n  \"version\": 1,\n  \"values\": {\"token\": 5}\n}\n",
    );
    let (ws4, report) = Workspace::open(&t.0).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].line, 3);
    assert_eq!(ws4.environments()[0].variables[1].value, "");
    assert!(t.read("environments/staging.secrets.json").contains("\"token\": 5"));

    // Dropping every secret variable removes the stale secrets file.
    let mut ws = t.open();
    let rev = ws.environment("Staging").unwrap().revision;
    let plain = Environment {
        name: "Staging".into(),
        variables: vec![Variable::new("host", "h")],
        ..Environment::default()
    };
    ws.save_environment(&plain, Some(&rev), false).unwrap();
    assert!(!t.exists("environments/staging.secrets.json"));
    assert!(ws.problems().is_empty());
}

#[test]
fn secret_values_are_replaced_by_their_variable_before_a_connection_is_written() {
    let t = Temp::new("scrub");
    let mut ws = t.open();
    ws.save_environment(&staging(), None, false).unwrap();
    let mut c = conn("Prod feed");
    c.config.url = "wss://feed.example/?token=s3cr3t-t0ken".into();
    c.config.auth = Auth::Bearer {
        token: "s3cr3t-t0ken".into(),
    };
    c.config.headers.push(KeyValue::new("X-Token", "Bearer s3cr3t-t0ken"));
    c.messages.push(SavedMessage::text(
        "auth",
        r#"{"token":"s3cr3t-t0ken","old":"retired-t0ken"}"#,
    ));

    let saved = ws.create_connection("", &c).unwrap();
    assert_eq!(saved.replaced_secrets, ["token"], "the app can tell the user");
    let file = t.read(&saved.id);
    assert!(!file.contains("s3cr3t-t0ken"), "{file}");
    assert!(file.contains("wss://feed.example/?token={{token}}"));
    assert!(file.contains("\"token\": \"{{token}}\""));
    assert!(file.contains("Bearer {{token}}"));
    assert!(
        file.contains(r#"{\"token\":\"{{token}}\",\"old\":\"retired-t0ken\"}"#),
        "disabled secrets stay"
    );
    // The cached copy is what is on disk.
    assert_eq!(
        ws.connection(&saved.id).unwrap().connection.config.auth,
        Auth::Bearer {
            token: "{{token}}".into()
        }
    );

    // Every other way of writing a connection hides it too.
    let s = ws.save_connection(&saved.id, &c, Some(&saved.revision), false).unwrap();
    assert_eq!(s.replaced_secrets, ["token"]);
    assert_eq!(s.revision, saved.revision, "same value, same bytes");
    let loaded = ws.connection(&s.id).unwrap();
    let again = ws
        .save_connection(&s.id, &loaded.connection, Some(&loaded.revision), false)
        .unwrap();
    assert!(again.replaced_secrets.is_empty(), "nothing left to hide");
    assert_eq!(again.revision, saved.revision);
    let mut named = c.clone();
    named.name = "feed s3cr3t-t0ken".into();
    ws.create_connection("x", &named).unwrap();
    ws.duplicate_connection(&saved.id).unwrap();
    ws.rename_connection(&saved.id, "Prod s3cr3t-t0ken").unwrap();
    let leaks: Vec<String> = t
        .files()
        .into_iter()
        .filter(|f| !f.ends_with(".secrets.json"))
        .filter(|f| t.read(f).contains("s3cr3t-t0ken"))
        .collect();
    assert!(leaks.is_empty(), "secret written to {leaks:?}");
    assert!(t.exists("x/feed-token.json"), "{:?}", t.files());

    // Nothing to replace: nothing reported.
    assert!(ws
        .create_connection("", &conn("Plain"))
        .unwrap()
        .replaced_secrets
        .is_empty());
}

#[test]
fn environments_detect_conflicts_rename_and_delete_with_undo() {
    let t = Temp::new("env-ops");
    let mut ws = t.open();
    let s = ws.save_environment(&staging(), None, false).unwrap();
    assert_eq!(
        ws.save_environment(&staging(), None, false).unwrap_err().kind(),
        ErrorKind::Conflict,
        "None means new, and Staging exists"
    );

    // Secrets edited outside the app count as a change.
    let secrets = t.read("environments/staging.secrets.json");
    t.write(
        "environments/staging.secrets.json",
        &secrets.replace("s3cr3t-t0ken", "rotated-by-ops"),
    );
    let e = ws.save_environment(&staging(), Some(&s.revision), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(t.read("environments/staging.secrets.json").contains("rotated-by-ops"));
    assert_eq!(
        ws.rescan(),
        [change(
            "environments/staging.secrets.json",
            ChangeKind::Modified,
            ItemKind::Environment
        )]
    );
    assert_eq!(ws.environments()[0].variables[1].value, "rotated-by-ops");

    let r = ws.rename_environment("Staging", "Pre-prod").unwrap();
    assert_eq!(r.name, "Pre-prod");
    assert!(!t.exists("environments/staging.json") && !t.exists("environments/staging.secrets.json"));
    assert!(t.read("environments/pre-prod.json").contains("\"name\": \"Pre-prod\""));
    assert!(t.read("environments/pre-prod.secrets.json").contains("rotated-by-ops"));
    assert_eq!(ws.environment("Pre-prod").unwrap().revision, r.revision);
    assert!(ws.rescan().is_empty());

    let del = ws.delete_environment("Pre-prod").unwrap();
    assert!(ws.environments().is_empty());
    assert!(!t.exists("environments/pre-prod.json") && !t.exists("environments/pre-prod.secrets.json"));
    // Created again in the meantime: the restored one gets a free file and name.
    ws.save_environment(
        &Environment {
            name: "Pre-prod".into(),
            ..Environment::default()
        },
        None,
        false,
    )
    .unwrap();
    let back = ws.undo_delete(&del.token).unwrap();
    assert_eq!((back.item, back.id.as_str()), (ItemKind::Environment, "Pre-prod 2"));
    let names: Vec<String> = ws.environments().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["Pre-prod", "Pre-prod 2"]);
    assert_eq!(
        ws.environment("Pre-prod 2").unwrap().environment.variables[1].value,
        "rotated-by-ops"
    );
    assert!(ws.problems().is_empty());
}

// --- crashes, read-only folders, full disks ---------------------------------------------------

#[test]
fn a_stale_temp_file_from_a_crash_is_ignored_and_a_failed_write_keeps_the_old_bytes() {
    let t = Temp::new("crash");
    let mut ws = t.open();
    let saved = ws.create_connection("chat", &conn("Echo")).unwrap();
    let good = t.read("chat/echo.json");

    // The app died between writing the temp file and renaming it.
    t.write(
        "chat/.echo.json.wsbench-tmp-0badf00d",
        "{\n  \"version\": 2,\n  \"name\": \"Ec",
    );
    t.write("environments/.x.json.wsbench-tmp-12345678", "{");
    let (ws2, report) = Workspace::open(&t.0).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(tree_ids(&ws2), ["chat/echo.json"]);
    assert!(ws.rescan().is_empty());

    // A write that fails half-way (the same function every store write goes through)
    // leaves the previous bytes, and the store sees no change.
    let r: wsbench_core::Result<()> = wsbench_core::fs::write_atomic(&t.at("chat/echo.json"), |w| {
        use std::io::Write;
        w.write_all(b"{\n  \"version\": 2,\n  \"na").unwrap();
        Err(Error::Io("simulated crash mid-write".into()))
    });
    assert!(r.is_err());
    assert_eq!(t.read("chat/echo.json"), good);
    assert!(ws.rescan().is_empty());
    assert!(ws
        .save_connection("chat/echo.json", &conn("Echo 2"), Some(&saved.revision), false)
        .is_ok());
}

#[cfg(unix)]
#[test]
fn a_read_only_folder_fails_clearly_and_keeps_the_in_memory_state() {
    let t = Temp::new("readonly");
    let mut ws = t.open();
    let saved = ws.create_connection("chat", &conn("Echo")).unwrap();
    ws.save_environment(&staging(), None, false).unwrap();
    let bytes = t.read("chat/echo.json");
    let tree = ws.tree();
    let loaded = ws.connection(&saved.id).unwrap();

    let undo = make_unwritable(&t.at("chat"));
    let mut edited = conn("Echo");
    edited.config.url = "ws://edited/".into();
    let errors = [
        ws.save_connection(&saved.id, &edited, Some(&saved.revision), true)
            .unwrap_err(),
        ws.create_connection("chat", &conn("New")).unwrap_err(),
        ws.duplicate_connection(&saved.id).unwrap_err(),
        ws.create_connection("chat/sub", &conn("Deeper")).unwrap_err(),
    ];
    for e in &errors {
        let msg = e.to_string();
        assert_eq!(e.kind(), ErrorKind::File, "{msg}");
        assert!(msg.contains("chat"), "names the path: {msg}");
        assert!(
            msg.contains("read-only") || msg.contains("permission denied"),
            "says why: {msg}"
        );
    }
    assert_eq!(ws.tree(), tree, "the sidebar did not change");
    assert_eq!(
        ws.connection(&saved.id).unwrap(),
        loaded,
        "the cached connection did not change"
    );
    undo();
    assert_eq!(t.read("chat/echo.json"), bytes, "the file kept its bytes");
    assert!(t.files().iter().all(|f| !f.contains("wsbench-tmp")), "{:?}", t.files());

    // The same in-memory state can be saved once the folder is writable again.
    ws.save_connection(&saved.id, &edited, Some(&saved.revision), false)
        .unwrap();
    assert!(t.read("chat/echo.json").contains("ws://edited/"));
}

#[test]
fn full_disks_and_read_only_file_systems_are_worded_for_users() {
    let p = Path::new("/home/me/wsbench/chat/echo.json");
    let full = Error::io(p, &std::io::Error::from_raw_os_error(28));
    assert_eq!(
        full.to_string(),
        "cannot use \"/home/me/wsbench/chat/echo.json\": the disk is full"
    );
    let ro = Error::io(p, &std::io::Error::from_raw_os_error(30));
    assert!(ro.to_string().ends_with("the file system is read-only"), "{ro}");
    let denied = Error::io(p, &std::io::Error::from(std::io::ErrorKind::PermissionDenied));
    assert!(denied.to_string().contains("is the folder read-only?"), "{denied}");
    assert_eq!(full.info().kind, ErrorKind::File);
}

// --- the schemas in the repo ---------------------------------------------------------------------

/// A small JSON Schema checker for the keywords the two schemas use ($ref to $defs,
/// type, const, enum, properties, required, additionalProperties: false, items, oneOf,
/// minimum, default). It records which declared properties the instances used.
struct SchemaCheck<'a> {
    root: &'a Value,
    seen: BTreeSet<String>,
}

impl SchemaCheck<'_> {
    fn check(&mut self, v: &Value, s: &Value, ptr: &str, at: &str) -> Result<(), String> {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/$defs/")
                .ok_or(format!("{ptr}: unsupported $ref {r}"))?;
            let target = &self.root["$defs"][name];
            if target.is_null() {
                return Err(format!("{ptr}: dangling $ref {r}"));
            }
            return self.check(v, target, &format!("#/$defs/{name}"), at);
        }
        if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
            let mut ok = Vec::new();
            for (i, b) in branches.iter().enumerate() {
                let mut sub = SchemaCheck {
                    root: self.root,
                    seen: BTreeSet::new(),
                };
                if sub.check(v, b, &format!("{ptr}/oneOf/{i}"), at).is_ok() {
                    ok.push(sub.seen);
                }
            }
            if ok.len() != 1 {
                return Err(format!("{at}: matches {} branches of {ptr}/oneOf", ok.len()));
            }
            self.seen.extend(ok.remove(0));
        }
        if let Some(c) = s.get("const") {
            if v != c {
                return Err(format!("{at}: {v} is not {c}"));
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                return Err(format!("{at}: {v} not in {e:?}"));
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => return Err(format!("{ptr}: bad type")),
            };
            let fits = |t: &str| match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_u64() || v.is_i64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                _ => false,
            };
            if !types.iter().any(|t| fits(t)) {
                return Err(format!("{at}: {v} is not {types:?}"));
            }
        }
        if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
            if n < min {
                return Err(format!("{at}: {n} < {min}"));
            }
        }
        if let Some(obj) = v.as_object() {
            let props = s.get("properties").and_then(Value::as_object);
            for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                if !obj.contains_key(r) {
                    return Err(format!("{at}: required key {r:?} missing"));
                }
            }
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => {
                        self.check(val, ps, &format!("{ptr}/properties/{k}"), &format!("{at}.{k}"))?;
                        self.seen.insert(format!("{ptr}/properties/{k}"));
                    }
                    None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{at}: key {k:?} is not declared in {ptr}"));
                    }
                    None if props.is_some() => return Err(format!("{at}: key {k:?} not declared in {ptr}")),
                    None => {}
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, item) in arr.iter().enumerate() {
                self.check(item, items, &format!("{ptr}/items"), &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }
}

/// Every `…/properties/<key>` the schema declares, as pointers.
fn declared(s: &Value, ptr: &str, out: &mut BTreeSet<String>) {
    match s {
        Value::Object(m) => {
            for (k, v) in m {
                let child = format!("{ptr}/{k}");
                if k == "properties" {
                    for p in v.as_object().into_iter().flat_map(|o| o.keys()) {
                        out.insert(format!("{child}/{p}"));
                    }
                }
                declared(v, &child, out);
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| declared(v, &format!("{ptr}/{i}"), out)),
        _ => {}
    }
}

/// Each `default` in the schema equals what a default value serializes to there.
fn defaults_match(s: &Value, v: &Value, root: &Value, at: &str) {
    let s = match s.get("$ref").and_then(Value::as_str) {
        Some(r) => &root["$defs"][r.trim_start_matches("#/$defs/")],
        None => s,
    };
    if let Some(d) = s.get("default") {
        assert_eq!(v, d, "schema default of {at}");
    }
    if let (Some(props), Some(obj)) = (s.get("properties").and_then(Value::as_object), v.as_object()) {
        for (k, ps) in props {
            if let Some(val) = obj.get(k) {
                defaults_match(ps, val, root, &format!("{at}.{k}"));
            }
        }
    }
}

fn schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas").join(name);
    let s: Value = serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    s
}

#[test]
fn the_json_schemas_describe_every_key_wsbench_writes() {
    let t = Temp::new("schema");
    let mut ws = t.open();
    let auths = [
        Auth::None,
        Auth::Bearer { token: "t".into() },
        Auth::Basic {
            username: "u".into(),
            password: "p".into(),
        },
        full_connection().config.auth,
    ];
    let mut ids = Vec::new();
    for (i, auth) in auths.into_iter().enumerate() {
        let mut c = full_connection();
        c.name = format!("auth {i}");
        c.config.auth = auth;
        c.scenario = (i == 0).then(full_scenario);
        c.config.compression = wsbench_core::config::Compression {
            enabled: i != 1,
            client_max_window_bits: Some(10),
            server_max_window_bits: Some(12),
            client_no_context_takeover: true,
            server_no_context_takeover: true,
        };
        ids.push(ws.create_connection("", &c).unwrap().id);
    }
    let defaults = SavedConnection {
        name: "defaults".into(),
        ..SavedConnection::default()
    };
    ids.push(ws.create_connection("", &defaults).unwrap().id);

    let cs = schema("connection.schema.json");
    let mut check = SchemaCheck {
        root: &cs,
        seen: BTreeSet::new(),
    };
    for id in &ids {
        let file: Value = serde_json::from_str(&t.read(id)).unwrap();
        check.check(&file, &cs, "#", id).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut all = BTreeSet::new();
    declared(&cs, "#", &mut all);
    let unused: Vec<_> = all.difference(&check.seen).collect();
    assert!(
        unused.is_empty(),
        "declared in the schema but never written: {unused:?}"
    );
    let defaults = serde_json::to_value(SavedConnection::default()).unwrap();
    defaults_match(&cs, &defaults, &cs, "connection");
    let mut bad = serde_json::from_str::<Value>(&t.read(&ids[0])).unwrap();
    bad["config"]["tls"]["caFiel"] = Value::Null;
    assert!(
        check.check(&bad, &cs, "#", "typo").is_err(),
        "the checker catches undeclared keys"
    );

    ws.save_environment(&staging(), None, false).unwrap();
    let es = schema("environment.schema.json");
    let file: Value = serde_json::from_str(&t.read("environments/staging.json")).unwrap();
    let mut check = SchemaCheck {
        root: &es,
        seen: BTreeSet::new(),
    };
    check
        .check(&file, &es, "#", "staging")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut all = BTreeSet::new();
    declared(&es, "#", &mut all);
    assert_eq!(all, check.seen, "every declared key is written");
    defaults_match(
        &es,
        &serde_json::to_value(Environment::default()).unwrap(),
        &es,
        "environment",
    );
    defaults_match(
        &es["$defs"]["variable"],
        &serde_json::to_value(Variable::default()).unwrap(),
        &es,
        "variable",
    );
}

/// The app walks the disk without the workspace lock and applies the result under
/// it: what the store itself wrote, deleted or created while the walk ran is not
/// an outside change, and what changed outside is still found.
#[test]
fn a_rescan_walked_without_the_lock_keeps_the_stores_own_writes_made_meanwhile() {
    let t = Temp::new("rescan-split");
    let mut ws = t.open();
    let mine = ws.create_connection("", &conn("Mine")).unwrap();
    let doomed = ws.create_connection("", &conn("Doomed")).unwrap();
    ws.create_collection("old").unwrap();
    t.write("outside.json", &serde_json::to_string(&conn("Outside")).unwrap());

    let walked = ws.scan_base().read_disk();
    // Meanwhile the app saves, deletes and makes a collection.
    let edited = conn("Mine, edited in the app");
    let saved = ws
        .save_connection(&mine.id, &edited, Some(&mine.revision), false)
        .unwrap();
    ws.delete_connection(&doomed.id).unwrap();
    ws.create_collection("fresh").unwrap();

    assert_eq!(
        ws.apply_scan(walked),
        [change("outside.json", ChangeKind::Added, ItemKind::Connection)],
        "only the outside file is news"
    );
    assert_eq!(
        ws.connection(&mine.id).unwrap().revision,
        saved.revision,
        "the save stands"
    );
    assert!(ws.connection(&doomed.id).is_err(), "the deletion stands");
    assert!(
        ws.tree().root.collections.iter().any(|c| c.name == "fresh"),
        "the new collection stands"
    );
    assert!(ws.rescan().is_empty(), "and a full rescan agrees");

    // A snapshot of another folder changes nothing.
    let other = Temp::new("rescan-other");
    let (other_ws, _) = Workspace::open(&other.0).unwrap();
    let foreign = other_ws.scan_base().read_disk();
    assert!(ws.apply_scan(foreign).is_empty());
    assert!(ws.connection("outside.json").is_ok());

    // rescan_shared holds the lock only around copying and applying.
    t.write("later.json", &serde_json::to_string(&conn("Later")).unwrap());
    let shared = std::sync::Mutex::new(ws);
    assert_eq!(
        Workspace::rescan_shared(&shared),
        [change("later.json", ChangeKind::Added, ItemKind::Connection)]
    );
}

/// Every name check lives in the engine (the UI keeps no copy): empty or blank
/// names of connections, collections and environments, a `/` in a collection name,
/// and variable names a `{{name}}` could never use are refused with `invalidName`
/// and a sentence, and nothing is written.
#[test]
fn names_are_checked_by_the_engine() {
    let t = Temp::new("names");
    let mut ws = t.open();
    let invalid = |r: Result<(), Error>| -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{e}");
        e.to_string()
    };

    // Connections: create, save and rename.
    assert_eq!(
        invalid(ws.create_connection("", &conn("  ")).map(drop)),
        "a connection needs a name"
    );
    let saved = ws.create_connection("", &conn("Echo")).unwrap();
    invalid(
        ws.save_connection(&saved.id, &conn(""), Some(&saved.revision), false)
            .map(drop),
    );
    invalid(ws.rename_connection(&saved.id, " \t ").map(drop));
    assert_eq!(ws.connection(&saved.id).unwrap().connection.name, "Echo");

    // Collections: by path, inside a parent, renamed.
    assert_eq!(invalid(ws.create_collection("").map(drop)), "a collection needs a name");
    assert_eq!(
        invalid(ws.create_collection_in("", "   ").map(drop)),
        "a collection needs a name"
    );
    assert!(invalid(ws.create_collection_in("", "a/b").map(drop)).contains("cannot contain `/`"));
    assert_eq!(ws.create_collection_in("", " chat ").unwrap(), "chat");
    assert_eq!(ws.create_collection_in("chat", "rooms").unwrap(), "chat/rooms");
    invalid(ws.rename_collection("chat", " ").map(drop));
    invalid(ws.rename_collection("chat", "x/y").map(drop));
    assert!(t.exists("chat/rooms"), "nothing moved");

    // Environments: the name and every variable name.
    let env = |name: &str, var: &str| Environment {
        version: 1,
        name: name.into(),
        variables: vec![Variable {
            name: var.into(),
            value: "v".into(),
            secret: false,
            enabled: true,
        }],
    };
    assert_eq!(
        invalid(ws.edit_environment(&env(" ", "host"), None, None, |_, _| {}).map(drop)),
        "an environment needs a name"
    );
    invalid(ws.save_environment(&env("", "host"), None, false).map(drop));
    assert_eq!(
        invalid(ws.edit_environment(&env("local", ""), None, None, |_, _| {}).map(drop)),
        "a variable needs a name"
    );
    for (bad, why) in [
        ("$uuid", "built-ins"),
        ("{{host}}", "without the braces"),
        ("base url", "spaces"),
        ("1st", "starting with a letter"),
        ("a/b", "letters, digits"),
    ] {
        let msg = invalid(ws.edit_environment(&env("local", bad), None, None, |_, _| {}).map(drop));
        assert!(msg.contains(why), "{bad:?}: {msg}");
        assert!(msg.contains(&format!("{bad:?}")), "names the variable: {msg}");
    }
    assert!(ws.environments().is_empty(), "nothing was written");
    for good in ["host", "_private", "api.key", "my-token", "v2"] {
        ws.edit_environment(&env(&format!("env {good}"), good), None, None, |_, _| {})
            .unwrap_or_else(|e| panic!("{good:?}: {e}"));
    }
    let local = ws.environment("env host").unwrap();
    invalid(
        ws.edit_environment(&env("", "host"), Some("env host"), Some(&local.revision), |_, _| {})
            .map(drop),
    );
    invalid(ws.rename_environment("env host", "  ").map(drop));
}
