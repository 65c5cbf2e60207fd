//! Code analysis of installed packages inside `scan`: every package directory of every
//! installed tree is analysed in parallel, each in isolation (a failure or a panic becomes a
//! note and the scan goes on), with verdicts cached in `bulwark-cache` so that a second scan
//! only analyses what changed.
//!
//! Cache keys: `<integrity>#<paths and sizes>` when the inventory records the package's
//! integrity (shared by every project that installs the same tarball; a file added or resized
//! after install still misses), else `<name>@<version>#<paths, sizes and mtimes>`. Entries are
//! also tied to the analysis engine version (the rules and this binary's build), so a new
//! bulwark never trusts an old verdict.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use bulwark_analysis::{Options, Report, Verdict};
use bulwark_cache::{Cache, CachedAnalysis, CachedFinding};
use bulwark_lockfile::Project;
use bulwark_report::{
    AnalysisNote, AnalysisSummary, CodeEvidence, Finding, FindingKind, FindingPackage,
    LocationEntry, Severity,
};
use bulwark_types::SourceKind;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};
use std::io::Write as _;

/// At most this many files are listed for a fingerprint; a bigger package gets a
/// fingerprint of what was listed plus a marker.
const MAX_FINGERPRINT_ENTRIES: usize = 100_000;
/// At most this many pieces of evidence per finding.
const MAX_EVIDENCE: usize = 10;

/// What the analysis adds to the report.
pub(super) struct Outcome {
    pub(super) findings: Vec<Finding>,
    pub(super) summary: AnalysisSummary,
    pub(super) notes: Vec<AnalysisNote>,
}

/// One package directory to analyse, and the inventory entries installed there.
struct Target {
    dir: PathBuf,
    name: String,
    version: String,
    /// The cache key (the integrity alone until the fingerprint is added).
    key: String,
    /// `(project index, package index)` of the inventory entries installed there.
    uses: Vec<(usize, usize)>,
    /// Total size of its files (from the fingerprint walk), to schedule big packages first.
    size: u64,
}

/// Analyses every installed package of `projects`; `None` when there is none.
pub(super) fn run(
    root: &Path,
    projects: &[Project],
    cache_path: Option<&Path>,
    db: Option<&Path>,
) -> Option<Outcome> {
    let targets = targets(projects);
    if targets.is_empty() {
        return None;
    }
    let engine = engine_version();
    let mut cache = open_cache(cache_path, db);
    let mut results: Vec<Option<Result<CachedAnalysis, String>>> = targets
        .iter()
        .map(|target| {
            let cache = cache.as_ref()?;
            match cache.get(&target.key, &engine) {
                Ok(hit) => hit.map(Ok),
                Err(_) => None,
            }
        })
        .collect();
    let mut summary = AnalysisSummary {
        cached: results.iter().filter(|r| r.is_some()).count(),
        ..AnalysisSummary::default()
    };
    let options = Options {
        // One package per worker, its files in turn: nested parallelism let a worker waiting
        // inside one package steal others, holding many packages (and ASTs) at once.
        parallel: false,
        ..Options::default()
    };
    // Copies of one package (same integrity and file list) installed at several places are
    // analysed once: the first copy stands for the others, as a cache entry would.
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    let mut copies: Vec<(usize, usize)> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for index in (0..targets.len()).filter(|index| results[*index].is_none()) {
        match first_with_key.entry(targets[index].key.as_str()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                copies.push((index, *first.get()));
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
                pending.push(index);
            }
        }
    }
    // Biggest first, so that the few huge packages do not finish last on one worker.
    pending.sort_by_key(|index| std::cmp::Reverse(targets[*index].size));
    let fresh = analyse_all(&targets, &pending, &options);
    summary.analysed = fresh.len() + copies.len();
    if let Some(cache) = cache.as_mut() {
        let entries: Vec<(&str, &CachedAnalysis)> = fresh
            .iter()
            .filter_map(|(index, result)| {
                Some((targets[*index].key.as_str(), result.as_ref().ok()?))
            })
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if !entries.is_empty()
            && let Err(error) = cache.put_many(&engine, entries, now)
        {
            warn(&format!(
                "cannot write the analysis cache ({error}); the verdicts of this scan are not saved"
            ));
        }
    }
    for (index, result) in fresh {
        results[index] = Some(result);
    }
    for (copy, first) in copies {
        results[copy] = results[first].clone();
    }

    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for (target, result) in targets.iter().zip(results) {
        let analysis = match result {
            Some(Ok(analysis)) => analysis,
            Some(Err(message)) => {
                summary.failed += 1;
                notes.push(AnalysisNote {
                    package: FindingPackage {
                        name: target.name.clone(),
                        version: target.version.clone(),
                    },
                    install_path: relative(&target.dir),
                    message,
                });
                continue;
            }
            None => continue,
        };
        let kind = match analysis.verdict.as_str() {
            "malicious" => {
                summary.malicious += 1;
                FindingKind::MaliciousCode
            }
            "suspicious" => {
                summary.suspicious += 1;
                FindingKind::SuspiciousCode
            }
            _ => {
                summary.clean += 1;
                continue;
            }
        };
        for &(project_id, package_id) in &target.uses {
            let Some(package) = projects
                .get(project_id)
                .and_then(|p| p.packages.get(package_id))
            else {
                continue;
            };
            findings.push(code_finding(
                kind,
                &analysis,
                project_id,
                package,
                relative(&target.dir),
                &relative,
            ));
        }
    }
    Some(Outcome {
        findings,
        summary,
        notes,
    })
}

fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

/// Package directories of installed trees, each once.
fn targets(projects: &[Project]) -> Vec<Target> {
    let mut by_dir: BTreeMap<PathBuf, Target> = BTreeMap::new();
    for (project_id, project) in projects.iter().enumerate() {
        if project.format != bulwark_lockfile::installed::FORMAT {
            continue;
        }
        for (package_id, package) in project.packages.iter().enumerate() {
            // Workspace members and links are the project's own code, not dependencies.
            if matches!(package.source, SourceKind::Workspace | SourceKind::Link) {
                continue;
            }
            let Some(install_path) = &package.install_path else {
                continue;
            };
            let dir = project.root.join(install_path);
            by_dir
                .entry(dir.clone())
                .or_insert_with(|| Target {
                    key: package
                        .integrity
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    name: package.name.clone(),
                    version: package.version.clone(),
                    dir,
                    uses: Vec::new(),
                    size: 0,
                })
                .uses
                .push((project_id, package_id));
        }
    }
    let mut targets: Vec<Target> = by_dir.into_values().collect();
    // Fingerprints are a stat walk per package: cheap, but done in parallel too.
    targets.par_iter_mut().for_each(|target| {
        let (print, size) = fingerprint(&target.dir, target.key.is_empty());
        target.size = size;
        target.key = if target.key.is_empty() {
            format!("{}@{}#{print}", target.name, target.version)
        } else {
            format!("{}#{print}", target.key)
        };
    });
    targets
}

/// SHA-256 of the package's file list: relative paths and sizes (and mtimes when
/// `with_mtimes`), sorted; nested `node_modules` and `.git` skipped, links not followed.
/// Also returns the total size of the files listed.
fn fingerprint(dir: &Path, with_mtimes: bool) -> (String, u64) {
    let mut entries: Vec<(String, u64, u128)> = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    let mut truncated = false;
    while let Some((current, prefix)) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&current) else {
            entries.push((format!("{prefix}/<unreadable>"), 0, 0));
            continue;
        };
        for entry in read.flatten() {
            if entries.len() >= MAX_FINGERPRINT_ENTRIES {
                truncated = true;
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}/{name}");
            let Ok(meta) = entry.metadata() else { continue };
            if meta.file_type().is_dir() {
                if name != "node_modules" && name != ".git" {
                    stack.push((entry.path(), relative));
                }
                continue;
            }
            let mtime = if with_mtimes {
                meta.modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos())
            } else {
                0
            };
            entries.push((relative, meta.len(), mtime));
        }
    }
    entries.sort();
    let mut hasher = Sha256::new();
    for (path, size, mtime) in &entries {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(size.to_le_bytes());
        hasher.update(mtime.to_le_bytes());
    }
    if truncated {
        hasher.update(b"<truncated>");
    }
    let size = entries.iter().map(|(_, size, _)| size).sum();
    (bulwark_types::hex(&hasher.finalize()[..16]), size)
}

/// The analysis engine version: the rules (ids, categories, documentation) and this
/// binary's build (size and modification time), so a rebuilt bulwark re-analyses.
fn engine_version() -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(bulwark_analysis::rules_identity());
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        hasher.update(meta.len().to_le_bytes());
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hasher.update(mtime.to_le_bytes());
    }
    format!("analysis-{}", bulwark_types::hex(&hasher.finalize()[..12]))
}

/// `--cache`/`BULWARK_CACHE`, else beside the database. A cache that cannot be opened for
/// writing is read if possible; the scan goes on either way.
fn open_cache(cache_path: Option<&Path>, db: Option<&Path>) -> Option<Cache> {
    let path = match cache_path {
        Some(path) => path.to_path_buf(),
        None => {
            let database = db
                .map(Path::to_path_buf)
                .or_else(bulwark_advisory::Store::default_path)?;
            Cache::path_beside(&database)
        }
    };
    match Cache::open(&path) {
        Ok(cache) => Some(cache),
        Err(error) => {
            warn(&format!(
                "cannot open the analysis cache `{}` for writing ({error}); analysing without saving",
                path.display()
            ));
            Cache::open_read_only(&path).ok()
        }
    }
}

