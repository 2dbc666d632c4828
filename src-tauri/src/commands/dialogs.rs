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

/// What a file from [`send_file`] goes out as: a binary message, or a Socket.IO emit
/// with the file as its last argument (a binary attachment).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum FileAs {
    Binary,
    SocketIo {
        #[serde(default = "root_namespace")]
        namespace: String,
        event: String,
        #[serde(default)]
        args: Vec<serde_json::Value>,
        #[serde(default)]
        ack: bool,
    },
}

fn root_namespace() -> String {
    "/".into()
}

/// What was sent: the file's name (never its folder), its size and the frame's number.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSent {
    pub name: String,
    pub bytes: u64,
    pub seq: u64,
}

/// Send a file the user picks in a native dialog (the UI never names a path): as a
/// binary message or a Socket.IO attachment. `None` when the dialog is cancelled.
#[tauri::command]
pub async fn send_file<R: Runtime>(
    app: AppHandle<R>,
    state: tauri::State<'_, crate::AppState>,
    id: u64,
    send_as: FileAs,
) -> CmdResult<Option<FileSent>> {
    // Refuse before the dialog when the tab cannot send at all.
    state.manager.get(id)?;
    let d = dialog(&app)?;
    let picked = blocking(move || path(d.file().set_title("Send a file").blocking_pick_file())).await?;
    match picked {
        None => Ok(None),
        Some(p) => send_file_at(&state, id, std::path::PathBuf::from(p), send_as)
            .await
            .map(Some),
    }
}

/// [`send_file`] once the dialog chose `path`: its size is checked against the
/// connection's maximum message size (and, on a Socket.IO v4 server, the `maxPayload`
/// of its open packet) before it is read, and it is read at most that far.
pub async fn send_file_at(
    state: &crate::AppState,
    id: u64,
    path: std::path::PathBuf,
    send_as: FileAs,
) -> CmdResult<FileSent> {
    let session = state.manager.get(id)?;
    let mut limit = (
        session.config().limits.max_message_size as u64,
        "this connection's maximum message size",
    );
    if let (FileAs::SocketIo { .. }, Some(max)) = (&send_as, session.snapshot().socketio.and_then(|o| o.max_payload)) {
        if max < limit.0 {
            limit = (max, "the server's maxPayload (from its Engine.IO open packet)");
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let data = crate::blocking("reading the file", move || read_capped(&path, limit.0, limit.1)).await?;
    let bytes = data.len() as u64;
    let msg = match send_as {
        FileAs::Binary => wsbench_core::Outgoing::Binary(data),
        FileAs::SocketIo {
            namespace,
            event,
            args,
            ack,
        } => wsbench_core::Outgoing::SocketIo(wsbench_core::socketio::SioCommand::Emit {
            namespace,
            event,
            args,
            ack,
            attachments: vec![data],
        }),
    };
    let seq = state.manager.send(id, msg).await?;
    Ok(FileSent { name, bytes, seq })
}

/// `n` bytes in words: `3.0 MiB (3145728 bytes)`.
fn size_words(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {} ({n} bytes)", UNITS[unit])
}

/// A whole file, refused before reading when it is larger than `limit` (named by
/// `what`), and never read past `limit` (a file that grows meanwhile is refused too).
pub fn read_capped(path: &std::path::Path, limit: u64, what: &str) -> wsbench_core::Result<bytes::Bytes> {
    use std::io::Read as _;
    let file_err = |reason: String| Error::File {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e))?;
    if !meta.is_file() {
        return Err(file_err("it is not a file".into()));
    }
    let too_big = |size: u64| {
        file_err(format!(
            "the file is {}, over {what} of {}; choose a smaller file or raise the limit in the connection's settings",
            size_words(size),
            size_words(limit)
        ))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, &e))?;
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, &e))?;
    if buf.len() as u64 > limit {
        return Err(too_big(buf.len() as u64));
    }
    Ok(bytes::Bytes::from(buf))
}
