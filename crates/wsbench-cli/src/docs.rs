//! Shell completions and the man page, generated from the clap definition itself so
//! they never drift from the real options. `scripts/cli-extras` runs these hidden
//! subcommands when packaging; the packages install what they print.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// `wsbench-cli completions SHELL`: the completion script on stdout.
pub fn completions<C: CommandFactory>(shell: Shell, out: &mut dyn Write) -> ExitCode {
    let mut cmd = C::command();
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
    ExitCode::SUCCESS
}

/// `wsbench-cli man`: the man page (roff) on stdout.
pub fn man<C: CommandFactory>(out: &mut dyn Write) -> ExitCode {
    match clap_mangen::Man::new(C::command()).render(out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsbench-cli: cannot write the man page: {e}");
            ExitCode::from(crate::EXIT_FAILED)
        }
    }
}
