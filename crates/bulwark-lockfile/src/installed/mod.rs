//! Installed trees: what is really on disk in `node_modules`, which can differ from any
//! lockfile (a hand-edited tree, a tampered package, a lockfile that was never committed).
//!
//! The walk (`walk.rs`) reads nested npm/yarn/bun trees, `@scope` directories and the virtual
//! stores of pnpm (`.pnpm/<key>/node_modules/<name>`) and bun, without ever following a link
//! out of the project root (the parent of `node_modules`). Each package's `package.json` is
//! then read in parallel (`manifest.rs`), and dependency edges are resolved the way Node
//! resolves `require`: the package's own `node_modules`, then each ancestor's. Links into a
//! store resolve to the store package, so a pnpm package is counted once; links to other
//! directories inside the root (workspace members, `link:` dependencies) become one
//! `Workspace`/`Link` package each, whose directories are not descended.
//!
//! Each package's location is its own `package.json`, at the line of its `"version"` key.

mod manifest;
mod walk;
mod workspaces;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bulwark_types::{Integrity, SourceKind};
use rayon::prelude::*;
use serde::Deserialize;

use crate::{
    Dependency, DependencyKind, ExtractError, Flags, Importer, Lockfile, MAX_LOCKFILE_BYTES,
    Package, PackageId,
};
use manifest::Manifest;
use walk::{Entry, EntryKind, join};

pub use manifest::MAX_PACKAGE_JSON_BYTES;
pub use walk::{MAX_DEPTH, MAX_ENTRIES};

/// The format name of installed trees in reports.
pub const FORMAT: &str = "installed/node_modules";

/// Parses one installed `package.json` from its bytes, exactly as the tree walk does; the
/// entry point of the `package_json` fuzz target, not an API.
///
/// # Errors
/// The reason the bytes are not a usable `package.json` (without a file name).
#[doc(hidden)]
pub fn parse_package_json(bytes: &[u8]) -> Result<(), String> {
    manifest::parse(bytes).map(drop)
}

/// Inventories the installed tree rooted at the `node_modules` directory `node_modules`.
///
/// The project root is its parent; the root importer comes from the root's `package.json`
/// (when it is missing or unreadable, every top-level package counts as a direct dependency),
/// and workspace members declared there or in `pnpm-workspace.yaml` are importers too.
/// Unreadable parts of the tree (a malformed `package.json`, a link out of the root, a tree
/// deeper than [`MAX_DEPTH`]) become warnings naming them; the walk goes on. The format
/// version names the layout, from the managers' marker files: `npm`, `pnpm`, `yarn`, `bun`,
/// or `nested` when none is there.
///
/// # Errors
/// Returns an error naming the directory if it is not a real `node_modules` directory or the
/// root cannot be resolved.
pub fn extract_tree(node_modules: &Path) -> Result<Lockfile, ExtractError> {
    let meta = std::fs::symlink_metadata(node_modules)
        .map_err(|error| ExtractError::new(node_modules, format!("cannot read: {error}")))?;
    if meta.file_type().is_symlink() {
        return Err(ExtractError::new(
            node_modules,
            "is a symbolic link; installed trees are only read from real directories",
        ));
    }
    if !meta.is_dir() {
        return Err(ExtractError::new(node_modules, "is not a directory"));
    }
    let top = node_modules
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    if top != "node_modules" {
        return Err(ExtractError::new(
            node_modules,
            "is not a `node_modules` directory",
        ));
    }
    let root = match node_modules.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let canonical_root = std::fs::canonicalize(&root).map_err(|error| {
        ExtractError::new(
            node_modules,
            format!("cannot resolve the project root: {error}"),
        )
    })?;
    Ok(Tree::new(node_modules, root, canonical_root).read())
}

/// The state of one extraction.
struct Tree {
    root: PathBuf,
    canonical_root: PathBuf,
    lock: Lockfile,
    /// Install path (directory or link) to package.
    at: HashMap<String, PackageId>,
    /// For each package, the directory its dependencies are resolved from.
    origins: Vec<String>,
    /// For each package, its manifest's dependencies.
    wanted: Vec<Vec<(String, DependencyKind)>>,
}

impl Tree {
    fn new(node_modules: &Path, root: PathBuf, canonical_root: PathBuf) -> Self {
        Self {
            lock: Lockfile::new(node_modules, FORMAT, layout(node_modules)),
            root,
            canonical_root,
            at: HashMap::new(),
            origins: Vec::new(),
            wanted: Vec::new(),
        }
    }

