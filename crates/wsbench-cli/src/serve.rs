//! `wsbench-cli serve`: the built-in local server until interrupted.

use std::time::Duration;

use wsbench_core::server::ServerEventKind;
use wsbench_core::{LocalServer, ServerConfig, ServerMode};

use crate::args::ServeArgs;
use crate::EXIT_FAILED;

pub async fn serve(args: ServeArgs) -> u8 {
    let mode = if args.broadcast {
        ServerMode::Broadcast
    } else if args.socketio {
        ServerMode::SocketIo
    } else {
        ServerMode::Echo
    };
    let cfg = ServerConfig {
        mode,
        ..ServerConfig::default()
    }
    .port(args.port);
    let server = match LocalServer::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_FAILED;
        }
    };
    let mut events = server.subscribe();
    println!("{}", server.url());
    eprintln!(
        "wsbench-cli: {mode:?} server listening on {} (Ctrl+C to stop)",
        server.url()
    );
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => match ev.kind {
                    ServerEventKind::Connected { path, subprotocol, .. } => eprintln!(
                        "client {} connected from {} to {path}{}",
                        ev.client, ev.peer, subprotocol.map(|p| format!(" (subprotocol {p})")).unwrap_or_default()
                    ),
                    ServerEventKind::Message { opcode, len } => eprintln!("client {} sent {opcode:?} ({len} bytes)", ev.client),
                    ServerEventKind::Disconnected { code, reason } => eprintln!(
                        "client {} disconnected ({}{})",
                        ev.client, code.map_or("no close code".into(), |c| c.to_string()), if reason.is_empty() { String::new() } else { format!(": {reason}") }
                    ),
                },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("({n} server events not shown)"),
                Err(_) => return 0,
            },
            _ = tokio::signal::ctrl_c() => {
                server.shutdown();
                tokio::time::sleep(Duration::from_millis(200)).await;
                return 0;
            }
        }
    }
}
