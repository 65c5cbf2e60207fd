//! The parallel sweep: one rayon task per directory on a work-stealing pool, every entry
//! classified by name (and only candidates ever opened or hashed).
//!
//! The walk never follows a symbolic link (so it never leaves the roots through one), skips
//! `/proc`, `/sys` and `/dev`, and records unreadable directories as problems. Each directory
//! task carries a small context: the nearest project directory above it, whether it is inside
//! a `node_modules` tree, and which cache it is inside. A top-level `node_modules` is read as
//! one installed tree (by `bulwark-lockfile`) while the walk still descends it for payload
//! files; caches are read entry by entry and only their index parts are descended where the
//! rest is content-addressed blobs (`_cacache/content-v2`, pnpm's `files/` next to `index/`).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::FileType;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bulwark_advisory::osv::AdvisoryKind;
use bulwark_advisory::{Matcher, PackageRef, Query};
use bulwark_lockfile::{Project, extract_file, extractor_for, installed};

use crate::artifacts::{self, MAX_ARTIFACT_BYTES, Rules};
use crate::caches::{self, problem, read_capped};
use crate::report::{
    CacheKind, Hit, HitKind, Inventory, Origin, PackageVersion, Problem, Report, SCHEMA, Skipped,
    Summary,
};
use crate::{MAX_HITS, MAX_PROBLEMS, Progress};

/// Directories of a root filesystem that are never walked (pseudo filesystems).
const PSEUDO_FILESYSTEMS: &[&str] = &["/proc", "/sys", "/dev"];

/// File names of project lockfiles (the extractor is then chosen by `extractor_for`).
const LOCKFILE_NAMES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
];

/// Where a directory sits.
#[derive(Clone, Default)]
struct Ctx {
    /// The nearest directory above with a `package.json`, a lockfile or `.git`.
    project: Option<Arc<Path>>,
    /// Inside a `node_modules` tree already being inventoried.
    in_tree: bool,
    /// Inside a cache: which, its root, and for npm whether this is the index part.
    cache: Option<(CacheKind, Arc<Path>)>,
}

/// Everything the hunt accumulates, behind one lock (taken only on events, not per file).
#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    hits_dropped: u64,
    inventories: Vec<Inventory>,
    errors: Vec<Problem>,
    errors_dropped: u64,
    skipped: Vec<Skipped>,
    lockfiles: usize,
    installed_trees: usize,
    cache_entries: usize,
    /// (cache root, package) already reported, so one tarball cached under two keys is one hit.
    cached_seen: HashSet<(PathBuf, PackageVersion)>,
    /// Cache root → entries, turned into inventories at the end.
    cache_counts: std::collections::BTreeMap<(PathBuf, CacheKind), usize>,
}

pub(crate) struct Hunter<'a> {
    matcher: &'a Matcher,
    rules: &'a Rules,
    progress: &'a Progress,
    query: Query,
    state: Mutex<State>,
    hashed: AtomicU64,
}

