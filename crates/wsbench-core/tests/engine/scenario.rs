//! Scenarios run against servers started here: every step kind and matcher passing
//! and failing, captures feeding later steps, negative checks, repeats, timeouts,
//! invalid files named by line and step; and periodic sends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use wsbench_core::collections::migrate::parse_connection;
use wsbench_core::collections::vars::Vars;
use wsbench_core::periodic::PeriodicSend;
use wsbench_core::scenario::{run, RunOptions, ScenarioReport, StepStatus};
use wsbench_core::{
    ConnectConfig, Direction, LocalServer, SavedConnection, SavedMessage, ServerConfig, SessionManager, Variable,
};

use crate::support::{closed_port, manager, scripted};

fn conn(url: &str, steps: Value) -> SavedConnection {
    let mut c = SavedConnection::new("scn", ConnectConfig::new(url));
    c.messages.push(SavedMessage::text("Hello", "hello {{who}}"));
    c.scenario = Some(serde_json::from_value(json!({ "stepTimeoutMs": 3000, "steps": steps })).unwrap());
    c
}

async fn go(m: &SessionManager, c: &SavedConnection, opts: RunOptions) -> ScenarioReport {
    let id = m.create("scn", c.config.clone());
    let r = tokio::time::timeout(Duration::from_secs(30), run(m, id, c, opts)).await;
    r.expect("a scenario never hangs")
}

fn opts() -> RunOptions {
    RunOptions {
        vars: Vars::new(&[Variable::new("who", "ann")]),
        ..RunOptions::default()
    }
}

fn statuses(r: &ScenarioReport) -> Vec<StepStatus> {
    r.steps.iter().map(|s| s.status).collect()
}

async fn echo() -> LocalServer {
    LocalServer::start(ServerConfig::echo()).await.unwrap()
}

#[tokio::test]
async fn every_step_kind_and_matcher_passes_against_an_echo_server() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([
            {"type": "send", "message": "Hello"},
            {"type": "expect", "equals": "hello ann"},
            {"type": "send", "json": {"op": "sub", "user": "{{who}}", "data": {"id": 7}}},
            {"type": "expect", "json": {"op": "sub", "data": {"id": 7}}},
            {"type": "send", "text": "{\"op\":\"x\",\"n\":[1,2]}"},
            {"type": "expect", "pointer": "/n/1", "pointerEquals": 2},
            {"type": "send", "text": "id=abc42;"},
            {"type": "expect", "regex": "id=\\w+"},
            {"type": "capture", "name": "sid", "regex": "id=(\\w+);"},
            {"type": "send", "text": "again {{sid}}"},
            {"type": "expect", "contains": "again abc42"},
            {"type": "send", "hex": "01 02 ff"},
            {"type": "expect", "hex": "0102ff"},
            {"type": "send", "base64": "AQI="},
            {"type": "expect", "hex": "01 02"},
            {"type": "wait", "ms": 20},
            {"type": "close", "code": 1000, "reason": "done"},
        ]),
    );
    let r = go(&m, &c, opts()).await;
    assert!(r.passed, "{}", r.summary());
    assert_eq!(r.steps.len(), 17);
    assert_eq!(r.steps[8].message.as_deref(), Some("captured {{sid}}"));
    // The frames are in the session's log as usual, both ways.
    let s = m.get(m.ids()[0]).unwrap();
    let log = s.log().page(0, 100);
    let texts: Vec<_> = log
        .iter()
        .filter(|f| f.direction == Direction::Out)
        .filter_map(|f| f.text())
        .collect();
    assert!(texts.contains(&"again abc42"), "{texts:?}");
    assert_eq!(
        log.iter()
            .filter(|f| f.direction == Direction::In && f.opcode.is_data())
            .count(),
        7
    );
}

#[tokio::test]
async fn a_tab_runs_its_scenario_again_after_the_first_run_closed() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([{"type": "send", "text": "x"}, {"type": "expect", "equals": "x"}]),
    );
    let id = m.create("again", c.config.clone());
    for _ in 0..3 {
        let r = tokio::time::timeout(Duration::from_secs(30), run(&m, id, &c, opts()))
            .await
            .unwrap();
        assert!(r.passed, "{}", r.summary());
    }
    let s = m.get(id).unwrap();
    let ins = s
        .log()
        .page(0, 100)
        .iter()
        .filter(|f| f.direction == Direction::In && f.opcode.is_data())
        .count();
    assert_eq!(ins, 3);
}

