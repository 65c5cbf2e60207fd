//! The whole `bulwark verify` pipeline over an inventory, without I/O policy: packages are
//! checked in parallel; the registry is reached only through a [`RegistrySource`] the caller
//! provides (HTTP, or a directory of recorded answers), so everything here runs offline.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bulwark_lockfile::Project;
use bulwark_types::{Integrity, SourceKind};
use rayon::prelude::*;
use serde::Serialize;

use crate::caches::{Cached, Caches};
use crate::keys::RegistryKeys;
use crate::provenance::{self, Attestations, Failure, Signer};
use crate::registry::{self, ManifestMismatch, Packument};
use crate::signatures::{self, SignatureOutcome};
use crate::tamper::{self, FileChange};
use crate::tarball::{self, Expected, Limits, Reference};
use crate::trust::{self, TrustChange, TrustFacts};
use crate::trusted_root::TrustedRoot;

/// Where registry answers come from.
pub trait RegistrySource: Sync {
    /// The packument of `name`; `Ok(None)` when the registry has no such package.
    ///
    /// # Errors
    /// A message when the registry could not be asked.
    fn packument(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    /// The attestations response of `name@version`; `Ok(None)` when there are none.
    ///
    /// # Errors
    /// A message when the registry could not be asked.
    fn attestations(&self, name: &str, version: &str) -> Result<Option<Vec<u8>>, String>;
    /// A tarball by URL; `Ok(None)` when missing.
    ///
    /// # Errors
    /// A message when it could not be downloaded.
    fn tarball(&self, url: &str) -> Result<Option<Vec<u8>>, String>;
}

/// Recorded registry answers in a directory laid out like the registry's URLs: `<name>.json`
/// (`@scope/name.json`) for packuments, `-/npm/v1/attestations/<name>@<version>.json` for
/// attestations, and tarballs at their URL path (`<name>/-/<file>.tgz`).
#[derive(Debug, Clone)]
pub struct RecordedRegistry {
    /// The directory.
    pub dir: PathBuf,
}

fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, String> {
    match crate::read_bounded(path, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(format!("cannot read `{}`: {error}", path.display())),
    }
}

/// Whether a package name is safe to map to a path: `name` or `@scope/name` of URL-safe
/// characters, never `.` or `..`.
fn safe_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let (first, second, rest) = (parts.next(), parts.next(), parts.next());
    let part_ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    match (first, second, rest) {
        (Some(scope), Some(base), None) => {
            scope.starts_with('@') && part_ok(&scope[1..]) && part_ok(base)
        }
        (Some(base), None, None) => part_ok(base),
        _ => false,
    }
}

impl RegistrySource for RecordedRegistry {
    fn packument(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        if !safe_name(name) {
            return Err(format!("`{name}` is not a valid package name"));
        }
        read_optional(
            &self.dir.join(format!("{name}.json")),
            registry::MAX_PACKUMENT_BYTES as u64,
        )
    }

    fn attestations(&self, name: &str, version: &str) -> Result<Option<Vec<u8>>, String> {
        if !safe_name(name) || version.contains(['/', '\\']) || version.contains("..") {
            return Err(format!("`{name}@{version}` is not a valid package version"));
        }
        read_optional(
            &self
                .dir
                .join("-/npm/v1/attestations")
                .join(format!("{name}@{version}.json")),
            provenance::MAX_ATTESTATIONS_BYTES as u64,
        )
    }

    fn tarball(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = after_scheme
            .find('/')
            .map_or("", |slash| &after_scheme[slash + 1..]);
        if path.split('/').any(|part| part == ".." || part.is_empty()) {
            return Ok(None);
        }
        read_optional(&self.dir.join(path), Limits::default().max_tarball)
    }
}

/// What to check and with what.
pub struct Options<'a> {
    /// Caches to find tarballs in.
    pub caches: &'a Caches,
    /// The registry, when asked for (network or recorded answers).
    pub registry: Option<&'a dyn RegistrySource>,
    /// Download tarballs missing from every cache (through `registry`).
    pub fetch_tarballs: bool,
    /// Check the lockfile against the registry (packuments, signatures, provenance); without
    /// it `registry` only serves downloads.
    pub registry_checks: bool,
    /// Registry signing keys (an empty set: the registry does not sign).
    pub keys: &'a RegistryKeys,
    /// Keys of npm publish attestations (npm's, whichever registry serves them).
    pub attestation_keys: &'a RegistryKeys,
    /// Sigstore trust.
    pub trusted_root: &'a TrustedRoot,
    /// Tarball limits.
    pub limits: Limits,
}

