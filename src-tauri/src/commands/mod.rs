//! One module per area. Commands return `Err(ErrorInfo)` (`{ kind, message }`) only
//! for bad input or an unknown tab; connection outcomes arrive as state events.

pub mod collections;
pub mod connection;
pub mod dialogs;
pub mod events;
pub mod export;
pub mod log;
pub mod server;
pub mod tabs;

pub type CmdResult<T> = Result<T, wsbench_core::ErrorInfo>;
