//! Importers: bring WebSocket requests, their messages and environments over from
//! Insomnia (v4 JSON and v5 YAML exports) and Bruno (`.bru` files, collection folders
//! and OpenCollection YAML). Whatever cannot be mapped is listed in
//! [`ImportReport::unmapped`] with the reason; nothing is dropped silently.
//!
//! [`import_path`] detects the format; the per-format functions take the file's text
//! and an `origin` (the path, or any label) that errors name.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{ConnectConfig, KeyValue};
use crate::error::{Error, Result};

use super::{ImportReport, ImportedConnection, SavedConnection, Unmapped, Variable};

mod bru;
mod bruno;
mod insomnia;
mod node;
mod opencollection;

pub use bruno::{import_bru, import_bruno_folder};
pub use insomnia::{import_insomnia_v4, import_insomnia_v5};
pub use opencollection::{import_opencollection, import_opencollection_folder};

use node::Node;

/// What [`import_path`] and [`import_text`] say when a file is none of the formats.
const EXPECTED: &str = "expected an Insomnia v4 JSON export (\"__export_format\": 4), an Insomnia v5 YAML \
                        export (type: collection.insomnia.rest/5.0), an OpenCollection YAML file \
                        (opencollection: 1.0.0), a Bruno .bru file or a Bruno collection folder (with \
                        bruno.json or opencollection.yml)";

/// Import a file or folder, detecting its format: a Bruno collection folder (it has
/// `bruno.json`; `bruno.json` itself also works), a Bruno YAML collection folder (it
/// has `opencollection.yml`; that file itself also works), a `.bru` file, an Insomnia
/// v4 JSON export, an Insomnia v5 YAML export or a bundled OpenCollection YAML file.
pub fn import_path(path: &Path) -> Result<ImportReport> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, &e))?;
    if meta.is_dir() {
        if path.join("bruno.json").is_file() {
            return import_bruno_folder(path);
        }
        if opencollection::ROOT_FILES.iter().any(|f| path.join(f).is_file()) {
            return import_opencollection_folder(path);
        }
        return Err(parse_error(
            &path.display().to_string(),
            0,
            0,
            format!("this folder has neither bruno.json nor opencollection.yml; {EXPECTED}"),
        ));
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if file_name.eq_ignore_ascii_case("bruno.json") {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        return import_bruno_folder(dir);
    }
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
    let origin = path.display().to_string();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("bru")) {
        return import_bru(&text, &origin);
    }
    if opencollection::ROOT_FILES
        .iter()
        .any(|f| file_name.eq_ignore_ascii_case(f))
    {
        // The root file of a collection folder (its items are files beside it).
        let doc = parse_yaml(&text, &origin)?;
        if doc.get("items").is_null() && doc.get("bundled").as_bool() != Some(true) {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            return import_opencollection_folder(dir);
        }
    }
    import_text(&text, &origin)
}

/// Import the text of an export, detecting its format from the content: JSON with
/// `"__export_format": 4` (Insomnia v4), YAML whose `type` starts with
/// `collection.insomnia.rest/5` (Insomnia v5), YAML with a top-level `opencollection`
/// (OpenCollection), or a `.bru` request (it starts with a `meta {` block).
pub fn import_text(text: &str, origin: &str) -> Result<ImportReport> {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    if first.starts_with("meta {") || first == "meta{" {
        return import_bru(text, origin);
    }
    let doc = if first.starts_with('{') || first.starts_with('[') {
        parse_json(text, origin)?
    } else {
        parse_yaml(text, origin)?
    };
    match detect(&doc) {
        Some(Format::InsomniaV4) => insomnia::v4_from_node(&doc, origin),
        Some(Format::InsomniaV5) => insomnia::v5_from_node(&doc, origin),
        Some(Format::OpenCollection) => opencollection::from_node(&doc, origin),
        None => {
            if doc.text("_type") == "export" || !doc.get("__export_format").is_null() {
                let v = doc.text("__export_format");
                return Err(parse_error(
                    origin,
                    0,
                    0,
                    format!("Insomnia export format {v:?} is not supported; expected format 4 (or a v5 YAML export)"),
                ));
            }
            let t = doc.text("type");
            if t.contains(".insomnia") {
                return Err(parse_error(
                    origin,
                    0,
                    0,
                    format!("an Insomnia file of type {t:?} holds no requests; {EXPECTED}"),
                ));
            }
            Err(parse_error(
                origin,
                0,
                0,
                format!("not a format wsbench imports; {EXPECTED}"),
            ))
        }
    }
}