/// One distinct package of the inventory.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The recorded integrity.
    pub integrity: Option<Integrity>,
    /// The recorded resolved URL.
    pub resolved: Option<String>,
    /// Where it comes from.
    pub source: SourceKind,
    /// `file:line` of every place it is defined.
    pub locations: Vec<String>,
    /// Installed directories.
    pub install_dirs: Vec<PathBuf>,
    /// Whether a lockfile records it (an installed tree alone records no integrity, so its
    /// absence is no finding there).
    pub in_lockfile: bool,
}

/// The distinct registry packages of `projects` (by name, version and integrity), with every
/// installed directory of each.
#[must_use]
pub fn targets(projects: &[Project]) -> Vec<Target> {
    let mut by_key: BTreeMap<(String, String, String), Target> = BTreeMap::new();
    for project in projects {
        for package in &project.packages {
            if matches!(
                package.source,
                SourceKind::Workspace | SourceKind::Link | SourceKind::File | SourceKind::Git
            ) {
                continue;
            }
            let key = (
                package.name.clone(),
                package.version.clone(),
                package
                    .integrity
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            );
            let target = by_key.entry(key).or_insert_with(|| Target {
                name: package.name.clone(),
                version: package.version.clone(),
                integrity: package.integrity.clone(),
                resolved: package.resolved.clone(),
                source: package.source,
                locations: Vec::new(),
                install_dirs: Vec::new(),
                in_lockfile: false,
            });
            target.in_lockfile |= project.format != bulwark_lockfile::installed::FORMAT;
            let location = format!(
                "{}:{}",
                package.location.file.display(),
                package.location.line
            );
            if !target.locations.contains(&location) {
                target.locations.push(location);
            }
            if let Some(dir) = package
                .install_path
                .as_deref()
                .and_then(|install| installed_dir(&project.root, install))
                && !target.install_dirs.contains(&dir)
            {
                target.install_dirs.push(dir);
            }
            if target.resolved.is_none() {
                target.resolved.clone_from(&package.resolved);
            }
        }
    }
    // Installed-tree entries carry no integrity; fold them into the lockfile entry of the same
    // name@version when there is exactly one.
    let mut merged: Vec<Target> = Vec::new();
    let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for target in by_key.into_values() {
        let key = (target.name.clone(), target.version.clone());
        index.entry(key).or_default().push(merged.len());
        merged.push(target);
    }
    let mut drop = vec![false; merged.len()];
    for positions in index.values() {
        let (without, with): (Vec<usize>, Vec<usize>) = positions
            .iter()
            .partition(|&&i| merged[i].integrity.is_none());
        if with.len() == 1 {
            for i in without {
                let (dirs, locations) =
                    (merged[i].install_dirs.clone(), merged[i].locations.clone());
                let keep = &mut merged[with[0]];
                for dir in dirs {
                    if !keep.install_dirs.contains(&dir) {
                        keep.install_dirs.push(dir);
                    }
                }
                keep.locations.extend(locations);
                drop[i] = true;
            }
        }
    }
    merged
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(t, _)| t)
        .collect()
}

/// The installed directory `install` of a project, if it is one and stays inside the project
/// once links are resolved (a hostile lockfile can name `../../etc`; pnpm's links into
/// `node_modules/.pnpm` stay inside).
fn installed_dir(root: &Path, install: &str) -> Option<PathBuf> {
    let relative = Path::new(install);
    if relative.is_absolute()
        || relative
            .components()
            .any(|part| matches!(part, std::path::Component::ParentDir))
    {
        return None;
    }
    let dir = root.join(relative);
    let (Ok(real_root), Ok(real_dir)) = (root.canonicalize(), dir.canonicalize()) else {
        return None;
    };
    (real_dir.starts_with(&real_root) && real_dir.join("package.json").is_file()).then_some(dir)
}

/// The state of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Not run (no data, not asked).
    #[default]
    Skipped,
    /// Passed.
    Passed,
    /// Failed: see the findings.
    Failed,
}

/// Which checks ran.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Checks {
    /// The tarball's bytes against the integrity.
    pub integrity: State,
    /// Installed files against the tarball.
    pub tamper: State,
    /// The lockfile entry against the registry.
    pub registry: State,
    /// Registry signatures.
    pub signature: State,
    /// Provenance attestations.
    pub provenance: State,
}

