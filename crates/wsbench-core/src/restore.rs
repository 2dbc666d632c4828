//! What the desktop app brings back on restart: the open tabs with their configs,
//! saved messages, unsent composer text and the saved file they came from; the last
//! workspace folder and environment; app settings. One JSON file in the app's data
//! directory, written atomically. A corrupt file is kept aside (never lost) and the
//! app starts with defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::collections::{MessageFormat, SavedMessage};
use crate::config::ConnectConfig;
use crate::error::{Error, Result};
use crate::events::SessionId;
use crate::session::{SessionManager, SessionSnapshot};
use crate::workspace::Workspace;

pub const APP_STATE_VERSION: u32 = 1;
/// Session history kept on disk before the oldest sessions are removed.
pub const DEFAULT_HISTORY_MAX_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppStateFile {
    pub version: u32,
    /// The workspace folder last opened (None: the default one in the data directory).
    pub workspace: Option<PathBuf>,
    /// Name of the active environment in that workspace.
    pub environment: Option<String>,
    /// Bound on the session history folder, in bytes.
    pub history_max_bytes: u64,
    pub tabs: Vec<TabState>,
    /// Index into `tabs` of the tab in front.
    pub active: usize,
    /// The built-in echo server's port last run, reused when free so restored tabs
    /// still reach it.
    pub local_server_port: Option<u16>,
    /// The global proxy: used by connections whose own setting is "system", before
    /// the environment (see [`crate::config::ProxySetting`]).
    #[serde(skip_serializing_if = "crate::config::ProxySetting::is_system")]
    pub proxy: crate::config::ProxySetting,
}

impl Default for AppStateFile {
    fn default() -> Self {
        Self {
            version: APP_STATE_VERSION,
            workspace: None,
            environment: None,
            history_max_bytes: DEFAULT_HISTORY_MAX_BYTES,
            tabs: Vec::new(),
            active: 0,
            local_server_port: None,
            proxy: crate::config::ProxySetting::System,
        }
    }
}

/// One open tab as it was left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TabState {
    pub name: String,
    pub config: ConnectConfig,
    pub messages: Vec<SavedMessage>,
    /// The saved connection this tab edits, if any.
    pub saved: Option<SavedRef>,
    /// Edited since it was last saved.
    pub dirty: bool,
    /// Unsent composer text.
    pub draft: Draft,
    /// The connection's scenario as edited in the tab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<crate::collections::scenario::Scenario>,
}

/// What a front end keeps per tab beyond the engine's name and config: a
/// [`TabState`] without those two.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TabMeta {
    pub messages: Vec<SavedMessage>,
    pub saved: Option<SavedRef>,
    pub dirty: bool,
    pub draft: Draft,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<crate::collections::scenario::Scenario>,
}

impl TabState {
    pub fn new(name: String, config: ConnectConfig, meta: TabMeta) -> Self {
        Self {
            name,
            config,
            messages: meta.messages,
            saved: meta.saved,
            dirty: meta.dirty,
            draft: meta.draft,
            scenario: meta.scenario,
        }
    }

    /// Everything but the name and config.
    pub fn meta(&self) -> TabMeta {
        TabMeta {
            messages: self.messages.clone(),
            saved: self.saved.clone(),
            dirty: self.dirty,
            draft: self.draft.clone(),
            scenario: self.scenario.clone(),
        }
    }
}

/// Where the app keeps its files inside its data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Create the folder when missing.
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, &e))
    }

    /// The app's state file.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// The workspace used when none was opened (or the opened one is gone).
    pub fn default_workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }

    /// Where recorded sessions are kept.
    pub fn history(&self) -> PathBuf {
        self.root.join("history")
    }
}

/// The tabs as they come back after a restart: each tab's extras by its new id,
/// and the tab in front.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestoredTabs {
    pub meta: BTreeMap<SessionId, TabMeta>,
    pub active: Option<SessionId>,
}

