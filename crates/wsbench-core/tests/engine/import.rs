//! Importers: Insomnia v4/v5, Bruno (.bru, collection folders) and OpenCollection, on
//! small fixtures under fixtures/import. Each test states the whole report: the
//! connections with their folders and messages, the environments, and every item
//! listed as not brought over.

use std::path::{Path, PathBuf};

use wsbench_core::config::{ApiKeyPlacement, Auth, KeyValue};
use wsbench_core::import::{
    import_bru, import_bruno_folder, import_insomnia_v4, import_insomnia_v5, import_opencollection,
    import_opencollection_folder, import_path, import_text,
};
use wsbench_core::import::{ImportReport, ImportedConnection, Unmapped};
use wsbench_core::{ConnectConfig, Environment, Error, MessageFormat, SavedConnection, SavedMessage, Variable};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/engine/fixtures/import")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn on(name: &str, value: &str) -> KeyValue {
    KeyValue::new(name, value)
}

fn off(name: &str, value: &str) -> KeyValue {
    KeyValue {
        enabled: false,
        ..KeyValue::new(name, value)
    }
}

fn msg(name: &str, format: MessageFormat, body: &str) -> SavedMessage {
    SavedMessage {
        name: name.into(),
        format,
        body: body.into(),
        send_on_connect: false,
    }
}

fn conn(folder: &[&str], name: &str, config: ConnectConfig, messages: Vec<SavedMessage>) -> ImportedConnection {
    let mut connection = SavedConnection::new(name, config);
    connection.messages = messages;
    ImportedConnection {
        folder: folder.iter().map(|s| s.to_string()).collect(),
        connection,
    }
}

fn env(name: &str, variables: Vec<Variable>) -> Environment {
    Environment {
        name: name.into(),
        variables,
        ..Environment::default()
    }
}

fn var(name: &str, value: &str) -> Variable {
    Variable::new(name, value)
}

fn note(item: &str, reason: &str) -> Unmapped {
    Unmapped {
        item: item.into(),
        reason: reason.into(),
    }
}

/// Compare piece by piece first, so a failure shows the part that differs.
fn assert_report(got: &ImportReport, want: &ImportReport) {
    assert_eq!(got.name, want.name, "name");
    assert_eq!(got.connections.len(), want.connections.len(), "{:#?}", got.connections);
    for (g, w) in got.connections.iter().zip(&want.connections) {
        assert_eq!(g, w, "connection {}", w.connection.name);
    }
    assert_eq!(got.environments, want.environments, "environments");
    assert_eq!(got.unmapped, want.unmapped, "unmapped");
    assert_eq!(got, want);
}

const NOT_WS: &str = "not a WebSocket request";

