//! The rule that keeps secrets out of files people commit: before a connection is
//! written, the value of every enabled secret variable is replaced by `{{name}}`.
//! The same rule (enabled, non-empty secret values) says what an export redacts.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Workspace;
use crate::collections::SavedConnection;
use crate::error::{Error, Result};

impl Workspace {
    /// Before a connection is written: replace every occurrence of the value of an
    /// enabled, non-empty secret variable (of any environment) by `{{name}}`, in every
    /// string of the connection. Returns the names of the variables replaced.
    pub(super) fn scrub_secrets(&self, conn: &mut SavedConnection) -> Result<Vec<String>> {
        let mut secrets: Vec<(&str, &str)> = self
            .environments
            .values()
            .flat_map(|e| e.env.variables.iter())
            .filter(|v| v.hides_value())
            .map(|v| (v.name.as_str(), v.value.as_str()))
            .collect();
        if secrets.is_empty() {
            return Ok(Vec::new());
        }
        // Longest value first, so a secret that contains another is replaced whole.
        secrets.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        let mut replaced = BTreeSet::new();
        // Only free-text strings change, so the value always reads back; if it ever did
        // not, the save fails rather than write a secret.
        let unreadable = |e: serde_json::Error| Error::Io(format!("cannot hide secret values: {e}"));
        let mut value = serde_json::to_value(&*conn).map_err(unreadable)?;
        scrub_value(&mut value, &secrets, &mut replaced);
        if replaced.is_empty() {
            return Ok(Vec::new());
        }
        *conn = serde_json::from_value(value).map_err(unreadable)?;
        Ok(replaced.into_iter().map(str::to_owned).collect())
    }

    /// The values an export redacts by default: every enabled, non-empty secret
    /// value in the workspace's environments, sorted, each once.
    pub fn secret_values(&self) -> Vec<String> {
        let mut values: Vec<String> = self
            .environments
            .values()
            .flat_map(|e| e.env.variables.iter())
            .filter(|v| v.hides_value())
            .map(|v| v.value.clone())
            .collect();
        values.sort();
        values.dedup();
        values
    }
}

/// Keys whose strings are fixed tags (enum variants), never free text.
const TAG_KEYS: [&str; 3] = ["type", "format", "placement"];

fn scrub_value<'a>(value: &mut Value, secrets: &[(&'a str, &str)], replaced: &mut BTreeSet<&'a str>) {
    match value {
        Value::String(s) => {
            if let Some(new) = replace_secrets(s, secrets, replaced) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets, replaced)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if !(TAG_KEYS.contains(&k.as_str()) && v.is_string()) {
                    scrub_value(v, secrets, replaced);
                }
            }
        }
        _ => {}
    }
}

/// `s` with every secret value replaced by `{{name}}` in one left-to-right pass (a
/// replacement is never scanned again), or `None` when it holds none. A `{{variable}}`
/// already in the text is kept as it is, so saving twice gives the same bytes.
fn replace_secrets<'a>(s: &str, secrets: &[(&'a str, &str)], replaced: &mut BTreeSet<&'a str>) -> Option<String> {
    if !secrets.iter().any(|(_, v)| s.contains(v)) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = placeholder_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        match secrets.iter().find(|(_, v)| rest.starts_with(v)) {
            Some((name, v)) => {
                out.push_str("{{");
                out.push_str(name);
                out.push_str("}}");
                replaced.insert(name);
                rest = &rest[v.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// The length of a `{{name}}` at the start of `s` (a name of letters, digits, `_`, `-`
/// or `.`), if there is one.
fn placeholder_len(s: &str) -> Option<usize> {
    let inner = s.strip_prefix("{{")?;
    let end = inner.find("}}")?;
    let name = &inner[..end];
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(end + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_is_one_pass_and_longest_first() {
        let secrets = [("long", "abcdef"), ("short", "abc"), ("t", "to")];
        let mut seen = BTreeSet::new();
        let out = replace_secrets("x abcdef abc token", &secrets, &mut seen).unwrap();
        assert_eq!(out, "x {{long}} {{short}} {{t}}ken");
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["long", "short", "t"]);
        assert!(replace_secrets("nothing here", &secrets, &mut BTreeSet::new()).is_none());
        // Variables already in the text stay; JSON braces are not variables.
        let mut seen = BTreeSet::new();
        assert_eq!(
            replace_secrets("{{token}} to {{\"k\":\"abc\"}}", &secrets, &mut seen).unwrap(),
            "{{token}} {{t}} {{\"k\":\"{{short}}\"}}"
        );
        let mut seen = BTreeSet::new();
        assert_eq!(
            replace_secrets("ünï abc", &secrets, &mut seen).unwrap(),
            "ünï {{short}}"
        );
    }
}
