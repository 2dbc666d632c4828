//! Native file dialogs, opened from Rust: the webview itself has no dialog
//! permission. Each returns the chosen path, or `None` when the user cancels.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::{Dialog, FilePath};

use super::CmdResult;
use wsbench_core::Error;

fn dialog<R: Runtime>(app: &AppHandle<R>) -> CmdResult<Dialog<R>> {
    app.try_state::<Dialog<R>>()
        .map(|d| d.inner().clone())
        .ok_or_else(|| Error::Io("native file dialogs are not available".into()).into())
}

fn path(p: Option<FilePath>) -> Option<String> {
    p.and_then(|p| p.into_path().ok()).map(|p| p.display().to_string())
}

/// Run a blocking dialog off the async runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(format!("the file dialog failed: {e}")).into())
}

/// Where to write a file, starting from `suggested` (a full path or a name).
#[tauri::command]
pub async fn pick_save_path<R: Runtime>(app: AppHandle<R>, suggested: Option<String>) -> CmdResult<Option<String>> {
    let d = dialog(&app)?;
    // A name or a full path; only its file name and an existing folder reach the dialog.
    let suggested = suggested
        .map(|s| crate::user_path(&s).unwrap_or_else(|_| std::path::PathBuf::from(s.trim())))
        .unwrap_or_default();
    blocking(move || {
        let mut b = d.file().set_title("Export log");
        if let Some(name) = suggested.file_name().and_then(|n| n.to_str()) {
            b = b.set_file_name(name);
        }
        if let Some(dir) = suggested.parent().filter(|p| p.is_dir()) {
            b = b.set_directory(dir);
        }
        path(b.blocking_save_file())
    })
    .await
}

/// A file to import.
#[tauri::command]
pub async fn pick_open_path<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<String>> {
    let d = dialog(&app)?;
    blocking(move || {
        path(
            d.file()
                .set_title("Import")
                .add_filter(
                    "wsbench, HAR, Insomnia, Bruno, OpenCollection",
                    &["ndjson", "json", "har", "yaml", "yml", "bru"],
                )
                .add_filter("All files", &["*"])
                .blocking_pick_file(),
        )
    })
    .await
}

/// A folder: a workspace, or a Bruno collection to import.
#[tauri::command]
pub async fn pick_folder<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<String>> {
    let d = dialog(&app)?;
    blocking(move || path(d.file().set_title("Choose a folder").blocking_pick_folder())).await
}
