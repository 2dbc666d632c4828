//! The workspace file store: collections, saved connections and environments as plain
//! JSON files in a folder the user owns (the app's default workspace, or any folder
//! opened with File > Open Folder, e.g. one inside a repository).
//!
//! ```text
//! <workspace>/
//!   wsbench-workspace.json            {"version": 1, "name": "..."}; created when missing
//!   .gitignore                        holds the line `*.secrets.json` (created, or appended to)
//!   environments/<slug>.json          an Environment; a secret variable's value is "" here
//!   environments/<slug>.secrets.json  {"version": 1, "values": {"token": "..."}} (git-ignored)
//!   <slug>.json                       a connection at the top level (collection "")
//!   <collection>/<slug>.json          a connection in a collection; collections may nest
//!   <collection>/<slug>.json.v1.bak   the original bytes of a migrated file, kept before the
//!                                     first write in the new format
//! ```
//!
//! - **IDs** of connections are workspace-relative paths with `/` (`chat/echo.json`);
//!   collections are relative folder paths (`""` is the top level).
//! - **Skipped when scanning:** `environments/` (read separately), dot-files and
//!   dot-folders, temp files of an interrupted write ([`crate::fs::is_temp_file`]),
//!   `*.secrets.json`, `*.bak`, the marker file, files that do not end in `.json`, and
//!   symbolic links to folders.
//! - **Writes** go through [`crate::fs::write_atomic`] (temp file, fsync, rename), so a
//!   crash or a full disk never leaves a half-written file. Every file is pretty-printed
//!   JSON (2-space indent, struct field order, trailing newline): the same value always
//!   gives the same bytes.
//! - **Problems:** a file that cannot be read or parsed (bad JSON, wrong shape, a format
//!   version newer than this wsbench) is reported as a [`FileProblem`] with its path and
//!   line, is never rewritten, and everything else still loads.
//! - **Conflicts:** every loaded file has a revision (a hash of its bytes). Saving with
//!   a base revision that no longer matches the disk (edited or deleted outside the app)
//!   is [`Error::Conflict`] and writes nothing, unless forced.
//! - **Failed writes** (read-only folder, full disk) return the worded [`Error::io`]
//!   error and leave the in-memory state as it was.
//! - **Secrets** of environments never reach connection files: before a connection is
//!   written, the value of every enabled secret variable is replaced by `{{name}}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::environments::EnvEntry;
use super::migrate::{self, parse_error};
use super::{SavedConnection, CONNECTION_FILE_VERSION};
use crate::error::{Error, Result};
use crate::fs::{is_temp_file, write_bytes_atomic};

/// The marker file that makes a folder a wsbench workspace.
pub const WORKSPACE_FILE: &str = "wsbench-workspace.json";
/// Format version of [`WORKSPACE_FILE`].
pub const WORKSPACE_FILE_VERSION: u32 = 1;
/// The reserved top-level folder holding environments.
pub const ENVIRONMENTS_DIR: &str = "environments";
/// Suffix of an environment's secrets file.
pub const SECRETS_SUFFIX: &str = ".secrets.json";
/// The `.gitignore` line that keeps secrets files out of git.
pub const GITIGNORE_LINE: &str = "*.secrets.json";

/// Undo tokens kept; older deletions can no longer be undone.
const TRASH_LIMIT: usize = 100;
/// Collections nested deeper than this are not scanned (guards against odd mounts).
const MAX_DEPTH: usize = 32;

/// A file the store could not load, with where and why. `line`/`column` are 1-based,
/// 0 when the problem has no position (a missing or unreadable file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileProblem {
    /// Workspace-relative path with `/`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl FileProblem {
    pub(super) fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    pub(super) fn from_error(path: &str, e: &Error) -> Self {
        match e {
            Error::Parse {
                line, column, reason, ..
            } => Self {
                path: path.to_owned(),
                line: *line,
                column: *column,
                message: reason.clone(),
            },
            Error::File { reason, .. } => Self::new(path, reason.clone()),
            other => Self::new(path, other.to_string()),
        }
    }

    /// The problem as the error a caller gets when it asks for that file.
    pub fn to_error(&self) -> Error {
        Error::Parse {
            path: self.path.clone(),
            line: self.line,
            column: self.column,
            reason: self.message.clone(),
        }
    }
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_error().fmt(f)
    }
}

/// What opening a workspace found besides the loaded files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub problems: Vec<FileProblem>,
    /// Connections in an older format, migrated in memory (upgraded, with a backup, on save).
    pub migrated: Vec<String>,
}

/// The sidebar: nested collections with their connections, environment names and the
/// files that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    /// The workspace's name (from the marker file).
    pub name: String,
    /// The top level: `path` is `""`.
    pub root: CollectionNode,
    /// Environment names, sorted.
    pub environments: Vec<String>,
    pub problems: Vec<FileProblem>,
}

/// A collection (folder); sub-collections and connections sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionNode {
    /// Workspace-relative folder path with `/`; `""` for the top level.
    pub path: String,
    /// The folder name; `""` for the top level.
    pub name: String,
    pub collections: Vec<CollectionNode>,
    pub connections: Vec<ConnectionSummary>,
}

/// One row of the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    pub id: String,
    pub name: String,
    pub collection: String,
    /// How many saved messages it has.
    pub messages: usize,
    /// Set when the file is in an older format (upgraded on the next save).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<u32>,
}

