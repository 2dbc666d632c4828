//! `wsbench-cli connect`: one session from connect to close, printing what arrives.

use std::sync::Arc;
use std::time::Duration;

use std::io::Write as _;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use wsbench_core::export::{ExportOptions, LogSource};
use wsbench_core::{ConnState, Direction, Error, Initiator, NullSink, Opcode, Outgoing, Session, SessionManager};

use crate::args::{build_config, ConnectArgs};
use crate::output::{code_reason, is_usage, output_format, print_frame, prints_as_is, redaction, write_log, Print};
use crate::sio;
use crate::stdout::{stdout_file, Output, AS_IS_MIN};
use crate::{EXIT_FAILED, EXIT_TIMEOUT, EXIT_USAGE};

/// Printed output is written to stdout once it holds this much (or the printer has
/// caught up with the log).
const FLUSH_AT: usize = 256 * 1024;

/// Without --out: frames and payload bytes received and not printed yet, at most
/// (the connection stops reading beyond them until the printer catches up).
const UNREAD_FRAMES: usize = 16 * 1024;
const UNREAD_BYTES: usize = 2 << 20;

/// How long the connection gets to finish its close once the CLI is done with it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

pub async fn connect(args: ConnectArgs) -> u8 {
    let config = match build_config(&args) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    let out = match args.out.as_deref().map(output_format).transpose() {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let manager = Arc::new(SessionManager::new(Arc::new(NullSink)));
    let id = manager.create("cli", config);
    let session = match manager.get(id) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_FAILED;
        }
    };
    if out.is_none() {
        // Printed frames are all the CLI needs: memory stays flat whatever the stream
        // length, and a slow stdout slows the socket down instead of losing frames.
        session.log().keep_unread(UNREAD_FRAMES, UNREAD_BYTES);
    }
    let code = run(&args, &manager, id, &session).await;
    // The close handshake ends (bounded) before the log is written and the runtime
    // goes away: no task is left to race the exit.
    // Past the grace the rest is dropped with the runtime (bounded too).
    let _ = manager.shutdown(SHUTDOWN_GRACE).await;
    let (Some(format), Some(path)) = (out, args.out.clone()) else {
        return code;
    };
    let options = ExportOptions {
        redaction: redaction(args.include_secrets),
        ..ExportOptions::new(format)
    };
    match write_log(LogSource::from_session(&session), path, options).await {
        Ok(()) => code,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            if code == 0 {
                EXIT_FAILED
            } else {
                code
            }
        }
    }
}

fn usage(e: &Error) -> u8 {
    eprintln!("wsbench-cli: {e}");
    EXIT_USAGE
}

/// Why the CLI stops before the connection has ended.
enum Stop {
    /// With this exit status.
    Exit(u8),
    /// The --timeout deadline passed.
    TimedOut,
}

/// The session from connect to close; returns the exit status.
async fn run(args: &ConnectArgs, manager: &Arc<SessionManager>, id: u64, session: &Session) -> u8 {
    let mut follow = session.log().follow();
    let mut state = session.watch_state();
    if let Err(e) = manager.connect(id) {
        eprintln!("wsbench-cli: {e}");
        return if is_usage(&e) { EXIT_USAGE } else { EXIT_FAILED };
    }
    let deadline = args
        .timeout
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .and_then(|d| Instant::now().checked_add(d));
    let link = Link { manager, id, deadline };
    match wait_open(session, &mut state, deadline).await {
        Ok(()) => print_handshake(args, session),
        Err(Stop::Exit(code)) => return code,
        Err(Stop::TimedOut) => {
            eprintln!("wsbench-cli: timed out connecting to {}", args.url);
            let _ = manager.disconnect(id, 1000, "timeout");
            return EXIT_TIMEOUT;
        }
    }
    let periodic = match crate::every::start(args, manager, id) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            let _ = manager.disconnect(id, 1000, "");
            return EXIT_USAGE;
        }
    };
    let code = follow_session(args, &link, session, &mut state, &mut follow).await;
    periodic.iter().for_each(wsbench_core::periodic::PeriodicSend::stop);
    match code {
        Ok(code) => code,
        Err(Stop::Exit(code)) => code,
        Err(Stop::TimedOut) => {
            eprintln!("wsbench-cli: timed out after {} s", args.timeout.unwrap_or_default());
            // Close cleanly; the shutdown that follows gives the close handshake a moment.
            let _ = manager.disconnect(id, 1000, "timeout");
            EXIT_TIMEOUT
        }
    }
}

