//! `bulwark hunt`: sweep a machine for compromised packages (lockfiles, installed trees,
//! caches) and worm artifacts, with progress on stderr and a human or JSON report.
//!
//! Exit codes: 1 when there is any hit (even if parts of the machine could not be read: a hit
//! is the signal that matters, and the problems are listed beside it), 2 when there is no
//! hit but something could not be read (or the sweep could not run), 0 otherwise.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bulwark_advisory::{IndicatorFeed, PayloadHash};
use bulwark_hunt::{Options, Progress, Report, Rules};

use crate::Outcome;
use crate::cli::{ColorChoice, HuntArgs, HuntFormat};

pub(crate) fn run(
    args: &HuntArgs,
    _color: ColorChoice,
    db: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let roots = if args.roots.is_empty() {
        vec![default_root()?]
    } else {
        args.roots.clone()
    };
    for root in &roots {
        if std::fs::symlink_metadata(root).is_err() {
            anyhow::bail!("`{}` does not exist", root.display());
        }
    }
    let matcher = super::scan::load_matcher(args.no_db, db)?;
    let mut feed = IndicatorFeed::builtin().clone();
    for path in &args.hashes {
        feed.hashes.extend(read_hashes(path)?);
    }
    let options = Options {
        threads: args.threads,
        rules: Rules::from_feed(&feed),
    };

    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let report = std::thread::scope(|scope| {
        if show_progress {
            scope.spawn(|| progress_loop(&progress, &done));
        }
        let report = bulwark_hunt::hunt(&roots, &options, &matcher, &progress);
        done.store(true, Ordering::Relaxed);
        report
    })
    .context("cannot start the worker threads")?;
    let elapsed = started.elapsed();
    if !args.quiet {
        let mut stderr = std::io::stderr().lock();
        if show_progress {
            let _ = write!(stderr, "\r\x1b[2K");
        }
        let _ = writeln!(stderr, "{}", summary_line(&report, elapsed));
    }

    let mut out = super::report_writer(args.output.as_deref())?;
    match args.format {
        HuntFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).context("cannot write the report")?;
            writeln!(out).context("cannot write the report")?;
        }
        HuntFormat::Human => {
            write_human(&report, elapsed, &mut out).context("cannot write the report")?
        }
    }
    out.flush().context("cannot write the report")?;
    Ok(if !report.hits.is_empty() {
        Outcome::Findings
    } else if !report.errors.is_empty() {
        Outcome::Errors
    } else {
        Outcome::Clean
    })
}

/// `/` when running as root, else the home directory.
fn default_root() -> anyhow::Result<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // The owner of /proc/self is the effective user of this process.
        if std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0) {
            return Ok(PathBuf::from("/"));
        }
    }
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .context("no ROOT given and HOME is not set")
}

/// A user list of payload hashes: `sha256[,file[,size_note[,campaign[,source]]]]` per line;
/// a header line, blank lines and `#` comments are skipped.
fn read_hashes(path: &Path) -> anyhow::Result<Vec<PayloadHash>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut hashes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (index == 0 && line.starts_with("sha256")) {
            continue;
        }
        let mut fields = line.split(',').map(str::trim);
        let sha256 = fields.next().unwrap_or_default().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("{}:{}: not a SHA-256 in hex", path.display(), index + 1);
        }
        let mut field = || fields.next().unwrap_or_default().to_owned();
        let (file, note, campaign, source) = (field(), field(), field(), field());
        hashes.push(PayloadHash {
            sha256,
            file,
            note,
            campaign: if campaign.is_empty() {
                "user list".to_owned()
            } else {
                campaign
            },
            source: if source.is_empty() {
                path.display().to_string()
            } else {
                source
            },
        });
    }
    Ok(hashes)
}

fn progress_loop(progress: &Progress, done: &AtomicBool) {
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(150));
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[2Khunting: {} directories, {} files, {} hits, {} errors",
            progress.directories(),
            progress.files(),
            progress.hits(),
            progress.errors()
        );
        let _ = stderr.flush();
    }
}

fn summary_line(report: &Report, elapsed: Duration) -> String {
    let s = &report.summary;
    format!(
        "swept {} directories and {} files in {:.1}s: {} lockfiles, {} installed trees, {} cache entries, {} files hashed; {} hits, {} errors",
        s.directories,
        s.files,
        elapsed.as_secs_f64(),
        s.lockfiles,
        s.installed_trees,
        s.cache_entries,
        s.hashed_files,
        s.hits,
        s.errors
    )
}

fn write_human(report: &Report, elapsed: Duration, out: &mut dyn Write) -> std::io::Result<()> {
    let roots: Vec<String> = report
        .roots
        .iter()
        .map(|r| r.display().to_string())
        .collect();
    writeln!(out, "bulwark hunt {}", roots.join(" "))?;
    writeln!(out, "{}", summary_line(report, elapsed))?;
    if report.hits.is_empty() {
        writeln!(out, "\nno compromised packages or worm artifacts found")?;
    } else {
        writeln!(out, "\n{} hits", report.hits.len())?;
    }
    for hit in &report.hits {
        let what = match &hit.package {
            Some(package) => format!("{}@{}", package.name, package.version),
            None => hit
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let how = serde_json::to_value(hit.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let kind = serde_json::to_value(hit.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        writeln!(out, "\n  {kind}  {what}  ({how})")?;
        match hit.line {
            Some(line) => writeln!(out, "    at       {}:{line}", hit.path.display())?,
            None => writeln!(out, "    at       {}", hit.path.display())?,
        }
        if let Some(project) = &hit.project {
            writeln!(out, "    project  {}", project.display())?;
        }
        if let Some(campaign) = &hit.campaign {
            writeln!(out, "    campaign {campaign}")?;
        }
        writeln!(out, "    {}", hit.detail)?;
        if let Some(path) = hit.paths.first() {
            writeln!(out, "    via      {}", path.join(" > "))?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(out, "\n{} could not be read:", report.errors.len())?;
        for error in &report.errors {
            match error.line {
                Some(line) => {
                    writeln!(out, "  {}:{line}: {}", error.path.display(), error.message)?
                }
                None => writeln!(out, "  {}: {}", error.path.display(), error.message)?,
            }
        }
    }
    Ok(())
}
