//! `bulwark verify [DIR]`: integrity of every package of the inventory. Offline by default:
//! cached tarballs are checked against their integrity and installed files against their
//! tarball. `--registry URL` (network) or `--packuments DIR` (recorded answers) add the
//! lockfile-against-registry checks, registry signatures, Sigstore provenance and trust
//! downgrades; `--fetch` downloads tarballs that no cache holds.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use bulwark_integrity::caches::Caches;
use bulwark_integrity::keys::RegistryKeys;
use bulwark_integrity::tamper::ChangeKind;
use bulwark_integrity::tarball::Limits;
use bulwark_integrity::trusted_root::TrustedRoot;
use bulwark_integrity::verify::{
    self, Finding, Options, PackageResult, RecordedRegistry, RegistrySource, State,
};
use bulwark_report::OutputFormat;
use owo_colors::{OwoColorize as _, Style};
use serde::Serialize;

use crate::Outcome;
use crate::cli::{ColorChoice, VerifyArgs};

/// The registry over HTTP, through the CLI's client.
struct HttpRegistry {
    base: String,
}

fn encoded(name: &str) -> String {
    name.replace('/', "%2f")
}

fn get_optional(url: &str, limit: u64) -> Result<Option<Vec<u8>>, String> {
    match crate::http::get(url, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) => {
            let not_found = error.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<ureq::Error>(),
                    Some(ureq::Error::StatusCode(404))
                )
            });
            if not_found {
                Ok(None)
            } else {
                Err(format!("{error:#}"))
            }
        }
    }
}

impl RegistrySource for HttpRegistry {
    fn packument(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        get_optional(
            &format!("{}/{}", self.base, encoded(name)),
            bulwark_integrity::registry::MAX_PACKUMENT_BYTES as u64,
        )
    }

    fn attestations(&self, name: &str, version: &str) -> Result<Option<Vec<u8>>, String> {
        get_optional(
            &format!(
                "{}/-/npm/v1/attestations/{}@{version}",
                self.base,
                encoded(name)
            ),
            bulwark_integrity::provenance::MAX_ATTESTATIONS_BYTES as u64,
        )
    }

    fn tarball(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        get_optional(url, Limits::default().max_tarball)
    }
}

/// Counts for the summary line.
#[derive(Debug, Default, Serialize)]
struct Summary {
    packages: usize,
    integrity_verified: usize,
    integrity_unchecked: usize,
    installed_checked: usize,
    registry_checked: usize,
    signatures_verified: usize,
    provenance_verified: usize,
    findings: usize,
    errors: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    root: &'a Path,
    summary: &'a Summary,
    packages: &'a [PackageResult],
    errors: &'a [String],
}

fn summarize(results: &[PackageResult], errors: usize) -> Summary {
    let mut summary = Summary {
        packages: results.len(),
        errors,
        ..Summary::default()
    };
    for result in results {
        match result.checks.integrity {
            State::Passed => summary.integrity_verified += 1,
            State::Skipped => summary.integrity_unchecked += 1,
            State::Failed => {}
        }
        if result.checks.tamper != State::Skipped {
            summary.installed_checked += result.installed.len();
        }
        summary.registry_checked += usize::from(result.checks.registry != State::Skipped);
        summary.signatures_verified += usize::from(result.checks.signature == State::Passed);
        summary.provenance_verified += usize::from(result.checks.provenance == State::Passed);
        summary.findings += result.findings.len();
        summary.errors += result.errors.len();
    }
    summary
}

