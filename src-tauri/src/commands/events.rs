use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::State;
use wsbench_core::{EventBatch, EventSink, SessionSnapshot};

use crate::AppState;

/// Delivers engine batches to one window over its IPC channel.
struct ChannelSink {
    channel: Channel<EventBatch>,
    /// The tab the window shows (0: none).
    shown: Arc<AtomicU64>,
}

impl EventSink for ChannelSink {
    fn deliver(&self, mut batch: EventBatch) {
        only_shown_previews(&mut batch, self.shown.load(Ordering::Relaxed));
        if let Err(e) = self.channel.send(batch) {
            tracing::debug!(error = %e, "window channel closed");
        }
    }
}

/// Previews are for the rows the window draws, and it draws one tab's log: the other
/// tabs' updates keep their counters and drop their previews (a tab switched to
/// reads its visible rows with `log_page`). With 50 busy tabs this keeps a batch,
/// and the window's work per batch, the size of one tab's. A Socket.IO `open`
/// packet is kept: the tab shows its session from it.
pub(crate) fn only_shown_previews(batch: &mut EventBatch, shown: u64) {
    for u in batch.sessions.iter_mut().filter(|u| u.session != shown) {
        u.previews
            .retain(|p| p.socketio.as_ref().is_some_and(|d| d.open.is_some()));
    }
}

/// Called by a window on load (and after a reload): from now on batches go to
/// `channel`; the answer is a full snapshot to draw from.
#[tauri::command]
pub fn subscribe(state: State<'_, AppState>, channel: Channel<EventBatch>) -> Vec<SessionSnapshot> {
    state.manager.set_sink(Arc::new(ChannelSink {
        channel,
        shown: state.shown.clone(),
    }));
    state.manager.snapshot()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(session: u64, previews: serde_json::Value) -> serde_json::Value {
        json!({ "session": session, "stats": wsbench_core::LogStats::default(), "newFrames": 2, "previews": previews })
    }

    fn preview(seq: u64, socketio: Option<serde_json::Value>) -> serde_json::Value {
        let mut p = json!({ "seq": seq, "atUs": 0, "offsetUs": 0, "direction": "in", "opcode": "text", "len": 1,
            "preview": "x", "encoding": "text", "truncated": false });
        if let Some(s) = socketio {
            p["socketio"] = s;
        }
        p
    }

    #[test]
    fn only_the_shown_tab_keeps_its_previews_and_every_tab_its_counters() {
        let open = json!({ "engine": "open", "open": { "sid": "abc", "pingInterval": 25000, "pingTimeout": 20000 } });
        let mut batch: EventBatch = serde_json::from_value(json!({
            "states": [], "dropped": 0,
            "sessions": [
                update(1, json!([preview(1, None), preview(2, None)])),
                update(2, json!([preview(7, None), preview(8, Some(open))])),
            ],
        }))
        .unwrap();
        only_shown_previews(&mut batch, 1);
        let seqs = |i: usize| {
            batch.sessions[i]
                .previews
                .iter()
                .map(|p| p.meta.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(0), vec![1, 2], "the shown tab keeps every preview");
        assert_eq!(seqs(1), vec![8], "another tab keeps only its Socket.IO open packet");
        assert_eq!(batch.sessions[1].new_frames, 2, "and its counters");
    }
}
