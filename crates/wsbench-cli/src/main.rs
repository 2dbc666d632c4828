//! `wsbench-cli`: the headless twin of the wsbench desktop app, on the same engine.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wsbench_core::config::KeyValue;
use wsbench_core::export::{export_to_path, read_log_file, ExportFormat, ExportOptions, LogSource, Redaction};
use wsbench_core::server::ServerEventKind;
use wsbench_core::{
    ConnState, ConnectConfig, Direction, Frame, LocalServer, NullSink, Opcode, Outgoing, ServerConfig, ServerMode,
    Session, SessionManager,
};

#[derive(Parser)]
#[command(
    name = "wsbench-cli",
    version,
    about = "Headless WebSocket workbench (the wsbench engine without the window)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to a WebSocket server and print every data message received.
    ///
    /// Text messages print as they are, binary ones as `b64:` + base64, one per line.
    /// Without --echo or --count, lines read from stdin are sent as text messages and
    /// end of input closes the connection cleanly (code 1000).
    Connect(ConnectArgs),
    /// Run the built-in local server on 127.0.0.1 until interrupted.
    Serve(ServeArgs),
    /// Convert a log file to another format (chosen by OUT's extension).
    ///
    /// IN is a wsbench NDJSON or JSON export, `connect --ndjson` output, or a HAR file
    /// (Chrome DevTools, Playwright, mitmproxy). OUT ends in .ndjson, .json, .har,
    /// .csv or .txt. Credentials are redacted unless --include-secrets is given.
    Convert(ConvertArgs),
}

#[derive(clap::Args)]
struct ConnectArgs {
    /// ws:// or wss:// URL
    url: String,
    /// Handshake header, `Name: value` (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Offer this subprotocol (repeatable, in order of preference)
    #[arg(long = "subprotocol", value_name = "P")]
    subprotocols: Vec<String>,
    /// Send this text message once connected (repeatable, in order)
    #[arg(long = "send", value_name = "TEXT")]
    send: Vec<String>,
    /// Send every received data message back with the same opcode until the server closes
    #[arg(long)]
    echo: bool,
    /// Exit (closing cleanly) after N received data messages
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Give up after SECS seconds: close and exit with status 3
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Print one JSON object per frame (both directions, control frames included)
    #[arg(long)]
    ndjson: bool,
    /// Send this Origin header
    #[arg(long)]
    origin: Option<String>,
    /// Trust this extra CA certificate (PEM)
    #[arg(long, value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (insecure)
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Largest message accepted, in bytes
    #[arg(long, value_name = "BYTES")]
    max_message_size: Option<usize>,
    /// When the session ends (also after a failure or timeout), write its whole log
    /// to FILE; the format follows the extension: .ndjson, .json, .har, .csv, .txt
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
    /// Write Authorization, Cookie and other credentials into --out as they are
    /// (they are replaced with [redacted] by default)
    #[arg(long, requires = "out")]
    include_secrets: bool,
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// The log to read
    input: std::path::PathBuf,
    /// The file to write; its extension picks the format
    output: std::path::PathBuf,
    /// Which WebSocket connection of a HAR holding several (1 is the first)
    #[arg(long, value_name = "N")]
    connection: Option<usize>,
    /// Keep Authorization, Cookie and other credentials (redacted by default)
    #[arg(long)]
    include_secrets: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Echo every message back to its sender (default)
    #[arg(long, conflicts_with = "broadcast")]
    echo: bool,
    /// Send every message to every connected client
    #[arg(long)]
    broadcast: bool,
}

/// Exit statuses: 0 done, 1 connection failed or lost, 2 usage, 3 timed out.
const EXIT_FAILED: u8 = 1;
const EXIT_TIMEOUT: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsbench-cli: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = rt.block_on(async {
        match cli.command {
            Command::Connect(args) => connect(args).await,
            Command::Serve(args) => serve(args).await,
            Command::Convert(args) => convert(args).await,
        }
    });
    // Do not wait for stdin readers blocked in the background.
    rt.shutdown_timeout(Duration::from_millis(100));
    ExitCode::from(code)
}

