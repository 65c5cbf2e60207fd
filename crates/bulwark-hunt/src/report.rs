//! What a hunt found: the report is a plain serde struct, so it is also the JSON format
//! (documented in `docs/hunt.md`). Hunting never prints; the CLI renders this.

use std::path::PathBuf;

use serde::Serialize;

/// Version of the JSON document; bumped on incompatible changes.
pub const SCHEMA: &str = "bulwark-hunt/1";

/// How a hit got onto the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Resolved in a project lockfile.
    Lockfile,
    /// Installed in a `node_modules` tree (projects and global prefixes).
    Installed,
    /// Held in a package manager's cache or store.
    Cached,
    /// A persistence artifact or payload file a worm leaves behind.
    Artifact,
}

/// Which cache a cached package was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheKind {
    /// npm's `_cacache` (index-v5 entries).
    Npm,
    /// yarn classic's cache (`v6/npm-<name>-<version>-<hash>-integrity`).
    YarnClassic,
    /// yarn berry's project or global cache (`<name>-npm-<version>-<hash>.zip`).
    YarnBerry,
    /// pnpm's content-addressable store (v3 `-index.json`, v10 `index/`).
    PnpmStore,
    /// bun's install cache (`<name>@<version>@@@1`).
    Bun,
}

/// What kind of evidence a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HitKind {
    /// A version listed by an indicator feed (a compromised release).
    CompromisedVersion,
    /// A version an OSV `MAL-*` report covers.
    MaliciousPackage,
    /// A GitHub Actions workflow file the worms push (`shai-hulud-workflow.yml`, …).
    Workflow,
    /// `.claude/settings.json` with a `SessionStart` hook running node or bun.
    ClaudeHook,
    /// `.vscode/tasks.json` with a task that runs when the folder is opened.
    VscodeTask,
    /// A file whose SHA-256 is a known payload hash.
    PayloadHash,
}

/// A `name@version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PackageVersion {
    /// npm package name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// How it got there.
    pub origin: Origin,
    /// What it is.
    pub kind: HitKind,
    /// The package, for package hits (and payloads found inside an installed package).
    pub package: Option<PackageVersion>,
    /// The file that shows it (lockfile, `package.json`, cache entry, artifact).
    pub path: PathBuf,
    /// 1-based line in `path`, where known.
    pub line: Option<u32>,
    /// The project it belongs to (the directory of the lockfile, of `node_modules`, or the
    /// one holding `.github`/`.claude`/`.vscode`); `None` for caches and stray files.
    pub project: Option<PathBuf>,
    /// The cache it was found in, for cached hits.
    pub cache: Option<CacheKind>,
    /// The incident it belongs to, where known.
    pub campaign: Option<String>,
    /// The advisory id (`MAL-…`, `IOC:<campaign>`) for package hits.
    pub advisory: Option<String>,
    /// Where the indicator was published.
    pub source: Option<String>,
    /// A sentence for a human.
    pub detail: String,
    /// SHA-256 of the file, for payload hits.
    pub sha256: Option<String>,
    /// Dependency paths from the project root (lockfile and installed hits).
    pub paths: Vec<Vec<String>>,
}

/// One inventoried source of packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// Lockfile, installed tree or cache.
    pub origin: Origin,
    /// The lockfile, `node_modules` directory or cache root.
    pub path: PathBuf,
    /// Extractor name (`npm/package-lock`, `installed/node_modules`) or cache kind.
    pub format: String,
    /// Packages (or cache entries) read.
    pub packages: usize,
}

/// Something that could not be read; the hunt went on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file or directory.
    pub path: PathBuf,
    /// 1-based line, where known.
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

/// A directory left out on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The directory.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Counts of what was looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Directories listed.
    pub directories: u64,
    /// Files seen.
    pub files: u64,
    /// Lockfiles read.
    pub lockfiles: usize,
    /// Installed `node_modules` trees read.
    pub installed_trees: usize,
    /// Cache entries read (all caches).
    pub cache_entries: usize,
    /// Candidate files hashed.
    pub hashed_files: u64,
    /// Hits.
    pub hits: usize,
    /// Problems.
    pub errors: usize,
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The roots swept.
    pub roots: Vec<PathBuf>,
    /// Counts.
    pub summary: Summary,
    /// Every hit, sorted by path, line and kind.
    pub hits: Vec<Hit>,
    /// Lockfiles, installed trees and caches read, sorted by path.
    pub inventories: Vec<Inventory>,
    /// What could not be read.
    pub errors: Vec<Problem>,
    /// Errors left out once [`crate::MAX_PROBLEMS`] were recorded.
    pub errors_dropped: u64,
    /// Hits left out once [`crate::MAX_HITS`] were recorded.
    pub hits_dropped: u64,
    /// Directories skipped on purpose (pseudo filesystems).
    pub skipped: Vec<Skipped>,
}
