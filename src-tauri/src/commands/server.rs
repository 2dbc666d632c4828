use tauri::State;

use crate::AppState;

/// The built-in echo server's URL.
#[tauri::command]
pub fn local_server_url(state: State<'_, AppState>) -> String {
    state.server_url.clone()
}