#[tokio::test]
async fn a_failed_expect_says_what_arrived_and_skips_the_rest() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([
            {"type": "send", "text": "pong {{pw}}"},
            {"type": "expect", "contains": "ping", "timeoutMs": 300},
            {"type": "send", "text": "never"},
        ]),
    );
    let t0 = Instant::now();
    let mut o = opts();
    o.vars = Vars::new(&[Variable::secret("pw", "hunter22")]);
    o.secrets = vec!["hunter22".into()];
    let r = go(&m, &c, o).await;
    assert!(!r.passed);
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(
        statuses(&r),
        [StepStatus::Passed, StepStatus::Failed, StepStatus::Skipped]
    );
    let f = &r.steps[1];
    assert_eq!(f.expected.as_deref(), Some("contains \"ping\""));
    assert_eq!(f.arrived.as_deref(), Some("pong [redacted]"), "secrets are redacted");
    assert!(f.frame_seq.is_some());
    assert!(f.message.as_deref().unwrap().contains("within 300 ms"), "{f:?}");
    let summary = r.summary();
    assert!(summary.starts_with("FAIL scn"), "{summary}");
    assert!(summary.contains("step 2 expect contains \"ping\""), "{summary}");
    assert!(summary.contains("arrived pong [redacted] (frame #"), "{summary}");
}

#[tokio::test]
async fn strict_expect_fails_at_the_first_other_message_and_lenient_skips_it() {
    let server = echo().await;
    let (m, _) = manager();
    let steps = |strict: bool| {
        json!([
            {"type": "send", "text": "a"},
            {"type": "send", "text": "b"},
            {"type": "expect", "equals": "b", "strict": strict},
        ])
    };
    let r = go(&m, &conn(&server.url(), steps(false)), opts()).await;
    assert!(r.passed, "{}", r.summary());
    let r = go(&m, &conn(&server.url(), steps(true)), opts()).await;
    assert_eq!(r.steps[2].status, StepStatus::Failed);
    assert_eq!(r.steps[2].arrived.as_deref(), Some("a"));
    assert!(
        r.steps[2].message.as_deref().unwrap().contains("the next message"),
        "{:?}",
        r.steps[2]
    );
}

#[tokio::test]
async fn negative_checks_pass_when_nothing_matches_and_do_not_consume() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([
            {"type": "send", "text": "fine"},
            {"type": "expect", "none": true, "contains": "error", "timeoutMs": 300},
            {"type": "expect", "equals": "fine"},
        ]),
    );
    let r = go(&m, &c, opts()).await;
    assert!(r.passed, "{}", r.summary());
    let c = conn(
        &server.url(),
        json!([
            {"type": "send", "text": "an error"},
            {"type": "expect", "none": true, "contains": "error", "timeoutMs": 2000},
        ]),
    );
    let r = go(&m, &c, opts()).await;
    assert_eq!(r.steps[1].status, StepStatus::Failed);
    assert_eq!(r.steps[1].arrived.as_deref(), Some("an error"));
    assert_eq!(
        r.steps[1].expected.as_deref(),
        Some("no message with contains \"error\"")
    );
}

#[tokio::test]
async fn repeats_run_n_times_or_every_n_ms_with_the_counter() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([
            {"type": "repeat", "times": 3, "steps": [
                {"type": "send", "text": "tick {{$counter}}"},
                {"type": "expect", "equals": "tick {{$counter}}"},
            ]},
            {"type": "repeat", "everyMs": 50, "forMs": 200, "steps": [
                {"type": "send", "text": "beat {{$counter}}"},
            ]},
        ]),
    );
    let r = go(&m, &c, opts()).await;
    assert!(r.passed, "{}", r.summary());
    assert_eq!(r.steps[0].message.as_deref(), Some("3 iterations"));
    assert_eq!(r.steps[1].message.as_deref(), Some("5 iterations"));
    let s = m.get(m.ids()[0]).unwrap();
    let sent: Vec<String> = s
        .log()
        .page(0, 100)
        .iter()
        .filter(|f| f.direction == Direction::Out)
        .filter_map(|f| f.text().map(str::to_owned))
        .collect();
    assert_eq!(&sent[..3], ["tick 1", "tick 2", "tick 3"]);
    assert_eq!(&sent[3..8], ["beat 1", "beat 2", "beat 3", "beat 4", "beat 5"]);

    // A failing iteration says which one.
    let c = conn(
        &server.url(),
        json!([{"type": "repeat", "times": 3, "steps": [
            {"type": "send", "text": "n{{$counter}}"},
            {"type": "expect", "equals": "n1", "timeoutMs": 300},
        ]}]),
    );
    let r = go(&m, &c, opts()).await;
    let msg = r.steps[0].message.clone().unwrap();
    assert!(msg.starts_with("iteration 2 of 3, step 1.2 (expect)"), "{msg}");
    assert_eq!(r.steps[0].arrived.as_deref(), Some("n2"));
}

