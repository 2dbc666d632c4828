//! Start-up trace. With `WSBENCH_STARTUP_TRACE=1` the app prints one line per
//! milestone on stderr, without going through WebDriver (whose automation session
//! changes when WebKit loads the page):
//!
//! ```text
//! wsbench startup: main 0.0 ms unix 1764694321.123456
//! wsbench startup: ui-ready 412.7 ms unix 1764694321.535786 page: data 61.0 drawn 80.2 frame 85.0 origin 1764694321297.1 painted 97.3 script 20.4
//! ```
//!
//! The figure is milliseconds since `main` was entered; the Unix time (microseconds)
//! lets a launcher measure from before it spawned the process (`tests/perf/app.py`
//! does). Milestones: `main`, `engine-ready` (engine, echo server, restored tabs and
//! workspace, on their own thread), `built` (GTK is up), `setup` (the window and its
//! webview exist), `engine-joined`, `page-load-started`, `page-load-finished`, and
//! `ui-ready`, sent by the UI once the first tab is drawn and painted (Connect is
//! visible), with the page's own phases on its own clock: `origin` (its time origin,
//! Unix ms), then ms since it: `script` (main.js runs: every module loaded), `data`
//! (the first calls answered), `drawn`, `frame` (the next animation frame), `painted`.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub const ENV: &str = "WSBENCH_STARTUP_TRACE";

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Call first in `main`: the clock starts here, and only when the variable is set.
pub fn begin() {
    let on = std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0");
    START.get_or_init(|| on.then(Instant::now));
    mark("main");
}

/// Print a milestone when tracing is on; nothing otherwise.
pub fn mark(what: &str) {
    mark_with(what, "");
}

/// [`mark`], with more on the line after the times.
fn mark_with(what: &str, extra: &str) {
    let Some(Some(t0)) = START.get() else { return };
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    eprintln!("wsbench startup: {what} {ms:.1} ms unix {unix:.6}{extra}");
}

/// The label the UI sends, kept to a short word (it is printed as is).
pub fn ui_label(what: &str) -> Option<&str> {
    let ok = !what.is_empty() && what.len() <= 32 && what.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    ok.then_some(what)
}

/// The UI reports its own milestone (`ui-ready`) with its phases (`origin`: the
/// page's time origin, Unix ms; the others: ms since it), printed after the
/// milestone as `page: name value ...`. Does nothing unless tracing is on; a label
/// that is not a short lowercase word is ignored.
#[tauri::command]
pub async fn startup_mark(what: String, phases: Option<BTreeMap<String, f64>>) {
    let Some(w) = ui_label(&what) else { return };
    let phases: Vec<String> = phases
        .unwrap_or_default()
        .iter()
        .filter(|(k, v)| ui_label(k).is_some() && v.is_finite())
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    if phases.is_empty() {
        mark(w);
    } else {
        mark_with(w, &format!(" page: {}", phases.join(" ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_lowercase_labels_are_printed() {
        assert_eq!(ui_label("ui-ready"), Some("ui-ready"));
        assert_eq!(ui_label(""), None);
        assert_eq!(ui_label("UI"), None);
        assert_eq!(ui_label("a\nb"), None);
        assert_eq!(ui_label(&"x".repeat(33)), None);
    }
}