/// With --ndjson, the handshake first, as one line: `{"handshake": {...}}` (the
/// negotiated permessage-deflate parameters under `deflate`).
fn print_handshake(args: &ConnectArgs, session: &Session) {
    let Some(h) = session.last_handshake().filter(|_| args.ndjson) else {
        return;
    };
    if let Ok(mut line) = serde_json::to_vec(&serde_json::json!({ "handshake": h })) {
        line.push(b'\n');
        // Before any frame is printed: one small write, straight to stdout.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&line);
        let _ = out.flush();
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Wait for the connection to open (or fail).
async fn wait_open(
    session: &Session,
    state: &mut watch::Receiver<ConnState>,
    deadline: Option<Instant>,
) -> Result<(), Stop> {
    loop {
        let s = state.borrow_and_update().clone();
        match s {
            ConnState::Open { .. } => return Ok(()),
            ConnState::Failed { error } => {
                eprintln!("wsbench-cli: {}", error.message);
                if let Some(http) = error.http {
                    for h in &http.headers {
                        eprintln!("  {}: {}", h.name, h.value);
                    }
                    if !http.body.is_empty() {
                        eprintln!("\n{}{}", http.body, if http.body_truncated { "\n[...]" } else { "" });
                    }
                }
                return Err(Stop::Exit(EXIT_FAILED));
            }
            // Opened and already closing or closed (a watcher only sees the latest
            // state): print what was logged, the caller reports the close.
            ConnState::Closing { .. } | ConnState::Closed { .. } if session.last_handshake().is_some() => return Ok(()),
            ConnState::Closed { code, reason, .. } => {
                eprintln!("wsbench-cli: closed before opening ({code} {reason})");
                return Err(Stop::Exit(EXIT_FAILED));
            }
            _ => {}
        }
        tokio::select! {
            r = state.changed() => if r.is_err() { return Err(Stop::Exit(EXIT_FAILED)) },
            _ = sleep_until(deadline) => return Err(Stop::TimedOut),
        }
    }
}

/// Sends that give up at the --timeout deadline (a peer that stops reading cannot
/// hold the CLI past it).
struct Link<'a> {
    manager: &'a SessionManager,
    id: u64,
    deadline: Option<Instant>,
}

impl Link<'_> {
    async fn send(&self, msg: Outgoing) -> Result<Result<u64, Error>, Stop> {
        let send = self.manager.send(self.id, msg);
        match self.deadline {
            Some(d) => tokio::time::timeout_at(d, send).await.map_err(|_| Stop::TimedOut),
            None => Ok(send.await),
        }
    }

    fn disconnect(&self, code: u16, reason: &str) {
        let _ = self.manager.disconnect(self.id, code, reason);
    }
}

