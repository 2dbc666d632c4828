use serde::Serialize;
use tauri::State;
use wsbench_core::events::FramePreview;
use wsbench_core::socketio::Decoded;
use wsbench_core::{Frame, FrameLog, FrameRecord, LogStats, SearchQuery, SearchResult};

use super::CmdResult;
use crate::AppState;

/// Most frames one call returns: pages are for the visible rows, not for bulk copy.
const MAX_PAGE: usize = 2_000;

/// A frame as the UI gets it: the record, with its decoded Socket.IO packet (if any).
#[derive(Serialize)]
pub struct LogRow {
    #[serde(flatten)]
    record: FrameRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    socketio: Option<Decoded>,
}

fn row(log: &FrameLog, f: &Frame) -> LogRow {
    LogRow {
        record: f.to_record(),
        socketio: log.decoded(f.seq).map(|d| (*d).clone()),
    }
}

/// Up to `limit` frames from `fromSeq` on, as previews cut like the batches' (what a
/// row draws): a page of rows never carries whole payloads; the detail pane asks
/// for one frame with `log_frame`.
#[tauri::command]
pub fn log_page(state: State<'_, AppState>, id: u64, from_seq: u64, limit: usize) -> CmdResult<Vec<FramePreview>> {
    let s = state.manager.get(id)?;
    let log = s.log();
    let bytes = crate::batching().preview_bytes;
    Ok(log
        .page(from_seq, limit.min(MAX_PAGE))
        .iter()
        .map(|f| {
            let mut p = FramePreview::of(f, bytes);
            p.socketio = log.decoded(f.seq).map(|d| (*d).clone());
            p
        })
        .collect())
}

/// One whole frame (the detail pane); `None` once evicted.
#[tauri::command]
pub fn log_frame(state: State<'_, AppState>, id: u64, seq: u64) -> CmdResult<Option<LogRow>> {
    let s = state.manager.get(id)?;
    let log = s.log();
    Ok(log.get(seq).map(|f| row(log, &f)))
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
