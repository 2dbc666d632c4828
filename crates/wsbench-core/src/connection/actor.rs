//! The connection actor: the only owner of its socket.
//!
//! One task per connection: dial (with reconnects), then the open phase (open.rs)
//! until the connection ends, then the last state. Everything it sees goes to its
//! [`Recorder`]; it never reaches up into whoever started it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, watch};

use super::deflate::DeflateCtx;
use super::dial::{self, Target};
use super::wire::TapContext;
use super::{CloseInfo, Command, ConnState, ConnectionHandle, Finished, Initiator, Outgoing, Recorder, StopRequest};
use crate::config::ConnectConfig;
use crate::error::Error;
use crate::frame::Clock;

pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    recorder: Arc<dyn Recorder>,
    config: ConnectConfig,
    target: Target,
    on_open: Vec<Outgoing>,
) -> ConnectionHandle {
    let (tx, rx) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = watch::channel(None);
    let (done, finished) = Finished::pair();
    let handle = ConnectionHandle::new(tx, Arc::new(stop_tx), finished);
    let actor = Actor {
        recorder: recorder.clone(),
        config,
        target,
        on_open,
        rx,
        stop: stop_rx,
    };
    runtime.spawn(async move {
        // A bug that panics the actor must still end the tab in a last state, or
        // whoever waits for it (the CLI, a shutdown) waits forever.
        if AssertUnwindSafe(actor.run()).catch_unwind().await.is_err() {
            let error = Error::Io("the connection task stopped unexpectedly (a bug in wsbench)".into());
            recorder.state(ConnState::Failed { error: error.info() });
        }
        drop(done);
    });
    handle
}

pub(crate) struct Actor {
    pub(super) recorder: Arc<dyn Recorder>,
    pub(super) config: ConnectConfig,
    target: Target,
    /// Sent, in order, each time the connection opens (saved "send on connect" messages).
    pub(super) on_open: Vec<Outgoing>,
    pub(super) rx: mpsc::Receiver<Command>,
    pub(super) stop: watch::Receiver<StopRequest>,
}

impl Actor {
    pub(super) fn stop_request(&self) -> StopRequest {
        self.stop.borrow().clone()
    }

    /// Run `fut` while refusing sends; `None` if a disconnect was requested first.
    async fn while_not_open<F: std::future::Future>(&mut self, what: &str, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.stop_request().is_some() {
                return None;
            }
            tokio::select! {
                r = &mut fut => return Some(r),
                // Every handle is gone (the tab was removed): nobody can use us.
                r = self.stop.changed() => if r.is_err() { return None },
                Some(Command::Send { reply, .. }) = self.rx.recv() => {
                    let _ = reply.send(Err(Error::NotConnected(format!("still {what}; wait until the connection is open"))));
                }
            }
        }
    }

    /// Publish the last state. The command channel closes first, so whoever reacts
    /// to this state (e.g. by connecting again) finds the tab free.
    fn finish(&mut self, state: ConnState) {
        self.rx.close();
        self.recorder.state(state);
    }

    fn cancelled(&mut self) {
        let close = self.stop_request().unwrap_or_else(|| CloseInfo::new(1000, ""));
        let reason = if close.reason.is_empty() {
            "cancelled before the connection opened".to_owned()
        } else {
            close.reason
        };
        self.finish(ConnState::Closed {
            code: close.code,
            reason,
            clean: false,
            initiated_by: Initiator::Client,
        });
    }

    /// Wait before reconnect attempt `attempt`; false if the user gave up meanwhile.
    async fn backoff(&mut self, attempt: u32, last_error: Option<Error>) -> bool {
        let rc = self.config.reconnect;
        let delay = rc.delay_ms(attempt);
        self.recorder.state(ConnState::Reconnecting {
            attempt,
            max_attempts: rc.max_attempts,
            delay_ms: delay,
            last_error: last_error.map(|e| e.info()),
        });
        self.while_not_open("reconnecting", tokio::time::sleep(Duration::from_millis(delay)))
            .await
            .is_some()
    }

    fn may_retry(&self, attempt: u32) -> bool {
        let rc = self.config.reconnect;
        rc.enabled && (rc.max_attempts == 0 || attempt < rc.max_attempts)
    }

    async fn run(mut self) {
        // Reconnect attempts since the last successful open.
        let mut attempt: u32 = 0;
        loop {
            self.recorder.state(ConnState::Connecting { attempt: attempt + 1 });
            let clock = Clock::start();
            let tap = TapContext::new(self.recorder.clone(), clock, self.config.keepalive.auto_pong);
            let target = self.target.clone();
            let deflate = Arc::new(DeflateCtx::new(
                target.compression,
                self.config.limits.max_message_size,
                self.config.limits.max_frame_size,
            ));
            let dialing = dial::dial(&target, tap.clone(), deflate.clone());
            let Some(result) = self.while_not_open("connecting", dialing).await else {
                return self.cancelled();
            };
            let (ws, handshake) = match result {
                Ok(open) => open,
                Err(e) => {
                    tracing::info!(session = self.recorder.id(), error = %e, "connect failed");
                    if !self.may_retry(attempt) {
                        return self.finish(ConnState::Failed { error: e.info() });
                    }
                    attempt += 1;
                    if self.backoff(attempt, Some(e)).await {
                        continue;
                    }
                    return self.cancelled();
                }
            };
            tap.arm();
            attempt = 0;
            self.recorder.state(ConnState::Open {
                handshake: Box::new(handshake),
            });
            let end = self.run_open(ws, tap, deflate, clock).await;
            let closed = ConnState::Closed {
                code: end.close.code,
                reason: end.close.reason,
                clean: end.clean,
                initiated_by: end.initiated_by,
            };
            if end.by_user || !self.may_retry(attempt) {
                return self.finish(closed);
            }
            self.recorder.state(closed);
            attempt += 1;
            if !self.backoff(attempt, None).await {
                return self.cancelled();
            }
        }
    }
}
