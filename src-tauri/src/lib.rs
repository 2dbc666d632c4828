//! The wsbench desktop shell: Tauri commands mapped onto the engine, and one event
//! channel per window. Thin on purpose: every socket, log, file format and rule lives
//! in `wsbench-core`; this crate only translates and keeps the app's own state file.

pub mod commands;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wsbench_core::collections::store::Workspace;
use wsbench_core::collections::vars::Vars;
use wsbench_core::history::History;
use wsbench_core::restore::{AppStateFile, Draft, SavedRef, TabState};
use wsbench_core::{
    ConnectConfig, ErrorInfo, LocalServer, NullSink, SavedMessage, ServerConfig, SessionId, SessionManager,
};

/// Where the app keeps its state, its default workspace and the session history:
/// `--data-dir DIR` on the command line or `$WSBENCH_DATA_DIR` when set (tests use
/// them), else the platform's data directory.
pub fn default_data_dir() -> PathBuf {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            if let Some(d) = args.next() {
                return PathBuf::from(d);
            }
        } else if let Some(d) = a.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            return PathBuf::from(d);
        }
    }
    if let Some(d) = std::env::var_os("WSBENCH_DATA_DIR") {
        return PathBuf::from(d);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("dev.wsbench.app")
}

/// What the UI keeps per tab beyond the engine's name and config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TabMeta {
    pub messages: Vec<SavedMessage>,
    pub saved: Option<SavedRef>,
    pub dirty: bool,
    pub draft: Draft,
}

/// The app's own state, persisted to `state.json` on every change.
pub struct UiState {
    pub file: AppStateFile,
    pub meta: BTreeMap<SessionId, TabMeta>,
    pub active: Option<SessionId>,
    /// A problem met at start-up (an unreadable state file), shown once.
    pub problem: Option<ErrorInfo>,
}

/// What every command sees.
pub struct AppState {
    pub manager: Arc<SessionManager>,
    /// The built-in echo server, so a first launch works with no network.
    pub server_url: String,
    _server: LocalServer,
    pub data_dir: PathBuf,
    pub ui: Mutex<UiState>,
    pub workspace: Mutex<Workspace>,
    pub history: Arc<History>,
    /// Cancel flags of running exports, by the job id the UI chose.
    pub exports: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    /// False while last run's unreadable state file could not be kept aside.
    may_persist: AtomicBool,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// Start the engine and the local echo server, restore last run's tabs (or open
    /// a first tab on the echo server), open the workspace. Must run inside the
    /// async runtime.
    pub async fn start(data_dir: PathBuf) -> wsbench_core::Result<Self> {
        std::fs::create_dir_all(&data_dir).map_err(|e| wsbench_core::Error::io(&data_dir, &e))?;
        let loaded = AppStateFile::load(&data_dir.join("state.json"));
        let mut file = loaded.state;
        let may_persist = AtomicBool::new(loaded.safe_to_overwrite);
        let manager = Arc::new(SessionManager::new(Arc::new(NullSink)));

        // The echo server takes last run's port when it can, so restored tabs still
        // point at it; otherwise their URLs are moved to the new port.
        let mut server = None;
        if let Some(port) = file.local_server_port {
            server = LocalServer::start(ServerConfig::echo().port(port)).await.ok();
        }
        let server = match server {
            Some(s) => s,
            None => LocalServer::start(ServerConfig::echo()).await?,
        };
        let server_url = server.url();
        let old_url = file
            .local_server_port
            .map(|p| format!("ws://127.0.0.1:{p}/"))
            .filter(|u| *u != server_url);
        file.local_server_port = Some(server.addr().port());

        let mut meta = BTreeMap::new();
        let mut active = None;
        for (i, tab) in file.tabs.iter().enumerate() {
            let mut config = tab.config.clone();
            if let Some(old) = &old_url {
                if config.url.starts_with(old.as_str()) {
                    config.url = format!("{server_url}{}", &config.url[old.len()..]);
                }
            }
            let id = manager.create(tab.name.clone(), config);
            meta.insert(
                id,
                TabMeta {
                    messages: tab.messages.clone(),
                    saved: tab.saved.clone(),
                    dirty: tab.dirty,
                    draft: tab.draft.clone(),
                },
            );
            if i == file.active {
                active = Some(id);
            }
        }
        if file.tabs.is_empty() {
            active = Some(manager.create("Local echo", ConnectConfig::new(server_url.clone())));
        }

        let default_ws = data_dir.join("workspace");
        let mut problem = loaded.problem.map(|e| e.info());
        // A remembered folder that is gone (an unmounted drive) is not re-created.
        let ws_root = match file.workspace.clone() {
            Some(p) if p.is_dir() => p,
            Some(p) => {
                problem = Some(
                    wsbench_core::Error::File {
                        path: p.display().to_string(),
                        reason: "the workspace folder is gone; the default workspace is open".into(),
                    }
                    .info(),
                );
                default_ws.clone()
            }
            None => default_ws.clone(),
        };
        let workspace = match Workspace::open(&ws_root) {
            Ok((ws, _report)) => ws,
            Err(e) => {
                // The last folder is gone or unreadable: fall back to the default one.
                problem = Some(e.info());
                Workspace::open(&default_ws)?.0
            }
        };

        let history = Arc::new(History::new(data_dir.join("history"), file.history_max_bytes));
        let recorder = history.clone();
        manager.set_on_session_end(Arc::new(move |session, from_seq, end| {
            // Writing a long session takes a moment: never on the connection's task.
            recorder.record_in_background(session, from_seq, end);
        }));

        let state = Self {
            manager,
            server_url,
            _server: server,
            data_dir,
            ui: Mutex::new(UiState {
                file,
                meta,
                active,
                problem,
            }),
            workspace: Mutex::new(workspace),
            history,
            exports: Mutex::default(),
            may_persist,
        };
        state.persist();
        Ok(state)
    }