impl Tree {
    /// The tree with only connections whose name contains `query` (case-insensitive).
    /// A collection whose own name matches keeps all its contents; other collections
    /// are kept only when something inside them matches. An empty query keeps everything.
    pub fn filter(&self, query: &str) -> Tree {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return self.clone();
        }
        fn keep(node: &CollectionNode, q: &str) -> Option<CollectionNode> {
            if !node.path.is_empty() && node.name.to_lowercase().contains(q) {
                return Some(node.clone());
            }
            let collections: Vec<_> = node.collections.iter().filter_map(|c| keep(c, q)).collect();
            let connections: Vec<_> = node
                .connections
                .iter()
                .filter(|c| c.name.to_lowercase().contains(q))
                .cloned()
                .collect();
            (node.path.is_empty() || !collections.is_empty() || !connections.is_empty()).then(|| CollectionNode {
                path: node.path.clone(),
                name: node.name.clone(),
                collections,
                connections,
            })
        }
        Tree {
            root: keep(&self.root, &q).unwrap_or_else(|| self.root.clone()),
            ..self.clone()
        }
    }
}

/// A connection as loaded, with the revision the app keeps as its base for saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Loaded {
    pub id: String,
    pub connection: SavedConnection,
    /// Hash of the file's bytes on disk when the store last read or wrote it.
    pub revision: String,
    /// `Some(1)` when the file is in the version-1 format and was migrated in memory.
    pub migrated_from: Option<u32>,
}

/// The result of a write of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// The connection's (possibly new) ID.
    pub id: String,
    /// The new base revision.
    pub revision: String,
    /// Secret variables whose values were replaced by `{{name}}` before writing.
    pub replaced_secrets: Vec<String>,
    /// A backup of the older-format file made by this write (`chat/echo.json.v1.bak`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

/// A deletion that [`Workspace::undo_delete`] can reverse while the store is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub token: String,
}

/// What kind of thing a path, change or undo is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    Connection,
    Collection,
    Environment,
}

/// What an undo brought back, and where: a connection ID, a collection path or an
/// environment name (different from the original when that was taken in the meantime).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub item: ItemKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Added,
    Modified,
    Removed,
}

/// A file or folder that changed on disk since the store last read or wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalChange {
    /// Workspace-relative path: a connection ID, a collection path or an environment file.
    pub path: String,
    pub kind: ChangeKind,
    pub item: ItemKind,
}

/// The marker file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct WorkspaceFile {
    version: u32,
    name: String,
}

impl Default for WorkspaceFile {
    fn default() -> Self {
        Self {
            version: WORKSPACE_FILE_VERSION,
            name: String::new(),
        }
    }
}

/// What the store last saw of a file: the cheap check (length, mtime) and the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    /// Empty when the file could not be read (retried on every rescan).
    revision: String,
}

#[derive(Debug, Clone)]
struct ConnEntry {
    connection: SavedConnection,
    revision: String,
    migrated_from: Option<u32>,
}

/// A deletion kept for undo: the exact bytes of every file, relative to `path` for a
/// collection and to the workspace otherwise.
#[derive(Debug, Clone)]
pub(super) struct Trashed {
    pub(super) item: ItemKind,
    pub(super) path: String,
    pub(super) files: Vec<(String, Vec<u8>)>,
    pub(super) dirs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Connection,
    Environment,
    Secrets,
}

impl Role {
    fn item(self) -> ItemKind {
        match self {
            Role::Connection => ItemKind::Connection,
            Role::Environment | Role::Secrets => ItemKind::Environment,
        }
    }
}

#[derive(Default)]
struct Walk {
    files: BTreeMap<String, (u64, Option<SystemTime>, Role)>,
    dirs: BTreeSet<String>,
    problems: BTreeMap<String, FileProblem>,
}

/// An open workspace: what is on disk, as last read or written by this store.
///
/// Not thread-safe by itself; the app keeps it behind a mutex. Every method that
/// writes leaves the in-memory state untouched when the write fails.
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    name: String,
    connections: BTreeMap<String, ConnEntry>,
    collections: BTreeSet<String>,
    /// Keyed by file stem (slug).
    pub(super) environments: BTreeMap<String, EnvEntry>,
    /// Every tracked file, by relative path.
    pub(super) files: BTreeMap<String, Stamp>,
    pub(super) problems: BTreeMap<String, FileProblem>,
    /// Problems of the last folder walk (unreadable folders) and of the marker file.
    walk_problems: BTreeMap<String, FileProblem>,
    marker_problem: Option<FileProblem>,
    trash: Vec<(String, Trashed)>,
}

