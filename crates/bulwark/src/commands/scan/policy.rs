//! The policy part of `bulwark scan`: finds and loads `bulwark.toml` (rendering its
//! diagnostics with code frames on stderr), dates registry packages for the minimum release
//! age (publish-time cache, the registry unless `--offline`), runs the checks of
//! `bulwark-policy`, maps the scan's findings to the policy's levels, and turns everything
//! into the report's `policy` section.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bulwark_lockfile::Project;
use bulwark_policy::checks::findings::{FindingClass, level as finding_level};
use bulwark_policy::packument::{PackumentSource, TimeCache, packument_path};
use bulwark_policy::{Check, Config, Level, Violation};
use bulwark_report::{
    Finding, FindingKind, FindingPackage, LocationEntry, PolicyLevel, PolicySection,
    PolicyViolation,
};

use crate::cli::ScanArgs;

/// Packuments larger than this are refused (the biggest real ones are tens of MiB).
const MAX_PACKUMENT_BYTES: u64 = 128 << 20;

/// The policy to apply: `--config`, else `bulwark.toml` in the scanned directory, else none.
/// An invalid file is an error (exit 2) after its diagnostics are shown.
pub(crate) fn load(args: &ScanArgs) -> anyhow::Result<Option<Config>> {
    let dir = if args.dir.is_file() {
        args.dir.parent().unwrap_or(Path::new("."))
    } else {
        args.dir.as_path()
    };
    super::super::policy_file::load(args.config.as_deref(), dir)
}

/// Packuments over the CLI's HTTPS client.
struct RegistrySource {
    registry: String,
}

impl PackumentSource for RegistrySource {
    fn packument(&self, name: &str) -> Result<Vec<u8>, String> {
        let url = format!(
            "{}{}",
            self.registry.trim_end_matches('/'),
            packument_path(name)
        );
        crate::http::get(&url, MAX_PACKUMENT_BYTES).map_err(|error| format!("{error:#}"))
    }
}

/// The publish-time cache: `--time-cache`, else beside the database.
fn time_cache_path(args: &ScanArgs, db: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = &args.time_cache {
        return Some(path.clone());
    }
    let database = db
        .map(Path::to_path_buf)
        .or_else(bulwark_advisory::Store::default_path)?;
    Some(database.with_file_name("publish-times.json"))
}

/// Runs the policy over the scan and builds the report section.
pub(crate) fn apply(
    config: &Config,
    args: &ScanArgs,
    db: Option<&Path>,
    root: &Path,
    projects: &[Project],
    findings: &[Finding],
) -> PolicySection {
    let wanted = bulwark_policy::checks::release_age::wanted(config, projects);
    let mut publish_times = BTreeMap::new();
    let mut undated = BTreeMap::new();
    if !wanted.is_empty() {
        let mut cache = match time_cache_path(args, db) {
            Some(path) => TimeCache::load(&path),
            None => TimeCache::in_memory(),
        };
        let source = RegistrySource {
            registry: args.registry.clone(),
        };
        let source: Option<&dyn PackumentSource> = if args.offline { None } else { Some(&source) };
        let resolved = cache.resolve(&wanted, source);
        if let Err(error) = cache.save() {
            let _ = writeln!(
                std::io::stderr(),
                "warning: {error}; publication times are not cached"
            );
        }
        publish_times = resolved.times;
        undated = resolved.undated;
    }
    let context = bulwark_policy::checks::Context {
        now: SystemTime::now(),
        publish_times: &publish_times,
        undated: &undated,
    };
    let mut violations = bulwark_policy::checks::run(config, projects, &context);
    violations.extend(finding_violations(config, findings));
    let violations = bulwark_policy::checks::finish(violations);
    let relative = |path: &Path| -> PathBuf {
        path.strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut descriptions = BTreeMap::new();
    let entries = violations
        .into_iter()
        .map(|violation| {
            descriptions.insert(
                violation.check.code().to_owned(),
                violation.check.description().to_owned(),
            );
            PolicyViolation {
                check: violation.check.code().to_owned(),
                level: if violation.level == Level::Deny {
                    PolicyLevel::Deny
                } else {
                    PolicyLevel::Warn
                },
                message: violation.message,
                package: violation.package.map(|p| FindingPackage {
                    name: p.name,
                    version: p.version,
                }),
                project: violation.project,
                location: violation.place.map(|place| LocationEntry {
                    file: relative(&place.file),
                    line: place.line,
                }),
            }
        })
        .collect();
    let config_path = config
        .path
        .as_deref()
        .map_or_else(|| PathBuf::from(bulwark_policy::FILE_NAME), relative);
    PolicySection::new(config_path, entries, undated, descriptions)
}

/// The scan's findings at the levels `[findings]` gives them (already relative places).
fn finding_violations(config: &Config, findings: &[Finding]) -> Vec<Violation> {
    findings
        .iter()
        .filter_map(|finding| {
            let class = match finding.kind {
                FindingKind::Malicious
                | FindingKind::CompromisedVersion
                | FindingKind::MaliciousCode => FindingClass::Malicious,
                FindingKind::SuspiciousCode => FindingClass::Suspicious,
                FindingKind::Vulnerability => FindingClass::Vulnerability,
            };
            let mut ids: Vec<&str> = vec![finding.id.as_str()];
            ids.extend(finding.aliases.iter().map(String::as_str));
            let level = finding_level(
                config,
                class,
                &ids,
                &finding.package.name,
                &finding.package.version,
            );
            (level != Level::Allow).then(|| {
                let check: Check = class.check();
                let mut violation = Violation::new(
                    check,
                    level,
                    format!(
                        "{}@{}: {} ({})",
                        finding.package.name, finding.package.version, finding.summary, finding.id
                    ),
                )
                .package(&finding.package.name, &finding.package.version)
                .at(finding.location.file.clone(), finding.location.line);
                violation.project = Some(finding.project);
                violation
            })
        })
        .collect()
}