/// A URL that pointed at the built-in echo server's old port, moved to its new
/// URL (`server_url`, e.g. `ws://127.0.0.1:5123/`); `None` when it did not point there.
pub fn rewrite_echo_url(url: &str, old_port: Option<u16>, server_url: &str) -> Option<String> {
    let old = format!("ws://127.0.0.1:{}/", old_port?);
    if old == server_url {
        return None;
    }
    url.strip_prefix(old.as_str()).map(|rest| format!("{server_url}{rest}"))
}

impl AppStateFile {
    /// Reopen last run's tabs in `manager` (URLs on the echo server's old port moved
    /// to `server_url`), or, on a first launch, one tab on the echo server. Then
    /// remember the echo server's port for next time.
    pub fn restore_tabs(&mut self, manager: &SessionManager, server_url: &str, server_port: u16) -> RestoredTabs {
        let mut out = RestoredTabs::default();
        for (i, tab) in self.tabs.iter().enumerate() {
            let mut config = tab.config.clone();
            if let Some(url) = rewrite_echo_url(&config.url, self.local_server_port, server_url) {
                config.url = url;
            }
            let id = manager.create(tab.name.clone(), config);
            out.meta.insert(id, tab.meta());
            if i == self.active {
                out.active = Some(id);
            }
        }
        if self.tabs.is_empty() {
            out.active = Some(manager.create("Local echo", ConnectConfig::new(server_url)));
        }
        self.local_server_port = Some(server_port);
        out
    }

    /// Take the open tabs into the file: every tab that is not a recording, in
    /// order, with its extras from `meta` (tabs no longer open are dropped from it).
    pub fn capture_tabs(
        &mut self,
        snapshot: &[SessionSnapshot],
        meta: &mut BTreeMap<SessionId, TabMeta>,
        active: Option<SessionId>,
    ) {
        meta.retain(|id, _| snapshot.iter().any(|s| s.id == *id));
        let mut tabs = Vec::new();
        let mut front = 0;
        for s in snapshot.iter().filter(|s| !s.read_only) {
            if Some(s.id) == active {
                front = tabs.len();
            }
            let m = meta.get(&s.id).cloned().unwrap_or_default();
            tabs.push(TabState::new(s.name.clone(), s.config.clone(), m));
        }
        self.tabs = tabs;
        self.active = front;
    }

    /// Open the workspace last used, else the default one: a remembered folder that
    /// is gone (an unmounted drive) is not re-created. The problem, if any, is for
    /// the user.
    pub fn open_workspace(&self, data: &DataDir) -> Result<(Workspace, Option<Error>)> {
        let default_ws = data.default_workspace();
        let mut problem = None;
        let root = match self.workspace.clone() {
            Some(p) if p.is_dir() => p,
            Some(p) => {
                problem = Some(Error::File {
                    path: p.display().to_string(),
                    reason: "the workspace folder is gone; the default workspace is open".into(),
                });
                default_ws.clone()
            }
            None => default_ws.clone(),
        };
        match Workspace::open(&root) {
            Ok((ws, _report)) => Ok((ws, problem)),
            // The last folder is unreadable: fall back to the default one.
            Err(e) => Ok((Workspace::open(&default_ws)?.0, Some(e))),
        }
    }

    /// The active environment follows a rename of it.
    pub fn follow_environment_rename(&mut self, old: &str, new: &str) {
        if self.environment.as_deref() == Some(old) {
            self.environment = Some(new.to_owned());
        }
    }
}

/// Where a tab was saved: the connection's id in the workspace and the revision
/// (hash of the file) the tab's edits are based on, for conflict detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedRef {
    pub id: String,
    #[serde(default)]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Draft {
    pub format: MessageFormat,
    pub text: String,
}

/// The outcome of loading: the state to use, and a problem to show the user if the
/// file could not be read (the unreadable file is kept next to it).
pub struct Loaded {
    pub state: AppStateFile,
    pub problem: Option<Error>,
    /// False when the file could not be read nor kept aside: writing would lose it.
    pub safe_to_overwrite: bool,
}

