//! Rescanning: what changed on disk since the workspace last read or wrote it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::paths::{file_name_of, is_connection_file_name, join, parent_of, revision};
use super::problems::FileProblem;
use super::{abs_in, ItemKind, Stamp, Workspace, ENVIRONMENTS_DIR, SECRETS_SUFFIX};
use crate::error::Error;
use crate::fs::is_temp_file;
use crate::sync::lock;

/// Collections nested deeper than this are not scanned (guards against odd mounts).
const MAX_DEPTH: usize = 32;

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

/// What the store knew when a rescan began, taken under the lock in a moment: the
/// walk compares the disk with it without the lock.
#[derive(Debug, Clone)]
pub struct ScanBase {
    root: PathBuf,
    files: BTreeMap<String, Stamp>,
    collections: BTreeSet<String>,
}

/// The disk as one walk found it: every file of interest, the bytes and revision of
/// each one that looks changed, every collection folder and every unreadable folder.
/// Made without the workspace lock by [`ScanBase::read_disk`], applied under it by
/// [`Workspace::apply_scan`].
#[derive(Debug)]
pub struct DiskSnapshot {
    base: ScanBase,
    files: BTreeMap<String, Found>,
    dirs: BTreeSet<String>,
    problems: BTreeMap<String, FileProblem>,
}

/// A file the walk found.
#[derive(Debug)]
struct Found {
    len: u64,
    modified: Option<SystemTime>,
    role: Role,
    /// `None` when length and mtime match what the store knew (not read again).
    read: Option<Read>,
}

/// A file read during the walk: its bytes (or why not) and their revision (empty
/// when unreadable).
#[derive(Debug)]
struct Read {
    bytes: std::io::Result<Vec<u8>>,
    revision: String,
}

impl Workspace {
    /// Compare the disk with what the store last read or wrote (length and mtime first,
    /// then the hash), reload what changed and say what it was. The app calls this on
    /// window focus and on a timer; a tab with unsaved edits to a changed file keeps
    /// them, and its save then reports a conflict. With the workspace behind a mutex,
    /// use [`Workspace::rescan_shared`], which walks the disk without the lock.
    pub fn rescan(&mut self) -> Vec<ExternalChange> {
        let snapshot = self.scan_base().read_disk();
        self.apply_scan(snapshot)
    }

    /// [`rescan`](Self::rescan) a shared workspace, holding its lock only to copy what
    /// the store knows and to apply what changed: the walk, the reads and the hashing
    /// run without it, so other commands never wait on a long walk.
    pub fn rescan_shared(ws: &Mutex<Workspace>) -> Vec<ExternalChange> {
        let base = lock(ws).scan_base();
        let snapshot = base.read_disk();
        lock(ws).apply_scan(snapshot)
    }

    /// What the store knows now, for a walk made without the lock.
    pub fn scan_base(&self) -> ScanBase {
        ScanBase {
            root: self.root.clone(),
            files: self.files.clone(),
            collections: self.collections.clone(),
        }
    }