impl Workspace {
    /// Open (and, when missing, create) the workspace at `root`: the folder, the marker
    /// file, `.gitignore` and `environments/`. A file in the way, or a folder where they
    /// cannot be created, is an error; files that fail to load are only reported.
    pub fn open(root: impl AsRef<Path>) -> Result<(Workspace, LoadReport)> {
        let root = root.as_ref().to_path_buf();
        match fs::metadata(&root) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::File {
                    path: root.display().to_string(),
                    reason: "it is a file, not a folder".into(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(&root).map_err(|e| Error::io(&root, &e))?
            }
            Err(e) => return Err(Error::io(&root, &e)),
        }
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workspace".into());
        let mut ws = Workspace {
            root,
            name,
            connections: BTreeMap::new(),
            collections: BTreeSet::new(),
            environments: BTreeMap::new(),
            files: BTreeMap::new(),
            problems: BTreeMap::new(),
            walk_problems: BTreeMap::new(),
            marker_problem: None,
            trash: Vec::new(),
        };
        ws.ensure_marker()?;
        ws.ensure_gitignore()?;
        let envs = ws.abs(ENVIRONMENTS_DIR);
        match fs::symlink_metadata(&envs) {
            Ok(m) if m.is_dir() || m.file_type().is_symlink() => {}
            Ok(_) => {
                return Err(Error::File {
                    path: envs.display().to_string(),
                    reason: "it is a file, but wsbench keeps environments in a folder of that name".into(),
                })
            }
            Err(_) => fs::create_dir(&envs).map_err(|e| Error::io(&envs, &e))?,
        }
        ws.rescan();
        let report = LoadReport {
            problems: ws.problems(),
            migrated: ws
                .connections
                .iter()
                .filter(|(_, e)| e.migrated_from.is_some())
                .map(|(id, _)| id.clone())
                .collect(),
        };
        Ok((ws, report))
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workspace's name (from the marker file, else the folder name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every file that currently fails to load, sorted by path.
    pub fn problems(&self) -> Vec<FileProblem> {
        let mut v: Vec<FileProblem> = self
            .problems
            .values()
            .chain(self.walk_problems.values())
            .chain(self.marker_problem.iter())
            .cloned()
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// The sidebar tree as of the last load, write or [`rescan`](Self::rescan).
    pub fn tree(&self) -> Tree {
        let mut by_parent: BTreeMap<&str, Vec<ConnectionSummary>> = BTreeMap::new();
        for (id, e) in &self.connections {
            let collection = parent_of(id);
            by_parent.entry(collection).or_default().push(ConnectionSummary {
                id: id.clone(),
                name: e.connection.name.clone(),
                collection: collection.to_owned(),
                messages: e.connection.messages.len(),
                migrated_from: e.migrated_from,
            });
        }
        let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in &self.collections {
            dirs.entry(parent_of(c)).or_default().push(c);
        }
        fn build(
            path: &str,
            dirs: &BTreeMap<&str, Vec<&str>>,
            conns: &mut BTreeMap<&str, Vec<ConnectionSummary>>,
        ) -> CollectionNode {
            let mut collections: Vec<CollectionNode> = dirs
                .get(path)
                .into_iter()
                .flatten()
                .map(|c| build(c, dirs, conns))
                .collect();
            collections.sort_by_key(|a| sort_key(&a.name, &a.path));
            let mut connections = conns.remove(path).unwrap_or_default();
            connections.sort_by_key(|a| sort_key(&a.name, &a.id));
            CollectionNode {
                path: path.to_owned(),
                name: file_name_of(path).to_owned(),
                collections,
                connections,
            }
        }
        let root = build("", &dirs, &mut by_parent);
        Tree {
            name: self.name.clone(),
            root,
            environments: self.environments().into_iter().map(|e| e.name).collect(),
            problems: self.problems(),
        }
    }

    /// The connection as last loaded or written. A file that failed to parse is its
    /// [`Error::Parse`]; call [`rescan`](Self::rescan) to pick up outside edits first.
    pub fn connection(&self, id: &str) -> Result<Loaded> {
        match self.connections.get(id) {
            Some(e) => Ok(Loaded {
                id: id.to_owned(),
                connection: e.connection.clone(),
                revision: e.revision.clone(),
                migrated_from: e.migrated_from,
            }),
            None => Err(self.missing(id)),
        }
    }

    /// Save `connection` as a new file in `collection` (created if missing), named
    /// after the connection (`echo.json`, or `echo-2.json` when that is taken).
    pub fn create_connection(&mut self, collection: &str, connection: &SavedConnection) -> Result<Saved> {
        let collection = check_collection_path(collection)?;
        let (conn, replaced) = self.prepare(connection)?;
        self.ensure_dir(&collection)?;
        let id = self.unique_file(&collection, &slug(&conn.name, "connection"), None);
        let revision = self.write_connection(&id, conn)?;
        Ok(Saved {
            id,
            revision,
            replaced_secrets: replaced,
            backup: None,
        })
    }

    /// Write `connection` to the file `id`.
    ///
    /// `base_revision` is the revision the edit started from: the save is refused with
    /// [`Error::Conflict`] (and nothing is written) when the file on disk no longer has
    /// it, because it was edited or deleted outside the app. `None` means "a new file":
    /// refused when the file exists. `force` skips the check (overwrite, or recreate a
    /// deleted file). When the file on disk is in an older format, its bytes are first
    /// copied to `<file>.v<old>.bak` (an existing backup is never overwritten).
    pub fn save_connection(
        &mut self,
        id: &str,
        connection: &SavedConnection,
        base_revision: Option<&str>,
        force: bool,
    ) -> Result<Saved> {
        check_connection_id(id)?;
        let (conn, replaced) = self.prepare(connection)?;
        let disk = self.read_optional(id)?;
        if !force {
            let unchanged = match (base_revision, &disk) {
                (Some(base), Some(bytes)) => revision(bytes) == base,
                (None, None) => true,
                _ => false,
            };
            if !unchanged {
                return Err(Error::Conflict { path: id.to_owned() });
            }
        }
        if disk.is_none() {
            self.ensure_dir(parent_of(id))?;
        }
        let backup = match &disk {
            Some(bytes) => self.backup_if_older(id, bytes)?,
            None => None,
        };
        let revision = self.write_connection(id, conn)?;
        Ok(Saved {
            id: id.to_owned(),
            revision,
            replaced_secrets: replaced,
            backup,
        })
    }

    /// Give the connection a new name and move its file to the matching slug in the
    /// same collection. Refused with [`Error::Conflict`] when the file changed on disk
    /// since the store read it.
    pub fn rename_connection(&mut self, id: &str, new_name: &str) -> Result<Saved> {
        let new_name = new_name.trim();
        if new_name.is_empty() {
            return Err(Error::InvalidConfig("a connection needs a name".into()));
        }
        let entry = self.connections.get(id).cloned().ok_or_else(|| self.missing(id))?;
        let disk = self.read_optional(id)?;
        let disk = match disk {
            Some(bytes) if revision(&bytes) == entry.revision => bytes,
            _ => return Err(Error::Conflict { path: id.to_owned() }),
        };
        let mut conn = entry.connection;
        conn.name = new_name.to_owned();
        let (conn, replaced) = self.prepare(&conn)?;
        let stem = slug(&conn.name, "connection");
        let new_id = if file_name_of(id) == format!("{stem}.json") {
            id.to_owned()
        } else {
            self.unique_file(parent_of(id), &stem, Some(id))
        };
        let backup = self.backup_if_older(id, &disk)?;
        let bytes = file_bytes(&conn)?;
        self.write_file(&new_id, &bytes)?;
        if new_id != id {
            if let Err(e) = fs::remove_file(self.abs(id)) {
                let _ = fs::remove_file(self.abs(&new_id));
                self.files.remove(&new_id);
                return Err(Error::io(self.abs(id), &e));
            }
            self.forget_file(id);
        }
        let revision = revision(&bytes);
        self.connections.insert(
            new_id.clone(),
            ConnEntry {
                connection: conn,
                revision: revision.clone(),
                migrated_from: None,
            },
        );
        Ok(Saved {
            id: new_id,
            revision,
            replaced_secrets: replaced,
            backup,
        })
    }

    /// Save a copy named "<name> copy" next to the original.
    pub fn duplicate_connection(&mut self, id: &str) -> Result<Saved> {
        let mut conn = self
            .connections
            .get(id)
            .ok_or_else(|| self.missing(id))?
            .connection
            .clone();
        conn.name = format!("{} copy", conn.name);
        self.create_connection(parent_of(id), &conn)
    }

    /// Move the file (its bytes unchanged) into `to_collection`, created if missing;
    /// it keeps its file name unless that is taken there.
    pub fn move_connection(&mut self, id: &str, to_collection: &str) -> Result<Saved> {
        let to = check_collection_path(to_collection)?;
        let entry = self.connections.get(id).ok_or_else(|| self.missing(id))?;
        if parent_of(id) == to {
            return Ok(Saved {
                id: id.to_owned(),
                revision: entry.revision.clone(),
                replaced_secrets: Vec::new(),
                backup: None,
            });
        }
        self.ensure_dir(&to)?;
        let stem = file_name_of(id).trim_end_matches(".json").to_owned();
        let new_id = self.unique_file(&to, &stem, None);
        fs::rename(self.abs(id), self.abs(&new_id)).map_err(|e| Error::io(self.abs(id), &e))?;
        self.forget_file(id);
        self.reload_connection(&new_id);
        let revision = self
            .connections
            .get(&new_id)
            .map(|e| e.revision.clone())
            .unwrap_or_default();
        Ok(Saved {
            id: new_id,
            revision,
            replaced_secrets: Vec::new(),
            backup: None,
        })
    }

    /// Delete the connection's file (also one that failed to load). Undo with
    /// [`undo_delete`](Self::undo_delete), which restores the exact bytes.
    pub fn delete_connection(&mut self, id: &str) -> Result<Deleted> {
        check_connection_id(id)?;
        if !self.connections.contains_key(id) && !self.problems.contains_key(id) {
            return Err(self.missing(id));
        }
        let path = self.abs(id);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, &e))?;
        fs::remove_file(&path).map_err(|e| Error::io(&path, &e))?;
        self.forget_file(id);
        Ok(self.put_in_trash(Trashed {
            item: ItemKind::Connection,
            path: id.to_owned(),
            files: vec![(id.to_owned(), bytes)],
            dirs: Vec::new(),
        }))
    }