enum Format {
    InsomniaV4,
    InsomniaV5,
    OpenCollection,
}

fn detect(doc: &Node) -> Option<Format> {
    if doc.get("__export_format").scalar().as_deref() == Some("4") {
        return Some(Format::InsomniaV4);
    }
    let t = doc.text("type");
    if [
        "collection.insomnia.rest/5",
        "spec.insomnia.rest/5",
        "environment.insomnia.rest/5",
    ]
    .iter()
    .any(|p| t.starts_with(p))
    {
        return Some(Format::InsomniaV5);
    }
    if !doc.get("opencollection").is_null() {
        return Some(Format::OpenCollection);
    }
    None
}

// ---- helpers shared by the importers ----

pub(crate) fn parse_error(origin: &str, line: usize, column: usize, reason: impl Into<String>) -> Error {
    Error::Parse {
        path: origin.to_owned(),
        line,
        column,
        reason: reason.into(),
    }
}

/// `serde_json`/`serde_norway` end their messages with " at line N column M", which
/// `Error::Parse` already says.
fn strip_location(msg: &str) -> String {
    if let Some((head, tail)) = msg.rsplit_once(" at line ") {
        let mut parts = tail.split(" column ");
        let all_digits = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if all_digits(parts.next()) && all_digits(parts.next()) && parts.next().is_none() {
            return head.to_owned();
        }
    }
    msg.to_owned()
}

pub(crate) fn parse_json(text: &str, origin: &str) -> Result<Node> {
    serde_json::from_str::<Node>(text.trim_start_matches('\u{feff}')).map_err(|e| {
        parse_error(
            origin,
            e.line(),
            e.column(),
            format!("invalid JSON: {}", strip_location(&e.to_string())),
        )
    })
}

pub(crate) fn parse_yaml(text: &str, origin: &str) -> Result<Node> {
    serde_norway::from_str::<Node>(text.trim_start_matches('\u{feff}')).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        parse_error(
            origin,
            line,
            column,
            format!("invalid YAML: {}", strip_location(&e.to_string())),
        )
    })
}

/// Collects the report; notes are kept once each, in the order they were found.
#[derive(Default)]
pub(crate) struct Collector {
    pub report: ImportReport,
    seen: HashSet<(String, String)>,
}

impl Collector {
    pub fn note(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        let (item, reason) = (item.into(), reason.into());
        if self.seen.insert((item.clone(), reason.clone())) {
            self.report.unmapped.push(Unmapped { item, reason });
        }
    }

    pub fn connection(&mut self, folder: Vec<String>, connection: SavedConnection) {
        self.report.connections.push(ImportedConnection { folder, connection });
    }
}

/// `Folder/Sub/name`, for naming an item in a note.
pub(crate) fn label(folder: &[String], name: &str) -> String {
    let mut parts: Vec<&str> = folder.iter().map(String::as_str).collect();
    parts.push(name);
    parts.join("/")
}

/// Headers the engine writes itself (see `connection::dial`); an enabled copy would
/// make the connection fail, so such a header comes over switched off.
const MANAGED_HEADERS: [&str; 5] = [
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
    "sec-websocket-extensions",
];

