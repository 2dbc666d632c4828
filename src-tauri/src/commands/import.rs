//! Opening files from elsewhere: collections from other tools (into the workspace)
//! and recorded logs (read-only tabs, or a saved connection). The engine's `import`
//! module tells them apart and holds every rule; this maps arguments onto it.

use std::path::PathBuf;

use serde::Serialize;
use tauri::State;
use wsbench_core::export::{self, RecordedConnection};
use wsbench_core::import::{self, ImportDone, Preview};
use wsbench_core::{Error, SessionSnapshot};

use super::collections::{on_workspace, SavedView, WorkspaceView};
use super::CmdResult;
use crate::{blocking, user_path, AppState};

/// What a file holds before importing it: `{ kind: "collection", report }` or
/// `{ kind: "log", connections }`.
#[tauri::command]
pub async fn import_preview(path: String) -> CmdResult<Preview> {
    let path = user_path(&path)?;
    blocking("reading the file", move || import::open(&path).map(|o| o.preview())).await
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportApplied {
    #[serde(flatten)]
    pub done: ImportDone,
    pub workspace: WorkspaceView,
}

/// Import a collection from another tool into the folder `into` (created), keeping
/// its sub-folders; environments whose name is taken get " (imported)".
#[tauri::command]
pub async fn import_apply(state: State<'_, AppState>, path: String, into: String) -> CmdResult<ImportApplied> {
    let p = user_path(&path)?;
    let report = blocking("reading the file", move || import::import_path(&p)).await?;
    let (done, workspace) = on_workspace(&state, move |ws| import::import_into(ws, &report, &into)).await?;
    Ok(ImportApplied { done, workspace })
}

/// Open connection `index` of a log file (HAR, NDJSON, JSON) read-only in a new tab.
#[tauri::command]
pub async fn import_open_log(state: State<'_, AppState>, path: String, index: usize) -> CmdResult<SessionSnapshot> {
    open_recorded(&state, user_path(&path)?, index).await
}

/// Open a recorded connection read-only in a new tab.
pub(crate) async fn open_recorded(state: &AppState, path: PathBuf, index: usize) -> CmdResult<SessionSnapshot> {
    let rec = read_connection(path, index).await?;
    let config = rec.to_saved_connection().config;
    let handshake = rec.handshake.clone();
    let name = rec.name.clone();
    // Frames with their decoded Socket.IO views, so a reopened Socket.IO log shows them.
    let log = rec.into_frame_log(Default::default());
    let id = state.manager.create_read_only(name, config, log, handshake);
    Ok(state.manager.get(id)?.snapshot())
}

/// Connection `index` of a log file, read on a blocking thread.
async fn read_connection(path: PathBuf, index: usize) -> CmdResult<RecordedConnection> {
    blocking("reading the log", move || {
        let mut conns = export::read_log_file(&path)?;
        if index >= conns.len() {
            return Err(Error::NotInFile(format!(
                "the file holds {} connection(s), not {}",
                conns.len(),
                index + 1
            )));
        }
        Ok(conns.swap_remove(index))
    })
    .await
}

/// Save connection `index` of a log file as a saved connection in `collection`
/// (its sent messages become saved messages; credential headers are left out).
#[tauri::command]
pub async fn import_save_connection(
    state: State<'_, AppState>,
    path: String,
    index: usize,
    collection: String,
) -> CmdResult<SavedView> {
    let rec = read_connection(user_path(&path)?, index).await?;
    Ok(SavedView::new(
        on_workspace(&state, move |ws| import::import_recorded(ws, &rec, &collection)).await?,
    ))
}
