//! The workspace: collections (folders), saved connections, environments, and
//! importing from other tools. Every write goes through the engine's file store
//! (atomic, conflict-checked); the UI gets back the redrawn sidebar.

use serde::{Deserialize, Serialize};
use tauri::State;
use wsbench_core::collections::import;
use wsbench_core::collections::store::{CollectionNode, ExternalChange, FileProblem, Loaded, Workspace};
use wsbench_core::collections::ImportReport;
use wsbench_core::export;
use wsbench_core::{Environment, Error, SavedConnection};

use super::CmdResult;
use crate::{lock, user_path, AppState};

/// One row of the sidebar tree, in display order.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TreeItem {
    #[serde(rename_all = "camelCase")]
    Collection { path: String, name: String, depth: usize },
    #[serde(rename_all = "camelCase")]
    Connection {
        id: String,
        name: String,
        collection: String,
        depth: usize,
        messages: usize,
    },
}

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

fn flatten(node: &CollectionNode, depth: usize, out: &mut Vec<TreeItem>) {
    for c in &node.collections {
        out.push(TreeItem::Collection {
            path: c.path.clone(),
            name: c.name.clone(),
            depth,
        });
        flatten(c, depth + 1, out);
    }
    for c in &node.connections {
        out.push(TreeItem::Connection {
            id: c.id.clone(),
            name: c.name.clone(),
            collection: c.collection.clone(),
            depth,
            messages: c.messages,
        });
    }
}

pub(crate) fn view(state: &AppState) -> WorkspaceView {
    let ws = lock(&state.workspace);
    let tree = ws.tree();
    let mut items = Vec::new();
    // Top-level connections first, then collections with their contents.
    flatten(&tree.root, 0, &mut items);
    let mut active = lock(&state.ui).file.environment.clone();
    if active.as_ref().is_some_and(|a| !tree.environments.contains(a)) {
        active = None;
    }
    WorkspaceView {
        name: tree.name,
        root: ws.root().display().to_string(),
        items,
        problems: tree.problems,
        environments: tree.environments,
        active_environment: active,
    }
}

#[tauri::command]
pub fn workspace_info(state: State<'_, AppState>) -> WorkspaceView {
    view(&state)
}

