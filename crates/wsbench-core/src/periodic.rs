//! Periodic sends: a saved message sent every N ms, N times or until stopped (a
//! heartbeat, a ticker). Each send resolves `{{variables}}` afresh, with
//! `{{$counter}}` the iteration (1, 2, 3, …). Stops by itself when a send fails
//! (the connection closed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::collections::vars::Vars;
use crate::collections::SavedMessage;
use crate::error::{Error, Result};
use crate::events::SessionId;
use crate::session::SessionManager;

/// The shortest period accepted (a guard against flooding a server by a typo).
pub const MIN_EVERY_MS: u64 = 10;

/// How a periodic send ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodicEnd {
    pub sent: u64,
    /// Why it stopped early (a send failed); `None` when it ran out or was stopped.
    pub error: Option<String>,
}

/// A running periodic send. Dropping the handle does not stop it; [`stop`](Self::stop) does.
#[derive(Clone)]
pub struct PeriodicSend {
    stop: Arc<watch::Sender<bool>>,
    sent: Arc<AtomicU64>,
    end: watch::Receiver<Option<PeriodicEnd>>,
}

impl PeriodicSend {
    /// Send `message` on session `id` every `every`, `times` times (`None`: until
    /// stopped). The first send is immediate. The message is checked (variables,
    /// format) before this returns: a bad one is an `Err` and nothing is sent.
    pub fn start(
        manager: Arc<SessionManager>,
        id: SessionId,
        message: SavedMessage,
        vars: Vars,
        every: Duration,
        times: Option<u64>,
    ) -> Result<PeriodicSend> {
        if every < Duration::from_millis(MIN_EVERY_MS) {
            return Err(Error::InvalidTimeout {
                setting: "the period".into(),
                value: format!("{} ms", every.as_millis()),
                reason: format!("a periodic send can repeat at most every {MIN_EVERY_MS} ms"),
            });
        }
        if every > Duration::from_secs(24 * 3600) {
            return Err(Error::InvalidTimeout {
                setting: "the period".into(),
                value: format!("{} ms", every.as_millis()),
                reason: "a periodic send repeats at least once a day".into(),
            });
        }
        let place = format!("message {:?}", message.name);
        message
            .format
            .to_outgoing(&vars.with_counter(1).resolve(&message.body, &place)?)?;
        manager.get(id)?;
        let (stop, mut stopped) = watch::channel(false);
        let (end_tx, end) = watch::channel(None);
        let sent = Arc::new(AtomicU64::new(0));
        let count = sent.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut error = None;
            let mut n = 0u64;
            while times.is_none_or(|t| n < t) {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.wait_for(|s| *s) => break,
                }
                if *stopped.borrow() {
                    break;
                }
                n += 1;
                let sent = match vars.with_counter(n).resolve(&message.body, &place) {
                    Ok(body) => match message.format.to_outgoing(&body) {
                        Ok(msg) => manager.send(id, msg).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(_) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let sent = count.load(Ordering::Relaxed);
            end_tx.send_replace(Some(PeriodicEnd { sent, error }));
        });
        Ok(PeriodicSend {
            stop: Arc::new(stop),
            sent,
            end,
        })
    }

    /// Stop after the send in progress (if any). Returns at once.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// How many sends completed so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn is_running(&self) -> bool {
        self.end.borrow().is_none()
    }

    /// Wait for the end (ran out, stopped, or a send failed).
    pub async fn wait(&self) -> PeriodicEnd {
        let mut end = self.end.clone();
        let r = end.wait_for(Option::is_some).await;
        match r {
            Ok(v) => v.clone().unwrap_or(PeriodicEnd {
                sent: self.sent(),
                error: None,
            }),
            Err(_) => PeriodicEnd {
                sent: self.sent(),
                error: None,
            },
        }
    }
}
