//! `wsbench-cli run` on a workspace fixture against servers started here (an echo
//! server; a server that answers a login with a token and then requires it), with the
//! JUnit XML parsed back; and `connect --send-every`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::workspace::Workspace;
use wsbench_core::{ConnectConfig, Environment, LocalServer, SavedConnection, SavedMessage, ServerConfig, Variable};

async fn cli(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_wsbench-cli"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsbench-run-{tag}-{}-{}", std::process::id(), fastrand_u64()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

fn p(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Answers `{"op":"login","password":"s3cret-pw"}` with a fresh token, then answers
/// `{"op":"get","token":T}` only with that token; anything else closes with 4001.
async fn login_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok((tcp, _)) = l.accept().await {
            n += 1;
            let token = format!("tok-{n}-{}", fastrand_u64());
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let mut logged_in = false;
                while let Some(Ok(Message::Text(t))) = ws.next().await {
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    let reply = if v["op"] == "login" && v["password"] == "s3cret-pw" {
                        logged_in = true;
                        json!({"op": "welcome", "token": token})
                    } else if logged_in && v["op"] == "get" && v["token"] == token.as_str() {
                        json!({"op": "data", "items": [1, 2, 3]})
                    } else {
                        let _ = ws.close(None).await;
                        return;
                    };
                    if ws.send(Message::Text(reply.to_string().into())).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("ws://{addr}/")
}

fn with_scenario(name: &str, url: &str, messages: Vec<SavedMessage>, steps: Value) -> SavedConnection {
    let mut c = SavedConnection::new(name, ConnectConfig::new(url));
    c.messages = messages;
    c.scenario = Some(serde_json::from_value(json!({"stepTimeoutMs": 5000, "steps": steps})).unwrap());
    c
}

/// A workspace: `chat/echo` (passes), `chat/broken` (fails: expects what never comes),
/// `auth/login` (login, capture the token, use it), `notes/plain` (no scenario) and
/// an environment `local` with the URLs, a user and a secret password.
async fn fixture(tag: &str) -> (PathBuf, LocalServer) {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let login = login_server().await;
    let root = temp_dir(tag);
    let (mut ws, _) = Workspace::open(&root).unwrap();
    let env = Environment {
        name: "local".into(),
        variables: vec![
            Variable::new("echoUrl", echo.url()),
            Variable::new("loginUrl", login),
            Variable::new("user", "ann"),
            Variable::secret("password", "s3cret-pw"),
        ],
        ..Environment::default()
    };
    ws.save_environment(&env, None, false).unwrap();
    let c = with_scenario(
        "Echo",
        "{{echoUrl}}",
        vec![SavedMessage::text("Hi", "hi {{user}}")],
        json!([
            {"type": "send", "message": "Hi"},
            {"type": "expect", "equals": "hi ann"},
            {"type": "repeat", "times": 3, "steps": [
                {"type": "send", "text": "tick {{$counter}}"},
                {"type": "expect", "equals": "tick {{$counter}}"}
            ]},
            {"type": "close"}
        ]),
    );
    ws.create_connection("chat", &c).unwrap();
    let c = with_scenario(
        "Broken",
        "{{echoUrl}}",
        vec![],
        json!([
            {"type": "send", "text": "pong <&>"},
            {"type": "expect", "contains": "ping", "timeoutMs": 300},
            {"type": "close"}
        ]),
    );
    ws.create_connection("chat", &c).unwrap();
    let c = with_scenario(
        "Login",
        "{{loginUrl}}",
        vec![],
        json!([
            {"type": "send", "json": {"op": "login", "user": "{{user}}", "password": "{{password}}"}},
            {"type": "expect", "json": {"op": "welcome"}},
            {"type": "capture", "name": "token", "pointer": "/token"},
            {"type": "send", "json": {"op": "get", "token": "{{token}}"}},
            {"type": "expect", "pointer": "/items/2", "pointerEquals": 3},
            {"type": "expect", "none": true, "timeoutMs": 200}
        ]),
    );
    ws.create_connection("auth", &c).unwrap();
    ws.create_connection("notes", &SavedConnection::new("Plain", ConnectConfig::new("ws://h/")))
        .unwrap();
    (root, echo)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_runs_and_writes_junit_and_json() {
    let (root, _echo) = fixture("ws").await;
    let junit = root.join("junit.xml");
    let report = root.join("report.json");
    let o = cli(args(&[
        "run",
        &p(&root),
        "--env",
        "local",
        "--reporter",
        &format!("junit:{}", p(&junit)),
        "--reporter",
        &format!("json:{}", p(&report)),
        "--parallel",
        "2",
    ]))
    .await;
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "one scenario fails\n{out}\n{err}");
    assert!(out.contains("PASS Login (auth/login.json)"), "{out}");
    assert!(out.contains("PASS Echo (chat/echo.json)"), "{out}");
    assert!(out.contains("FAIL Broken (chat/broken.json)"), "{out}");
    assert!(
        out.contains("  step 2 expect contains \"ping\": no matching message within 300 ms; expected contains \"ping\"; arrived pong <&> (frame #"),
        "{out}"
    );
    assert!(out.contains("3 scenarios: 2 passed, 1 failed"), "{out}");

    // JUnit: testsuites > testsuite per scenario > testcase per step, one failure.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains("s3cret-pw"), "the secret stays out of reports");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root_el = doc.root_element();
    assert_eq!(root_el.tag_name().name(), "testsuites");
    assert_eq!(root_el.attribute("failures"), Some("1"));
    let suites: Vec<_> = root_el.children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<_> = suites.iter().map(|s| s.attribute("name").unwrap()).collect();
    assert_eq!(names, ["Login", "Broken", "Echo"]);
    for s in &suites {
        let cases: Vec<_> = s.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(s.attribute("tests").unwrap(), cases.len().to_string());
        for c in &cases {
            assert!(c.attribute("classname").is_some() && c.attribute("name").is_some());
            c.attribute("time").unwrap().parse::<f64>().unwrap();
        }
    }
    let broken = suites[1];
    assert_eq!(broken.attribute("failures"), Some("1"));
    assert_eq!(broken.attribute("skipped"), Some("1"));
    let failure = broken.descendants().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(
        failure.parent().unwrap().attribute("name"),
        Some("2 expect contains \"ping\"")
    );
    let body = failure.text().unwrap();
    assert!(
        body.contains("expected: contains \"ping\"\narrived: pong <&>"),
        "{body}"
    );
    assert!(broken.descendants().any(|n| n.has_tag_name("skipped")));

    // JSON: the summary and every step.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["summary"]["scenarios"], 3);
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["scenarios"][0]["steps"][2]["message"], "captured {{token}}");
    assert!(!v.to_string().contains("s3cret-pw"));
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_or_a_file_runs_alone_and_passes() {
    let (root, _echo) = fixture("coll").await;
    let o = cli(args(&["run", &p(&root.join("auth")), "--env", "local"])).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("1 scenario: 1 passed, 0 failed"));
    let o = cli(args(&[
        "run",
        &p(&root.join("chat/echo.json")),
        "--env",
        "local",
        "--var",
        "user=bob",
    ]))
    .await;
    // --var wins over the environment: the saved message now says "hi bob".
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("expected equals \"hi ann\"; arrived hi bob"),
        "{}",
        text(&o.stdout)
    );
    // Bail: after the first failure nothing else starts.
    let o = cli(args(&["run", &p(&root.join("chat")), "--env", "local", "--bail"])).await;
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("1 scenario: 0 passed, 1 failed, 1 not run (--bail)"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_naming_file_line_and_step() {
    let (root, _echo) = fixture("bad").await;
    let file = root.join("chat/echo.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["scenario"]["steps"][1] = json!({"type": "expect", "regex": "(unclosed"});
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let text_of = std::fs::read_to_string(&file).unwrap();
    // The step's `{` is on the line before its first key: the key's 0-based index.
    let line = text_of.lines().position(|l| l.contains("(unclosed")).unwrap();
    let o = cli(args(&["run", &p(&root), "--env", "local"])).await;
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let want = format!("echo.json (line {line}, column 1): scenario step 2: the regex \"(unclosed\" does not compile");
    assert!(err.contains(&want), "{err}\nwanted {want}");
    assert_eq!(text(&o.stdout), "", "nothing ran");

    for (a, why) in [
        (vec!["run", &p(&root.join("auth")), "--env", "nope"], "--env \"nope\""),
        (
            vec!["run", &p(&root.join("auth")), "--reporter", "xml:x"],
            "use junit:FILE or json:FILE",
        ),
        (
            vec!["run", &p(&root.join("notes"))],
            "no saved connection with a scenario there",
        ),
        (
            vec!["run", &p(&root.join("auth")), "--var", "novalue"],
            "use NAME=VALUE",
        ),
        (vec!["run", &p(&root.join("auth")), "--timeout", "0"], "--timeout 0"),
        (
            vec!["run", &p(&root.join("auth")), "--timeout", "1e15"],
            "within 7 days",
        ),
        (
            vec!["run", &p(&root.join("auth")), "--parallel", "0"],
            "--parallel must be at least 1",
        ),
    ] {
        let o = cli(args(&a)).await;
        assert_eq!(o.status.code(), Some(2), "{a:?}");
        assert!(text(&o.stderr).contains(why), "{a:?}: {}", text(&o.stderr));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_file_outside_a_workspace_runs_with_vars() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let dir = temp_dir("loose");
    let c = with_scenario(
        "Loose",
        "{{url}}",
        vec![],
        json!([{"type": "send", "text": "x"}, {"type": "expect", "equals": "x"}]),
    );
    let file = dir.join("loose.json");
    std::fs::write(&file, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    let o = cli(args(&["run", &p(&file), "--var", &format!("url={}", echo.url())])).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let o = cli(args(&["run", &p(&file), "--env", "x"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not in a wsbench workspace"),
        "{}",
        text(&o.stderr)
    );
    let o = cli(args(&["run", &p(&file)])).await;
    assert_eq!(o.status.code(), Some(1), "an unknown variable fails the scenario");
    assert!(
        text(&o.stdout).contains("unknown variable {{url}}"),
        "{}",
        text(&o.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_every_repeats_the_send_messages_with_the_counter() {
    let echo = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let o = cli(args(&[
        "connect",
        &echo.url(),
        "--send",
        "n {{$counter}}",
        "--send-every",
        "20",
        "--count",
        "3",
        "--timeout",
        "20",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "n 1\nn 2\nn 3\n");
    let o = cli(args(&["connect", &echo.url(), "--send", "x", "--send-every", "1"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("at most every 10 ms"), "{}", text(&o.stderr));
}