    /// Reverse a deletion: the same bytes at the same place, or at a unique name when
    /// that was taken in the meantime. A token can be used once.
    pub fn undo_delete(&mut self, token: &str) -> Result<Restored> {
        let Some(at) = self.trash.iter().position(|(t, _)| t == token) else {
            return Err(Error::InvalidConfig(
                "nothing to undo: the deletion was already undone or is too old".into(),
            ));
        };
        let (token, item) = self.trash.remove(at);
        let result = match item.item {
            ItemKind::Connection => self.restore_connection(&item),
            ItemKind::Collection => self.restore_collection(&item),
            ItemKind::Environment => self.restore_environment(&item),
        };
        if result.is_err() {
            self.trash.insert(at, (token, item));
        }
        result
    }

    /// Create an empty collection (folder) at `path` (parents created as needed);
    /// returns the normalized path.
    pub fn create_collection(&mut self, path: &str) -> Result<String> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidConfig("a collection needs a name".into()));
        }
        let abs = self.abs(&path);
        if fs::symlink_metadata(&abs).is_ok() {
            return Err(Error::File {
                path: abs.display().to_string(),
                reason: "a collection or file with that name already exists".into(),
            });
        }
        self.ensure_dir(&path)?;
        Ok(path)
    }

    /// Rename the collection's folder (in place); returns the new path. Everything
    /// inside keeps its bytes; IDs under it change prefix.
    pub fn rename_collection(&mut self, path: &str, new_name: &str) -> Result<String> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidConfig(
                "the top level of the workspace cannot be renamed".into(),
            ));
        }
        if !self.collections.contains(&path) {
            return Err(self.missing(&path));
        }
        let new_name = new_name.trim();
        if new_name.contains('/') {
            return Err(Error::InvalidConfig(format!(
                "{new_name:?} is not a valid collection name: it cannot contain `/`"
            )));
        }
        let new_path = join(parent_of(&path), new_name);
        check_collection_path(&new_path)?;
        if new_path == path {
            return Ok(path);
        }
        // Compare names exactly: on a case-insensitive disk "Chat" -> "chat" is a rename of
        // the same folder; on a case-sensitive one an existing "chat" is another folder.
        let parent_abs = self.abs(parent_of(&path));
        let taken = fs::read_dir(&parent_abs)
            .map_err(|e| Error::io(&parent_abs, &e))?
            .flatten()
            .any(|e| e.file_name().to_str() == Some(new_name));
        if taken {
            return Err(Error::File {
                path: self.abs(&new_path).display().to_string(),
                reason: "a collection or file with that name already exists".into(),
            });
        }
        fs::rename(self.abs(&path), self.abs(&new_path)).map_err(|e| Error::io(self.abs(&path), &e))?;
        let moved = |key: &str| -> Option<String> {
            if key == path {
                Some(new_path.clone())
            } else {
                key.strip_prefix(&format!("{path}/"))
                    .map(|rest| format!("{new_path}/{rest}"))
            }
        };
        rekey(&mut self.connections, &moved);
        rekey(&mut self.files, &moved);
        rekey(&mut self.problems, &moved);
        for p in self.problems.values_mut() {
            if let Some(n) = moved(&p.path) {
                p.path = n;
            }
        }
        self.collections = self
            .collections
            .iter()
            .map(|c| moved(c).unwrap_or_else(|| c.clone()))
            .collect();
        Ok(new_path)
    }

    /// Delete the collection's folder with everything in it. Undo with
    /// [`undo_delete`](Self::undo_delete), which restores every file's exact bytes.
    pub fn delete_collection(&mut self, path: &str) -> Result<Deleted> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidConfig(
                "the top level of the workspace cannot be deleted".into(),
            ));
        }
        if !self.collections.contains(&path) {
            return Err(self.missing(&path));
        }
        let abs = self.abs(&path);
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        collect_tree(&abs, "", &mut files, &mut dirs)?;
        // Renaming away first makes the deletion all-or-nothing: a read-only parent
        // fails here with nothing removed.
        let hidden = abs.with_file_name(format!(
            ".{}.wsbench-trash-{:08x}",
            file_name_of(&path),
            fastrand::u32(..)
        ));
        fs::rename(&abs, &hidden).map_err(|e| Error::io(&abs, &e))?;
        if let Err(e) = fs::remove_dir_all(&hidden) {
            tracing::warn!("could not remove {}: {e}", hidden.display());
        }
        let inside = |key: &str| key == path || key.starts_with(&format!("{path}/"));
        self.connections.retain(|k, _| !inside(k));
        self.files.retain(|k, _| !inside(k));
        self.problems.retain(|k, _| !inside(k));
        self.collections.retain(|k| !inside(k));
        self.walk_problems.retain(|k, _| !inside(k));
        Ok(self.put_in_trash(Trashed {
            item: ItemKind::Collection,
            path,
            files,
            dirs,
        }))
    }

    /// Compare the disk with what the store last read or wrote (length and mtime first,
    /// then the hash), reload what changed and say what it was. The app calls this on
    /// window focus and on a timer; a tab with unsaved edits to a changed file keeps
    /// them, and its save then reports a conflict.
    pub fn rescan(&mut self) -> Vec<ExternalChange> {
        let walk = self.walk();
        let mut changes = Vec::new();
        let mut envs = BTreeSet::new();
        for (rel, &(len, modified, role)) in &walk.files {
            let known = self.files.get(rel);
            if let Some(st) = known {
                if st.len == len && st.modified == modified && !st.revision.is_empty() {
                    continue;
                }
            }
            let read = fs::read(self.abs(rel));
            let rev = read.as_ref().map(|b| revision(b)).unwrap_or_default();
            if let Some(st) = known {
                if !rev.is_empty() && st.revision == rev {
                    self.files.insert(
                        rel.clone(),
                        Stamp {
                            len,
                            modified,
                            revision: rev,
                        },
                    );
                    continue;
                }
                if rev.is_empty() && st.revision.is_empty() {
                    continue; // still unreadable; already reported
                }
            }
            changes.push(ExternalChange {
                path: rel.clone(),
                kind: if known.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                },
                item: role.item(),
            });
            match role {
                Role::Connection => match read {
                    Ok(bytes) => {
                        self.files.insert(
                            rel.clone(),
                            Stamp {
                                len,
                                modified,
                                revision: rev,
                            },
                        );
                        self.load_connection(rel, &bytes);
                    }
                    Err(e) => {
                        self.connections.remove(rel);
                        self.record_unreadable(rel, &e);
                    }
                },
                Role::Environment | Role::Secrets => {
                    envs.insert(env_slug_of(rel).to_owned());
                }
            }
        }
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| !walk.files.contains_key(*k))
            .cloned()
            .collect();
        for rel in gone {
            let role = role_of(&rel);
            changes.push(ExternalChange {
                path: rel.clone(),
                kind: ChangeKind::Removed,
                item: role.item(),
            });
            match role {
                Role::Connection => self.forget_file(&rel),
                Role::Environment | Role::Secrets => {
                    self.files.remove(&rel);
                    envs.insert(env_slug_of(&rel).to_owned());
                }
            }
        }
        for slug in envs {
            self.reload_environment(&slug);
        }
        for added in walk.dirs.difference(&self.collections) {
            changes.push(ExternalChange {
                path: added.clone(),
                kind: ChangeKind::Added,
                item: ItemKind::Collection,
            });
        }
        for removed in self.collections.difference(&walk.dirs) {
            changes.push(ExternalChange {
                path: removed.clone(),
                kind: ChangeKind::Removed,
                item: ItemKind::Collection,
            });
        }
        self.collections = walk.dirs;
        self.walk_problems = walk.problems;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }

    // --- internals ---------------------------------------------------------------

    /// The absolute path of a workspace-relative `/` path.
    pub(super) fn abs(&self, rel: &str) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(rel.split('/').filter(|c| !c.is_empty()));
        p
    }

    /// The file's bytes, `None` when it does not exist.
    pub(super) fn read_optional(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let path = self.abs(rel);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, &e)),
        }
    }

    /// Write atomically and remember the file's stamp. Nothing changes on failure.
    pub(super) fn write_file(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.abs(rel);
        write_bytes_atomic(&path, bytes)?;
        self.record(rel, bytes);
        Ok(())
    }

    /// Remember what the store knows `rel` to contain.
    pub(super) fn record(&mut self, rel: &str, bytes: &[u8]) {
        let meta = fs::metadata(self.abs(rel)).ok();
        self.files.insert(
            rel.to_owned(),
            Stamp {
                len: meta.as_ref().map_or(bytes.len() as u64, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
                revision: revision(bytes),
            },
        );
    }

    /// Remember that `rel` exists but cannot be read, and why; every rescan retries it.
    pub(super) fn record_unreadable(&mut self, rel: &str, e: &std::io::Error) {
        let meta = fs::metadata(self.abs(rel)).ok();
        self.files.insert(
            rel.to_owned(),
            Stamp {
                len: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
                revision: String::new(),
            },
        );
        let problem = FileProblem::from_error(rel, &Error::io(self.abs(rel), e));
        self.problems.insert(rel.to_owned(), problem);
    }

    /// Take a path off every map (after it was deleted or moved away).
    fn forget_file(&mut self, rel: &str) {
        self.connections.remove(rel);
        self.files.remove(rel);
        self.problems.remove(rel);
    }

    pub(super) fn put_in_trash(&mut self, item: Trashed) -> Deleted {
        let token = format!("{:016x}", fastrand::u64(..));
        self.trash.push((token.clone(), item));
        if self.trash.len() > TRASH_LIMIT {
            self.trash.remove(0);
        }
        Deleted { token }
    }

    /// "Not found" for an ID, or the parse error when the file failed to load.
    fn missing(&self, id: &str) -> Error {
        match self.problems.get(id) {
            Some(p) => p.to_error(),
            None => Error::File {
                path: id.to_owned(),
                reason: "it is not in the workspace (was it deleted, moved or renamed?)".into(),
            },
        }
    }

    /// The connection as it will be written: current format, secrets replaced.
    fn prepare(&self, connection: &SavedConnection) -> Result<(SavedConnection, Vec<String>)> {
        let mut conn = connection.clone();
        conn.version = CONNECTION_FILE_VERSION;
        let replaced = self.scrub_secrets(&mut conn)?;
        Ok((conn, replaced))
    }

    /// Write a prepared connection to `id` and cache it; returns its revision.
    fn write_connection(&mut self, id: &str, conn: SavedConnection) -> Result<String> {
        let bytes = file_bytes(&conn)?;
        self.write_file(id, &bytes)?;
        let revision = revision(&bytes);
        self.problems.remove(id);
        self.connections.insert(
            id.to_owned(),
            ConnEntry {
                connection: conn,
                revision: revision.clone(),
                migrated_from: None,
            },
        );
        Ok(revision)
    }

    /// Before `rel` (holding `bytes`) is overwritten or replaced: when it is in an older
    /// format, copy it to `<rel>.v<version>.bak` unless that backup already exists.
    fn backup_if_older(&self, rel: &str, bytes: &[u8]) -> Result<Option<String>> {
        match migrate::file_version(bytes) {
            Some(v) if v < CONNECTION_FILE_VERSION => {
                let bak = format!("{rel}.v{v}.bak");
                let path = self.abs(&bak);
                if fs::symlink_metadata(&path).is_ok() {
                    return Ok(None);
                }
                write_bytes_atomic(&path, bytes)?;
                Ok(Some(bak))
            }
            _ => Ok(None),
        }
    }

    /// Parse `bytes` as the connection file `rel` into the cache or the problems.
    fn load_connection(&mut self, rel: &str, bytes: &[u8]) {
        self.problems.remove(rel);
        match migrate::parse_connection(bytes, rel) {
            Ok(p) => {
                let mut connection = p.connection;
                if connection.name.trim().is_empty() {
                    connection.name = file_name_of(rel).trim_end_matches(".json").to_owned();
                }
                self.connections.insert(
                    rel.to_owned(),
                    ConnEntry {
                        connection,
                        revision: revision(bytes),
                        migrated_from: p.migrated_from,
                    },
                );
            }
            Err(e) => {
                self.connections.remove(rel);
                self.problems.insert(rel.to_owned(), FileProblem::from_error(rel, &e));
            }
        }
    }

    /// Read `rel` from disk into the cache (or the problems).
    fn reload_connection(&mut self, rel: &str) {
        match fs::read(self.abs(rel)) {
            Ok(bytes) => {
                self.record(rel, &bytes);
                self.load_connection(rel, &bytes);
            }
            Err(e) => {
                self.connections.remove(rel);
                self.record_unreadable(rel, &e);
            }
        }
    }

    /// Create the collection folder (and parents) if missing, and track them.
    fn ensure_dir(&mut self, collection: &str) -> Result<()> {
        if collection.is_empty() {
            return Ok(());
        }
        let path = self.abs(collection);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, &e))?;
        let mut at = collection;
        while !at.is_empty() {
            self.collections.insert(at.to_owned());
            at = parent_of(at);
        }
        Ok(())
    }

    /// `<dir>/<stem>.json`, or `<stem>-2.json`, `-3`, … : the first that is free on disk
    /// and in the store (`except` counts as free: the file being renamed).
    fn unique_file(&self, dir: &str, stem: &str, except: Option<&str>) -> String {
        let mut n = 1;
        loop {
            let name = if n == 1 {
                format!("{stem}.json")
            } else {
                format!("{stem}-{n}.json")
            };
            let rel = join(dir, &name);
            if Some(rel.as_str()) == except {
                return rel;
            }
            let reserved = dir.is_empty() && name == WORKSPACE_FILE;
            if !reserved && !self.files.contains_key(&rel) && fs::symlink_metadata(self.abs(&rel)).is_err() {
                return rel;
            }
            n += 1;
        }
    }

    /// A free sibling folder name for `path`: itself, or `<name>-2`, `-3`, …
    fn unique_dir(&self, path: &str) -> String {
        let mut n = 1;
        loop {
            let candidate = if n == 1 { path.to_owned() } else { format!("{path}-{n}") };
            if !self.collections.contains(&candidate) && fs::symlink_metadata(self.abs(&candidate)).is_err() {
                return candidate;
            }
            n += 1;
        }
    }

    fn restore_connection(&mut self, t: &Trashed) -> Result<Restored> {
        let Some((_, bytes)) = t.files.first() else {
            return Err(Error::InvalidConfig("nothing to undo".into()));
        };
        let dir = parent_of(&t.path);
        let stem = file_name_of(&t.path).trim_end_matches(".json");
        let id = self.unique_file(dir, stem, None);
        self.ensure_dir(dir)?;
        self.write_file(&id, bytes)?;
        self.load_connection(&id, bytes);
        Ok(Restored {
            item: ItemKind::Connection,
            id,
        })
    }

    fn restore_collection(&mut self, t: &Trashed) -> Result<Restored> {
        let target = self.unique_dir(&t.path);
        let base = self.abs(&target);
        let result = (|| {
            fs::create_dir_all(&base).map_err(|e| Error::io(&base, &e))?;
            for d in &t.dirs {
                let p = self.abs(&join(&target, d));
                fs::create_dir_all(&p).map_err(|e| Error::io(&p, &e))?;
            }
            for (rel, bytes) in &t.files {
                write_bytes_atomic(&self.abs(&join(&target, rel)), bytes)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&base);
            return Err(e);
        }
        self.ensure_dir(&target)?;
        for d in &t.dirs {
            if d.split('/').all(|c| !c.starts_with('.')) {
                self.collections.insert(join(&target, d));
            }
        }
        for (rel, bytes) in &t.files {
            let rel = join(&target, rel);
            if check_connection_id(&rel).is_ok() {
                self.record(&rel, bytes);
                self.load_connection(&rel, bytes);
            }
        }
        Ok(Restored {
            item: ItemKind::Collection,
            id: target,
        })
    }

    /// Every file of interest and every collection folder, with length and mtime.
    fn walk(&self) -> Walk {
        let mut w = Walk::default();
        self.walk_dir("", 0, &mut w);
        let envs = self.abs(ENVIRONMENTS_DIR);
        if let Ok(rd) = fs::read_dir(&envs) {
            for entry in rd.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name.starts_with('.') || is_temp_file(Path::new(&name)) || !name.ends_with(".json") {
                    continue;
                }
                let Ok(meta) = fs::metadata(entry.path()) else { continue };
                if !meta.is_file() {
                    continue;
                }
                let role = if name.ends_with(SECRETS_SUFFIX) {
                    Role::Secrets
                } else {
                    Role::Environment
                };
                w.files.insert(
                    format!("{ENVIRONMENTS_DIR}/{name}"),
                    (meta.len(), meta.modified().ok(), role),
                );
            }
        }
        w
    }

    fn walk_dir(&self, dir: &str, depth: usize, w: &mut Walk) {
        let path = self.abs(dir);
        let rd = match fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) => {
                if !dir.is_empty() {
                    w.problems
                        .insert(dir.to_owned(), FileProblem::from_error(dir, &Error::io(&path, &e)));
                }
                return;
            }
        };
        for entry in rd.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || is_temp_file(Path::new(&name)) {
                continue;
            }
            let Ok(ft) = entry.file_type() else { continue };
            let rel = join(dir, &name);
            if ft.is_dir() {
                if (dir.is_empty() && name == ENVIRONMENTS_DIR) || depth >= MAX_DEPTH {
                    continue;
                }
                w.dirs.insert(rel.clone());
                self.walk_dir(&rel, depth + 1, w);
                continue;
            }
            if !is_connection_file_name(dir, &name) {
                continue;
            }
            // Follows a symbolic link to a file; a link to a folder is skipped. A link
            // that leads nowhere is listed so that reading it reports the problem.
            match fs::metadata(entry.path()) {
                Ok(meta) if meta.is_file() => {
                    w.files
                        .insert(rel, (meta.len(), meta.modified().ok(), Role::Connection));
                }
                Ok(_) => {}
                Err(_) => {
                    w.files.insert(rel, (0, None, Role::Connection));
                }
            }
        }
    }

    fn ensure_marker(&mut self) -> Result<()> {
        let path = self.abs(WORKSPACE_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let text = migrate::strip_bom(&bytes);
                match serde_json::from_slice::<WorkspaceFile>(text) {
                    Ok(f) if f.version > WORKSPACE_FILE_VERSION => {
                        let (line, column) = migrate::key_position(text, "version");
                        let reason = format!(
                            "written by a newer wsbench (format version {}; this version reads up to {WORKSPACE_FILE_VERSION})",
                            f.version
                        );
                        self.marker_problem = Some(FileProblem::from_error(
                            WORKSPACE_FILE,
                            &parse_error(WORKSPACE_FILE, line, column, reason),
                        ));
                    }
                    Ok(f) => {
                        if !f.name.trim().is_empty() {
                            self.name = f.name;
                        }
                    }
                    Err(e) => {
                        let e = migrate::json_error(WORKSPACE_FILE, &e);
                        self.marker_problem = Some(FileProblem::from_error(WORKSPACE_FILE, &e));
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let marker = WorkspaceFile {
                    version: WORKSPACE_FILE_VERSION,
                    name: self.name.clone(),
                };
                write_bytes_atomic(&path, &file_bytes(&marker)?)
            }
            Err(e) => Err(Error::io(&path, &e)),
        }
    }

    fn ensure_gitignore(&self) -> Result<()> {
        let path = self.abs(".gitignore");
        let text = match fs::read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&path, &e)),
        };
        if text.lines().any(|l| l.trim() == GITIGNORE_LINE) {
            return Ok(());
        }
        let mut out = text;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("# Secret values of wsbench environments stay on this machine.\n");
        out.push_str(GITIGNORE_LINE);
        out.push('\n');
        write_bytes_atomic(&path, out.as_bytes())
    }
}

