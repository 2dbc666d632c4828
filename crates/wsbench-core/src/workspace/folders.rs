//! Collections: the folders that group connections.

use std::collections::BTreeMap;
use std::fs;

use serde::{Deserialize, Serialize};

use super::paths::{check_collection_name, check_collection_path, file_name_of, join, parent_of};
use super::trash::{collect_tree, Deleted, Trashed};
use super::{ItemKind, Workspace};
use crate::error::{Error, Result};

/// A renamed collection: its new path and, for every connection under it, the old
/// ID and the new one (`{"chat/echo.json": "talk/echo.json"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenamedCollection {
    pub path: String,
    pub moved_ids: BTreeMap<String, String>,
}

impl Workspace {
    /// Create an empty collection (folder) at `path` (parents created as needed);
    /// returns the normalized path.
    pub fn create_collection(&mut self, path: &str) -> Result<String> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidName("a collection needs a name".into()));
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

    /// Create an empty collection called `name` inside `parent` (`""`: the top level);
    /// returns its path. The name is one folder name: empty or with a `/` is refused.
    pub fn create_collection_in(&mut self, parent: &str, name: &str) -> Result<String> {
        let name = check_collection_name(name)?;
        let parent = check_collection_path(parent)?;
        self.create_collection(&join(&parent, name))
    }

    /// Rename the collection's folder (in place); returns the new path and the new ID
    /// of every connection under it. Everything inside keeps its bytes.
    pub fn rename_collection(&mut self, path: &str, new_name: &str) -> Result<RenamedCollection> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidName(
                "the top level of the workspace cannot be renamed".into(),
            ));
        }
        if !self.collections.contains(&path) {
            return Err(self.missing(&path));
        }
        let new_name = check_collection_name(new_name)?;
        let new_path = join(parent_of(&path), new_name);
        check_collection_path(&new_path)?;
        if new_path == path {
            return Ok(RenamedCollection {
                path,
                moved_ids: BTreeMap::new(),
            });
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
        let moved_ids = self
            .connections
            .keys()
            .filter_map(|id| moved(id).map(|new| (id.clone(), new)))
            .collect();
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
        Ok(RenamedCollection {
            path: new_path,
            moved_ids,
        })
    }

    /// Delete the collection's folder with everything in it. Undo with
    /// [`undo_delete`](Self::undo_delete), which restores every file's exact bytes.
    pub fn delete_collection(&mut self, path: &str) -> Result<Deleted> {
        let path = check_collection_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidName(
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

    /// Create the collection folder (and parents) if missing, and track them.
    pub(super) fn ensure_dir(&mut self, collection: &str) -> Result<()> {
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

    /// A free sibling folder name for `path`: itself, or `<name>-2`, `-3`, …
    pub(super) fn unique_dir(&self, path: &str) -> String {
        let mut n = 1;
        loop {
            let candidate = if n == 1 { path.to_owned() } else { format!("{path}-{n}") };
            if !self.collections.contains(&candidate) && fs::symlink_metadata(self.abs(&candidate)).is_err() {
                return candidate;
            }
            n += 1;
        }
    }
}

fn rekey<V>(map: &mut BTreeMap<String, V>, moved: &impl Fn(&str) -> Option<String>) {
    let keys: Vec<String> = map.keys().filter(|k| moved(k).is_some()).cloned().collect();
    for k in keys {
        if let (Some(v), Some(n)) = (map.remove(&k), moved(&k)) {
            map.insert(n, v);
        }
    }
}
