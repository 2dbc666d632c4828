//! How a file that does not parse is reported: one [`Error::Parse`] with the file,
//! the 1-based line and column (0 when unknown) and the reason, for every format the
//! engine reads (saved connections, environments, logs, other tools' collections).

use std::fmt::Display;

use crate::error::Error;

/// An [`Error::Parse`] for `path` (a path, or any label that names the input).
pub(crate) fn parse_error(path: impl Display, line: usize, column: usize, reason: impl Into<String>) -> Error {
    Error::Parse {
        path: path.to_string(),
        line,
        column,
        reason: reason.into(),
    }
}

/// An [`Error::Parse`] from a serde_json error, without serde's own "at line" suffix
/// (the error's `Display` adds the position).
pub(crate) fn json_error(path: impl Display, e: &serde_json::Error) -> Error {
    json_error_after(path, 0, e)
}

/// [`json_error`] for JSON that starts `line_offset` lines into the file.
pub(crate) fn json_error_after(path: impl Display, line_offset: usize, e: &serde_json::Error) -> Error {
    let line = if e.line() > 0 { e.line() + line_offset } else { 0 };
    parse_error(path, line, e.column(), strip_location(&e.to_string()))
}

/// `serde_json`/`serde_norway` end their messages with " at line N column M", which
/// [`Error::Parse`] already says.
pub(crate) fn strip_location(msg: &str) -> String {
    if let Some((head, tail)) = msg.rsplit_once(" at line ") {
        let mut parts = tail.split(" column ");
        let all_digits = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if all_digits(parts.next()) && all_digits(parts.next()) && parts.next().is_none() {
            return head.to_owned();
        }
    }
    msg.to_owned()
}

/// Files saved by some Windows editors start with a UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Line and column (1-based) of the first `"key"` in the text; (0, 0) when absent.
pub(crate) fn key_position(text: &[u8], key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let Some(at) = text.windows(needle.len()).position(|w| w == needle.as_bytes()) else {
        return (0, 0);
    };
    let before = &text[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (line, at - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_the_version_key() {
        assert_eq!(
            key_position(b"{\n  \"name\": 1,\n  \"version\": 9\n}", "version"),
            (3, 3)
        );
        assert_eq!(key_position(b"{}", "version"), (0, 0));
    }

    #[test]
    fn serde_position_suffix_is_stripped_once() {
        let e = serde_json::from_str::<u8>("\n\n 300").unwrap_err();
        match json_error_after("x.json", 2, &e) {
            Error::Parse { line, reason, .. } => {
                assert_eq!(line, 5);
                assert!(!reason.contains(" at line "), "{reason}");
            }
            other => panic!("{other}"),
        }
    }
}
