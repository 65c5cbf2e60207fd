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
    /// The advisory database file (default: the platform data directory).
    #[arg(long, global = true, env = "BULWARK_DB", value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
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
    /// Find every lockfile and installed tree under DIR, build the dependency inventory and
    /// match it against known-bad versions and advisories.
    Scan(ScanArgs),
    /// Deep static analysis of one package: a directory, a .tgz, or name@version from the
    /// registry. Nothing from the package is executed.
    Inspect(InspectArgs),
    /// What a new version of a package can do that the old one could not: `diff NAME OLD NEW`
    /// (both downloaded from the registry and verified) or `diff OLD_PATH NEW_PATH`
    /// (directories or .tgz files). Nothing from either package is executed.
    Diff(DiffArgs),
    /// Manage the embedded database of advisories and indicators.
    #[command(subcommand)]
    Db(DbCommand),
    /// Sweep a whole machine (default `/`, or the home directory when not root) for
    /// compromised packages in lockfiles, node_modules trees and package-manager caches, and
    /// for the persistence artifacts of the npm worms.
    Hunt(HuntArgs),
    /// Run the registry gate: an npm registry proxy that removes known-bad, too-new,
    /// unlisted and malicious versions before npm, pnpm, yarn or bun can install them.
    Serve(ServeArgs),
    /// Run a package manager through an ephemeral gate (`bulwark run -- npm install`) and
    /// exit with its status.
    Run(RunArgs),
    /// Write a commented starter policy, `bulwark.toml`, into DIR (never overwrites).
    Init(InitArgs),
    /// Verify the integrity of every package: cached tarballs against their integrity,
    /// installed files against their tarball (tamper detection), and with a registry (or
    /// recorded packuments) the lockfile against the registry, registry signatures and
    /// Sigstore provenance.
    Verify(VerifyArgs),
}

/// `bulwark db` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Import OSV advisories (a JSON file, a directory of them, or an OSV `all.zip`), or with
    /// `--iocs` a list of compromised versions (`package,version[,campaign]` or `name@version`
    /// per line).
    Import(DbImportArgs),
    /// Download OSV data (default: OSV's npm `all.zip`), verify it parses, then swap it in.
    Update(DbUpdateArgs),
    /// Say what is loaded, from where, and how old it is.
    Status(DbStatusArgs),
}

/// Arguments of `bulwark db import`.
#[derive(Debug, clap::Args)]
pub(crate) struct DbImportArgs {
    /// OSV files, directories or zips to import.
    #[arg(value_name = "PATH", required_unless_present = "iocs")]
    pub(crate) paths: Vec<PathBuf>,
    /// A user list of compromised versions to add.
    #[arg(long, value_name = "FILE")]
    pub(crate) iocs: Vec<PathBuf>,
}

/// Arguments of `bulwark db update`.
#[derive(Debug, clap::Args)]
pub(crate) struct DbUpdateArgs {
    /// Where to download the OSV archive from (repeatable).
    #[arg(long, value_name = "URL")]
    pub(crate) url: Vec<String>,
}

/// Arguments of `bulwark db status`.
#[derive(Debug, clap::Args)]
pub(crate) struct DbStatusArgs {
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
}

/// Arguments of `bulwark verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Download tarballs that are in no local cache (from the registry).
    #[arg(long)]
    pub(crate) fetch: bool,
    /// Check the lockfile against this registry: versions, integrity, tarball URLs, manifest
    /// confusion, signatures and provenance (network).
    #[arg(long, env = "BULWARK_REGISTRY", value_name = "URL")]
    pub(crate) registry: Option<String>,
    /// Recorded registry answers (`<name>.json` packuments, `-/npm/v1/attestations/…`) used
    /// instead of the network.
    #[arg(long, value_name = "DIR", conflicts_with = "registry")]
    pub(crate) packuments: Option<PathBuf>,
    /// Extra package-manager cache directories to look for tarballs in (npm `_cacache`,
    /// yarn classic cache, pnpm store).
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub(crate) cache_dirs: Vec<PathBuf>,
    /// Registry keys (`/-/npm/v1/keys` document) instead of the shipped npm keys.
    #[arg(long, value_name = "FILE")]
    pub(crate) keys: Option<PathBuf>,
    /// Sigstore `trusted_root.json` instead of the shipped public-good root.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
}

