//! A saved connection's scenario: the steps that make it test itself (send, expect,
//! capture, wait, close, expect-close, repeat). Stored in the connection file under
//! `scenario`; run by [`crate::scenario`]. This is only the shape on disk and its
//! checks: everything a runner would otherwise trip over mid-run (a regex that does
//! not compile, a send with two bodies, a saved message that does not exist) is
//! refused here, naming the step and its line in the file.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SavedMessage;
use crate::error::{Error, Result};

/// Default time an `expect` (or `expectClose`) waits.
pub const DEFAULT_STEP_TIMEOUT_MS: u64 = 5_000;
/// Default time the whole scenario may take.
pub const DEFAULT_RUN_TIMEOUT_MS: u64 = 60_000;
/// A `repeat` runs at most this many iterations (a guard against a typo'd 1e9).
pub const MAX_REPEAT: u64 = 100_000;
/// The longest time any step or run may take or wait: 7 days.
pub const MAX_MS: u64 = 7 * 24 * 3600 * 1000;

/// The steps, in order, and the time limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Scenario {
    /// How long the whole run may take, connecting included.
    pub timeout_ms: u64,
    /// How long a step waits when it does not say (`timeoutMs` on the step).
    pub step_timeout_ms: u64,
    pub steps: Vec<Step>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            timeout_ms: DEFAULT_RUN_TIMEOUT_MS,
            step_timeout_ms: DEFAULT_STEP_TIMEOUT_MS,
            steps: Vec::new(),
        }
    }
}

/// One step. On disk: `{"type": "send", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Step {
    /// Send a saved message (by name) or an inline body; for Socket.IO, an emit.
    Send(Send),
    /// Wait for a received message that matches (or, with `none`, for none to).
    Expect(Expect),
    /// Keep a value of the last matched message as `{{name}}` for later steps.
    Capture(Capture),
    /// Do nothing for `ms` milliseconds.
    Wait { ms: u64 },
    /// Close cleanly.
    Close {
        #[serde(default = "normal_close")]
        code: u16,
        #[serde(default)]
        reason: String,
    },
    /// Wait for the connection to close (with `code`, when given).
    ExpectClose {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Run `steps` `times` times, or every `everyMs` for `forMs` (or `times`).
    Repeat(Repeat),
}

fn normal_close() -> u16 {
    1000
}

/// What to send: exactly one of the body fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Send {
    /// The name of one of the connection's saved messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Sent as its compact JSON text (`{{variables}}` in strings resolve).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Binary, as hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Binary, as base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Socket.IO: emit this event with `args` on `namespace` (default `/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A check on received messages. Every matcher given must hold; none given matches
/// any data message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Expect {
    /// The text is exactly this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The text contains this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The text matches this regular expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The message is JSON containing these fields with these values (a subset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// A JSON pointer (`/data/id`) that must exist in the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// ... and equal this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer_equals: Option<Value>,
    /// The payload is exactly these bytes (hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Socket.IO: the event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Socket.IO: the arguments start with these (each a JSON subset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Value>>,
    /// A negative check: no matching message arrives within the timeout.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub none: bool,
    /// Fail at the first message that does not match, instead of skipping it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Where a captured value comes from: a JSON pointer or a regex group of the last
/// message an `expect` matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Capture {
    /// The variable's name, used later as `{{name}}`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The regex group to keep (default 1, or 0 when the regex has no group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
}

/// A block run several times: `times` iterations back to back, or one iteration every
/// `everyMs`, `times` times or for `forMs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Repeat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
    pub steps: Vec<Step>,
}

impl Step {
    /// The step's kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "send",
            Step::Expect(_) => "expect",
            Step::Capture(_) => "capture",
            Step::Wait { .. } => "wait",
            Step::Close { .. } => "close",
            Step::ExpectClose { .. } => "expectClose",
            Step::Repeat(_) => "repeat",
        }
    }
}

impl Repeat {
    /// How many iterations at most: `times`, or as many `everyMs` ticks as fit in `forMs`.
    pub fn iterations(&self) -> u64 {
        match (self.times, self.every_ms, self.for_ms) {
            (Some(n), _, _) => n,
            (None, Some(every), Some(d)) => d / every.max(1) + 1,
            _ => 1,
        }
    }
}

