//! `wsbench-cli convert IN OUT`: a log file to another format.

use wsbench_core::export::{read_log_file, ExportOptions};

use crate::args::ConvertArgs;
use crate::output::{output_format, redaction, write_log};
use crate::{EXIT_FAILED, EXIT_USAGE};

pub async fn convert(args: ConvertArgs) -> u8 {
    let format = match output_format(&args.output) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wsbench-cli: {e}");
            return EXIT_USAGE;
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
            return EXIT_USAGE;
        }
        (Some(i), n) if i >= 1 && i <= n => i - 1,
        (Some(i), n) => {
            eprintln!(
                "wsbench-cli: --connection {i}: {} holds {n} WebSocket connection{}:\n{}",
                args.input.display(),
                if n == 1 { "" } else { "s" },
                list()
            );
            return EXIT_USAGE;
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
