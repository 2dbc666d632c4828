//! wsbench-core: the GUI-free WebSocket engine behind the wsbench desktop app and
//! `wsbench-cli`. It owns every socket (one actor task per connection), keeps a bounded
//! log of every frame in and out, and notifies a front end in coalesced batches.

pub mod close;
pub mod collections;
pub mod config;
pub mod connection;
pub mod error;
pub mod events;
pub mod export;
pub mod file_name;
pub mod frame;
pub mod frame_log;
pub mod fs;
pub mod handshake;
pub mod history;
pub mod import;
mod parse;
pub mod payload;
pub mod periodic;
pub mod restore;
pub mod scenario;
pub mod server;
pub mod session;
pub mod socketio;
pub mod sync;
pub mod time;
pub mod workspace;

pub use collections::{Environment, MessageFormat, SavedConnection, SavedMessage, Variable};
pub use config::ConnectConfig;
pub use connection::{CloseInfo, ConnState, ConnectionHandle, Finished, Initiator, Outgoing, Recorder};
pub use error::{Error, ErrorInfo, ErrorKind, Result};
pub use events::{BatchConfig, EventBatch, EventSink, Notice, NullSink, SessionId};
pub use export::{
    default_file_name, export_to_path, export_to_writer, read_log_file, ExportFormat, ExportOptions, ExportSummary,
    FrameSelection, LogSource, RecordedConnection, Redaction, SessionMeta,
};
pub use frame::{now_us, Direction, Frame, FrameMeta, FrameRecord, Opcode};
pub use frame_log::{FrameLog, LogStats, SearchQuery, SearchResult};
pub use handshake::{CertInfo, Handshake, HttpFailure};
pub use server::{LocalServer, ServerConfig, ServerMode};
pub use session::{Session, SessionManager, SessionSnapshot};

/// Install ring as the process-wide rustls crypto provider. The engine itself always
/// passes its provider explicitly; call this once at start-up if other code in the
/// process uses rustls' default provider.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
