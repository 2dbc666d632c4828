//! `{{name}}` variables: resolved from the active environment in the URL, params,
//! headers, Origin, subprotocols, auth and message bodies, just before use. The
//! built-ins `{{$timestamp}}`, `{{$isoTimestamp}}`, `{{$uuid}}` and `{{$randomInt}}`
//! give a fresh value at each use; `{{$counter}}` is the iteration number of a
//! periodic send or a scenario's repeat (1, 2, 3, …), elsewhere a process-wide count
//! of its uses. An unknown name is an error that names it and
//! where it was found, before anything is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use regex::Regex;

use crate::config::{Auth, ConnectConfig, ProxySetting};
use crate::error::{Error, Result};

use super::Variable;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}").unwrap()
});

/// A name `{{name}}` can refer to: a letter or `_`, then letters, digits, `_`, `.`, `-`.
static VARIABLE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"^[A-Za-z_][A-Za-z0-9_.\-]*$").unwrap()
});

/// Refuse a variable name that a `{{name}}` placeholder could never use, with a
/// sentence that says why: empty, a built-in's `$`, spaces or braces, or another
/// character outside letters, digits, `_`, `.` and `-` (not starting with a digit).
pub fn check_variable_name(name: &str) -> Result<()> {
    let why = if name.trim().is_empty() {
        return Err(Error::InvalidName("a variable needs a name".into()));
    } else if VARIABLE_NAME.is_match(name) {
        return Ok(());
    } else if name.starts_with('$') {
        "names starting with `$` belong to wsbench's built-ins ({{$timestamp}}, {{$uuid}}, …)"
    } else if name.contains(['{', '}']) {
        "write the name without the braces"
    } else if name.chars().any(char::is_whitespace) {
        "it cannot contain spaces"
    } else {
        "use letters, digits, `_`, `.` and `-`, starting with a letter or `_`"
    };
    Err(Error::InvalidName(format!(
        "{name:?} is not a valid variable name: {why}"
    )))
}

/// Values may refer to other variables; this bounds the chain (and catches cycles).
const MAX_DEPTH: usize = 8;

/// The variables in scope: the enabled variables of the active environment.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: HashMap<String, String>,
    /// What `{{$counter}}` is: set by a periodic send or a repeat for each iteration.
    counter: Option<u64>,
}

/// `{{$counter}}` outside a periodic send or a repeat: counts its uses in the process.
static USES: AtomicU64 = AtomicU64::new(0);

