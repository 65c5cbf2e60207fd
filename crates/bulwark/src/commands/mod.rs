//! One module per subcommand.

mod db;
mod diff;
mod hunt;
mod init;
mod inspect;
mod policy_file;
mod run;
mod scan;
mod serve;
mod verify;

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write};
use std::path::Path;

use anyhow::Context as _;

pub(crate) use serve::parse_duration;

use crate::Outcome;
use crate::cli::{Args, ColorChoice, Command};

/// Runs the chosen command.
pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Scan(scan_args) => scan::run(&scan_args, args.color, args.db.as_deref()),
        Command::Inspect(inspect_args) => inspect::run(&inspect_args, args.color),
        Command::Diff(diff_args) => diff::run(&diff_args, args.color),
        Command::Db(db_command) => db::run(&db_command, args.db.as_deref()),
        Command::Hunt(hunt_args) => hunt::run(&hunt_args, args.color, args.db.as_deref()),
        Command::Serve(serve_args) => serve::run(&serve_args, args.db.as_deref()),
        Command::Run(run_args) => run::run(&run_args, args.db.as_deref()),
        Command::Init(init_args) => init::run(&init_args),
        Command::Verify(verify_args) => verify::run(&verify_args, args.color),
    }
}

/// Whether human output to standard output should be coloured.
pub(crate) fn use_color(choice: ColorChoice, to_stdout: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_stdout
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Where a command writes its report: the `--output` file (created or truncated), else
/// standard output; buffered, so the caller flushes.
pub(crate) fn report_writer(output: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).with_context(|| {
                format!("cannot create `{}`", path.display())
            })?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}
