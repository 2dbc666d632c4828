//! Search over frames: the query, its compiled filter and the result.

use serde::{Deserialize, Serialize};

use super::FrameLog;
use crate::error::{Error, Result};
use crate::frame::{Direction, Frame, Opcode};

/// A search over the log. Empty `text` matches every frame passing the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchQuery {
    pub text: String,
    /// Treat `text` as a regular expression (Rust `regex` syntax).
    pub regex: bool,
    pub case_sensitive: bool,
    /// Only these directions; empty means both.
    pub directions: Vec<Direction>,
    /// Only these opcodes; empty means all.
    pub opcodes: Vec<Opcode>,
    /// Start at this sequence number (inclusive); 0 means the oldest held frame.
    pub from_seq: u64,
    /// Return at most this many sequence numbers; 0 means 10 000. All are counted.
    pub limit: usize,
    /// Socket.IO mode: only frames carrying one of these events; empty means all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Matching sequence numbers, oldest first, at most `limit`.
    pub seqs: Vec<u64>,
    /// How many frames matched in all.
    pub total: u64,
    pub scanned: u64,
}

/// A compiled [`SearchQuery`]; usable on any frame (live or imported).
pub struct FrameFilter {
    re: Option<regex::bytes::Regex>,
    directions: Vec<Direction>,
    opcodes: Vec<Opcode>,
    events: Vec<String>,
}

impl FrameFilter {
    pub fn new(q: &SearchQuery) -> Result<Self> {
        let re = if q.text.is_empty() {
            None
        } else {
            let pattern = if q.regex {
                q.text.clone()
            } else {
                regex::escape(&q.text)
            };
            let re = regex::bytes::RegexBuilder::new(&pattern)
                .case_insensitive(!q.case_sensitive)
                .size_limit(16 << 20)
                .build()
                .map_err(|e| Error::InvalidSearch {
                    pattern: q.text.clone(),
                    reason: e.to_string(),
                })?;
            Some(re)
        };
        Ok(Self {
            re,
            directions: q.directions.clone(),
            opcodes: q.opcodes.clone(),
            events: q.events.clone(),
        })
    }

    /// [`FrameFilter::matches`], plus the Socket.IO event names, read from `log`'s
    /// decoded views (a frame with none never matches an event filter).
    pub fn matches_in(&self, log: &FrameLog, f: &Frame) -> bool {
        let event_ok = self.events.is_empty()
            || log
                .decoded(f.seq)
                .is_some_and(|n| n.event.as_ref().is_some_and(|e| self.events.contains(e)));
        event_ok && self.matches(f)
    }

    pub fn matches(&self, f: &Frame) -> bool {
        (self.directions.is_empty() || self.directions.contains(&f.direction))
            && (self.opcodes.is_empty() || self.opcodes.contains(&f.opcode))
            && match &self.re {
                None => true,
                Some(re) if f.opcode == Opcode::Close => re.is_match(f.payload.get(2..).unwrap_or(&[])),
                Some(re) => re.is_match(&f.payload),
            }
    }
}
