//! Tabs: one engine session each, with the extras the UI keeps (saved messages,
//! the saved file it edits, unsent text). Changes are written to the app's state
//! file off the main thread.

use std::collections::BTreeMap;

use serde::Serialize;
use tauri::State;
use wsbench_core::{ConnectConfig, ErrorInfo, SessionSnapshot};

use super::CmdResult;
use wsbench_core::restore::TabMeta;

use crate::{lock, AppState};

#[tauri::command]
pub fn list_tabs(state: State<'_, AppState>) -> Vec<SessionSnapshot> {
    state.manager.snapshot()
}

/// A new tab; without a config it points at the built-in echo server.
#[tauri::command]
pub async fn create_tab(
    state: State<'_, AppState>,
    name: Option<String>,
    config: Option<ConnectConfig>,
) -> CmdResult<SessionSnapshot> {
    let config = config.unwrap_or_else(|| ConnectConfig::new(state.server_url.clone()));
    let id = state.manager.create(name.unwrap_or_else(|| "New tab".into()), config);
    state.persist_async().await;
    Ok(state.manager.get(id)?.snapshot())
}

#[tauri::command]
pub async fn close_tab(state: State<'_, AppState>, id: u64) -> CmdResult<()> {
    state.manager.remove(id)?;
    state.persist_async().await;
    Ok(())
}

#[tauri::command]
pub async fn rename_tab(state: State<'_, AppState>, id: u64, name: String) -> CmdResult<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(wsbench_core::Error::InvalidName("a tab name cannot be empty".into()).into());
    }
    state.manager.rename(id, name)?;
    state.persist_async().await;
    Ok(())
}

#[tauri::command]
pub async fn set_config(state: State<'_, AppState>, id: u64, config: ConnectConfig) -> CmdResult<()> {
    state.manager.set_config(id, config)?;
    state.persist_async().await;
    Ok(())
}

/// What the UI restores besides the engine's snapshot.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiStateView {
    pub tabs: BTreeMap<u64, TabMeta>,
    pub active: Option<u64>,
    pub problem: Option<ErrorInfo>,
}

#[tauri::command]
pub fn ui_state(state: State<'_, AppState>) -> UiStateView {
    let mut ui = lock(&state.ui);
    UiStateView {
        tabs: ui.meta.clone(),
        active: ui.active,
        problem: ui.problem.take(),
    }
}

/// A tab's saved messages, saved-file reference, dirty flag and unsent text.
#[tauri::command]
pub async fn set_tab_meta(state: State<'_, AppState>, id: u64, meta: TabMeta) -> CmdResult<()> {
    state.manager.get(id)?;
    lock(&state.ui).meta.insert(id, meta);
    state.persist_async().await;
    Ok(())
}

#[tauri::command]
pub async fn set_active_tab(state: State<'_, AppState>, id: u64) -> CmdResult<()> {
    state.manager.get(id)?;
    state.shown.store(id, std::sync::atomic::Ordering::Relaxed);
    lock(&state.ui).active = Some(id);
    state.persist_async().await;
    Ok(())
}
