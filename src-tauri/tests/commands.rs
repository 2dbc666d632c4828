//! The app's commands through Tauri's IPC layer on the mock runtime (no display):
//! the same JSON the UI sends, the same answers and errors it gets.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;
use wsbench_app::{with_commands, AppState};

struct App {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
}

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "wsbench-app-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn app() -> App {
    app_in(temp_dir())
}

/// The app on a data directory: a second app on the same one is a restart.
fn app_in(data_dir: std::path::PathBuf) -> App {
    let state = tauri::async_runtime::block_on(AppState::start(data_dir)).expect("engine starts");
    let app = with_commands(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("app builds");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    App { _app: app, webview }
}

/// One command through the IPC layer of `webview` (any thread).
fn invoke(webview: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let req = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(webview, req).map(|b| b.deserialize::<Value>().unwrap())
}

impl App {
    fn call_raw(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.webview, cmd, args)
    }

    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> T {
        match self.call_raw(cmd, args) {
            Ok(v) => serde_json::from_value(v).unwrap(),
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        self.call_raw(cmd, args).expect_err(cmd)
    }

    fn tab(&self, id: u64) -> Value {
        let tabs: Vec<Value> = self.call("list_tabs", json!({}));
        tabs.into_iter().find(|t| t["id"] == id).expect("tab listed")
    }

    fn wait_state(&self, id: u64, name: &str) -> Value {
        let t = Instant::now();
        loop {
            let tab = self.tab(id);
            if tab["state"]["type"] == name {
                return tab;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "waiting for {name}: {tab}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn first_launch_has_a_tab_on_the_local_echo_server() {
    let a = app();
    let tabs: Vec<Value> = a.call("list_tabs", json!({}));
    assert_eq!(tabs.len(), 1);
    let url: String = a.call("local_server_url", json!({}));
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    assert_eq!(tabs[0]["config"]["url"], url);
    assert_eq!(tabs[0]["name"], "Local echo");
    assert_eq!(tabs[0]["state"]["type"], "idle");
}

#[test]
fn connect_send_read_search_and_close_through_ipc() {
    let a = app();
    let tab: Value = a.call("create_tab", json!({ "name": "t" }));
    let id = tab["id"].as_u64().unwrap();
    a.call::<Value>("connect", json!({ "id": id }));
    let open = a.wait_state(id, "open");
    assert_eq!(open["state"]["handshake"]["status"], 101);

    let seq: u64 = a.call(
        "send",
        json!({ "id": id, "message": { "type": "text", "data": "<b>hello</b>" } }),
    );
    let bin: u64 = a.call(
        "send",
        json!({ "id": id, "message": { "type": "hex", "data": "de ad be ef" } }),
    );
    assert!(bin > seq);
    let t = Instant::now();
    let frames: Vec<Value> = loop {
        let frames: Vec<Value> = a.call("log_page", json!({ "id": id, "fromSeq": 0, "limit": 100 }));
        if frames.len() >= 4 || t.elapsed() > Duration::from_secs(5) {
            break frames;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let shape: Vec<(String, String)> = frames
        .iter()
        .map(|f| {
            (
                f["direction"].as_str().unwrap().into(),
                f["opcode"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(shape.iter().filter(|s| s.0 == "in").count(), 2, "{frames:?}");
    let echoed_bin = frames
        .iter()
        .find(|f| f["direction"] == "in" && f["opcode"] == "binary")
        .unwrap();
    assert_eq!(
        (&echoed_bin["preview"], &echoed_bin["encoding"]),
        (&json!("3q2+7w=="), &json!("base64")),
        "bytes travel as base64, not arrays of numbers"
    );

    let found: Value = a.call(
        "log_search",
        json!({ "id": id, "query": { "text": "HELLO", "directions": ["in"] } }),
    );
    assert_eq!(found["total"], 1);
    let one: Value = a.call("log_frame", json!({ "id": id, "seq": found["seqs"][0] }));
    assert_eq!(one["text"], "<b>hello</b>");

    a.call::<Value>("disconnect", json!({ "id": id, "code": 4001, "reason": "done here" }));
    let closed = a.wait_state(id, "closed");
    assert_eq!(closed["state"]["code"], 4001);
    assert_eq!(closed["state"]["clean"], true);
    let stats: Value = a.call("log_clear", json!({ "id": id }));
    assert_eq!(stats["heldFrames"], 0);
}

#[test]
fn a_page_of_the_log_carries_row_previews_and_the_detail_gets_the_whole_frame() {
    let a = app();
    let tab: Value = a.call("create_tab", json!({ "name": "big" }));
    let id = tab["id"].as_u64().unwrap();
    a.call::<Value>("connect", json!({ "id": id }));
    a.wait_state(id, "open");
    let big = "x".repeat(100_000);
    a.call::<Value>("send", json!({ "id": id, "message": { "type": "text", "data": big } }));
    let echo = a.wait_for("the 100 kB echo", || {
        let frames: Vec<Value> = a.call("log_page", json!({ "id": id, "fromSeq": 0, "limit": 10 }));
        frames.into_iter().find(|f| f["direction"] == "in")
    });
    assert_eq!(echo["len"], 100_000, "the row says the frame's real size");
    assert_eq!(echo["truncated"], true);
    assert_eq!(
        echo["preview"].as_str().map(str::len),
        Some(1024),
        "a page row holds what a row draws, not the payload"
    );
    let whole: Value = a.call("log_frame", json!({ "id": id, "seq": echo["seq"] }));
    assert_eq!(whole["text"].as_str().map(str::len), Some(100_000));
}

#[test]
fn bad_input_comes_back_as_kind_and_message() {
    let a = app();
    let tab: Value = a.call("create_tab", json!({}));
    let id = tab["id"].as_u64().unwrap();

    // A config is stored as typed; it is checked when connecting.
    a.call::<Value>(
        "set_config",
        json!({ "id": id, "config": { "url": "http://localhost:1/x" } }),
    );
    let e = a.err("connect", json!({ "id": id }));
    assert_eq!(e["kind"], "invalidUrl", "{e}");
    assert!(e["message"].as_str().unwrap().contains("ws://localhost:1/x"), "{e}");

    let e = a.err("send", json!({ "id": id, "message": { "type": "hex", "data": "zz" } }));
    assert_eq!(e["kind"], "invalidPayload");
    assert!(e["message"].as_str().unwrap().contains("position 1"), "{e}");
    let e = a.err(
        "send",
        json!({ "id": id, "message": { "type": "json", "data": "{\"a\": }" } }),
    );
    assert_eq!(e["kind"], "invalidPayload");
    assert!(e["message"].as_str().unwrap().contains("column"), "{e}");
    let e = a.err("send", json!({ "id": id, "message": { "type": "text", "data": "x" } }));
    assert_eq!(e["kind"], "notConnected");
    let e = a.err("close_tab", json!({ "id": 999 }));
    assert_eq!(e["kind"], "unknownSession");
    let e = a.err("rename_tab", json!({ "id": id, "name": "  " }));
    assert_eq!(e["kind"], "invalidName");
}

impl App {
    fn wait_for<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let t = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn a_saved_connection_with_messages_and_the_open_tabs_survive_a_restart() {
    let dir = temp_dir();
    let saved_id;
    {
        let a = app_in(dir.clone());
        let tab: Value = a.call("create_tab", json!({ "name": "Chat" }));
        let id = tab["id"].as_u64().unwrap();
        let conn = json!({ "name": "Chat", "config": tab["config"], "messages": [
            { "name": "hello", "format": "json", "body": "{\"hi\":1}", "sendOnConnect": true }
        ] });
        let saved: Value = a.call(
            "saved_save",
            json!({ "request": { "collection": "team", "connection": conn } }),
        );
        saved_id = saved["id"].as_str().unwrap().to_owned();
        assert_eq!(saved_id, "team/chat.json");
        assert!(saved["workspace"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "team/chat.json"));
        let meta = json!({ "messages": conn["messages"], "saved": { "id": saved_id, "revision": saved["revision"] },
            "dirty": false, "draft": { "format": "text", "text": "unsent words" } });
        a.call::<Value>("set_tab_meta", json!({ "id": id, "meta": meta }));
        a.call::<Value>("set_active_tab", json!({ "id": id }));
        // The file is plain, pretty JSON in the default workspace.
        let file = std::fs::read_to_string(dir.join("workspace/team/chat.json")).unwrap();
        assert!(
            file.contains("\n  \"name\": \"Chat\",") && file.contains("\"sendOnConnect\": true"),
            "{file}"
        );
    }
    let a = app_in(dir);
    let tabs: Vec<Value> = a.call("list_tabs", json!({}));
    let names: Vec<_> = tabs.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Local echo", "Chat"], "tabs come back in order");
    let ui: Value = a.call("ui_state", json!({}));
    let chat_id = tabs[1]["id"].as_u64().unwrap();
    assert_eq!(ui["active"], chat_id);
    let meta = &ui["tabs"][chat_id.to_string()];
    assert_eq!(meta["draft"]["text"], "unsent words");
    assert_eq!(meta["saved"]["id"], "team/chat.json");
    let loaded: Value = a.call("saved_open", json!({ "id": saved_id }));
    assert_eq!(loaded["connection"]["messages"][0]["body"], "{\"hi\":1}");
    // Connecting sends the on-connect message; the echo comes back.
    a.call::<Value>(
        "connect",
        json!({ "id": chat_id, "onOpen": loaded["connection"]["messages"] }),
    );
    a.wait_state(chat_id, "open");
    a.wait_for("the echoed on-connect message", || {
        let frames: Vec<Value> = a.call("log_page", json!({ "id": chat_id, "fromSeq": 0, "limit": 10 }));
        frames
            .iter()
            .any(|f| f["direction"] == "in" && f["preview"] == "{\"hi\":1}")
            .then_some(())
    });
}

#[test]
fn environment_variables_reach_the_handshake_and_unknown_ones_are_named() {
    let a = app();
    let env = json!({ "name": "local", "variables": [
        { "name": "trace", "value": "abc-123", "secret": false, "enabled": true },
        { "name": "token", "value": "s3cr3t", "secret": true, "enabled": true }
    ] });
    a.call::<Value>("environment_save", json!({ "environment": env }));
    a.call::<Value>("environment_select", json!({ "name": "local" }));
    let tab: Value = a.call("create_tab", json!({ "name": "vars" }));
    let id = tab["id"].as_u64().unwrap();
    let mut config = tab["config"].clone();
    config["headers"] =
        json!([{ "name": "X-Trace", "value": "{{trace}}" }, { "name": "Authorization", "value": "Bearer {{token}}" }]);
    a.call::<Value>("set_config", json!({ "id": id, "config": config }));
    a.call::<Value>("connect", json!({ "id": id }));
    let open = a.wait_state(id, "open");
    let sent = open["state"]["handshake"]["requestHeaders"].as_array().unwrap().clone();
    assert!(
        sent.iter().any(|h| h["name"] == "x-trace" && h["value"] == "abc-123"),
        "{sent:?}"
    );
    // The tab keeps the template; saving it never writes the secret.
    let saved: Value = a.call(
        "saved_save",
        json!({ "request": { "connection": { "name": "vars", "config": a.tab(id)["config"] } } }),
    );
    let root = a.call::<Value>("workspace_info", json!({}))["root"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = std::fs::read_to_string(std::path::Path::new(&root).join(saved["id"].as_str().unwrap())).unwrap();
    assert!(file.contains("Bearer {{token}}") && !file.contains("s3cr3t"), "{file}");
    a.call::<Value>("disconnect", json!({ "id": id }));
    a.wait_state(id, "closed");

    config["url"] = json!("{{host}}/x");
    a.call::<Value>("set_config", json!({ "id": id, "config": config }));
    let e = a.err("connect", json!({ "id": id }));
    assert_eq!(e["kind"], "unknownVariable");
    assert_eq!(e["message"], "unknown variable {{host}} in the URL");
}

#[test]
fn a_closed_session_is_in_history_reopens_read_only_and_exports() {
    let a = app();
    let tabs: Vec<Value> = a.call("list_tabs", json!({}));
    let id = tabs[0]["id"].as_u64().unwrap();
    a.call::<Value>("connect", json!({ "id": id }));
    a.wait_state(id, "open");
    a.call::<u64>(
        "send",
        json!({ "id": id, "message": { "type": "text", "data": "remember me" } }),
    );
    a.wait_for("the echo", || {
        let frames: Vec<Value> = a.call("log_page", json!({ "id": id, "fromSeq": 0, "limit": 10 }));
        (frames.len() >= 2).then_some(())
    });
    a.call::<Value>("disconnect", json!({ "id": id, "code": 4000, "reason": "bye" }));
    a.wait_state(id, "closed");
    let entry = a.wait_for("the history entry", || {
        let list: Value = a.call("history_list", json!({}));
        list["entries"].as_array().and_then(|l| l.first().cloned())
    });
    assert_eq!(entry["name"], "Local echo");
    assert_eq!(entry["outcome"], "closed 4000 “bye”");
    assert_eq!(entry["frames"], 4, "{entry}");
    let snap: Value = a.call("history_open", json!({ "id": entry["id"] }));
    assert_eq!(snap["readOnly"], true);
    let ro = snap["id"].as_u64().unwrap();
    let frames: Vec<Value> = a.call("log_page", json!({ "id": ro, "fromSeq": 0, "limit": 10 }));
    assert!(frames.iter().any(|f| f["preview"] == "remember me"));
    let e = a.err("connect", json!({ "id": ro }));
    assert!(e["message"].as_str().unwrap().contains("read-only"), "{e}");

    // Export the recording as HAR, then list what the file holds.
    let out = temp_dir().join("session.har");
    let done: Value = a.call(
        "export_log",
        json!({ "id": ro, "job": 7, "progress": "__CHANNEL__:1",
            "request": { "format": "har", "path": out.display().to_string(), "scope": { "type": "all" } } }),
    );
    assert_eq!(done["frames"], 4);
    let preview: Value = a.call("import_preview", json!({ "path": out.display().to_string() }));
    assert_eq!(preview["kind"], "log");
    assert_eq!(
        (&preview["connections"][0]["frames"], &preview["connections"][0]["sent"]),
        (&json!(4), &json!(2)),
        "{preview}"
    );
    let saved: Value = a.call(
        "import_save_connection",
        json!({ "path": out.display().to_string(), "index": 0, "collection": "imported" }),
    );
    let loaded: Value = a.call("saved_open", json!({ "id": saved["id"] }));
    assert_eq!(
        loaded["connection"]["messages"][0]["body"], "remember me",
        "the sent message became a saved message"
    );
}

#[test]
fn a_connection_saves_without_a_version_and_the_tree_filters_in_the_engine() {
    let a = app();
    // No `version`: the engine writes the current file format.
    let conn = json!({ "name": "Chat room", "config": { "url": "ws://127.0.0.1:1/" } });
    let saved: Value = a.call(
        "saved_save",
        json!({ "request": { "collection": "team/rooms", "connection": conn } }),
    );
    assert_eq!(saved["id"], "team/rooms/chat-room.json");
    let root = a.call::<Value>("workspace_info", json!({}))["root"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = std::fs::read_to_string(std::path::Path::new(&root).join("team/rooms/chat-room.json")).unwrap();
    assert!(file.contains("\"version\": 2"), "{file}");
    a.call::<Value>(
        "saved_save",
        json!({ "request": { "connection": { "name": "Other", "config": { "url": "ws://127.0.0.1:1/" } } } }),
    );
    // Tree items carry their collection and name: the UI never parses ids.
    let items: Vec<Value> = a.call("workspace_tree", json!({ "filter": "" }));
    let chat = items.iter().find(|i| i["id"] == "team/rooms/chat-room.json").unwrap();
    assert_eq!(
        (&chat["kind"], &chat["collection"], &chat["name"], &chat["depth"]),
        (
            &json!("connection"),
            &json!("team/rooms"),
            &json!("Chat room"),
            &json!(2)
        )
    );
    let rooms = items.iter().find(|i| i["path"] == "team/rooms").unwrap();
    assert_eq!(
        (&rooms["kind"], &rooms["parent"]),
        (&json!("collection"), &json!("team"))
    );
    // A match keeps its collections; case does not matter; others go.
    let items: Vec<Value> = a.call("workspace_tree", json!({ "filter": "CHAT" }));
    let rows: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().or(i["path"].as_str()).unwrap().to_owned())
        .collect();
    assert_eq!(rows, vec!["team", "team/rooms", "team/rooms/chat-room.json"]);
    let e = a.err(
        "saved_save",
        json!({ "request": { "collection": "a:b", "connection": conn } }),
    );
    assert_eq!(e["kind"], "invalidName", "{e}");
}

/// What this proves: a rescan that reads 5,000 changed files runs on a blocking
/// thread, and while it runs other commands are answered at once (the command
/// does not hold the IPC layer, and a cheap command needs no lock the rescan
/// holds). The mock runtime has no real main thread, so it cannot show the window
/// itself repainting; in the app the same async command keeps the main thread free.
#[test]
fn a_slow_rescan_does_not_hold_up_other_commands() {
    let a = app();
    let root = a.call::<Value>("workspace_info", json!({}))["root"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = std::path::Path::new(&root).join("many");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..5000 {
        let body = format!("{{\"version\": 2, \"name\": \"c{i}\", \"config\": {{\"url\": \"ws://h/{i}\"}}}}");
        std::fs::write(dir.join(format!("c{i}.json")), body).unwrap();
    }
    let app = a;
    let bg = app.webview.clone();
    let started = Instant::now();
    let rescan = std::thread::spawn(move || {
        let r = invoke(&bg, "workspace_rescan", json!({})).expect("rescan");
        (r, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(20));
    let mut slowest = Duration::ZERO;
    let mut answered_during = 0;
    let mut tree_during = 0;
    while !rescan.is_finished() {
        let t = Instant::now();
        let tabs: Vec<Value> = app.call("list_tabs", json!({}));
        assert_eq!(tabs.len(), 1);
        slowest = slowest.max(t.elapsed());
        if !rescan.is_finished() {
            answered_during += 1;
        }
        // This one takes the workspace lock: the walk does not hold it.
        let t = Instant::now();
        let _: Vec<Value> = app.call("workspace_tree", json!({ "filter": "no such name" }));
        if !rescan.is_finished() && t.elapsed() < Duration::from_millis(250) {
            tree_during += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (r, took) = rescan.join().unwrap();
    assert_eq!(
        r["changes"].as_array().unwrap().len(),
        5001,
        "5,000 files and their folder"
    );
    eprintln!(
        "rescan took {took:?}; {answered_during} cheap commands answered meanwhile, slowest {slowest:?}; \
         {tree_during} quick workspace reads meanwhile"
    );
    assert!(tree_during > 0, "the workspace lock was held through the walk");
    assert!(
        answered_during > 0,
        "the rescan ({took:?}) was too quick to overlap anything"
    );
    assert!(
        slowest < Duration::from_millis(250),
        "a cheap command waited {slowest:?}"
    );
}

/// `collection_create` takes the parent and the name apart (the engine joins and
/// checks them); `collection_rename` says which connection ID became which, so
/// the UI never rebuilds IDs from paths; names are checked by the engine.
#[test]
fn collections_are_made_from_parent_and_name_and_a_rename_lists_moved_ids() {
    let a = app();
    let view: Value = a.call("collection_create", json!({ "parent": "", "name": " team " }));
    assert!(
        view["items"].as_array().unwrap().iter().any(|i| i["path"] == "team"),
        "{view}"
    );
    a.call::<Value>("collection_create", json!({ "parent": "team", "name": "rooms" }));
    let e = a.err("collection_create", json!({ "parent": "team", "name": "a/b" }));
    assert_eq!(e["kind"], "invalidName", "{e}");
    assert!(e["message"].as_str().unwrap().contains('/'), "{e}");
    let e = a.err("collection_create", json!({ "parent": "team", "name": "  " }));
    assert_eq!(
        (&e["kind"], &e["message"]),
        (&json!("invalidName"), &json!("a collection needs a name"))
    );
    // The older whole-path form still works.
    a.call::<Value>("collection_create", json!({ "path": "other/deep" }));

    let conn = json!({ "name": "Echo", "config": { "url": "ws://127.0.0.1:1/" } });
    for collection in ["team", "team/rooms"] {
        a.call::<Value>(
            "saved_save",
            json!({ "request": { "collection": collection, "connection": conn } }),
        );
    }
    let r: Value = a.call("collection_rename", json!({ "path": "team", "name": "crew" }));
    assert_eq!(r["path"], "crew");
    assert_eq!(
        r["movedIds"],
        json!({ "team/echo.json": "crew/echo.json", "team/rooms/echo.json": "crew/rooms/echo.json" })
    );
    assert!(r["workspace"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "crew/rooms/echo.json"));
    let e = a.err("collection_rename", json!({ "path": "crew", "name": "x/y" }));
    assert_eq!(e["kind"], "invalidName", "{e}");

    // Empty connection names and bad variable names are refused too.
    let e = a.err(
        "saved_save",
        json!({ "request": { "connection": { "name": " ", "config": { "url": "ws://h/" } } } }),
    );
    assert_eq!(
        (&e["kind"], &e["message"]),
        (&json!("invalidName"), &json!("a connection needs a name"))
    );
    let env = json!({ "version": 1, "name": "local", "variables": [
        { "name": "base url", "value": "x", "secret": false, "enabled": true }
    ] });
    let e = a.err("environment_save", json!({ "environment": env }));
    assert_eq!(e["kind"], "invalidName", "{e}");
    assert!(e["message"].as_str().unwrap().contains("\"base url\""), "{e}");
}

impl App {
    fn state(&self) -> tauri::State<'_, AppState> {
        use tauri::Manager;
        self._app.state::<AppState>()
    }

    /// Frames of tab `id` (with their decoded views) once `done` holds, within 10 s.
    fn wait_rows(&self, id: u64, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let t = Instant::now();
        loop {
            let rows: Vec<Value> = self.call("log_page", json!({ "id": id, "fromSeq": 0, "limit": 1000 }));
            if done(&rows) {
                return rows;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "waiting for {what}: {rows:#?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn event_rows<'a>(rows: &'a [Value], event: &str, direction: &str) -> Vec<&'a Value> {
    rows.iter()
        .filter(|r| r["direction"] == direction && r["socketio"]["event"] == event && r["socketio"]["partial"] != true)
        .collect()
}

/// Socket.IO through IPC: a tab in Socket.IO mode on the built-in Socket.IO server
/// joins its namespace, emits with an ack, sees the broadcast and the ack decoded
/// beside the raw frames, and sends a file as an attachment and as a binary message.
#[test]
fn a_socketio_tab_emits_reads_decoded_rows_and_sends_files() {
    use wsbench_app::commands::dialogs::{send_file_at, FileAs};
    let server =
        tauri::async_runtime::block_on(wsbench_core::LocalServer::start(wsbench_core::ServerConfig::socketio()))
            .unwrap();
    let a = app();
    let config = json!({
        "url": server.url(),
        "socketio": { "version": 4, "namespaces": [{ "name": "/chat", "auth": { "token": "t" } }] }
    });
    let tab: Value = a.call("create_tab", json!({ "name": "sio", "config": config }));
    let id = tab["id"].as_u64().unwrap();
    a.call::<Value>("connect", json!({ "id": id }));
    a.wait_state(id, "open");
    a.wait_rows(id, "the CONNECT answer", |r| {
        r.iter()
            .any(|f| f["socketio"]["packet"] == "connect" && f["direction"] == "in")
    });
    let tab = a.tab(id);
    assert_eq!(
        tab["socketio"]["pingInterval"], 25000,
        "the open packet is shown: {tab}"
    );

    let emit = r#"{"type":"emit","namespace":"/chat","event":"chat","args":["hi",{"n":1}],"ack":true}"#;
    let seq: u64 = a.call(
        "send",
        json!({ "id": id, "message": { "type": "socketIo", "data": emit } }),
    );
    let rows = a.wait_rows(id, "the broadcast and the ack", |r| {
        !event_rows(r, "chat", "in").is_empty() && r.iter().any(|f| f["socketio"]["ackOf"] == "chat")
    });
    let sent = rows.iter().find(|r| r["seq"] == seq).unwrap();
    assert_eq!(
        sent["preview"], r#"42/chat,0["chat","hi",{"n":1}]"#,
        "the raw frame as it went"
    );
    assert_eq!(sent["socketio"]["ackId"], 0);
    let back = event_rows(&rows, "chat", "in")[0];
    assert_eq!(back["socketio"]["namespace"], "/chat");
    assert_eq!(back["socketio"]["args"], json!(["hi", {"n": 1}]));
    let ack = rows.iter().find(|f| f["socketio"]["ackOf"] == "chat").unwrap();
    assert_eq!(ack["socketio"]["args"], json!(["hi", {"n": 1}]));
    assert!(ack["socketio"]["rttUs"].as_u64().is_some());
    // Search by event name works on the decoded view.
    let found: Value = a.call("log_search", json!({ "id": id, "query": { "events": ["chat"] } }));
    assert_eq!(found["total"], 2, "{found}");

    // A file as an attachment: read in Rust, sent as a binary frame after its packet.
    let dir = temp_dir();
    let file = dir.join("pic.bin");
    std::fs::write(&file, [0xde, 0xad, 0xbe, 0xef]).unwrap();
    let as_event = FileAs::SocketIo {
        namespace: "/chat".into(),
        event: "file".into(),
        args: vec![json!("caption")],
        ack: false,
    };
    let sent = tauri::async_runtime::block_on(send_file_at(&a.state(), id, file.clone(), as_event.clone())).unwrap();
    assert_eq!((sent.name.as_str(), sent.bytes), ("pic.bin", 4));
    let rows = a.wait_rows(id, "the file broadcast", |r| !event_rows(r, "file", "in").is_empty());
    let got = event_rows(&rows, "file", "in")[0];
    assert_eq!(got["socketio"]["args"], json!(["caption", {"_binary": "3q2+7w=="}]));
    assert!(rows
        .iter()
        .any(|r| r["direction"] == "out" && r["opcode"] == "binary" && r["preview"] == "3q2+7w=="));

    // Too large: refused before reading, naming the size and the limit; the tab goes on.
    let mut cfg = a.tab(id)["config"].clone();
    cfg["limits"]["maxMessageSize"] = json!(1024);
    a.call::<Value>("set_config", json!({ "id": id, "config": cfg }));
    std::fs::write(&file, vec![7u8; 2048]).unwrap();
    let e = tauri::async_runtime::block_on(send_file_at(&a.state(), id, file.clone(), as_event)).unwrap_err();
    let e = serde_json::to_value(&e).unwrap();
    assert_eq!(e["kind"], "file", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains(
            "the file is 2.0 KiB (2048 bytes), over this connection's maximum message size of 1.0 KiB (1024 bytes)"
        ),
        "{e}"
    );
    let e = tauri::async_runtime::block_on(send_file_at(&a.state(), id, dir.clone(), FileAs::Binary)).unwrap_err();
    assert!(serde_json::to_value(&e).unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("not a file"));
    let again: u64 = a.call(
        "send",
        json!({ "id": id, "message": { "type": "socketIo", "data": emit } }),
    );
    assert!(again > seq, "the tab still sends");

    // The command itself takes no path: on this display-less runtime it says dialogs
    // are unavailable, whatever path the caller adds.
    let e = a.err(
        "send_file",
        json!({ "id": id, "sendAs": { "type": "binary" }, "path": file.display().to_string() }),
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("native file dialogs are not available"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A binary message from a file in WebSocket mode goes out whole and echoes back.
#[test]
fn a_file_is_sent_as_a_binary_message() {
    use wsbench_app::commands::dialogs::{send_file_at, FileAs};
    let a = app();
    let tab: Value = a.call("create_tab", json!({ "name": "bin" }));
    let id = tab["id"].as_u64().unwrap();
    let dir = temp_dir();
    let file = dir.join("blob.dat");
    let body: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    std::fs::write(&file, &body).unwrap();
    let e = tauri::async_runtime::block_on(send_file_at(&a.state(), id, file.clone(), FileAs::Binary)).unwrap_err();
    assert_eq!(serde_json::to_value(&e).unwrap()["kind"], "notConnected");
    a.call::<Value>("connect", json!({ "id": id }));
    a.wait_state(id, "open");
    let sent = tauri::async_runtime::block_on(send_file_at(&a.state(), id, file, FileAs::Binary)).unwrap();
    assert_eq!(sent.bytes, 70_000);
    let rows = a.wait_rows(id, "the echo", |r| {
        r.iter().any(|f| f["direction"] == "in" && f["opcode"] == "binary")
    });
    let echoed = rows.iter().find(|f| f["direction"] == "in").unwrap();
    // A page row holds a preview; the detail pane's call gives the whole frame.
    let whole: Value = a.call("log_frame", json!({ "id": id, "seq": echoed["seq"] }));
    let back = wsbench_core::payload::parse_base64(whole["base64"].as_str().unwrap()).unwrap();
    assert_eq!(&back[..], &body[..], "the whole file, byte for byte");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The global proxy setting: checked, applied, kept in state.json across a restart.
/// (The setting is process-wide: this test only sets "none", which changes nothing
/// for the other tests here, and puts "system" back.)
#[test]
fn the_global_proxy_is_checked_applied_and_kept() {
    let dir = temp_dir();
    let a = app_in(dir.clone());
    let v: Value = a.call("proxy_get", json!({}));
    assert_eq!(v["setting"], json!({ "mode": "system" }));
    assert!(v["environment"].is_array());
    let e = a.err(
        "proxy_set",
        json!({ "setting": { "mode": "url", "url": "ftp://u:hunter2@proxy:1" } }),
    );
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("use http://, socks5:// or socks5h://") && !msg.contains("hunter2"),
        "{e}"
    );
    let v: Value = a.call("proxy_get", json!({}));
    assert_eq!(v["setting"]["mode"], "system", "a refused setting changes nothing");
    let v: Value = a.call("proxy_set", json!({ "setting": { "mode": "none" } }));
    assert_eq!(v["setting"], json!({ "mode": "none" }));
    assert_eq!(
        wsbench_core::connection::global_proxy(),
        wsbench_core::config::ProxySetting::None
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved["proxy"], json!({ "mode": "none" }));
    drop(a);
    let b = app_in(dir.clone());
    let v: Value = b.call("proxy_get", json!({}));
    assert_eq!(v["setting"], json!({ "mode": "none" }), "restored after a restart");
    let v: Value = b.call("proxy_set", json!({ "setting": { "mode": "system" } }));
    assert_eq!(v["setting"]["mode"], "system");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    assert!(saved.get("proxy").is_none(), "the default is not written");
}

#[test]
fn a_scenario_is_checked_with_its_line_kept_in_the_file_and_its_report_written() {
    let dir = temp_dir();
    let a = app_in(dir.clone());
    let text = "{\n  \"steps\": [\n    { \"type\": \"send\", \"message\": \"Nope\" }\n  ]\n}";
    let e = a.err("scenario_check", json!({ "text": text, "messages": [] }));
    assert_eq!(e["kind"], "parse");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("(line 3, column 1): scenario step 1: there is no saved message named \"Nope\""),
        "{msg}"
    );
    let messages = json!([{ "name": "Nope", "body": "hi" }]);
    let scenario: Value = a.call("scenario_check", json!({ "text": text, "messages": messages }));
    assert_eq!(scenario["steps"][0]["message"], "Nope");

    // Saved with the connection and read back; a tab keeps it across a restart.
    let conn = json!({ "name": "Tested", "config": { "url": "ws://127.0.0.1:1/" }, "messages": messages, "scenario": scenario });
    let saved: Value = a.call(
        "saved_save",
        json!({ "request": { "collection": "", "connection": conn } }),
    );
    let loaded: Value = a.call("saved_open", json!({ "id": saved["id"] }));
    assert_eq!(loaded["connection"]["scenario"], scenario);
    let bad = json!({ "name": "Bad", "config": { "url": "ws://h/" }, "scenario": { "steps": [{ "type": "send" }] } });
    let e = a.err(
        "saved_save",
        json!({ "request": { "collection": "", "connection": bad } }),
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("scenario step 1: a send needs one of"),
        "{e}"
    );

    // A report as JUnit XML and as JSON.
    let report = json!({ "name": "Tested", "source": "tested.json", "passed": false, "durationMs": 12, "steps": [
        { "step": 1, "kind": "expect", "title": "expect contains \"a<b\"", "status": "failed", "durationMs": 5,
          "expected": "contains \"a<b\"", "arrived": "x&y", "frameSeq": 2 }
    ] });
    let xml = dir.join("r.xml");
    let path = xml.to_string_lossy().into_owned();
    a.call::<Value>(
        "scenario_report_write",
        json!({ "path": path, "format": "junit", "reports": [report] }),
    );
    let body = std::fs::read_to_string(&xml).unwrap();
    assert!(
        body.contains("<testcase classname=\"tested.json\" name=\"1 expect contains &quot;a&lt;b&quot;\""),
        "{body}"
    );
    assert!(body.contains("arrived: x&amp;y"), "{body}");
    let e = a.err(
        "scenario_report_write",
        json!({ "path": path, "format": "yaml", "reports": [] }),
    );
    assert!(e["message"].as_str().unwrap().contains("not junit or json"), "{e}");
}

#[test]
fn a_collection_runs_its_scenarios_in_tabs_whose_logs_keep_the_frames() {
    let a = app();
    let url: String = a.call("local_server_url", json!({}));
    let mut ids = Vec::new();
    for (name, want) in [("Good", "hi"), ("Bad", "bye")] {
        let conn = json!({ "name": name, "config": { "url": url }, "scenario": { "steps": [
            { "type": "send", "text": "hi" }, { "type": "expect", "equals": want, "timeoutMs": 300 }
        ] } });
        let saved: Value = a.call(
            "saved_save",
            json!({ "request": { "collection": "ci", "connection": conn } }),
        );
        ids.push(saved["id"].as_str().unwrap().to_owned());
    }
    let plain = json!({ "name": "Plain", "config": { "url": url } });
    a.call::<Value>(
        "saved_save",
        json!({ "request": { "collection": "ci", "connection": plain } }),
    );
    // "Good" is already open in a tab (not connected): the run reuses it.
    let open: Value = a.call("create_tab", json!({ "name": "Good", "config": { "url": url } }));
    let open_id = open["id"].as_u64().unwrap();
    a.call::<Value>(
        "set_tab_meta",
        json!({ "id": open_id, "meta": { "saved": { "id": ids[0] } } }),
    );
    let run = || -> Vec<Value> {
        a.call(
            "scenario_run_collection",
            json!({ "collection": "ci", "parallel": 2, "events": "__CHANNEL__:1" }),
        )
    };
    let reports = run();
    let got: Vec<(String, bool)> = reports
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(got, [("Bad".to_owned(), false), ("Good".to_owned(), true)]);
    assert!(reports[1]["steps"][0]["frameSeq"].is_u64(), "{}", reports[1]);
    assert_eq!(reports[0]["steps"][1]["arrived"], "hi");
    // The first tab, the reused "Good" tab, and a new tab for "Bad" (Plain has no scenario).
    let tabs: Vec<Value> = a.call("list_tabs", json!({}));
    let names: Vec<&str> = tabs.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tabs.len(), 3, "{names:?}");
    let bad = tabs.iter().find(|t| t["name"] == "Bad").expect("a tab for Bad");
    let bad_id = bad["id"].as_u64().unwrap();
    let ui: Value = a.call("ui_state", json!({}));
    assert_eq!(ui["tabs"][bad_id.to_string()]["saved"]["id"], ids[1].as_str(), "{ui}");
    assert_eq!(
        ui["tabs"][bad_id.to_string()]["scenario"]["steps"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Each tab's log holds its run's frames: "hi" sent and echoed, and the close.
    for id in [open_id, bad_id] {
        let tab = a.wait_state(id, "closed");
        assert_eq!(
            tab["config"]["reconnect"], open["config"]["reconnect"],
            "the config is put back"
        );
        let frames: Vec<Value> = a.call("log_page", json!({ "id": id, "fromSeq": 0, "limit": 100 }));
        let texts: Vec<(String, String)> = frames
            .iter()
            .filter(|f| f["opcode"] == "text")
            .map(|f| {
                (
                    f["direction"].as_str().unwrap().into(),
                    f["preview"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            texts,
            [("out".into(), "hi".into()), ("in".into(), "hi".into())],
            "tab {id}"
        );
    }
    // A second run reuses Bad's tab and appends to its log; "Good" is connected by the
    // user now, so the run leaves it alone and opens a tab beside it.
    a.call::<Value>("connect", json!({ "id": open_id }));
    a.wait_state(open_id, "open");
    let again = run();
    assert_eq!(again.len(), 2);
    assert!(again[1]["passed"].as_bool().unwrap(), "{}", again[1]);
    let tabs: Vec<Value> = a.call("list_tabs", json!({}));
    let names: Vec<&str> = tabs.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "Good").count(), 2, "{names:?}");
    assert_eq!(tabs.len(), 4, "{names:?}");
    assert_eq!(
        a.tab(open_id)["state"]["type"],
        "open",
        "the user's connection is untouched"
    );
    let frames: Vec<Value> = a.call("log_page", json!({ "id": bad_id, "fromSeq": 0, "limit": 100 }));
    assert_eq!(frames.iter().filter(|f| f["opcode"] == "text").count(), 4);
    a.call::<Value>("disconnect", json!({ "id": open_id, "code": 1000, "reason": "" }));
}