/// A problem found with a package.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// A registry package without an integrity value.
    MissingIntegrity,
    /// The integrity uses a broken algorithm.
    WeakIntegrity {
        /// The algorithm.
        algorithm: String,
    },
    /// The tarball's bytes do not match the integrity.
    IntegrityMismatch {
        /// Where the tarball was read.
        origin: String,
        /// The recorded integrity.
        expected: String,
        /// The digest of the bytes.
        actual: String,
    },
    /// The tarball could not be read.
    UnreadableTarball {
        /// Where.
        origin: String,
        /// Why.
        error: String,
    },
    /// Installed files differ from the published ones.
    Tampered {
        /// The installed directory.
        dir: PathBuf,
        /// The files.
        changes: Vec<FileChange>,
    },
    /// The registry has no such version.
    VersionNotInRegistry,
    /// The lockfile's integrity is not the registry's.
    RegistryIntegrityMismatch {
        /// The lockfile's.
        lockfile: String,
        /// The registry's.
        registry: String,
    },
    /// The resolved URL is not this package's tarball.
    ResolvedMismatch {
        /// The lockfile's URL.
        resolved: String,
        /// The registry's `dist.tarball`.
        registry: Option<String>,
    },
    /// The registry manifest disagrees with the tarball's `package.json`.
    ManifestConfusion {
        /// The fields.
        mismatches: Vec<ManifestMismatch>,
    },
    /// A registry signature problem.
    Signature {
        /// The outcome.
        outcome: SignatureOutcome,
    },
    /// An attestation failed verification.
    Provenance {
        /// Its predicate type.
        predicate_type: String,
        /// The failed checks.
        failures: Vec<Failure>,
    },
    /// The packument announces attestations the registry does not serve.
    AttestationsMissing,
    /// Less trust than the previous version.
    TrustDowngrade {
        /// How.
        #[serde(flatten)]
        change: TrustChange,
    },
}

impl Finding {
    /// Stable kebab-case code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingIntegrity => "missing-integrity",
            Self::WeakIntegrity { .. } => "weak-integrity",
            Self::IntegrityMismatch { .. } => "integrity-mismatch",
            Self::UnreadableTarball { .. } => "unreadable-tarball",
            Self::Tampered { .. } => "tampered",
            Self::VersionNotInRegistry => "version-not-in-registry",
            Self::RegistryIntegrityMismatch { .. } => "registry-integrity-mismatch",
            Self::ResolvedMismatch { .. } => "resolved-mismatch",
            Self::ManifestConfusion { .. } => "manifest-confusion",
            Self::Signature { .. } => "signature",
            Self::Provenance { .. } => "provenance",
            Self::AttestationsMissing => "attestations-missing",
            Self::TrustDowngrade { .. } => "trust-downgrade",
        }
    }
}

/// The result for one package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageResult {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Recorded integrity.
    pub integrity: Option<String>,
    /// Where it is defined.
    pub locations: Vec<String>,
    /// Installed directories checked.
    pub installed: Vec<PathBuf>,
    /// Which checks ran.
    pub checks: Checks,
    /// Problems.
    pub findings: Vec<Finding>,
    /// Where the published contents came from (cache file, URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tarball: Option<String>,
    /// Provenance facts of this version, when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<provenance::ProvenanceFacts>,
    /// Operational errors for this package (registry unreachable, unreadable directory).
    pub errors: Vec<String>,
}

/// Checks every target, in parallel.
#[must_use]
pub fn verify(targets: &[Target], options: &Options<'_>) -> Vec<PackageResult> {
    let packuments = PackumentCache::default();
    targets
        .par_iter()
        .map(|target| verify_one(target, options, &packuments))
        .collect()
}

/// One packument, fetched once however many versions of the package are checked.
type PackumentSlot = std::sync::Arc<std::sync::OnceLock<Result<Option<Packument>, String>>>;

#[derive(Default)]
struct PackumentCache {
    entries: Mutex<HashMap<String, PackumentSlot>>,
}

impl PackumentCache {
    fn get(&self, name: &str, source: &dyn RegistrySource) -> Result<Option<Packument>, String> {
        let cell = {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            entries.entry(name.to_owned()).or_default().clone()
        };
        cell.get_or_init(|| match source.packument(name)? {
            None => Ok(None),
            Some(bytes) => Packument::parse(&bytes)
                .map(Some)
                .map_err(|error| format!("packument of `{name}`: {error}")),
        })
        .clone()
    }
}

