//! The runner: connect a session with the saved connection's config, run the steps
//! in order against what arrives in its log, close, and report. Every wait is bounded
//! by the step's timeout and by the run's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::collections::scenario::{Capture, Expect, Repeat, Scenario, Send as SendStep, Step, MAX_MS};
use crate::collections::vars::Vars;
use crate::collections::SavedConnection;
use crate::connection::{ConnState, Outgoing};
use crate::error::Result;
use crate::events::SessionId;
use crate::session::{Session, SessionManager};
use crate::socketio::SioCommand;

use super::matcher::{self, Incoming, Ready};
use super::report::{redact, ScenarioReport, StepResult, StepStatus};

/// Called with each top-level step's result as soon as it is known, secrets redacted
/// but captured values shown (it is the user's own session, on their screen); the
/// report, which may be written to a file, keeps both out.
pub type StepHook = Arc<dyn Fn(&StepResult) + Send + Sync>;

/// How to run: the variables in scope, the values to keep out of the report, and a
/// time limit that overrides the scenario's own.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub vars: Vars,
    /// Secret values (redacted from the report).
    pub secrets: Vec<String>,
    pub timeout: Option<Duration>,
    pub on_step: Option<StepHook>,
    /// Where the connection came from, for the report.
    pub source: String,
}

/// How a step ended when it did not pass.
#[derive(Debug, Default)]
struct Failure {
    message: String,
    expected: Option<String>,
    arrived: Option<String>,
    seq: Option<u64>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        Failure::new(e.to_string())
    }
}

/// A step that passed: what to say about it.
#[derive(Debug, Default)]
struct Done {
    message: Option<String>,
    seq: Option<u64>,
}

type StepOutcome = std::result::Result<Done, Failure>;

struct Run<'a> {
    manager: &'a SessionManager,
    id: SessionId,
    session: Arc<Session>,
    conn: &'a SavedConnection,
    vars: Vars,
    /// The next log sequence number an expect looks at.
    cursor: u64,
    /// The message the last expect matched (what captures read).
    last: Option<Incoming>,
    socketio: bool,
    step_timeout: Duration,
    /// Secret and captured values, kept out of the report.
    hidden: Vec<String>,
    /// The secret values alone, kept out of what the step hook sees.
    secrets: Vec<String>,
}

/// Run `conn`'s scenario on session `id` (its config is replaced by the connection's,
/// with reconnects off). Never fails: everything that goes wrong is in the report.
pub async fn run(manager: &SessionManager, id: SessionId, conn: &SavedConnection, opts: RunOptions) -> ScenarioReport {
    let started = Instant::now();
    let mut report = ScenarioReport {
        name: conn.name.clone(),
        source: opts.source.clone(),
        passed: false,
        duration_ms: 0,
        steps: Vec::new(),
        error: None,
    };
    let scenario = conn.scenario.clone().unwrap_or_default();
    match prepare(manager, id, conn, &scenario, &opts) {
        Ok(mut run) => {
            let limit = opts
                .timeout
                .unwrap_or(Duration::from_millis(scenario.timeout_ms.max(1)));
            let deadline = later(started, limit);
            match run.connect(deadline).await {
                Ok(()) => run.run_steps(&scenario, deadline, limit, &opts, &mut report).await,
                Err(f) => report.error = Some(redact(&f.message, &run.hidden)),
            }
            run.finish().await;
        }
        Err(e) => report.error = Some(redact(&e.to_string(), &opts.secrets)),
    }
    if scenario.steps.is_empty() && report.error.is_none() {
        report.error = Some(format!("{:?} has no scenario steps", conn.name));
    }
    report.passed = report.error.is_none() && report.steps.iter().all(|s| s.status == StepStatus::Passed);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

fn prepare<'a>(
    manager: &'a SessionManager,
    id: SessionId,
    conn: &'a SavedConnection,
    scenario: &Scenario,
    opts: &RunOptions,
) -> Result<Run<'a>> {
    crate::collections::scenario::validate(scenario, &conn.messages, &conn.name, None)?;
    let session = manager.get(id)?;
    let mut config = conn.config.clone();
    config.reconnect.enabled = false;
    let socketio = config.socketio.is_some();
    manager.set_config(id, config)?;
    Ok(Run {
        manager,
        id,
        cursor: session.log().stats().last_seq + 1,
        session,
        conn,
        vars: opts.vars.clone(),
        last: None,
        socketio,
        step_timeout: Duration::from_millis(scenario.step_timeout_ms.max(1)),
        hidden: opts.secrets.clone(),
        secrets: opts.secrets.clone(),
    })
}

