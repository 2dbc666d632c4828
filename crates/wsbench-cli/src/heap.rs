//! The allocator's settings for a stream: memory freed is kept for reuse.
//!
//! A received payload is allocated by the connection and freed by the printer once it
//! is on stdout. With glibc's defaults, every free of a big block (64 KiB and more)
//! may hand the top of the heap back to the kernel, and a payload over 128 KiB gets
//! its own mapping: the next reads then fault in fresh, zeroed pages. On a flood of
//! 64 KiB messages that was 11,000-17,000 page faults a run and 10-15% of the time;
//! with these settings, about 3,500. Memory stays bounded by what the log keeps
//! (the read gate without `--out`): the heap is only not shrunk below its peak.

/// Freed memory beyond this at the top of the heap goes back to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: i32 = 32 << 20;
/// Allocations from this size up get their own mapping (freed at once).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 8 << 20;

/// Apply the settings (glibc only; elsewhere nothing to do). Call it first thing in
/// `main`, before any thread starts. True if the allocator took them.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; it is called before any
        // other thread exists, with parameters glibc documents for it.
        let set = |param, value| unsafe { libc::mallopt(param, value) } == 1;
        set(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) && set(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allocator_takes_the_settings() {
        assert!(super::keep_freed_memory());
    }
}
