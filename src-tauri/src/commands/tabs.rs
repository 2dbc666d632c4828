use tauri::State;
use wsbench_core::{ConnectConfig, SessionSnapshot};

use super::CmdResult;
use crate::AppState;

#[tauri::command]
pub fn list_tabs(state: State<'_, AppState>) -> Vec<SessionSnapshot> {
    state.manager.snapshot()
}

/// A new tab; without a config it points at the built-in echo server.
#[tauri::command]
pub fn create_tab(
    state: State<'_, AppState>,
    name: Option<String>,
    config: Option<ConnectConfig>,
) -> CmdResult<SessionSnapshot> {
    let config = config.unwrap_or_else(|| ConnectConfig::new(state.server_url.clone()));
    let id = state.manager.create(name.unwrap_or_else(|| "New tab".into()), config);
    Ok(state.manager.get(id)?.snapshot())
}

#[tauri::command]
pub fn close_tab(state: State<'_, AppState>, id: u64) -> CmdResult<()> {
    Ok(state.manager.remove(id)?)
}

#[tauri::command]
pub fn rename_tab(state: State<'_, AppState>, id: u64, name: String) -> CmdResult<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(wsbench_core::Error::InvalidConfig("a tab name cannot be empty".into()).into());
    }
    Ok(state.manager.rename(id, name)?)
}

#[tauri::command]
pub fn set_config(state: State<'_, AppState>, id: u64, config: ConnectConfig) -> CmdResult<()> {
    Ok(state.manager.set_config(id, config)?)
}