pub(crate) fn run(args: &VerifyArgs, color: ColorChoice) -> anyhow::Result<Outcome> {
    let keys = registry_keys(args)?;
    // Publish attestations are npm's whichever registry serves them: the shipped npm keys
    // complete the registry's own (an explicit `--keys` file is used alone).
    let attestation_keys = if args.keys.is_some() {
        keys.clone()
    } else {
        let mut merged = keys.clone();
        for key in RegistryKeys::shipped().keys {
            if !merged.keys.iter().any(|known| known.keyid == key.keyid) {
                merged.keys.push(key);
            }
        }
        merged
    };
    let trusted_root = match &args.trusted_root {
        Some(path) => TrustedRoot::parse(
            &std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?,
        )
        .with_context(|| format!("cannot use the trusted root `{}`", path.display()))?,
        None => TrustedRoot::shipped(),
    };
    let mut caches = Caches::discover();
    // yarn berry keeps its zips in the project unless the global cache is on.
    let project_cache = args.dir.join(".yarn/cache");
    if project_cache.is_dir() {
        caches.add(&project_cache);
    }
    for dir in &args.cache_dirs {
        anyhow::ensure!(
            caches.add(dir),
            "`{}` is not an npm, yarn classic or pnpm cache",
            dir.display()
        );
    }
    let http;
    let recorded;
    let registry: Option<&dyn RegistrySource> = if let Some(dir) = &args.packuments {
        anyhow::ensure!(dir.is_dir(), "`{}` is not a directory", dir.display());
        recorded = RecordedRegistry { dir: dir.clone() };
        Some(&recorded)
    } else if let Some(url) = &args.registry {
        http = HttpRegistry {
            base: url.trim_end_matches('/').to_owned(),
        };
        Some(&http)
    } else if args.fetch {
        http = HttpRegistry {
            base: "https://registry.npmjs.org".to_owned(),
        };
        Some(&http)
    } else {
        None
    };

    let scan = bulwark_lockfile::discover::inventory(&args.dir);
    let errors: Vec<String> = scan.errors.iter().map(ToString::to_string).collect();
    let targets = verify::targets(&scan.projects);
    let options = Options {
        caches: &caches,
        registry,
        fetch_tarballs: args.fetch,
        registry_checks: args.registry.is_some() || args.packuments.is_some(),
        keys: &keys,
        attestation_keys: &attestation_keys,
        trusted_root: &trusted_root,
        limits: Limits::default(),
    };
    let results = verify::verify(&targets, &options);
    let summary = summarize(&results, errors.len());

    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &Document {
                    root: &args.dir,
                    summary: &summary,
                    packages: &results,
                    errors: &errors,
                },
            )?;
            writeln!(out)?;
        }
        _ => write_human(
            &args.dir,
            &summary,
            &results,
            &errors,
            args.registry.is_some() || args.packuments.is_some(),
            super::use_color(color, true),
            &mut out,
        )?,
    }
    out.flush().context("cannot write the report")?;
    Ok(if summary.errors > 0 {
        Outcome::Errors
    } else if summary.findings > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Whether `url` is the public npm registry, whose keys are shipped: a document served in
/// their place (or its absence, as behind a proxy that strips signatures) is not trusted.
fn is_npm_registry(url: &str) -> bool {
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = host.split(['/', ':']).next().unwrap_or_default();
    host.eq_ignore_ascii_case("registry.npmjs.org")
}

/// The registry's signing keys: `--keys FILE`; else for a registry other than npm's what it
/// serves at `/-/npm/v1/keys` (a registry without that document does not sign); else the
/// recorded `-/npm/v1/keys.json` of `--packuments`; else the shipped npm keys.
fn registry_keys(args: &VerifyArgs) -> anyhow::Result<RegistryKeys> {
    let parse = |bytes: &[u8], origin: &str| {
        RegistryKeys::parse(bytes).with_context(|| format!("cannot use the keys in `{origin}`"))
    };
    if let Some(path) = &args.keys {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        return parse(&bytes, &path.display().to_string());
    }
    if let Some(dir) = &args.packuments {
        let path = dir.join("-/npm/v1/keys.json");
        if path.is_file() {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            return parse(&bytes, &path.display().to_string());
        }
    } else if let Some(registry) = &args.registry
        && !is_npm_registry(registry)
    {
        let url = format!("{}/-/npm/v1/keys", registry.trim_end_matches('/'));
        return match get_optional(&url, 1 << 20).map_err(anyhow::Error::msg)? {
            Some(bytes) => parse(&bytes, &url),
            None => Ok(RegistryKeys::default()),
        };
    }
    Ok(RegistryKeys::shipped())
}

fn change_letter(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Modified => "modified  ",
        ChangeKind::Added => "added     ",
        ChangeKind::Removed => "removed   ",
        ChangeKind::Link => "link      ",
        ChangeKind::Unreadable => "unreadable",
    }
}