/// Check every step (and the steps inside repeats) against the connection's saved
/// messages. `path` names the file; `text` is its content, to find each step's line.
pub fn validate(scenario: &Scenario, messages: &[SavedMessage], path: &str, text: Option<&[u8]>) -> Result<()> {
    check_times(scenario).map_err(|reason| Error::Parse {
        path: path.to_owned(),
        line: 0,
        column: 0,
        reason,
    })?;
    check_steps(&scenario.steps, messages, "").map_err(|(step, reason)| {
        let line = text.and_then(|t| step_line(t, &step)).unwrap_or(0);
        Error::Parse {
            path: path.to_owned(),
            line,
            column: if line > 0 { 1 } else { 0 },
            reason: format!("scenario step {step}: {reason}"),
        }
    })
}

type StepProblem = (String, String);

fn check_times(s: &Scenario) -> std::result::Result<(), String> {
    for (key, v) in [("timeoutMs", s.timeout_ms), ("stepTimeoutMs", s.step_timeout_ms)] {
        check_ms(key, Some(v))?;
        if v == 0 {
            return Err(format!("the scenario's \"{key}\" must be at least 1"));
        }
    }
    Ok(())
}

fn check_ms(key: &str, v: Option<u64>) -> std::result::Result<(), String> {
    match v {
        Some(ms) if ms > MAX_MS => Err(format!("\"{key}\" is {ms} ms; at most {MAX_MS} (7 days)")),
        _ => Ok(()),
    }
}

fn check_steps(steps: &[Step], messages: &[SavedMessage], prefix: &str) -> std::result::Result<(), StepProblem> {
    for (i, step) in steps.iter().enumerate() {
        let label = format!("{prefix}{}", i + 1);
        check_step(step, messages).map_err(|r| (label.clone(), r))?;
        if let Step::Repeat(r) = step {
            check_steps(&r.steps, messages, &format!("{label}."))?;
        }
    }
    Ok(())
}

fn check_step(step: &Step, messages: &[SavedMessage]) -> std::result::Result<(), String> {
    match step {
        Step::Send(s) => {
            let bodies = [
                s.message.is_some(),
                s.text.is_some(),
                s.json.is_some(),
                s.hex.is_some(),
                s.base64.is_some(),
                s.event.is_some(),
            ];
            match bodies.iter().filter(|b| **b).count() {
                1 => {}
                0 => {
                    return Err(
                        "a send needs one of \"message\", \"text\", \"json\", \"hex\", \"base64\" or \"event\"".into(),
                    )
                }
                _ => {
                    return Err(
                        "a send takes only one of \"message\", \"text\", \"json\", \"hex\", \"base64\" and \"event\""
                            .into(),
                    )
                }
            }
            if (s.args.is_some() || s.namespace.is_some()) && s.event.is_none() {
                return Err("\"args\" and \"namespace\" go with \"event\" (a Socket.IO emit)".into());
            }
            if let Some(name) = &s.message {
                if !messages.iter().any(|m| &m.name == name) {
                    return Err(format!("there is no saved message named {name:?}"));
                }
            }
            if let Some(h) = &s.hex {
                if !h.contains("{{") {
                    crate::payload::parse_hex(h).map_err(|e| e.to_string())?;
                }
            }
        }
        Step::Expect(e) => {
            check_ms("timeoutMs", e.timeout_ms)?;
            if let Some(r) = &e.regex {
                compile(r)?;
            }
            if let Some(h) = &e.hex {
                crate::payload::parse_hex(h).map_err(|e| e.to_string())?;
            }
            if let Some(p) = &e.pointer {
                check_pointer(p)?;
            }
            if e.pointer_equals.is_some() && e.pointer.is_none() {
                return Err("\"pointerEquals\" needs a \"pointer\"".into());
            }
            if e.args.is_some() && e.event.is_none() {
                return Err("\"args\" goes with \"event\" (a Socket.IO event)".into());
            }
            if e.none && e.strict {
                return Err("a negative check (\"none\") cannot be \"strict\"".into());
            }
        }
        Step::Capture(c) => {
            super::vars::check_variable_name(&c.name).map_err(|e| e.to_string())?;
            match (&c.pointer, &c.regex) {
                (Some(p), None) => check_pointer(p)?,
                (None, Some(r)) => {
                    let re = compile(r)?;
                    let group = c.group.unwrap_or(1);
                    if group >= re.captures_len() && c.group.is_some() {
                        return Err(format!("the regex has no group {group}"));
                    }
                }
                _ => return Err("a capture needs one of \"pointer\" and \"regex\"".into()),
            }
        }
        Step::Close { code, reason } => crate::payload::validate_close(*code, reason).map_err(|e| e.to_string())?,
        Step::Wait { ms } => check_ms("ms", Some(*ms))?,
        Step::ExpectClose { timeout_ms, .. } => check_ms("timeoutMs", *timeout_ms)?,
        Step::Repeat(r) => {
            check_ms("everyMs", r.every_ms)?;
            check_ms("forMs", r.for_ms)?;
            if r.times.is_none() && (r.every_ms.is_none() || r.for_ms.is_none()) {
                return Err("a repeat needs \"times\", or \"everyMs\" with \"forMs\"".into());
            }
            if r.every_ms == Some(0) {
                return Err("\"everyMs\" must be at least 1".into());
            }
            if r.iterations() > MAX_REPEAT {
                return Err(format!("a repeat runs at most {MAX_REPEAT} times"));
            }
            if r.steps.is_empty() {
                return Err("a repeat needs \"steps\"".into());
            }
        }
    }
    Ok(())
}

