//! Scenarios and periodic sends from the app: check a scenario typed in the editor,
//! run a tab's scenario on the tab's own session (its frames land in its log) with
//! each step's result streamed as it is known, run every scenario of a collection in
//! background sessions (one after another or several at once), write a run's report,
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
use wsbench_core::scenario::junit::junit_xml;
use wsbench_core::scenario::report::json_report;
use wsbench_core::scenario::{run, scenario_ids, RunOptions, ScenarioReport, StepResult};
use wsbench_core::{Error, SavedConnection, SavedMessage, SessionManager};

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

/// Run every scenario in `collection` (`""`: the whole workspace), at most
/// `parallel` at once, each in a session of its own that is removed afterwards.
/// Each scenario's report goes to `reports` when it ends; the answer is all of them,
/// in sidebar order.
#[tauri::command]
pub async fn scenario_run_collection(
    state: State<'_, AppState>,
    collection: String,
    parallel: usize,
    reports: Channel<ScenarioReport>,
) -> CmdResult<Vec<ScenarioReport>> {
    let ws = state.workspace.clone();
    let jobs = blocking("reading the collection", move || {
        let ws = lock(&ws);
        let jobs: Vec<(String, SavedConnection)> = scenario_ids(&ws, &collection)
            .into_iter()
            .filter_map(|id| ws.connection(&id).ok().map(|c| (id, c.connection)))
            .collect();
        Ok(jobs)
    })
    .await?;
    let vars = state.vars();
    let secrets = lock(&state.workspace).secret_values();
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel.clamp(1, 16)));
    let mut handles = Vec::new();
    for (source, connection) in jobs {
        let manager: Arc<SessionManager> = state.manager.clone();
        let (permits, reports) = (permits.clone(), reports.clone());
        let opts = RunOptions {
            vars: vars.clone(),
            secrets: secrets.clone(),
            timeout: None,
            on_step: None,
            source,
        };
        handles.push(tauri::async_runtime::spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            let id = manager.create(connection.name.clone(), connection.config.clone());
            let report = run(&manager, id, &connection, opts).await;
            let _ = manager.remove(id);
            let _ = reports.send(report.clone());
            Some(report)
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok(Some(r)) = h.await {
            out.push(r);
        }
    }
    Ok(out)
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