/// The revision of a file's bytes: a 128-bit FNV-1a hash in hex. Stable across
/// versions and platforms, so an app may keep it across restarts.
pub fn revision(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

/// How every store file is written: pretty JSON, 2-space indent, trailing newline.
pub(super) fn file_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| Error::InvalidConfig(format!("cannot serialize: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A file-name-safe form of a display name: lower case, letters and digits kept
/// (any script), everything else collapsed to single `-`, at most 64 characters.
pub fn slug(name: &str, fallback: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            s.push(c);
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    let s: String = s.chars().take(64).collect();
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        return fallback.to_owned();
    }
    const WINDOWS_RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1",
        "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    if WINDOWS_RESERVED.contains(&s) {
        format!("{s}-{fallback}")
    } else {
        s.to_owned()
    }
}

/// Why `name` cannot be a folder or file name in a workspace, if it cannot.
fn bad_component(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a name is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.starts_with('.') {
        Some("names starting with `.` are hidden and skipped")
    } else if name.chars().any(|c| c.is_control() || "\\<>:\"|?*".contains(c)) {
        Some("names cannot contain control characters or any of \\ < > : \" | ? *")
    } else if name.ends_with(' ') || name.ends_with('.') {
        Some("names cannot end with a space or a dot")
    } else if name.len() > 255 {
        Some("a name is longer than 255 bytes")
    } else {
        None
    }
}

/// A collection path (`""`, `chat`, `chat/rooms`), normalized (no leading or trailing `/`).
fn check_collection_path(path: &str) -> Result<String> {
    let norm = path.trim_matches('/');
    if norm.is_empty() {
        return Ok(String::new());
    }
    let invalid = |why: &str| Error::InvalidConfig(format!("{path:?} is not a valid collection: {why}"));
    for c in norm.split('/') {
        if let Some(why) = bad_component(c) {
            return Err(invalid(why));
        }
    }
    if norm.split('/').next() == Some(ENVIRONMENTS_DIR) {
        return Err(invalid("`environments` is where wsbench keeps environments"));
    }
    Ok(norm.to_owned())
}

/// A connection ID: `<collection>/<name>.json`, not a reserved file.
fn check_connection_id(id: &str) -> Result<()> {
    let name = file_name_of(id);
    let dir = parent_of(id);
    let ok = !id.starts_with('/')
        && bad_component(name).is_none()
        && is_connection_file_name(dir, name)
        && !is_temp_file(Path::new(name))
        && check_collection_path(dir).is_ok_and(|d| d == dir);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "{id:?} is not a connection file of this workspace (expected a path like \"chat/echo.json\")"
        )))
    }
}

