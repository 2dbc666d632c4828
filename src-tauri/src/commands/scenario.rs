//! Scenarios and periodic sends from the app: check a scenario typed in the editor,
//! run a tab's scenario on the tab's own session (its frames land in its log) with
//! each step's result streamed as it is known, run every scenario of a collection in
//! tabs of their own (one after another or several at once; the frames stay in each
//! tab's log), write a run's report,
//! and start/stop periodic sends of a saved message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use wsbench_core::collections::scenario::{parse_scenario, Scenario};
use wsbench_core::periodic::PeriodicSend;
use wsbench_core::restore::{SavedRef, TabMeta};
use wsbench_core::scenario::junit::junit_xml;
use wsbench_core::scenario::report::json_report;
use wsbench_core::scenario::{run, scenario_ids, RunOptions, ScenarioReport, StepResult};
use wsbench_core::workspace::Loaded;
use wsbench_core::{Error, SavedConnection, SavedMessage, SessionId, SessionManager, SessionSnapshot};

use super::CmdResult;
use crate::{blocking, lock, user_path, AppState};

/// Check the editor's text: the scenario, or an error with its line and step.
#[tauri::command]
pub fn scenario_check(text: String, messages: Vec<SavedMessage>) -> CmdResult<Scenario> {
    Ok(parse_scenario(&text, &messages, "the scenario")?)
}

/// Run `connection`'s scenario on tab `id` (which must not be connected). Each
/// step's result goes to `steps` as soon as it is known; the answer is the report.
/// The tab's config is put back afterwards (the run turns reconnects off).
#[tauri::command]
pub async fn scenario_run(
    state: State<'_, AppState>,
    id: u64,
    connection: SavedConnection,
    source: String,
    steps: Channel<StepResult>,
) -> CmdResult<ScenarioReport> {
    let session = state.manager.get(id)?;
    if session.is_read_only() {
        return Err(Error::ReadOnlySession {
            id,
            action: "run a scenario",
        }
        .into());
    }
    let before = session.config();
    let opts = RunOptions {
        vars: state.vars(),
        secrets: lock(&state.workspace).secret_values(),
        timeout: None,
        on_step: Some(Arc::new(move |r: &StepResult| {
            let _ = steps.send(r.clone());
        })),
        source,
    };
    let report = run(&state.manager, id, &connection, opts).await;
    let _ = state.manager.set_config(id, before);
    Ok(report)
}

/// What a collection run tells the window as it goes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CollectionEvent {
    /// A tab the run uses for `source` (opened for it, or already open on it), sent
    /// before any scenario starts, so the window can show it in the tab bar.
    #[serde(rename_all = "camelCase")]
    Tab {
        source: String,
        tab: SessionSnapshot,
        meta: TabMeta,
    },
    /// A step's result in tab `tab`, as soon as it is known.
    Step { tab: SessionId, step: StepResult },
    /// A scenario ended; `tab` is its tab as it is now (state, log counters).
    Report {
        tab: SessionSnapshot,
        report: ScenarioReport,
    },
}

/// Run every scenario in `collection` (`""`: the whole workspace), at most
/// `parallel` at once, each in a tab of its own so its frames stay in that tab's
/// log: a tab already open on the connection is reused when it is not connected
/// (and not a recorded session), otherwise a tab is opened. The run uses the files
/// as saved (as the CLI does); a reused tab keeps its unsaved edits and gets its
/// config back afterwards. Tabs, step results and reports go to `events`; the
/// answer is every report, in sidebar order.
#[tauri::command]
pub async fn scenario_run_collection(
    state: State<'_, AppState>,
    collection: String,
    parallel: usize,
    events: Channel<CollectionEvent>,
) -> CmdResult<Vec<ScenarioReport>> {
    let ws = state.workspace.clone();
    let loaded = blocking("reading the collection", move || {
        let ws = lock(&ws);
        let loaded: Vec<Loaded> = scenario_ids(&ws, &collection)
            .into_iter()
            .filter_map(|id| ws.connection(&id).ok())
            .collect();
        Ok(loaded)
    })
    .await?;
    let jobs: Vec<(SessionId, Loaded)> = loaded
        .into_iter()
        .map(|l| (collection_tab(&state, &l, &events), l))
        .collect();
    state.persist_async().await;
    let vars = state.vars();
    let secrets = lock(&state.workspace).secret_values();
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.clamp(1, 16)));
    let mut handles = Vec::new();
    for (id, loaded) in jobs {
        let manager: Arc<SessionManager> = state.manager.clone();
        let (permits, events) = (permits.clone(), events.clone());
        let steps = events.clone();
        let opts = RunOptions {
            vars: vars.clone(),
            secrets: secrets.clone(),
            timeout: None,
            on_step: Some(Arc::new(move |r: &StepResult| {
                let _ = steps.send(CollectionEvent::Step {
                    tab: id,
                    step: r.clone(),
                });
            })),
            source: loaded.id,
        };
        handles.push(tauri::async_runtime::spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            let before = manager.get(id).ok()?.config();
            let report = run(&manager, id, &loaded.connection, opts).await;
            let _ = manager.set_config(id, before);
            let tab = manager.get(id).ok()?.snapshot();
            let _ = events.send(CollectionEvent::Report {
                tab,
                report: report.clone(),
            });
            Some(report)
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok(Some(r)) = h.await {
            out.push(r);
        }
    }
    state.persist_async().await;
    Ok(out)
}

