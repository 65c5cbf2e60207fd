//! `bulwark db`: import, update and inspect the embedded advisory database.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bulwark_advisory::{DEFAULT_OSV_NPM_URL, ImportReport, Store, redact_url};
use bulwark_report::OutputFormat;

use crate::Outcome;
use crate::cli::DbCommand;

/// Largest OSV archive `db update` accepts (OSV's npm `all.zip` is ~100 MiB).
const MAX_DOWNLOAD_BYTES: u64 = 1024 * 1024 * 1024;

/// The database path: `--db`/`BULWARK_DB`, else the platform data directory.
pub(crate) fn database_path(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path.to_path_buf()),
        None => Store::default_path()
            .context("no data directory on this platform: pass --db PATH or set BULWARK_DB"),
    }
}

pub(crate) fn run(command: &DbCommand, db: Option<&Path>) -> anyhow::Result<Outcome> {
    let path = database_path(db)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let mut store = Store::open(&path)
        .with_context(|| format!("cannot open the database `{}`", path.display()))?;
    let mut stderr = std::io::stderr().lock();
    match command {
        DbCommand::Import(args) => {
            let mut failed = 0;
            for source in &args.paths {
                let report = store
                    .import_path(source)
                    .with_context(|| format!("cannot import `{}`", source.display()))?;
                failed += report_import(&mut stderr, &report)?;
            }
            for list in &args.iocs {
                let report = store
                    .import_iocs_csv(list)
                    .with_context(|| format!("cannot import `{}`", list.display()))?;
                failed += report_import(&mut stderr, &report)?;
            }
            Ok(if failed == 0 {
                Outcome::Clean
            } else {
                Outcome::Errors
            })
        }
        DbCommand::Update(args) => {
            let urls: Vec<String> = if args.url.is_empty() {
                vec![DEFAULT_OSV_NPM_URL.to_owned()]
            } else {
                args.url.clone()
            };
            let mut failed = 0;
            for url in &urls {
                writeln!(stderr, "downloading {}", redact_url(url))?;
                let report = store
                    .update_from_url(url, download)
                    .with_context(|| format!("cannot update from `{}`", redact_url(url)))?;
                failed += report_import(&mut stderr, &report)?;
            }
            Ok(if failed == 0 {
                Outcome::Clean
            } else {
                Outcome::Errors
            })
        }
        DbCommand::Status(args) => {
            let status = store.status().context("cannot read the database status")?;
            let mut out = std::io::stdout().lock();
            if args.format == OutputFormat::Json {
                serde_json::to_writer_pretty(&mut out, &status)?;
                writeln!(out)?;
            } else {
                writeln!(out, "database   {}", path.display())?;
                writeln!(out, "schema     v{}", status.schema_version)?;
                writeln!(
                    out,
                    "advisories {} ({} malicious, {} withdrawn) over {} affected packages",
                    status.advisories, status.malicious, status.withdrawn, status.affected_packages
                )?;
                writeln!(
                    out,
                    "indicators {} compromised versions, {} payload hashes, {} strings",
                    status.compromised_versions, status.payload_hashes, status.indicator_strings
                )?;
                for source in &status.sources {
                    writeln!(
                        out,
                        "source     {} ({:?}): {} records, {} failed, {} old",
                        redact_url(&source.source),
                        source.kind,
                        source.records,
                        source.failed,
                        human_age(source.age_seconds)
                    )?;
                }
                if status.osv_age_seconds.is_none() {
                    writeln!(
                        out,
                        "no OSV data imported yet: run `bulwark db update` or `bulwark db import`"
                    )?;
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// Prints one import's result; returns the number of failed files.
fn report_import(out: &mut dyn std::io::Write, report: &ImportReport) -> anyhow::Result<usize> {
    writeln!(
        out,
        "imported {} records from {} ({} withdrawn, {} failed)",
        report.imported,
        redact_url(&report.source),
        report.withdrawn,
        report.failed.len()
    )?;
    for failure in &report.failed {
        writeln!(
            out,
            "  skipped {}: {}",
            failure.name.display(),
            failure.reason
        )?;
    }
    Ok(report.failed.len())
}

fn human_age(seconds: u64) -> String {
    match seconds {
        0..120 => format!("{seconds} s"),
        120..7200 => format!("{} min", seconds / 60),
        7200..172_800 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// Downloads `url` over HTTP(S) with a size cap.
fn download(url: &str) -> bulwark_advisory::Result<Vec<u8>> {
    crate::http::get(url, MAX_DOWNLOAD_BYTES).map_err(|error| {
        bulwark_advisory::Error::new(
            bulwark_advisory::ErrorKind::Download,
            format!("`{}`: {error:#}", redact_url(url)),
        )
    })
}