fn build_config(a: &ConnectArgs) -> Result<ConnectConfig, String> {
    let mut c = ConnectConfig::new(a.url.clone());
    for h in &a.headers {
        let (n, v) = h
            .split_once(':')
            .ok_or_else(|| format!("header {h:?} is not in the form 'Name: value'"))?;
        c.headers.push(KeyValue::new(n.trim(), v.trim()));
    }
    c.subprotocols = a.subprotocols.clone();
    c.origin = a.origin.clone();
    c.tls.ca_file = a.ca.clone();
    c.tls.accept_invalid_certs = a.insecure;
    if let Some(m) = a.max_message_size {
        c.limits.max_message_size = m;
        c.limits.max_frame_size = c.limits.max_frame_size.min(m);
    }
    if let Some(t) = a.timeout {
        if Duration::try_from_secs_f64(t).is_err() {
            return Err(format!("--timeout {t} is not a number of seconds (e.g. 5 or 0.5)"));
        }
        let ms = (t * 1000.0).min(u64::MAX as f64) as u64;
        c.timeouts.connect_ms = c.timeouts.connect_ms.min(ms.max(1));
        c.timeouts.handshake_ms = c.timeouts.handshake_ms.min(ms.max(1));
    }
    // The CLI prints as it goes; the log only needs to hold what is not printed yet,
    // unless the whole log is written to --out at the end (then the default caps).
    if a.out.is_none() {
        c.log.max_frames = 1_000_000;
    }
    Ok(c)
}

/// "1000" or "4001: reason".
fn code_reason(code: u16, reason: &str) -> String {
    if reason.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {reason}")
    }
}

fn print_frame(out: &mut Vec<u8>, f: &Frame, ndjson: bool) {
    if ndjson {
        if let Ok(line) = serde_json::to_string(&f.to_record()) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        return;
    }
    if f.direction != Direction::In || !f.opcode.is_data() {
        return;
    }
    match (f.opcode, f.text()) {
        (Opcode::Text, Some(t)) => out.extend_from_slice(t.as_bytes()),
        _ => {
            out.extend_from_slice(b"b64:");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(&f.payload).as_bytes());
        }
    }
    out.push(b'\n');
}

/// The format for an output file, or why it cannot be written (a usage error).
fn output_format(path: &std::path::Path) -> Result<ExportFormat, String> {
    let format = ExportFormat::from_path(path).map_err(|e| e.to_string().replace("invalid configuration: ", ""))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "cannot write {:?}: the folder {:?} does not exist",
            path.display().to_string(),
            dir.display().to_string()
        ));
    }
    Ok(format)
}

fn redaction(include_secrets: bool) -> Redaction {
    if include_secrets {
        Redaction::none()
    } else {
        Redaction::default()
    }
}