/// Arguments of `bulwark inspect`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct InspectArgs {
    /// A package directory, a package tarball (.tgz), or `name@version`.
    pub(crate) target: String,
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
    /// Exit with 1 when the verdict is at this level or above.
    #[arg(long, value_enum, default_value_t = VerdictLevel::Malicious)]
    pub(crate) fail_on: VerdictLevel,
    /// The registry `name@version` is downloaded from.
    #[arg(
        long,
        env = "BULWARK_REGISTRY",
        default_value = "https://registry.npmjs.org"
    )]
    pub(crate) registry: String,
}

/// Which analysis verdict makes a command exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VerdictLevel {
    /// Never.
    Never,
    /// A `malicious` verdict.
    Malicious,
    /// A `suspicious` or `malicious` verdict.
    Suspicious,
}

/// Which findings make `scan` exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum FailOn {
    /// Never fail on findings.
    Never,
    /// Known-malicious or compromised versions, and packages the code analysis calls
    /// malicious.
    Malicious,
    /// Also packages the code analysis calls suspicious.
    Suspicious,
    /// Also vulnerabilities of critical severity.
    Critical,
    /// Also vulnerabilities of high severity.
    High,
    /// Also vulnerabilities of medium severity.
    Medium,
    /// Any finding.
    Any,
}

/// Arguments of `bulwark scan`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct ScanArgs {
    /// The directory (or a single lockfile) to scan.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Output format: human, json, cyclonedx, sarif (GitHub code scanning) or github
    /// (workflow annotations).
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Exit with 1 when there are findings at this level or above.
    #[arg(long, value_enum, default_value_t = FailOn::Malicious)]
    pub(crate) fail_on: FailOn,
    /// The policy file (default: `bulwark.toml` in DIR, when there is one). Exit 1 when a
    /// deny-level rule is violated.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Never use the network: the minimum release age is checked from the publish-time
    /// cache, and packages it cannot date are listed.
    #[arg(long)]
    pub(crate) offline: bool,
    /// The registry publication times are read from (minimum release age).
    #[arg(
        long,
        env = "BULWARK_REGISTRY",
        default_value = "https://registry.npmjs.org"
    )]
    pub(crate) registry: String,
    /// The publish-time cache file (default: `publish-times.json` beside the database).
    #[arg(long, env = "BULWARK_TIME_CACHE", value_name = "PATH")]
    pub(crate) time_cache: Option<PathBuf>,
    /// Only use the built-in indicator feed, not the database.
    #[arg(long)]
    pub(crate) no_db: bool,
    /// Do not analyse the code of installed packages.
    #[arg(long)]
    pub(crate) no_analysis: bool,
    /// The analysis cache file (default: `analysis-cache.sqlite3` beside the database).
    #[arg(long, env = "BULWARK_CACHE", value_name = "PATH")]
    pub(crate) cache: Option<PathBuf>,
}

/// Arguments of `bulwark init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
}

/// Arguments of `bulwark diff`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct DiffArgs {
    /// `NAME OLD_VERSION NEW_VERSION`, or `OLD_PATH NEW_PATH` (directories or .tgz files).
    #[arg(num_args = 2..=3, required = true, value_name = "TARGETS")]
    pub(crate) targets: Vec<String>,
    /// Output format: human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = parse_format)]
    pub(crate) format: OutputFormat,
    /// Exit with 1 when the new version adds a change at this level or above.
    #[arg(long, value_enum, default_value_t = VerdictLevel::Malicious)]
    pub(crate) fail_on: VerdictLevel,
    /// The registry versions are downloaded from.
    #[arg(
        long,
        env = "BULWARK_REGISTRY",
        default_value = "https://registry.npmjs.org"
    )]
    pub(crate) registry: String,
}

/// Output format of `bulwark hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HuntFormat {
    /// A summary and every hit, for a person.
    Human,
    /// The report described in docs/hunt.md.
    Json,
}

/// Arguments of `bulwark hunt`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct HuntArgs {
    /// Directories to sweep (default: `/` as root, else the home directory).
    #[arg(value_name = "ROOT")]
    pub(crate) roots: Vec<PathBuf>,
    /// Output format: human or json.
    #[arg(long, short = 'f', value_enum, default_value_t = HuntFormat::Human)]
    pub(crate) format: HuntFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Only use the built-in indicator feed, not the database.
    #[arg(long)]
    pub(crate) no_db: bool,
    /// More payload hashes to look for (`sha256[,file,size_note,campaign,source]` per line).
    #[arg(long, value_name = "FILE")]
    pub(crate) hashes: Vec<PathBuf>,
    /// Worker threads (default: one per CPU).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub(crate) threads: usize,
    /// No progress on standard error.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// The gate's options, shared by `serve` and `run`.
