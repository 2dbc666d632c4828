//! What the CLI writes: frames on stdout, errors worded from their kind, log files.

use std::path::{Path, PathBuf};

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

/// How received frames are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    /// Data received, one per line: text as is, binary as `b64:` + base64.
    Lines,
    /// Data received: text as a line, binary as its bytes (nothing added).
    Raw,
    /// Every frame, both directions, as one JSON object per line.
    Ndjson,
}

/// Append `f` as printed in `mode`. Nothing is allocated per frame: base64 and JSON
/// are encoded straight into `out`.
pub fn print_frame(out: &mut Vec<u8>, f: &Frame, mode: Print) {
    if mode == Print::Ndjson {
        if serde_json::to_writer(&mut *out, &RecordRef(f)).is_ok() {
            out.push(b'\n');
        }
        return;
    }
    if f.direction != Direction::In || !f.opcode.is_data() {
        return;
    }
    // Only a text frame is checked for UTF-8 (a binary payload is never text here).
    match (f.opcode, mode) {
        (Opcode::Text, _) if f.text().is_some() => out.extend_from_slice(&f.payload),
        (_, Print::Raw) => return out.extend_from_slice(&f.payload),
        _ => {
            out.extend_from_slice(b"b64:");
            base64_into(out, &f.payload);
        }
    }
    out.push(b'\n');
}

/// Append the standard base64 of `bytes` to `out` (SIMD where the CPU has it, into
/// the vector's spare room: nothing zeroed first).
pub fn base64_into(out: &mut Vec<u8>, bytes: &[u8]) {
    base64_simd::STANDARD.encode_append(bytes, out);
}

/// Whether `f` prints as its own bytes in `mode`, and then whether a newline follows:
/// text (valid UTF-8) with a newline, and with `--raw` binary as it is.
pub fn prints_as_is(f: &Frame, mode: Print) -> Option<bool> {
    if mode == Print::Ndjson || f.direction != Direction::In {
        return None;
    }
    match f.opcode {
        Opcode::Text if f.text().is_some() => Some(true),
        Opcode::Binary if mode == Print::Raw => Some(false),
        _ => None,
    }
}

/// A frame serialized as its [`wsbench_core::FrameRecord`] (the same JSON, byte for
/// byte), borrowing the payload instead of copying it into the record's strings.
struct RecordRef<'a>(&'a Frame);

impl serde::Serialize for RecordRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = self.0;
        let m = f.meta();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("seq", &m.seq)?;
        map.serialize_entry("atUs", &m.at_us)?;
        map.serialize_entry("offsetUs", &m.offset_us)?;
        map.serialize_entry("direction", &m.direction)?;
        map.serialize_entry("opcode", &m.opcode)?;
        map.serialize_entry("len", &m.len)?;
        if let Some(c) = m.close_code {
            map.serialize_entry("closeCode", &c)?;
        }
        if let Some(r) = &m.close_reason {
            map.serialize_entry("closeReason", r)?;
        }
        if let Some(r) = m.rtt_us {
            map.serialize_entry("rttUs", &r)?;
        }
        if let Some(c) = m.compressed_len {
            map.serialize_entry("compressedLen", &c)?;
        }
        match (f.opcode, f.text()) {
            (Opcode::Text, Some(t)) => map.serialize_entry("text", t)?,
            (Opcode::Close, _) => {}
            _ if f.payload.is_empty() => {}
            _ => map.serialize_entry("base64", &Base64(&f.payload))?,
        }
        map.end()
    }
}

/// Bytes serialized as a base64 string, encoded (SIMD) into a reused buffer.
struct Base64<'a>(&'a [u8]);

thread_local! {
    static BASE64_SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The scratch buffer is given back past this (one huge message does not pin memory).
const SCRATCH_KEEP: usize = 1 << 20;

impl serde::Serialize for Base64<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        BASE64_SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut b) => {
                b.clear();
                base64_simd::STANDARD.encode_append(self.0, &mut *b);
                let done = s.serialize_str(&b);
                if b.capacity() > SCRATCH_KEEP {
                    *b = String::new();
                }
                done
            }
            Err(_) => s.serialize_str(&base64_simd::STANDARD.encode_to_string(self.0)),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_line_is_its_frame_record_wire_size_included() {
        for (opcode, payload, compressed_len, rtt_us) in [
            (Opcode::Text, &b"hello"[..], 7, 0),
            (Opcode::Binary, &b"\x00\xff"[..], 0, 0),
            (Opcode::Pong, &b"ka"[..], 0, 812),
        ] {
            let f = Frame {
                seq: 3,
                at_us: 1_795_316_685_000_001,
                offset_us: 5001,
                payload: bytes::Bytes::copy_from_slice(payload),
                rtt_us,
                compressed_len,
                direction: Direction::In,
                opcode,
            };
            let got = serde_json::to_string(&RecordRef(&f)).unwrap();
            assert_eq!(got, serde_json::to_string(&f.to_record()).unwrap());
            assert_eq!(got.contains("\"compressedLen\":7"), compressed_len == 7, "{got}");
        }
    }
}