    fn read(mut self) -> Lockfile {
        let root_manifest = self.root_manifest();
        let mut patterns = root_manifest
            .as_ref()
            .map(|manifest| manifest.workspaces.clone())
            .unwrap_or_default();
        patterns.extend(workspaces::pnpm_patterns(
            &self.root,
            &mut self.lock.warnings,
        ));
        let members = workspaces::members(&self.root, &patterns, &mut self.lock.warnings);

        let mut tops = vec!["node_modules".to_owned()];
        tops.extend(
            members
                .iter()
                .map(|member| format!("{member}/node_modules"))
                .filter(|path| {
                    std::fs::symlink_metadata(self.root.join(path)).is_ok_and(|m| m.is_dir())
                }),
        );
        let walked = walk::walk(&self.root, &self.canonical_root, &tops);
        self.lock.warnings.extend(walked.warnings);

        self.add_directories(&walked.entries);
        self.add_links(&walked.entries, &members);
        self.resolve_edges();
        self.apply_hidden_lockfile();
        self.add_importers(root_manifest, &members, &walked.entries);
        self.lock
    }

    /// The root `package.json`, or `None` with a warning.
    fn root_manifest(&mut self) -> Option<Manifest> {
        let path = self.root.join("package.json");
        match manifest::read(&path) {
            Ok(Some(manifest)) => Some(manifest),
            Ok(None) => {
                self.lock.warnings.push(format!(
                    "{}: not found; every top-level package is taken as a direct dependency",
                    path.display()
                ));
                None
            }
            Err(reason) => {
                self.lock.warnings.push(format!(
                    "{}: {reason}; every top-level package is taken as a direct dependency",
                    path.display()
                ));
                None
            }
        }
    }