impl AppStateFile {
    /// Load `path`. Missing: defaults. Unreadable, corrupt or written by a newer wsbench:
    /// defaults, the file is
    /// copied to `<name>.corrupt-<unix time>.json` and the problem reported.
    pub fn load(path: &Path) -> Loaded {
        let bytes = match crate::fs::read_capped(path, crate::fs::MAX_STORE_FILE_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    state: Self::default(),
                    problem: None,
                    safe_to_overwrite: true,
                }
            }
            Err(e) => {
                return Loaded {
                    state: Self::default(),
                    problem: Some(Error::io(path, &e)),
                    safe_to_overwrite: false,
                }
            }
        };
        let (line, column, why) = match serde_json::from_slice::<AppStateFile>(&bytes) {
            Ok(mut state) if state.version <= APP_STATE_VERSION => {
                state.active = state.active.min(state.tabs.len().saturating_sub(1));
                return Loaded {
                    state,
                    problem: None,
                    safe_to_overwrite: true,
                };
            }
            // Loading it would drop what the newer version added on the next save.
            Ok(state) => (
                0,
                0,
                format!(
                    "it was written by a newer wsbench (format version {}; this one reads up to {APP_STATE_VERSION})",
                    state.version
                ),
            ),
            Err(e) => (e.line(), e.column(), e.to_string()),
        };
        Self::kept_aside(path, line, column, why)
    }

    /// Copy an unusable state file to `<name>.corrupt-<unix time>.json` and report it.
    fn kept_aside(path: &Path, line: usize, column: usize, why: String) -> Loaded {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("state");
        let aside = path.with_file_name(format!("{stem}.corrupt-{secs}.json"));
        let kept = std::fs::copy(path, &aside).is_ok();
        let reason = if kept {
            format!("{why}; the file was kept as {}", aside.display())
        } else {
            why
        };
        Loaded {
            state: Self::default(),
            problem: Some(Error::Parse {
                path: path.display().to_string(),
                line,
                column,
                reason,
            }),
            safe_to_overwrite: kept,
        }
    }

    /// Write atomically (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Io(e.to_string()))?;
        bytes.push(b'\n');
        crate::fs::write_bytes_atomic(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_a_corrupt_file_aside() {
        let dir = std::env::temp_dir().join(format!("wsbench-restore-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert_eq!(AppStateFile::load(&path).state, AppStateFile::default());
        let state = AppStateFile {
            environment: Some("local".into()),
            tabs: vec![TabState {
                name: "Chat".into(),
                config: ConnectConfig::new("ws://127.0.0.1:1/{{room}}"),
                messages: vec![SavedMessage::text("hi", "hello")],
                saved: Some(SavedRef {
                    id: "chat/chat.json".into(),
                    revision: Some("abc".into()),
                }),
                dirty: true,
                draft: Draft {
                    format: MessageFormat::Json,
                    text: "{\"unsent\":true}".into(),
                },
                scenario: None,
            }],
            active: 7,
            ..AppStateFile::default()
        };
        state.save(&path).unwrap();
        let back = AppStateFile::load(&path).state;
        assert_eq!(back.tabs, state.tabs);
        assert_eq!(back.active, 0, "an out-of-range active tab is clamped");

        std::fs::write(&path, "{\"version\":1,\n\"tabs\": [oops").unwrap();
        let loaded = AppStateFile::load(&path);
        assert_eq!(loaded.state, AppStateFile::default());
        let msg = loaded.problem.unwrap().to_string();
        assert!(msg.contains("line 2") && msg.contains("kept as"), "{msg}");
        let kept = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("state.corrupt-"));
        assert!(kept, "the unreadable file is kept");

        std::fs::write(&path, "{\"version\": 2, \"tabs\": []}").unwrap();
        let loaded = AppStateFile::load(&path);
        let msg = loaded.problem.unwrap().to_string();
        assert!(
            msg.contains("newer wsbench (format version 2") && msg.contains("kept as"),
            "{msg}"
        );
        assert!(loaded.safe_to_overwrite);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
