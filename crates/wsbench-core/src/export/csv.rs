//! CSV, RFC 4180: a header row, then one row per frame, CRLF line ends. A cell is
//! quoted when it holds `,`, `"`, CR or LF, with quotes doubled. A text cell that
//! a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, TAB or
//! CR) gets a leading `'`; numeric columns are never changed.
//!
//! Columns: `seq,time,atUs,offsetUs,direction,opcode,len,compressedLen,rttUs,closeCode,closeReason,encoding,payload`.
//! `compressedLen` is the message's size on the wire when it went compressed
//! (permessage-deflate), empty when it did not.
//! `encoding` is `text` (payload as UTF-8), `base64`, or empty when there is no
//! payload (an empty frame, or a close frame, whose code and reason have columns).
//!
//! A Socket.IO connection's export has the decoded packet in more columns:
//! `sioEngine,sioPacket,sioNamespace,sioEvent,sioArgs,sioAckId,sioAttachments,sioError`
//! (`sioArgs` is the JSON array of arguments; empty cells where a frame has no view).

use base64::Engine as _;

use super::{time, LogWriter, SessionMeta};
use crate::close::CloseInfo;
use crate::error::Result;
use crate::frame::{Frame, Opcode};
use crate::socketio::Decoded;

pub(super) const HEADER: &str =
    "seq,time,atUs,offsetUs,direction,opcode,len,compressedLen,rttUs,closeCode,closeReason,encoding,payload\r\n";

/// The Socket.IO columns, after [`HEADER`]'s.
pub(super) const SIO_HEADER: &str =
    ",sioEngine,sioPacket,sioNamespace,sioEvent,sioArgs,sioAckId,sioAttachments,sioError";

#[derive(Default)]
pub(super) struct CsvWriter {
    /// The connection is in Socket.IO mode: rows carry the decoded columns.
    socketio: bool,
}

/// A number: never quoted, never neutralized.
fn num(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = write!(out, "{n}");
}

/// A text cell: neutralized against formula injection, then quoted if needed.
fn cell(out: &mut Vec<u8>, s: &str) {
    let formula = matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    let quote = s.bytes().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'));
    if quote {
        out.push(b'"');
    }
    if formula {
        out.push(b'\'');
    }
    if quote {
        for c in s.bytes() {
            if c == b'"' {
                out.push(b'"');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

impl LogWriter for CsvWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()> {
        self.socketio = meta.config.socketio.is_some();
        if self.socketio {
            out.extend_from_slice(HEADER.trim_end().as_bytes());
            out.extend_from_slice(SIO_HEADER.as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(HEADER.as_bytes());
        }
        Ok(())
    }

    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()> {
        self.frame_decoded(out, f, None)
    }

    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        let close = f.close_info();
        num(out, f.seq);
        out.push(b',');
        cell(out, &time::iso_us(f.at_us));
        out.push(b',');
        num(out, f.at_us);
        out.push(b',');
        num(out, f.offset_us);
        out.push(b',');
        cell(
            out,
            if f.direction == crate::frame::Direction::In {
                "in"
            } else {
                "out"
            },
        );
        out.push(b',');
        cell(out, opcode_name(f.opcode));
        out.push(b',');
        num(out, f.payload.len());
        out.push(b',');
        if f.compressed_len > 0 {
            num(out, f.compressed_len);
        }
        out.push(b',');
        if f.rtt_us > 0 {
            num(out, f.rtt_us);
        }
        out.push(b',');
        if let Some(CloseInfo { code, .. }) = &close {
            num(out, code);
        }
        out.push(b',');
        if let Some(CloseInfo { reason, .. }) = &close {
            cell(out, reason);
        }
        out.push(b',');
        match (f.opcode, f.text()) {
            (Opcode::Close, _) => out.push(b','),
            _ if f.payload.is_empty() => out.push(b','),
            (Opcode::Text, Some(t)) => {
                cell(out, "text");
                out.push(b',');
                cell(out, t);
            }
            _ => {
                cell(out, "base64");
                out.push(b',');
                cell(out, &base64::engine::general_purpose::STANDARD.encode(&f.payload));
            }
        }
        if self.socketio {
            sio_cells(out, decoded);
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
}

/// The Socket.IO columns of a row (all empty without a decoded view).
fn sio_cells(out: &mut Vec<u8>, d: Option<&Decoded>) {
    let Some(d) = d else {
        out.extend_from_slice(",,,,,,,,".as_bytes());
        return;
    };
    let text = |out: &mut Vec<u8>, s: Option<&str>| {
        out.push(b',');
        if let Some(s) = s {
            cell(out, s);
        }
    };
    text(out, Some(&d.engine));
    text(out, d.packet.as_deref());
    text(out, d.namespace.as_deref());
    text(out, d.event.as_deref());
    let args = d.args.as_ref().map(|a| serde_json::Value::Array(a.clone()).to_string());
    text(out, args.as_deref());
    out.push(b',');
    if let Some(id) = d.ack_id {
        num(out, id);
    }
    out.push(b',');
    if d.attachments > 0 {
        num(out, d.attachments);
    }
    text(out, d.error.as_deref());
}

pub(super) fn opcode_name(o: Opcode) -> &'static str {
    match o {
        Opcode::Text => "text",
        Opcode::Binary => "binary",
        Opcode::Ping => "ping",
        Opcode::Pong => "pong",
        Opcode::Close => "close",
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    fn c(s: &str) -> String {
        let mut v = Vec::new();
        cell(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn quoting_and_formula_neutralization() {
        assert_eq!(c("plain"), "plain");
        assert_eq!(c("a,b"), "\"a,b\"");
        assert_eq!(c("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(c("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(c("=1+1"), "'=1+1");
        assert_eq!(c("@x"), "'@x");
        assert_eq!(c("-2"), "'-2");
        assert_eq!(c("+1"), "'+1");
        assert_eq!(c("\tx"), "'\tx");
        assert_eq!(c("\rx"), "\"'\rx\"");
        assert_eq!(c("=A1,\"b\""), "\"'=A1,\"\"b\"\"\"");
        assert_eq!(c(""), "");
    }
}
