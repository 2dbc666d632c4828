//! Connections: one actor task per connection owns its socket; the rest of the engine
//! talks to it through a clonable [`ConnectionHandle`] and hears from it through a
//! [`Recorder`]. This layer depends on nothing above it (no session, no events).
//!
//! ```text
//! start(config, recorder) -> ConnectionHandle --commands--> actor (actor.rs, open.rs)
//!   dial:    resolve -> TCP -> [proxy tunnel] -> [TLS] -> HTTP upgrade   (dial.rs, tls.rs)
//!   socket:  Stream -> WireTap (wire.rs) -> [deflate] -> tungstenite
//!   frames:  read.rs (bursts in) / writer.rs (out), one socket -> Recorder (recorder.rs)
//! ```
//!
//! Where a protocol layer slots in, without touching the session:
//! - a proxy tunnel (HTTP CONNECT, SOCKS5): a step of `dial::transport` between the
//!   TCP connect and TLS (TLS still names the target host);
//! - permessage-deflate: a stream layer beside the `WireTap` (wire.rs) under tungstenite,
//!   negotiated by the upgrade request that `dial` builds;
//! - a Socket.IO codec: a [`Recorder`] that wraps the session's, between frames and
//!   the log.

pub(crate) mod actor;
mod certs;
mod closing;
mod deflate;
pub mod dial;
mod keepalive;
mod open;
mod outgoing;
pub mod proxy;
mod read;
mod recorder;
mod state;
pub mod target;
mod tls;
mod tls_words;
mod tunnel;
pub(crate) mod wire;
mod writer;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::config::ConnectConfig;
use crate::error::{Error, Result};

pub use crate::close::CloseInfo;
pub use outgoing::Outgoing;
pub use recorder::Recorder;
pub use state::{ConnState, Initiator};
// The handshake types live in their own leaf module; these names stay for callers.
pub use crate::handshake::{CertInfo, DeflateParams, Handshake, Header, HttpFailure, ProxyInfo, Timings, TlsInfo};
pub use proxy::{global_proxy, set_global_proxy};

/// The one way in: validate `config` (URL, headers, TLS files: an `Err` here, nothing
/// dialed) and spawn its actor on `runtime`. The actor dials (and redials, as the
/// config says), sends `on_open` in order each time the connection opens, and reports
/// every frame and state change to `recorder` until it publishes Closed or Failed.
pub fn start(
    runtime: &tokio::runtime::Handle,
    config: ConnectConfig,
    on_open: Vec<Outgoing>,
    recorder: Arc<dyn Recorder>,
) -> Result<ConnectionHandle> {
    let config = crate::socketio::url::dial_config(&config)?;
    let target = target::prepare(&config)?;
    Ok(actor::spawn(runtime, recorder, config, target, on_open))
}

pub(crate) enum Command {
    Send {
        msg: Outgoing,
        reply: oneshot::Sender<Result<u64>>,
    },
}

/// A request to close, once made.
pub(crate) type StopRequest = Option<CloseInfo>;

/// A clonable way to talk to one connection's actor. Sends queue in order; a
/// disconnect overtakes queued sends (it travels on its own channel).
#[derive(Clone)]
pub struct ConnectionHandle {
    tx: mpsc::Sender<Command>,
    stop: Arc<watch::Sender<StopRequest>>,
    finished: Finished,
}

impl ConnectionHandle {
    pub(crate) fn new(tx: mpsc::Sender<Command>, stop: Arc<watch::Sender<StopRequest>>, finished: Finished) -> Self {
        Self { tx, stop, finished }
    }

    /// Send a message; resolves with the logged frame's sequence number once written.
    pub async fn send(&self, msg: Outgoing) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Send { msg, reply })
            .await
            .map_err(|_| Error::NotConnected("the connection has ended".into()))?;
        let ended = || Error::NotConnected("the connection ended before the message was sent".into());
        // A send racing the actor's end can land in the channel after the actor
        // drained it (a bounded send takes its permit first and pushes later): the
        // command, and the reply sender in it, then stay there as long as a handle
        // does. So the actor's end answers too; a reply already sent wins.
        tokio::select! {
            biased;
            r = rx => r.map_err(|_| ended())?,
            () = self.finished.clone().wait() => Err(ended()),
        }
    }

    /// Start a clean close (or abandon a connect in progress). Returns at once.
    pub fn disconnect(&self, code: u16, reason: String) -> Result<()> {
        if self.tx.is_closed() {
            return Err(Error::NotConnected("the connection has ended".into()));
        }
        self.stop.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(CloseInfo::new(code, reason));
                true
            } else {
                false
            }
        });
        Ok(())
    }

    /// False once the actor has published its last state (Closed or Failed).
    pub fn is_alive(&self) -> bool {
        !self.tx.is_closed()
    }

    /// A signal that outlives the handle: resolves when the connection's tasks have
    /// really ended (actor and writer gone, socket dropped). Holding it keeps nothing
    /// alive.
    pub fn finished(&self) -> Finished {
        self.finished.clone()
    }
}

/// Resolves once a connection's tasks have all ended (see [`ConnectionHandle::finished`]).
#[derive(Clone)]
pub struct Finished(watch::Receiver<()>);

impl Finished {
    /// The signal and the guard the actor task holds until its very end.
    pub(crate) fn pair() -> (watch::Sender<()>, Finished) {
        let (tx, rx) = watch::channel(());
        (tx, Finished(rx))
    }

    pub fn is_finished(&self) -> bool {
        self.0.has_changed().is_err()
    }

    pub async fn wait(mut self) {
        while self.0.changed().await.is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command can outlive the actor in its channel (a send that raced the actor's
    /// end): the send must still resolve, from the actor's completion signal.
    #[tokio::test]
    async fn a_send_left_in_the_channel_resolves_when_the_actor_ends() {
        let (tx, rx) = mpsc::channel(4);
        let (stop, _stop_rx) = watch::channel(None);
        let (done, finished) = Finished::pair();
        let handle = ConnectionHandle::new(tx, Arc::new(stop), finished);
        // The "actor" never answers and ends; its channel (and the command) stays.
        let keep = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            drop(done);
            rx
        });
        let sent = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            handle.send(Outgoing::Text("late".into())),
        )
        .await
        .expect("the send resolves once the actor has ended");
        assert_eq!(sent.unwrap_err().kind(), crate::error::ErrorKind::NotConnected);
        let rx = keep.await.unwrap();
        assert_eq!(rx.len(), 1, "the command is still in the channel, unanswered");
    }
}
