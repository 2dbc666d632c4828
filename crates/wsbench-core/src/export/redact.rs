//! What an export leaves out unless the user asks for everything: credentials in
//! headers, auth settings and URLs, and the values of secret variables wherever
//! they appear in text.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::close::{close_payload, CloseInfo};
use crate::collections::Environment;
use crate::config::{ApiKeyPlacement, Auth, ConnectConfig, KeyValue, ProxySetting};
use crate::connection::{Handshake, Header, ProxyInfo};
use crate::error::{Error, Result};
use crate::frame::{Frame, Opcode};

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Header names whose values are always credentials (compared case-insensitively).
pub const SENSITIVE_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// How much of the secrets an export keeps. The default redacts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Redaction {
    /// Write everything as it is, credentials included.
    pub include_secrets: bool,
    /// Values to blank wherever they occur in the URL, headers, config and text
    /// payloads (typically the values of the active environment's secret variables).
    pub secret_values: Vec<String>,
}

impl Redaction {
    /// Redact, with the values of `env`'s enabled secret variables.
    pub fn with_environment(env: &Environment) -> Self {
        Self {
            include_secrets: false,
            secret_values: env
                .variables
                .iter()
                .filter(|v| v.hides_value())
                .map(|v| v.value.clone())
                .collect(),
        }
    }

    /// The default for an export: redact `secret_values` (the workspace's, see
    /// `Workspace::secret_values`), unless the user asked to include secrets.
    pub fn for_export(include_secrets: bool, secret_values: Vec<String>) -> Self {
        if include_secrets {
            Self::none()
        } else {
            Self {
                include_secrets: false,
                secret_values,
            }
        }
    }

    /// Keep everything.
    pub fn none() -> Self {
        Self {
            include_secrets: true,
            secret_values: Vec::new(),
        }
    }
}

/// A [`Redaction`] compiled for one connection's config.
pub(crate) struct Redactor {
    on: bool,
    /// Every secret value, longest first, as one alternation.
    secrets: Option<regex::Regex>,
    /// Lower-case header names whose value is a credential (the fixed four and an
    /// API key's header).
    headers: Vec<String>,
    /// A query parameter that carries an API key.
    query_key: Option<String>,
}

