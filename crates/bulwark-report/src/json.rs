//! The JSON report of `bulwark scan --format json`. These structs *are* the schema
//! (documented in `docs/json-schema.md`); field names are a public contract: add fields, never
//! rename or remove them without bumping [`SCHEMA_VERSION`].

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bulwark_lockfile::{ExtractError, Project};
use bulwark_types::{Integrity, SourceKind};
use serde::Serialize;

/// Version of the JSON schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole result of one scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// The directory (or file) that was scanned.
    pub root: PathBuf,
    /// Totals.
    pub summary: Summary,
    /// One entry per lockfile or installed tree.
    pub projects: Vec<ProjectEntry>,
    /// Every package of every project.
    pub packages: Vec<PackageEntry>,
    /// Known-bad matches and analysis findings, most severe first.
    pub findings: Vec<Finding>,
    /// Files that could not be read; the scan went on without them.
    pub errors: Vec<ErrorEntry>,
    /// Files skipped on purpose.
    pub ignored: Vec<IgnoredEntry>,
    /// Installed packages whose code analysis failed or was partial; the scan went on.
    pub analysis_notes: Vec<AnalysisNote>,
    /// The policy result when a `bulwark.toml` was applied; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicySection>,
}

/// What the policy (`bulwark.toml`) found.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySection {
    /// The config file applied, relative to the scan root when inside it.
    pub config: PathBuf,
    /// Totals.
    pub summary: PolicySummary,
    /// Every violation at `warn` or `deny`, deny first.
    pub violations: Vec<PolicyViolation>,
    /// Packages whose publication time could not be found, with why (minimum release age).
    pub undated: BTreeMap<String, String>,
    /// Description of each check code that appears in `violations` (SARIF rule metadata).
    #[serde(skip)]
    pub descriptions: BTreeMap<String, String>,
}

/// Totals of the policy result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicySummary {
    /// Violations at `deny` (any makes the scan exit with 1).
    pub deny: usize,
    /// Violations at `warn`.
    pub warn: usize,
    /// Violations per check code.
    pub by_check: BTreeMap<String, usize>,
}

/// One policy violation.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyViolation {
    /// The check's stable kebab-case code, e.g. `install-script-not-allowed`.
    pub check: String,
    /// `warn` or `deny`.
    pub level: PolicyLevel,
    /// One line for people.
    pub message: String,
    /// The package, when the violation is about one (for `unpinned-dependency` and
    /// `lockfile-drift` from `package.json`, `version` is the declared specifier).
    pub package: Option<FindingPackage>,
    /// The project's [`ProjectEntry::id`], when about one.
    pub project: Option<usize>,
    /// Where: the lockfile line, the `package.json` line, or the `bulwark.toml` line.
    pub location: Option<LocationEntry>,
}

/// The level of a policy violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyLevel {
    /// Reported, does not fail the scan.
    Warn,
    /// Fails the scan (exit code 1).
    Deny,
}

impl PolicySection {
    /// Builds the section from violations, computing the totals.
    #[must_use]
    pub fn new(
        config: PathBuf,
        violations: Vec<PolicyViolation>,
        undated: BTreeMap<String, String>,
        descriptions: BTreeMap<String, String>,
    ) -> Self {
        let mut summary = PolicySummary::default();
        for violation in &violations {
            match violation.level {
                PolicyLevel::Deny => summary.deny += 1,
                PolicyLevel::Warn => summary.warn += 1,
            }
            *summary.by_check.entry(violation.check.clone()).or_default() += 1;
        }
        Self {
            config,
            summary,
            violations,
            undated,
            descriptions,
        }
    }
}

/// Why the code analysis of one installed package failed or was partial.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisNote {
    /// The package.
    pub package: FindingPackage,
    /// Its directory, relative to the scan root.
    pub install_path: PathBuf,
    /// What happened.
    pub message: String,
}

/// Totals of the code analysis of installed packages.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AnalysisSummary {
    /// Package directories analysed by this scan.
    pub analysed: usize,
    /// Package directories whose verdict came from the cache.
    pub cached: usize,
    /// Package directories whose analysis failed (see [`ScanReport::analysis_notes`]).
    pub failed: usize,
    /// Verdicts per level over all analysed and cached directories.
    pub malicious: usize,
    /// See [`AnalysisSummary::malicious`].
    pub suspicious: usize,
    /// See [`AnalysisSummary::malicious`].
    pub clean: usize,
}

