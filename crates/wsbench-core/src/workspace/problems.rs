//! Files that failed to load: where, and why.

use serde::{Deserialize, Serialize};

use crate::error::Error;

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