    /// One package per real package directory with a usable `package.json`.
    fn add_directories(&mut self, entries: &[Entry]) {
        let directories: Vec<&Entry> = entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::Dir)
            .collect();
        let manifests: Vec<_> = directories
            .par_iter()
            .map(|entry| {
                let file = join(&self.root, &entry.path).join("package.json");
                let manifest = manifest::read(&file);
                (file, manifest)
            })
            .collect();
        for (entry, (file, manifest)) in directories.into_iter().zip(manifests) {
            match manifest {
                Ok(Some(manifest)) => {
                    let source = store_source(&entry.path);
                    let id = self.push(entry, &entry.path, file, manifest, source);
                    self.at.insert(entry.path.clone(), id);
                }
                Ok(None) => self.lock.warnings.push(format!(
                    "{}: no package.json; not inventoried",
                    join(&self.root, &entry.path).display()
                )),
                Err(reason) => self
                    .lock
                    .warnings
                    .push(format!("{}: {reason}; not inventoried", file.display())),
            }
        }
    }

    /// Links resolve to the package directory they lead to; links to other directories
    /// inside the root become one `Workspace` (a declared member) or `Link` package each.
    fn add_links(&mut self, entries: &[Entry], members: &[String]) {
        let directories: HashSet<&str> = entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::Dir)
            .map(|entry| entry.path.as_str())
            .collect();
        let links: Vec<(&Entry, &str)> = entries
            .iter()
            .filter_map(|entry| match &entry.kind {
                EntryKind::Link(target) => Some((entry, target.as_str())),
                EntryKind::Dir => None,
            })
            .collect();
        let mut targets: Vec<(&Entry, &str)> = Vec::new();
        let mut queued = HashSet::new();
        for &(entry, target) in &links {
            if let Some(&id) = self.at.get(target) {
                self.at.insert(entry.path.clone(), id);
            } else if !directories.contains(target) && queued.insert(target) {
                targets.push((entry, target));
            }
        }
        let members: HashSet<&str> = members.iter().map(String::as_str).collect();
        let manifests: Vec<_> = targets
            .par_iter()
            .map(|(_, target)| {
                // `target` has no links in it: it is relative to the canonical root.
                let file = join(&self.root, target).join("package.json");
                let manifest = manifest::read(&file);
                (file, manifest)
            })
            .collect();
        let mut by_target = HashMap::new();
        for ((entry, target), (file, manifest)) in targets.into_iter().zip(manifests) {
            let source = if members.contains(target) {
                SourceKind::Workspace
            } else {
                SourceKind::Link
            };
            match manifest {
                Ok(Some(manifest)) => {
                    let id = self.push(entry, target, file, manifest, Some(source));
                    by_target.insert(target, id);
                }
                Ok(None) => self.lock.warnings.push(format!(
                    "{}: links to `{target}`, which has no package.json; not inventoried",
                    self.root.join(&entry.path).display()
                )),
                Err(reason) => self
                    .lock
                    .warnings
                    .push(format!("{}: {reason}; not inventoried", file.display())),
            }
        }
        for (entry, target) in links {
            if let Some(&id) = by_target.get(target) {
                self.at.insert(entry.path.clone(), id);
            }
        }
    }

    /// Adds a package read from `file`, found at `entry`, resolving from `origin`.
    fn push(
        &mut self,
        entry: &Entry,
        origin: &str,
        file: PathBuf,
        manifest: Manifest,
        source: Option<SourceKind>,
    ) -> PackageId {
        let name = manifest
            .name
            .or_else(|| Some(entry.name.clone()).filter(|name| !name.is_empty()))
            .unwrap_or_else(|| {
                self.lock.warnings.push(format!(
                    "{}: has no `name`, and its path does not tell it; inventoried with an empty name",
                    file.display()
                ));
                String::new()
            });
        let version = manifest.version.unwrap_or_else(|| {
            self.lock.warnings.push(format!(
                "{}: has no `version`; inventoried with an empty version",
                file.display()
            ));
            String::new()
        });
        let integrity = manifest
            .integrity
            .as_deref()
            .and_then(|value| match Integrity::parse_sri(value) {
                Ok(integrity) => Some(integrity),
                Err(error) => {
                    self.lock.warnings.push(format!(
                        "{}: `_integrity` is not a valid SRI value ({error}); ignored",
                        file.display()
                    ));
                    None
                }
            });
        let source = source
            .or_else(|| manifest.resolved.as_deref().map(SourceKind::classify))
            .unwrap_or(SourceKind::Registry);
        let mut package = Package::new(name, version, manifest.version_line);
        if !entry.name.is_empty() && entry.name != package.name {
            package.alias = Some(entry.name.clone());
        }
        package.resolved = manifest.resolved;
        package.integrity = integrity;
        package.source = source;
        package.install_path = Some(entry.path.clone());
        package.location_file = Some(file);
        self.lock.packages.push(package);
        self.origins.push(origin.to_owned());
        self.wanted.push(manifest.dependencies);
        PackageId(self.lock.packages.len() - 1)
    }

    fn resolve_edges(&mut self) {
        let wanted = std::mem::take(&mut self.wanted);
        for (index, dependencies) in wanted.into_iter().enumerate() {
            let origin = &self.origins[index];
            let edges = dependencies
                .into_iter()
                .map(|(name, kind)| Dependency {
                    target: resolve(&self.at, origin, &name),
                    name,
                    kind,
                })
                .collect();
            self.lock.packages[index].dependencies = edges;
        }
    }

    /// npm's hidden lockfile records dev/optional/peer flags by install path; they are used
    /// for packages whose installed version still matches the recorded one.
    fn apply_hidden_lockfile(&mut self) {
        let path = self.lock.file.join(".package-lock.json");
        let bytes = match manifest::read_bounded(&path, MAX_LOCKFILE_BYTES) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(reason) => {
                self.lock
                    .warnings
                    .push(format!("{}: {reason}; flags not used", path.display()));
                return;
            }
        };
        let hidden: HiddenLockfile = match serde_json::from_slice(&bytes) {
            Ok(hidden) => hidden,
            Err(error) => {
                self.lock.warnings.push(format!(
                    "{}: invalid hidden lockfile ({error}); flags not used",
                    path.display()
                ));
                return;
            }
        };
        for package in &mut self.lock.packages {
            let Some(recorded) = package
                .install_path
                .as_ref()
                .and_then(|install_path| hidden.packages.get(install_path))
            else {
                continue;
            };
            if recorded.version.as_deref() != Some(package.version.as_str()) {
                continue;
            }
            let dev_optional = recorded.dev_optional == Some(true);
            package.flags = Flags {
                dev: Some(recorded.dev == Some(true) && !dev_optional),
                optional: Some(recorded.optional == Some(true) && !dev_optional),
                peer: Some(recorded.peer == Some(true)),
            };
        }
    }

    fn add_importers(
        &mut self,
        root_manifest: Option<Manifest>,
        members: &[String],
        entries: &[Entry],
    ) {
        let root_importer = match root_manifest {
            Some(manifest) => self.importer(String::new(), manifest),
            None => Importer {
                dependencies: entries
                    .iter()
                    .filter(|entry| entry.path == format!("node_modules/{}", entry.name))
                    .map(|entry| Dependency {
                        name: entry.name.clone(),
                        kind: DependencyKind::Prod,
                        target: self.at.get(&entry.path).copied(),
                    })
                    .collect(),
                ..Importer::default()
            },
        };
        self.lock.importers.push(root_importer);
        for member in members {
            let file = self.root.join(member).join("package.json");
            match manifest::read(&file) {
                Ok(Some(manifest)) => {
                    let importer = self.importer(member.clone(), manifest);
                    self.lock.importers.push(importer);
                }
                Ok(None) => {}
                Err(reason) => self.lock.warnings.push(format!(
                    "{}: {reason}; workspace member skipped",
                    file.display()
                )),
            }
        }
    }

    /// An importer at `path` with dependencies, dev and optional dependencies resolved from
    /// there (peer dependencies of a project are not installed for it).
    fn importer(&self, path: String, manifest: Manifest) -> Importer {
        let mut wanted: Vec<(String, DependencyKind)> = manifest
            .dependencies
            .into_iter()
            .filter(|(_, kind)| *kind != DependencyKind::Peer)
            .collect();
        let mut seen: HashSet<String> = wanted.iter().map(|(name, _)| name.clone()).collect();
        for name in manifest.dev_dependencies {
            if seen.insert(name.clone()) {
                wanted.push((name, DependencyKind::Dev));
            }
        }
        let dependencies = wanted
            .into_iter()
            .map(|(name, kind)| Dependency {
                target: resolve(&self.at, &path, &name),
                name,
                kind,
            })
            .collect();
        Importer {
            path,
            name: manifest.name,
            version: manifest.version,
            dependencies,
        }
    }
}