/// Name and version of bulwark.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// Always `bulwark`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

/// Totals of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Projects (lockfiles and installed trees) read.
    pub projects: usize,
    /// Package entries over all projects.
    pub packages: usize,
    /// Distinct `name@version` over all projects.
    pub distinct_packages: usize,
    /// Package entries per source kind.
    pub by_source: BTreeMap<SourceKind, usize>,
    /// Projects per format.
    pub by_format: BTreeMap<&'static str, usize>,
    /// Files that failed.
    pub errors: usize,
    /// Findings per kind.
    pub findings: BTreeMap<FindingKind, usize>,
    /// Code analysis totals, or null when no analysis ran (`--no-analysis`, no installed tree).
    pub analysis: Option<AnalysisSummary>,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A known malicious package version (an OSV `MAL-*` report).
    Malicious,
    /// A version on a list of compromised versions of a past incident.
    CompromisedVersion,
    /// A version with a known vulnerability.
    Vulnerability,
    /// An installed package whose code the analysis calls malicious.
    MaliciousCode,
    /// An installed package whose code the analysis calls suspicious.
    SuspiciousCode,
}

/// How severe a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Informational.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: every malicious or compromised version.
    Critical,
}

/// One finding about one package of one project.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind of finding.
    pub kind: FindingKind,
    /// The advisory id (`MAL-2025-47141`, `GHSA-…`) or `IOC:<campaign>`.
    pub id: String,
    /// Other ids of the same advisory.
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// CVSS base score, or null.
    pub score: Option<f64>,
    /// One line for people.
    pub summary: String,
    /// The affected package.
    pub package: FindingPackage,
    /// The project's [`ProjectEntry::id`].
    pub project: usize,
    /// Where the package is defined.
    pub location: LocationEntry,
    /// Shortest dependency paths that pull the package in.
    pub paths: Vec<Vec<String>>,
    /// Affected versions in human form.
    pub affected_range: Option<String>,
    /// The first fixed version, or null.
    pub fixed: Option<String>,
    /// Incident name for compromised-version indicators, or null.
    pub campaign: Option<String>,
    /// Where the knowledge comes from (URL or feed), or null.
    pub source: Option<String>,
    /// The package's directory relative to the scan root (code findings), or null.
    pub install_path: Option<PathBuf>,
    /// The analysis evidence of a code finding (empty for advisory findings).
    pub code: Vec<CodeEvidence>,
}

/// One piece of analysis evidence of a `malicious-code` / `suspicious-code` finding.
#[derive(Debug, Clone, Serialize)]
pub struct CodeEvidence {
    /// The analysis rule (kebab-case).
    pub rule_id: String,
    /// The rule's severity: `info`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// One sentence.
    pub message: String,
    /// Package-relative file.
    pub file: String,
    /// 1-based line, 0 when about the whole file.
    pub line: u32,
    /// A short excerpt of the code.
    pub evidence: String,
}

/// `name@version` of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct FindingPackage {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// One project: a lockfile or installed tree.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectEntry {
    /// Index of the project, referenced by [`PackageEntry::project`].
    pub id: usize,
    /// The directory the project lives in, relative to the scan root.
    pub root: PathBuf,
    /// The lockfile (or `node_modules` directory), relative to the scan root.
    pub file: PathBuf,
    /// The format, e.g. `npm/package-lock`, `pnpm/lock`, `installed/node_modules`.
    pub format: &'static str,
    /// The format version as the file states it.
    pub format_version: String,
    /// The root and workspace members.
    pub importers: Vec<String>,
    /// Number of packages.
    pub package_count: usize,
    /// Non-fatal notes.
    pub warnings: Vec<String>,
}

/// One package of one project.
#[derive(Debug, Clone, Serialize)]
pub struct PackageEntry {
    /// The project's [`ProjectEntry::id`].
    pub project: usize,
    /// Real package name.
    pub name: String,
    /// Resolved version.
    pub version: String,
    /// Alias it is installed under, or null.
    pub alias: Option<String>,
    /// Resolved URL or specifier, or null.
    pub resolved: Option<String>,
    /// Parsed integrity, or null.
    pub integrity: Option<IntegrityEntry>,
    /// Source kind.
    pub source: SourceKind,
    /// Development-only.
    pub dev: bool,
    /// Optional-only.
    pub optional: bool,
    /// Peer-only.
    pub peer: bool,
    /// Shortest dependency paths from the project root.
    pub paths: Vec<Vec<String>>,
    /// Where the package is defined.
    pub location: LocationEntry,
    /// Its place in `node_modules`, or null.
    pub install_path: Option<String>,
    /// Package URL.
    pub purl: String,
}