/// Lines from stdin (None at its end), unless `enabled` is false.
fn stdin_lines(enabled: bool) -> mpsc::Receiver<Option<String>> {
    let (line_tx, lines) = mpsc::channel::<Option<String>>(64);
    if enabled {
        tokio::spawn(async move {
            let mut reader = BufReader::new(tokio::io::stdin()).lines();
            loop {
                match reader.next_line().await {
                    Ok(Some(l)) => {
                        if line_tx.send(Some(l)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) | Err(_) => {
                        let _ = line_tx.send(None).await;
                        return;
                    }
                }
            }
        });
    }
    lines
}

/// After the open: send --send messages, then print (and echo) until the end.
async fn follow_session(
    args: &ConnectArgs,
    link: &Link<'_>,
    session: &Session,
    state: &mut watch::Receiver<ConnState>,
    follow: &mut watch::Receiver<u64>,
) -> Result<u8, Stop> {
    for text in args.send.iter().filter(|_| args.send_every.is_none()) {
        if let Err(e) = link.send(Outgoing::Text(text.clone())).await? {
            eprintln!("wsbench-cli: {e}");
            return Ok(EXIT_FAILED);
        }
    }
    let mut printer = Printer::new(args);
    if args.socketio {
        for cmd in sio::emits(args) {
            printer.pending_acks += u64::from(args.ack);
            if let Err(e) = link.send(Outgoing::SocketIo(cmd)).await? {
                eprintln!("wsbench-cli: {e}");
                return Ok(EXIT_FAILED);
            }
        }
    }
    // Lines from stdin, unless --echo or --count are given.
    let read_stdin = !args.echo && args.count.is_none() && args.send_every.is_none();
    let mut lines = stdin_lines(read_stdin);
    let mut stdin_open = read_stdin;
    loop {
        printer.print_new(link, session).await?;
        let s = state.borrow_and_update().clone();
        if s.is_terminal() && session.log().stats().last_seq < printer.next_seq {
            return Ok(printer.report_end(s));
        }
        tokio::select! {
            _ = follow.changed() => {}
            _ = state.changed() => {}
            l = lines.recv(), if stdin_open => match l.flatten() {
                Some(line) => {
                    let msg = if args.socketio {
                        match sio::line_emit(args, &line) {
                            Ok(cmd) => {
                                printer.pending_acks += u64::from(args.ack);
                                Outgoing::SocketIo(cmd)
                            }
                            Err(e) => {
                                eprintln!("wsbench-cli: {e}");
                                continue;
                            }
                        }
                    } else {
                        Outgoing::Text(line)
                    };
                    if let Err(e) = link.send(msg).await? {
                        eprintln!("wsbench-cli: {e}");
                    }
                }
                None => {
                    stdin_open = false;
                    // Acks still awaited are waited for (the --timeout bounds it).
                    printer.close_when_acked = true;
                    printer.maybe_close(link);
                }
            },
            _ = sleep_until(link.deadline) => return Err(Stop::TimedOut),
        }
    }
}

/// Prints what the log holds beyond what was printed, echoing and counting.
struct Printer<'a> {
    args: &'a ConnectArgs,
    next_seq: u64,
    received: u64,
    closing: bool,
    mode: Print,
    /// What is printed and not yet written to stdout (written whenever it passes
    /// `FLUSH_AT`, and each time the printer has caught up with the log).
    out: Output,
    /// Socket.IO mode: emits that asked for an ack not answered yet.
    pending_acks: u64,
    /// Close once every ack awaited has arrived and every namespace answered (stdin ended).
    close_when_acked: bool,
    /// Socket.IO mode: namespaces that have not answered our CONNECT yet.
    joins_pending: Vec<String>,
    /// A namespace refused us: exit 1 with the server's message.
    refused: Option<String>,
}

impl<'a> Printer<'a> {
    fn new(args: &'a ConnectArgs) -> Self {
        Self {
            args,
            next_seq: 1,
            received: 0,
            closing: false,
            mode: if args.ndjson {
                Print::Ndjson
            } else if args.raw {
                Print::Raw
            } else {
                Print::Lines
            },
            out: Output::new(stdout_file(), FLUSH_AT + 128 * 1024),
            pending_acks: 0,
            close_when_acked: false,
            joins_pending: if args.socketio {
                sio::namespaces(args)
            } else {
                Vec::new()
            },
            refused: None,
        }
    }

    /// Print (and echo) everything logged since last time.
    async fn print_new(&mut self, link: &Link<'_>, session: &Session) -> Result<(), Stop> {
        loop {
            let page = session.log().page(self.next_seq, 4096);
            if page.is_empty() {
                return self.flush(link);
            }
            if page[0].seq > self.next_seq && self.next_seq > 1 {
                eprintln!(
                    "wsbench-cli: {} frames were evicted before they could be printed",
                    page[0].seq - self.next_seq
                );
            }
            for f in &page {
                self.next_seq = f.seq + 1;
                if self.args.socketio {
                    self.print_sio(link, session, f);
                    if self.out.len() >= FLUSH_AT {
                        self.flush(link)?;
                    }
                    continue;
                }
                let data_in = f.direction == Direction::In && f.opcode.is_data();
                if data_in && self.count_reached() {
                    continue; // --count reached: later messages are not ours to print
                }
                // (The size first: checking a small text for UTF-8 twice would cost.)
                let as_is = if f.len() >= AS_IS_MIN {
                    prints_as_is(f, self.mode)
                } else {
                    None
                };
                match as_is {
                    // A big payload printed as it is goes out from the log's bytes, no copy.
                    Some(newline) => {
                        self.out.push_as_is(f.payload.clone());
                        if newline {
                            self.out.buf.push(b'\n');
                        }
                    }
                    None => print_frame(&mut self.out.buf, f, self.mode),
                }
                if self.out.len() >= FLUSH_AT {
                    self.flush(link)?;
                    // Room for the connection as soon as possible, not a page later.
                    session.log().mark_read(self.next_seq);
                }
                if data_in {
                    self.received += 1;
                    if self.args.echo && !self.closing {
                        let msg = match (f.opcode, f.text()) {
                            (Opcode::Text, Some(t)) => Outgoing::Text(t.to_owned()),
                            _ => Outgoing::Binary(f.payload.clone()),
                        };
                        if link.send(msg).await?.is_err() {
                            self.closing = true;
                        }
                    }
                    if self.count_reached() && !self.closing {
                        self.closing = true;
                        link.disconnect(1000, "");
                    }
                }
            }
            session.log().mark_read(self.next_seq);
        }
    }

