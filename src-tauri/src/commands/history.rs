//! The session history: every connection that ended, recorded to the data folder
//! and reopened read-only.

use serde::Serialize;
use tauri::State;
use wsbench_core::history::{History, HistoryEntry};
use wsbench_core::SessionSnapshot;

use super::import::open_recorded;
use super::CmdResult;
use crate::{blocking, lock, AppState};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub entries: Vec<HistoryEntry>,
    /// The size bound of the history folder, in bytes.
    pub max_bytes: u64,
}

#[tauri::command]
pub async fn history_list(state: State<'_, AppState>) -> CmdResult<HistoryView> {
    let history = state.history.clone();
    let entries = blocking("reading the history", move || history.list()).await?;
    Ok(HistoryView {
        entries,
        max_bytes: lock(&state.ui).file.history_max_bytes,
    })
}

/// Change the history's size bound (at least `wsbench_core::history::MIN_HISTORY_BYTES`); the oldest
/// sessions beyond it are removed at once.
#[tauri::command]
pub async fn history_set_max_bytes(state: State<'_, AppState>, max_bytes: u64) -> CmdResult<HistoryView> {
    let history = state.history.clone();
    let max_bytes = History::user_bound(max_bytes);
    blocking("pruning the history", move || history.set_max_bytes(max_bytes)).await?;
    lock(&state.ui).file.history_max_bytes = max_bytes;
    state.persist_async().await;
    history_list(state).await
}

/// Open a recorded session read-only in a new tab.
#[tauri::command]
pub async fn history_open(state: State<'_, AppState>, id: String) -> CmdResult<SessionSnapshot> {
    let path = state.history.path_of(&id)?;
    open_recorded(&state, path, 0).await
}