impl Vars {
    pub fn new<'a>(variables: impl IntoIterator<Item = &'a Variable>) -> Self {
        let values = variables
            .into_iter()
            .filter(|v| v.enabled && !v.name.is_empty())
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect();
        Self { values, counter: None }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Set (or replace) `{{name}}`: e.g. a value a scenario captured. Kept in memory only.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// What `{{$counter}}` is set to, if anything.
    pub fn counter(&self) -> Option<u64> {
        self.counter
    }

    /// Set (or, with `None`, unset) what `{{$counter}}` is.
    pub fn set_counter(&mut self, n: Option<u64>) {
        self.counter = n;
    }

    /// A copy where `{{$counter}}` is `n`.
    pub fn with_counter(&self, n: u64) -> Self {
        Self {
            counter: Some(n),
            ..self.clone()
        }
    }

    /// Replace every `{{name}}` in `s`. `place` says where `s` came from, for the error
    /// ("header Authorization", "the URL", "message Login").
    pub fn resolve(&self, s: &str, place: &str) -> Result<String> {
        self.resolve_depth(s, place, 0)
    }

    fn resolve_depth(&self, s: &str, place: &str, depth: usize) -> Result<String> {
        if !s.contains("{{") {
            return Ok(s.to_owned());
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for cap in PLACEHOLDER.captures_iter(s) {
            let (Some(all), Some(name)) = (cap.get(0), cap.get(1)) else {
                continue;
            };
            out.push_str(&s[last..all.start()]);
            last = all.end();
            let name = name.as_str();
            if name == "$counter" {
                let n = self.counter.unwrap_or_else(|| USES.fetch_add(1, Ordering::Relaxed) + 1);
                out.push_str(&n.to_string());
                continue;
            }
            if let Some(v) = builtin(name) {
                out.push_str(&v);
                continue;
            }
            let Some(value) = self.values.get(name) else {
                return Err(Error::UnknownVariable {
                    name: name.to_owned(),
                    place: place.to_owned(),
                });
            };
            if depth >= MAX_DEPTH {
                return Err(Error::VariableCycle {
                    name: name.to_owned(),
                    place: place.to_owned(),
                    depth: MAX_DEPTH,
                });
            }
            out.push_str(&self.resolve_depth(value, place, depth + 1)?);
        }
        out.push_str(&s[last..]);
        Ok(out)
    }

    /// A copy of `config` with every variable resolved, ready to connect. Disabled
    /// rows are left as they are (they are not sent).
    pub fn resolve_config(&self, config: &ConnectConfig) -> Result<ConnectConfig> {
        let mut c = config.clone();
        c.url = self.resolve(&c.url, "the URL")?;
        for p in c.params.iter_mut().filter(|p| p.enabled) {
            let place = format!("query parameter {}", p.name);
            p.name = self.resolve(&p.name, &place)?;
            p.value = self.resolve(&p.value, &place)?;
        }
        for h in c.headers.iter_mut().filter(|h| h.enabled) {
            let place = format!("header {}", h.name);
            h.name = self.resolve(&h.name, &place)?;
            h.value = self.resolve(&h.value, &place)?;
        }
        for s in c.subprotocols.iter_mut() {
            *s = self.resolve(s, "the subprotocols")?;
        }
        if let Some(o) = c.origin.as_mut() {
            *o = self.resolve(o, "the Origin")?;
        }
        if let ProxySetting::Url { url } = &mut c.proxy {
            *url = self.resolve(url, "the proxy URL")?;
        }
        match &mut c.auth {
            Auth::None => {}
            Auth::Bearer { token } => *token = self.resolve(token, "the bearer token")?,
            Auth::Basic { username, password } => {
                *username = self.resolve(username, "the basic auth username")?;
                *password = self.resolve(password, "the basic auth password")?;
            }
            Auth::ApiKey { name, value, .. } => {
                *name = self.resolve(name, "the API key name")?;
                *value = self.resolve(value, "the API key value")?;
            }
        }
        Ok(c)
    }
}

/// Names of the `{{variables}}` used in `s`, built-ins excluded, in order of use.
pub fn variables_in(s: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for cap in PLACEHOLDER.captures_iter(s) {
        if let Some(n) = cap.get(1).map(|m| m.as_str()) {
            if !n.starts_with('$') && !names.iter().any(|x| x == n) {
                names.push(n.to_owned());
            }
        }
    }
    names
}

fn builtin(name: &str) -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Some(match name {
        "$timestamp" => now.as_secs().to_string(),
        "$isoTimestamp" => iso_timestamp(now.as_millis() as i64),
        "$uuid" => uuid_v4(),
        "$randomInt" => fastrand::u32(0..=1000).to_string(),
        _ => return None,
    })
}

/// A random (version 4) UUID, lower-case hex with dashes.
pub fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `2026-11-22T10:31:05.123Z` for milliseconds since the Unix epoch (UTC).
pub fn iso_timestamp(ms: i64) -> String {
    crate::time::iso_ms(ms.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_and_uuids_have_their_shape() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_timestamp(1_795_343_465_123), "2026-11-22T10:31:05.123Z");
        assert_eq!(iso_timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
        let u = uuid_v4();
        assert_eq!((u.len(), &u[14..15]), (36, "4"), "{u}");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(uuid_v4(), uuid_v4());
    }

    #[test]
    fn counter_is_the_iteration_when_set_and_counts_uses_otherwise() {
        let mut v = Vars::default();
        v.set("who", "ann");
        assert_eq!(
            v.with_counter(7).resolve("{{who}} #{{$counter}}", "t").unwrap(),
            "ann #7"
        );
        let a: u64 = v.resolve("{{$counter}}", "t").unwrap().parse().unwrap();
        let b: u64 = v.resolve("{{ $counter }}", "t").unwrap().parse().unwrap();
        assert!(b > a && a >= 1, "{a} then {b}");
    }
}
