//! Writing files so that a crash, a full disk or a cancel never leaves a half-written
//! or empty file behind: write a temp file next to the target, fsync it, rename it
//! over the target, fsync the folder.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Temp files carry this marker so loaders can skip ones a crash left behind.
pub const TEMP_MARKER: &str = ".wsbench-tmp-";

/// True for a temp file left by an interrupted [`write_atomic`].
pub fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains(TEMP_MARKER))
}

/// Write `path` atomically: `write` fills a buffered temp file in the same folder;
/// only when it returns `Ok` and the data is on disk does the temp file replace
/// `path`. On any error the temp file is removed and `path` is untouched.
pub fn write_atomic<T>(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<T>) -> Result<T> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}{TEMP_MARKER}{:08x}", fastrand::u32(..)));
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| Error::io(path, &e))?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(256 << 10, file);
        let value = write(&mut w)?;
        let file = w.into_inner().map_err(|e| Error::io(path, e.error()))?;
        file.sync_all().map_err(|e| Error::io(path, &e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| Error::io(path, &e))?;
        Ok(value)
    })();
    match result {
        Ok(v) => {
            // Make the rename itself durable; a failure here loses nothing.
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
            sweep_stale_temps(&dir, name);
            Ok(v)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Largest workspace, environment or app-state file wsbench loads: a bigger one (a
/// hostile or runaway file) is reported as a problem instead of filling memory.
pub const MAX_STORE_FILE_BYTES: u64 = 16 << 20;

/// Largest single file an import reads (a collection export, a `.bru` file).
pub const MAX_IMPORT_FILE_BYTES: u64 = 64 << 20;

/// Read `path` whole, refusing (`FileTooLarge`) one of more than `limit` bytes without
/// reading past the limit.
pub fn read_capped(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "it is larger than {} MiB, the most wsbench reads from such a file",
                limit >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`] for a text file.
pub fn read_text_capped(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

/// A file or folder path that came from the UI (a dialog's answer, or typed into a
/// path field), checked before any file is touched: `~/` expands to `home`; the result
/// must be absolute and hold no `..`, so a page can neither reach outside what the
/// user chose by climbing out of it nor resolve a path against the app's own folder.
pub fn chosen_path(input: &str, home: Option<&Path>) -> Result<PathBuf> {
    let p = input.trim();
    let bad = |why: &str| Error::InvalidName(format!("{input:?} is not a path wsbench can use: {why}"));
    if p.is_empty() {
        return Err(bad("it is empty"));
    }
    if p.contains('\0') {
        return Err(bad("it holds a NUL character"));
    }
    let path = match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    };
    if !path.is_absolute() {
        return Err(bad("choose it in a dialog or type a full path"));
    }
    if path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(bad("`..` is not allowed"));
    }
    Ok(path)
}

/// A temp file older than this is left over from a killed write, not one in progress.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Remove the temp files that killed writes of `name` left in `dir` (only old ones, so
/// another process's write in progress is never touched).
fn sweep_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}{TEMP_MARKER}");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let stale = e.file_name().to_str().is_some_and(|n| n.starts_with(&prefix))
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Write `bytes` to `path` atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, &e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("wsbench-fs-{tag}-{}", fastrand::u64(..)));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let d = temp_dir("fail");
        let p = d.join("a.json");
        write_bytes_atomic(&p, b"old").unwrap();
        let r: Result<()> = write_atomic(&p, |w| {
            w.write_all(b"half of the new").unwrap();
            Err(Error::Io("simulated crash mid-write".into()))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")], "no temp file left");
        write_bytes_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert!(is_temp_file(Path::new(".a.json.wsbench-tmp-0000beef")));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn capped_reads_refuse_a_file_over_the_limit() {
        let d = temp_dir("cap");
        let p = d.join("big.json");
        fs::write(&p, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_capped(&p, 2048).unwrap().len(), 2048);
        let e = read_capped(&p, 2047).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(Error::io(&p, &e).to_string().contains("larger than 0 MiB"), "{e}");
        fs::write(&p, [0xff, 0xfe]).unwrap();
        assert_eq!(read_text_capped(&p, 10).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn chosen_paths_are_absolute_without_parent_steps() {
        let home = Path::new("/home/u");
        assert_eq!(
            chosen_path(" /tmp/a.ndjson ", None).unwrap(),
            Path::new("/tmp/a.ndjson")
        );
        assert_eq!(
            chosen_path("~/logs/a.har", Some(home)).unwrap(),
            Path::new("/home/u/logs/a.har")
        );
        for bad in [
            "",
            "  ",
            "a.json",
            "./a.json",
            "../etc/passwd",
            "/tmp/../etc/passwd",
            "~/../../etc",
            "/tmp/a\0b",
            "~/x",
        ] {
            let h = if bad == "~/x" { None } else { Some(home) };
            let e = chosen_path(bad, h).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidName, "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_write_sweeps_old_temp_files_of_its_target_only() {
        let d = temp_dir("sweep");
        let p = d.join("a.json");
        let old = d.join(format!(".a.json{TEMP_MARKER}00000001"));
        let young = d.join(format!(".a.json{TEMP_MARKER}00000002"));
        let other = d.join(format!(".b.json{TEMP_MARKER}00000003"));
        for t in [&old, &young, &other] {
            fs::write(t, b"half").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for t in [&old, &other] {
            File::options()
                .write(true)
                .open(t)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        write_bytes_atomic(&p, b"new").unwrap();
        assert!(!old.exists(), "an old temp file of a.json is swept");
        assert!(young.exists(), "a recent one may be a write in progress");
        assert!(other.exists(), "another file's temp files are its own writes' business");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let e = write_bytes_atomic(Path::new("/nonexistent-wsbench/x.json"), b"x").unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
}
