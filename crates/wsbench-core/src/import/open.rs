//! What a file is: a collection from another tool or a recorded log. Told by the
//! extension first (`.har`, `.ndjson`, `.jsonl` are logs), then by content: a file
//! that no collection importer reads is tried as a log (a `.json` may be a wsbench
//! JSON export rather than an Insomnia export); when that fails too, the collection
//! importer's error is the one reported.

use std::path::Path;

use serde::Serialize;

use super::{import_path, ImportReport};
use crate::error::Result;
use crate::export::{read_log_file, RecordedConnection, RecordedSummary};

/// What [`open`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    Collection(ImportReport),
    /// Every connection the log holds, in file order.
    Log(Vec<RecordedConnection>),
}

/// What a file holds, as a front end lists it before importing:
/// `{ "kind": "collection", "report": ImportReport }` or
/// `{ "kind": "log", "connections": [RecordedSummary] }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Preview {
    Collection { report: ImportReport },
    Log { connections: Vec<RecordedSummary> },
}

impl Opened {
    pub fn preview(&self) -> Preview {
        match self {
            Opened::Collection(report) => Preview::Collection { report: report.clone() },
            Opened::Log(conns) => Preview::Log {
                connections: conns.iter().enumerate().map(|(i, c)| c.summary(i)).collect(),
            },
        }
    }
}

/// Whether the file name says it is a log (HAR, NDJSON/JSON Lines).
pub fn is_log_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "har" | "ndjson" | "jsonl")
}

/// Open a file or folder: a collection (Insomnia, Bruno, OpenCollection) or a log
/// (wsbench NDJSON/JSON, HAR). Reads the disk: call it off a UI thread.
pub fn open(path: &Path) -> Result<Opened> {
    let as_log = || read_log_file(path).map(Opened::Log);
    if is_log_file(path) {
        return as_log();
    }
    match import_path(path) {
        Ok(report) => Ok(Opened::Collection(report)),
        Err(e) => as_log().map_err(|_| e),
    }
}
