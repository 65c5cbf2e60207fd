//! `bulwark scan`: discover lockfiles and installed trees, build the inventory, match it
//! against known-bad versions and advisories, analyse the code of installed packages, report.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use bulwark_advisory::osv::{AdvisoryKind, SeverityLevel};
use bulwark_advisory::{Match, Matcher, PackageRef, Store};
use bulwark_lockfile::Project;
use bulwark_report::{
    Finding, FindingKind, FindingPackage, LocationEntry, OutputFormat, ScanReport, Severity,
};

use crate::Outcome;
use crate::cli::{ColorChoice, FailOn, ScanArgs};

pub(crate) fn run(
    args: &ScanArgs,
    color: ColorChoice,
    db: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let root = &args.dir;
    if !root.exists() {
        anyhow::bail!("`{}` does not exist", root.display());
    }
    let matcher = load_matcher(args.no_db, db)?;
    let policy_config = policy::load(args)?;
    let scan = bulwark_lockfile::discover::inventory(root);
    let mut report = ScanReport::new(root, &scan.projects, &scan.errors, &scan.ignored);
    report.add_findings(match_projects(root, &scan.projects, &matcher));
    if !args.no_analysis {
        let analysis = analysis::run(root, &scan.projects, args.cache.as_deref(), db);
        if let Some(analysis) = analysis {
            report.summary.analysis = Some(analysis.summary);
            report.analysis_notes = analysis.notes;
            report.add_findings(analysis.findings);
        }
    }
    if let Some(config) = &policy_config {
        report.policy = Some(policy::apply(
            config,
            args,
            db,
            root,
            &scan.projects,
            &report.findings,
        ));
    }

    let mut out = super::report_writer(args.output.as_deref())?;
    match args.format {
        OutputFormat::Human => bulwark_report::human::write(
            &report,
            super::use_color(color, args.output.is_none()),
            &mut out,
        ),
        OutputFormat::Json => bulwark_report::json::write(&report, &mut out),
        OutputFormat::CycloneDx => bulwark_report::cyclonedx::write(root, &scan.projects, &mut out),
        OutputFormat::Sarif => bulwark_report::sarif::write(&report, &mut out),
        OutputFormat::Github => bulwark_report::github::write(&report, &mut out),
    }
    .context("cannot write the report")?;
    out.flush().context("cannot write the report")?;
    if args.format != OutputFormat::Human {
        // Machine formats keep stdout clean; still tell a person what went wrong.
        let mut stderr = std::io::stderr().lock();
        for error in &scan.errors {
            let _ = writeln!(stderr, "error: {error}");
        }
        if !report.findings.is_empty() {
            let _ = writeln!(stderr, "{} findings", report.findings.len());
        }
        if let Some(policy) = &report.policy {
            let _ = writeln!(
                stderr,
                "policy: {} denied, {} warnings",
                policy.summary.deny, policy.summary.warn
            );
        }
    }
    if !scan.errors.is_empty() {
        return Ok(Outcome::Errors);
    }
    let denied = report
        .policy
        .as_ref()
        .is_some_and(|policy| policy.summary.deny > 0);
    Ok(
        if denied
            || report
                .findings
                .iter()
                .any(|finding| fails(finding, args.fail_on))
        {
            Outcome::Findings
        } else {
            Outcome::Clean
        },
    )
}

/// The database when there is one (`--db`, `BULWARK_DB` or the default path), else the
/// built-in indicator feed alone, so detection works offline with nothing imported. A scan
/// never creates the database.
pub(crate) fn load_matcher(no_db: bool, db: Option<&Path>) -> anyhow::Result<Matcher> {
    if no_db {
        return Ok(Matcher::builtin());
    }
    let path = match db {
        Some(path) => Some(path.to_path_buf()),
        None => Store::default_path(),
    };
    match path {
        Some(path) if path.exists() => {
            let store = Store::open_read_only(&path)
                .with_context(|| format!("cannot open the database `{}`", path.display()))?;
            Matcher::from_store(&store)
                .with_context(|| format!("cannot read the database `{}`", path.display()))
        }
        Some(path) if db.is_some() => {
            anyhow::bail!("the database `{}` does not exist", path.display())
        }
        _ => Ok(Matcher::builtin()),
    }
}

/// Matches every package of every project; each match becomes a finding with the project,
/// the lockfile line and the dependency paths.
fn match_projects(root: &Path, projects: &[Project], matcher: &Matcher) -> Vec<Finding> {
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let mut findings = Vec::new();
    for (project_id, project) in projects.iter().enumerate() {
        let refs: Vec<PackageRef> = project
            .packages
            .iter()
            .map(|p| PackageRef::new(p.name.clone(), p.version.clone()))
            .collect();
        for found in matcher.match_packages(&refs) {
            for package in project
                .packages
                .iter()
                .filter(|p| p.name == found.package.name && p.version == found.package.version)
            {
                findings.push(finding(&found, project_id, package, &relative));
            }
        }
    }
    findings
}

fn finding(
    found: &Match,
    project: usize,
    package: &bulwark_lockfile::InventoryPackage,
    relative: &dyn Fn(&Path) -> std::path::PathBuf,
) -> Finding {
    let kind = match found.kind {
        AdvisoryKind::Malicious => FindingKind::Malicious,
        AdvisoryKind::CompromisedVersion => FindingKind::CompromisedVersion,
        AdvisoryKind::Vulnerability => FindingKind::Vulnerability,
    };
    let severity = match found.severity {
        Some(SeverityLevel::Critical) => Severity::Critical,
        Some(SeverityLevel::High) => Severity::High,
        Some(SeverityLevel::Medium) => Severity::Medium,
        Some(SeverityLevel::Low) => Severity::Low,
        Some(SeverityLevel::None) => Severity::None,
        None if kind == FindingKind::Vulnerability => Severity::Medium,
        None => Severity::Critical,
    };
    let summary = found
        .summary
        .clone()
        .unwrap_or_else(|| match (&found.campaign, kind) {
            (Some(campaign), _) => format!("compromised version from the incident `{campaign}`"),
            (None, FindingKind::Malicious) => "known malicious package version".to_owned(),
            _ => "known vulnerable version".to_owned(),
        });
    Finding {
        kind,
        id: found.advisory_id.to_string(),
        aliases: found.aliases.iter().map(ToString::to_string).collect(),
        severity,
        score: found.score,
        summary,
        package: FindingPackage {
            name: package.name.clone(),
            version: package.version.clone(),
        },
        project,
        location: LocationEntry {
            file: relative(&package.location.file),
            line: package.location.line,
        },
        paths: package.paths.clone(),
        affected_range: Some(found.affected_range.clone()),
        fixed: found.fixed.clone(),
        campaign: found.campaign.clone(),
        source: found.source.clone(),
        install_path: None,
        code: Vec::new(),
    }
}

/// Whether `finding` is at or above the `--fail-on` level.
fn fails(finding: &Finding, level: FailOn) -> bool {
    let known_bad = matches!(
        finding.kind,
        FindingKind::Malicious | FindingKind::CompromisedVersion | FindingKind::MaliciousCode
    );
    let suspicious = finding.kind == FindingKind::SuspiciousCode;
    match level {
        FailOn::Never => false,
        FailOn::Any => true,
        FailOn::Malicious => known_bad,
        FailOn::Suspicious => known_bad || suspicious,
        FailOn::Critical => known_bad || suspicious || finding.severity >= Severity::Critical,
        FailOn::High => known_bad || suspicious || finding.severity >= Severity::High,
        FailOn::Medium => known_bad || suspicious || finding.severity >= Severity::Medium,
    }
}

mod analysis;
mod policy;
