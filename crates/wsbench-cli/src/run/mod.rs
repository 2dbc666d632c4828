//! `wsbench-cli run`: run the scenarios of saved connections headless (in CI), print a
//! readable summary, write JUnit XML / JSON reports, and exit 0 (all passed), 1 (some
//! failed) or 2 (bad input: a file that does not validate, an unknown environment).
//!
//! `load` turns the PATH arguments into jobs; this file runs them and reports.

mod load;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsbench_core::collections::scenario::MAX_MS;
use wsbench_core::scenario::junit::junit_xml;
use wsbench_core::scenario::report::json_report;
use wsbench_core::scenario::{run, RunOptions, RunSummary, ScenarioReport};
use wsbench_core::{NullSink, SessionManager};

use crate::{EXIT_FAILED, EXIT_USAGE};

#[derive(clap::Args)]
pub struct RunArgs {
    /// A saved connection file, a collection folder or a workspace folder (repeatable);
    /// every connection with a scenario in it runs
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Resolve {{variables}} from this environment of the workspace
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Set a variable (repeatable; wins over the environment)
    #[arg(long = "var", value_name = "K=V")]
    pub vars: Vec<String>,
    /// Write a report: junit:FILE (JUnit XML) or json:FILE (repeatable)
    #[arg(long = "reporter", value_name = "KIND:FILE")]
    pub reporters: Vec<String>,
    /// Run up to N scenarios at once
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub parallel: usize,
    /// Stop starting scenarios after the first failure
    #[arg(long)]
    pub bail: bool,
    /// Time limit of each scenario, in seconds (instead of the scenario's timeoutMs)
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
}

enum Reporter {
    Junit(PathBuf),
    Json(PathBuf),
}

fn reporters(specs: &[String]) -> Result<Vec<Reporter>, String> {
    specs
        .iter()
        .map(|s| match s.split_once(':') {
            Some(("junit", f)) if !f.is_empty() => Ok(Reporter::Junit(f.into())),
            Some(("json", f)) if !f.is_empty() => Ok(Reporter::Json(f.into())),
            _ => Err(format!("--reporter {s:?}: use junit:FILE or json:FILE")),
        })
        .collect()
}

fn time_limit(t: Option<f64>) -> Result<Option<Duration>, String> {
    match t {
        None => Ok(None),
        Some(t) => match Duration::try_from_secs_f64(t) {
            Ok(d) if !d.is_zero() && d.as_millis() <= u128::from(MAX_MS) => Ok(Some(d)),
            _ => Err(format!(
                "--timeout {t}: not a number of seconds above 0 and within 7 days (e.g. 30 or 0.5)"
            )),
        },
    }
}

pub async fn run_cmd(args: RunArgs) -> u8 {
    let prepared = (|| {
        let reps = reporters(&args.reporters)?;
        let timeout = time_limit(args.timeout)?;
        if args.parallel == 0 {
            return Err("--parallel must be at least 1".to_owned());
        }
        let jobs = load::jobs(&args.paths, args.env.as_deref(), &args.vars)?;
        Ok((reps, timeout, jobs))
    })();
    let (reps, timeout, jobs) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_USAGE;
        }
    };
    let started = Instant::now();
    let total = jobs.len();
    let reports = run_all(jobs, timeout, args.parallel, args.bail).await;
    let mut sum = RunSummary::of(&reports);
    sum.duration_ms = started.elapsed().as_millis() as u64;
    let not_run = total - reports.len();
    println!(
        "{} scenario{}: {} passed, {} failed{} ({} steps, {} failed, {} skipped) in {:.2} s",
        sum.scenarios,
        if sum.scenarios == 1 { "" } else { "s" },
        sum.passed,
        sum.failed,
        if not_run > 0 {
            format!(", {not_run} not run (--bail)")
        } else {
            String::new()
        },
        sum.steps,
        sum.steps_failed,
        sum.steps_skipped,
        sum.duration_ms as f64 / 1000.0
    );
    let mut code = if sum.failed > 0 { EXIT_FAILED } else { 0 };
    for r in reps {
        let (path, body) = match r {
            Reporter::Junit(p) => (p, junit_xml(&reports)),
            Reporter::Json(p) => {
                let v = json_report(&reports);
                (p, serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")
            }
        };
        if let Err(e) = std::fs::write(&path, body) {
            eprintln!("wsbench-cli: cannot write the report {}: {e}", path.display());
            code = EXIT_FAILED;
        }
    }
    code
}

/// Run the jobs, `parallel` at a time, started in order; print each summary in job
/// order as soon as it is known. With `bail`, nothing starts after a failure.
async fn run_all(jobs: Vec<load::Job>, timeout: Option<Duration>, parallel: usize, bail: bool) -> Vec<ScenarioReport> {
    let manager = Arc::new(SessionManager::new(Arc::new(NullSink)));
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel));
    let failed = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<tokio::task::JoinHandle<ScenarioReport>>();
    let printer = tokio::spawn(async move {
        let mut reports = Vec::new();
        while let Some(h) = rx.recv().await {
            if let Ok(r) = h.await {
                print!("{}", r.summary());
                reports.push(r);
            }
        }
        reports
    });
    for job in jobs {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        if bail && failed.load(Ordering::SeqCst) {
            break;
        }
        let (manager, failed) = (manager.clone(), failed.clone());
        let handle = tokio::spawn(async move {
            let id = manager.create(job.connection.name.clone(), job.connection.config.clone());
            let opts = RunOptions {
                vars: job.vars,
                secrets: job.secrets,
                timeout,
                on_step: None,
                source: job.source,
            };
            let report = run(&manager, id, &job.connection, opts).await;
            let _ = manager.remove(id);
            if !report.passed {
                failed.store(true, Ordering::SeqCst);
            }
            drop(permit);
            report
        });
        let _ = tx.send(handle);
    }
    drop(tx);
    let reports = printer.await.unwrap_or_default();
    let _ = manager.shutdown(Duration::from_secs(2)).await;
    reports
}
