//! The wsbench desktop shell: Tauri commands mapped onto the engine, and one event
//! channel for the app's window (a reload re-subscribes and replaces it). Thin on
//! purpose: every socket, log, file format and rule lives in `wsbench-core`; this
//! crate only translates, and runs file work off the main thread.

pub mod commands;
pub mod menu;
pub mod startup;
pub mod window_state;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wsbench_core::collections::vars::Vars;
use wsbench_core::history::History;
use wsbench_core::restore::{AppStateFile, DataDir, TabMeta};
use wsbench_core::workspace::Workspace;
use wsbench_core::{BatchConfig, ErrorInfo, LocalServer, Notice, NullSink, ServerConfig, SessionId, SessionManager};

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
    pub data: DataDir,
    pub ui: Mutex<UiState>,
    /// The tab the window shows (0: none): batches carry previews for it only.
    pub shown: Arc<AtomicU64>,
    /// Shared with blocking tasks: file work on the workspace runs off the main thread.
    pub workspace: Arc<Mutex<Workspace>>,
    pub history: Arc<History>,
    /// Cancel flags of running exports, by the job id the UI chose.
    pub exports: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    /// False while last run's unreadable state file could not be kept aside.
    may_persist: AtomicBool,
    /// Orders writes of `state.json`: a write never replaces a newer one.
    captured: AtomicU64,
    written: Arc<Mutex<u64>>,
}

pub(crate) use wsbench_core::sync::lock;

impl AppState {
    /// Start the engine and the local echo server, restore last run's tabs (or open
    /// a first tab on the echo server), open the workspace. Must run inside the
    /// async runtime.
    pub async fn start(data_dir: PathBuf) -> wsbench_core::Result<Self> {
        let data = DataDir::new(data_dir);
        data.create()?;
        let loaded = AppStateFile::load(&data.state_file());
        let mut file = loaded.state;
        wsbench_core::connection::set_global_proxy(file.proxy.clone());
        let may_persist = AtomicBool::new(loaded.safe_to_overwrite);
        let manager = Arc::new(SessionManager::with_batching(Arc::new(NullSink), batching()));

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
        let tabs = file.restore_tabs(&manager, &server_url, server.addr().port());

        let (workspace, ws_problem) = file.open_workspace(&data)?;
        let problem = ws_problem.or(loaded.problem).map(|e| e.info());

        let history = Arc::new(History::new(data.history(), file.history_max_bytes));
        let recorder = history.clone();
        manager.set_on_session_end(Arc::new(move |session, from_seq, end| {
            // Writing a long session takes a moment: never on the connection's task.
            recorder.record_in_background(session, from_seq, end);
        }));
        // The window hears when a session is in the history (a weak link: the
        // manager owns the hook that owns the history).
        let notify = Arc::downgrade(&manager);
        history.set_on_written(Arc::new(move |session, entry| {
            if let Some(manager) = notify.upgrade() {
                manager.notify(Notice::HistoryWritten {
                    session,
                    entry: entry.id.clone(),
                });
            }
        }));

        let state = Self {
            manager,
            server_url,
            _server: server,
            data,
            shown: Arc::new(AtomicU64::new(tabs.active.unwrap_or(0))),
            ui: Mutex::new(UiState {
                file,
                meta: tabs.meta,
                active: tabs.active,
                problem,
            }),
            workspace: Arc::new(Mutex::new(workspace)),
            history,
            exports: Mutex::default(),
            may_persist,
            captured: AtomicU64::new(0),
            written: Arc::default(),
        };
        state.persist();
        Ok(state)
    }

    pub fn state_path(&self) -> PathBuf {
        self.data.state_file()
    }

    /// The state file as it should be now, numbered so that an older capture is
    /// never written over a newer one. `None` when it must not be written.
    fn capture(&self) -> Option<(u64, AppStateFile)> {
        if !self.may_persist.load(Ordering::Relaxed) {
            tracing::warn!("not writing state.json: last run's file could not be read or kept aside");
            return None;
        }
        let snapshot = self.manager.snapshot();
        let mut ui = lock(&self.ui);
        let UiState { file, meta, active, .. } = &mut *ui;
        file.capture_tabs(&snapshot, meta, *active);
        Some((self.captured.fetch_add(1, Ordering::Relaxed) + 1, file.clone()))
    }