fn is_connection_file_name(dir: &str, name: &str) -> bool {
    name.ends_with(".json")
        && name.len() > ".json".len()
        && !name.ends_with(SECRETS_SUFFIX)
        && !(dir.is_empty() && name == WORKSPACE_FILE)
}

/// Read a folder recursively for undo: files (exact bytes) and folders, relative to
/// `dir`. Temp files are left out; symbolic links are not followed.
fn collect_tree(dir: &Path, rel: &str, files: &mut Vec<(String, Vec<u8>)>, dirs: &mut Vec<String>) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let child = join(rel, &name);
        let ft = entry.file_type().map_err(|e| Error::io(&path, &e))?;
        if name.contains(".wsbench-trash-") {
            continue; // what an earlier deletion could not remove
        }
        if ft.is_dir() {
            dirs.push(child.clone());
            collect_tree(&path, &child, files, dirs)?;
        } else if ft.is_file() && !is_temp_file(&path) {
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, &e))?;
            files.push((child, bytes));
        }
    }
    Ok(())
}

fn rekey<V>(map: &mut BTreeMap<String, V>, moved: &impl Fn(&str) -> Option<String>) {
    let keys: Vec<String> = map.keys().filter(|k| moved(k).is_some()).cloned().collect();
    for k in keys {
        if let (Some(v), Some(n)) = (map.remove(&k), moved(&k)) {
            map.insert(n, v);
        }
    }
}

