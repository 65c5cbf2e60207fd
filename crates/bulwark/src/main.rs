//! `bulwark`: the one binary. It parses arguments, runs a command and maps the outcome to an
//! exit code: 0 clean, 1 findings that the user asked to fail on, 2 operational error. A broken
//! pipe (`bulwark scan | head`) is not an error.

mod cli;
mod commands;
mod http;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

/// What a command tells `main` about how it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing to report.
    Clean,
    /// Findings at or above the `--fail-on` level.
    Findings,
    /// Some input could not be read; the rest was processed.
    Errors,
}

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match commands::run(args) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::Errors) => ExitCode::from(2),
        Err(error) => {
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}