    /// Write `state.json`: every tab that is not a recording, in order, with its
    /// extras; the workspace, environment and settings. Failures are logged, not
    /// fatal: the in-memory state is intact and the next change retries. Blocks on
    /// the disk: commands call [`persist_async`](Self::persist_async).
    pub fn persist(&self) {
        if let Some((n, file)) = self.capture() {
            write_state(&self.written, n, &file, &self.state_path());
        }
    }

    /// [`persist`](Self::persist) with the write on a blocking thread.
    pub async fn persist_async(&self) {
        let Some((n, file)) = self.capture() else { return };
        let (written, path) = (self.written.clone(), self.state_path());
        let done = tauri::async_runtime::spawn_blocking(move || write_state(&written, n, &file, &path)).await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "cannot save the app state");
        }
    }

    /// The active environment's name, as chosen in the app.
    pub fn active_environment(&self) -> Option<String> {
        lock(&self.ui).file.environment.clone()
    }

    /// The active environment's variables, for `{{name}}` in configs and messages.
    pub fn vars(&self) -> Vars {
        let name = self.active_environment();
        lock(&self.workspace).vars(name.as_deref())
    }

    /// On exit: close every connection with 1001 and wait for the engine to say
    /// every connection has ended, then give history the rest of `within` to write
    /// the sessions that just ended.
    pub fn shutdown(&self, within: Duration) {
        let deadline = Instant::now() + within;
        tauri::async_runtime::block_on(self.manager.shutdown(within));
        self.history
            .wait_idle(deadline.saturating_duration_since(Instant::now()));
        self.persist();
    }
}

/// How the engine batches events for the window. A batch carries previews of the
/// newest frames only, enough for the rows a window shows when it follows the tail
/// (any other row is a `log_page` away), and each preview is cut to what a row
/// draws (200 characters): the work per batch stays the same whatever the stream's
/// rate, and the UI's preview cache stays small. A batch every 50 ms at most (20 a
/// second): each costs the web process's main thread a channel fetch and a parse
/// whatever its size, so fewer batches leave it more idle frames under a stream.
pub fn batching() -> BatchConfig {
    BatchConfig {
        interval: Duration::from_millis(50),
        previews_per_session: 100,
        preview_bytes: 1024,
        ..BatchConfig::default()
    }
}

/// Register state, plugins and every command on a builder (the app and the tests
/// share it).
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    commands_only(builder).manage(state)
}

/// Every command, without the state: the app manages its state once it has started
/// (see [`run`]), before the window's first call.
fn commands_only<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
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
        commands::log::log_frame,
        commands::log::log_search,
        commands::log::log_clear,
        commands::server::local_server_url,
        commands::collections::workspace_info,
        commands::collections::workspace_tree,
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
        commands::environments::environments_list,
        commands::environments::environment_save,
        commands::environments::environment_delete,
        commands::environments::environment_select,
        commands::import::import_preview,
        commands::import::import_apply,
        commands::import::import_open_log,
        commands::import::import_save_connection,
        commands::history::history_list,
        commands::history::history_set_max_bytes,
        commands::history::history_open,
        commands::export::export_default_path,
        commands::export::export_log,
        commands::export::export_cancel,
        commands::dialogs::pick_save_path,
        commands::dialogs::pick_open_path,
        commands::dialogs::pick_folder,
        commands::dialogs::send_file,
        commands::settings::proxy_get,
        commands::settings::proxy_set,
        commands::scenario::scenario_check,
        commands::scenario::scenario_run,
        commands::scenario::scenario_run_collection,
        commands::scenario::scenario_report_write,
        commands::scenario::periodic_start,
        commands::scenario::periodic_stop,
        startup::startup_mark,
    ])
}

