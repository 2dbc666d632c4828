//! The WebSocket URL of a Socket.IO server: `http(s)://` becomes `ws(s)://`, the
//! handshake path and `EIO=<n>&transport=websocket` are set (other query
//! parameters stay), and a path other than the handshake path names a namespace,
//! as with the official client (`io("http://host/admin")`).

use crate::config::{ConnectConfig, SioNamespace};
use crate::error::{Error, Result};

use super::client::{eio_version, normalize_namespace};

/// The config to dial for a Socket.IO-mode `config` (unchanged otherwise).
pub fn dial_config(config: &ConnectConfig) -> Result<ConnectConfig> {
    let Some(sio) = &config.socketio else {
        return Ok(config.clone());
    };
    let bad = |reason: &str| Error::InvalidUrl {
        url: config.url.clone(),
        reason: reason.to_owned(),
    };
    let eio = eio_version(sio.version)?;
    let mut url = url::Url::parse(config.url.trim()).map_err(|e| bad(&e.to_string()))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return Err(bad("a Socket.IO URL starts with http://, https://, ws:// or wss://")),
    };
    url.set_scheme(scheme).map_err(|()| bad("cannot use this scheme"))?;
    let path = format!("/{}/", sio.path.trim().trim_matches('/'));
    let path = if path == "//" { "/".to_owned() } else { path };
    let mut sio = sio.clone();
    let given = url.path().to_owned();
    if given != "/" && given.trim_end_matches('/') != path.trim_end_matches('/') && sio.namespaces.is_empty() {
        sio.namespaces.push(SioNamespace::new(
            normalize_namespace(given.trim_end_matches('/')),
            None,
        ));
    }
    url.set_path(&path);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "EIO" && k != "transport")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("EIO", &eio.number().to_string());
        q.append_pair("transport", "websocket");
    }
    Ok(ConnectConfig {
        url: url.to_string(),
        socketio: Some(sio),
        ..config.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SocketIoConfig;

    fn map(url: &str, sio: SocketIoConfig) -> ConnectConfig {
        dial_config(&ConnectConfig {
            socketio: Some(sio),
            ..ConnectConfig::new(url)
        })
        .unwrap()
    }

    #[test]
    fn urls_map_to_the_websocket_transport() {
        let c = map("http://localhost:3000", SocketIoConfig::default());
        assert_eq!(c.url, "ws://localhost:3000/socket.io/?EIO=4&transport=websocket");
        let v2 = SocketIoConfig {
            version: 2,
            path: "chat".into(),
            ..SocketIoConfig::default()
        };
        let c = map("https://h/?token=a%20b&EIO=9", v2);
        assert_eq!(c.url, "wss://h/chat/?token=a+b&EIO=3&transport=websocket");
        let c = map("ws://h/socket.io/?EIO=4&transport=websocket", SocketIoConfig::default());
        assert_eq!(c.url, "ws://h/socket.io/?EIO=4&transport=websocket");
        assert!(c.socketio.unwrap().namespaces.is_empty());
    }

    #[test]
    fn a_path_names_the_namespace_and_bad_input_is_refused() {
        let c = map("http://h:1/admin", SocketIoConfig::default());
        assert_eq!(c.url, "ws://h:1/socket.io/?EIO=4&transport=websocket");
        assert_eq!(c.socketio.unwrap().namespaces[0].name, "/admin");
        let bad = |url: &str, version: u8| {
            dial_config(&ConnectConfig {
                socketio: Some(SocketIoConfig {
                    version,
                    ..SocketIoConfig::default()
                }),
                ..ConnectConfig::new(url)
            })
            .unwrap_err()
        };
        assert!(bad("ftp://h/", 4).to_string().contains("http://"));
        assert!(bad("nope", 4).to_string().contains("invalid URL"));
        assert!(bad("http://h/", 1).to_string().contains("choose 4, 3 or 2"));
        // Raw mode is left alone.
        let raw = ConnectConfig::new("ws://h/x");
        assert_eq!(dial_config(&raw).unwrap(), raw);
    }
}