#[derive(Debug, clap::Args)]
pub(crate) struct GateArgs {
    /// An upstream registry: `URL` or `@scope=URL`, optionally followed by
    /// `,token-env=VAR` (the variable holding its bearer token). Repeatable; default
    /// https://registry.npmjs.org.
    #[arg(long, value_name = "[@SCOPE=]URL[,token-env=VAR]")]
    pub(crate) upstream: Vec<String>,
    /// The cache directory (tarballs, packuments, verdicts; default: `gate/` beside the
    /// database).
    #[arg(long, env = "BULWARK_GATE_CACHE", value_name = "DIR")]
    pub(crate) cache_dir: Option<std::path::PathBuf>,
    /// Append every decision to FILE as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_log: Option<std::path::PathBuf>,
    /// Serve from the cache only; never contact an upstream.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Block versions published less than this long ago (`3d`, `12h`, `0`).
    #[arg(long, value_parser = crate::commands::parse_duration, default_value = "0", value_name = "AGE")]
    pub(crate) min_age: std::time::Duration,
    /// Serve only these packages (repeatable; default: all).
    #[arg(long, value_name = "NAME")]
    pub(crate) allow: Vec<String>,
    /// Never serve this package (`name`) or version (`name@version`) (repeatable).
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub(crate) deny: Vec<String>,
    /// Only use the built-in indicator feed, not the database.
    #[arg(long)]
    pub(crate) no_db: bool,
    /// The policy file (default: `bulwark.toml` in the current directory, when there is
    /// one): its package allow/deny lists and minimum release age block versions at `deny`
    /// level, and its `[serve]` table supplies upstreams, cache, audit log and address that
    /// the flags do not.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<std::path::PathBuf>,
    /// How long an upstream packument is used before it is revalidated.
    #[arg(long, value_parser = crate::commands::parse_duration, default_value = "5m", value_name = "AGE")]
    pub(crate) metadata_ttl: std::time::Duration,
    /// Time limit of one upstream request.
    #[arg(long, value_parser = crate::commands::parse_duration, default_value = "60s", value_name = "AGE")]
    pub(crate) upstream_timeout: std::time::Duration,
}

/// Arguments of `bulwark serve`.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub(crate) struct ServeArgs {
    /// The address to listen on (default: `[serve] listen` of the policy, else
    /// 127.0.0.1:4873).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// The gate's options.
    #[command(flatten)]
    pub(crate) gate: GateArgs,
}