impl Redactor {
    pub fn new(r: &Redaction, config: &ConnectConfig) -> Result<Self> {
        let mut headers: Vec<String> = SENSITIVE_HEADERS.iter().map(|h| h.to_string()).collect();
        let mut query_key = None;
        let mut values: Vec<String> = r.secret_values.clone();
        match &config.auth {
            Auth::None => {}
            Auth::Bearer { token } => values.push(token.clone()),
            Auth::Basic { password, .. } => values.push(password.clone()),
            Auth::ApiKey { name, value, placement } => {
                values.push(value.clone());
                match placement {
                    ApiKeyPlacement::Header => headers.push(name.to_ascii_lowercase()),
                    ApiKeyPlacement::Query => query_key = Some(name.clone()),
                }
            }
        }
        if let ProxySetting::Url { url } = &config.proxy {
            // The proxy password (user:password@ in its URL) is a secret wherever it shows.
            if let Some(pw) = url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_owned)) {
                values.push(pw.clone());
                values.extend(
                    percent_encoding::percent_decode_str(&pw)
                        .decode_utf8()
                        .ok()
                        .map(|p| p.into_owned()),
                );
            }
        }
        // Socket.IO namespace auth payloads: every string in them is a credential.
        for ns in config.socketio.iter().flat_map(|s| &s.namespaces) {
            if let Some(auth) = &ns.auth {
                json_strings(auth, &mut values);
            }
        }
        values.retain(|v| !v.is_empty() && v != REDACTED);
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let secrets = if r.include_secrets || values.is_empty() {
            None
        } else {
            let pattern = values.iter().map(|v| regex::escape(v)).collect::<Vec<_>>().join("|");
            Some(
                regex::RegexBuilder::new(&pattern)
                    .size_limit(64 << 20)
                    .build()
                    .map_err(|e| {
                        Error::TooManySecrets(format!(
                            "the secret values are too many or too long to hide from the export ({e}); \
                             shorten them, or export with secrets included"
                        ))
                    })?,
            )
        };
        Ok(Self {
            on: !r.include_secrets,
            secrets,
            headers,
            query_key,
        })
    }

    /// `s` with every secret value replaced.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        match &self.secrets {
            Some(re) => re.replace_all(s, REDACTED),
            None => Cow::Borrowed(s),
        }
    }

    fn is_sensitive(&self, name: &str) -> bool {
        self.on && self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if self.is_sensitive(name) {
            REDACTED.to_owned()
        } else {
            self.text(value).into_owned()
        }
    }

    pub fn headers(&self, h: &[Header]) -> Vec<Header> {
        h.iter()
            .map(|h| Header {
                name: h.name.clone(),
                value: self.header(&h.name, &h.value),
            })
            .collect()
    }

    fn key_values(&self, kv: &[KeyValue], sensitive_names: bool) -> Vec<KeyValue> {
        kv.iter()
            .map(|k| KeyValue {
                value: if sensitive_names {
                    self.header(&k.name, &k.value)
                } else {
                    self.text(&k.value).into_owned()
                },
                ..k.clone()
            })
            .collect()
    }

    /// A URL (or a request target such as `/path?q=1`) without a password in its
    /// user info, the API key query parameter, or secret values.
    pub fn url(&self, url: &str) -> String {
        if !self.on {
            return url.to_owned();
        }
        let mut out = String::with_capacity(url.len());
        let mut rest = url;
        // user:password@ in the authority
        if let Some(i) = rest.find("://") {
            let (scheme, after) = rest.split_at(i + 3);
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let authority = &after[..end];
            out.push_str(scheme);
            match authority.rfind('@') {
                Some(at) => {
                    let userinfo = &authority[..at];
                    match userinfo.find(':') {
                        Some(c) => {
                            out.push_str(&userinfo[..c + 1]);
                            out.push_str(REDACTED);
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push_str(&authority[at..]);
                }
                None => out.push_str(authority),
            }
            rest = &after[end..];
        }
        // the API key in the query
        let (before_frag, frag) = match rest.find('#') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        match (before_frag.find('?'), &self.query_key) {
            (Some(q), Some(key)) => {
                out.push_str(&before_frag[..q + 1]);
                let pairs: Vec<String> = before_frag[q + 1..]
                    .split('&')
                    .map(|pair| {
                        let name = pair.split('=').next().unwrap_or("");
                        let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
                        if decoded == key.as_str() {
                            format!("{name}={REDACTED}")
                        } else {
                            pair.to_owned()
                        }
                    })
                    .collect();
                out.push_str(&pairs.join("&"));
            }
            _ => out.push_str(before_frag),
        }
        out.push_str(frag);
        self.text(&out).into_owned()
    }

    /// A decoded Socket.IO packet with every secret value replaced (in its arguments,
    /// auth, errors...).
    pub fn decoded(&self, d: &crate::socketio::Decoded) -> crate::socketio::Decoded {
        if self.secrets.is_none() {
            return d.clone();
        }
        let json = serde_json::to_string(d).unwrap_or_default();
        let hidden = self.text(&json);
        serde_json::from_str(&hidden).unwrap_or_else(|_| crate::socketio::Decoded {
            args: None,
            error: Some("decoded view withheld: it holds a secret".into()),
            ..d.clone()
        })
    }

    pub fn config(&self, c: &ConnectConfig) -> ConnectConfig {
        if !self.on {
            return c.clone();
        }
        let auth = match &c.auth {
            Auth::None => Auth::None,
            Auth::Bearer { .. } => Auth::Bearer { token: REDACTED.into() },
            Auth::Basic { username, .. } => Auth::Basic {
                username: username.clone(),
                password: REDACTED.into(),
            },
            Auth::ApiKey { name, placement, .. } => Auth::ApiKey {
                name: name.clone(),
                value: REDACTED.into(),
                placement: *placement,
            },
        };
        let params = match &self.query_key {
            Some(key) => c
                .params
                .iter()
                .map(|p| KeyValue {
                    value: if &p.name == key {
                        REDACTED.into()
                    } else {
                        self.text(&p.value).into_owned()
                    },
                    ..p.clone()
                })
                .collect(),
            None => self.key_values(&c.params, false),
        };
        let socketio = c.socketio.clone().map(|mut s| {
            for ns in &mut s.namespaces {
                ns.auth = ns.auth.as_ref().map(redact_json);
            }
            s
        });
        ConnectConfig {
            url: self.url(&c.url),
            params,
            headers: self.key_values(&c.headers, true),
            origin: c.origin.as_deref().map(|o| self.text(o).into_owned()),
            auth,
            proxy: match &c.proxy {
                ProxySetting::Url { url } => ProxySetting::Url { url: self.url(url) },
                other => other.clone(),
            },
            socketio,
            ..c.clone()
        }
    }

    pub fn handshake(&self, h: &Handshake) -> Handshake {
        if !self.on {
            return h.clone();
        }
        // `GET /path?query HTTP/1.1`: the target can carry the API key.
        let mut parts = h.request_line.splitn(3, ' ');
        let request_line = match (parts.next(), parts.next(), parts.next()) {
            (Some(m), Some(target), Some(v)) => format!("{m} {} {v}", self.url(target)),
            _ => self.text(&h.request_line).into_owned(),
        };
        Handshake {
            url: self.url(&h.url),
            request_line,
            request_headers: self.headers(&h.request_headers),
            response_headers: self.headers(&h.response_headers),
            proxy: h.proxy.as_ref().map(|p| ProxyInfo {
                exchange: p.exchange.iter().map(|l| self.text(l).into_owned()).collect(),
                ..p.clone()
            }),
            ..h.clone()
        }
    }

    /// A text frame or close reason with the secret values replaced; other frames
    /// (and everything when nothing matches) as they are, without a copy.
    pub fn frame<'a>(&self, f: &'a Frame) -> Cow<'a, Frame> {
        let Some(re) = &self.secrets else {
            return Cow::Borrowed(f);
        };
        match f.opcode {
            Opcode::Text => match f.text() {
                Some(t) if re.is_match(t) => Cow::Owned(Frame {
                    payload: Bytes::from(re.replace_all(t, REDACTED).into_owned()),
                    ..f.clone()
                }),
                _ => Cow::Borrowed(f),
            },
            Opcode::Close => match f.close_info() {
                Some(CloseInfo { code, reason }) if re.is_match(&reason) => Cow::Owned(Frame {
                    payload: close_payload(code, &re.replace_all(&reason, REDACTED)),
                    ..f.clone()
                }),
                _ => Cow::Borrowed(f),
            },
            _ => Cow::Borrowed(f),
        }
    }
}

