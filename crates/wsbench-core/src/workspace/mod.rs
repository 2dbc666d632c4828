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

mod connections;
mod environments;
mod folders;
mod paths;
mod problems;
mod scan;
mod secrets;
mod trash;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::write_bytes_atomic;
use crate::parse::{json_error, key_position, parse_error, strip_bom};

pub use connections::{Loaded, Saved};
pub use environments::{parse_environment, parse_secrets, LoadedEnvironment, SavedEnvironment, SecretsFile};
pub use folders::RenamedCollection;
pub use paths::{revision, slug};
pub use problems::{FileProblem, LoadReport};
pub use scan::{ChangeKind, DiskSnapshot, ExternalChange, ScanBase};
pub use trash::{Deleted, Restored};
pub use tree::{CollectionNode, ConnectionSummary, Tree, TreeItem};

use connections::ConnEntry;
use environments::EnvEntry;
use paths::file_bytes;
use trash::Trashed;

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

/// What kind of thing a path, change or undo is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    Connection,
    Collection,
    Environment,
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
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    /// Empty when the file could not be read (retried on every rescan).
    revision: String,
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
    environments: BTreeMap<String, EnvEntry>,
    /// Every tracked file, by relative path.
    files: BTreeMap<String, Stamp>,
    problems: BTreeMap<String, FileProblem>,
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

    /// The absolute path of a workspace-relative `/` path.
    pub(super) fn abs(&self, rel: &str) -> PathBuf {
        abs_in(&self.root, rel)
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
    pub(super) fn forget_file(&mut self, rel: &str) {
        self.connections.remove(rel);
        self.files.remove(rel);
        self.problems.remove(rel);
    }

    /// "Not found" for an ID, or the parse error when the file failed to load.
    pub(super) fn missing(&self, id: &str) -> Error {
        match self.problems.get(id) {
            Some(p) => p.to_error(),
            None => Error::File {
                path: id.to_owned(),
                reason: "it is not in the workspace (was it deleted, moved or renamed?)".into(),
            },
        }
    }

    pub(super) fn ensure_marker(&mut self) -> Result<()> {
        let path = self.abs(WORKSPACE_FILE);
        match crate::fs::read_capped(&path, crate::fs::MAX_STORE_FILE_BYTES) {
            Ok(bytes) => {
                let text = strip_bom(&bytes);
                match serde_json::from_slice::<WorkspaceFile>(text) {
                    Ok(f) if f.version > WORKSPACE_FILE_VERSION => {
                        let (line, column) = key_position(text, "version");
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
                        let e = json_error(WORKSPACE_FILE, &e);
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

    pub(super) fn ensure_gitignore(&self) -> Result<()> {
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

/// The absolute path of a `/` path relative to `root`.
fn abs_in(root: &Path, rel: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(rel.split('/').filter(|c| !c.is_empty()));
    p
}
