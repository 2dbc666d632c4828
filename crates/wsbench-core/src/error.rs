//! One error type for the engine, with a serializable [`ErrorKind`] the UI and the
//! CLI can branch on. Every variant names what it is about (URL, header, host, limit).

use serde::{Deserialize, Serialize};

use crate::handshake::{CertInfo, HttpFailure};

/// What went wrong, as a stable tag for front ends (`{ "kind": "refused", ... }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    InvalidUrl,
    InvalidHeader,
    InvalidPayload,
    MessageTooLarge,
    Dns,
    Refused,
    Connect,
    Timeout,
    Tls,
    File,
    HttpStatus,
    Handshake,
    Protocol,
    Io,
    NotConnected,
    UnknownSession,
    /// A file that is not valid JSON/YAML/HAR or not in the expected shape.
    Parse,
    /// The file changed on disk since it was loaded; saving would overwrite that.
    Conflict,
    /// A `{{name}}` with no value in the active environment.
    UnknownVariable,
    /// The operation was cancelled by the user.
    Cancelled,
    /// A query parameter that cannot be sent (an empty name).
    InvalidParam,
    /// An authentication setting that cannot be sent.
    InvalidAuth,
    /// An offered subprotocol that is not an HTTP token.
    InvalidSubprotocol,
    /// TLS settings that do not fit together (the files themselves are `File`).
    InvalidTls,
    /// A log search pattern that does not compile.
    InvalidSearch,
    /// A close code or reason a client may not send.
    InvalidClose,
    /// A timeout that is not a duration.
    InvalidTimeout,
    /// The tab is a recording (history, an imported log): it cannot connect or be cleared.
    ReadOnlySession,
    /// The tab is already connecting or connected.
    AlreadyConnected,
    /// A name or path wsbench cannot use (empty, reserved, unsafe characters).
    InvalidName,
    /// The name is already taken (an environment).
    AlreadyExists,
    /// An undo token that was already used or is too old.
    NothingToUndo,
    /// A `{{variable}}` whose value refers back to itself.
    VariableCycle,
    /// A file format wsbench does not read or write.
    UnknownFormat,
    /// A file holds fewer items than asked for.
    NotInFile,
    /// The secret values to hide from an export are too many or too long to search for.
    TooManySecrets,
    /// A proxy that cannot be used, refused, asked for credentials (407) or could not
    /// reach the target.
    Proxy,
}