/// Arguments of `bulwark run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The gate's options.
    #[command(flatten)]
    pub(crate) gate: GateArgs,
    /// No gate address or summary when nothing was blocked.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// The package manager and its arguments, after `--`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub(crate) command: Vec<String>,
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
            _ => unreachable!("parsed a scan"),
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
    fn fail_on_levels() {
        assert_eq!(scan(&[]).fail_on, FailOn::Malicious);
        assert_eq!(scan(&["--fail-on", "high"]).fail_on, FailOn::High);
        assert_eq!(
            scan(&["--fail-on", "never", "--fail-on", "any"]).fail_on,
            FailOn::Any
        );
        assert!(Args::try_parse_from(["bulwark", "scan", "--fail-on", "suspicious-ish"]).is_err());
        assert_eq!(
            scan(&["--fail-on", "suspicious"]).fail_on,
            FailOn::Suspicious
        );
        assert!(FailOn::Malicious < FailOn::Suspicious && FailOn::Suspicious < FailOn::Critical);
    }

    #[test]
    fn scan_policy_flags() {
        let args = scan(&[]);
        assert!(args.config.is_none() && !args.offline && args.time_cache.is_none());
        let args = scan(&["--config", "ci.toml", "--offline", "--time-cache", "t.json"]);
        assert_eq!(args.config, Some(PathBuf::from("ci.toml")));
        assert!(args.offline);
        assert_eq!(args.time_cache, Some(PathBuf::from("t.json")));
        assert_eq!(scan(&["-f", "sarif"]).format, OutputFormat::Sarif);
        assert_eq!(scan(&["--format=github"]).format, OutputFormat::Github);
        assert_eq!(
            scan(&["--registry", "http://127.0.0.1:1"]).registry,
            "http://127.0.0.1:1"
        );
        let Command::Init(init) = Args::try_parse_from(["bulwark", "init"]).unwrap().command else {
            panic!("not init")
        };
        assert_eq!(init.dir, PathBuf::from("."));
    }

    #[test]
    fn scan_analysis_flags() {
        let args = scan(&[]);
        assert!(!args.no_analysis);
        let args = scan(&["--no-analysis", "--cache", "/tmp/c.sqlite3"]);
        assert!(args.no_analysis);
        assert_eq!(args.cache, Some(PathBuf::from("/tmp/c.sqlite3")));
    }

    fn diff(args: &[&str]) -> Result<DiffArgs, clap::Error> {
        let all: Vec<&str> = ["bulwark", "diff"].iter().chain(args).copied().collect();
        match Args::try_parse_from(all)?.command {
            Command::Diff(diff) => Ok(diff),
            _ => unreachable!("parsed a diff"),
        }
    }

    #[test]
    fn diff_targets_and_flags() {
        let args = diff(&["left-pad", "1.0.0", "1.0.1"]).unwrap();
        assert_eq!(args.targets, ["left-pad", "1.0.0", "1.0.1"]);
        assert_eq!(args.fail_on, VerdictLevel::Malicious);
        let args = diff(&["old.tgz", "new/", "-f", "json", "--fail-on", "suspicious"]).unwrap();
        assert_eq!(args.targets.len(), 2);
        assert_eq!(args.format, OutputFormat::Json);
        assert_eq!(args.fail_on, VerdictLevel::Suspicious);
        assert!(diff(&["only-one"]).is_err());
        assert!(diff(&["a", "b", "c", "d"]).is_err());
        assert!(diff(&["a", "b", "--fail-on", "sometimes"]).is_err());
    }

    #[test]
    fn db_commands() {
        let args = Args::try_parse_from([
            "bulwark",
            "--db",
            "/tmp/x.db",
            "db",
            "import",
            "a.zip",
            "--iocs",
            "l.csv",
        ])
        .unwrap();
        assert_eq!(args.db, Some(PathBuf::from("/tmp/x.db")));
        let Command::Db(DbCommand::Import(import)) = args.command else {
            panic!("not an import")
        };
        assert_eq!(import.paths, vec![PathBuf::from("a.zip")]);
        assert_eq!(import.iocs, vec![PathBuf::from("l.csv")]);
        assert!(
            Args::try_parse_from(["bulwark", "db", "import"]).is_err(),
            "import needs something"
        );
        assert!(Args::try_parse_from(["bulwark", "db", "import", "--iocs", "l.csv"]).is_ok());
        let args = Args::try_parse_from([
            "bulwark",
            "db",
            "update",
            "--url",
            "http://127.0.0.1:1/all.zip",
        ])
        .unwrap();
        assert!(matches!(args.command, Command::Db(DbCommand::Update(ref u)) if u.url.len() == 1));
    }

    fn hunt(args: &[&str]) -> HuntArgs {
        let all: Vec<&str> = ["bulwark", "hunt"].iter().chain(args).copied().collect();
        match Args::try_parse_from(all).unwrap().command {
            Command::Hunt(hunt) => hunt,
            _ => unreachable!("parsed a hunt"),
        }
    }

    #[test]
    fn hunt_arguments() {
        let args = hunt(&[]);
        assert!(
            args.roots.is_empty(),
            "the default root is decided at run time"
        );
        assert_eq!(args.format, HuntFormat::Human);
        assert_eq!(args.threads, 0);
        assert!(!args.no_db && !args.quiet && args.output.is_none());
        let args = hunt(&[
            "/a", "/b", "--format", "json", "-o", "r.json", "-j", "4", "-q",
        ]);
        assert_eq!(args.roots, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(args.format, HuntFormat::Json);
        assert_eq!(args.output, Some(PathBuf::from("r.json")));
        assert_eq!(args.threads, 4);
        assert!(args.quiet);
        assert_eq!(
            hunt(&["-f", "json", "-f", "human"]).format,
            HuntFormat::Human
        );
        assert_eq!(
            hunt(&["--hashes", "a.csv", "--hashes", "b.csv"])
                .hashes
                .len(),
            2
        );
        assert!(hunt(&["--no-db"]).no_db);
        assert!(Args::try_parse_from(["bulwark", "hunt", "--format", "cyclonedx"]).is_err());
        assert!(Args::try_parse_from(["bulwark", "hunt", "-j", "many"]).is_err());
    }

    #[test]
    fn color_is_global() {
        let args = Args::try_parse_from(["bulwark", "scan", "--color", "never", "dir"]).unwrap();
        assert_eq!(args.color, ColorChoice::Never);
        assert!(Args::try_parse_from(["bulwark", "--color", "sometimes", "scan"]).is_err());
    }
}