    pub fn state_path(&self) -> PathBuf {
        self.data_dir.join("state.json")
    }

    /// Write `state.json`: every tab that is not a recording, in order, with its
    /// extras; the workspace, environment and settings. Failures are logged, not
    /// fatal: the in-memory state is intact and the next change retries.
    pub fn persist(&self) {
        if !self.may_persist.load(std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!("not writing state.json: last run's file could not be read or kept aside");
            return;
        }
        let snapshot = self.manager.snapshot();
        let mut ui = lock(&self.ui);
        ui.meta.retain(|id, _| snapshot.iter().any(|s| s.id == *id));
        let mut tabs = Vec::new();
        let mut active = 0;
        for s in snapshot.iter().filter(|s| !s.read_only) {
            if Some(s.id) == ui.active {
                active = tabs.len();
            }
            let m = ui.meta.get(&s.id).cloned().unwrap_or_default();
            tabs.push(TabState {
                name: s.name.clone(),
                config: s.config.clone(),
                messages: m.messages,
                saved: m.saved,
                dirty: m.dirty,
                draft: m.draft,
            });
        }
        ui.file.tabs = tabs;
        ui.file.active = active;
        if let Err(e) = ui.file.save(&self.state_path()) {
            tracing::warn!(error = %e, "cannot save the app state");
        }
    }

    /// The active environment's variables, for `{{name}}` in configs and messages.
    pub fn vars(&self) -> Vars {
        let name = lock(&self.ui).file.environment.clone();
        let Some(name) = name else {
            return Vars::default();
        };
        let ws = lock(&self.workspace);
        ws.environments()
            .iter()
            .find(|e| e.name == name)
            .map(|e| Vars::new(&e.variables))
            .unwrap_or_default()
    }

    /// The values of every secret variable in the workspace's environments: what
    /// an export redacts by default.
    pub fn secret_values(&self) -> Vec<String> {
        let ws = lock(&self.workspace);
        let mut values: Vec<String> = ws
            .environments()
            .iter()
            .flat_map(|e| e.variables.iter())
            .filter(|v| v.secret && !v.value.is_empty())
            .map(|v| v.value.clone())
            .collect();
        values.sort();
        values.dedup();
        values
    }

    /// On exit: close every connection with 1001 and wait for the engine to say
    /// every connection has ended, then give history the rest of `within` to write
    /// the sessions that just ended.
    pub fn shutdown(&self, within: Duration) {
        let deadline = Instant::now() + within;
        tauri::async_runtime::block_on(self.manager.shutdown(within));
        while self.history.pending() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.persist();
    }
}

/// Register state, plugins and every command on a builder (the app and the tests
/// share it).
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder.manage(state).invoke_handler(tauri::generate_handler![
        commands::events::subscribe,
        commands::tabs::list_tabs,
        commands::tabs::create_tab,
        commands::tabs::close_tab,
        commands::tabs::rename_tab,
        commands::tabs::set_config,
        commands::tabs::ui_state,
        commands::tabs::set_tab_meta,
        commands::tabs::set_active_tab,
        commands::connection::connect,
        commands::connection::disconnect,
        commands::connection::send,
        commands::log::log_page,
        commands::log::log_page_before,
        commands::log::log_frame,
        commands::log::log_search,
        commands::log::log_clear,
        commands::server::local_server_url,
        commands::collections::workspace_info,
        commands::collections::workspace_open,
        commands::collections::workspace_rescan,
        commands::collections::saved_open,
        commands::collections::saved_save,
        commands::collections::saved_rename,
        commands::collections::saved_duplicate,
        commands::collections::saved_move,
        commands::collections::saved_delete,
        commands::collections::undo_delete,
        commands::collections::collection_create,
        commands::collections::collection_rename,
        commands::collections::collection_delete,
        commands::collections::environments_list,
        commands::collections::environment_save,
        commands::collections::environment_delete,
        commands::collections::environment_select,
        commands::collections::import_preview,
        commands::collections::import_apply,
        commands::export::import_open_log,
        commands::export::import_save_connection,
        commands::export::history_list,
        commands::export::history_set_max_bytes,
        commands::export::history_open,
        commands::export::export_default_path,
        commands::export::export_log,
        commands::export::export_cancel,
        commands::dialogs::pick_save_path,
        commands::dialogs::pick_open_path,
        commands::dialogs::pick_folder,
    ])
}

pub fn run() {
    wsbench_core::install_crypto_provider();
    let state = match tauri::async_runtime::block_on(AppState::start(default_data_dir())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsbench: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let builder = tauri::Builder::default().plugin(tauri_plugin_dialog::init());
    let app = with_commands(builder, state).build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(move |handle, event| {
            if let tauri::RunEvent::Exit = event {
                use tauri::Manager;
                handle.state::<AppState>().shutdown(Duration::from_secs(3));
            }
        }),
        Err(e) => {
            eprintln!("wsbench: cannot open the window: {e}");
            std::process::exit(1);
        }
    }
}

/// A path typed or picked by the user, with `~` expanded.
pub fn user_path(p: &str) -> PathBuf {
    let p = p.trim();
    match (p.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => Path::new(p).to_path_buf(),
    }
}
