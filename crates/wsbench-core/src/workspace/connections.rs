//! Saved connections: one file each, created, saved (conflict-checked), renamed,
//! duplicated, moved and deleted.

use std::fs;

use serde::{Deserialize, Serialize};

use super::paths::{
    check_collection_path, check_connection_id, check_connection_name, file_bytes, file_name_of, join, parent_of,
    revision, slug,
};
use super::problems::FileProblem;
use super::trash::{Deleted, Trashed};
use super::{ItemKind, Workspace, WORKSPACE_FILE};
use crate::collections::{migrate, SavedConnection, CONNECTION_FILE_VERSION};
use crate::error::{Error, Result};
use crate::fs::write_bytes_atomic;

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

#[derive(Debug, Clone)]
pub(super) struct ConnEntry {
    pub(super) connection: SavedConnection,
    pub(super) revision: String,
    pub(super) migrated_from: Option<u32>,
}

impl Workspace {
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
        check_connection_name(&connection.name)?;
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
        check_connection_name(&connection.name)?;
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
        check_connection_name(new_name)?;
        let new_name = new_name.trim();
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

    /// The connection as it will be written: current format, secrets replaced.
    pub(super) fn prepare(&self, connection: &SavedConnection) -> Result<(SavedConnection, Vec<String>)> {
        if let Some(s) = &connection.scenario {
            crate::collections::scenario::validate(s, &connection.messages, &connection.name, None)?;
        }
        let mut conn = connection.clone();
        conn.version = CONNECTION_FILE_VERSION;
        let replaced = self.scrub_secrets(&mut conn)?;
        Ok((conn, replaced))
    }

    /// Write a prepared connection to `id` and cache it; returns its revision.
    pub(super) fn write_connection(&mut self, id: &str, conn: SavedConnection) -> Result<String> {
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
    pub(super) fn backup_if_older(&self, rel: &str, bytes: &[u8]) -> Result<Option<String>> {
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
    pub(super) fn load_connection(&mut self, rel: &str, bytes: &[u8]) {
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
    pub(super) fn reload_connection(&mut self, rel: &str) {
        match crate::fs::read_capped(&self.abs(rel), crate::fs::MAX_STORE_FILE_BYTES) {
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

    /// `<dir>/<stem>.json`, or `<stem>-2.json`, `-3`, … : the first that is free on disk
    /// and in the store (`except` counts as free: the file being renamed).
    pub(super) fn unique_file(&self, dir: &str, stem: &str, except: Option<&str>) -> String {
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
}