/// npm's `node_modules/.package-lock.json`, only as far as flags go.
#[derive(Deserialize)]
struct HiddenLockfile {
    #[serde(default)]
    packages: HashMap<String, HiddenEntry>,
}

#[derive(Deserialize)]
struct HiddenEntry {
    version: Option<String>,
    dev: Option<bool>,
    optional: Option<bool>,
    #[serde(rename = "devOptional")]
    dev_optional: Option<bool>,
    peer: Option<bool>,
}

/// Node's module resolution from directory `from` (relative to the root): `from/node_modules`,
/// then `node_modules` of each ancestor that is not itself a `node_modules`, up to the root.
fn resolve(at: &HashMap<String, PackageId>, from: &str, name: &str) -> Option<PackageId> {
    let mut dir = from;
    loop {
        if dir.rsplit('/').next() != Some("node_modules") {
            let candidate = if dir.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{dir}/node_modules/{name}")
            };
            if let Some(&id) = at.get(&candidate) {
                return Some(id);
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = dir.rfind('/').map_or("", |slash| &dir[..slash]);
    }
}

/// What a pnpm store key says about where a package came from, for packages in a store
/// (`node_modules/.pnpm/<name>@<version or specifier>/node_modules/<name>`); `None` outside
/// stores or for plain registry versions.
fn store_source(install_path: &str) -> Option<SourceKind> {
    let rest = install_path.strip_prefix("node_modules/.pnpm/")?;
    let key = rest.split('/').next()?;
    let specifier = key.get(1..)?.split_once('@')?.1;
    let source = if specifier.starts_with("file+") {
        SourceKind::File
    } else if specifier.starts_with("link+") {
        SourceKind::Link
    } else if specifier.starts_with("git+")
        || specifier.starts_with("github+")
        || specifier.contains("codeload.github.com")
    {
        SourceKind::Git
    } else if specifier.starts_with("https+") || specifier.starts_with("http+") {
        SourceKind::RemoteTarball
    } else {
        return None;
    };
    Some(source)
}

/// Which manager laid the tree out, from its marker files.
fn layout(node_modules: &Path) -> &'static str {
    let markers = [
        (".pnpm", "pnpm"),
        (".bun", "bun"),
        (".store", "yarn"),
        (".yarn-state.yml", "yarn"),
        (".yarn-integrity", "yarn"),
        (".package-map.json", "yarn"),
        (".package-lock.json", "npm"),
    ];
    markers
        .iter()
        .find(|(marker, _)| std::fs::symlink_metadata(node_modules.join(marker)).is_ok())
        .map_or("nested", |(_, layout)| layout)
}
