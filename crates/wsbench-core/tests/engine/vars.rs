//! `{{variables}}` from an environment, as the server sees them, and the errors a
//! user gets before anything is dialed.

use wsbench_core::collections::vars::{variables_in, Vars};
use wsbench_core::config::{Auth, KeyValue};
use wsbench_core::server::ServerEventKind;
use wsbench_core::{
    ConnState, ConnectConfig, Direction, ErrorKind, LocalServer, MessageFormat, Opcode, SavedMessage, ServerConfig,
    Variable,
};

use crate::support::*;

fn env() -> Vec<Variable> {
    vec![
        Variable::new("host", "127.0.0.1"),
        Variable::new("base", "ws://{{host}}"),
        Variable::secret("token", "s3cr3t"),
        Variable::new("room", "lobby"),
        Variable {
            enabled: false,
            ..Variable::new("off", "x")
        },
    ]
}

#[test]
fn every_place_of_a_config_resolves_and_disabled_rows_stay_as_typed() {
    let vars = Vars::new(&env());
    let mut c = ConnectConfig::new("{{base}}:9/chat/{{room}}")
        .param("room", "{{ room }}")
        .header("Authorization", "Bearer {{token}}");
    c.headers.push(KeyValue {
        enabled: false,
        ..KeyValue::new("X-Off", "{{nope}}")
    });
    c.subprotocols = vec!["v1.{{room}}".into()];
    c.origin = Some("http://{{host}}".into());
    c.auth = Auth::Basic {
        username: "u-{{room}}".into(),
        password: "{{token}}".into(),
    };
    let r = vars.resolve_config(&c).unwrap();
    assert_eq!(r.url, "ws://127.0.0.1:9/chat/lobby");
    assert_eq!(r.params[0].value, "lobby");
    assert_eq!(r.headers[0].value, "Bearer s3cr3t");
    assert_eq!(
        r.headers[1].value, "{{nope}}",
        "disabled rows are not sent, so not resolved"
    );
    assert_eq!(r.subprotocols, vec!["v1.lobby"]);
    assert_eq!(r.origin.as_deref(), Some("http://127.0.0.1"));
    assert_eq!(
        r.auth,
        Auth::Basic {
            username: "u-lobby".into(),
            password: "s3cr3t".into()
        }
    );
    // The template is untouched: it is what gets saved.
    assert_eq!(c.headers[0].value, "Bearer {{token}}");
}

#[test]
fn unknown_disabled_and_cyclic_variables_are_named_in_the_error() {
    let vars = Vars::new(&env());
    let e = vars
        .resolve_config(&ConnectConfig::new("ws://x/").header("X-Key", "{{apiKey}}"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownVariable);
    assert_eq!(e.to_string(), "unknown variable {{apiKey}} in header X-Key");
    let e = vars.resolve("{{off}}", "the URL").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown variable {{off}} in the URL",
        "a disabled variable is unset"
    );
    let cyclic = Vars::new(&[Variable::new("a", "{{b}}"), Variable::new("b", "{{a}}")]);
    let e = cyclic.resolve("x{{a}}", "message \"m\"").unwrap_err();
    assert!(e.to_string().contains("refers to itself"), "{e}");
    // Text that only looks like a template is left alone.
    assert_eq!(vars.resolve("{{ not closed", "m").unwrap(), "{{ not closed");
    assert_eq!(vars.resolve(r#"{"a":{"b":{}}}"#, "m").unwrap(), r#"{"a":{"b":{}}}"#);
    assert_eq!(variables_in("{{a}} {{ b }} {{a}} {{$uuid}}"), vec!["a", "b"]);
}

#[test]
fn builtins_give_a_fresh_value_at_each_use() {
    let vars = Vars::default();
    let ts: u64 = vars.resolve("{{$timestamp}}", "m").unwrap().parse().unwrap();
    assert!(ts > 1_700_000_000);
    let iso = vars.resolve("{{$isoTimestamp}}", "m").unwrap();
    assert!(
        iso.len() == 24 && iso.ends_with('Z') && iso.as_bytes()[10] == b'T',
        "{iso}"
    );
    let a = vars.resolve("{{$uuid}}", "m").unwrap();
    let b = vars.resolve("{{$uuid}}", "m").unwrap();
    assert_ne!(a, b);
    let n: u32 = vars.resolve("{{$randomInt}}", "m").unwrap().parse().unwrap();
    assert!(n <= 1000);
    let e = vars.resolve("{{$nope}}", "m").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownVariable);
}

#[tokio::test]
async fn the_server_sees_resolved_headers_and_the_on_connect_messages_in_order() {
    let server = LocalServer::start(ServerConfig::echo()).await.unwrap();
    let port = server.addr().port();
    let (m, _) = manager();
    let mut vars = env();
    vars.push(Variable::new("port", port.to_string()));
    let vars = Vars::new(&vars);
    let config = ConnectConfig::new("{{base}}:{{port}}/{{room}}").header("Authorization", "Bearer {{token}}");
    let id = m.create("vars", config);
    let s = m.get(id).unwrap();
    let hello = SavedMessage {
        send_on_connect: true,
        ..SavedMessage::text("hello", r#"{"join":"{{room}}"}"#)
    };
    let bin = SavedMessage {
        format: MessageFormat::Hex,
        ..SavedMessage::text("bin", "01 02")
    };
    m.connect_with(id, &vars, &[hello, bin]).unwrap();
    let hs = wait_open(&s).await;
    assert!(hs.request_line.starts_with("GET /lobby "), "{}", hs.request_line);
    let echoed = wait_frame(&s, "second echo", |f| {
        f.direction == Direction::In && f.opcode == Opcode::Binary
    })
    .await;
    assert_eq!(&echoed.payload[..], &[1, 2]);
    let sent: Vec<_> = s
        .log()
        .page(0, 100)
        .into_iter()
        .filter(|f| f.direction == Direction::Out)
        .collect();
    assert_eq!(sent[0].text(), Some(r#"{"join":"lobby"}"#));
    assert_eq!(sent[1].opcode, Opcode::Binary);
    let headers = server
        .history()
        .into_iter()
        .find_map(|e| match e.kind {
            ServerEventKind::Connected { headers, .. } => Some(headers),
            _ => None,
        })
        .unwrap();
    assert!(headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("authorization") && h.value == "Bearer s3cr3t"));
    m.disconnect(id, 1000, "").unwrap();
    wait_end(&s).await;
}

#[tokio::test]
async fn an_unknown_variable_or_bad_message_fails_before_dialing() {
    let (m, _) = manager();
    let id = m.create("t", ConnectConfig::new("ws://127.0.0.1:1/{{missing}}"));
    let e = m.connect_with(id, &Vars::default(), &[]).unwrap_err();
    assert_eq!(e.to_string(), "unknown variable {{missing}} in the URL");
    m.set_config(id, ConnectConfig::new("ws://127.0.0.1:1/")).unwrap();
    let bad = SavedMessage {
        format: MessageFormat::Json,
        send_on_connect: true,
        ..SavedMessage::text("Login", "{oops")
    };
    let e = m.connect_with(id, &Vars::default(), &[bad]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidPayload);
    let e = m
        .connect_with(id, &Vars::default(), &[SavedMessage::text("Login", "{{who}}")])
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown variable {{who}} in message \"Login\"");
    assert_eq!(m.get(id).unwrap().state(), ConnState::Idle, "nothing was dialed");
}
