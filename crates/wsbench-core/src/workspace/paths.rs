//! Names and paths in a workspace: IDs, collection paths, slugs, revisions and the
//! bytes every file is written as.

use std::path::Path;

use serde::Serialize;

use super::{ENVIRONMENTS_DIR, SECRETS_SUFFIX, WORKSPACE_FILE};
use crate::error::{Error, Result};
use crate::fs::is_temp_file;

/// The revision of a file's bytes: a 128-bit FNV-1a hash in hex. Stable across
/// versions and platforms, so an app may keep it across restarts.
pub fn revision(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

/// How every store file is written: pretty JSON, 2-space indent, trailing newline.
pub(super) fn file_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Io(format!("cannot serialize: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A file-name-safe form of a display name: lower case, letters and digits kept
/// (any script), everything else collapsed to single `-`, at most 64 characters.
pub fn slug(name: &str, fallback: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            s.push(c);
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    let s: String = s.chars().take(64).collect();
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        return fallback.to_owned();
    }
    const WINDOWS_RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1",
        "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    if WINDOWS_RESERVED.contains(&s) {
        format!("{s}-{fallback}")
    } else {
        s.to_owned()
    }
}

/// Why `name` cannot be a folder or file name in a workspace, if it cannot.
pub(super) fn bad_component(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a name is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.starts_with('.') {
        Some("names starting with `.` are hidden and skipped")
    } else if name.chars().any(|c| c.is_control() || "\\<>:\"|?*".contains(c)) {
        Some("names cannot contain control characters or any of \\ < > : \" | ? *")
    } else if name.ends_with(' ') || name.ends_with('.') {
        Some("names cannot end with a space or a dot")
    } else if is_windows_device(name) {
        Some("CON, PRN, AUX, NUL, COM1-9 and LPT1-9 (with any extension) are reserved on Windows")
    } else if name.len() > 255 {
        Some("a name is longer than 255 bytes")
    } else {
        None
    }
}

/// `con`, `aux.json`, `LPT1.txt`: device names Windows will not create a file or
/// folder under, whatever the extension.
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_ascii_lowercase();
    matches!(stem.as_str(), "con" | "prn" | "aux" | "nul")
        || (stem.len() == 4
            && (stem.starts_with("com") || stem.starts_with("lpt"))
            && matches!(stem.as_bytes()[3], b'1'..=b'9'))
}

/// One collection (folder) name, trimmed: not empty, no `/`, and a name a folder
/// can have on every system.
pub(super) fn check_collection_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidName("a collection needs a name".into()));
    }
    if name.contains('/') {
        return Err(Error::InvalidName(format!(
            "{name:?} is not a valid collection name: it cannot contain `/` (create the collections one by one)"
        )));
    }
    if let Some(why) = bad_component(name) {
        return Err(Error::InvalidName(format!(
            "{name:?} is not a valid collection name: {why}"
        )));
    }
    Ok(name)
}

/// A connection's name: anything but empty or only spaces.
pub(super) fn check_connection_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::InvalidName("a connection needs a name".into()));
    }
    Ok(())
}

/// A collection path (`""`, `chat`, `chat/rooms`), normalized (no leading or trailing `/`).
pub(super) fn check_collection_path(path: &str) -> Result<String> {
    let norm = path.trim_matches('/');
    if norm.is_empty() {
        return Ok(String::new());
    }
    let invalid = |why: &str| Error::InvalidName(format!("{path:?} is not a valid collection: {why}"));
    for c in norm.split('/') {
        if let Some(why) = bad_component(c) {
            return Err(invalid(why));
        }
    }
    if norm.split('/').next() == Some(ENVIRONMENTS_DIR) {
        return Err(invalid("`environments` is where wsbench keeps environments"));
    }
    Ok(norm.to_owned())
}

/// A connection ID: `<collection>/<name>.json`, not a reserved file.
pub(super) fn check_connection_id(id: &str) -> Result<()> {
    let name = file_name_of(id);
    let dir = parent_of(id);
    let ok = !id.starts_with('/')
        && bad_component(name).is_none()
        && is_connection_file_name(dir, name)
        && !is_temp_file(Path::new(name))
        && check_collection_path(dir).is_ok_and(|d| d == dir);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName(format!(
            "{id:?} is not a connection file of this workspace (expected a path like \"chat/echo.json\")"
        )))
    }
}

pub(super) fn is_connection_file_name(dir: &str, name: &str) -> bool {
    name.ends_with(".json")
        && name.len() > ".json".len()
        && !name.ends_with(SECRETS_SUFFIX)
        && !(dir.is_empty() && name == WORKSPACE_FILE)
}

pub(super) fn parent_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(p, _)| p)
}

pub(super) fn file_name_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, n)| n)
}

pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Echo server (local)", "c"), "echo-server-local");
        assert_eq!(slug("  --  ", "connection"), "connection");
        assert_eq!(slug("Über/Chat..v2", "c"), "über-chat-v2");
        assert_eq!(slug("CON", "connection"), "con-connection");
        assert_eq!(slug(&"a".repeat(100), "c").len(), 64);
    }

    #[test]
    fn ids_and_collections_are_validated() {
        assert!(check_connection_id("chat/echo.json").is_ok());
        assert!(check_connection_id("echo.json").is_ok());
        for bad in [
            "../x.json",
            "/abs.json",
            "chat/.hidden.json",
            "environments/x.json",
            "wsbench-workspace.json",
            "x.secrets.json",
            "chat//x.json",
            "x.txt",
            ".json",
        ] {
            assert!(check_connection_id(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(check_collection_path("/chat/rooms/").unwrap(), "chat/rooms");
        assert!(check_collection_path("chat/../x").is_err());
        assert!(check_collection_path("environments").is_err());
        assert!(check_collection_path("a:b").is_err());
    }

    #[test]
    fn revisions_differ_for_one_changed_byte() {
        assert_eq!(revision(b"abc"), revision(b"abc"));
        assert_ne!(revision(b"abc"), revision(b"abd"));
        assert_eq!(revision(b"").len(), 32);
    }
}
