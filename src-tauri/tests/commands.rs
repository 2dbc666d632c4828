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

fn app() -> App {
    let state = tauri::async_runtime::block_on(AppState::start()).expect("engine starts");
    let app = with_commands(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("app builds");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    App { _app: app, webview }
}

impl App {
    fn call_raw(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, req).map(|b| b.deserialize::<Value>().unwrap())
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
        echoed_bin["base64"], "3q2+7w==",
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
    assert_eq!(e["kind"], "invalidConfig");
}
