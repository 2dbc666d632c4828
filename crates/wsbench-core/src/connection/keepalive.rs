//! Half-open peers: a server that vanished without a FIN (a cable pulled, a laptop
//! asleep, a NAT that forgot us) or one that stopped reading and answering looks
//! exactly like a quiet one, and TCP may take many minutes to notice. With
//! `keepalive.dead_after_ms` set, the open connection is declared dead when nothing
//! at all (data, control frames, pongs to our keepalive pings) has arrived for that
//! long: "no answer from the server for M s".
//!
//! Off by default: a WebSocket server may rightly stay silent for hours, and
//! wsbench's log must show only the frames the user asked for, so it neither pings
//! nor times out on its own. Turn on both `ping_interval_ms` (every N s) and
//! `dead_after_ms` (M > N, e.g. 10 s and 30 s) to catch a dead peer within M s.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::Keepalive;

/// When the peer was last heard from, and how long silence may last.
pub(super) struct Liveness {
    dead_after: Option<Duration>,
    last_heard: Instant,
}

impl Liveness {
    pub(super) fn new(cfg: &Keepalive) -> Self {
        Self {
            dead_after: (cfg.dead_after_ms > 0).then(|| Duration::from_millis(cfg.dead_after_ms)),
            last_heard: Instant::now(),
        }
    }

    /// Something arrived (any frame, or the end of the stream).
    pub(super) fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// When the connection is dead if nothing arrives before; `None` when off.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.dead_after.map(|d| self.last_heard + d)
    }

    /// Why the connection is declared dead, in a user's words.
    pub(super) fn why(&self) -> String {
        let ms = self.dead_after.map_or(0, |d| d.as_millis());
        let secs = if ms % 1000 == 0 {
            format!("{} s", ms / 1000)
        } else {
            format!("{:.1} s", ms as f64 / 1000.0)
        };
        format!("no answer from the server for {secs} (keepalive timeout)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_worded_in_seconds() {
        assert!(Liveness::new(&Keepalive::default()).deadline().is_none());
        let on = Keepalive {
            dead_after_ms: 30_000,
            ..Keepalive::default()
        };
        let l = Liveness::new(&on);
        assert!(l.deadline().is_some());
        assert_eq!(l.why(), "no answer from the server for 30 s (keepalive timeout)");
        let half = Keepalive {
            dead_after_ms: 1_500,
            ..Keepalive::default()
        };
        assert_eq!(
            Liveness::new(&half).why(),
            "no answer from the server for 1.5 s (keepalive timeout)"
        );
    }
}