impl<'a> Hunter<'a> {
    pub(crate) fn new(matcher: &'a Matcher, rules: &'a Rules, progress: &'a Progress) -> Self {
        Self {
            matcher,
            rules,
            progress,
            query: Query::new()
                .kind(AdvisoryKind::Malicious)
                .kind(AdvisoryKind::CompromisedVersion),
            state: Mutex::new(State::default()),
            hashed: AtomicU64::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: keep going with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, problem: Problem) {
        self.progress.errors.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state();
        if state.errors.len() < MAX_PROBLEMS {
            state.errors.push(problem);
        } else {
            state.errors_dropped += 1;
        }
    }

    fn hit(&self, hit: Hit) {
        self.progress.hits.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state();
        if state.hits.len() < MAX_HITS {
            state.hits.push(hit);
        } else {
            state.hits_dropped += 1;
        }
    }

    /// Sweeps every root on the current rayon pool.
    pub(crate) fn run(&self, roots: &[PathBuf]) {
        rayon::scope(|scope| {
            for root in roots {
                if PSEUDO_FILESYSTEMS.iter().any(|p| root == Path::new(p)) {
                    self.skip(root);
                    continue;
                }
                match std::fs::symlink_metadata(root) {
                    Ok(meta) if meta.is_dir() => {
                        let name = root.file_name().unwrap_or_default().to_owned();
                        let parent = root.parent().map(Path::to_path_buf).unwrap_or_default();
                        let ctx = Ctx::default();
                        if let Some(ctx) = self.enter_dir(&parent, &name, root.clone(), &ctx) {
                            let root = root.clone();
                            scope.spawn(move |scope| self.dir(scope, root, ctx));
                        }
                    }
                    Ok(meta) if meta.is_file() => {
                        let parent = root.parent().map(Path::to_path_buf).unwrap_or_default();
                        let name = root.file_name().unwrap_or_default();
                        let size = Some(meta.len());
                        self.file(&parent, name, &meta.file_type(), size, &Ctx::default());
                    }
                    Ok(_) => self.error(problem(root, None, "not a directory or a regular file")),
                    Err(error) => self.error(problem(root, None, format!("cannot read: {error}"))),
                }
            }
        });
    }

    fn skip(&self, path: &Path) {
        self.state().skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: "pseudo filesystem".to_owned(),
        });
    }

    /// Lists one directory and handles its entries; subdirectories become new tasks.
    fn dir<'s>(&'s self, scope: &rayon::Scope<'s>, dir: PathBuf, ctx: Ctx) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.dir_inner(scope, &dir, ctx)));
        if outcome.is_err() {
            self.error(problem(
                &dir,
                None,
                "internal error while reading this directory",
            ));
        }
    }

    fn dir_inner<'s>(&'s self, scope: &rayon::Scope<'s>, dir: &Path, mut ctx: Ctx) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
            Err(error) => {
                self.error(problem(
                    dir,
                    None,
                    format!("cannot read directory: {error}"),
                ));
                return;
            }
        };
        // Payload candidates are sized here, relative to the open directory (no path walk).
        let dir_name = dir.file_name().and_then(OsStr::to_str).unwrap_or_default();
        let mut listing: Vec<(std::ffi::OsString, FileType, Option<u64>)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => match entry.file_type() {
                    Ok(file_type) => {
                        let name = entry.file_name();
                        let size = (file_type.is_file()
                            && name
                                .to_str()
                                .is_some_and(|n| self.rules.payloads.wants_name(dir_name, n)))
                        .then(|| entry.metadata().map(|meta| meta.len()).ok())
                        .flatten();
                        listing.push((name, file_type, size));
                    }
                    Err(error) => self.error(problem(&entry.path(), None, error)),
                },
                Err(error) => {
                    self.error(problem(
                        dir,
                        None,
                        format!("cannot list directory: {error}"),
                    ));
                    break;
                }
            }
        }
        self.progress.directories.fetch_add(1, Ordering::Relaxed);
        let files = listing.iter().filter(|(_, t, _)| t.is_file()).count();
        self.progress
            .files
            .fetch_add(files as u64, Ordering::Relaxed);

        if !ctx.in_tree
            && ctx.cache.is_none()
            && listing.iter().any(|(name, file_type, _)| {
                let name = name.to_str().unwrap_or_default();
                (file_type.is_file() && (name == "package.json" || LOCKFILE_NAMES.contains(&name)))
                    || (file_type.is_dir() && name == ".git")
            })
        {
            ctx.project = Some(Arc::from(dir));
        }
        // pnpm v10 keeps index files in `index/`, content blobs in `files/`: skip the blobs.
        let pnpm_has_index = matches!(ctx.cache, Some((CacheKind::PnpmStore, ref root)) if **root == *dir)
            && listing
                .iter()
                .any(|(name, t, _)| t.is_dir() && name == "index");

        for (name, file_type, size) in &listing {
            if file_type.is_dir() {
                if pnpm_has_index && name == "files" {
                    continue;
                }
                let path = dir.join(name);
                if let Some(child) = self.enter_dir(dir, name, path.clone(), &ctx) {
                    scope.spawn(move |scope| self.dir(scope, path, child));
                }
            } else if file_type.is_file() {
                self.file(dir, name, file_type, *size, &ctx);
            }
            // Symbolic links and special files are never followed or read.
        }
    }

    /// Decides whether and how to descend into `dir/name`; reads what entering it means
    /// (an installed tree, a cache entry).
    fn enter_dir(&self, dir: &Path, name: &OsStr, path: PathBuf, ctx: &Ctx) -> Option<Ctx> {
        let name = name.to_str().unwrap_or_default();
        if dir == Path::new("/") && PSEUDO_FILESYSTEMS.iter().any(|p| p[1..] == *name) {
            self.skip(&path);
            return None;
        }
        let mut child = ctx.clone();
        if let Some((kind, root)) = &ctx.cache {
            match kind {
                // Only the index of npm's cache names packages; content is tarball blobs.
                CacheKind::Npm if **root == *dir => return (name == "index-v5").then_some(child),
                CacheKind::Bun if **root == *dir && name.starts_with('@') => return Some(child),
                CacheKind::Bun if **root == *dir || dir.parent() == Some(root) => {
                    self.bun_entry(dir, name, &path, root);
                }
                CacheKind::YarnClassic if **root == *dir && caches::is_yarn_classic_entry(name) => {
                    self.yarn_classic_entry(&path, root);
                }
                _ => {}
            }
            return Some(child);
        }
        if name == "objects" && dir.file_name() == Some(OsStr::new(".git")) {
            return None;
        }
        if ctx.in_tree {
            return Some(child);
        }
        match name {
            "node_modules" => {
                child.in_tree = true;
                child.project = Some(Arc::from(dir));
                self.installed_tree(&path);
            }
            "_cacache" => child.cache = Some((CacheKind::Npm, Arc::from(path.as_path()))),
            _ if caches::is_yarn_classic_entry(name) => {
                let root: Arc<Path> = Arc::from(dir);
                self.yarn_classic_entry(&path, &root);
                child.cache = Some((CacheKind::YarnClassic, root));
            }
            _ if name.contains("@@@") => {
                let scoped = dir
                    .file_name()
                    .and_then(OsStr::to_str)
                    .filter(|s| s.starts_with('@'));
                let root: Arc<Path> = Arc::from(if scoped.is_some() {
                    dir.parent().unwrap_or(dir)
                } else {
                    dir
                });
                if self.bun_entry(dir, name, &path, &root) {
                    child.cache = Some((CacheKind::Bun, root));
                }
            }
            _ if is_pnpm_store(name, &path) => {
                child.cache = Some((CacheKind::PnpmStore, Arc::from(path.as_path())));
            }
            _ => {}
        }
        Some(child)
    }

    fn file(&self, dir: &Path, name: &OsStr, file_type: &FileType, size: Option<u64>, ctx: &Ctx) {
        let Some(name) = name.to_str() else {
            return;
        };
        let dir_name = dir.file_name().and_then(OsStr::to_str).unwrap_or_default();
        if let Some((kind, root)) = &ctx.cache {
            match kind {
                CacheKind::Npm if **root != *dir => self.npm_bucket(&dir.join(name), root),
                CacheKind::PnpmStore if name.ends_with(".json") => {
                    self.pnpm_index(&dir.join(name), root)
                }
                _ => {}
            }
        } else if !ctx.in_tree {
            if LOCKFILE_NAMES.contains(&name) {
                self.lockfile(&dir.join(name));
            } else if name.ends_with(".zip") && caches::berry_zip_name(name).is_some() {
                self.berry_zip(dir, name);
            }
        }
        match dir_name {
            "workflows"
                if (name.ends_with(".yml") || name.ends_with(".yaml"))
                    && dir.parent().and_then(Path::file_name) == Some(OsStr::new(".github")) =>
            {
                self.workflow(dir, name);
            }
            ".claude" if name == "settings.json" || name == "settings.local.json" => {
                self.claude_settings(&dir.join(name), dir.parent());
            }
            ".vscode" if name == "tasks.json" => self.vscode_tasks(&dir.join(name), dir.parent()),
            _ => {}
        }
        if self.rules.payloads.wants_name(dir_name, name) && file_type.is_file() {
            self.payload(dir, dir_name, name, size, ctx);
        }
    }

    fn lockfile(&self, path: &Path) {
        let Some(extractor) = extractor_for(path) else {
            return;
        };
        match extract_file(extractor, path) {
            Ok(lockfile) => {
                let project = lockfile.into_inventory();
                self.state().lockfiles += 1;
                self.project(&project, Origin::Lockfile);
            }
            Err(error) => self.error(Problem {
                path: error.file,
                line: error.line,
                message: error.message,
            }),
        }
    }

    fn installed_tree(&self, node_modules: &Path) {
        let read = catch_unwind(AssertUnwindSafe(|| installed::extract_tree(node_modules)));
        match read {
            Ok(Ok(lockfile)) => {
                let project = lockfile.into_inventory();
                self.state().installed_trees += 1;
                self.project(&project, Origin::Installed);
            }
            Ok(Err(error)) => self.error(Problem {
                path: error.file,
                line: error.line,
                message: error.message,
            }),
            Err(_) => self.error(problem(
                node_modules,
                None,
                "internal error while reading this tree",
            )),
        }
    }

    /// Matches one project's inventory and records it.
    fn project(&self, project: &Project, origin: Origin) {
        let refs: Vec<PackageRef> = project
            .packages
            .iter()
            .map(|p| PackageRef::new(p.name.clone(), p.version.clone()))
            .collect();
        for found in self.matcher.query(&refs, &self.query) {
            let Some(package) = project.packages.get(found.package_index) else {
                continue;
            };
            self.hit(Hit {
                origin,
                kind: hit_kind(found.kind),
                package: Some(PackageVersion {
                    name: package.name.clone(),
                    version: package.version.clone(),
                }),
                path: package.location.file.clone(),
                line: Some(package.location.line).filter(|&line| line > 0),
                project: Some(project.root.clone()),
                cache: None,
                campaign: found.campaign.clone(),
                advisory: Some(found.advisory_id.to_string()),
                source: found.source.clone(),
                detail: match origin {
                    Origin::Installed => format!("{} is installed", package.id()),
                    _ => format!("{} is resolved in this lockfile", package.id()),
                },
                sha256: None,
                paths: package.paths.clone(),
            });
        }
        self.state().inventories.push(Inventory {
            origin,
            path: project.file.clone(),
            format: project.format.to_owned(),
            packages: project.packages.len(),
        });
    }

    /// Records one cache entry and reports it if known bad.
    fn cached(
        &self,
        kind: CacheKind,
        root: &Path,
        package: PackageVersion,
        path: &Path,
        line: Option<u32>,
    ) {
        {
            let mut state = self.state();
            state.cache_entries += 1;
            *state
                .cache_counts
                .entry((root.to_path_buf(), kind))
                .or_default() += 1;
        }
        let refs = [PackageRef::new(
            package.name.clone(),
            package.version.clone(),
        )];
        let found = self.matcher.query(&refs, &self.query);
        if found.is_empty()
            || !self
                .state()
                .cached_seen
                .insert((root.to_path_buf(), package.clone()))
        {
            return;
        }
        for found in found {
            self.hit(Hit {
                origin: Origin::Cached,
                kind: hit_kind(found.kind),
                package: Some(package.clone()),
                path: path.to_path_buf(),
                line,
                project: None,
                cache: Some(kind),
                campaign: found.campaign.clone(),
                advisory: Some(found.advisory_id.to_string()),
                source: found.source.clone(),
                detail: format!(
                    "{}@{} is in the {} cache",
                    package.name,
                    package.version,
                    cache_label(kind)
                ),
                sha256: None,
                paths: Vec::new(),
            });
        }
    }

    fn npm_bucket(&self, path: &Path, root: &Path) {
        let bytes = match read_capped(path, caches::MAX_BUCKET_BYTES) {
            Ok(bytes) => bytes,
            Err(error) => return self.error(error),
        };
        let (packages, problems) = caches::npm_index_bucket(path, &bytes);
        for problem in problems {
            self.error(problem);
        }
        for (package, line) in packages {
            self.cached(CacheKind::Npm, root, package, path, Some(line));
        }
    }

    fn pnpm_index(&self, path: &Path, root: &Path) {
        let parsed = read_capped(path, caches::MAX_PNPM_INDEX_BYTES)
            .and_then(|bytes| caches::pnpm_index(path, &bytes));
        match parsed {
            Ok(Some(package)) => self.cached(CacheKind::PnpmStore, root, package, path, None),
            Ok(None) => {}
            Err(error) => self.error(error),
        }
    }

    fn berry_zip(&self, dir: &Path, name: &str) {
        let path = dir.join(name);
        match caches::berry_package(&path, name) {
            Ok(Some(package)) => self.cached(CacheKind::YarnBerry, dir, package, &path, None),
            Ok(None) => {}
            Err(error) => self.error(error),
        }
    }

    /// Records a bun cache entry; false if `name` is not one.
    fn bun_entry(&self, dir: &Path, name: &str, path: &Path, root: &Path) -> bool {
        let scope = dir
            .file_name()
            .and_then(OsStr::to_str)
            .filter(|s| s.starts_with('@'));
        match caches::bun_entry(name, scope) {
            Some(package) => {
                self.cached(CacheKind::Bun, root, package, path, None);
                true
            }
            None => false,
        }
    }

    fn yarn_classic_entry(&self, entry: &Path, root: &Path) {
        match caches::yarn_classic_entry(entry) {
            Ok(Some((package, manifest))) => {
                self.cached(CacheKind::YarnClassic, root, package, &manifest, None)
            }
            Ok(None) => {}
            Err(error) => self.error(error),
        }
    }

    fn read_text(&self, path: &Path) -> Option<String> {
        match read_capped(path, MAX_ARTIFACT_BYTES) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(error) => {
                self.error(error);
                None
            }
        }
    }

    fn workflow(&self, dir: &Path, name: &str) {
        let path = dir.join(name);
        let Some((campaign, source)) = self.rules.workflow(name, || self.read_text(&path)) else {
            return;
        };
        // `<project>/.github/workflows/<name>`.
        let project = dir.parent().and_then(Path::parent).map(Path::to_path_buf);
        self.hit(artifact_hit(
            HitKind::Workflow,
            path,
            project,
            Some(campaign.to_owned()),
            Some(source.to_owned()),
            format!("GitHub Actions workflow `{name}` of the kind the worm pushes to victims' repositories"),
        ));
    }

    fn claude_settings(&self, path: &Path, project: Option<&Path>) {
        let Ok(bytes) = read_capped(path, MAX_ARTIFACT_BYTES) else {
            // Not an error worth failing for if it vanished; a real read error is reported.
            if path.exists() {
                self.error(problem(path, None, "cannot read"));
            }
            return;
        };
        let (campaign, source) = self.rules.ide_campaign();
        for command in artifacts::claude_session_start_commands(&bytes) {
            self.hit(artifact_hit(
                HitKind::ClaudeHook,
                path.to_path_buf(),
                project.map(Path::to_path_buf),
                campaign.clone(),
                source.clone(),
                format!("Claude Code SessionStart hook runs `{command}` whenever a session starts"),
            ));
        }
    }

    fn vscode_tasks(&self, path: &Path, project: Option<&Path>) {
        let Some(text) = self.read_text(path) else {
            return;
        };
        if artifacts::vscode_folder_open_task(&text) {
            let (campaign, source) = self.rules.ide_campaign();
            self.hit(artifact_hit(
                HitKind::VscodeTask,
                path.to_path_buf(),
                project.map(Path::to_path_buf),
                campaign,
                source,
                "VS Code task runs automatically when the folder is opened (`runOn: folderOpen`)"
                    .to_owned(),
            ));
        }
    }

    fn payload(&self, dir: &Path, dir_name: &str, name: &str, size: Option<u64>, ctx: &Ctx) {
        let path = dir.join(name);
        // A candidate that vanished or could not be sized between listing and now is skipped.
        let Some(size) = size else {
            return;
        };
        if !self.rules.payloads.wants_size(dir_name, name, size) {
            return;
        }
        self.hashed.fetch_add(1, Ordering::Relaxed);
        let sha256 = match artifacts::sha256_file(&path) {
            Ok(sha256) => sha256,
            Err(error) => return self.error(problem(&path, None, format!("cannot hash: {error}"))),
        };
        let Some(row) = self.rules.payloads.lookup(&sha256) else {
            return;
        };
        let mut hit = artifact_hit(
            HitKind::PayloadHash,
            path.clone(),
            ctx.project.as_deref().map(Path::to_path_buf),
            Some(row.campaign.clone()),
            Some(row.source.clone()),
            format!(
                "SHA-256 of a known payload ({}{})",
                row.file,
                if row.note.is_empty() {
                    String::new()
                } else {
                    format!(", {}", row.note)
                }
            ),
        );
        hit.sha256 = Some(sha256);
        hit.cache = ctx.cache.as_ref().map(|(kind, _)| *kind);
        hit.package = installed_package(&path);
        self.hit(hit);
    }

    pub(crate) fn finish(self, roots: Vec<PathBuf>) -> Report {
        let hashed_files = self.hashed.load(Ordering::Relaxed);
        let directories = self.progress.directories.load(Ordering::Relaxed);
        let files = self.progress.files.load(Ordering::Relaxed);
        let mut state = self
            .state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((path, kind), packages) in std::mem::take(&mut state.cache_counts) {
            state.inventories.push(Inventory {
                origin: Origin::Cached,
                path,
                format: format!("cache/{}", cache_label(kind)),
                packages,
            });
        }
        state.hits.sort_by(|a, b| {
            (&a.path, a.line, a.kind, &a.package, &a.advisory).cmp(&(
                &b.path,
                b.line,
                b.kind,
                &b.package,
                &b.advisory,
            ))
        });
        state.inventories.sort_by(|a, b| a.path.cmp(&b.path));
        state
            .errors
            .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        state.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        Report {
            schema: SCHEMA,
            roots,
            summary: Summary {
                directories,
                files,
                lockfiles: state.lockfiles,
                installed_trees: state.installed_trees,
                cache_entries: state.cache_entries,
                hashed_files,
                hits: state.hits.len() + usize::try_from(state.hits_dropped).unwrap_or(usize::MAX),
                errors: state.errors.len()
                    + usize::try_from(state.errors_dropped).unwrap_or(usize::MAX),
            },
            hits: state.hits,
            inventories: state.inventories,
            errors: state.errors,
            errors_dropped: state.errors_dropped,
            hits_dropped: state.hits_dropped,
            skipped: state.skipped,
        }
    }
}