/// A server that answers `{"op":"login"}` with a fresh token and then serves only
/// requests carrying it; anything else closes with 4001.
async fn login_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let t2 = tokens.clone();
    let (addr, _) = scripted(move |mut ws| {
        let tokens = t2.clone();
        async move {
            let mut token = None;
            while let Some(Ok(Message::Text(t))) = ws.next().await {
                let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                let reply = match (v["op"].as_str(), &token) {
                    (Some("login"), _) => {
                        let tok = format!("tok-{}", fastrand::u64(..));
                        tokens.lock().unwrap().push(tok.clone());
                        token = Some(tok.clone());
                        json!({"op": "welcome", "token": tok})
                    }
                    (Some("get"), Some(tok)) if v["token"] == *tok => json!({"op": "data", "ok": true}),
                    _ => {
                        let frame = CloseFrame {
                            code: CloseCode::from(4001),
                            reason: "bad token".into(),
                        };
                        let _ = ws.close(Some(frame)).await;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        return;
                    }
                };
                if ws.send(Message::Text(reply.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (addr, tokens)
}

#[tokio::test]
async fn a_captured_token_feeds_later_steps_and_never_reaches_the_report() {
    let (addr, tokens) = login_server().await;
    let (m, _) = manager();
    let steps = |token: &str| {
        json!([
            {"type": "send", "json": {"op": "login", "user": "{{who}}"}},
            {"type": "expect", "json": {"op": "welcome"}, "pointer": "/token"},
            {"type": "capture", "name": "token", "pointer": "/token"},
            {"type": "send", "json": {"op": "get", "token": token}},
            {"type": "expect", "json": {"ok": true}},
        ])
    };
    let r = go(&m, &conn(&format!("ws://{addr}/"), steps("{{token}}")), opts()).await;
    assert!(r.passed, "{}", r.summary());
    let token = tokens.lock().unwrap()[0].clone();
    let report = serde_json::to_string(&r).unwrap();
    assert!(!report.contains(&token), "{report}");

    // Without the token the server closes: the expect fails with the close.
    let r = go(&m, &conn(&format!("ws://{addr}/"), steps("wrong")), opts()).await;
    assert_eq!(r.steps[4].status, StepStatus::Failed);
    let msg = r.steps[4].message.clone().unwrap();
    assert!(
        msg.contains("closed with code 4001 (bad token) before a match"),
        "{msg}"
    );
    assert_eq!(r.steps[4].arrived.as_deref(), Some("nothing"));
}

#[tokio::test]
async fn live_results_show_captured_values_and_hide_secrets_while_the_report_hides_both() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([
            {"type": "send", "json": {"token": "tok-1234", "pw": "{{pw}}"}},
            {"type": "expect", "contains": "tok-"},
            {"type": "capture", "name": "token", "pointer": "/token"},
            {"type": "send", "text": "use {{token}} {{pw}}"},
            {"type": "expect", "equals": "never", "timeoutMs": 300},
        ]),
    );
    let live = Arc::new(Mutex::new(Vec::new()));
    let mut o = opts();
    o.vars = Vars::new(&[Variable::secret("pw", "hunter22")]);
    o.secrets = vec!["hunter22".into()];
    let seen = live.clone();
    o.on_step = Some(Arc::new(move |r| seen.lock().unwrap().push(r.clone())));
    let r = go(&m, &c, o).await;
    let live = live.lock().unwrap().clone();
    assert_eq!(live.len(), 5);
    // On screen: the captured token as it arrived, the secret still hidden.
    assert_eq!(
        live[4].arrived.as_deref(),
        Some("use tok-1234 [redacted]"),
        "{:?}",
        live[4]
    );
    // In the report (what goes to files): both hidden, also in the step before the capture.
    assert_eq!(r.steps[4].arrived.as_deref(), Some("use [redacted] [redacted]"));
    let report = serde_json::to_string(&r).unwrap();
    assert!(!report.contains("tok-1234") && !report.contains("hunter22"), "{report}");
    assert_eq!(r.steps[4].frame_seq, live[4].frame_seq);
}

#[tokio::test]
async fn expect_close_checks_the_code() {
    let (addr, _) = login_server().await;
    let (m, _) = manager();
    let steps = |code: u16| json!([{"type": "send", "text": "junk"}, {"type": "expectClose", "code": code}]);
    let r = go(&m, &conn(&format!("ws://{addr}/"), steps(4001)), opts()).await;
    assert!(r.passed, "{}", r.summary());
    let r = go(&m, &conn(&format!("ws://{addr}/"), steps(1000)), opts()).await;
    assert_eq!(r.steps[1].status, StepStatus::Failed);
    assert_eq!(r.steps[1].expected.as_deref(), Some("close code 1000"));
    assert_eq!(r.steps[1].arrived.as_deref(), Some("closed with code 4001 (bad token)"));
}

#[tokio::test]
async fn the_run_time_limit_ends_a_scenario_that_would_wait_long() {
    let server = echo().await;
    let (m, _) = manager();
    let c = conn(
        &server.url(),
        json!([{"type": "expect", "contains": "never", "timeoutMs": 60000}, {"type": "wait", "ms": 1}]),
    );
    let t0 = Instant::now();
    let r = go(
        &m,
        &c,
        RunOptions {
            timeout: Some(Duration::from_millis(500)),
            ..opts()
        },
    )
    .await;
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(statuses(&r), [StepStatus::Failed, StepStatus::Skipped]);
    assert!(
        r.steps[0].message.as_deref().unwrap().contains("time limit (0.5 s)"),
        "{r:?}"
    );
    // The session's connection was closed at the end.
    let s = m.get(m.ids()[0]).unwrap();
    assert!(s.state().is_terminal(), "{:?}", s.state());
}

#[tokio::test]
async fn a_scenario_that_cannot_connect_reports_why() {
    let port = closed_port().await;
    let (m, _) = manager();
    let c = conn(
        &format!("ws://127.0.0.1:{port}/"),
        json!([{"type": "send", "text": "x"}]),
    );
    let r = go(&m, &c, opts()).await;
    assert!(!r.passed);
    assert!(r.error.as_deref().unwrap().starts_with("could not connect"), "{r:?}");
    let c = conn("ws://127.0.0.1:1/", json!([{"type": "send", "text": "{{nobody}}"}]));
    let r = go(&m, &c, opts()).await;
    assert_eq!(r.steps.len(), 0);
    assert!(r.error.is_some());
}

#[test]
fn an_invalid_scenario_names_the_file_line_and_step() {
    let file = r#"{
  "version": 2,
  "name": "x",
  "config": { "url": "ws://h/" },
  "messages": [ { "name": "Hi", "body": "hi" } ],
  "scenario": {
    "steps": [
      { "type": "send", "message": "Hi" },
      { "type": "expect", "regex": "(" }
    ]
  }
}"#;
    let e = parse_connection(file.as_bytes(), "chat/x.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"chat/x.json\" (line 9, column 1)"), "{e}");
    assert!(e.contains("scenario step 2: the regex \"(\" does not compile"), "{e}");

    let e = parse_connection(
        file.replace(r#""message": "Hi""#, r#""message": "Bye""#).as_bytes(),
        "x.json",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("(line 8, column 1): scenario step 1: there is no saved message named \"Bye\""),
        "{e}"
    );

    // A step that does not deserialize: serde's line, and the step.
    let bad = file.replace(r#""regex": "(""#, r#""timeoutMs": "soon""#);
    let e = parse_connection(bad.as_bytes(), "x.json").unwrap_err().to_string();
    assert!(e.contains("(line 9, column 1)"), "{e}");
    assert!(e.contains("scenario step 2: invalid type"), "{e}");

    let bad = file.replace(r#""type": "expect""#, r#""type": "expcet""#);
    let e = parse_connection(bad.as_bytes(), "x.json").unwrap_err().to_string();
    assert!(e.contains("scenario step 2: unknown variant `expcet`"), "{e}");

    // A repeat's inner step.
    let bad = file.replace(
        r#"{ "type": "expect", "regex": "(" }"#,
        r#"{ "type": "repeat", "times": 2, "steps": [ { "type": "send" } ] }"#,
    );
    let e = parse_connection(bad.as_bytes(), "x.json").unwrap_err().to_string();
    assert!(
        e.contains("(line 9, column 1): scenario step 2.1: a send needs one of"),
        "{e}"
    );
}

#[tokio::test]
async fn periodic_sends_count_and_stop() {
    let server = echo().await;
    let (m, _) = manager();
    let id = m.create("p", ConnectConfig::new(server.url()));
    m.connect(id).unwrap();
    let s = m.get(id).unwrap();
    crate::support::wait_open(&s).await;
    let msg = SavedMessage::text("Tick", "tick {{$counter}} {{who}}");
    let vars = Vars::new(&[Variable::new("who", "ann")]);
    let p = PeriodicSend::start(
        m.clone(),
        id,
        msg.clone(),
        vars.clone(),
        Duration::from_millis(20),
        Some(3),
    )
    .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), p.wait()).await.unwrap();
    assert_eq!((end.sent, end.error), (3, None));
    assert!(!p.is_running());
    let sent: Vec<String> = s
        .log()
        .page(0, 100)
        .iter()
        .filter(|f| f.direction == Direction::Out)
        .filter_map(|f| f.text().map(str::to_owned))
        .collect();
    assert_eq!(sent, ["tick 1 ann", "tick 2 ann", "tick 3 ann"]);

    // Until stopped.
    let p = PeriodicSend::start(
        m.clone(),
        id,
        msg.clone(),
        vars.clone(),
        Duration::from_millis(20),
        None,
    )
    .unwrap();
    crate::support::wait_frame(&s, "tick 2 again", |f| f.text() == Some("tick 2 ann") && f.seq > 6).await;
    assert!(p.is_running());
    p.stop();
    let end = tokio::time::timeout(Duration::from_secs(10), p.wait()).await.unwrap();
    assert!(end.sent >= 2 && end.error.is_none(), "{end:?}");

    // A bad message or period is refused up front; a closed connection ends it.
    let bad = SavedMessage::text("Bad", "{{nobody}}");
    assert!(PeriodicSend::start(m.clone(), id, bad, vars.clone(), Duration::from_millis(20), None).is_err());
    assert!(PeriodicSend::start(m.clone(), id, msg.clone(), vars.clone(), Duration::from_millis(1), None).is_err());
    m.disconnect(id, 1000, "").unwrap();
    crate::support::wait_end(&s).await;
    let p = PeriodicSend::start(m.clone(), id, msg, vars, Duration::from_millis(20), None).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), p.wait()).await.unwrap();
    assert_eq!(end.sent, 0);
    assert!(end.error.unwrap().contains("not connected"));
}

