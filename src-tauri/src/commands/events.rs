use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::State;
use wsbench_core::{EventBatch, EventSink, SessionSnapshot};

use crate::AppState;

/// Delivers engine batches to one window over its IPC channel.
struct ChannelSink(Channel<EventBatch>);

impl EventSink for ChannelSink {
    fn deliver(&self, batch: EventBatch) {
        if let Err(e) = self.0.send(batch) {
            tracing::debug!(error = %e, "window channel closed");
        }
    }
}

/// Called by a window on load (and after a reload): from now on batches go to
/// `channel`; the answer is a full snapshot to draw from.
#[tauri::command]
pub fn subscribe(state: State<'_, AppState>, channel: Channel<EventBatch>) -> Vec<SessionSnapshot> {
    state.manager.set_sink(Arc::new(ChannelSink(channel)));
    state.manager.snapshot()
}
