//! The close handshake of one open connection as a small state machine: who started
//! it, the close frames each side sent, a failure we are closing for, and how long
//! we still wait for the peer. It does no I/O; the actor acts on what it returns.

use std::time::Duration;

use tokio::time::Instant;

use super::{CloseInfo, Initiator};

/// How long we wait for the server's close reply after sending ours.
pub(super) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// After failing a connection (1002/1007/1009) we only linger briefly; also the
/// longest the writer gets to flush what is queued once the connection is over.
pub(super) const FAIL_LINGER: Duration = Duration::from_secs(1);

/// How an open connection ended.
pub(super) struct Ending {
    pub close: CloseInfo,
    pub clean: bool,
    pub initiated_by: Initiator,
    /// The user asked to close (disconnect or a Close frame): never reconnect then.
    /// A close the engine started itself (1002/1007/1009) may reconnect.
    pub by_user: bool,
}

/// Our close frame, to queue for the writer; `announce`: publish Closing{Client}.
pub(super) struct Outbound {
    pub close: CloseInfo,
    pub announce: bool,
}

#[derive(Default)]
pub(super) struct CloseHandshake {
    initiated_by: Option<Initiator>,
    ours: Option<CloseInfo>,
    theirs: Option<CloseInfo>,
    /// We are failing the connection with this close (it ends unclean).
    failure: Option<CloseInfo>,
    /// Why the transport went away, if it did.
    lost: Option<String>,
    /// Stop waiting for the peer at this instant.
    deadline: Option<Instant>,
    timed_out: bool,
    by_user: bool,
}

impl CloseHandshake {
    pub fn is_closing(&self) -> bool {
        self.initiated_by.is_some()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Our side of the close, unless ours went already or tungstenite has answered
    /// the peer's close for us. Returns the frame and how long to wait for a reply.
    fn begin(&mut self, close: CloseInfo, linger: Duration) -> Option<(Outbound, Instant)> {
        if self.ours.is_some() || self.initiated_by == Some(Initiator::Server) {
            return None;
        }
        self.ours = Some(close.clone());
        let announce = self.initiated_by.is_none();
        if announce {
            self.initiated_by = Some(Initiator::Client);
        }
        Some((Outbound { close, announce }, Instant::now() + linger))
    }

    /// The user asked to close (a disconnect). A later request never extends the wait.
    pub fn stop(&mut self, close: CloseInfo) -> Option<Outbound> {
        self.by_user = true;
        let (out, until) = self.begin(close, CLOSE_TIMEOUT)?;
        self.deadline = Some(self.deadline.map_or(until, |old| old.min(until)));
        Some(out)
    }

    /// The user sent a Close frame as a message (the caller queues it with its reply).
    /// Only while not closing yet.
    pub fn user_close_frame(&mut self, close: CloseInfo) {
        self.by_user = true;
        self.ours = Some(close);
        self.initiated_by = Some(Initiator::Client);
        self.deadline = Some(Instant::now() + CLOSE_TIMEOUT);
    }

    /// We must fail the connection (RFC 6455 section 7.1.7): close with `close` and
    /// linger only briefly.
    pub fn fail(&mut self, close: CloseInfo) -> Option<Outbound> {
        self.failure = Some(close.clone());
        match self.begin(close, FAIL_LINGER) {
            Some((out, until)) => {
                self.deadline = Some(until);
                Some(out)
            }
            None => {
                self.deadline = Some(Instant::now() + FAIL_LINGER);
                None
            }
        }
    }

    /// The peer's close frame arrived. True when the peer started the close (then
    /// tungstenite replies on its own and we publish Closing{Server}).
    pub fn peer_closed(&mut self, close: CloseInfo) -> bool {
        self.theirs = Some(close);
        if self.initiated_by.is_some() {
            return false;
        }
        self.initiated_by = Some(Initiator::Server);
        self.deadline = Some(Instant::now() + CLOSE_TIMEOUT);
        true
    }

    /// After a read error: nothing more to wait for (we are failing the connection,
    /// or close frames already went both ways).
    pub fn over_on_error(&self) -> bool {
        self.failure.is_some() || self.ours.is_some() && self.theirs.is_some()
    }

    pub fn lost(&mut self, why: String) {
        self.lost = Some(why);
    }

    pub fn time_out(&mut self) {
        self.timed_out = true;
    }

    pub fn ending(self) -> Ending {
        let by_user = self.by_user;
        if let Some(close) = self.failure {
            return Ending {
                close,
                clean: false,
                initiated_by: Initiator::Client,
                by_user,
            };
        }
        let initiated_by = self.initiated_by.unwrap_or(Initiator::Server);
        // Clean: close frames went both ways. The peer's frame arrived; ours either
        // went first or was tungstenite's reply. Whether the peer then dropped TCP in
        // time does not change what the two sides agreed.
        let exchanged = self.theirs.is_some() && (self.ours.is_some() || initiated_by == Initiator::Server);
        let first = match initiated_by {
            Initiator::Client => self.ours,
            Initiator::Server => self.theirs,
        };
        let (close, clean) = match first {
            Some(close) if exchanged => (close, true),
            Some(CloseInfo { code, reason }) if self.timed_out => {
                let reason = if reason.is_empty() {
                    "no close reply from the peer".into()
                } else {
                    format!("{reason} (no close reply from the peer)")
                };
                (CloseInfo { code, reason }, false)
            }
            _ => {
                let why = self
                    .lost
                    .unwrap_or_else(|| "connection closed without a close frame".into());
                (CloseInfo::new(1006, why), false)
            }
        };
        Ending {
            close,
            clean,
            initiated_by,
            by_user,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_close_answered_is_clean_and_a_second_stop_sends_nothing() {
        let mut c = CloseHandshake::default();
        let out = c.stop(CloseInfo::new(1000, "bye")).unwrap();
        assert!(out.announce && c.is_closing() && c.deadline().is_some());
        assert!(c.stop(CloseInfo::new(1001, "again")).is_none());
        assert!(!c.peer_closed(CloseInfo::new(1000, "")));
        let e = c.ending();
        assert_eq!(
            (e.close, e.clean, e.initiated_by, e.by_user),
            (CloseInfo::new(1000, "bye"), true, Initiator::Client, true)
        );
    }

    #[test]
    fn peer_close_then_stop_sends_nothing_and_ends_clean() {
        let mut c = CloseHandshake::default();
        assert!(c.peer_closed(CloseInfo::new(4000, "srv")));
        assert!(c.stop(CloseInfo::new(1000, "")).is_none());
        let e = c.ending();
        assert_eq!((e.close.code, e.clean, e.initiated_by), (4000, true, Initiator::Server));
    }

    #[test]
    fn failure_is_unclean_and_no_reply_says_so() {
        let mut c = CloseHandshake::default();
        assert!(c.fail(CloseInfo::new(1002, "protocol error")).unwrap().announce);
        assert!(c.over_on_error());
        let e = c.ending();
        assert_eq!((e.close.code, e.clean, e.by_user), (1002, false, false));

        let mut c = CloseHandshake::default();
        c.stop(CloseInfo::new(1000, "")).unwrap();
        c.time_out();
        let e = c.ending();
        assert_eq!(
            (e.close.code, e.close.reason.as_str(), e.clean),
            (1000, "no close reply from the peer", false)
        );

        let mut c = CloseHandshake::default();
        c.lost("connection lost: reset".into());
        let e = c.ending();
        assert_eq!(
            (e.close.code, e.close.reason.as_str()),
            (1006, "connection lost: reset")
        );
    }
}
