//! The workspace: collections (folders) and saved connections. Every write goes
//! through the engine's workspace (atomic, conflict-checked) on a blocking thread;
//! the UI gets back the redrawn sidebar.

use serde::{Deserialize, Serialize};
use tauri::State;
use wsbench_core::workspace::{
    ExternalChange, FileProblem, Loaded, RenamedCollection, Restored, Saved, TreeItem, Workspace,
};
use wsbench_core::SavedConnection;

use super::CmdResult;
use crate::{blocking, lock, user_path, AppState};

/// The sidebar, drawn from scratch after every change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    pub name: String,
    pub root: String,
    pub items: Vec<TreeItem>,
    pub problems: Vec<FileProblem>,
    pub environments: Vec<String>,
    pub active_environment: Option<String>,
}

/// The view of `ws`; `active` is the app's active environment (dropped when the
/// workspace has no environment of that name).
pub(crate) fn view_of(ws: &Workspace, active: Option<String>) -> WorkspaceView {
    let tree = ws.tree();
    let items = tree.items();
    let active = active.filter(|a| tree.environments.contains(a));
    WorkspaceView {
        name: tree.name,
        root: ws.root().display().to_string(),
        items,
        problems: tree.problems,
        environments: tree.environments,
        active_environment: active,
    }
}

/// Run `f` on the workspace on a blocking thread (the lock is taken there, never
/// across an await), then answer with `f`'s result and the redrawn sidebar.
pub(crate) async fn on_workspace<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Workspace) -> wsbench_core::Result<T> + Send + 'static,
) -> CmdResult<(T, WorkspaceView)> {
    let ws = state.workspace.clone();
    let active = state.active_environment();
    blocking("the workspace operation", move || {
        let mut ws = lock(&ws);
        let out = f(&mut ws)?;
        Ok((out, view_of(&ws, active)))
    })
    .await
}

#[tauri::command]
pub async fn workspace_info(state: State<'_, AppState>) -> CmdResult<WorkspaceView> {
    Ok(on_workspace(&state, |_| Ok(())).await?.1)
}

/// The sidebar rows with only what matches `filter` (the engine's rule: a
/// connection whose name contains it, case-insensitive, with the collections above
/// it; a collection whose name contains it with all it holds).
#[tauri::command]
pub async fn workspace_tree(state: State<'_, AppState>, filter: String) -> CmdResult<Vec<TreeItem>> {
    let ws = state.workspace.clone();
    blocking("the workspace tree", move || Ok(lock(&ws).tree_items(&filter))).await
}