/// Every string inside a JSON value.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// A JSON value with every string replaced by the redaction mark (keys kept).
fn redact_json(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(_) => serde_json::Value::String(REDACTED.into()),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(redact_json).collect()),
        serde_json::Value::Object(o) => o.iter().map(|(k, x)| (k.clone(), redact_json(x))).collect(),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::Variable;

    #[test]
    fn socketio_namespace_auth_is_redacted_in_the_config_and_the_frames() {
        let config = ConnectConfig {
            socketio: Some(crate::config::SocketIoConfig {
                namespaces: vec![crate::config::SioNamespace::new(
                    "/admin",
                    Some(serde_json::json!({"token": "s3cret-tok", "n": 1})),
                )],
                ..Default::default()
            }),
            ..ConnectConfig::new("http://h/")
        };
        let red = Redactor::new(&Redaction::default(), &config).unwrap();
        let out = red.config(&config);
        let auth = out.socketio.unwrap().namespaces[0].auth.clone().unwrap();
        assert_eq!(auth, serde_json::json!({"token": "[redacted]", "n": 1}));
        assert_eq!(
            red.text(r#"40/admin,{"token":"s3cret-tok"}"#),
            r#"40/admin,{"token":"[redacted]"}"#
        );
    }

    #[test]
    fn an_environments_secret_values_are_redacted_in_text_and_frames() {
        let env = Environment {
            name: "staging".into(),
            variables: vec![
                Variable::new("host", "api.example"),
                Variable::secret("token", "t0k3n"),
                Variable {
                    enabled: false,
                    ..Variable::secret("old", "0ld")
                },
                Variable::secret("empty", ""),
            ],
            ..Environment::default()
        };
        let r = Redaction::with_environment(&env);
        assert_eq!(r.secret_values, ["t0k3n"]);
        let red = Redactor::new(&r, &ConnectConfig::default()).unwrap();
        assert_eq!(red.text("GET api.example t0k3n 0ld"), "GET api.example [redacted] 0ld");
        let f = Frame {
            seq: 1,
            at_us: 0,
            offset_us: 0,
            payload: Bytes::from_static(b"{\"auth\":\"t0k3n\"}"),
            rtt_us: 0,
            compressed_len: 0,
            direction: crate::frame::Direction::Out,
            opcode: Opcode::Text,
        };
        assert_eq!(red.frame(&f).text(), Some("{\"auth\":\"[redacted]\"}"));
        let bin = Frame {
            opcode: Opcode::Binary,
            ..f.clone()
        };
        assert!(
            matches!(red.frame(&bin), Cow::Borrowed(_)),
            "binary payloads are not searched"
        );
    }

    #[test]
    fn urls_lose_passwords_api_keys_and_secret_values() {
        let mut c = ConnectConfig::new("wss://u:pw@h.example/a?room=1&key=K1&x=s3cret#f");
        c.auth = Auth::ApiKey {
            name: "key".into(),
            value: "K1".into(),
            placement: ApiKeyPlacement::Query,
        };
        let r = Redactor::new(
            &Redaction {
                include_secrets: false,
                secret_values: vec!["s3cret".into(), String::new()],
            },
            &c,
        )
        .unwrap();
        assert_eq!(
            r.url(&c.url),
            "wss://u:[redacted]@h.example/a?room=1&key=[redacted]&x=[redacted]#f"
        );
        assert_eq!(r.url("/a?key=K1"), "/a?key=[redacted]");
        assert_eq!(r.header("COOKIE", "a=b"), REDACTED);
        assert_eq!(r.header("X-Other", "has s3cret inside"), "has [redacted] inside");
        let all = Redactor::new(&Redaction::none(), &c).unwrap();
        assert_eq!(all.url(&c.url), c.url);
        assert_eq!(all.header("Cookie", "a=b"), "a=b");
    }

    #[test]
    fn proxy_credentials_are_redacted_like_other_secrets() {
        let mut c = ConnectConfig::new("wss://h.example/");
        c.proxy = ProxySetting::Url {
            url: "socks5h://alice:pr0xy-pw@proxy.corp:1080".into(),
        };
        let r = Redactor::new(&Redaction::default(), &c).unwrap();
        let out = r.config(&c);
        assert_eq!(
            out.proxy,
            ProxySetting::Url {
                url: "socks5h://alice:[redacted]@proxy.corp:1080".into()
            }
        );
        assert_eq!(r.text("echo pr0xy-pw"), "echo [redacted]");
        let all = Redactor::new(&Redaction::none(), &c).unwrap();
        assert_eq!(all.config(&c).proxy, c.proxy);
    }
}