    /// Take in what a walk found. A file or collection the store itself wrote, moved
    /// or deleted while the walk ran keeps the store's record (the next rescan looks
    /// at it again); a snapshot of another workspace folder changes nothing.
    pub fn apply_scan(&mut self, snapshot: DiskSnapshot) -> Vec<ExternalChange> {
        if snapshot.base.root != self.root {
            return Vec::new();
        }
        let DiskSnapshot {
            base,
            files,
            dirs,
            problems,
        } = snapshot;
        let mut changes = Vec::new();
        let mut envs = BTreeSet::new();
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| !files.contains_key(*k) && base.files.get(*k) == self.files.get(*k))
            .cloned()
            .collect();
        for (rel, found) in files {
            if base.files.get(&rel) == self.files.get(&rel) {
                self.apply_found(rel, found, &mut changes, &mut envs);
            }
        }
        for rel in gone {
            self.apply_gone(rel, &mut changes, &mut envs);
        }
        for slug in envs {
            self.reload_environment(&slug);
        }
        self.apply_dirs(&base.collections, dirs, &mut changes);
        self.walk_problems = problems;
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }

    /// One file the walk found: unchanged, the same bytes with a new mtime, or a change
    /// to report and load.
    fn apply_found(
        &mut self,
        rel: String,
        found: Found,
        changes: &mut Vec<ExternalChange>,
        envs: &mut BTreeSet<String>,
    ) {
        let Some(read) = found.read else { return };
        let (len, modified) = (found.len, found.modified);
        let known = self.files.get(&rel);
        if let Some(st) = known {
            if !read.revision.is_empty() && st.revision == read.revision {
                let revision = read.revision;
                self.files.insert(
                    rel,
                    Stamp {
                        len,
                        modified,
                        revision,
                    },
                );
                return;
            }
            if read.revision.is_empty() && st.revision.is_empty() {
                return; // still unreadable; already reported
            }
        }
        changes.push(ExternalChange {
            path: rel.clone(),
            kind: if known.is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
            item: found.role.item(),
        });
        match found.role {
            Role::Connection => match read.bytes {
                Ok(bytes) => {
                    let revision = read.revision;
                    self.files.insert(
                        rel.clone(),
                        Stamp {
                            len,
                            modified,
                            revision,
                        },
                    );
                    self.load_connection(&rel, &bytes);
                }
                Err(e) => {
                    self.connections.remove(&rel);
                    self.record_unreadable(&rel, &e);
                }
            },
            Role::Environment | Role::Secrets => {
                envs.insert(env_slug_of(&rel).to_owned());
            }
        }
    }

    /// A tracked file the walk no longer found.
    fn apply_gone(&mut self, rel: String, changes: &mut Vec<ExternalChange>, envs: &mut BTreeSet<String>) {
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

    /// Collection folders that appeared or went, except those the store itself made
    /// or removed during the walk.
    fn apply_dirs(&mut self, before: &BTreeSet<String>, dirs: BTreeSet<String>, changes: &mut Vec<ExternalChange>) {
        let every: BTreeSet<String> = dirs.iter().chain(&self.collections).chain(before).cloned().collect();
        let mut now = BTreeSet::new();
        for dir in every {
            let known = self.collections.contains(&dir);
            if before.contains(&dir) != known {
                if known {
                    now.insert(dir);
                }
                continue;
            }
            let on_disk = dirs.contains(&dir);
            if on_disk != known {
                changes.push(ExternalChange {
                    path: dir.clone(),
                    kind: if on_disk {
                        ChangeKind::Added
                    } else {
                        ChangeKind::Removed
                    },
                    item: ItemKind::Collection,
                });
            }
            if on_disk {
                now.insert(dir);
            }
        }
        self.collections = now;
    }
}

impl ScanBase {
    /// Walk the workspace folder: every file of interest and every collection folder,
    /// with length and mtime; a file whose length or mtime differs from what the
    /// store knew (or that it could not read) is read and hashed.
    pub fn read_disk(self) -> DiskSnapshot {
        let mut snap = DiskSnapshot {
            base: self,
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            problems: BTreeMap::new(),
        };
        snap.walk_dir("", 0);
        snap.walk_environments();
        snap.read_changed();
        snap
    }
}

impl DiskSnapshot {
    fn abs(&self, rel: &str) -> PathBuf {
        abs_in(&self.base.root, rel)
    }

    fn walk_environments(&mut self) {
        let Ok(rd) = fs::read_dir(self.abs(ENVIRONMENTS_DIR)) else {
            return;
        };
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
            let rel = format!("{ENVIRONMENTS_DIR}/{name}");
            self.found(rel, meta.len(), meta.modified().ok(), role);
        }
    }

    fn walk_dir(&mut self, dir: &str, depth: usize) {
        let path = self.abs(dir);
        let rd = match fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) => {
                if !dir.is_empty() {
                    let problem = FileProblem::from_error(dir, &Error::io(&path, &e));
                    self.problems.insert(dir.to_owned(), problem);
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
                self.dirs.insert(rel.clone());
                self.walk_dir(&rel, depth + 1);
                continue;
            }
            if !is_connection_file_name(dir, &name) {
                continue;
            }
            // Follows a symbolic link to a file; a link to a folder is skipped. A link
            // that leads nowhere is listed so that reading it reports the problem.
            match fs::metadata(entry.path()) {
                Ok(meta) if meta.is_file() => self.found(rel, meta.len(), meta.modified().ok(), Role::Connection),
                Ok(_) => {}
                Err(_) => self.found(rel, 0, None, Role::Connection),
            }
        }
    }

    fn found(&mut self, rel: String, len: u64, modified: Option<SystemTime>, role: Role) {
        let found = Found {
            len,
            modified,
            role,
            read: None,
        };
        self.files.insert(rel, found);
    }

    /// Read and hash every file whose length or mtime is not what the store knew.
    fn read_changed(&mut self) {
        let root = self.base.root.clone();
        for (rel, found) in &mut self.files {
            if let Some(st) = self.base.files.get(rel) {
                if st.len == found.len && st.modified == found.modified && !st.revision.is_empty() {
                    continue;
                }
            }
            let bytes = crate::fs::read_capped(&abs_in(&root, rel), crate::fs::MAX_STORE_FILE_BYTES);
            let revision = bytes.as_ref().map(|b| revision(b)).unwrap_or_default();
            found.read = Some(Read { bytes, revision });
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