/// Export `source` to `path` off the async threads; say what was written.
async fn write_log(source: LogSource, path: std::path::PathBuf, options: ExportOptions) -> Result<(), String> {
    let shown = path.display().to_string();
    let result = tokio::task::spawn_blocking(move || export_to_path(&source, &path, &options, |_, _| true))
        .await
        .map_err(|e| format!("the export stopped: {e}"))?;
    match result {
        Ok(s) => {
            let missing = if s.missing > 0 {
                format!(" ({} evicted by the log cap)", s.missing)
            } else {
                String::new()
            };
            eprintln!("wsbench-cli: wrote {} frames to {shown}{missing}", s.frames);
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn connect(args: ConnectArgs) -> u8 {
    let config = match build_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return 2;
        }
    };
    let out = match args.out.as_deref().map(output_format).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return 2;
        }
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
    let code = run(&args, &manager, id, &session).await;
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

/// The session from connect to close; returns the exit status.
async fn run(args: &ConnectArgs, manager: &Arc<SessionManager>, id: u64, session: &Session) -> u8 {
    let mut follow = session.log().follow();
    let mut state = session.watch_state();
    if let Err(e) = manager.connect(id) {
        eprintln!("wsbench-cli: {e}");
        return if e.kind() == wsbench_core::ErrorKind::InvalidUrl || e.kind() == wsbench_core::ErrorKind::InvalidHeader
        {
            2
        } else {
            EXIT_FAILED
        };
    }
    let deadline = args
        .timeout
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .and_then(|d| tokio::time::Instant::now().checked_add(d));
    let timeout = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);

    // Wait for the connection to open (or fail).
    loop {
        let s = state.borrow_and_update().clone();
        match s {
            ConnState::Open { .. } => break,
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
                return EXIT_FAILED;
            }
            // Opened and already closing or closed (a watcher only sees the latest
            // state): print what was logged, the loop below reports the close.
            ConnState::Closing { .. } | ConnState::Closed { .. } if session.last_handshake().is_some() => break,
            ConnState::Closed { code, reason, .. } => {
                eprintln!("wsbench-cli: closed before opening ({code} {reason})");
                return EXIT_FAILED;
            }
            _ => {}
        }
        tokio::select! {
            r = state.changed() => if r.is_err() { return EXIT_FAILED },
            _ = &mut timeout => {
                eprintln!("wsbench-cli: timed out connecting to {}", args.url);
                let _ = manager.disconnect(id, 1000, "timeout");
                return EXIT_TIMEOUT;
            }
        }
    }

    for text in &args.send {
        if let Err(e) = manager.send(id, Outgoing::Text(text.clone())).await {
            eprintln!("wsbench-cli: {e}");
            return EXIT_FAILED;
        }
    }

    // Lines from stdin, unless --echo or --count are given.
    let (line_tx, mut lines) = tokio::sync::mpsc::channel::<Option<String>>(64);
    let read_stdin = !args.echo && args.count.is_none();
    if read_stdin {
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
    let mut stdin_open = read_stdin;

    let mut stdout = tokio::io::stdout();
    let mut next_seq = 1u64;
    let mut received = 0u64;
    let mut closing = false;
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        // Print (and echo) everything logged since last time.
        loop {
            let page = session.log().page(next_seq, 4096);
            if page.is_empty() {
                break;
            }
            if page[0].seq > next_seq && next_seq > 1 {
                eprintln!(
                    "wsbench-cli: {} frames were evicted before they could be printed",
                    page[0].seq - next_seq
                );
            }
            buf.clear();
            for f in &page {
                next_seq = f.seq + 1;
                let data_in = f.direction == Direction::In && f.opcode.is_data();
                if data_in && args.count.is_some_and(|n| received >= n) {
                    continue; // --count reached: later messages are not ours to print
                }
                print_frame(&mut buf, f, args.ndjson);
                if data_in {
                    received += 1;
                    if args.echo && !closing {
                        let msg = match (f.opcode, f.text()) {
                            (Opcode::Text, Some(t)) => Outgoing::Text(t.to_owned()),
                            _ => Outgoing::Binary(f.payload.clone()),
                        };
                        if manager.send(id, msg).await.is_err() {
                            closing = true;
                        }
                    }
                    if args.count.is_some_and(|n| received >= n) && !closing {
                        closing = true;
                        let _ = manager.disconnect(id, 1000, "");
                    }
                }
            }
            if stdout.write_all(&buf).await.is_err() {
                let _ = manager.disconnect(id, 1001, "output closed");
                return EXIT_FAILED;
            }
            let _ = stdout.flush().await;
        }
        let s = state.borrow_and_update().clone();
        if s.is_terminal() && session.log().stats().last_seq < next_seq {
            return match s {
                ConnState::Closed {
                    code,
                    reason,
                    clean,
                    initiated_by,
                } => {
                    let done = args.count.is_some_and(|n| received >= n);
                    if let Some(n) = args.count.filter(|_| !done) {
                        eprintln!(
                            "wsbench-cli: the connection closed after {received} of {n} messages ({})",
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
                        if initiated_by == wsbench_core::Initiator::Server && code != 1000 {
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
            };
        }
        tokio::select! {
            _ = follow.changed() => {}
            _ = state.changed() => {}
            l = lines.recv(), if stdin_open => match l.flatten() {
                Some(line) => {
                    if let Err(e) = manager.send(id, Outgoing::Text(line)).await {
                        eprintln!("wsbench-cli: {e}");
                    }
                }
                None => {
                    stdin_open = false;
                    let _ = manager.disconnect(id, 1000, "");
                }
            },
            _ = &mut timeout => {
                eprintln!("wsbench-cli: timed out after {} s", args.timeout.unwrap_or_default());
                // Close cleanly: give the close handshake a moment before exiting.
                let _ = manager.disconnect(id, 1000, "timeout");
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while !state.borrow_and_update().is_terminal() {
                        if state.changed().await.is_err() {
                            break;
                        }
                    }
                })
                .await;
                return EXIT_TIMEOUT;
            }
        }
    }
}

async fn convert(args: ConvertArgs) -> u8 {
    let format = match output_format(&args.output) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return 2;
        }
    };
    let input = args.input.clone();
    let conns = match tokio::task::spawn_blocking(move || read_log_file(&input)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_FAILED;
        }
        Err(e) => {
            eprintln!("wsbench-cli: reading stopped: {e}");
            return EXIT_FAILED;
        }
    };
    let list = || {
        conns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = c.summary(i + 1);
                format!(
                    "  {}: {} ({} frames)",
                    s.index,
                    if s.url.is_empty() { &s.name } else { &s.url },
                    s.frames
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let index = match (args.connection, conns.len()) {
        (None, 1) => 0,
        (None, n) => {
            eprintln!(
                "wsbench-cli: {} holds {n} WebSocket connections; pick one with --connection N:\n{}",
                args.input.display(),
                list()
            );
            return 2;
        }
        (Some(i), n) if i >= 1 && i <= n => i - 1,
        (Some(i), n) => {
            eprintln!(
                "wsbench-cli: --connection {i}: {} holds {n} WebSocket connection{}:\n{}",
                args.input.display(),
                if n == 1 { "" } else { "s" },
                list()
            );
            return 2;
        }
    };
    let Some(rc) = conns.into_iter().nth(index) else {
        return EXIT_FAILED;
    };
    for note in &rc.notes {
        eprintln!("wsbench-cli: note: {note}");
    }
    let options = ExportOptions {
        redaction: redaction(args.include_secrets),
        ..ExportOptions::new(format)
    };
    match write_log(rc.into_log_source(), args.output, options).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            EXIT_FAILED
        }
    }
}

