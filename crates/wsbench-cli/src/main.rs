//! `wsbench-cli`: the headless twin of the wsbench desktop app, on the same engine.
//!
//! `args` parses, `connect`, `serve` and `convert` run one subcommand each, `output`
//! words errors and prints frames.

mod args;
mod connect;
mod convert;
mod docs;
mod every;
mod heap;
mod output;
mod run;
mod serve;
mod sio;
mod stdout;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use args::{ConnectArgs, ConvertArgs, ServeArgs};

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
    Connect(Box<ConnectArgs>),
    /// Run the built-in local server on 127.0.0.1 until interrupted.
    Serve(ServeArgs),
    /// Convert a log file to another format (chosen by OUT's extension).
    ///
    /// IN is a wsbench NDJSON or JSON export, `connect --ndjson` output, or a HAR file
    /// (Chrome DevTools, Playwright, mitmproxy). OUT ends in .ndjson, .json, .har,
    /// .csv or .txt. Credentials are redacted unless --include-secrets is given.
    Convert(ConvertArgs),
    /// Run the scenarios of saved connections and report (exit 0 all passed, 1 some
    /// failed, 2 bad input).
    Run(run::RunArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

/// Exit statuses: 0 done, 1 connection failed or lost, 2 usage, 3 timed out.
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_TIMEOUT: u8 = 3;

/// After the command, tasks still on the runtime (a stdin reader blocked in the
/// background, a connection past its shutdown grace) get this long, then are dropped.
const RUNTIME_GRACE: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    heap::keep_freed_memory();
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => return docs::completions::<Cli>(shell, &mut std::io::stdout()),
        Command::Man => return docs::man::<Cli>(&mut std::io::stdout()),
        _ => {}
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsbench-cli: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = rt.block_on(async {
        match cli.command {
            Command::Connect(args) => connect::connect(*args).await,
            Command::Serve(args) => serve::serve(args).await,
            Command::Convert(args) => convert::convert(args).await,
            Command::Run(args) => run::run_cmd(args).await,
            Command::Completions { .. } | Command::Man => 0,
        }
    });
    rt.shutdown_timeout(RUNTIME_GRACE);
    ExitCode::from(code)
}