fn compile(r: &str) -> std::result::Result<Regex, String> {
    Regex::new(r).map_err(|e| format!("the regex {r:?} does not compile: {e}"))
}

fn check_pointer(p: &str) -> std::result::Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "the JSON pointer {p:?} must start with \"/\" (e.g. \"/data/id\")"
        ))
    }
}

/// The 1-based line where step `label` ("3", or "2.1" inside a repeat) starts in the
/// connection file `text`, found by walking the JSON (no positions survive parsing).
pub fn step_line(text: &[u8], label: &str) -> Option<usize> {
    step_line_from(text, value_after_key(text, 0, b"scenario")?, label)
}

/// [`step_line`] for the scenario object that starts at (or after) `at`.
fn step_line_from(text: &[u8], mut at: usize, label: &str) -> Option<usize> {
    for part in label.split('.') {
        let index: usize = part.parse::<usize>().ok()?.checked_sub(1)?;
        at = value_after_key(text, at, b"steps")?;
        at = array_element(text, at, index)?;
    }
    Some(text[..at].iter().filter(|&&b| b == b'\n').count() + 1)
}

/// The offset of the value of the first `"key":` at or after `from` in the object
/// that starts at (or after) `from`, at that object's own level.
fn value_after_key(text: &[u8], from: usize, key: &[u8]) -> Option<usize> {
    let start = from + text[from..].iter().position(|&b| b == b'{')?;
    let mut i = start + 1;
    let mut depth = 0usize;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let end = string_end(text, i)?;
                if depth == 0 && &text[i + 1..end] == key {
                    let colon = end + 1 + text[end + 1..].iter().position(|&b| b == b':')?;
                    return Some(colon + 1 + text[colon + 1..].iter().position(|b| !b.is_ascii_whitespace())?);
                }
                i = end;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return None,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of element `index` of the array starting at `at`.
fn array_element(text: &[u8], at: usize, index: usize) -> Option<usize> {
    if text.get(at) != Some(&b'[') {
        return None;
    }
    let mut i = at + 1;
    let mut depth = 0usize;
    let mut n = 0usize;
    let mut expecting = true;
    while i < text.len() {
        let b = text[i];
        if expecting && !b.is_ascii_whitespace() {
            if b == b']' {
                return None;
            }
            if n == index {
                return Some(i);
            }
            expecting = false;
        }
        match b {
            b'"' => i = string_end(text, i)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return None,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => {
                n += 1;
                expecting = true;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the closing quote of the string starting at `at`.
fn string_end(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A scenario on its own (the app's editor): parsed and checked against the
/// connection's saved messages; an error names the line (and the step) in `text`.
pub fn parse_scenario(text: &str, messages: &[SavedMessage], place: &str) -> Result<Scenario> {
    let parse_error = |line: usize, column: usize, reason: String| Error::Parse {
        path: place.to_owned(),
        line,
        column,
        reason,
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| parse_error(e.line(), e.column(), crate::parse::strip_location(&e.to_string())))?;
    let scenario: Scenario = serde_json::from_value(value.clone()).map_err(|e| {
        let wrapped = serde_json::json!({ "scenario": value });
        match failing_step(&wrapped) {
            Some((step, why)) => {
                let line = step_line_from(text.as_bytes(), 0, &step).unwrap_or(0);
                parse_error(line, usize::from(line > 0), format!("scenario step {step}: {why}"))
            }
            None => parse_error(0, 0, e.to_string()),
        }
    })?;
    check_times(&scenario).map_err(|reason| parse_error(0, 0, reason))?;
    check_steps(&scenario.steps, messages, "").map_err(|(step, reason)| {
        let line = step_line_from(text.as_bytes(), 0, &step).unwrap_or(0);
        parse_error(line, usize::from(line > 0), format!("scenario step {step}: {reason}"))
    })?;
    Ok(scenario)
}

/// When a connection file does not parse and the fault is inside its scenario, which
/// step (by label) holds it: each step is parsed on its own to find the first bad one.
pub fn failing_step(value: &Value) -> Option<(String, String)> {
    fn walk(steps: &[Value], prefix: &str) -> Option<(String, String)> {
        for (i, s) in steps.iter().enumerate() {
            let label = format!("{prefix}{}", i + 1);
            if let Some(inner) = s.get("steps").and_then(Value::as_array) {
                if let Some(found) = walk(inner, &format!("{label}.")) {
                    return Some(found);
                }
            }
            if let Err(e) = serde_json::from_value::<Step>(s.clone()) {
                return Some((label, e.to_string()));
            }
        }
        None
    }
    walk(value.get("scenario")?.get("steps")?.as_array()?, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
  "version": 2,
  "name": "x",
  "scenario": {
    "steps": [
      { "type": "send", "text": "a" },
      {
        "type": "repeat", "times": 2,
        "steps": [
          { "type": "wait", "ms": 1 },
          { "type": "expect", "contains": "[x]" }
        ]
      }
    ]
  }
}"#;

    #[test]
    fn steps_are_found_by_line() {
        assert_eq!(step_line(FILE.as_bytes(), "1"), Some(6));
        assert_eq!(step_line(FILE.as_bytes(), "2"), Some(7));
        assert_eq!(step_line(FILE.as_bytes(), "2.2"), Some(11));
        assert_eq!(step_line(FILE.as_bytes(), "3"), None);
    }

    #[test]
    fn the_editor_text_is_checked_with_lines() {
        let text = "{\n  \"steps\": [\n    { \"type\": \"wait\", \"ms\": 1 },\n    { \"type\": \"send\" }\n  ]\n}";
        let e = parse_scenario(text, &[], "the scenario").unwrap_err().to_string();
        assert!(
            e.contains("(line 4, column 1): scenario step 2: a send needs one of"),
            "{e}"
        );
        let e = parse_scenario(&text.replace("\"ms\": 1", "\"ms\": x"), &[], "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("(line 3, column"), "{e}");
        let e = parse_scenario(&text.replace("\"send\" }", "\"sned\" }"), &[], "s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(line 4, column 1): scenario step 2: unknown variant `sned`"),
            "{e}"
        );
        let long = text.replace("\"ms\": 1", "\"ms\": 18446744073709551615");
        let e = parse_scenario(&long, &[], "s").unwrap_err().to_string();
        assert!(
            e.contains("(line 3, column 1): scenario step 1: \"ms\" is 18446744073709551615 ms; at most"),
            "{e}"
        );
        let e = parse_scenario("{\"timeoutMs\": 0}", &[], "s").unwrap_err().to_string();
        assert!(e.contains("\"timeoutMs\" must be at least 1"), "{e}");
        let ok = parse_scenario(&text.replace("\"send\" }", "\"send\", \"text\": \"a\" }"), &[], "s").unwrap();
        assert_eq!(ok.steps.len(), 2);
    }

    #[test]
    fn a_bad_step_is_named() {
        let v: Value = serde_json::from_str(&FILE.replace("\"ms\": 1", "\"ms\": \"soon\"")).unwrap();
        let (label, why) = failing_step(&v).unwrap();
        assert_eq!(label, "2.1");
        assert!(why.contains("invalid type"), "{why}");
    }
}
