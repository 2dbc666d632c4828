//! What the CLI writes: frames on stdout, errors worded from their kind, log files.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use wsbench_core::export::{export_to_path, ExportFormat, ExportOptions, LogSource, Redaction};
use wsbench_core::{Direction, Error, ErrorKind, Frame, Opcode};

/// Errors in what the user typed (exit status 2) rather than in what happened.
pub fn is_usage(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::InvalidUrl
            | ErrorKind::InvalidHeader
            | ErrorKind::InvalidTimeout
            | ErrorKind::InvalidParam
            | ErrorKind::InvalidPayload
    )
}

/// "1000" or "4001: reason".
pub fn code_reason(code: u16, reason: &str) -> String {
    if reason.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {reason}")
    }
}

/// Append `f` as printed: data received (text as is, binary as `b64:`), or with
/// `ndjson` every frame as one JSON object.
pub fn print_frame(out: &mut Vec<u8>, f: &Frame, ndjson: bool) {
    if ndjson {
        if let Ok(line) = serde_json::to_string(&f.to_record()) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        return;
    }
    if f.direction != Direction::In || !f.opcode.is_data() {
        return;
    }
    match (f.opcode, f.text()) {
        (Opcode::Text, Some(t)) => out.extend_from_slice(t.as_bytes()),
        _ => {
            out.extend_from_slice(b"b64:");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(&f.payload).as_bytes());
        }
    }
    out.push(b'\n');
}

/// The format for an output file, or why it cannot be written (a usage error).
pub fn output_format(path: &Path) -> Result<ExportFormat, Error> {
    let format = ExportFormat::from_path(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::File {
            path: path.display().to_string(),
            reason: format!("the folder {:?} does not exist", dir.display().to_string()),
        });
    }
    Ok(format)
}

pub fn redaction(include_secrets: bool) -> Redaction {
    if include_secrets {
        Redaction::none()
    } else {
        Redaction::default()
    }
}

/// Export `source` to `path` off the async threads; say what was written.
pub async fn write_log(source: LogSource, path: PathBuf, options: ExportOptions) -> Result<(), Error> {
    let shown = path.display().to_string();
    let s = tokio::task::spawn_blocking(move || export_to_path(&source, &path, &options, |_, _| true))
        .await
        .map_err(|e| Error::Io(format!("the export stopped: {e}")))??;
    let missing = if s.missing > 0 {
        format!(" ({} evicted by the log cap)", s.missing)
    } else {
        String::new()
    };
    eprintln!("wsbench-cli: wrote {} frames to {shown}{missing}", s.frames);
    Ok(())
}
