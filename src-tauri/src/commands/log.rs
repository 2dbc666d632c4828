use tauri::State;
use wsbench_core::{FrameRecord, LogStats, SearchQuery, SearchResult};

use super::CmdResult;
use crate::AppState;

/// Most frames one call returns: pages are for the visible rows, not for bulk copy.
const MAX_PAGE: usize = 2_000;

/// Up to `limit` frames from `fromSeq` on, as full records.
#[tauri::command]
pub fn log_page(state: State<'_, AppState>, id: u64, from_seq: u64, limit: usize) -> CmdResult<Vec<FrameRecord>> {
    let s = state.manager.get(id)?;
    Ok(s.log()
        .page(from_seq, limit.min(MAX_PAGE))
        .iter()
        .map(|f| f.to_record())
        .collect())
}

/// One whole frame (the detail pane); `None` once evicted.
#[tauri::command]
pub fn log_frame(state: State<'_, AppState>, id: u64, seq: u64) -> CmdResult<Option<FrameRecord>> {
    Ok(state.manager.get(id)?.log().get(seq).map(|f| f.to_record()))
}

/// Search in the engine: matching sequence numbers and the total count.
#[tauri::command]
pub async fn log_search(state: State<'_, AppState>, id: u64, query: SearchQuery) -> CmdResult<SearchResult> {
    let log = state.manager.get(id)?.log().clone();
    // A search over a million frames takes ~100 ms: keep it off the IPC thread.
    tauri::async_runtime::spawn_blocking(move || log.search(&query))
        .await
        .map_err(|e| wsbench_core::Error::Io(format!("search failed: {e}")))?
        .map_err(Into::into)
}

#[tauri::command]
pub fn log_clear(state: State<'_, AppState>, id: u64) -> CmdResult<LogStats> {
    Ok(state.manager.get(id)?.clear_log()?)
}
