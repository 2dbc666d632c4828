//! Socket.IO requests from Insomnia (11+) exports: v4 JSON with their payloads, v5 YAML
//! (which writes no payloads). Postman's collection v2.1 export carries no WebSocket or
//! Socket.IO requests at all (postmanlabs/postman-app-support#11252), so there is
//! nothing of Postman's to import (said in the README).

use std::path::{Path, PathBuf};

use serde_json::json;
use wsbench_core::config::{Auth, SioNamespace, SocketIoConfig};
use wsbench_core::import::{import_insomnia_v4, import_insomnia_v5};
use wsbench_core::socketio::SioCommand;
use wsbench_core::MessageFormat;

fn read(name: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/engine/fixtures/import")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn insomnia_v4_socketio_requests_with_payloads() {
    let r = import_insomnia_v4(&read("insomnia-socketio-v4.json"), "insomnia-socketio-v4.json").unwrap();
    assert_eq!(r.connections.len(), 2, "{r:#?}");
    let chat = &r.connections[0].connection;
    assert_eq!(chat.name, "Chat room");
    // socket.io-client: the URL's path is the namespace; the query stays.
    assert_eq!(chat.config.url, "http://localhost:3000/?room=lobby");
    assert_eq!(
        chat.config.socketio,
        Some(SocketIoConfig {
            path: "/ws/socket.io".into(),
            namespaces: vec![SioNamespace {
                name: "/chat".into(),
                auth: None
            }],
            listen: vec!["chat".into()],
            ..SocketIoConfig::default()
        })
    );
    assert_eq!(
        chat.config.auth,
        Auth::Bearer {
            token: "{{token}}".into()
        }
    );
    assert!(chat
        .config
        .headers
        .iter()
        .any(|h| h.name == "X-Client" && h.value == "insomnia"));
    assert_eq!(chat.messages.len(), 1);
    let m = &chat.messages[0];
    assert_eq!((m.name.as_str(), m.format), ("Say hi", MessageFormat::SocketIo));
    assert_eq!(
        SioCommand::from_json(&m.body).unwrap(),
        SioCommand::emit(
            "/chat",
            "chat",
            vec![json!({"msg": "hi"}), json!("plain words"), json!("{{user}}")],
            true
        )
    );
    // A template argument that is not JSON is kept as text, and said so.
    assert!(
        r.unmapped
            .iter()
            .any(|u| u.item.contains("{{user}}") && u.reason.contains("sent as a string")),
        "{:#?}",
        r.unmapped
    );
    let bare = &r.connections[1].connection;
    assert_eq!(bare.name, "https://rt.example.test");
    assert_eq!(bare.config.url, "https://rt.example.test");
    assert_eq!(bare.config.socketio, Some(SocketIoConfig::default()));
    assert!(bare.messages.is_empty());
}

#[test]
fn insomnia_v5_socketio_requests() {
    let r = import_insomnia_v5(&read("insomnia-socketio-v5.yaml"), "insomnia-socketio-v5.yaml").unwrap();
    assert_eq!(r.connections.len(), 1, "{r:#?}");
    let admin = &r.connections[0].connection;
    assert_eq!(admin.config.url, "http://localhost:3000/");
    let sio = admin.config.socketio.clone().unwrap();
    assert_eq!(sio.path, "/rt/");
    assert_eq!(sio.namespaces[0].name, "/admin");
    assert_eq!(sio.listen, ["stats"]);
    assert!(admin.messages.is_empty(), "v5 exports carry no payloads");
}
