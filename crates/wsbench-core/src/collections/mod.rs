//! What a user saves: connections with their saved messages, grouped in collections
//! (folders), and environments of variables. Everything lives in plain, pretty-printed
//! JSON files the user owns and can commit; [`crate::workspace`] keeps them on disk.

pub mod migrate;
pub mod scenario;
pub mod vars;

use serde::{Deserialize, Serialize};

use crate::config::ConnectConfig;
use crate::connection::Outgoing;
use crate::error::{Error, Result};

/// Format version of a saved-connection file. Version 1 (the design draft's flat
/// layout: config fields next to `name`, messages as `{name, text}`) is migrated on load.
pub const CONNECTION_FILE_VERSION: u32 = 2;
/// Format version of an environment file and of its secrets file.
pub const ENVIRONMENT_FILE_VERSION: u32 = 1;

/// One saved connection: one file. Field order here is the key order on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SavedConnection {
    pub version: u32,
    pub name: String,
    pub config: ConnectConfig,
    pub messages: Vec<SavedMessage>,
    /// Steps that make the connection test itself (see [`scenario`]); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<scenario::Scenario>,
}

impl Default for SavedConnection {
    fn default() -> Self {
        Self {
            version: CONNECTION_FILE_VERSION,
            name: String::new(),
            config: ConnectConfig::default(),
            messages: Vec::new(),
            scenario: None,
        }
    }
}

impl SavedConnection {
    pub fn new(name: impl Into<String>, config: ConnectConfig) -> Self {
        Self {
            name: name.into(),
            config,
            ..Self::default()
        }
    }
}

/// A message kept with a connection, sent with one click (or on connect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SavedMessage {
    pub name: String,
    pub format: MessageFormat,
    /// As typed: text, JSON, hex or base64 depending on `format`. May hold `{{variables}}`.
    pub body: String,
    /// Sent automatically, in list order, each time the connection opens.
    pub send_on_connect: bool,
}

impl Default for SavedMessage {
    fn default() -> Self {
        Self {
            name: String::new(),
            format: MessageFormat::Text,
            body: String::new(),
            send_on_connect: false,
        }
    }
}

impl SavedMessage {
    pub fn text(name: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            body: body.into(),
            ..Self::default()
        }
    }
}

/// How a message body is written (the composer's modes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageFormat {
    #[default]
    Text,
    /// Text that must parse as JSON; sent as typed.
    Json,
    /// Binary written as hex digits (spaces and `0x` allowed).
    Hex,
    /// Binary written as base64.
    Base64,
    /// A Socket.IO emit (or ack, join, leave) written as JSON, e.g.
    /// `{"type":"emit","namespace":"/","event":"chat","args":["hi"],"ack":false}`.
    SocketIo,
}

impl MessageFormat {
    /// The frame a body in this format becomes, or why it cannot.
    pub fn to_outgoing(self, body: &str) -> Result<Outgoing> {
        Ok(match self {
            MessageFormat::Text => Outgoing::Text(body.to_owned()),
            MessageFormat::Json => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                    return Err(Error::InvalidPayload {
                        format: "JSON",
                        reason: e.to_string(),
                    });
                }
                Outgoing::Text(body.to_owned())
            }
            MessageFormat::Hex => Outgoing::Binary(crate::payload::parse_hex(body)?),
            MessageFormat::Base64 => Outgoing::Binary(crate::payload::parse_base64(body)?),
            MessageFormat::SocketIo => Outgoing::SocketIo(crate::socketio::SioCommand::from_json(body)?),
        })
    }
}

/// A named set of variables, e.g. "local", "staging".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Environment {
    pub version: u32,
    pub name: String,
    pub variables: Vec<Variable>,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            version: ENVIRONMENT_FILE_VERSION,
            name: String::new(),
            variables: Vec::new(),
        }
    }
}

/// `{{name}}` resolves to `value`. A secret's value is never written to the
/// environment file (only to the git-ignored secrets file) nor to exports by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Variable {
    pub name: String,
    pub value: String,
    pub secret: bool,
    pub enabled: bool,
}

impl Default for Variable {
    fn default() -> Self {
        Self {
            name: String::new(),
            value: String::new(),
            secret: false,
            enabled: true,
        }
    }
}

impl Variable {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            ..Self::default()
        }
    }

    pub fn secret(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            secret: true,
            ..Self::new(name, value)
        }
    }

    /// The one rule for what is kept out of saved files and exports: the value of an
    /// enabled secret variable that is not empty.
    pub fn hides_value(&self) -> bool {
        self.secret && self.enabled && !self.value.is_empty()
    }
}
