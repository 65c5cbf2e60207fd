//! `bulwark scan`: discover lockfiles and installed trees, build the inventory, report.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::Context as _;
use bulwark_report::{OutputFormat, ScanReport};

use crate::Outcome;
use crate::cli::{ColorChoice, ScanArgs};

pub(crate) fn run(args: &ScanArgs, color: ColorChoice) -> anyhow::Result<Outcome> {
    let root = &args.dir;
    if !root.exists() {
        anyhow::bail!("`{}` does not exist", root.display());
    }
    let scan = bulwark_lockfile::discover::inventory(root);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).with_context(|| {
                format!("cannot create `{}`", path.display())
            })?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let report = ScanReport::new(root, &scan.projects, &scan.errors, &scan.ignored);
    match args.format {
        OutputFormat::Human => bulwark_report::human::write(
            &report,
            super::use_color(color, args.output.is_none()),
            &mut out,
        ),
        OutputFormat::Json => bulwark_report::json::write(&report, &mut out),
        OutputFormat::CycloneDx => bulwark_report::cyclonedx::write(root, &scan.projects, &mut out),
    }
    .context("cannot write the report")?;
    out.flush().context("cannot write the report")?;
    if args.format != OutputFormat::Human {
        // Machine formats keep stdout clean; still tell a person about unreadable files.
        let mut stderr = std::io::stderr().lock();
        for error in &scan.errors {
            let _ = writeln!(stderr, "error: {error}");
        }
    }
    Ok(if scan.errors.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Errors
    })
}
