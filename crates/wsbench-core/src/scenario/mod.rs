//! Running a saved connection's scenario (the steps are in
//! [`crate::collections::scenario`]): the runner drives a real session, so every frame
//! lands in the tab's log as usual, and produces a report (readable text, JUnit XML,
//! JSON) with each step's result. A failing scenario never hangs: every wait has a
//! timeout and the whole run has one.
//!
//! ```text
//! runner.rs  connect, run the steps in order, close    -> ScenarioReport (report.rs)
//! matcher.rs does a received message match an expect; captures
//! junit.rs   reports as JUnit XML (GitHub Actions, GitLab, Jenkins)
//! ```

pub mod junit;
pub mod matcher;
pub mod report;
pub mod runner;
pub mod select;

pub use report::{RunSummary, ScenarioReport, StepResult, StepStatus};
pub use runner::{run, RunOptions, StepHook};
pub use select::scenario_ids;
