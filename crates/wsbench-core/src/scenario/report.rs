//! What a run produced: one [`ScenarioReport`] per scenario, a result per top-level
//! step, and the readable summary the CLI prints. Secrets and captured values never
//! appear in a report (the runner redacts them before a result is made).

use serde::{Deserialize, Serialize};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Not run: an earlier step failed or the run's time ran out.
    Skipped,
}

/// One top-level step's result (a repeat is one result for all its iterations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// 1-based position in the scenario ("3").
    pub step: usize,
    /// `send`, `expect`, … as in the file.
    pub kind: String,
    /// The step in words: `send text "hi"`, `expect contains "ok"`.
    pub title: String,
    pub status: StepStatus,
    pub duration_ms: u64,
    /// Why it failed, or what it did (`captured token`, `12 iterations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A failed expect: what it wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// A failed expect: the last message that arrived instead (or "nothing").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived: Option<String>,
    /// The frame in the log the result is about (sent, matched or arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_seq: Option<u64>,
}

impl StepResult {
    /// The result with each of `values` replaced by `[redacted]` in its texts.
    pub fn redacted(&self, values: &[String]) -> StepResult {
        let h = |s: &Option<String>| s.as_deref().map(|s| redact(s, values));
        StepResult {
            title: redact(&self.title, values),
            message: h(&self.message),
            expected: h(&self.expected),
            arrived: h(&self.arrived),
            ..self.clone()
        }
    }
}

/// One scenario's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    /// The connection's name.
    pub name: String,
    /// Where it came from (a workspace-relative file, or a path).
    pub source: String,
    pub passed: bool,
    pub duration_ms: u64,
    pub steps: Vec<StepResult>,
    /// A failure outside any step: could not connect, no scenario, bad variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Totals over several reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub steps: usize,
    pub steps_failed: usize,
    pub steps_skipped: usize,
    pub duration_ms: u64,
}

impl RunSummary {
    pub fn of(reports: &[ScenarioReport]) -> Self {
        let mut s = RunSummary {
            scenarios: reports.len(),
            ..Self::default()
        };
        for r in reports {
            if r.passed {
                s.passed += 1;
            } else {
                s.failed += 1;
            }
            s.steps += r.steps.len();
            s.steps_failed += r.steps.iter().filter(|x| x.status == StepStatus::Failed).count();
            s.steps_skipped += r.steps.iter().filter(|x| x.status == StepStatus::Skipped).count();
            s.duration_ms = s.duration_ms.max(r.duration_ms);
        }
        s
    }
}

impl ScenarioReport {
    /// The readable summary: `PASS name (source) 4 steps in 0.12 s`, and under a
    /// failure one line per failed step with what was expected and what arrived.
    pub fn summary(&self) -> String {
        let secs = self.duration_ms as f64 / 1000.0;
        let mut out = format!(
            "{} {} ({}): {} steps in {secs:.2} s\n",
            if self.passed { "PASS" } else { "FAIL" },
            self.name,
            self.source,
            self.steps.len()
        );
        if let Some(e) = &self.error {
            out.push_str(&format!("  error: {e}\n"));
        }
        for s in self.steps.iter().filter(|s| s.status == StepStatus::Failed) {
            out.push_str(&format!(
                "  step {} {}: {}",
                s.step,
                s.title,
                s.message.as_deref().unwrap_or("failed")
            ));
            if let Some(e) = &s.expected {
                out.push_str(&format!("; expected {e}"));
            }
            if let Some(a) = &s.arrived {
                out.push_str(&format!("; arrived {a}"));
            }
            if let Some(seq) = s.frame_seq {
                out.push_str(&format!(" (frame #{seq})"));
            }
            out.push('\n');
        }
        out
    }
}

/// The JSON report: the totals and every scenario's report.
pub fn json_report(reports: &[ScenarioReport]) -> serde_json::Value {
    serde_json::json!({
        "summary": RunSummary::of(reports),
        "scenarios": reports,
    })
}

/// `s` with each value replaced by `[redacted]` (longest first, so a value holding
/// another is replaced whole).
pub fn redact(s: &str, values: &[String]) -> String {
    let mut out = s.to_owned();
    let mut v: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
    v.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for value in v {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), "[redacted]");
        }
    }
    out
}
