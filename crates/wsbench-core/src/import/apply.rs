//! Bringing what was read into a workspace: a collection into a folder (its
//! sub-folders kept, names made safe, taken environment names suffixed), or one
//! recorded connection as a saved connection.

use serde::{Deserialize, Serialize};

use super::ImportReport;
use crate::error::Result;
use crate::export::RecordedConnection;
use crate::workspace::{Saved, Workspace};

/// How much an import brought over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportDone {
    pub connections: usize,
    pub environments: usize,
}

/// A folder name from another tool, made safe for a collection path: no `/`, `\`
/// or `:`, no leading dot, never empty nor the reserved `environments`.
pub fn folder_name(s: &str) -> String {
    let name = s.replace(['/', '\\', ':'], "-");
    let name = name.trim().trim_start_matches('.').trim();
    match name {
        "" => "folder".to_owned(),
        "environments" => "environments (imported)".to_owned(),
        n => n.to_owned(),
    }
}

/// Import a collection into the collection `into` (created; `""` is the top level),
/// keeping its sub-folders; environments whose name is taken get " (imported)".
pub fn import_into(ws: &mut Workspace, report: &ImportReport, into: &str) -> Result<ImportDone> {
    let into = into.trim().trim_matches('/').to_owned();
    let mut done = ImportDone::default();
    for c in &report.connections {
        let mut folder = into.clone();
        for part in &c.folder {
            let part = folder_name(part);
            folder = if folder.is_empty() {
                part
            } else {
                format!("{folder}/{part}")
            };
        }
        if !folder.is_empty() && !ws.root().join(&folder).is_dir() {
            ws.create_collection(&folder)?;
        }
        ws.create_connection(&folder, &c.connection)?;
        done.connections += 1;
    }
    for env in &report.environments {
        let mut env = env.clone();
        while ws.environment(&env.name).is_ok() {
            env.name = format!("{} (imported)", env.name);
        }
        ws.save_environment(&env, None, false)?;
        done.environments += 1;
    }
    Ok(done)
}

/// Save a recorded connection (from a log or the history) as a saved connection in
/// `collection`: its sent messages become saved messages, and credential headers
/// are left out (a recording's credentials are not for a file that may be committed).
pub fn import_recorded(ws: &mut Workspace, rec: &RecordedConnection, collection: &str) -> Result<Saved> {
    ws.create_connection(collection, &rec.to_saved_connection_without_credentials())
}
