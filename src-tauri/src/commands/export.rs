//! Export a tab's log; open recorded logs (imported files, history) read-only.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use wsbench_core::export::{
    self, ExportFormat, ExportOptions, ExportSummary, FrameSelection, LogSource, RecordedConnection, Redaction,
};
use wsbench_core::history::HistoryEntry;
use wsbench_core::{Error, FrameLog, SessionSnapshot};

use super::CmdResult;
use crate::{lock, user_path, AppState};

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
pub fn export_default_path(state: State<'_, AppState>, id: u64, format: String) -> CmdResult<String> {
    let s = state.manager.get(id)?;
    let format = ExportFormat::from_extension(&format).unwrap_or(ExportFormat::Ndjson);
    let dir = dirs::download_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir);
    let name = export::default_file_name(&s.name(), format, now_us());
    Ok(dir.join(name).display().to_string())
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
    let format = ExportFormat::from_extension(&request.format)
        .ok_or_else(|| Error::InvalidConfig(format!("unknown export format {:?}", request.format)))?;
    let path = user_path(&request.path);
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidConfig("choose a file to export to".into()).into());
    }
    let redaction = if request.include_secrets {
        Redaction::none()
    } else {
        Redaction {
            include_secrets: false,
            secret_values: state.secret_values(),
        }
    };
    let options = ExportOptions {
        format,
        frames: request.scope,
        redaction,
        exported_at_us: None,
    };
    let source = LogSource::from_session(&s);
    let cancel = Arc::new(AtomicBool::new(false));
    lock(&state.exports).insert(job, cancel.clone());
    let target = path.clone();
    let result = tauri::async_runtime::spawn_blocking(move || {
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
    .await
    .map_err(|e| Error::Io(format!("the export failed: {e}")));
    lock(&state.exports).remove(&job);
    let summary = result??;
    Ok(ExportDone {
        path: path.display().to_string(),
        summary,
    })
}

#[tauri::command]
pub fn export_cancel(state: State<'_, AppState>, job: u64) {
    if let Some(flag) = lock(&state.exports).get(&job) {
        flag.store(true, Ordering::Relaxed);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub entries: Vec<HistoryEntry>,
    /// The size bound of the history folder, in bytes.
    pub max_bytes: u64,
}

#[tauri::command]
pub fn history_list(state: State<'_, AppState>) -> CmdResult<HistoryView> {
    Ok(HistoryView {
        entries: state.history.list()?,
        max_bytes: lock(&state.ui).file.history_max_bytes,
    })
}

/// Change the history's size bound (at least 1 MiB); the oldest sessions beyond it
/// are removed at once.
#[tauri::command]
pub fn history_set_max_bytes(state: State<'_, AppState>, max_bytes: u64) -> CmdResult<HistoryView> {
    let max_bytes = max_bytes.max(1 << 20);
    state.history.set_max_bytes(max_bytes)?;
    lock(&state.ui).file.history_max_bytes = max_bytes;
    state.persist();
    history_list(state)
}

/// Open a recorded session read-only in a new tab.
#[tauri::command]
pub async fn history_open(state: State<'_, AppState>, id: String) -> CmdResult<SessionSnapshot> {
    let path = state.history.path_of(&id)?;
    open_recorded(&state, path, 0).await
}

/// Open connection `index` of a log file (HAR, NDJSON, JSON) read-only in a new tab.
#[tauri::command]
pub async fn import_open_log(state: State<'_, AppState>, path: String, index: usize) -> CmdResult<SessionSnapshot> {
    open_recorded(&state, user_path(&path), index).await
}

async fn open_recorded(state: &AppState, path: std::path::PathBuf, index: usize) -> CmdResult<SessionSnapshot> {
    let rec = read_connection(path, index).await?;
    let config = rec.to_saved_connection().config;
    let handshake = rec.handshake.clone();
    let log = FrameLog::from_frames(Default::default(), rec.frames);
    let id = state.manager.create_read_only(rec.name, config, log, handshake);
    Ok(state.manager.get(id)?.snapshot())
}

/// Connection `index` of a log file, read off the async runtime.
async fn read_connection(path: std::path::PathBuf, index: usize) -> CmdResult<RecordedConnection> {
    let mut conns = tauri::async_runtime::spawn_blocking(move || export::read_log_file(&path))
        .await
        .map_err(|e| Error::Io(format!("reading the log failed: {e}")))??;
    if index >= conns.len() {
        return Err(Error::InvalidConfig(format!(
            "the file holds {} connection(s), not {}",
            conns.len(),
            index + 1
        ))
        .into());
    }
    Ok(conns.swap_remove(index))
}

/// Save connection `index` of a log file as a saved connection (its sent messages
/// become saved messages) in `collection`.
#[tauri::command]
pub async fn import_save_connection(
    state: State<'_, AppState>,
    path: String,
    index: usize,
    collection: String,
) -> CmdResult<super::collections::SavedView> {
    let mut saved = read_connection(user_path(&path), index).await?.to_saved_connection();
    // A recording's credentials are not for a file that may be committed.
    saved
        .config
        .headers
        .retain(|h| !export::SENSITIVE_HEADERS.iter().any(|s| h.name.eq_ignore_ascii_case(s)));
    super::collections::create_saved(&state, &collection, &saved)
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
