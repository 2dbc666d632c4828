//! Security review of the desktop shell, as tests: the capability and the CSP are
//! exactly what the README promises (no permission creep), the UI never builds HTML
//! from strings nor opens URLs (so links in server data are plain text), and every
//! command that takes a path from the UI refuses relative paths and `..`.

use std::path::Path;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use wsbench_app::{with_commands, AppState};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn json_file(rel: &str) -> Value {
    let p = Path::new(ROOT).join(rel);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_capability_grants_nothing_and_only_the_main_window_has_one() {
    let dir = Path::new(ROOT).join("capabilities");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, ["default.json"], "one capability file");
    let cap = json_file("capabilities/default.json");
    assert_eq!(cap["windows"], json!(["main"]));
    assert_eq!(cap["permissions"], json!([]), "README: no core or plugin permission");
    assert!(cap.get("remote").is_none(), "no remote URL may call commands");
    let conf = json_file("tauri.conf.json");
    let caps = &conf["app"]["security"]["capabilities"];
    assert!(caps.is_null() || caps == &json!(["default"]), "{caps}");
}

#[test]
fn the_csp_allows_only_self_and_no_inline_or_eval() {
    let conf = json_file("tauri.conf.json");
    let sec = &conf["app"]["security"];
    assert_eq!(
        sec["csp"],
        json!({
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "font-src": "'self'",
            "connect-src": "ipc: http://ipc.localhost",
            "object-src": "'none'",
            "base-uri": "'none'",
            "form-action": "'none'",
            "frame-ancestors": "'none'"
        })
    );
    assert_eq!(sec["freezePrototype"], json!(true));
    for key in [
        "dangerousDisableAssetCspModification",
        "devCsp",
        "dangerousRemoteDomainIpcAccess",
    ] {
        assert!(sec.get(key).is_none(), "{key} is set");
    }
    // `withGlobalTauri` stays on: the plain-JS UI (no bundler) calls `window.__TAURI__`;
    // with no permission granted that reaches wsbench's own commands only.
    let text = conf.to_string();
    assert!(!text.contains("unsafe-inline") && !text.contains("unsafe-eval"));
}

/// Server data reaches the page only as text: no HTML sinks, no eval, no navigation.
#[test]
fn the_ui_has_no_html_sink_eval_or_url_opening() {
    let ui = Path::new(ROOT).join("../ui");
    let mut bad = Vec::new();
    let mut stack = vec![ui.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "tests" && n != "node_modules") {
                    stack.push(p);
                }
                continue;
            }
            let is_code = p.extension().is_some_and(|x| x == "js" || x == "html");
            if !is_code {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                for sink in [
                    ".innerHTML",
                    ".outerHTML",
                    "insertAdjacentHTML",
                    "document.write",
                    "eval(",
                    "new Function",
                    "window.open",
                    "location.href =",
                    "location.assign",
                    "<a ",
                    "createElement(\"a\")",
                    "createElement('a')",
                ] {
                    if line.contains(sink) {
                        bad.push(format!("{}:{}: {sink}", p.strip_prefix(&ui).unwrap().display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn commands_refuse_paths_the_ui_invented() {
    let data = std::env::temp_dir().join(format!("wsbench-sec-app-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let state = tauri::async_runtime::block_on(AppState::start(data.clone())).expect("engine starts");
    let app = with_commands(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("app builds");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    let call = |cmd: &str, args: Value| {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&webview, req).map(|b| b.deserialize::<Value>().unwrap())
    };
    let outside = data.join("../wsbench-sec-escape").display().to_string();
    for path in ["relative/ws", "../up", "./here", "", outside.as_str()] {
        for (cmd, args) in [
            ("workspace_open", json!({ "path": path })),
            ("import_preview", json!({ "path": path })),
            ("import_apply", json!({ "path": path, "into": "" })),
            ("import_open_log", json!({ "path": path, "index": 0 })),
        ] {
            let e = call(cmd, args).expect_err(cmd);
            assert_eq!(e["kind"], "invalidName", "{cmd} {path:?}: {e}");
            assert!(
                e["message"].as_str().unwrap().contains("is not a path wsbench can use"),
                "{e}"
            );
        }
    }
    assert!(!data.join("../wsbench-sec-escape").exists(), "nothing created outside");
    let e = call("saved_open", json!({ "id": "../../etc/passwd.json" })).expect_err("saved_open");
    assert!(e["kind"].is_string(), "{e}");
    let e = call("history_open", json!({ "id": "../state.json" })).expect_err("history_open");
    assert!(e["message"].as_str().unwrap().contains("no such session"), "{e}");
    let _ = std::fs::remove_dir_all(&data);
}