/// An integrity value, as written and split into its parts.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrityEntry {
    /// The SRI string, e.g. `sha512-…`.
    pub sri: String,
    /// The algorithm.
    pub algorithm: bulwark_types::Algorithm,
    /// The digest in lowercase hex.
    pub hex: String,
}

impl From<&Integrity> for IntegrityEntry {
    fn from(integrity: &Integrity) -> Self {
        Self {
            sri: integrity.to_string(),
            algorithm: integrity.algorithm,
            hex: integrity.hex_digest(),
        }
    }
}

/// A file and 1-based line.
#[derive(Debug, Clone, Serialize)]
pub struct LocationEntry {
    /// File, relative to the scan root.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
}

/// A file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, or null.
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

/// A file skipped on purpose.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoredEntry {
    /// The file.
    pub file: PathBuf,
    /// Why.
    pub reason: String,
}

impl ScanReport {
    /// Builds the report of a scan of `root`.
    #[must_use]
    pub fn new(
        root: &Path,
        projects: &[Project],
        errors: &[ExtractError],
        ignored: &[(PathBuf, String)],
    ) -> Self {
        let relative = |path: &Path| -> PathBuf {
            match path.strip_prefix(root) {
                Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
                Ok(rest) => rest.to_path_buf(),
                Err(_) => path.to_path_buf(),
            }
        };
        let mut summary = Summary {
            projects: projects.len(),
            errors: errors.len(),
            ..Summary::default()
        };
        let mut distinct = std::collections::BTreeSet::new();
        let mut packages = Vec::new();
        let mut project_entries = Vec::with_capacity(projects.len());
        for (id, project) in projects.iter().enumerate() {
            *summary.by_format.entry(project.format).or_default() += 1;
            project_entries.push(ProjectEntry {
                id,
                root: relative(&project.root),
                file: relative(&project.file),
                format: project.format,
                format_version: project.format_version.clone(),
                importers: project.importers.clone(),
                package_count: project.packages.len(),
                warnings: project.warnings.clone(),
            });
            for package in &project.packages {
                *summary.by_source.entry(package.source).or_default() += 1;
                distinct.insert((package.name.as_str(), package.version.as_str()));
                packages.push(PackageEntry {
                    project: id,
                    name: package.name.clone(),
                    version: package.version.clone(),
                    alias: package.alias.clone(),
                    resolved: package.resolved.clone(),
                    integrity: package.integrity.as_ref().map(IntegrityEntry::from),
                    source: package.source,
                    dev: package.dev,
                    optional: package.optional,
                    peer: package.peer,
                    paths: package.paths.clone(),
                    location: LocationEntry {
                        file: relative(&package.location.file),
                        line: package.location.line,
                    },
                    install_path: package.install_path.clone(),
                    purl: bulwark_types::npm_purl(&package.name, &package.version),
                });
            }
        }
        summary.packages = packages.len();
        summary.distinct_packages = distinct.len();
        Self {
            findings: Vec::new(),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "bulwark",
                version: env!("CARGO_PKG_VERSION"),
            },
            root: root.to_path_buf(),
            summary,
            projects: project_entries,
            packages,
            errors: errors
                .iter()
                .map(|error| ErrorEntry {
                    file: relative(&error.file),
                    line: error.line,
                    message: error.message.clone(),
                })
                .collect(),
            ignored: ignored
                .iter()
                .map(|(file, reason)| IgnoredEntry {
                    file: relative(file),
                    reason: reason.clone(),
                })
                .collect(),
            analysis_notes: Vec::new(),
            policy: None,
        }
    }
}

impl ScanReport {
    /// Adds findings, keeping them sorted most severe first and the summary in step.
    pub fn add_findings(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a.package.name.cmp(&b.package.name))
                .then_with(|| a.package.version.cmp(&b.package.version))
                .then(a.project.cmp(&b.project))
                .then_with(|| a.id.cmp(&b.id))
        });
        self.summary.findings.clear();
        for finding in &self.findings {
            *self.summary.findings.entry(finding.kind).or_default() += 1;
        }
    }
}

/// Writes `report` as pretty JSON followed by a newline.
///
/// # Errors
/// Returns write errors of `out`.
pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