/// Give headers that wsbench has a setting for to that setting: an enabled
/// `Sec-WebSocket-Protocol` becomes the subprotocol list, the first enabled `Origin`
/// the Origin; handshake headers wsbench writes itself are switched off and noted.
pub(crate) fn settle_headers(config: &mut ConnectConfig, item: &str, out: &mut Collector) {
    let mut kept = Vec::with_capacity(config.headers.len());
    for mut h in std::mem::take(&mut config.headers) {
        let lower = h.name.trim().to_ascii_lowercase();
        if h.enabled && lower == "sec-websocket-protocol" {
            config.subprotocols.extend(
                h.value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        if h.enabled && lower == "origin" && config.origin.is_none() {
            config.origin = Some(h.value);
            continue;
        }
        if h.enabled && MANAGED_HEADERS.contains(&lower.as_str()) {
            h.enabled = false;
            out.note(
                format!("header `{}` of `{item}`", h.name),
                "wsbench writes this handshake header itself; it was imported switched off",
            );
        }
        kept.push(h);
    }
    config.headers = kept;
}

/// Replace `:name` path segments of `url` with the values of path parameters; returns
/// the names that were not found in the URL.
pub(crate) fn fill_path_params(url: &str, params: &[(String, String)]) -> (String, Vec<String>) {
    let (head, query) = match url.find(['?', '#']) {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    // Keep `scheme://host:port` untouched: only the path has `:name` segments.
    let path_start = head
        .find("://")
        .map(|i| head[i + 3..].find('/').map(|j| i + 3 + j).unwrap_or(head.len()))
        .unwrap_or(0);
    let (authority, path) = head.split_at(path_start);
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    let mut missing = Vec::new();
    for (name, value) in params {
        let wanted = format!(":{name}");
        let mut found = false;
        for s in segments.iter_mut().filter(|s| **s == wanted) {
            s.clone_from(value);
            found = true;
        }
        if !found {
            missing.push(name.clone());
        }
    }
    (format!("{authority}{}{query}", segments.join("/")), missing)
}

/// Each variable of `base`, overridden by `over`'s variable of the same name, then
/// `over`'s own: what a sub-environment that extends a base sees.
pub(crate) fn merge_variables(base: &[Variable], over: &[Variable]) -> Vec<Variable> {
    let mut out = base.to_vec();
    for v in over {
        match out.iter_mut().find(|b| b.name == v.name) {
            Some(b) => *b = v.clone(),
            None => out.push(v.clone()),
        }
    }
    out
}

/// A message's name: the source's, else "Message" (or "Message N" among several).
pub(crate) fn message_name(name: &str, index: usize, total: usize) -> String {
    let name = name.trim();
    if !name.is_empty() {
        name.to_owned()
    } else if total > 1 {
        format!("Message {}", index + 1)
    } else {
        "Message".to_owned()
    }
}

/// A folder's headers passed down to a request: the request's own header of the
/// same name (case-insensitive) wins.
pub(crate) fn inherit_headers(inherited: &[KeyValue], own: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut headers: Vec<KeyValue> = inherited
        .iter()
        .filter(|h| !own.iter().any(|o| o.name.eq_ignore_ascii_case(&h.name)))
        .cloned()
        .collect();
    headers.extend(own);
    headers
}

/// A folder's entries, sorted by path.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, &e))?
        .map(|e| e.map(|e| e.path()).map_err(|err| Error::io(dir, &err)))
        .collect::<Result<_>>()?;
    paths.sort();
    Ok(paths)
}

/// The entries of a collection folder worth reading, sorted by path, with their
/// file names: dot-files, `ignore`d paths (relative to `root`, or bare names) and the
/// top-level `environments/` folder are left out.
pub(crate) fn collection_entries(root: &Path, dir: &Path, ignore: &[String]) -> Result<Vec<(PathBuf, String)>> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter_map(|path| {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let skip = file_name.starts_with('.')
                || ignore.iter().any(|i| *i == rel || *i == file_name)
                || (dir == root && file_name == "environments" && path.is_dir());
            (!skip).then_some((path, file_name))
        })
        .collect())
}

pub(crate) fn key_value(name: impl Into<String>, value: impl Into<String>, enabled: bool) -> KeyValue {
    KeyValue {
        name: name.into(),
        value: value.into(),
        enabled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_params_fill_only_path_segments() {
        let p = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        assert_eq!(
            fill_path_params("wss://h:8443/rooms/:room/x?a=:room", &[p("room", "42"), p("gone", "1")]),
            ("wss://h:8443/rooms/42/x?a=:room".to_owned(), vec!["gone".to_owned()])
        );
        assert_eq!(fill_path_params("{{host}}/:id", &[p("id", "7")]).0, "{{host}}/7");
    }

    #[test]
    fn location_suffix_is_stripped_once() {
        assert_eq!(strip_location("expected value at line 3 column 7"), "expected value");
        assert_eq!(strip_location("x at line 3, while y"), "x at line 3, while y");
    }
}