fn role_of(rel: &str) -> Role {
    if parent_of(rel) == ENVIRONMENTS_DIR {
        if rel.ends_with(SECRETS_SUFFIX) {
            Role::Secrets
        } else {
            Role::Environment
        }
    } else {
        Role::Connection
    }
}

/// `environments/staging.secrets.json` → `staging`.
fn env_slug_of(rel: &str) -> &str {
    let name = file_name_of(rel);
    name.strip_suffix(SECRETS_SUFFIX)
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(name)
}

fn parent_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(p, _)| p)
}

fn file_name_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, n)| n)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn sort_key(name: &str, tie: &str) -> (String, String) {
    (name.to_lowercase(), tie.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Echo server (local)", "c"), "echo-server-local");
        assert_eq!(slug("  --  ", "connection"), "connection");
        assert_eq!(slug("Über/Chat..v2", "c"), "über-chat-v2");
        assert_eq!(slug("CON", "connection"), "con-connection");
        assert_eq!(slug(&"a".repeat(100), "c").len(), 64);
    }

    #[test]
    fn ids_and_collections_are_validated() {
        assert!(check_connection_id("chat/echo.json").is_ok());
        assert!(check_connection_id("echo.json").is_ok());
        for bad in [
            "../x.json",
            "/abs.json",
            "chat/.hidden.json",
            "environments/x.json",
            "wsbench-workspace.json",
            "x.secrets.json",
            "chat//x.json",
            "x.txt",
            ".json",
        ] {
            assert!(check_connection_id(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(check_collection_path("/chat/rooms/").unwrap(), "chat/rooms");
        assert!(check_collection_path("chat/../x").is_err());
        assert!(check_collection_path("environments").is_err());
        assert!(check_collection_path("a:b").is_err());
    }

    #[test]
    fn revisions_differ_for_one_changed_byte() {
        assert_eq!(revision(b"abc"), revision(b"abc"));
        assert_ne!(revision(b"abc"), revision(b"abd"));
        assert_eq!(revision(b"").len(), 32);
    }
}
