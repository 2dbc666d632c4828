//! The narrow interface through which a connection reports what happens on it.
//!
//! The connection layer never reaches up into the session: the actor, its writer and
//! the wire tap hand every frame and every state change to a [`Recorder`]. The
//! session implements it (frame log + event batches). A protocol layer that turns
//! frames into something richer (a Socket.IO codec, say) wraps the session's recorder
//! in its own, passes raw frames through unchanged and attaches its decoded view.

use crate::frame::Frame;
use crate::socketio::Decoded;

use super::ConnState;

pub trait Recorder: Send + Sync + 'static {
    /// Log one frame (its sequence number is assigned here) and return that number.
    /// Called from the actor, the writer and the wire tap, in wire order.
    fn frame(&self, frame: Frame) -> u64;

    /// Log one frame with a protocol layer's decoded view of it (Socket.IO mode).
    fn frame_decoded(&self, frame: Frame, decoded: Decoded) -> u64 {
        let _ = decoded;
        self.frame(frame)
    }

    /// Log frames received together, in order, with one notification for the lot.
    fn frames(&self, frames: Vec<Frame>);

    /// Publish a new connection state. The terminal one (Closed or Failed) comes
    /// last, once the connection's command channel is closed.
    fn state(&self, state: ConnState);

    /// Ready, with how many payload bytes the connection may read now, while it may
    /// read from its socket at all. A recorder whose reader must see every frame
    /// (the CLI) returns Pending while too much is unread, and wakes `cx` once there
    /// is room; the default is always ready, without a limit.
    fn poll_room(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<usize> {
        let _ = cx;
        std::task::Poll::Ready(usize::MAX)
    }

    /// A number naming the connection in tracing output (the session's id).
    fn id(&self) -> u64 {
        0
    }
}
