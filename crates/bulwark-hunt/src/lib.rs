//! `bulwark hunt`: a sweep of a whole machine (or any directories) for compromised npm
//! packages and the persistence artifacts of the npm worms.
//!
//! When a list of compromised versions is published, the question is which projects, CI
//! images and laptops ever installed one: in a lockfile, in a `node_modules` tree (global
//! prefixes included), or only in a package manager's cache because `node_modules` was
//! deleted since. [`hunt`] walks the roots in parallel on a work-stealing pool and, by file
//! name alone, picks out:
//!
//! * project lockfiles and top-level `node_modules` trees, read by `bulwark-lockfile`;
//! * npm's `_cacache` index, yarn classic and berry caches, the pnpm store and bun's cache
//!   ([`caches`]);
//! * worm artifacts: workflow files, Claude Code and VS Code auto-run hooks, and files whose
//!   SHA-256 is a known payload hash, hashing only candidates chosen by name and size
//!   ([`artifacts`]).
//!
//! Every package is matched against known-malicious and compromised versions, and every hit
//! says where it is, which project it belongs to, how it got there and the campaign. The hunt
//! never writes anything, never follows a symbolic link, skips pseudo filesystems, and turns
//! unreadable parts into [`report::Problem`]s. It never prints: progress is published in
//! [`Progress`] counters for the caller to show.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod artifacts;
pub mod caches;
pub mod report;
mod walk;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bulwark_advisory::{IndicatorFeed, Matcher};

pub use artifacts::Rules;
pub use report::{CacheKind, Hit, HitKind, Inventory, Origin, PackageVersion, Problem, Report};

/// Hits kept in a report; more are counted in [`Report::hits_dropped`].
pub const MAX_HITS: usize = 100_000;
/// Problems kept in a report; more are counted in [`Report::errors_dropped`].
pub const MAX_PROBLEMS: usize = 10_000;

/// Live counters of a running hunt, for progress display.
#[derive(Debug, Default)]
pub struct Progress {
    directories: AtomicU64,
    files: AtomicU64,
    hits: AtomicU64,
    errors: AtomicU64,
}

impl Progress {
    /// Directories listed so far.
    pub fn directories(&self) -> u64 {
        self.directories.load(Ordering::Relaxed)
    }
    /// Files seen so far.
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }
    /// Hits so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
    /// Problems so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// How to hunt.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads (0: one per CPU).
    pub threads: usize,
    /// Artifact rules (workflow names, payload hashes), usually from
    /// [`IndicatorFeed::builtin`].
    pub rules: Rules,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            threads: 0,
            rules: Rules::from_feed(IndicatorFeed::builtin()),
        }
    }
}

/// Sweeps `roots` and reports every hit. Roots nested in another root are swept once.
///
/// # Errors
/// Only if the thread pool cannot be started; everything unreadable during the sweep is a
/// [`Problem`] in the report.
pub fn hunt(
    roots: &[PathBuf],
    options: &Options,
    matcher: &Matcher,
    progress: &Progress,
) -> Result<Report, rayon::ThreadPoolBuildError> {
    let roots = outermost(roots);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("bulwark-hunt-{i}"))
        .build()?;
    let hunter = walk::Hunter::new(matcher, &options.rules, progress);
    pool.install(|| hunter.run(&roots));
    Ok(hunter.finish(roots))
}

/// The roots that are not inside another root (compared lexically after resolving `.`/`..`
/// through the filesystem where possible).
fn outermost(roots: &[PathBuf]) -> Vec<PathBuf> {
    let resolved: Vec<(PathBuf, PathBuf)> = roots
        .iter()
        .map(|root| {
            (
                root.clone(),
                std::fs::canonicalize(root).unwrap_or_else(|_| root.clone()),
            )
        })
        .collect();
    let mut kept: Vec<PathBuf> = Vec::new();
    for (i, (root, canonical)) in resolved.iter().enumerate() {
        let inside_other = resolved.iter().enumerate().any(|(j, (_, other))| {
            j != i && canonical.starts_with(other) && (canonical != other || j < i)
        });
        if !inside_other {
            kept.push(root.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &std::path::Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const LOCK: &str = r#"{"name":"x","lockfileVersion":3,"packages":{"":{"dependencies":{"chalk":"5.6.1"}},"node_modules/chalk":{"version":"5.6.1"}}}"#;

    #[test]
    fn nested_roots_are_swept_once_and_a_root_may_be_a_lockfile() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("a/b/package-lock.json");
        write(&lock, LOCK);
        let roots = vec![
            dir.path().join("a/b"),
            dir.path().to_path_buf(),
            dir.path().join("a"),
        ];
        let report = hunt(
            &roots,
            &Options::default(),
            &Matcher::builtin(),
            &Progress::default(),
        )
        .unwrap();
        assert_eq!(report.roots, vec![dir.path().to_path_buf()]);
        assert_eq!(report.hits.len(), 1);
        assert_eq!(report.hits[0].origin, Origin::Lockfile);
        assert_eq!(
            report.hits[0].project.as_deref(),
            Some(dir.path().join("a/b").as_path())
        );

        let report = hunt(
            std::slice::from_ref(&lock),
            &Options::default(),
            &Matcher::builtin(),
            &Progress::default(),
        )
        .unwrap();
        assert_eq!(report.hits.len(), 1);
        assert_eq!(report.hits[0].path, lock);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_and_links_out_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(&outside.path().join("package-lock.json"), LOCK);
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("d/loop")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("package-lock.json"),
            root.join("package-lock.json"),
        )
        .unwrap();
        let progress = Progress::default();
        let report = hunt(
            &[root],
            &Options {
                threads: 2,
                ..Options::default()
            },
            &Matcher::builtin(),
            &progress,
        )
        .unwrap();
        assert!(report.hits.is_empty(), "{:?}", report.hits);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.summary.directories, 2);
        assert_eq!(progress.directories(), 2);
    }

    #[test]
    fn pseudo_filesystems_are_skipped() {
        let report = hunt(
            &[PathBuf::from("/proc")],
            &Options::default(),
            &Matcher::builtin(),
            &Progress::default(),
        )
        .unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.summary.directories, 0);
    }
}