/// Analyses the `pending` targets in that order on one worker per core, each worker taking
/// the next package when it is done, so exactly as many packages are in memory as workers.
fn analyse_all(
    targets: &[Target],
    pending: &[usize],
    options: &Options,
) -> Vec<(usize, Result<CachedAnalysis, String>)> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(pending.len().max(1));
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let Some(&index) = pending.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return done;
            };
            done.push((index, analyse(&targets[index].dir, options)));
        }
    };
    let mut fresh: Vec<(usize, Result<CachedAnalysis, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(worker)).collect();
        let mut all = worker();
        for handle in handles {
            // `analyse` catches panics, so a worker does not panic.
            all.extend(handle.join().unwrap_or_default());
        }
        all
    });
    fresh.sort_by_key(|(index, _)| *index);
    fresh
}

/// Analyses one package directory in isolation: a panic becomes an error message.
fn analyse(dir: &Path, options: &Options) -> Result<CachedAnalysis, String> {
    match catch_unwind(AssertUnwindSafe(|| {
        bulwark_analysis::analyze_dir(dir, options)
    })) {
        Ok(Ok(report)) => Ok(to_cached(&report)),
        Ok(Err(error)) => Err(format!("cannot analyse: {error}")),
        Err(_) => Err("the analysis panicked; the rest of the scan went on".to_owned()),
    }
}

fn label<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}").to_ascii_lowercase()
}

fn to_cached(report: &Report) -> CachedAnalysis {
    CachedAnalysis {
        verdict: match report.verdict {
            Verdict::Malicious => "malicious",
            Verdict::Suspicious => "suspicious",
            Verdict::Clean => "clean",
        }
        .to_owned(),
        score: report.score,
        findings: report
            .findings
            .iter()
            .take(100)
            .map(|f| CachedFinding {
                rule_id: f.rule_id.to_owned(),
                severity: label(&f.severity),
                confidence: label(&f.confidence),
                message: f.message.clone(),
                file: f.file.clone(),
                line: f.line,
                column: f.column,
                evidence: f.evidence.clone(),
            })
            .collect(),
        notes: report
            .notes
            .iter()
            .take(100)
            .map(|note| format!("{}: {}", note.file, note.message))
            .collect(),
    }
}

fn code_finding(
    kind: FindingKind,
    analysis: &CachedAnalysis,
    project: usize,
    package: &bulwark_lockfile::InventoryPackage,
    install_path: PathBuf,
    relative: &dyn Fn(&Path) -> PathBuf,
) -> Finding {
    let top = analysis.findings.first();
    let summary = match top {
        Some(top) => format!(
            "code analysis: {} (score {}): {}{}",
            analysis.verdict,
            analysis.score,
            top.message,
            match analysis.findings.len() {
                0 | 1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            }
        ),
        None => format!(
            "code analysis: {} (score {})",
            analysis.verdict, analysis.score
        ),
    };
    Finding {
        kind,
        id: top.map_or_else(|| "code-analysis".to_owned(), |top| top.rule_id.clone()),
        aliases: Vec::new(),
        severity: if kind == FindingKind::MaliciousCode {
            Severity::Critical
        } else {
            Severity::Medium
        },
        score: Some(f64::from(analysis.score)),
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
        affected_range: None,
        fixed: None,
        campaign: None,
        source: Some("bulwark code analysis".to_owned()),
        install_path: Some(install_path),
        code: analysis
            .findings
            .iter()
            .filter(|f| f.severity != "info")
            .take(MAX_EVIDENCE)
            .map(|f| CodeEvidence {
                rule_id: f.rule_id.clone(),
                severity: f.severity.clone(),
                message: f.message.clone(),
                file: f.file.clone(),
                line: f.line,
                evidence: f.evidence.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_that_cannot_be_read_is_an_error_not_a_panic() {
        let missing = Path::new("/nonexistent/bulwark/node_modules/x");
        let result = analyse(missing, &Options::default());
        assert!(result.is_err());
    }

    #[test]
    fn fingerprints_follow_files_sizes_and_mtimes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.js"), "1").unwrap();
        let first = fingerprint(dir.path(), false);
        assert_eq!(first, fingerprint(dir.path(), false));
        assert_eq!(first.1, 1);
        std::fs::create_dir(dir.path().join("node_modules")).unwrap();
        std::fs::write(dir.path().join("node_modules/n.js"), "1").unwrap();
        assert_eq!(
            first,
            fingerprint(dir.path(), false),
            "nested packages are their own"
        );
        std::fs::write(dir.path().join("a.js"), "12").unwrap();
        assert_ne!(first, fingerprint(dir.path(), false));
    }

    #[test]
    fn engine_version_is_stable_within_a_build() {
        assert_eq!(engine_version(), engine_version());
        assert!(engine_version().starts_with("analysis-"));
    }
}