impl Run<'_> {
    async fn connect(&mut self, deadline: Instant) -> std::result::Result<(), Failure> {
        let on_open: Vec<_> = self
            .conn
            .messages
            .iter()
            .filter(|m| m.send_on_connect)
            .cloned()
            .collect();
        let mut state = self.session.watch_state();
        state.borrow_and_update();
        self.manager.connect_with(self.id, &self.vars, &on_open)?;
        // The state held now is the previous connection's (a tab that ran before):
        // only what the new connection publishes counts.
        loop {
            tokio::select! {
                r = state.changed() => if r.is_err() { return Err(Failure::new("the session went away")); },
                () = tokio::time::sleep_until(deadline.into()) => {
                    return Err(Failure::new("could not connect before the scenario's time ran out"));
                }
            }
            let s = state.borrow_and_update().clone();
            match s {
                ConnState::Open { .. } => return Ok(()),
                ConnState::Failed { error } => {
                    return Err(Failure::new(format!("could not connect: {}", error.message)))
                }
                ConnState::Closed { code, reason, .. } => {
                    return Err(Failure::new(format!("the connection closed at once ({code} {reason})")))
                }
                _ => {}
            }
        }
    }

    async fn run_steps(
        &mut self,
        scenario: &Scenario,
        deadline: Instant,
        limit: Duration,
        opts: &RunOptions,
        report: &mut ScenarioReport,
    ) {
        let mut failed = false;
        for (i, step) in scenario.steps.iter().enumerate() {
            let mut result = StepResult {
                step: i + 1,
                kind: step.kind().to_owned(),
                title: title(step),
                status: StepStatus::Skipped,
                duration_ms: 0,
                message: None,
                expected: None,
                arrived: None,
                frame_seq: None,
            };
            if !failed {
                let t0 = Instant::now();
                let outcome =
                    match tokio::time::timeout_at(deadline.into(), self.step(step, &format!("{}", i + 1))).await {
                        Ok(o) => o,
                        Err(_) => Err(Failure::new(format!(
                            "the scenario's time limit ({:.1} s) ran out during this step",
                            limit.as_secs_f64()
                        ))),
                    };
                result.duration_ms = t0.elapsed().as_millis() as u64;
                self.fill(&mut result, outcome);
                failed = result.status == StepStatus::Failed;
            }
            if let Some(hook) = &opts.on_step {
                hook(&result.redacted(&self.secrets));
            }
            report.steps.push(result);
        }
        // Redacted at the end: a value captured late may have arrived in an earlier step.
        for s in &mut report.steps {
            *s = s.redacted(&self.hidden);
        }
    }

    /// The step's outcome, as is: redaction happens where the result is handed out.
    fn fill(&self, r: &mut StepResult, outcome: StepOutcome) {
        match outcome {
            Ok(d) => {
                r.status = StepStatus::Passed;
                r.message = d.message;
                r.frame_seq = d.seq;
            }
            Err(f) => {
                r.status = StepStatus::Failed;
                r.message = Some(f.message);
                r.expected = f.expected;
                r.arrived = f.arrived;
                r.frame_seq = f.seq;
            }
        }
    }

    fn step<'s>(
        &'s mut self,
        step: &'s Step,
        label: &'s str,
    ) -> Pin<Box<dyn Future<Output = StepOutcome> + Send + 's>> {
        Box::pin(async move {
            match step {
                Step::Send(s) => self.send(s, label).await,
                Step::Expect(e) if e.none => self.expect_none(e, label).await,
                Step::Expect(e) => self.expect(e, label).await,
                Step::Capture(c) => self.capture(c),
                Step::Wait { ms } => {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                    Ok(Done::default())
                }
                Step::Close { code, reason } => {
                    self.manager.disconnect(self.id, *code, reason)?;
                    self.wait_closed(None, self.step_timeout).await
                }
                Step::ExpectClose { code, timeout_ms } => {
                    let t = timeout_ms.map_or(self.step_timeout, Duration::from_millis);
                    self.wait_closed(*code, t).await
                }
                Step::Repeat(r) => self.repeat(r, label).await,
            }
        })
    }

    async fn send(&mut self, s: &SendStep, label: &str) -> StepOutcome {
        let msg = self.outgoing(s, label)?;
        match tokio::time::timeout(self.step_timeout, self.manager.send(self.id, msg)).await {
            Ok(Ok(seq)) => Ok(Done {
                message: None,
                seq: Some(seq),
            }),
            Ok(Err(e)) => Err(Failure::new(format!("could not send: {e}"))),
            Err(_) => Err(Failure::new("the send did not complete in time")),
        }
    }

    fn outgoing(&self, s: &SendStep, label: &str) -> Result<Outgoing> {
        let place = format!("scenario step {label}");
        let v = &self.vars;
        if let Some(name) = &s.message {
            let m = self.conn.messages.iter().find(|m| &m.name == name);
            let m = m.ok_or_else(|| crate::error::Error::InvalidName(format!("no saved message named {name:?}")))?;
            return m.format.to_outgoing(&v.resolve(&m.body, &format!("message {name:?}"))?);
        }
        if let Some(event) = &s.event {
            let args = s.args.iter().flatten().map(|a| matcher::resolved(a, v, &place));
            let args = args.collect::<Result<Vec<_>>>()?;
            let ns = s.namespace.as_deref().unwrap_or("/");
            return Ok(Outgoing::SocketIo(SioCommand::emit(
                ns,
                &v.resolve(event, &place)?,
                args,
                false,
            )));
        }
        Ok(match (&s.text, &s.json, &s.hex, &s.base64) {
            (Some(t), ..) => Outgoing::Text(v.resolve(t, &place)?),
            (_, Some(j), ..) => Outgoing::Text(matcher::resolved(j, v, &place)?.to_string()),
            (_, _, Some(h), _) => Outgoing::Binary(crate::payload::parse_hex(&v.resolve(h, &place)?)?),
            (_, _, _, Some(b)) => Outgoing::Binary(crate::payload::parse_base64(&v.resolve(b, &place)?)?),
            _ => Outgoing::Text(String::new()),
        })
    }

    /// The next received messages from `from`, and the seq after the last one read.
    fn incoming_from(&self, from: u64) -> (Vec<Incoming>, u64) {
        let log = self.session.log();
        let frames = log.page(from, 256);
        let next = frames.last().map_or(from, |f| f.seq + 1);
        let msgs = frames
            .iter()
            .filter_map(|f| {
                let d = if self.socketio { log.decoded(f.seq) } else { None };
                Incoming::from_frame(f, d.as_deref(), self.socketio)
            })
            .collect();
        (msgs, next)
    }

    fn timeout_of(&self, e: &Expect) -> Duration {
        e.timeout_ms.map_or(self.step_timeout, Duration::from_millis)
    }

    async fn expect(&mut self, e: &Expect, label: &str) -> StepOutcome {
        let ready = Ready::new(e, &self.vars, &format!("scenario step {label}"))?;
        let deadline = later(Instant::now(), self.timeout_of(e)).into();
        let mut follow = self.session.log().follow();
        let mut state = self.session.watch_state();
        let mut seen: Option<Incoming> = None;
        let fail = |msg: String, seen: &Option<Incoming>| Failure {
            message: msg,
            expected: Some(ready.describe()),
            arrived: Some(seen.as_ref().map_or("nothing".into(), Incoming::show)),
            seq: seen.as_ref().map(|m| m.seq),
        };
        loop {
            follow.borrow_and_update();
            let ended = state.borrow_and_update().is_terminal();
            loop {
                let (msgs, next) = self.incoming_from(self.cursor);
                if next == self.cursor {
                    break;
                }
                self.cursor = next;
                for m in msgs {
                    match ready.check(&m) {
                        Ok(()) => {
                            self.cursor = m.seq + 1;
                            let seq = Some(m.seq);
                            self.last = Some(m);
                            return Ok(Done { message: None, seq });
                        }
                        Err(why) if e.strict => return Err(fail(format!("the next message {why}"), &Some(m))),
                        Err(_) => seen = Some(m),
                    }
                }
            }
            if ended {
                return Err(fail(
                    format!("the connection {} before a match", self.state_words()),
                    &seen,
                ));
            }
            tokio::select! {
                _ = follow.changed() => {}
                _ = state.changed() => {}
                () = tokio::time::sleep_until(deadline) => {
                    let ms = self.timeout_of(e).as_millis();
                    return Err(fail(format!("no matching message within {ms} ms"), &seen));
                }
            }
        }
    }

    /// A negative check: nothing matching arrives in time. It reads ahead without
    /// consuming, so a later expect still sees those messages.
    async fn expect_none(&mut self, e: &Expect, label: &str) -> StepOutcome {
        let ready = Ready::new(e, &self.vars, &format!("scenario step {label}"))?;
        let deadline = later(Instant::now(), self.timeout_of(e)).into();
        let mut follow = self.session.log().follow();
        let mut cursor = self.cursor;
        loop {
            follow.borrow_and_update();
            loop {
                let (msgs, next) = self.incoming_from(cursor);
                if next == cursor {
                    break;
                }
                cursor = next;
                if let Some(m) = msgs.into_iter().find(|m| ready.check(m).is_ok()) {
                    return Err(Failure {
                        message: "a matching message arrived".into(),
                        expected: Some(ready.describe()),
                        arrived: Some(m.show()),
                        seq: Some(m.seq),
                    });
                }
            }
            tokio::select! {
                _ = follow.changed() => {}
                () = tokio::time::sleep_until(deadline) => return Ok(Done::default()),
            }
        }
    }

    fn capture(&mut self, c: &Capture) -> StepOutcome {
        let m = self
            .last
            .as_ref()
            .ok_or_else(|| Failure::new("no message to capture from: capture follows an expect"))?;
        let value = matcher::capture(c, m).map_err(Failure::new)?;
        if value.chars().count() >= 4 {
            self.hidden.push(value.clone());
        }
        self.vars.set(c.name.clone(), value);
        Ok(Done {
            message: Some(format!("captured {{{{{}}}}}", c.name)),
            seq: Some(m.seq),
        })
    }

    async fn wait_closed(&mut self, code: Option<u16>, within: Duration) -> StepOutcome {
        let mut state = self.session.watch_state();
        let deadline = later(Instant::now(), within).into();
        loop {
            let s = state.borrow_and_update().clone();
            match (&s, code) {
                (ConnState::Closed { code: got, .. }, Some(want)) if *got != want => {
                    return Err(Failure {
                        message: "closed with another code".into(),
                        expected: Some(format!("close code {want}")),
                        arrived: Some(self.state_words()),
                        seq: None,
                    });
                }
                (ConnState::Closed { .. }, _) => {
                    return Ok(Done {
                        message: Some(self.state_words()),
                        seq: None,
                    })
                }
                (ConnState::Failed { error }, _) => {
                    return Err(Failure::new(format!("the connection failed: {}", error.message)))
                }
                _ => {}
            }
            tokio::select! {
                r = state.changed() => if r.is_err() { return Err(Failure::new("the session went away")); },
                () = tokio::time::sleep_until(deadline) => {
                    return Err(Failure {
                        message: format!("still {} after {} ms", self.state_words(), within.as_millis()),
                        expected: Some(code.map_or("a close".into(), |c| format!("close code {c}"))),
                        arrived: None,
                        seq: None,
                    });
                }
            }
        }
    }

    async fn repeat(&mut self, r: &Repeat, label: &str) -> StepOutcome {
        let start = tokio::time::Instant::now();
        let outer = self.vars.counter();
        let n = r.iterations();
        let mut done = 0u64;
        for i in 0..n {
            if let Some(every) = r.every_ms {
                let at = later(start.into(), Duration::from_millis(every.saturating_mul(i)));
                if r.for_ms
                    .is_some_and(|d| at > later(start.into(), Duration::from_millis(d)))
                {
                    break;
                }
                tokio::time::sleep_until(at.into()).await;
            }
            self.vars = self.vars.with_counter(i + 1);
            for (j, step) in r.steps.iter().enumerate() {
                let inner = format!("{label}.{}", j + 1);
                if let Err(mut f) = self.step(step, &inner).await {
                    f.message = format!(
                        "iteration {} of {n}, step {inner} ({}): {}",
                        i + 1,
                        step.kind(),
                        f.message
                    );
                    self.vars.set_counter(outer);
                    return Err(f);
                }
            }
            done += 1;
        }
        self.vars.set_counter(outer);
        Ok(Done {
            message: Some(format!("{done} iterations")),
            seq: None,
        })
    }

    fn state_words(&self) -> String {
        match self.session.state() {
            ConnState::Closed { code, reason, .. } if reason.is_empty() => format!("closed with code {code}"),
            ConnState::Closed { code, reason, .. } => format!("closed with code {code} ({reason})"),
            ConnState::Failed { error } => format!("failed: {}", error.message),
            s => s.name().to_owned(),
        }
    }

    /// Close what is still open (1000, "scenario finished") and wait for the end.
    async fn finish(&self) {
        if self.session.state().is_terminal() {
            return;
        }
        let mut state = self.session.watch_state();
        let _ = self.manager.disconnect(self.id, 1000, "scenario finished");
        let _ = tokio::time::timeout(Duration::from_secs(5), state.wait_for(|s| s.is_terminal())).await;
    }
}