#[test]
fn insomnia_v4_export() {
    let report = import_insomnia_v4(&read("insomnia-v4.json"), "insomnia-v4.json").unwrap();

    let mut chat = ConnectConfig::new("{{host}}/chat");
    chat.headers = vec![on("X-Client", "wsbench-test"), on("X-Trace", "on"), off("X-Debug", "1")];
    chat.params = vec![on("room", "lobby"), off("debug", "1")];
    chat.subprotocols = vec!["chat.v1".into(), "chat.v2".into()];
    chat.auth = Auth::Bearer {
        token: "{{token}}".into(),
    };
    let mut ticker = ConnectConfig::new("wss://ticker.example.test/feed");
    ticker.headers = vec![on("X-Client", "wsbench-test")];
    ticker.origin = Some("https://app.example.test".into());
    ticker.auth = Auth::ApiKey {
        name: "X-Api-Key".into(),
        value: "{{apiKey}}".into(),
        placement: ApiKeyPlacement::Header,
    };

    let want = ImportReport {
        name: "Chat API".into(),
        connections: vec![
            conn(
                &["Realtime"],
                "Chat",
                chat,
                vec![msg("Join", MessageFormat::Json, r#"{"type":"join","id":"{{$uuid}}"}"#)],
            ),
            conn(
                &["Realtime"],
                "Ticker",
                ticker,
                vec![msg(
                    "Subscribe",
                    MessageFormat::Text,
                    "SUB {% response 'body', 'req_1', '$.topic' %}",
                )],
            ),
        ],
        environments: vec![
            env(
                "Base Environment",
                vec![
                    var("host", "wss://chat.example.test"),
                    var("token", "base-token"),
                    var("api.version", "2"),
                ],
            ),
            env(
                "Staging",
                vec![
                    var("host", "wss://staging.example.test"),
                    Variable::secret("token", "s3cret"),
                    var("api.version", "2"),
                ],
            ),
        ],
        unmapped: vec![
            note(
                "variables of folder `Realtime`",
                "wsbench environments belong to the whole collection; add these to an environment by hand",
            ),
            note(
                "pre-request script of folder `Realtime`",
                "wsbench does not run scripts",
            ),
            note(
                "setting `followRedirects: on` of `Realtime/Ticker`",
                "wsbench does not follow redirects during the WebSocket handshake",
            ),
            note(
                "template `{% response 'body', 'req_1', '$.topic' %}` in `Realtime/Ticker`",
                "wsbench cannot evaluate this Insomnia template; it was kept as written",
            ),
            note("HTTP request `Login`", NOT_WS),
            note(
                "cookie jar `Default Jar` (1 cookie)",
                "wsbench has no cookie jar; add a Cookie header by hand where one is needed",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(
        import_path(&fixture("insomnia-v4.json")).unwrap(),
        want,
        "detected from the file"
    );
}

#[test]
fn insomnia_v5_export() {
    let report = import_insomnia_v5(&read("insomnia-v5.yaml"), "insomnia-v5.yaml").unwrap();

    let mut chat = ConnectConfig::new("{{host}}/chat");
    chat.headers = vec![on("X-Client", "wsbench-test"), on("X-Trace", "1"), off("X-Debug", "1")];
    chat.params = vec![on("room", "lobby")];
    chat.auth = Auth::Basic {
        username: "{{user}}".into(),
        password: "pw".into(),
    };
    let mut ticker = ConnectConfig::new("wss://ticker.example.test/eu/feed");
    ticker.headers = vec![
        on("X-Client", "wsbench-test"),
        on("Authorization", "Token {% response 'body', 'req_1', '$.token' %}"),
    ];

    let want = ImportReport {
        name: "Chat API v5".into(),
        connections: vec![
            conn(&["Realtime"], "Chat", chat, vec![]),
            conn(&["Realtime"], "Ticker", ticker, vec![]),
        ],
        environments: vec![
            env(
                "Base Environment",
                vec![var("host", "wss://chat.example.test"), var("user", "ada")],
            ),
            env(
                "Production",
                vec![var("host", "wss://chat.example.com"), Variable::secret("user", "")],
            ),
        ],
        unmapped: vec![
            note(
                "description of `Realtime/Chat`",
                "wsbench connections have no description",
            ),
            note(
                "template `{% response 'body', 'req_1', '$.token' %}` in `Realtime/Ticker`",
                "wsbench cannot evaluate this Insomnia template; it was kept as written",
            ),
            note("HTTP request `Login`", NOT_WS),
            note("gRPC request `Greeter`", NOT_WS),
            note(
                "value of secret `user` in environment `Production`",
                "Insomnia masks private secrets in exports; enter the value in wsbench",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(
        import_path(&fixture("insomnia-v5.yaml")).unwrap(),
        want,
        "detected from the file"
    );
}

#[test]
fn bruno_collection_folder() {
    let dir = fixture("bruno-collection");
    let report = import_bruno_folder(&dir).unwrap();

    let mut chat = ConnectConfig::new("{{host}}/chat");
    chat.params = vec![on("room", "lobby"), off("debug", "1")];
    chat.headers = vec![
        on("X-Client", "wsbench-test"),
        on("X-Team", "core"),
        off("X-Debug", "1"),
    ];
    chat.subprotocols = vec!["chat.v1".into()];
    chat.auth = Auth::Bearer {
        token: "{{token}}".into(),
    };
    let mut ticker = ConnectConfig::new("wss://ticker.example.test/feed");
    ticker.headers = vec![on("X-Client", "wsbench-test")];
    ticker.auth = Auth::ApiKey {
        name: "api_key".into(),
        value: "{{apiKey}}".into(),
        placement: ApiKeyPlacement::Query,
    };

    let want = ImportReport {
        name: "Chat Bruno".into(),
        connections: vec![
            conn(
                &["Realtime"],
                "Chat",
                chat,
                vec![
                    msg(
                        "join",
                        MessageFormat::Json,
                        "{\n  \"type\": \"join\",\n  \"id\": \"{{$uuid}}\"\n}",
                    ),
                    msg("ping", MessageFormat::Text, "ping"),
                ],
            ),
            conn(
                &[],
                "Ticker",
                ticker,
                vec![msg("subscribe", MessageFormat::Text, "SUB ticker")],
            ),
        ],
        environments: vec![env(
            "local",
            vec![
                var("host", "ws://localhost:8080"),
                Variable {
                    enabled: false,
                    ..var("debug", "true")
                },
                Variable::secret("token", ""),
            ],
        )],
        unmapped: vec![
            note("pre-request script of the collection", "wsbench does not run scripts"),
            note(
                "setting `keepAliveInterval: 30000` of `Realtime/Chat`",
                "wsbench has its own timeouts and keepalive settings; set them by hand",
            ),
            note("tests of `Realtime/Chat`", "wsbench has no test runner"),
            note("HTTP request `Realtime/Login`", NOT_WS),
            note("docs of `Ticker`", "wsbench has no notes on connections or folders"),
            note(
                "value of secret `token` in environment `local`",
                "Bruno keeps secret values outside the collection; enter the value in wsbench",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(import_path(&dir).unwrap(), want, "a folder with bruno.json is detected");
    assert_eq!(
        import_path(&dir.join("bruno.json")).unwrap(),
        want,
        "so is its bruno.json"
    );
}

#[test]
fn single_bru_file() {
    let report = import_bru(&read("echo.bru"), "echo.bru").unwrap();

    let mut echo = ConnectConfig::new("wss://echo.example.test/rooms/42");
    echo.origin = Some("https://app.example.test".into());
    echo.headers = vec![off("Upgrade", "websocket")];
    echo.auth = Auth::Basic {
        username: "ada".into(),
        password: "{{password}}".into(),
    };
    let want = ImportReport {
        name: String::new(),
        connections: vec![conn(
            &[],
            "Echo",
            echo,
            vec![msg("hello", MessageFormat::Text, "hi {{$isoTimestamp}}")],
        )],
        environments: vec![],
        unmapped: vec![
            note("pre-request script of `Echo`", "wsbench does not run scripts"),
            note(
                "header `Upgrade` of `Echo`",
                "wsbench writes this handshake header itself; it was imported switched off",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(import_path(&fixture("echo.bru")).unwrap(), want);
    assert_eq!(import_text(&read("echo.bru"), "pasted").unwrap(), want, "a pasted .bru");
}

#[test]
fn opencollection_yaml() {
    let report = import_opencollection(&read("bundled.opencollection.yml"), "bundled.opencollection.yml").unwrap();

    let mut chat = ConnectConfig::new("{{host}}/chat");
    chat.headers = vec![on("X-Client", "wsbench-test"), off("X-Debug", "1")];
    chat.auth = Auth::Bearer {
        token: "{{token}}".into(),
    };
    let mut ticker = ConnectConfig::new("wss://ticker.example.test/feed");
    ticker.headers = vec![on("X-Client", "wsbench-test")];

    let want = ImportReport {
        name: "Chat OC".into(),
        connections: vec![
            conn(
                &["Realtime"],
                "Chat",
                chat,
                vec![msg("Message", MessageFormat::Json, r#"{"type":"join"}"#)],
            ),
            conn(
                &[],
                "Ticker",
                ticker,
                vec![
                    msg("subscribe", MessageFormat::Text, "SUB ticker"),
                    msg("unsubscribe", MessageFormat::Text, "UNSUB ticker"),
                ],
            ),
        ],
        environments: vec![
            env(
                "base",
                vec![var("host", "wss://chat.example.test"), Variable::secret("token", "")],
            ),
            env(
                "prod",
                vec![var("host", "wss://chat.example.com"), Variable::secret("token", "")],
            ),
        ],
        unmapped: vec![
            note("scripts of `Realtime/Chat`", "wsbench does not run scripts"),
            note(
                "digest authentication of `Ticker`",
                "wsbench supports bearer, basic and API key authentication",
            ),
            note("HTTP request `Login`", NOT_WS),
            note(
                "value of secret `token` in environment `base`",
                "Bruno keeps secret values outside the collection; enter the value in wsbench",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(
        import_path(&fixture("bundled.opencollection.yml")).unwrap(),
        want,
        "detected from the file"
    );
}

#[test]
fn opencollection_collection_folder() {
    let dir = fixture("oc-collection");
    let report = import_opencollection_folder(&dir).unwrap();

    let mut chat = ConnectConfig::new("{{host}}/chat");
    chat.headers = vec![on("X-Client", "wsbench-test")];
    chat.auth = Auth::Bearer {
        token: "{{token}}".into(),
    };
    let mut status = ConnectConfig::new("wss://status.example.test");
    status.headers = vec![on("X-Client", "wsbench-test")];
    status.auth = Auth::ApiKey {
        name: "api_key".into(),
        value: "{{apiKey}}".into(),
        placement: ApiKeyPlacement::Query,
    };
    let want = ImportReport {
        name: "Chat YAML".into(),
        connections: vec![
            conn(
                &["Realtime"],
                "Chat",
                chat,
                vec![msg("Message", MessageFormat::Json, r#"{"type":"join"}"#)],
            ),
            conn(&[], "Status", status, vec![]),
        ],
        environments: vec![env(
            "dev",
            vec![var("host", "ws://localhost:8080"), Variable::secret("token", "")],
        )],
        unmapped: vec![
            note("HTTP request `Realtime/Login`", NOT_WS),
            note("docs of `Status`", "wsbench has no notes on connections or folders"),
            note(
                "value of secret `token` in environment `dev`",
                "Bruno keeps secret values outside the collection; enter the value in wsbench",
            ),
        ],
    };
    assert_report(&report, &want);
    assert_eq!(
        import_path(&dir).unwrap(),
        want,
        "a folder with opencollection.yml is detected"
    );
    assert_eq!(
        import_path(&dir.join("opencollection.yml")).unwrap(),
        want,
        "so is its opencollection.yml"
    );
}

fn parse_error_at(e: Error, file: &str) -> (usize, usize, String) {
    match e {
        Error::Parse {
            path,
            line,
            column,
            reason,
        } => {
            assert!(path.ends_with(file), "{path} names {file}");
            (line, column, reason)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn malformed_input_is_a_parse_error_with_its_line() {
    let (line, column, reason) = parse_error_at(import_path(&fixture("broken-v4.json")).unwrap_err(), "broken-v4.json");
    assert_eq!((line, column), (4, 21), "the second comma: {reason}");
    assert!(reason.starts_with("invalid JSON"), "{reason}");

    let (line, _, reason) = parse_error_at(import_path(&fixture("broken-v5.yaml")).unwrap_err(), "broken-v5.yaml");
    assert_eq!(line, 5, "{reason}");
    assert!(reason.starts_with("invalid YAML"), "{reason}");

    let (line, column, reason) = parse_error_at(import_path(&fixture("broken.bru")).unwrap_err(), "broken.bru");
    assert_eq!((line, column), (8, 3), "{reason}");
    assert!(reason.contains("block `headers`"), "{reason}");

    let e = import_insomnia_v4("{\"__export_format\": 3, \"resources\": []}", "old.json").unwrap_err();
    assert!(e.to_string().contains("expected \"__export_format\": 4"), "{e}");
}

#[test]
fn anything_else_says_what_was_expected() {
    let e = import_path(&fixture("unknown.yaml")).unwrap_err();
    let (_, _, reason) = parse_error_at(e, "unknown.yaml");
    for expected in ["Insomnia v4", "Insomnia v5", "OpenCollection", ".bru", "bruno.json"] {
        assert!(reason.contains(expected), "{reason} names {expected}");
    }
    let e = import_path(&fixture("")).unwrap_err();
    assert!(
        e.to_string().contains("neither bruno.json nor opencollection.yml"),
        "{e}"
    );
    let e = import_path(&fixture("missing.json")).unwrap_err();
    assert!(matches!(e, Error::File { .. }), "{e:?}");
}
