//! Export a tab's log to a file, in the background with progress and cancel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use wsbench_core::export::{self, ExportFormat, ExportOptions, ExportSummary, FrameSelection, LogSource, Redaction};

use super::CmdResult;
use crate::{blocking, lock, user_path, AppState};

/// `{ format, path, scope: {type: all|filter|selection, ...}, includeSecrets }`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    pub format: String,
    pub path: String,
    pub scope: FrameSelection,
    #[serde(default)]
    pub include_secrets: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportDone {
    pub path: String,
    #[serde(flatten)]
    pub summary: ExportSummary,
}

/// Where an export goes by default: the Downloads folder (else home) and a name
/// from the tab and the time.
#[tauri::command]
pub async fn export_default_path(state: State<'_, AppState>, id: u64, format: String) -> CmdResult<String> {
    let name = state.manager.get(id)?.name();
    // Finding Downloads reads the user's folder settings from disk.
    blocking("finding the Downloads folder", move || {
        let dir = dirs::download_dir()
            .or_else(dirs::home_dir)
            .unwrap_or_else(std::env::temp_dir);
        Ok(export::default_path(&dir, &name, &format).display().to_string())
    })
    .await
}

/// Export in the background with progress; the file appears only when complete.
/// The format is the request's (the path's extension is not trusted for it).
#[tauri::command]
pub async fn export_log(
    state: State<'_, AppState>,
    id: u64,
    request: ExportRequest,
    job: u64,
    progress: Channel<Progress>,
) -> CmdResult<ExportDone> {
    let s = state.manager.get(id)?;
    let format = ExportFormat::from_name(&request.format)?;
    let path = export::check_target(&user_path(&request.path)?)?;
    let secrets = lock(&state.workspace).secret_values();
    let options = ExportOptions {
        format,
        frames: request.scope,
        redaction: Redaction::for_export(request.include_secrets, secrets),
        exported_at_us: None,
    };
    let source = LogSource::from_session(&s);
    let cancel = Arc::new(AtomicBool::new(false));
    lock(&state.exports).insert(job, cancel.clone());
    let target = path.clone();
    let result = blocking("the export", move || {
        let mut last = Instant::now() - Duration::from_secs(1);
        export::export_to_path(&source, &target, &options, |done, total| {
            // A few updates a second is enough for a progress bar.
            if last.elapsed() >= Duration::from_millis(100) || done == total {
                last = Instant::now();
                let _ = progress.send(Progress { done, total });
            }
            !cancel.load(Ordering::Relaxed)
        })
    })
    .await;
    lock(&state.exports).remove(&job);
    Ok(ExportDone {
        path: path.display().to_string(),
        summary: result?,
    })
}

#[tauri::command]
pub fn export_cancel(state: State<'_, AppState>, job: u64) {
    if let Some(flag) = lock(&state.exports).get(&job) {
        flag.store(true, Ordering::Relaxed);
    }
}
