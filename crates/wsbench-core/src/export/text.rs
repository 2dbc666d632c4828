//! A plain-text transcript: a few `#` header lines, then one line per frame:
//!
//! ```text
//! 2026-11-22T10:31:05.123456Z → text       5 B  hello
//! 2026-11-22T10:31:05.124012Z ← binary     4 B  b64:3q2+7w==
//! 2026-11-22T10:31:05.301000Z ← pong       0 B  (rtt 0.812 ms)
//! 2026-11-22T10:31:06.000000Z → close      5 B  1000 "bye"
//! ```
//!
//! `→` is sent, `←` received. Text is escaped so that every frame stays on one line
//! and nothing in it can fool the reader's terminal: `\n`, `\r`, `\t`, `\\`, and
//! other control or bidirectional-override characters as `\u{…}`.
//!
//! In Socket.IO mode each frame's decoded packet follows in brackets:
//! `[socket.io event / "chat" args ["hi"] ack 3]`, `[engine.io ping]`,
//! `[attachment 0]`.

use base64::Engine as _;
use std::io::Write as _;

use super::{csv::opcode_name, time, LogWriter, SelectionKind, SessionMeta};
use crate::close::CloseInfo;
use crate::error::Result;
use crate::frame::{Direction, Frame, Opcode};
use crate::socketio::Decoded;

pub(super) struct TextWriter;

/// Characters that reorder or hide text in a terminal or editor.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `s` on one line, control and bidi characters escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_or_invisible(c) => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A decoded Socket.IO packet in a few words (see the module doc).
pub fn sio_summary(d: &Decoded) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    match (&d.packet, d.attachment) {
        (None, Some(i)) => {
            let _ = write!(s, "attachment {i}");
        }
        (None, None) => {
            let _ = write!(s, "engine.io {}", d.engine);
        }
        (Some(p), _) => {
            let _ = write!(s, "socket.io {p} {}", d.namespace.as_deref().unwrap_or("/"));
            if let Some(e) = &d.event {
                let _ = write!(s, " {}", serde_json::Value::String(e.clone()));
            }
            if let Some(a) = &d.args {
                let _ = write!(s, " args {}", serde_json::Value::Array(a.clone()));
            }
        }
    }
    if let Some(id) = d.ack_id {
        let _ = write!(s, " ack {id}");
    }
    if d.attachments > 0 {
        let _ = write!(s, " attachments {}", d.attachments);
    }
    if d.partial {
        s.push_str(" partial");
    }
    if let Some(sid) = &d.sid {
        let _ = write!(s, " sid {sid}");
    }
    if d.auto {
        s.push_str(" auto");
    }
    if let Some(e) = &d.error {
        let _ = write!(s, " error {}", serde_json::Value::String(e.clone()));
    }
    s
}

impl LogWriter for TextWriter {
    fn begin(&mut self, out: &mut Vec<u8>, meta: &SessionMeta) -> Result<()> {
        let which = match meta.selection.kind {
            SelectionKind::All => "all",
            SelectionKind::Filter => "matching a filter",
            SelectionKind::Selection => "selected",
        };
        let _ = writeln!(out, "# wsbench transcript");
        let _ = writeln!(out, "# name: {}", escape(&meta.name));
        let _ = writeln!(out, "# url: {}", escape(&meta.url));
        if let Some(p) = meta.handshake.as_ref().and_then(|h| h.subprotocol.as_deref()) {
            let _ = writeln!(out, "# subprotocol: {}", escape(p));
        }
        let _ = writeln!(
            out,
            "# exported: {}, {} frames ({which}), {}",
            meta.exported_at,
            meta.selection.count,
            if meta.redacted {
                "secrets redacted"
            } else {
                "secrets included"
            }
        );
        let _ = writeln!(out, "# → sent, ← received; times are UTC");
        Ok(())
    }

    fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) -> Result<()> {
        self.frame_decoded(out, f, None)
    }

    fn frame_decoded(&mut self, out: &mut Vec<u8>, f: &Frame, decoded: Option<&Decoded>) -> Result<()> {
        let arrow = match f.direction {
            Direction::Out => '→',
            Direction::In => '←',
        };
        let _ = write!(
            out,
            "{} {arrow} {:<6} {:>7} B",
            time::iso_us(f.at_us),
            opcode_name(f.opcode),
            f.payload.len()
        );
        let b64 = |p: &[u8]| base64::engine::general_purpose::STANDARD.encode(p);
        match (f.opcode, f.text()) {
            (Opcode::Close, _) => match f.close_info() {
                Some(CloseInfo { code, reason }) if reason.is_empty() => {
                    let _ = write!(out, "  {code}");
                }
                Some(CloseInfo { code, reason }) => {
                    let _ = write!(out, "  {code} \"{}\"", escape(&reason).replace('"', "\\\""));
                }
                None => out.extend_from_slice("  (no code)".as_bytes()),
            },
            _ if f.payload.is_empty() => {
                if f.opcode.is_data() {
                    out.extend_from_slice(b"  (empty)");
                }
            }
            (Opcode::Text, Some(t)) => {
                let _ = write!(out, "  {}", escape(t));
            }
            _ => {
                let _ = write!(out, "  b64:{}", b64(&f.payload));
            }
        }
        if f.rtt_us > 0 {
            let _ = write!(out, "  (rtt {} ms)", time::millis(f.rtt_us as u64));
        }
        if let Some(d) = decoded {
            let _ = write!(out, "  [{}]", escape(&sio_summary(d)));
        }
        out.push(b'\n');
        Ok(())
    }

    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_could_break_the_line_or_fool_the_reader() {
        assert_eq!(
            super::escape("a\nb\r\tc\\d\u{7}e\u{202E}f ✓"),
            "a\\nb\\r\\tc\\\\d\\u{0007}e\\u{202e}f ✓"
        );
    }
}