pub fn run() {
    #[cfg(target_os = "linux")]
    software_rendering();
    wsbench_core::install_crypto_provider();
    let data_dir = default_data_dir();
    // The engine, the echo server, last run's tabs and the workspace start on their
    // own thread while GTK, the window and WebKit's processes start on this one; the
    // state is joined in `setup`, before the event loop serves the page's first call.
    let starting = {
        let data_dir = data_dir.clone();
        std::thread::spawn(move || {
            let state = tauri::async_runtime::block_on(AppState::start(data_dir));
            startup::mark("engine-ready");
            state
        })
    };
    let tracker = window_state::Tracker::new(&data_dir);
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .menu(menu::build)
        .on_menu_event(|app, event| menu::on_event(app, event.id().as_ref()))
        .on_window_event(move |window, event| tracker.on_event(window, event))
        .on_page_load(|_, payload| match payload.event() {
            tauri::webview::PageLoadEvent::Started => startup::mark("page-load-started"),
            tauri::webview::PageLoadEvent::Finished => startup::mark("page-load-finished"),
        })
        .setup(move |app| {
            use tauri::Manager;
            startup::mark("setup");
            let state = match starting.join() {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    eprintln!("wsbench: cannot start: {e}");
                    std::process::exit(1);
                }
                Err(_) => {
                    eprintln!("wsbench: cannot start: the engine's start-up failed");
                    std::process::exit(1);
                }
            };
            app.manage(state);
            startup::mark("engine-joined");
            if let Some(window) = app.get_webview_window("main") {
                #[cfg(target_os = "linux")]
                light_webview(&window);
                window_state::restore(&window, &data_dir, (1024, 700));
            }
            Ok(())
        });
    let app = commands_only(builder).build(tauri::generate_context!());
    startup::mark("built");
    match app {
        Ok(app) => app.run(move |handle, event| {
            if let tauri::RunEvent::Exit = event {
                use tauri::Manager;
                if let Some(state) = handle.try_state::<AppState>() {
                    state.shutdown(Duration::from_secs(3));
                }
            }
        }),
        Err(e) => {
            eprintln!("wsbench: cannot open the window: {e}");
            std::process::exit(1);
        }
    }
}

/// WebKitGTK settings for a one-page app: no page cache (we never navigate away),
/// the smallest memory caches (the document-viewer model), no WebGL or Web Audio
/// (wry turns them on; the UI uses neither), and no hardware acceleration.
#[cfg(target_os = "linux")]
fn light_webview<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let done = window.with_webview(|w| {
        use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
        let view = w.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
            settings.set_enable_webgl(false);
            settings.set_enable_webaudio(false);
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(e) = done {
        tracing::warn!(error = %e, "cannot tune the webview");
    }
}

/// WebKitGTK draws the page in software, without accelerated compositing, unless
/// the user chose otherwise (`WEBKIT_DISABLE_COMPOSITING_MODE=0`). For a window of
/// text rows, compositing buys nothing visible and costs much: with it the web
/// process held ~100 MiB more at idle (GL buffers, Mesa's LLVM) and start-up and
/// frames were slower under software GL.
///
/// Drawing in software, the window needs no GL either, yet GDK sets up GLX when it
/// opens the display: it loads Mesa and its LLVM before the window can be created
/// (about 0.1 s of start-up on a loaded 2-core machine, see the README's start-up
/// figures). So GDK's GL is off too (`GDK_GL=disable`) while compositing is off,
/// unless the user set `GDK_GL`. Runs first in `main`, before any thread.
#[cfg(target_os = "linux")]
fn software_rendering() {
    const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(COMPOSITING).is_none() {
        std::env::set_var(COMPOSITING, "1");
    }
    // WebKit reads any value but "0" as "off".
    let compositing_off = std::env::var_os(COMPOSITING).is_some_and(|v| v != "0");
    if compositing_off && std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}

/// A path typed or picked by the user, with `~` expanded; refused unless absolute and
/// free of `..` (see [`wsbench_core::fs::chosen_path`]).
pub fn user_path(p: &str) -> wsbench_core::Result<PathBuf> {
    wsbench_core::fs::chosen_path(p, dirs::home_dir().as_deref())
}

/// Write a captured state file unless a newer capture was written already.
fn write_state(written: &Mutex<u64>, n: u64, file: &AppStateFile, path: &Path) {
    let mut last = lock(written);
    if *last > n {
        return;
    }
    if let Err(e) = file.save(path) {
        tracing::warn!(error = %e, "cannot save the app state");
    }
    *last = n;
}

/// Run `f` on a blocking thread: file work never runs on the main (UI) thread nor
/// on the async runtime's workers.
pub(crate) async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> wsbench_core::Result<T> + Send + 'static,
) -> commands::CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| wsbench_core::Error::Io(format!("{what} failed: {e}")))?
        .map_err(Into::into)
}