/// Open (or create) a workspace folder; it becomes the one opened at start-up.
#[tauri::command]
pub fn workspace_open(state: State<'_, AppState>, path: String) -> CmdResult<WorkspaceView> {
    let root = user_path(&path);
    let (ws, _report) = Workspace::open(&root)?;
    *lock(&state.workspace) = ws;
    {
        let mut ui = lock(&state.ui);
        ui.file.workspace = Some(root);
    }
    state.persist();
    Ok(view(&state))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rescan {
    pub changes: Vec<ExternalChange>,
    pub workspace: WorkspaceView,
}

/// Pick up files changed outside the app (called on focus and on a timer).
#[tauri::command]
pub fn workspace_rescan(state: State<'_, AppState>) -> Rescan {
    let changes = lock(&state.workspace).rescan();
    Rescan {
        changes,
        workspace: view(&state),
    }
}

/// The connection as it is on disk now (outside changes are picked up first).
#[tauri::command]
pub fn saved_open(state: State<'_, AppState>, id: String) -> CmdResult<Loaded> {
    let mut ws = lock(&state.workspace);
    ws.rescan();
    Ok(ws.connection(&id)?)
}

/// `{ id?, collection?, connection, baseRevision?, force? }`: with `id`, save over
/// that file (refused with `conflict` if it changed on disk since `baseRevision`);
/// without, create a new file in `collection`.
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

fn saved_view(state: &AppState, s: wsbench_core::collections::store::Saved) -> SavedView {
    SavedView {
        id: s.id,
        revision: s.revision,
        replaced_secrets: s.replaced_secrets,
        backup: s.backup,
        workspace: view(state),
    }
}

pub(crate) fn create_saved(state: &AppState, collection: &str, c: &SavedConnection) -> CmdResult<SavedView> {
    let saved = lock(&state.workspace).create_connection(collection, c)?;
    Ok(saved_view(state, saved))
}

#[tauri::command]
pub fn saved_save(state: State<'_, AppState>, request: SaveRequest) -> CmdResult<SavedView> {
    let saved = match &request.id {
        Some(id) => lock(&state.workspace).save_connection(
            id,
            &request.connection,
            request.base_revision.as_deref(),
            request.force,
        )?,
        None => lock(&state.workspace).create_connection(&request.collection, &request.connection)?,
    };
    Ok(saved_view(&state, saved))
}

#[tauri::command]
pub fn saved_rename(state: State<'_, AppState>, id: String, name: String) -> CmdResult<SavedView> {
    let saved = lock(&state.workspace).rename_connection(&id, &name)?;
    Ok(saved_view(&state, saved))
}

#[tauri::command]
pub fn saved_duplicate(state: State<'_, AppState>, id: String) -> CmdResult<SavedView> {
    let saved = lock(&state.workspace).duplicate_connection(&id)?;
    Ok(saved_view(&state, saved))
}

#[tauri::command]
pub fn saved_move(state: State<'_, AppState>, id: String, collection: String) -> CmdResult<SavedView> {
    let saved = lock(&state.workspace).move_connection(&id, &collection)?;
    Ok(saved_view(&state, saved))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedView {
    pub token: String,
    pub workspace: WorkspaceView,
}

#[tauri::command]
pub fn saved_delete(state: State<'_, AppState>, id: String) -> CmdResult<DeletedView> {
    let d = lock(&state.workspace).delete_connection(&id)?;
    Ok(DeletedView {
        token: d.token,
        workspace: view(&state),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoredView {
    pub restored: wsbench_core::collections::store::Restored,
    pub workspace: WorkspaceView,
}

/// Undo a deletion (connection, collection or environment) from this run.
#[tauri::command]
pub fn undo_delete(state: State<'_, AppState>, token: String) -> CmdResult<RestoredView> {
    let restored = lock(&state.workspace).undo_delete(&token)?;
    Ok(RestoredView {
        restored,
        workspace: view(&state),
    })
}

#[tauri::command]
pub fn collection_create(state: State<'_, AppState>, path: String) -> CmdResult<WorkspaceView> {
    lock(&state.workspace).create_collection(&path)?;
    Ok(view(&state))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenamedView {
    pub path: String,
    pub workspace: WorkspaceView,
}

#[tauri::command]
pub fn collection_rename(state: State<'_, AppState>, path: String, name: String) -> CmdResult<RenamedView> {
    let path = lock(&state.workspace).rename_collection(&path, &name)?;
    Ok(RenamedView {
        path,
        workspace: view(&state),
    })
}

#[tauri::command]
pub fn collection_delete(state: State<'_, AppState>, path: String) -> CmdResult<DeletedView> {
    let d = lock(&state.workspace).delete_collection(&path)?;
    Ok(DeletedView {
        token: d.token,
        workspace: view(&state),
    })
}

/// An environment with the revision the editor saves against.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    #[serde(flatten)]
    pub environment: Environment,
    pub revision: String,
}

/// Every environment, secret values included (they are the user's own, shown in
/// the editor as password fields), with its revision.
#[tauri::command]
pub fn environments_list(state: State<'_, AppState>) -> Vec<EnvironmentView> {
    let mut ws = lock(&state.workspace);
    ws.rescan();
    ws.environments()
        .into_iter()
        .filter_map(|e| {
            let revision = ws.environment(&e.name).ok()?.revision;
            Some(EnvironmentView {
                environment: e,
                revision,
            })
        })
        .collect()
}

/// Save an environment; `original` is its name before this edit (None: new) and
/// `baseRevision` the revision the editor loaded: an outside change since then is a
/// conflict, never overwritten. Refused while its secrets file cannot be read, so
/// blank values never replace the real ones.
#[tauri::command]
pub fn environment_save(
    state: State<'_, AppState>,
    environment: Environment,
    original: Option<String>,
    base_revision: Option<String>,
) -> CmdResult<WorkspaceView> {
    {
        let mut ws = lock(&state.workspace);
        if let Some(old) = original.as_deref() {
            let secrets = format!(
                "environments/{}.secrets.json",
                wsbench_core::collections::store::slug(old, "environment")
            );
            if let Some(p) = ws.problems().into_iter().find(|p| p.path == secrets) {
                return Err(Error::InvalidConfig(format!(
                    "{} cannot be read ({}); fix or remove it before saving this environment",
                    p.path, p.message
                ))
                .into());
            }
        }
        match original.as_deref() {
            Some(old) => {
                let current = ws.environment(old)?.revision;
                if base_revision.as_deref().is_some_and(|b| b != current) {
                    return Err(Error::Conflict {
                        path: format!("environment {old:?}"),
                    }
                    .into());
                }
                if old != environment.name.trim() {
                    ws.rename_environment(old, &environment.name)?;
                    // The active environment follows its rename even if the save fails.
                    let mut ui = lock(&state.ui);
                    if ui.file.environment.as_deref() == Some(old) {
                        ui.file.environment = Some(environment.name.trim().to_owned());
                    }
                }
                let base = ws.environment(environment.name.trim())?.revision;
                ws.save_environment(&environment, Some(&base), false)?;
            }
            None => {
                if ws.environment(environment.name.trim()).is_ok() {
                    return Err(Error::InvalidConfig(format!(
                        "there is already an environment named {:?}",
                        environment.name.trim()
                    ))
                    .into());
                }
                ws.save_environment(&environment, None, false)?;
            }
        }
    }
    state.persist();
    Ok(view(&state))
}

#[tauri::command]
pub fn environment_delete(state: State<'_, AppState>, name: String) -> CmdResult<DeletedView> {
    let d = lock(&state.workspace).delete_environment(&name)?;
    Ok(DeletedView {
        token: d.token,
        workspace: view(&state),
    })
}

/// Make `name` the active environment (None: no variables).
#[tauri::command]
pub fn environment_select(state: State<'_, AppState>, name: Option<String>) -> CmdResult<WorkspaceView> {
    if let Some(n) = &name {
        lock(&state.workspace).environment(n)?;
    }
    lock(&state.ui).file.environment = name;
    state.persist();
    Ok(view(&state))
}

/// What a file holds before importing it: a collection from another tool, or
/// recorded WebSocket connections (HAR, wsbench NDJSON/JSON logs).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ImportPreview {
    Collection { report: ImportReport },
    Log { connections: Vec<export::RecordedSummary> },
}

/// A folder name from another tool, made safe for a collection path.
fn folder_name(s: &str) -> String {
    let name = s.replace(['/', '\\', ':'], "-");
    let name = name.trim().trim_start_matches('.').trim();
    match name {
        "" => "folder".to_owned(),
        "environments" => "environments (imported)".to_owned(),
        n => n.to_owned(),
    }
}

fn is_log_file(path: &std::path::Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "har" | "ndjson" | "jsonl")
}

#[tauri::command]
pub async fn import_preview(path: String) -> CmdResult<ImportPreview> {
    let path = user_path(&path);
    let run = move || -> wsbench_core::Result<ImportPreview> {
        let as_log = || {
            export::read_log_file(&path).map(|conns| ImportPreview::Log {
                connections: conns.iter().enumerate().map(|(i, c)| c.summary(i)).collect(),
            })
        };
        if is_log_file(&path) {
            return as_log();
        }
        match import::import_path(&path) {
            Ok(report) => Ok(ImportPreview::Collection { report }),
            // A .json may be a wsbench log rather than an Insomnia export.
            Err(e) => as_log().map_err(|_| e),
        }
    };
    tauri::async_runtime::spawn_blocking(run)
        .await
        .map_err(|e| Error::Io(format!("reading the file failed: {e}")))?
        .map_err(Into::into)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportDone {
    pub connections: usize,
    pub environments: usize,
    pub workspace: WorkspaceView,
}

/// Import a collection from another tool into the folder `into` (created), keeping
/// its sub-folders; environments whose name is taken get " (imported)".
#[tauri::command]
pub async fn import_apply(state: State<'_, AppState>, path: String, into: String) -> CmdResult<ImportDone> {
    let p = user_path(&path);
    let report = tauri::async_runtime::spawn_blocking(move || import::import_path(&p))
        .await
        .map_err(|e| Error::Io(format!("reading the file failed: {e}")))??;
    let into = into.trim().trim_matches('/').to_owned();
    let mut ws = lock(&state.workspace);
    let mut connections = 0;
    for c in &report.connections {
        let mut folder = into.clone();
        for part in &c.folder {
            let part = folder_name(part);
            folder = if folder.is_empty() {
                part
            } else {
                format!("{folder}/{part}")
            };
        }
        if !folder.is_empty() && !ws.root().join(&folder).is_dir() {
            ws.create_collection(&folder)?;
        }
        ws.create_connection(&folder, &c.connection)?;
        connections += 1;
    }
    let mut environments = 0;
    for env in &report.environments {
        let mut env = env.clone();
        while ws.environment(&env.name).is_ok() {
            env.name = format!("{} (imported)", env.name);
        }
        ws.save_environment(&env, None, false)?;
        environments += 1;
    }
    drop(ws);
    Ok(ImportDone {
        connections,
        environments,
        workspace: view(&state),
    })
}
