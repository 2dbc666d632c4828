//! Rescanning: what changed on disk since the workspace last read or wrote it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::paths::{file_name_of, is_connection_file_name, join, parent_of, revision};
use super::problems::FileProblem;
use super::{ItemKind, Stamp, Workspace, ENVIRONMENTS_DIR, SECRETS_SUFFIX};
use crate::error::Error;
use crate::fs::is_temp_file;

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

#[derive(Default)]
struct Walk {
    files: BTreeMap<String, (u64, Option<SystemTime>, Role)>,
    dirs: BTreeSet<String>,
    problems: BTreeMap<String, FileProblem>,
}

impl Workspace {
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