    /// Write what is printed to stdout (one write for the lot); an output that is
    /// gone ends the session.
    fn flush(&mut self, link: &Link<'_>) -> Result<(), Stop> {
        if self.out.flush().is_err() {
            link.disconnect(1001, "output closed");
            return Err(Stop::Exit(EXIT_FAILED));
        }
        Ok(())
    }

    /// Socket.IO mode: print events and acks, count events, stop on a refusal.
    fn print_sio(&mut self, link: &Link<'_>, session: &Session, f: &wsbench_core::Frame) {
        let note = session.decoded(f.seq);
        let seen = sio::classify(f, note.as_deref());
        if matches!(seen, sio::Seen::Event) && self.count_reached() {
            return; // --count reached: later events are not ours to print
        }
        sio::print(&mut self.out.buf, f, note.as_deref(), &seen, self.args.ndjson);
        match seen {
            sio::Seen::Event => {
                self.received += 1;
                if self.count_reached() && !self.closing {
                    self.closing = true;
                    link.disconnect(1000, "");
                }
            }
            sio::Seen::Ack => {
                self.pending_acks = self.pending_acks.saturating_sub(1);
                self.maybe_close(link);
            }
            sio::Seen::Joined(ns) => {
                self.joins_pending.retain(|n| *n != ns);
                self.maybe_close(link);
            }
            sio::Seen::Refused(msg) => {
                if self.refused.is_none() {
                    self.refused = Some(msg);
                }
                if !self.closing {
                    self.closing = true;
                    link.disconnect(1000, "");
                }
            }
            sio::Seen::Other => {}
        }
    }

    /// Stdin ended: close once nothing more is awaited (acks, namespace answers).
    fn maybe_close(&mut self, link: &Link<'_>) {
        if self.close_when_acked && self.pending_acks == 0 && self.joins_pending.is_empty() && !self.closing {
            self.closing = true;
            link.disconnect(1000, "");
        }
    }

    fn count_reached(&self) -> bool {
        self.args.count.is_some_and(|n| self.received >= n)
    }

    /// The exit status for the last state, with a line on stderr when it is not 0.
    fn report_end(&self, s: ConnState) -> u8 {
        if let Some(msg) = &self.refused {
            eprintln!("wsbench-cli: {msg}");
            return EXIT_FAILED;
        }
        match s {
            ConnState::Closed {
                code,
                reason,
                clean,
                initiated_by,
            } => {
                let done = self.count_reached();
                if let Some(n) = self.args.count.filter(|_| !done) {
                    eprintln!(
                        "wsbench-cli: the connection closed after {} of {n} messages ({})",
                        self.received,
                        code_reason(code, &reason)
                    );
                    EXIT_FAILED
                } else if !clean && !done {
                    eprintln!(
                        "wsbench-cli: connection closed abnormally ({})",
                        code_reason(code, &reason)
                    );
                    EXIT_FAILED
                } else {
                    if initiated_by == Initiator::Server && code != 1000 {
                        eprintln!(
                            "wsbench-cli: server closed the connection ({})",
                            code_reason(code, &reason)
                        );
                    }
                    0
                }
            }
            ConnState::Failed { error } => {
                eprintln!("wsbench-cli: {}", error.message);
                EXIT_FAILED
            }
            _ => 0,
        }
    }
}
