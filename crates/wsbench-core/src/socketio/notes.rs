//! The decoded view of logged frames, by sequence number: the side table beside a
//! session's frame log in Socket.IO mode.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::decoded::Decoded;
use super::engine::OpenInfo;
use crate::sync::lock;

/// Notes kept at most; the oldest go first (the frame log evicts too).
const MAX_NOTES: usize = 1_000_000;

#[derive(Default)]
pub struct Notes {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_seq: BTreeMap<u64, Arc<Decoded>>,
    open: Option<OpenInfo>,
}

impl Notes {
    pub fn insert(&self, seq: u64, note: Decoded) {
        let mut g = lock(&self.inner);
        if let Some(o) = &note.open {
            g.open = Some(o.clone());
        }
        g.by_seq.insert(seq, Arc::new(note));
        while g.by_seq.len() > MAX_NOTES {
            g.by_seq.pop_first();
        }
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Decoded>> {
        lock(&self.inner).by_seq.get(&seq).cloned()
    }

    /// The notes of frames `from..=to`.
    pub fn range(&self, from: u64, to: u64) -> Vec<(u64, Arc<Decoded>)> {
        if from > to {
            return Vec::new();
        }
        lock(&self.inner)
            .by_seq
            .range(from..=to)
            .map(|(s, n)| (*s, n.clone()))
            .collect()
    }

    /// The last Engine.IO open packet seen.
    pub fn open(&self) -> Option<OpenInfo> {
        lock(&self.inner).open.clone()
    }

    pub fn clear(&self) {
        lock(&self.inner).by_seq.clear();
    }
}
