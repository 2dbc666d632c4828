//! Opening a file someone hands to wsbench: [`open`] says whether it is a collection
//! from another tool or a recorded log, and reads it.
//!
//! - Collections: Insomnia (v4 JSON and v5 YAML exports), Bruno (`.bru` files,
//!   collection folders) and OpenCollection YAML. WebSocket requests, their messages
//!   and environments come over; whatever cannot be mapped is listed in
//!   [`ImportReport::unmapped`] with the reason; nothing is dropped silently.
//!   [`import_path`] detects the format; the per-format functions take the file's
//!   text and an `origin` (the path, or any label) that errors name.
//! - Logs: wsbench NDJSON/JSON exports and HAR files, read by the readers that live
//!   beside their writers in [`crate::export`] ([`crate::export::read_log_file`]).
//! - [`import_into`] puts a collection into a workspace folder (the naming rules for
//!   folders and taken environment names live there); [`import_recorded`] saves a
//!   recorded connection as a saved one, without its credentials.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::collections::{Environment, SavedConnection};
use crate::error::{Error, Result};

mod apply;
mod bru;
mod bruno;
mod convert;
mod insomnia;
mod node;
mod open;
mod opencollection;

pub use apply::{folder_name, import_into, import_recorded, ImportDone};
pub use open::{is_log_file, open, Opened, Preview};

pub use bruno::{import_bru, import_bruno_folder};
pub use insomnia::{import_insomnia_v4, import_insomnia_v5};
pub use opencollection::{import_opencollection, import_opencollection_folder};

use convert::{parse_error, parse_json, parse_yaml};
use node::Node;

/// What an importer produced: connections (each with the folder path it had in the
/// source tool), environments, and every item it could not map, with why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// The source's own name for the collection/workspace, when it has one.
    pub name: String,
    pub connections: Vec<ImportedConnection>,
    pub environments: Vec<Environment>,
    pub unmapped: Vec<Unmapped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedConnection {
    /// Folder names from the source's root down to this item (empty at the top).
    pub folder: Vec<String>,
    pub connection: SavedConnection,
}

/// Something in the source that wsbench did not bring over, e.g. "HTTP request
/// `Get users`" or "setting `followRedirects` of `Chat`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmapped {
    pub item: String,
    pub reason: String,
}

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
            path.display().to_string(),
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
    let text = crate::fs::read_text_capped(path, crate::fs::MAX_IMPORT_FILE_BYTES).map_err(|e| Error::io(path, &e))?;
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
