//! The printer's output: printed text in one reused buffer, big payloads that print as
//! they are kept by reference (no copy), and all of it written with one `writev`.

use std::io::{self, IoSlice, Write};

use bytes::Bytes;

/// A payload at least this big prints from the log's own bytes, not through a copy.
pub const AS_IS_MIN: usize = 16 * 1024;

pub struct Output {
    /// Printed text (lines, base64, JSON), reused from one flush to the next.
    pub buf: Vec<u8>,
    /// Payloads printed as they are: each goes after `buf[..at]` (and before what follows).
    parts: Vec<(usize, Bytes)>,
    parts_len: usize,
    file: Box<dyn Write + Send>,
}

impl Output {
    pub fn new(file: Box<dyn Write + Send>, capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            parts: Vec::new(),
            parts_len: 0,
            file,
        }
    }

    /// Print `payload` as it is, after what `buf` holds now.
    pub fn push_as_is(&mut self, payload: Bytes) {
        self.parts_len += payload.len();
        self.parts.push((self.buf.len(), payload));
    }

    /// Bytes printed and not written yet.
    pub fn len(&self) -> usize {
        self.buf.len() + self.parts_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write everything printed, in order, with as few system calls as the OS takes;
    /// the buffer is kept for what comes next.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let mut slices = Vec::with_capacity(2 * self.parts.len() + 1);
        let mut from = 0;
        for (at, payload) in &self.parts {
            slices.push(IoSlice::new(&self.buf[from..*at]));
            slices.push(IoSlice::new(payload));
            from = *at;
        }
        slices.push(IoSlice::new(&self.buf[from..]));
        let written = write_all_vectored(&mut *self.file, &mut slices).and_then(|()| self.file.flush());
        self.buf.clear();
        self.parts.clear();
        self.parts_len = 0;
        written
    }
}

/// `Write::write_all_vectored` (unstable in std): every byte of `slices`, in order,
/// through short writes and interruptions.
fn write_all_vectored(w: &mut dyn Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Stdout's file itself on Unix (a duplicate of fd 1), so big writes reach the kernel
/// as they are, not through std's line writer, which scans every byte for a newline
/// and writes one buffer of a `writev` at a time; the standard handle elsewhere, or if
/// fd 1 cannot be duplicated. [`Output`] does the buffering.
pub fn stdout_file() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        if let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(io::stdout())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Takes at most `max` bytes per call, sometimes refuses with `Interrupted`.
    struct Stingy {
        got: Arc<Mutex<Vec<u8>>>,
        max: usize,
        calls: usize,
    }

    impl Write for Stingy {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = b.len().min(self.max);
            self.got.lock().unwrap().extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_and_payloads_come_out_whole_and_in_order_through_short_writes() {
        let got = Arc::new(Mutex::new(Vec::new()));
        for max in [1, 7, 4096, usize::MAX] {
            got.lock().unwrap().clear();
            let stingy = Stingy {
                got: got.clone(),
                max,
                calls: 0,
            };
            let mut out = Output::new(Box::new(stingy), 16);
            let big: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
            out.buf.extend_from_slice(b"first\n");
            out.push_as_is(Bytes::from(big.clone()));
            out.push_as_is(Bytes::from_static(b"")); // nothing to write: skipped
            out.push_as_is(Bytes::from_static(b"second"));
            out.buf.extend_from_slice(b"\nthird\n");
            assert_eq!(out.len(), 6 + 50_000 + 6 + 7);
            out.flush().unwrap();
            assert!(out.is_empty(), "everything written is forgotten");
            out.push_as_is(Bytes::from_static(b"again"));
            out.flush().unwrap();
            let mut want = b"first\n".to_vec();
            want.extend_from_slice(&big);
            want.extend_from_slice(b"second\nthird\nagain");
            assert_eq!(*got.lock().unwrap(), want, "max {max}");
        }
    }

    #[test]
    fn an_output_that_takes_nothing_is_an_error_not_a_hang() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = Output::new(Box::new(Full), 16);
        out.buf.extend_from_slice(b"x\n");
        assert_eq!(out.flush().unwrap_err().kind(), io::ErrorKind::WriteZero);
        assert!(out.flush().is_ok(), "what could not be written is not retried forever");
    }
}
