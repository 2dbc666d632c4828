//! The main window comes back where it was: its position, size and maximized state
//! are kept in `window.json` in the data directory (so `--data-dir` keeps tests and
//! users apart), written when the window moves or resizes (at most once a second)
//! and when it closes. A saved place that is off every screen now (a monitor was
//! unplugged) or smaller than the window's minimum is ignored.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::{PhysicalPosition, PhysicalSize, Runtime, WebviewWindow, Window, WindowEvent};

pub const FILE_NAME: &str = "window.json";
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A window's place on the desktop, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Geometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub maximized: bool,
}

/// A monitor's area, in physical pixels.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// The saved geometry if it is usable on these monitors: at least the minimum size,
/// no larger than the largest monitor, and with its title bar area (the top 48 px
/// of it, at least 100 px wide) on one of them, so the user can grab it.
pub fn usable(g: Geometry, monitors: &[Area], min: (u32, u32)) -> Option<Geometry> {
    if g.width < min.0 || g.height < min.1 {
        return None;
    }
    let max_w = monitors.iter().map(|m| m.width).max()?;
    let max_h = monitors.iter().map(|m| m.height).max()?;
    if g.width > max_w.saturating_mul(2) || g.height > max_h.saturating_mul(2) {
        return None;
    }
    let grab = monitors.iter().any(|m| {
        let left = g.x.max(m.x) as i64;
        let right = (g.x as i64 + g.width as i64).min(m.x as i64 + m.width as i64);
        let top_ok = (g.y as i64) >= m.y as i64 - 8 && (g.y as i64) < m.y as i64 + m.height as i64 - 48;
        right - left >= 100 && top_ok
    });
    grab.then_some(g)
}

pub fn load(path: &Path) -> Option<Geometry> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(path: &Path, g: &Geometry) -> wsbench_core::Result<()> {
    wsbench_core::fs::write_atomic(path, |w| {
        use std::io::Write;
        let text = serde_json::to_string_pretty(g).unwrap_or_default();
        w.write_all(text.as_bytes())
            .map_err(|e| wsbench_core::Error::io(path, &e))?;
        w.write_all(b"\n").map_err(|e| wsbench_core::Error::io(path, &e))?;
        Ok(())
    })
}

/// Put the main window back where it was (call from `setup`).
pub fn restore<R: Runtime>(window: &WebviewWindow<R>, data_dir: &Path, min: (u32, u32)) {
    let Some(saved) = load(&data_dir.join(FILE_NAME)) else {
        return;
    };
    let monitors: Vec<Area> = window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|m| Area {
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
        })
        .collect();
    let Some(g) = usable(saved, &monitors, min) else {
        tracing::info!(
            ?saved,
            "the saved window place is off screen or too small; using the default"
        );
        return;
    };
    let r = window
        .set_size(PhysicalSize::new(g.width, g.height))
        .and_then(|_| window.set_position(PhysicalPosition::new(g.x, g.y)));
    let r = if g.maximized {
        r.and_then(|_| window.maximize())
    } else {
        r
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, "cannot restore the window's place");
    }
}

/// Remembers the main window's place (the builder's `.on_window_event(...)`).
pub struct Tracker {
    path: PathBuf,
    last_write: Mutex<Option<Instant>>,
}

impl Tracker {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
            last_write: Mutex::new(None),
        }
    }

    pub fn on_event<R: Runtime>(&self, window: &Window<R>, event: &WindowEvent) {
        if window.label() != "main" {
            return;
        }
        let closing = matches!(event, WindowEvent::CloseRequested { .. });
        if !closing && !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
            return;
        }
        let mut last = crate::lock(&self.last_write);
        if !closing && last.is_some_and(|t| t.elapsed() < MIN_INTERVAL) {
            return;
        }
        let Some(g) = geometry(window, &self.path) else {
            return;
        };
        // A minimized window reports nonsense; keep the last good place.
        if window.is_minimized().unwrap_or(false) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = save(&self.path, &g) {
            tracing::warn!(error = %e, "cannot save the window's place");
        }
    }
}

fn geometry<R: Runtime>(window: &Window<R>, path: &Path) -> Option<Geometry> {
    let maximized = window.is_maximized().ok()?;
    let pos = window.outer_position().ok()?;
    let size = window.inner_size().ok()?;
    if maximized {
        // Keep the place it had before it was maximized.
        let mut g = load(path).unwrap_or(Geometry {
            x: pos.x,
            y: pos.y,
            width: size.width,
            height: size.height,
            maximized: true,
        });
        g.maximized = true;
        return Some(g);
    }
    Some(Geometry {
        x: pos.x,
        y: pos.y,
        width: size.width,
        height: size.height,
        maximized: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Area = Area {
        x: 0,
        y: 0,
        width: 1920,
        height: 1080,
    };
    const MIN: (u32, u32) = (1024, 700);

    fn g(x: i32, y: i32, width: u32, height: u32) -> Geometry {
        Geometry {
            x,
            y,
            width,
            height,
            maximized: false,
        }
    }

    #[test]
    fn a_place_on_screen_comes_back() {
        assert_eq!(
            usable(g(100, 50, 1280, 800), &[SCREEN], MIN),
            Some(g(100, 50, 1280, 800))
        );
    }

    #[test]
    fn a_place_on_an_unplugged_monitor_is_dropped() {
        // It was on a second monitor to the right; only the laptop's screen is left.
        assert_eq!(usable(g(2500, 100, 1280, 800), &[SCREEN], MIN), None);
        let right = Area { x: 1920, ..SCREEN };
        assert!(usable(g(2500, 100, 1280, 800), &[SCREEN, right], MIN).is_some());
    }

    #[test]
    fn a_title_bar_above_or_below_the_screen_is_dropped() {
        assert_eq!(usable(g(100, -400, 1280, 800), &[SCREEN], MIN), None);
        assert_eq!(usable(g(100, 1060, 1280, 800), &[SCREEN], MIN), None);
    }

    #[test]
    fn too_small_or_absurd_sizes_are_dropped() {
        assert_eq!(usable(g(0, 0, 300, 200), &[SCREEN], MIN), None);
        assert_eq!(usable(g(0, 0, 40_000, 800), &[SCREEN], MIN), None);
        assert_eq!(usable(g(0, 0, 1280, 800), &[], MIN), None);
    }

    #[test]
    fn the_file_round_trips_and_junk_is_ignored() {
        let dir = std::env::temp_dir().join(format!("wsbench-window-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        let want = Geometry {
            maximized: true,
            ..g(-20, 30, 1500, 900)
        };
        save(&path, &want).unwrap();
        assert_eq!(load(&path), Some(want));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n") && !text.contains('\r'), "{text:?}");
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(load(&path), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