/// `at + d`, or at most [`MAX_MS`] later when that would not fit in an `Instant`.
fn later(at: Instant, d: Duration) -> Instant {
    let d = d.min(Duration::from_millis(MAX_MS));
    at.checked_add(d).unwrap_or(at)
}

/// A step in words, for the report.
pub fn title(step: &Step) -> String {
    let q = |s: &str| format!("{:?}", matcher::cut(s, 60));
    match step {
        Step::Send(s) => {
            let what = match (&s.message, &s.text, &s.json, &s.hex, &s.base64, &s.event) {
                (Some(m), ..) => format!("message {}", q(m)),
                (_, Some(t), ..) => format!("text {}", q(t)),
                (_, _, Some(j), ..) => format!("json {}", matcher::cut(&j.to_string(), 60)),
                (_, _, _, Some(h), ..) => format!("hex {}", q(h)),
                (_, _, _, _, Some(b), _) => format!("base64 {}", q(b)),
                (.., Some(e)) => format!("event {}", q(e)),
                _ => String::new(),
            };
            format!("send {what}")
        }
        Step::Expect(e) => format!("expect {}", matcher::cut(&matcher::describe(e), 120)),
        Step::Capture(c) => format!("capture {{{{{}}}}}", c.name),
        Step::Wait { ms } => format!("wait {ms} ms"),
        Step::Close { code, .. } => format!("close {code}"),
        Step::ExpectClose { code: Some(c), .. } => format!("expect close {c}"),
        Step::ExpectClose { code: None, .. } => "expect close".into(),
        Step::Repeat(r) => match (r.times, r.every_ms) {
            (Some(n), Some(e)) => format!("repeat {n} times every {e} ms"),
            (Some(n), None) => format!("repeat {n} times"),
            (None, Some(e)) => format!("repeat every {e} ms for {} ms", r.for_ms.unwrap_or(0)),
            (None, None) => "repeat".into(),
        },
    }
}