async fn serve(args: ServeArgs) -> u8 {
    let mode = if args.broadcast {
        ServerMode::Broadcast
    } else {
        ServerMode::Echo
    };
    let cfg = ServerConfig {
        mode,
        ..ServerConfig::default()
    }
    .port(args.port);
    let server = match LocalServer::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_FAILED;
        }
    };
    let mut events = server.subscribe();
    println!("{}", server.url());
    eprintln!(
        "wsbench-cli: {mode:?} server listening on {} (Ctrl+C to stop)",
        server.url()
    );
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => match ev.kind {
                    ServerEventKind::Connected { path, subprotocol, .. } => eprintln!(
                        "client {} connected from {} to {path}{}",
                        ev.client, ev.peer, subprotocol.map(|p| format!(" (subprotocol {p})")).unwrap_or_default()
                    ),
                    ServerEventKind::Message { opcode, len } => eprintln!("client {} sent {opcode:?} ({len} bytes)", ev.client),
                    ServerEventKind::Disconnected { code, reason } => eprintln!(
                        "client {} disconnected ({}{})",
                        ev.client, code.map_or("no close code".into(), |c| c.to_string()), if reason.is_empty() { String::new() } else { format!(": {reason}") }
                    ),
                },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("({n} server events not shown)"),
                Err(_) => return 0,
            },
            _ = tokio::signal::ctrl_c() => {
                server.shutdown();
                tokio::time::sleep(Duration::from_millis(200)).await;
                return 0;
            }
        }
    }
}