/// Socket.IO mode against a real socket.io@4 server: emits, event and argument
/// matchers, a capture from an event's argument, and a negative check.
#[tokio::test]
async fn a_socketio_scenario_emits_and_matches_events() {
    use wsbench_core::config::{SioNamespace, SocketIoConfig};
    let server = crate::sio_node::NodeServer::start(4, 0, &[]);
    let (m, _) = manager();
    let mut c = conn(
        &server.url(),
        json!([
            {"type": "send", "event": "chat", "args": [{"from": "{{who}}", "text": "hi there"}]},
            {"type": "expect", "event": "chat", "args": [{"from": "ann"}]},
            {"type": "capture", "name": "said", "pointer": "/1/text"},
            {"type": "send", "event": "chat", "args": ["{{said}}!"]},
            {"type": "expect", "event": "chat", "args": ["hi there!"]},
            {"type": "expect", "none": true, "event": "typing", "timeoutMs": 200},
        ]),
    );
    c.config.socketio = Some(SocketIoConfig {
        version: 4,
        namespaces: vec![SioNamespace::new("/", None)],
        ..SocketIoConfig::default()
    });
    let r = go(&m, &c, opts()).await;
    assert!(r.passed, "{}", r.summary());
    // A wrong argument fails with the event line that arrived.
    let mut bad = c.clone();
    if let Some(s) = bad.scenario.as_mut() {
        s.steps.truncate(1);
        s.steps.push(
            serde_json::from_value(
                json!({"type": "expect", "event": "chat", "args": [{"from": "bob"}], "timeoutMs": 500}),
            )
            .unwrap(),
        );
    }
    let r = go(&m, &bad, opts()).await;
    assert_eq!(r.steps[1].status, StepStatus::Failed);
    assert_eq!(
        r.steps[1].arrived.as_deref(),
        Some(r#"["chat",{"from":"ann","text":"hi there"}]"#)
    );
}