fn verify_one(
    target: &Target,
    options: &Options<'_>,
    packuments: &PackumentCache,
) -> PackageResult {
    let mut result = PackageResult {
        name: target.name.clone(),
        version: target.version.clone(),
        integrity: target.integrity.as_ref().map(ToString::to_string),
        locations: target.locations.clone(),
        installed: target.install_dirs.clone(),
        checks: Checks::default(),
        findings: Vec::new(),
        tarball: None,
        provenance: None,
        errors: Vec::new(),
    };
    let checked_registry = options.registry.filter(|_| options.registry_checks);
    let packument = match checked_registry {
        Some(source) => match packuments.get(&target.name, source) {
            Ok(packument) => packument,
            Err(error) => {
                result.errors.push(error);
                None
            }
        },
        None => None,
    };
    let registry_version = packument
        .as_ref()
        .and_then(|packument| packument.version(&target.version));

    // 1. Integrity of bytes.
    match &target.integrity {
        None => {
            if target.source == SourceKind::Registry && target.in_lockfile {
                result.findings.push(Finding::MissingIntegrity);
            }
        }
        Some(integrity) if crate::sri::is_weak(integrity.algorithm) => {
            result.findings.push(Finding::WeakIntegrity {
                algorithm: integrity.algorithm.as_str().to_owned(),
            });
        }
        Some(_) => {}
    }
    let published = published_contents(target, options, registry_version.as_ref(), &mut result);

    // 2. Tamper detection.
    if let Some(published) = &published {
        for dir in &target.install_dirs {
            let compared = match published {
                Published::Tarball(bytes) => tamper::compare_tarball(dir, bytes, options.limits),
                Published::Files(reference) => tamper::compare(dir, reference).map_err(Into::into),
            };
            match compared {
                Ok(changes) if changes.is_empty() => {}
                Ok(changes) => result.findings.push(Finding::Tampered {
                    dir: dir.clone(),
                    changes,
                }),
                Err(tamper::CompareError::Tarball(error)) => {
                    result.findings.push(Finding::UnreadableTarball {
                        origin: result.tarball.clone().unwrap_or_default(),
                        error: error.to_string(),
                    });
                    break;
                }
                Err(error) => result.errors.push(format!("`{}`: {error}", dir.display())),
            }
        }
        if !target.install_dirs.is_empty() {
            result.checks.tamper = if result.findings.iter().any(|f| {
                matches!(
                    f,
                    Finding::Tampered { .. } | Finding::UnreadableTarball { .. }
                )
            }) {
                State::Failed
            } else {
                State::Passed
            };
        }
    }

    // 3-6. Against the registry.
    if let (Some(source), Some(packument)) = (checked_registry, &packument) {
        check_registry(
            target,
            source,
            packument,
            registry_version.as_ref(),
            published.as_ref(),
            options,
            &mut result,
        );
    } else if checked_registry.is_some() && packument.is_none() && result.errors.is_empty() {
        result.findings.push(Finding::VersionNotInRegistry);
        result.checks.registry = State::Failed;
    }
    result
}

/// The published contents of `target`: from a cache, or downloaded when allowed; the bytes are
/// checked against the recorded integrity first (a mismatching tarball is no reference).
/// A package's published contents, as found.
enum Published {
    /// A tarball whose bytes match the integrity: compared streaming.
    Tarball(Vec<u8>),
    /// Files known up front (a berry zip read into memory, a pnpm index of digests).
    Files(Reference),
}