/// The tab a collection run uses for `loaded`: the first tab open on that file that
/// is neither connected nor read-only, else a new one. Tells the window about it.
fn collection_tab(state: &AppState, loaded: &Loaded, events: &Channel<CollectionEvent>) -> SessionId {
    let mut ui = lock(&state.ui);
    let reusable = ui.meta.iter().find_map(|(&id, meta)| {
        let session = state.manager.get(id).ok()?;
        let ok = meta.saved.as_ref().is_some_and(|s| s.id == loaded.id)
            && !session.is_read_only()
            && session.state().is_terminal();
        ok.then(|| (id, meta.clone()))
    });
    let (id, meta) = reusable.unwrap_or_else(|| {
        let conn = &loaded.connection;
        let id = state.manager.create(conn.name.clone(), conn.config.clone());
        let meta = TabMeta {
            messages: conn.messages.clone(),
            saved: Some(SavedRef {
                id: loaded.id.clone(),
                revision: Some(loaded.revision.clone()),
            }),
            scenario: conn.scenario.clone(),
            ..TabMeta::default()
        };
        ui.meta.insert(id, meta.clone());
        (id, meta)
    });
    drop(ui);
    if let Ok(session) = state.manager.get(id) {
        let _ = events.send(CollectionEvent::Tab {
            source: loaded.id.clone(),
            tab: session.snapshot(),
            meta,
        });
    }
    id
}

/// Write reports to `path` as `junit` (XML) or `json`.
#[tauri::command]
pub async fn scenario_report_write(path: String, format: String, reports: Vec<ScenarioReport>) -> CmdResult<()> {
    let path = user_path(&path)?;
    let body = match format.as_str() {
        "junit" => junit_xml(&reports),
        "json" => serde_json::to_string_pretty(&json_report(&reports)).map_err(|e| Error::Io(e.to_string()))? + "\n",
        other => {
            return Err(Error::InvalidPayload {
                format: "report format",
                reason: format!("{other:?} is not junit or json"),
            }
            .into())
        }
    };
    blocking("writing the report", move || {
        wsbench_core::fs::write_bytes_atomic(&path, body.as_bytes())
    })
    .await
}

/// Where a periodic send is: sent so far, still running, and why it stopped early.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodicStatus {
    pub run: u64,
    pub sent: u64,
    pub running: bool,
    pub error: Option<String>,
}

fn periodic_runs() -> &'static Mutex<HashMap<u64, PeriodicSend>> {
    static RUNS: OnceLock<Mutex<HashMap<u64, PeriodicSend>>> = OnceLock::new();
    RUNS.get_or_init(Mutex::default)
}

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

/// Send `message` on tab `id` every `every_ms`, `times` times (none: until stopped).
/// The status goes to `status` after each send (at most 4 times a second) and at the
/// end. Answers the run's number, for [`periodic_stop`].
#[tauri::command]
pub async fn periodic_start(
    state: State<'_, AppState>,
    id: u64,
    message: SavedMessage,
    every_ms: u64,
    times: Option<u64>,
    status: Channel<PeriodicStatus>,
) -> CmdResult<u64> {
    let p = PeriodicSend::start(
        state.manager.clone(),
        id,
        message,
        state.vars(),
        Duration::from_millis(every_ms),
        times,
    )?;
    let run = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
    lock(periodic_runs()).insert(run, p.clone());
    tauri::async_runtime::spawn(async move {
        let mut last = u64::MAX;
        loop {
            let ended = tokio::time::timeout(Duration::from_millis(250), p.wait()).await;
            if let Ok(end) = ended {
                lock(periodic_runs()).remove(&run);
                let _ = status.send(PeriodicStatus {
                    run,
                    sent: end.sent,
                    running: false,
                    error: end.error,
                });
                return;
            }
            let sent = p.sent();
            if sent != last {
                last = sent;
                let _ = status.send(PeriodicStatus {
                    run,
                    sent,
                    running: true,
                    error: None,
                });
            }
        }
    });
    Ok(run)
}

/// Stop a periodic send (a run already over is not an error).
#[tauri::command]
pub fn periodic_stop(run: u64) {
    if let Some(p) = lock(periodic_runs()).get(&run) {
        p.stop();
    }
}