/// Engine error. `Display` is a complete sentence a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("invalid {format} payload: {reason}")]
    InvalidPayload { format: &'static str, reason: String },
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("could not resolve host {host:?}: {reason}")]
    Dns { host: String, reason: String },
    #[error("connection refused by {addr}")]
    Refused { addr: String },
    #[error("could not connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{stage} timed out after {ms} ms")]
    Timeout { stage: &'static str, ms: u64 },
    #[error("TLS handshake with {host:?} failed: {reason}")]
    Tls {
        host: String,
        reason: String,
        /// The chain the server presented, when it got that far.
        certificates: Vec<CertInfo>,
    },
    #[error("cannot use {path:?}: {reason}")]
    File { path: String, reason: String },
    #[error("server rejected the WebSocket upgrade with HTTP {} {}{}", .0.status, .0.reason, redirect_note(.0))]
    HttpStatus(Box<HttpFailure>),
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("I/O error: {0}")]
    Io(String),
    #[error("not connected: {0}")]
    NotConnected(String),
    #[error("unknown session {0}")]
    UnknownSession(u64),
    /// `line`/`column` are 1-based; 0 when the format does not say.
    #[error("cannot read {path:?}{}: {reason}", if *.line > 0 { format!(" (line {}, column {})", .line, .column) } else { String::new() })]
    Parse {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{path:?} changed on disk since it was loaded; reload it or save a copy")]
    Conflict { path: String },
    #[error("unknown variable {{{{{name}}}}} in {place}")]
    UnknownVariable { name: String, place: String },
    #[error("{0} was cancelled")]
    Cancelled(String),
    #[error("invalid query parameter {name:?}: {reason}")]
    InvalidParam { name: String, reason: String },
    #[error("invalid authentication: {reason}")]
    InvalidAuth { reason: String },
    #[error("invalid subprotocol {protocol:?}: {reason}")]
    InvalidSubprotocol { protocol: String, reason: String },
    #[error("invalid TLS settings: {reason}")]
    InvalidTls { reason: String },
    #[error("invalid search pattern {pattern:?}: {reason}")]
    InvalidSearch { pattern: String, reason: String },
    #[error("invalid close frame: {reason}")]
    InvalidClose { code: u16, reason: String },
    /// `setting` names it as the user typed it (`--timeout`, "connect timeout").
    #[error("{setting} {value}: {reason}")]
    InvalidTimeout {
        setting: String,
        value: String,
        reason: String,
    },
    /// `action` completes "cannot …": "connect", "be cleared".
    #[error("tab {id} is a recorded session and is read-only: it cannot {action}")]
    ReadOnlySession { id: u64, action: &'static str },
    #[error("session {id} is already {state}; disconnect first")]
    AlreadyConnected { id: u64, state: &'static str },
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("nothing to undo: {0}")]
    NothingToUndo(String),
    #[error("variable {{{{{name}}}}} in {place} refers to itself (or nests more than {depth} deep)")]
    VariableCycle { name: String, place: String, depth: usize },
    #[error("{0}")]
    UnknownFormat(String),
    #[error("{0}")]
    NotInFile(String),
    #[error("{0}")]
    TooManySecrets(String),
    /// `proxy` is `http://host:port (from HTTPS_PROXY)`, without credentials.
    #[error("proxy {proxy}: {reason}")]
    Proxy {
        proxy: String,
        reason: String,
        /// The proxy's own HTTP answer (a 407, a 502), when it gave one.
        http: Option<Box<HttpFailure>>,
    },
}

impl Error {
    /// A file-system error on `path`, worded for a user: a read-only folder, a full
    /// disk and a missing file each say so plainly.
    pub fn io(path: impl AsRef<std::path::Path>, e: &std::io::Error) -> Error {
        use std::io::ErrorKind as K;
        let reason = match e.kind() {
            K::NotFound => "it does not exist".to_owned(),
            K::PermissionDenied => "permission denied (is the folder read-only?)".to_owned(),
            K::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
            K::StorageFull => "the disk is full".to_owned(),
            K::QuotaExceeded => "the disk quota is exceeded".to_owned(),
            _ if e.raw_os_error() == Some(28) => "the disk is full".to_owned(),
            _ => e.to_string(),
        };
        Error::File {
            path: path.as_ref().display().to_string(),
            reason,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUrl { .. } => ErrorKind::InvalidUrl,
            Error::InvalidHeader { .. } => ErrorKind::InvalidHeader,
            Error::InvalidPayload { .. } => ErrorKind::InvalidPayload,
            Error::MessageTooLarge { .. } => ErrorKind::MessageTooLarge,
            Error::Dns { .. } => ErrorKind::Dns,
            Error::Refused { .. } => ErrorKind::Refused,
            Error::Connect { .. } => ErrorKind::Connect,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Tls { .. } => ErrorKind::Tls,
            Error::File { .. } => ErrorKind::File,
            Error::HttpStatus(_) => ErrorKind::HttpStatus,
            Error::Handshake(_) => ErrorKind::Handshake,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Io(_) => ErrorKind::Io,
            Error::NotConnected(_) => ErrorKind::NotConnected,
            Error::UnknownSession(_) => ErrorKind::UnknownSession,
            Error::Parse { .. } => ErrorKind::Parse,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::UnknownVariable { .. } => ErrorKind::UnknownVariable,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::InvalidParam { .. } => ErrorKind::InvalidParam,
            Error::InvalidAuth { .. } => ErrorKind::InvalidAuth,
            Error::InvalidSubprotocol { .. } => ErrorKind::InvalidSubprotocol,
            Error::InvalidTls { .. } => ErrorKind::InvalidTls,
            Error::InvalidSearch { .. } => ErrorKind::InvalidSearch,
            Error::InvalidClose { .. } => ErrorKind::InvalidClose,
            Error::InvalidTimeout { .. } => ErrorKind::InvalidTimeout,
            Error::ReadOnlySession { .. } => ErrorKind::ReadOnlySession,
            Error::AlreadyConnected { .. } => ErrorKind::AlreadyConnected,
            Error::InvalidName(_) => ErrorKind::InvalidName,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::NothingToUndo(_) => ErrorKind::NothingToUndo,
            Error::VariableCycle { .. } => ErrorKind::VariableCycle,
            Error::UnknownFormat(_) => ErrorKind::UnknownFormat,
            Error::NotInFile(_) => ErrorKind::NotInFile,
            Error::TooManySecrets(_) => ErrorKind::TooManySecrets,
            Error::Proxy { .. } => ErrorKind::Proxy,
        }
    }

    /// The serializable form sent to front ends.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            kind: self.kind(),
            message: self.to_string(),
            http: match self {
                Error::HttpStatus(h) | Error::Proxy { http: Some(h), .. } => Some((**h).clone()),
                _ => None,
            },
            certificates: match self {
                Error::Tls { certificates, .. } if !certificates.is_empty() => Some(certificates.clone()),
                _ => None,
            },
        }
    }
}

/// `{ kind, message, http? }`: what a front end receives for any error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
    /// For a rejected upgrade: the status, headers and the start of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpFailure>,
    /// For a TLS failure: the certificate chain the server presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<CertInfo>>,
}

/// "; it redirects to … (not followed: connect to … instead)" for a 3xx answer.
fn redirect_note(h: &HttpFailure) -> String {
    match (&h.location, &h.redirect) {
        (Some(_), Some(to)) => format!("; it redirects to {to} (not followed: connect to that URL instead)"),
        (Some(loc), None) => format!("; it redirects to {loc:?} (not followed)"),
        _ => String::new(),
    }
}

impl From<Error> for ErrorInfo {
    fn from(e: Error) -> Self {
        e.info()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
