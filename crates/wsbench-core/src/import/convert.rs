//! Conversion rules shared by the importers: parsing, the report collector, headers
//! that map onto settings, path parameters, inherited headers and variables.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::node::Node;
use super::{ImportReport, ImportedConnection, Unmapped};
use crate::collections::{SavedConnection, Variable};
use crate::config::{ConnectConfig, KeyValue};
use crate::error::{Error, Result};
pub(crate) use crate::parse::parse_error;
use crate::parse::strip_location;

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
}
