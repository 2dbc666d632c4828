//! HAR 1.2 with Chrome's WebSocket extension: the writer (`write.rs`) and, beside
//! it, the reader (`read.rs`) that also takes what Playwright and mitmproxy write.

mod read;
mod write;

pub(crate) use read::{har_connections, HarLog};
pub(crate) use write::HarWriter;
