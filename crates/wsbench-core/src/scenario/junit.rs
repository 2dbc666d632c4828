//! Reports as JUnit XML, the format CI systems read (GitHub Actions reporters, GitLab,
//! Jenkins): `<testsuites>`, a `<testsuite>` per scenario, a `<testcase>` per step,
//! with `<failure>` (expected, arrived) or `<skipped/>`.

use super::report::{RunSummary, ScenarioReport, StepStatus};

/// The whole document.
pub fn junit_xml(reports: &[ScenarioReport]) -> String {
    let sum = RunSummary::of(reports);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"wsbench\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">\n",
        sum.steps.max(sum.scenarios),
        sum.steps_failed + reports.iter().filter(|r| r.steps.is_empty() && !r.passed).count(),
        sum.steps_skipped,
        secs(sum.duration_ms)
    ));
    for r in reports {
        suite(&mut x, r);
    }
    x.push_str("</testsuites>\n");
    x
}

fn suite(x: &mut String, r: &ScenarioReport) {
    let failed = r.steps.iter().filter(|s| s.status == StepStatus::Failed).count();
    let skipped = r.steps.iter().filter(|s| s.status == StepStatus::Skipped).count();
    let lone_error = r.steps.is_empty() && r.error.is_some();
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\">\n",
        esc(&r.name),
        r.steps.len().max(usize::from(lone_error)),
        failed + usize::from(lone_error),
        secs(r.duration_ms)
    ));
    let class = esc(&r.source);
    if lone_error {
        x.push_str(&format!(
            "    <testcase classname=\"{class}\" name=\"connect\" time=\"0\">\n"
        ));
        let e = esc(r.error.as_deref().unwrap_or_default());
        x.push_str(&format!(
            "      <failure message=\"{e}\">{e}</failure>\n    </testcase>\n"
        ));
    }
    for s in &r.steps {
        x.push_str(&format!(
            "    <testcase classname=\"{class}\" name=\"{}\" time=\"{}\"",
            esc(&format!("{} {}", s.step, s.title)),
            secs(s.duration_ms)
        ));
        match s.status {
            StepStatus::Passed => x.push_str("/>\n"),
            StepStatus::Skipped => x.push_str(">\n      <skipped/>\n    </testcase>\n"),
            StepStatus::Failed => {
                let msg = s.message.as_deref().unwrap_or("failed");
                let mut body = msg.to_owned();
                if let Some(e) = &s.expected {
                    body.push_str(&format!("\nexpected: {e}"));
                }
                if let Some(a) = &s.arrived {
                    body.push_str(&format!("\narrived: {a}"));
                }
                if let Some(seq) = s.frame_seq {
                    body.push_str(&format!("\nframe: #{seq}"));
                }
                x.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    esc(msg),
                    esc(&body)
                ));
            }
        }
    }
    if let (Some(e), false) = (&r.error, lone_error) {
        x.push_str(&format!("    <system-err>{}</system-err>\n", esc(e)));
    }
    x.push_str("  </testsuite>\n");
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// Text for an XML attribute or element: markup escaped, and characters XML 1.0
/// cannot hold (control characters but tab and newlines) replaced.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
