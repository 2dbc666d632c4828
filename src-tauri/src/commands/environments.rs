//! Environments: named sets of variables, edited in the app, one active at a time.

use serde::Serialize;
use tauri::State;
use wsbench_core::workspace::Workspace;
use wsbench_core::Environment;

use super::collections::{on_workspace, DeletedView, WorkspaceView};
use super::CmdResult;
use crate::{blocking, lock, AppState};

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
pub async fn environments_list(state: State<'_, AppState>) -> CmdResult<Vec<EnvironmentView>> {
    let ws = state.workspace.clone();
    blocking("reading the environments", move || {
        Workspace::rescan_shared(&ws);
        Ok(lock(&ws)
            .environments_with_revisions()
            .into_iter()
            .map(|e| EnvironmentView {
                environment: e.environment,
                revision: e.revision,
            })
            .collect())
    })
    .await
}

/// Save an environment; `original` is its name before this edit (None: new) and
/// `baseRevision` the revision the editor loaded (see `Workspace::edit_environment`).
/// The active environment follows a rename.
#[tauri::command]
pub async fn environment_save(
    state: State<'_, AppState>,
    environment: Environment,
    original: Option<String>,
    base_revision: Option<String>,
) -> CmdResult<WorkspaceView> {
    let ws = state.workspace.clone();
    let renamed = blocking("saving the environment", move || {
        let mut renamed = None;
        let saved = lock(&ws).edit_environment(
            &environment,
            original.as_deref(),
            base_revision.as_deref(),
            |old, new| renamed = Some((old.to_owned(), new.to_owned())),
        );
        Ok((renamed, saved))
    })
    .await?;
    let (renamed, saved) = renamed;
    if let Some((old, new)) = &renamed {
        lock(&state.ui).file.follow_environment_rename(old, new);
    }
    saved?;
    state.persist_async().await;
    Ok(on_workspace(&state, |_| Ok(())).await?.1)
}

#[tauri::command]
pub async fn environment_delete(state: State<'_, AppState>, name: String) -> CmdResult<DeletedView> {
    let (d, workspace) = on_workspace(&state, move |ws| ws.delete_environment(&name)).await?;
    Ok(DeletedView {
        token: d.token,
        workspace,
    })
}

/// Make `name` the active environment (None: no variables).
#[tauri::command]
pub async fn environment_select(state: State<'_, AppState>, name: Option<String>) -> CmdResult<WorkspaceView> {
    if let Some(n) = name.clone() {
        on_workspace(&state, move |ws| ws.environment(&n)).await?;
    }
    lock(&state.ui).file.environment = name;
    state.persist_async().await;
    Ok(on_workspace(&state, |_| Ok(())).await?.1)
}
