//! Session history: every connection that opened is written, when it ends, to the
//! history folder as one NDJSON log (the lossless export format: its config, its
//! handshake and every frame), and listed in `index.json`. The folder is kept under
//! a total size by removing the oldest sessions first. A session reopens read-only
//! like any imported log.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::connection::ConnState;
use crate::error::{Error, Result};
use crate::events::SessionId;
use crate::export::{self, ExportFormat, ExportOptions, FrameSelection, LogSource, Redaction};
use crate::frame_log::SearchQuery;
use crate::session::Session;
use crate::sync::lock;

pub const HISTORY_INDEX_VERSION: u32 = 1;

/// One recorded session, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The file name in the history folder.
    pub id: String,
    /// The tab's name when the session ended.
    pub name: String,
    pub url: String,
    pub started_at_us: i64,
    pub ended_at_us: i64,
    pub frames: u64,
    /// Size of the file.
    pub bytes: u64,
    /// How it ended: "closed 1000 (clean)", "failed: …".
    pub outcome: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Index {
    version: u32,
    entries: Vec<HistoryEntry>,
}

pub struct History {
    dir: PathBuf,
    max_bytes: AtomicU64,
    /// Sessions being written in the background, and a signal when that falls to 0.
    pending: Arc<(Mutex<usize>, Condvar)>,
    /// Serializes index updates.
    index: Mutex<()>,
    on_written: Mutex<Option<WrittenHook>>,
}

/// Called on the writing thread once a session is in the history folder.
pub type WrittenHook = Arc<dyn Fn(SessionId, &HistoryEntry) + Send + Sync>;

/// The smallest size bound the history accepts: 1 MiB.
pub const MIN_HISTORY_BYTES: u64 = 1 << 20;