fn published_contents(
    target: &Target,
    options: &Options<'_>,
    registry_version: Option<&registry::RegistryVersion<'_>>,
    result: &mut PackageResult,
) -> Option<Published> {
    let found = options.caches.find(
        &target.name,
        &target.version,
        target.integrity.as_ref(),
        options.limits,
    );
    let (bytes, origin) = match found {
        Some(Cached::Index { reference, path }) => {
            result.tarball = Some(path.display().to_string());
            return Some(Published::Files(reference));
        }
        Some(Cached::Tarball { bytes, path }) => (bytes, path.display().to_string()),
        Some(Cached::Zip { bytes, path }) => {
            let origin = path.display().to_string();
            result.tarball = Some(origin.clone());
            if !bytes_match(target, &bytes, &origin, result) {
                return None;
            }
            return match tarball::read_berry_zip(&bytes, &target.name, options.limits) {
                Ok(reference) => Some(Published::Files(reference)),
                Err(error) => {
                    result.findings.push(Finding::UnreadableTarball {
                        origin,
                        error: error.to_string(),
                    });
                    None
                }
            };
        }
        None => {
            let url = registry_version
                .and_then(|v| v.tarball)
                .map(str::to_owned)
                .or_else(|| target.resolved.clone().filter(|r| r.starts_with("http")));
            match (options.fetch_tarballs, options.registry, url) {
                (true, Some(source), Some(url)) => match source.tarball(&url) {
                    Ok(Some(bytes)) => (bytes, url),
                    Ok(None) => return None,
                    Err(error) => {
                        result.errors.push(error);
                        return None;
                    }
                },
                _ => return None,
            }
        }
    };
    result.tarball = Some(origin.clone());
    if !bytes_match(target, &bytes, &origin, result) {
        return None;
    }
    Some(Published::Tarball(bytes))
}

/// Checks `bytes` against the recorded integrity (a mismatch is a finding); `false` when they
/// must not be used as the reference.
fn bytes_match(target: &Target, bytes: &[u8], origin: &str, result: &mut PackageResult) -> bool {
    let Some(integrity) = &target.integrity else {
        return true;
    };
    let actual = crate::sri::digest(integrity.algorithm, bytes);
    if &actual != integrity {
        result.findings.push(Finding::IntegrityMismatch {
            origin: origin.to_owned(),
            expected: integrity.to_string(),
            actual: actual.to_string(),
        });
        result.checks.integrity = State::Failed;
        return false;
    }
    result.checks.integrity = State::Passed;
    true
}

fn check_registry(
    target: &Target,
    source: &dyn RegistrySource,
    packument: &Packument,
    version: Option<&registry::RegistryVersion<'_>>,
    published: Option<&Published>,
    options: &Options<'_>,
    result: &mut PackageResult,
) {
    let Some(version) = version else {
        result.findings.push(Finding::VersionNotInRegistry);
        result.checks.registry = State::Failed;
        return;
    };
    let before = result.findings.len();
    let registry_integrity = version
        .integrity
        .as_deref()
        .and_then(|sri| Integrity::parse_sri(sri).ok());
    if let (Some(lockfile), Some(registry)) = (&target.integrity, &registry_integrity)
        && lockfile.algorithm == registry.algorithm
        && lockfile != registry
    {
        result.findings.push(Finding::RegistryIntegrityMismatch {
            lockfile: lockfile.to_string(),
            registry: registry.to_string(),
        });
    }
    if let Some(resolved) = target.resolved.as_deref().filter(|r| r.starts_with("http"))
        && !registry::resolved_matches(resolved, &target.name, &target.version, version.tarball)
    {
        result.findings.push(Finding::ResolvedMismatch {
            resolved: resolved.to_owned(),
            registry: version.tarball.map(str::to_owned),
        });
    }
    let manifest = match published {
        Some(Published::Tarball(bytes)) => tarball::read_manifest(bytes, options.limits),
        Some(Published::Files(reference)) => match reference.files.get("package.json") {
            Some(Expected::Bytes(bytes)) => Some(bytes.clone()),
            _ => None,
        },
        None => None,
    };
    if let Some(manifest) = manifest
        && let Ok(tarball_manifest) = serde_json::from_slice::<serde_json::Value>(&manifest)
    {
        let mismatches = registry::manifest_confusion(version.manifest, &tarball_manifest);
        if !mismatches.is_empty() {
            result
                .findings
                .push(Finding::ManifestConfusion { mismatches });
        }
    }
    result.checks.registry = if result.findings.len() > before {
        State::Failed
    } else {
        State::Passed
    };

    // Registry signatures, over the registry's own integrity string.
    let signed_integrity = version.integrity.clone().unwrap_or_default();
    let outcome = signatures::verify_registry_signatures(
        &target.name,
        &target.version,
        &signed_integrity,
        version.signatures.as_deref(),
        version.published,
        options.keys,
    );
    result.checks.signature = match outcome {
        SignatureOutcome::Valid { .. } => State::Passed,
        SignatureOutcome::Unsigned => State::Skipped,
        _ => State::Failed,
    };
    if !matches!(
        outcome,
        SignatureOutcome::Valid { .. } | SignatureOutcome::Unsigned
    ) {
        result.findings.push(Finding::Signature { outcome });
    }

    // Provenance.
    let integrity = registry_integrity.or_else(|| target.integrity.clone());
    let attestations = attestations_of(
        source,
        &target.name,
        &target.version,
        version.has_attestations,
        integrity.as_ref(),
        options,
        result,
    );
    if let Some(attestations) = &attestations {
        result.provenance.clone_from(&attestations.provenance);
    }

    // Trust downgrade against the version published before.
    let current = TrustFacts {
        version: target.version.clone(),
        signed: version.signatures.as_ref().is_some_and(|s| !s.is_empty()),
        has_provenance: has_provenance(version.has_attestations, attestations.as_ref()),
        provenance: attestations.as_ref().and_then(|a| a.provenance.clone()),
    };
    if let Some(previous_version) = packument.previous(&target.version)
        && let Some(previous) = packument.version(&previous_version)
    {
        let previous_attestations = if previous.has_attestations && current.provenance.is_some() {
            let previous_integrity = previous
                .integrity
                .as_deref()
                .and_then(|sri| Integrity::parse_sri(sri).ok());
            // Only its facts matter here: its own failures belong to a check of that version.
            source
                .attestations(&target.name, &previous_version)
                .ok()
                .flatten()
                .and_then(|response| {
                    let expected = provenance::Expected {
                        name: &target.name,
                        version: &previous_version,
                        integrity: previous_integrity.as_ref(),
                    };
                    provenance::verify_attestations(
                        &response,
                        expected,
                        options.trusted_root,
                        options.attestation_keys,
                    )
                    .ok()
                })
        } else {
            None
        };
        let previous_facts = TrustFacts {
            version: previous_version,
            signed: previous.signatures.as_ref().is_some_and(|s| !s.is_empty()),
            has_provenance: previous.has_attestations,
            provenance: previous_attestations.and_then(|a| a.provenance),
        };
        for change in trust::compare(&previous_facts, &current) {
            result.findings.push(Finding::TrustDowngrade { change });
        }
    }
}

