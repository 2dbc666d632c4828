//! Reading a saved-connection file of any supported format version.
//!
//! - Version 2 (current): `{version, name, config: ConnectConfig, messages: [SavedMessage]}`.
//! - Version 1 (the flat draft layout): every `ConnectConfig` field at the top level next to
//!   `name`, and messages as `{name, text}`. Migrated in memory; the file is not touched.
//! - No `version` field: version 1 when there is a top-level `url`, version 2 when there
//!   is a `config`; anything else is not a wsbench connection.
//! - A version newer than [`CONNECTION_FILE_VERSION`] is refused (written by a newer wsbench).
//!
//! Every refusal is an [`Error::Parse`] with the 1-based line and column when known.

use serde::Deserialize;
use serde_json::Value;

use super::{scenario, MessageFormat, SavedConnection, SavedMessage, CONNECTION_FILE_VERSION};
use crate::config::{ConnectConfig, CONFIG_VERSION};
use crate::error::{Error, Result};
use crate::parse::{json_error, key_position, parse_error, strip_bom};

/// A connection read from a file, and the format version it was migrated from.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedConnection {
    pub connection: SavedConnection,
    /// `Some(1)` when the file is in the version-1 layout and was migrated in memory.
    pub migrated_from: Option<u32>,
}

/// Parse the bytes of a connection file; `path` only names the file in errors.
pub fn parse_connection(bytes: &[u8], path: &str) -> Result<ParsedConnection> {
    let text = strip_bom(bytes);
    let value: Value = serde_json::from_slice(text).map_err(|e| json_error(path, &e))?;
    let Value::Object(obj) = &value else {
        return Err(parse_error(
            path,
            1,
            1,
            "expected a JSON object (a saved wsbench connection)",
        ));
    };
    let version = match obj.get("version") {
        None if obj.contains_key("url") => 1,
        None if obj.contains_key("config") => CONNECTION_FILE_VERSION,
        None => {
            return Err(parse_error(
                path,
                1,
                1,
                "not a wsbench connection: it has no \"version\", \"config\" or \"url\"",
            ))
        }
        Some(v) => match v.as_u64() {
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
            None => {
                let (line, column) = key_position(text, "version");
                return Err(parse_error(path, line, column, "\"version\" must be a number"));
            }
        },
    };
    match version {
        1 => {
            let v1: V1File = serde_json::from_slice(text).map_err(|e| json_error(path, &e))?;
            Ok(ParsedConnection {
                connection: v1.into_current(),
                migrated_from: Some(1),
            })
        }
        CONNECTION_FILE_VERSION => {
            let connection: SavedConnection = serde_json::from_slice(text).map_err(|e| {
                let mut err = json_error(path, &e);
                // A fault inside the scenario: say which step it is in.
                // serde places a fault in a tagged step at the step's end: give its start.
                if let (
                    Some((step, _)),
                    Error::Parse {
                        reason, line, column, ..
                    },
                ) = (scenario::failing_step(&value), &mut err)
                {
                    *reason = format!("scenario step {step}: {reason}");
                    if let Some(l) = scenario::step_line(text, &step) {
                        (*line, *column) = (l, 1);
                    }
                }
                err
            })?;
            if let Some(s) = &connection.scenario {
                scenario::validate(s, &connection.messages, path, Some(text))?;
            }
            Ok(ParsedConnection {
                connection,
                migrated_from: None,
            })
        }
        n => {
            let (line, column) = key_position(text, "version");
            let reason = if n > CONNECTION_FILE_VERSION {
                format!(
                    "written by a newer wsbench (format version {n}; this version reads up to {CONNECTION_FILE_VERSION}); update wsbench to open it"
                )
            } else {
                format!("unknown format version {n}")
            };
            Err(parse_error(path, line, column, reason))
        }
    }
}

/// The format version the bytes declare (or imply), if they are a JSON object at all.
/// Used to decide whether overwriting a file needs a backup of the older format first.
pub fn file_version(bytes: &[u8]) -> Option<u32> {
    let value: Value = serde_json::from_slice(strip_bom(bytes)).ok()?;
    let obj = value.as_object()?;
    match obj.get("version") {
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()),
        None if obj.contains_key("url") => Some(1),
        None => Some(CONNECTION_FILE_VERSION),
    }
}

/// The version-1 layout: config fields flat at the top level.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1File {
    /// Consumed here so it does not land in `config.version`.
    #[serde(default, rename = "version")]
    _version: Option<u32>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    messages: Vec<V1Message>,
    #[serde(flatten)]
    config: ConnectConfig,
}

#[derive(Deserialize)]
struct V1Message {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
}

impl V1File {
    fn into_current(self) -> SavedConnection {
        SavedConnection {
            version: CONNECTION_FILE_VERSION,
            name: self.name,
            config: ConnectConfig {
                version: CONFIG_VERSION,
                ..self.config
            },
            messages: self
                .messages
                .into_iter()
                .map(|m| SavedMessage {
                    name: m.name,
                    format: MessageFormat::Text,
                    body: m.text,
                    send_on_connect: false,
                })
                .collect(),
            scenario: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_does_not_stop_a_file_from_loading() {
        let p = parse_connection(b"\xEF\xBB\xBF{\"version\":2,\"name\":\"x\"}", "x.json").unwrap();
        assert_eq!(p.connection.name, "x");
    }

    #[test]
    fn serde_position_suffix_is_not_repeated() {
        let e = parse_connection(b"{\n  \"version\": 2,\n  \"name\": 5\n}", "a.json").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("(line 3, column"), "{msg}");
        assert!(!msg.contains(" at line "), "{msg}");
    }
}
