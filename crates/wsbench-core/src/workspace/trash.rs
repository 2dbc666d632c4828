//! Undo of deletions: the exact bytes of what was deleted, kept while the workspace
//! is open.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::paths::{check_connection_id, file_name_of, join, parent_of};
use super::{ItemKind, Workspace};
use crate::error::{Error, Result};
use crate::fs::{is_temp_file, write_bytes_atomic};

/// Undo tokens kept; older deletions can no longer be undone.
pub(super) const TRASH_LIMIT: usize = 100;

/// A deletion that [`Workspace::undo_delete`] can reverse while the store is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub token: String,
}

/// What an undo brought back, and where: a connection ID, a collection path or an
/// environment name (different from the original when that was taken in the meantime).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub item: ItemKind,
    pub id: String,
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

impl Workspace {
    /// Reverse a deletion: the same bytes at the same place, or at a unique name when
    /// that was taken in the meantime. A token can be used once.
    pub fn undo_delete(&mut self, token: &str) -> Result<Restored> {
        let Some(at) = self.trash.iter().position(|(t, _)| t == token) else {
            return Err(Error::NothingToUndo(
                "the deletion was already undone or is too old".into(),
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

    pub(super) fn put_in_trash(&mut self, item: Trashed) -> Deleted {
        let token = format!("{:016x}", fastrand::u64(..));
        self.trash.push((token.clone(), item));
        if self.trash.len() > TRASH_LIMIT {
            self.trash.remove(0);
        }
        Deleted { token }
    }

    pub(super) fn restore_connection(&mut self, t: &Trashed) -> Result<Restored> {
        let Some((_, bytes)) = t.files.first() else {
            return Err(Error::NothingToUndo("the deletion holds no file".into()));
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

    pub(super) fn restore_collection(&mut self, t: &Trashed) -> Result<Restored> {
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
}

/// Read a folder recursively for undo: files (exact bytes) and folders, relative to
/// `dir`. Temp files are left out; symbolic links are not followed.
pub(super) fn collect_tree(
    dir: &Path,
    rel: &str,
    files: &mut Vec<(String, Vec<u8>)>,
    dirs: &mut Vec<String>,
) -> Result<()> {
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
