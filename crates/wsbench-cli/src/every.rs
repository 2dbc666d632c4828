//! `connect --send-every MS`: the --send messages as periodic sends, with
//! `{{$counter}}` (and the other built-ins) resolved afresh each round.

use std::sync::Arc;
use std::time::Duration;

use wsbench_core::collections::vars::Vars;
use wsbench_core::periodic::PeriodicSend;
use wsbench_core::{Error, SavedMessage, SessionManager};

use crate::args::ConnectArgs;

/// One periodic send per --send message (none without --send-every).
pub fn start(args: &ConnectArgs, manager: &Arc<SessionManager>, id: u64) -> Result<Vec<PeriodicSend>, Error> {
    let Some(ms) = args.send_every else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, text) in args.send.iter().enumerate() {
        let msg = SavedMessage::text(format!("--send {}", i + 1), text.clone());
        let every = Duration::from_millis(ms);
        match PeriodicSend::start(manager.clone(), id, msg, Vars::default(), every, None) {
            Ok(p) => out.push(p),
            Err(e) => {
                out.iter().for_each(PeriodicSend::stop);
                return Err(e);
            }
        }
    }
    Ok(out)
}