/// Open (or create) a workspace folder; it becomes the one opened at start-up.
#[tauri::command]
pub async fn workspace_open(state: State<'_, AppState>, path: String) -> CmdResult<WorkspaceView> {
    let root = user_path(&path)?;
    let at = root.clone();
    let (ws, _report) = blocking("opening the workspace", move || Workspace::open(&at)).await?;
    *lock(&state.workspace) = ws;
    lock(&state.ui).file.workspace = Some(root);
    state.persist_async().await;
    Ok(on_workspace(&state, |_| Ok(())).await?.1)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rescan {
    pub changes: Vec<ExternalChange>,
    pub workspace: WorkspaceView,
}

/// Pick up files changed outside the app (called on focus and on a timer). The
/// walk runs without the workspace lock; only taking in the changes holds it.
#[tauri::command]
pub async fn workspace_rescan(state: State<'_, AppState>) -> CmdResult<Rescan> {
    let ws = state.workspace.clone();
    let changes = blocking("rescanning the workspace", move || Ok(Workspace::rescan_shared(&ws))).await?;
    let workspace = on_workspace(&state, |_| Ok(())).await?.1;
    Ok(Rescan { changes, workspace })
}

/// The connection as it is on disk now (outside changes are picked up first).
#[tauri::command]
pub async fn saved_open(state: State<'_, AppState>, id: String) -> CmdResult<Loaded> {
    let ws = state.workspace.clone();
    blocking("opening the connection", move || {
        Workspace::rescan_shared(&ws);
        lock(&ws).connection(&id)
    })
    .await
}

/// `{ id?, collection?, connection, baseRevision?, force? }`: with `id`, save over
/// that file (refused with `conflict` if it changed on disk since `baseRevision`);
/// without, create a new file in `collection`. The connection's `version` may be
/// left out: the engine writes the current file format.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveRequest {
    pub id: Option<String>,
    #[serde(default)]
    pub collection: String,
    pub connection: SavedConnection,
    pub base_revision: Option<String>,
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedView {
    pub id: String,
    pub revision: String,
    pub replaced_secrets: Vec<String>,
    pub backup: Option<String>,
    pub workspace: WorkspaceView,
}

impl SavedView {
    pub(crate) fn new((s, workspace): (Saved, WorkspaceView)) -> Self {
        SavedView {
            id: s.id,
            revision: s.revision,
            replaced_secrets: s.replaced_secrets,
            backup: s.backup,
            workspace,
        }
    }
}

#[tauri::command]
pub async fn saved_save(state: State<'_, AppState>, request: SaveRequest) -> CmdResult<SavedView> {
    let r = request;
    let done = on_workspace(&state, move |ws| match &r.id {
        Some(id) => ws.save_connection(id, &r.connection, r.base_revision.as_deref(), r.force),
        None => ws.create_connection(&r.collection, &r.connection),
    })
    .await?;
    Ok(SavedView::new(done))
}

#[tauri::command]
pub async fn saved_rename(state: State<'_, AppState>, id: String, name: String) -> CmdResult<SavedView> {
    Ok(SavedView::new(
        on_workspace(&state, move |ws| ws.rename_connection(&id, &name)).await?,
    ))
}

#[tauri::command]
pub async fn saved_duplicate(state: State<'_, AppState>, id: String) -> CmdResult<SavedView> {
    Ok(SavedView::new(
        on_workspace(&state, move |ws| ws.duplicate_connection(&id)).await?,
    ))
}

#[tauri::command]
pub async fn saved_move(state: State<'_, AppState>, id: String, collection: String) -> CmdResult<SavedView> {
    Ok(SavedView::new(
        on_workspace(&state, move |ws| ws.move_connection(&id, &collection)).await?,
    ))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedView {
    pub token: String,
    pub workspace: WorkspaceView,
}

#[tauri::command]
pub async fn saved_delete(state: State<'_, AppState>, id: String) -> CmdResult<DeletedView> {
    let (d, workspace) = on_workspace(&state, move |ws| ws.delete_connection(&id)).await?;
    Ok(DeletedView {
        token: d.token,
        workspace,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoredView {
    pub restored: Restored,
    pub workspace: WorkspaceView,
}

/// Undo a deletion (connection, collection or environment) from this run.
#[tauri::command]
pub async fn undo_delete(state: State<'_, AppState>, token: String) -> CmdResult<RestoredView> {
    let (restored, workspace) = on_workspace(&state, move |ws| ws.undo_delete(&token)).await?;
    Ok(RestoredView { restored, workspace })
}

/// `{ parent, name }`: a new collection `name` inside `parent` (`""`: the top
/// level); the engine checks the name (`invalidName` when empty or with a `/`).
/// The older `{ path }` form (a whole path, parents made as needed) still works.
#[tauri::command]
pub async fn collection_create(
    state: State<'_, AppState>,
    parent: Option<String>,
    name: Option<String>,
    path: Option<String>,
) -> CmdResult<WorkspaceView> {
    let created = on_workspace(&state, move |ws| match (path, name) {
        (Some(path), None) => ws.create_collection(&path),
        (_, name) => ws.create_collection_in(&parent.unwrap_or_default(), &name.unwrap_or_default()),
    });
    Ok(created.await?.1)
}

/// `{ path, movedIds: { oldId: newId }, workspace }`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenamedView {
    #[serde(flatten)]
    pub renamed: RenamedCollection,
    pub workspace: WorkspaceView,
}

/// Rename a collection; answers with its new path and the new ID of every
/// connection under it, so open tabs follow without rebuilding IDs.
#[tauri::command]
pub async fn collection_rename(state: State<'_, AppState>, path: String, name: String) -> CmdResult<RenamedView> {
    let (renamed, workspace) = on_workspace(&state, move |ws| ws.rename_collection(&path, &name)).await?;
    Ok(RenamedView { renamed, workspace })
}

#[tauri::command]
pub async fn collection_delete(state: State<'_, AppState>, path: String) -> CmdResult<DeletedView> {
    let (d, workspace) = on_workspace(&state, move |ws| ws.delete_collection(&path)).await?;
    Ok(DeletedView {
        token: d.token,
        workspace,
    })
}