impl History {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self {
            dir,
            max_bytes: AtomicU64::new(max_bytes),
            pending: Arc::default(),
            index: Mutex::new(()),
            on_written: Mutex::default(),
        }
    }

    /// Tell someone (the app's window) each time a session has been written.
    pub fn set_on_written(&self, hook: WrittenHook) {
        *lock(&self.on_written) = Some(hook);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Change the size bound and remove the oldest sessions beyond it at once.
    pub fn set_max_bytes(&self, max: u64) -> Result<()> {
        self.max_bytes.store(max, Ordering::Relaxed);
        self.prune()
    }

    /// A size bound a user asked for, raised to at least [`MIN_HISTORY_BYTES`].
    pub fn user_bound(max: u64) -> u64 {
        max.max(MIN_HISTORY_BYTES)
    }

    /// Sessions still being written.
    pub fn pending(&self) -> usize {
        *lock(&self.pending.0)
    }

    /// Wait until every session handed to [`record_in_background`](Self::record_in_background)
    /// is written, at most `within`. False when time ran out (the app waits on exit).
    pub fn wait_idle(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let (count, idle) = &*self.pending;
        let mut n = lock(count);
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            n = idle.wait_timeout(n, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        true
    }

    fn pending_add(pending: &(Mutex<usize>, Condvar), delta: isize) {
        let mut n = lock(&pending.0);
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            pending.1.notify_all();
        }
    }

    /// [`History::record`] on a thread of its own: a long session takes a moment
    /// to write and the caller is a connection's task. Failures are logged.
    pub fn record_in_background(self: &Arc<Self>, session: Arc<Session>, from_seq: u64, end: &ConnState) {
        Self::pending_add(&self.pending, 1);
        let me = self.clone();
        let end = end.clone();
        let spawned = std::thread::Builder::new()
            .name("wsbench-history".into())
            .spawn(move || {
                match me.record(&session, from_seq, &end) {
                    Ok(entry) => {
                        let hook = lock(&me.on_written).clone();
                        if let Some(hook) = hook {
                            hook(session.id, &entry);
                        }
                    }
                    Err(e) => tracing::warn!(session = session.id, error = %e, "cannot write the session to history"),
                }
                Self::pending_add(&me.pending, -1);
            });
        if spawned.is_err() {
            Self::pending_add(&self.pending, -1);
        }
    }

    /// Write the frames a connection logged from `from_seq` on, with the tab's
    /// config and handshake, then trim the folder to its size bound.
    pub fn record(&self, session: &Session, from_seq: u64, end: &ConnState) -> Result<HistoryEntry> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, &e))?;
        let source = LogSource::from_session(session);
        let first = source.log.page(from_seq, 1).into_iter().next();
        let now = crate::frame::now_us();
        let started = first.as_ref().map_or(now, |f| f.at_us - f.offset_us as i64);
        // Unique within this process even for sessions that end together: the
        // tab's id and a counter go in the name.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = export::default_file_name(&source.name, ExportFormat::Ndjson, started);
        let stem = base.trim_end_matches(".ndjson");
        let name = format!("{stem}-{}-{n}.ndjson", session.id);
        let path = self.dir.join(&name);
        let options = ExportOptions {
            format: ExportFormat::Ndjson,
            frames: FrameSelection::Filter {
                query: SearchQuery {
                    from_seq,
                    ..SearchQuery::default()
                },
            },
            // The user's own data folder, like the app state: kept lossless.
            redaction: Redaction::none(),
            exported_at_us: Some(now),
        };
        let summary = export::export_to_path(&source, &path, &options, |_, _| true)?;
        let bytes = fs::metadata(&path).map_or(0, |m| m.len());
        let entry = HistoryEntry {
            id: name,
            name: source.name.clone(),
            url: source
                .handshake
                .as_ref()
                .map_or_else(|| source.config.url.clone(), |h| h.url.clone()),
            started_at_us: started,
            ended_at_us: now,
            frames: summary.frames,
            bytes,
            outcome: outcome(end),
        };
        {
            let _g = lock(&self.index);
            let mut index = self.read_index();
            // list() may have indexed the file from its first line already.
            index.entries.retain(|e| e.id != entry.id);
            index.entries.push(entry.clone());
            self.write_index(&mut index)?;
        }
        self.prune()?;
        Ok(entry)
    }

    /// Every recorded session, newest first. Files missing from the index (or an
    /// index that is gone) are listed from their first line.
    pub fn list(&self) -> Result<Vec<HistoryEntry>> {
        let _g = lock(&self.index);
        let mut index = self.read_index();
        let on_disk = self.files()?;
        let before = index.entries.len();
        index.entries.retain(|e| on_disk.iter().any(|(n, _)| *n == e.id));
        let mut changed = index.entries.len() != before;
        for (name, len) in &on_disk {
            if index.entries.iter().any(|e| e.id == *name) {
                continue;
            }
            if let Some(e) = entry_from_file(&self.dir.join(name), name, *len) {
                index.entries.push(e);
                changed = true;
            }
        }
        if changed {
            let _ = self.write_index(&mut index);
        }
        let mut list = index.entries;
        list.sort_by_key(|e| std::cmp::Reverse(e.started_at_us));
        Ok(list)
    }

    /// The file of a session, checked to be a plain name inside the folder.
    pub fn path_of(&self, id: &str) -> Result<PathBuf> {
        let mut parts = Path::new(id).components();
        let single = matches!(parts.next(), Some(std::path::Component::Normal(_))) && parts.next().is_none();
        let plain = single && !id.contains(['/', '\\', ':']) && id.ends_with(".ndjson");
        let path = self.dir.join(id);
        if !plain || !path.is_file() {
            return Err(Error::File {
                path: path.display().to_string(),
                reason: "no such session in history".into(),
            });
        }
        Ok(path)
    }

    /// Remove the oldest sessions until the folder fits its size bound.
    pub fn prune(&self) -> Result<()> {
        let _g = lock(&self.index);
        let max = self.max_bytes.load(Ordering::Relaxed);
        let mut index = self.read_index();
        index.entries.sort_by_key(|e| e.started_at_us);
        let mut total: u64 = index.entries.iter().map(|e| e.bytes).sum();
        let mut removed = false;
        while total > max && !index.entries.is_empty() {
            let e = index.entries.remove(0);
            total -= e.bytes;
            match fs::remove_file(self.dir.join(&e.id)) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(Error::io(self.dir.join(&e.id), &err)),
            }
            removed = true;
        }
        if removed {
            self.write_index(&mut index)?;
        }
        Ok(())
    }

    fn files(&self) -> Result<Vec<(String, u64)>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, &e)),
        };
        Ok(rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let ok = name.ends_with(".ndjson") && !crate::fs::is_temp_file(Path::new(&name));
                ok.then(|| (name, e.metadata().map_or(0, |m| m.len())))
            })
            .collect())
    }

    fn read_index(&self) -> Index {
        fs::read(self.dir.join("index.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn write_index(&self, index: &mut Index) -> Result<()> {
        index.version = HISTORY_INDEX_VERSION;
        let mut bytes = serde_json::to_vec_pretty(index).map_err(|e| Error::Io(e.to_string()))?;
        bytes.push(b'\n');
        crate::fs::write_bytes_atomic(&self.dir.join("index.json"), &bytes)
    }
}

/// An entry rebuilt from a log file's first line (its session metadata).
fn entry_from_file(path: &Path, name: &str, bytes: u64) -> Option<HistoryEntry> {
    use std::io::BufRead;
    let f = fs::File::open(path).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(f).read_line(&mut line).ok()?;
    let meta: export::SessionMeta = serde_json::from_str(&line).ok()?;
    Some(HistoryEntry {
        id: name.to_owned(),
        name: meta.name,
        url: meta.url,
        started_at_us: meta.started_at_us.unwrap_or(meta.exported_at_us),
        ended_at_us: meta.exported_at_us,
        frames: meta.selection.count,
        bytes,
        outcome: "ended".into(),
    })
}

fn outcome(state: &ConnState) -> String {
    match state {
        ConnState::Closed {
            code, reason, clean, ..
        } => {
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" “{reason}”")
            };
            format!("closed {code}{reason}{}", if *clean { "" } else { " (not clean)" })
        }
        ConnState::Failed { error } => format!("failed: {}", error.message),
        other => other.name().to_owned(),
    }
}
