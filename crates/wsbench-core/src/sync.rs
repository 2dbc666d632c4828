//! The one mutex helper of the engine. A leaf: it imports nothing from the crate.

use std::sync::{Mutex, MutexGuard};

/// Lock `m`, carrying on after a panic in another holder: every mutex in the engine
/// guards plain data updated by short synchronous methods, so a poisoned lock means
/// a lost update at worst, never a broken invariant worth taking the tab down for.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
