//! One module per area. Commands return `Err(ErrorInfo)` (`{ kind, message }`) only
//! for bad input or an unknown tab; connection outcomes arrive as state events.
//! A command that reads or writes a file (or may wait for one) is `async` and does
//! the file work on a blocking thread ([`crate::blocking`]): the main thread, which
//! draws the window, never waits for a disk.

// `ErrorInfo` is what the UI receives (serialized once per failed call, never moved
// around a hot path); boxing it would only add an allocation to every error.
#![allow(clippy::result_large_err)]

pub mod collections;
pub mod connection;
pub mod dialogs;
pub mod environments;
pub mod events;
pub mod export;
pub mod history;
pub mod import;
pub mod log;
pub mod scenario;
pub mod server;
pub mod settings;
pub mod tabs;

pub type CmdResult<T> = Result<T, wsbench_core::ErrorInfo>;