/// A pnpm store version directory: `v3` (with `files/`) or `v10` (with `index/`), whose
/// parent's name says store (`store`, `.pnpm-store`, `pnpm-store`).
fn is_pnpm_store(name: &str, path: &Path) -> bool {
    let versioned = name
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    versioned
        && path
            .parent()
            .and_then(Path::file_name)
            .and_then(OsStr::to_str)
            .is_some_and(|parent| parent.to_ascii_lowercase().contains("store"))
        && (path.join("files").is_dir() || path.join("index").is_dir())
}

fn hit_kind(kind: AdvisoryKind) -> HitKind {
    match kind {
        AdvisoryKind::Malicious => HitKind::MaliciousPackage,
        _ => HitKind::CompromisedVersion,
    }
}

fn cache_label(kind: CacheKind) -> &'static str {
    match kind {
        CacheKind::Npm => "npm",
        CacheKind::YarnClassic => "yarn-classic",
        CacheKind::YarnBerry => "yarn-berry",
        CacheKind::PnpmStore => "pnpm-store",
        CacheKind::Bun => "bun",
    }
}

fn artifact_hit(
    kind: HitKind,
    path: PathBuf,
    project: Option<PathBuf>,
    campaign: Option<String>,
    source: Option<String>,
    detail: String,
) -> Hit {
    Hit {
        origin: Origin::Artifact,
        kind,
        package: None,
        path,
        line: None,
        project,
        cache: None,
        campaign,
        advisory: None,
        source,
        detail,
        sha256: None,
        paths: Vec::new(),
    }
}

/// The installed package a file belongs to (`…/node_modules/@scope/name/…`), read from its
/// `package.json` when the file is inside `node_modules`.
fn installed_package(path: &Path) -> Option<PackageVersion> {
    let components: Vec<&OsStr> = path.iter().collect();
    let at = components.iter().rposition(|c| *c == "node_modules")?;
    let first = components.get(at + 1)?.to_str()?;
    let take = if first.starts_with('@') { 2 } else { 1 };
    if components.len() <= at + 1 + take {
        return None;
    }
    let dir: PathBuf = components[..at + 1 + take].iter().collect();
    let bytes = read_capped(&dir.join("package.json"), caches::MAX_MANIFEST_BYTES).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(PackageVersion {
        name: value.get("name")?.as_str()?.to_owned(),
        version: value.get("version")?.as_str()?.to_owned(),
    })
}
