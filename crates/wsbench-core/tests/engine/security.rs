//! Paths from the UI and names from files or servers never reach outside the folders
//! they belong to: workspace IDs, collection paths, environment names, history IDs,
//! import targets and history file names with `..` or absolute paths are refused or
//! made safe, and nothing is written next to the workspace.

use std::fs;
use std::path::{Path, PathBuf};

use wsbench_core::history::History;
use wsbench_core::workspace::Workspace;
use wsbench_core::{ConnectConfig, Environment, ErrorKind, SavedConnection, SessionManager, Variable};

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

const TRAVERSALS: [&str; 8] = [
    "../outside.json",
    "../../outside.json",
    "a/../../outside.json",
    "/tmp/outside.json",
    "/etc/passwd.json",
    "C:\\outside.json",
    "..\\outside.json",
    "a/./b.json",
];

#[test]
fn workspace_ids_and_collections_cannot_climb_out() {
    let base = std::env::temp_dir().join(format!("wsbench-sec-{:016x}", fastrand::u64(..)));
    let root = base.join("ws");
    let (mut ws, _) = Workspace::open(&root).unwrap();
    let saved = ws
        .create_connection(
            "",
            &SavedConnection::new("Echo", ConnectConfig::new("ws://127.0.0.1:1/")),
        )
        .unwrap();
    let before = files(&base);
    let conn = SavedConnection::new("x", ConnectConfig::new("ws://127.0.0.1:1/"));
    for id in TRAVERSALS {
        assert!(ws.connection(id).is_err(), "read {id}");
        let e = ws.save_connection(id, &conn, None, true).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidName | ErrorKind::UnknownSession),
            "save {id}: {e}"
        );
        assert!(ws.rename_connection(id, "y").is_err(), "rename {id}");
        assert!(ws.delete_connection(id).is_err(), "delete {id}");
        // A collection path starting with `/` is rooted at the workspace (by design:
        // "/chat/rooms/" is "chat/rooms"), so it may be created, but only inside.
        let dir = id.trim_end_matches(".json");
        let rooted = dir.starts_with('/');
        match ws.create_collection(dir) {
            Ok(made) => assert!(rooted && !made.starts_with('/'), "{dir} made {made}"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidName, "{dir}: {e}"),
        }
        if !rooted {
            assert!(ws.move_connection(&saved.id, dir).is_err(), "move into {dir}");
            assert!(ws.rename_collection(dir, "z").is_err(), "rename collection {dir}");
            assert!(ws.delete_collection(dir).is_err(), "delete collection {dir}");
        }
    }
    // Environment names are display names: any text, stored under a safe slug.
    for name in ["../../evil", "/etc/passwd", "..", "C:\\x"] {
        let env = Environment {
            name: name.into(),
            variables: vec![Variable::new("a", "1")],
            ..Environment::default()
        };
        ws.save_environment(&env, None, false).unwrap();
    }
    let after = files(&base);
    let added: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    assert!(
        added.iter().all(|p| p.starts_with("ws/environments")),
        "only environment files were added, inside the workspace: {added:?}"
    );
    assert_eq!(added.len(), 4, "{added:?}");
    let outside: Vec<_> = fs::read_dir(&base).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(outside, ["ws"], "nothing next to the workspace");
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn history_ids_cannot_name_a_file_outside_the_history_folder() {
    let dir = std::env::temp_dir().join(format!("wsbench-sec-hist-{:016x}", fastrand::u64(..)));
    let h = History::new(dir.join("history"), 1 << 20);
    for id in [
        "../x.ndjson",
        "/etc/x.ndjson",
        "a/b.ndjson",
        "..\\x.ndjson",
        "C:x.ndjson",
        "x.json",
        "",
    ] {
        assert!(h.path_of(id).is_err(), "{id:?}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// A session named by a hostile file or server (`../../evil`) is recorded inside the
/// history folder under a safe name.
#[tokio::test]
async fn a_hostile_tab_name_is_recorded_inside_the_history_folder() {
    let dir = std::env::temp_dir().join(format!("wsbench-sec-rec-{:016x}", fastrand::u64(..)));
    let h = History::new(dir.join("history"), 1 << 20);
    let m = SessionManager::new(std::sync::Arc::new(wsbench_core::NullSink));
    for name in ["../../evil", "/etc/passwd", "..", "C:\\Windows\\x", "a/../../b"] {
        let id = m.create(name, ConnectConfig::new("ws://127.0.0.1:1/"));
        let s = m.get(id).unwrap();
        let e = h.record(&s, 0, &s.state()).unwrap();
        assert!(
            !e.id.contains(['/', '\\']) && !e.id.starts_with(".."),
            "{name}: {}",
            e.id
        );
    }
    assert!(
        files(&dir).iter().all(|p| p.starts_with("history")),
        "{:?}",
        files(&dir)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_import_cannot_target_a_folder_outside_the_workspace() {
    let base = std::env::temp_dir().join(format!("wsbench-sec-imp-{:016x}", fastrand::u64(..)));
    let (mut ws, _) = Workspace::open(base.join("ws")).unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/engine/fixtures/import/insomnia-v4.json"
    );
    let report = wsbench_core::import::import_path(Path::new(fixture)).unwrap();
    for into in ["../outside", "a/../../b", "..\\x"] {
        let e = wsbench_core::import::import_into(&mut ws, &report, into).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{into}: {e}");
    }
    // A leading `/` is the workspace's root, as for every collection path.
    wsbench_core::import::import_into(&mut ws, &report, "/tmp/outside").unwrap();
    assert!(base.join("ws/tmp/outside").is_dir());
    let outside: Vec<_> = fs::read_dir(&base).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(outside, ["ws"], "nothing next to the workspace");
    fs::remove_dir_all(&base).unwrap();
}
