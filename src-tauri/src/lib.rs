//! The wsbench desktop shell: Tauri commands mapped onto the engine, and one event
//! channel per window. Thin on purpose: every socket, log and rule lives in
//! `wsbench-core`; this crate only translates.

pub mod commands;

use std::sync::Arc;

use wsbench_core::{ConnectConfig, LocalServer, NullSink, ServerConfig, SessionManager};

/// What every command sees.
pub struct AppState {
    pub manager: Arc<SessionManager>,
    /// The built-in echo server, so a first launch works with no network.
    pub server_url: String,
    _server: LocalServer,
}

impl AppState {
    /// Start the engine and the local echo server, with a first tab pointed at it.
    /// Must run inside the async runtime.
    pub async fn start() -> wsbench_core::Result<Self> {
        let manager = Arc::new(SessionManager::new(Arc::new(NullSink)));
        let server = LocalServer::start(ServerConfig::echo()).await?;
        let server_url = server.url();
        manager.create("Local echo", ConnectConfig::new(server_url.clone()));
        Ok(Self {
            manager,
            server_url,
            _server: server,
        })
    }
}

/// Register state and every command on a builder (the app and the tests share it).
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder.manage(state).invoke_handler(tauri::generate_handler![
        commands::events::subscribe,
        commands::tabs::list_tabs,
        commands::tabs::create_tab,
        commands::tabs::close_tab,
        commands::tabs::rename_tab,
        commands::tabs::set_config,
        commands::connection::connect,
        commands::connection::disconnect,
        commands::connection::send,
        commands::log::log_page,
        commands::log::log_page_before,
        commands::log::log_frame,
        commands::log::log_search,
        commands::log::log_clear,
        commands::server::local_server_url,
    ])
}

pub fn run() {
    wsbench_core::install_crypto_provider();
    let state = match tauri::async_runtime::block_on(AppState::start()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsbench: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let manager = state.manager.clone();
    let app = with_commands(tauri::Builder::default(), state).build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(move |_, event| {
            if let tauri::RunEvent::Exit = event {
                // Close every connection with 1001 "going away" on the way out.
                manager.disconnect_all();
            }
        }),
        Err(e) => {
            eprintln!("wsbench: cannot open the window: {e}");
            std::process::exit(1);
        }
    }
}