fn has_provenance(announced: bool, attestations: Option<&Attestations>) -> bool {
    attestations.map_or(announced, |a| {
        a.entries
            .iter()
            .any(|entry| entry.signer == Signer::Certificate)
    })
}

fn attestations_of(
    source: &dyn RegistrySource,
    name: &str,
    version: &str,
    announced: bool,
    integrity: Option<&Integrity>,
    options: &Options<'_>,
    result: &mut PackageResult,
) -> Option<Attestations> {
    let response = match source.attestations(name, version) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            if announced {
                result.findings.push(Finding::AttestationsMissing);
                result.checks.provenance = State::Failed;
            }
            return None;
        }
        Err(error) => {
            result.errors.push(error);
            return None;
        }
    };
    let expected = provenance::Expected {
        name,
        version,
        integrity,
    };
    match provenance::verify_attestations(
        &response,
        expected,
        options.trusted_root,
        options.attestation_keys,
    ) {
        Ok(attestations) => {
            let mut failed = false;
            for entry in &attestations.entries {
                if !entry.is_verified() {
                    failed = true;
                    result.findings.push(Finding::Provenance {
                        predicate_type: entry.predicate_type.clone(),
                        failures: entry.failures.clone(),
                    });
                }
            }
            result.checks.provenance = if failed { State::Failed } else { State::Passed };
            Some(attestations)
        }
        Err(error) => {
            result.findings.push(Finding::Provenance {
                predicate_type: String::new(),
                failures: vec![Failure {
                    check: provenance::Check::BundleFormat,
                    detail: error.to_string(),
                }],
            });
            result.checks.provenance = State::Failed;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::installed_dir;

    #[test]
    fn installed_dirs_stay_inside_the_project() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("package.json"), b"{}").unwrap();
        let project = tempfile::tempdir().unwrap();
        let root = project.path();
        std::fs::create_dir_all(root.join("node_modules/a")).unwrap();
        std::fs::write(root.join("node_modules/a/package.json"), b"{}").unwrap();
        assert!(installed_dir(root, "node_modules/a").is_some());
        assert!(installed_dir(root, "node_modules/missing").is_none());
        assert!(installed_dir(root, "../x").is_none());
        assert!(installed_dir(root, outside.path().to_str().unwrap()).is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path(), root.join("node_modules/escape")).unwrap();
            assert!(installed_dir(root, "node_modules/escape").is_none());
        }
    }
}