fn describe(finding: &Finding) -> String {
    match finding {
        Finding::MissingIntegrity => "no integrity recorded".to_owned(),
        Finding::WeakIntegrity { algorithm } => {
            format!("integrity uses {algorithm}, which is broken")
        }
        Finding::IntegrityMismatch {
            origin,
            expected,
            actual,
        } => format!(
            "tarball `{origin}` does not match the integrity: expected {expected}, got {actual}"
        ),
        Finding::UnreadableTarball { origin, error } => format!("tarball `{origin}`: {error}"),
        Finding::Tampered { dir, changes } => format!(
            "{} file(s) in `{}` differ from the published package",
            changes.len(),
            dir.display()
        ),
        Finding::VersionNotInRegistry => "version not in the registry".to_owned(),
        Finding::RegistryIntegrityMismatch { lockfile, registry } => {
            format!("lockfile integrity {lockfile} is not the registry's {registry}")
        }
        Finding::ResolvedMismatch { resolved, registry } => format!(
            "resolved URL `{resolved}` is not this package's tarball{}",
            registry
                .as_ref()
                .map(|r| format!(" (registry: `{r}`)"))
                .unwrap_or_default()
        ),
        Finding::ManifestConfusion { mismatches } => {
            let fields: Vec<String> = mismatches
                .iter()
                .map(|m| {
                    format!(
                        "{} (registry {} / tarball {})",
                        m.field, m.registry, m.tarball
                    )
                })
                .collect();
            format!("manifest confusion: {}", fields.join("; "))
        }
        Finding::Signature { outcome } => format!("registry signature: {}", outcome.code()),
        Finding::Provenance {
            predicate_type,
            failures,
        } => {
            let checks: Vec<String> = failures
                .iter()
                .map(|f| format!("{} ({})", f.check.code(), f.detail))
                .collect();
            format!("attestation {predicate_type} fails: {}", checks.join(", "))
        }
        Finding::AttestationsMissing => {
            "the packument announces attestations the registry does not serve".to_owned()
        }
        Finding::TrustDowngrade { change } => format!("trust downgrade: {}", change.describe()),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_human(
    root: &Path,
    summary: &Summary,
    results: &[PackageResult],
    errors: &[String],
    registry: bool,
    color: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let style = |s: Style| if color { s } else { Style::new() };
    let bold = style(Style::new().bold());
    let red = style(Style::new().red().bold());
    let dim = style(Style::new().dimmed());
    writeln!(
        out,
        "{}",
        format!("bulwark verify {}", root.display()).style(bold)
    )?;
    writeln!(
        out,
        "{} packages: {} verified against their integrity ({} without a cached tarball), {} installed directories compared with the published files",
        summary.packages,
        summary.integrity_verified,
        summary.integrity_unchecked,
        summary.installed_checked
    )?;
    if registry {
        writeln!(
            out,
            "registry: {} checked, {} signatures verified, {} with verified provenance",
            summary.registry_checked, summary.signatures_verified, summary.provenance_verified
        )?;
    }
    for result in results
        .iter()
        .filter(|r| !r.findings.is_empty() || !r.errors.is_empty())
    {
        writeln!(out)?;
        writeln!(
            out,
            "{}  {}",
            format!("{}@{}", result.name, result.version).style(bold),
            result
                .locations
                .first()
                .map(String::as_str)
                .unwrap_or_default()
                .style(dim)
        )?;
        for finding in &result.findings {
            writeln!(out, "  {} {}", finding.code().style(red), describe(finding))?;
            if let Finding::Tampered { changes, .. } = finding {
                for change in changes {
                    writeln!(out, "      {} {}", change_letter(change.kind), change.path)?;
                }
            }
        }
        for error in &result.errors {
            writeln!(out, "  error: {error}")?;
        }
    }
    for error in errors {
        writeln!(out, "error: {error}")?;
    }
    writeln!(out)?;
    if summary.findings == 0 && summary.errors == 0 {
        writeln!(out, "no findings")?;
    } else {
        writeln!(
            out,
            "{} findings, {} errors",
            summary.findings, summary.errors
        )?;
    }
    Ok(())
}
