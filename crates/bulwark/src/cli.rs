//! Command-line arguments. The doc comment of each item is its help text.

use std::path::PathBuf;

use bulwark_report::OutputFormat;
use clap::{Parser, Subcommand, ValueEnum};

/// Defends JavaScript projects against npm supply-chain attacks.
#[derive(Debug, Parser)]
#[command(name = "bulwark", version, about, max_term_width = 100)]
pub(crate) struct Args {
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub(crate) color: ColorChoice,
    /// The command to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Colour preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Find every lockfile and installed tree under DIR and build the dependency inventory.
    Scan(ScanArgs),
}

/// Arguments of `bulwark scan`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct ScanArgs {
    /// The directory (or a single lockfile) to scan.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Output format: human, json or cyclonedx.
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

fn parse_format(value: &str) -> Result<OutputFormat, String> {
    value.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str]) -> ScanArgs {
        let all: Vec<&str> = ["bulwark", "scan"].iter().chain(args).copied().collect();
        match Args::try_parse_from(all).unwrap().command {
            Command::Scan(scan) => scan,
        }
    }

    #[test]
    fn scan_defaults() {
        let args = scan(&[]);
        assert_eq!(args.dir, PathBuf::from("."));
        assert_eq!(args.format, OutputFormat::Human);
        assert!(args.output.is_none());
    }

    #[test]
    fn scan_format_spellings() {
        assert_eq!(scan(&["--format", "json"]).format, OutputFormat::Json);
        assert_eq!(scan(&["-f", "cyclonedx"]).format, OutputFormat::CycloneDx);
        assert_eq!(scan(&["--format=cdx"]).format, OutputFormat::CycloneDx);
        assert_eq!(
            scan(&["-f", "json", "-f", "human"]).format,
            OutputFormat::Human
        );
        assert!(Args::try_parse_from(["bulwark", "scan", "--format", "xml"]).is_err());
    }

    #[test]
    fn color_is_global() {
        let args = Args::try_parse_from(["bulwark", "scan", "--color", "never", "dir"]).unwrap();
        assert_eq!(args.color, ColorChoice::Never);
        assert!(Args::try_parse_from(["bulwark", "--color", "sometimes", "scan"]).is_err());
    }
}
