//! File names that are valid on Windows, macOS and Linux alike: every name wsbench
//! makes (saved connections, collections, exports) and every name it accepts from
//! the user goes through here, so a workspace made on one OS opens on the others.
//!
//! Windows is the strictest: no `< > : " / \ | ? *` or control characters, no
//! trailing dot or space, and no device names (`CON`, `PRN`, `AUX`, `NUL`,
//! `COM0`-`COM9`, `LPT0`-`LPT9`, with superscript digits too), whatever the
//! extension (`con.json` is the console too). Names are compared without case on
//! Windows and macOS, so made names are lower case.

/// Device names Windows reserves, lower case, with or without an extension.
const WINDOWS_DEVICES: &[&str] = &["con", "prn", "aux", "nul", "conin$", "conout$"];

/// True when `stem` (a name up to its first dot) is a Windows device name.
pub fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end_matches(' ')
        .to_lowercase();
    if WINDOWS_DEVICES.contains(&stem.as_str()) {
        return true;
    }
    let mut chars = stem.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "com" || prefix == "lpt")
        && rest.len() == 1
        && (rest[0].is_ascii_digit() || matches!(rest[0], '¹' | '²' | '³'))
}

/// Why `name` cannot be a file or folder name on some OS wsbench runs on, if it
/// cannot.
pub fn problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a name is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.chars().any(|c| c.is_control() || "/\\<>:\"|?*".contains(c)) {
        Some("names cannot contain control characters or any of / \\ < > : \" | ? *")
    } else if name.ends_with(' ') || name.ends_with('.') {
        Some("names cannot end with a space or a dot (Windows drops them)")
    } else if is_windows_device(name) {
        Some("CON, PRN, AUX, NUL, COM0-9 and LPT0-9 are device names on Windows")
    } else if name.len() > 255 {
        Some("a name is longer than 255 bytes")
    } else {
        None
    }
}

/// A file-name-safe form of a display name: lower case, letters and digits kept
/// (any script), everything else collapsed to single `-`, at most `max_chars`
/// characters. An empty result becomes `fallback`; a Windows device name gets
/// `-fallback` appended (`CON` -> `con-connection`).
pub fn slug(name: &str, fallback: &str, max_chars: usize) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            s.push(c);
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    let s: String = s.chars().take(max_chars).collect();
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        fallback.to_owned()
    } else if is_windows_device(s) {
        format!("{s}-{fallback}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits_of_any_script() {
        assert_eq!(slug("Echo server (local)", "c", 64), "echo-server-local");
        assert_eq!(slug("Über/Chat..v2", "c", 64), "über-chat-v2");
        assert_eq!(slug("  --  ", "connection", 64), "connection");
        assert_eq!(slug(&"a".repeat(100), "c", 64).len(), 64);
        assert_eq!(slug("日本語 チャット", "c", 64), "日本語-チャット");
    }

    #[test]
    fn slugs_are_valid_windows_names() {
        for name in [
            "C:\\Users\\me",
            "a:b",
            "what?",
            "<script>",
            "pipe|name",
            "star*",
            "quote\"d",
            "trailing.",
            "trailing ",
            "tab\there",
            "new\nline",
            "CON",
            "con.json",
            "Aux",
            "nul",
            "COM1",
            "com0",
            "LPT9",
            "COM¹",
            "lpt³",
            "CONIN$",
            "conout$",
            "...",
            "..",
        ] {
            let s = slug(name, "connection", 64);
            assert_eq!(problem(&s), None, "{name:?} -> {s:?}");
            assert_eq!(problem(&format!("{s}.json")), None, "{name:?} -> {s:?}.json");
            assert_eq!(
                s,
                s.to_lowercase(),
                "made names are lower case (case-insensitive file systems)"
            );
        }
        assert_eq!(slug("CON", "connection", 64), "con-connection");
        assert_eq!(slug("COM¹", "connection", 64), "com¹-connection");
        assert_eq!(slug("CONIN$", "connection", 64), "conin");
    }

    #[test]
    fn windows_device_names_are_found_with_any_case_and_extension() {
        for name in [
            "CON",
            "con.json",
            "Con.tar.gz",
            "PRN",
            "aux",
            "NUL.txt",
            "COM1",
            "com9.json",
            "LPT0",
            "com²",
        ] {
            assert!(is_windows_device(name), "{name}");
            assert!(problem(name).is_some(), "{name}");
        }
        for name in ["console", "com10", "lpt", "connection.json", "icon", "nul-1"] {
            assert!(!is_windows_device(name), "{name}");
        }
    }

    #[test]
    fn names_invalid_on_some_os_are_explained() {
        assert_eq!(problem("echo.json"), None);
        assert_eq!(problem("über chat"), None);
        assert!(problem("").is_some());
        assert!(problem("..").is_some());
        assert!(problem("a/b").unwrap().contains('/'));
        assert!(problem("a:b").unwrap().contains(':'));
        assert!(problem("name.").unwrap().contains("dot"));
        assert!(problem("name ").unwrap().contains("space"));
        assert!(problem("CON").unwrap().contains("device"));
        assert!(problem(&"x".repeat(256)).unwrap().contains("255"));
    }
}

#[cfg(test)]
mod export_names {
    use crate::export::{default_file_name, ExportFormat};

    #[test]
    fn default_export_names_are_valid_on_windows() {
        // 2026-11-22T10:31:05Z: the time goes in with `-`, never `:`.
        let at_us = 1_795_343_465_000_000;
        for tab in ["Local echo", "CON", "wss://feed.example:443/v2?x=1", "", "  "] {
            let name = default_file_name(tab, ExportFormat::Csv, at_us);
            assert_eq!(super::problem(&name), None, "{tab:?} -> {name}");
            assert!(name.ends_with(".csv") && !name.contains(':'), "{name}");
        }
        assert!(default_file_name("CON", ExportFormat::Ndjson, at_us).starts_with("con-wsbench-"));
    }
}
