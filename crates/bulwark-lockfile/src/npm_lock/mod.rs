//! npm `package-lock.json` (lockfileVersion 1, 2, 3), `npm-shrinkwrap.json` (the same format,
//! published with a package) and the hidden lockfile `node_modules/.package-lock.json` (the
//! version 3 shape, written by `npm install` to describe what is actually installed).
//!
//! npm records the installed `node_modules` tree itself, so every version becomes one `Tree`
//! of install paths: version 2 and 3 key their flat `packages` map by install path
//! (`node_modules/a/node_modules/b`, workspace directories, `link: true` symlinks), and the
//! nested `dependencies` of version 1 spell the same paths by nesting. Dependencies are then
//! resolved the way Node and npm resolve them: `<dir>/node_modules/<name>` from the
//! dependent's own directory up through each ancestor to the project root. Only this module
//! knows about versions; `encoding` holds the wire structs and `lines` finds the line of
//! every entry in one pass.
//!
//! Flags are taken as npm records them (`dev`, `optional`, `peer`; `devOptional` means in
//! neither tree only). Version 1 and the hidden lockfile do not record the root's direct
//! dependencies: they are inferred as the top-level packages nothing else requires (plus,
//! for cycles, any top-level package still unreached).

mod encoding;
mod lines;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use bulwark_types::{Algorithm, Integrity, SourceKind};

use self::encoding::{Entries, PackageEntry, PackageLock, Text, V1Entry};
use crate::registry::{file_name, inside_node_modules};
use crate::{
    Dependency, DependencyKind, ExtractError, Extractor, Flags, Importer, Input, Lockfile, Package,
    PackageId,
};

/// Install paths with more `/`-separated segments than this are refused (real trees nest a
/// handful of levels; a hostile one could make resolution quadratic).
const MAX_PATH_SEGMENTS: usize = 256;

/// How many warnings one file may produce before the rest are only counted.
const MAX_WARNINGS: usize = 50;

/// The newest lockfileVersion this module knows.
const NEWEST_FORMAT: u32 = 3;

/// Extractor for `package-lock.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmLockExtractor;

impl Extractor for NpmLockExtractor {
    fn name(&self) -> &'static str {
        "npm/package-lock"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "package-lock.json" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        extract(input, self.name())
    }
}

/// Extractor for `npm-shrinkwrap.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmShrinkwrapExtractor;

impl Extractor for NpmShrinkwrapExtractor {
    fn name(&self) -> &'static str {
        "npm/shrinkwrap"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "npm-shrinkwrap.json" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        extract(input, self.name())
    }
}

/// Extractor for `node_modules/.package-lock.json`. Its install paths are relative to the
/// project root, the parent of `node_modules`.
#[derive(Debug, Clone, Copy)]
pub struct NpmHiddenLockExtractor;

impl Extractor for NpmHiddenLockExtractor {
    fn name(&self) -> &'static str {
        "npm/hidden-lockfile"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == ".package-lock.json"
            && path
                .parent()
                .is_some_and(|p| file_name(p) == "node_modules")
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        extract(input, self.name())
    }
}

/// Parses any npm lockfile into the model.
fn extract(input: &Input<'_>, format: &'static str) -> Result<Lockfile, ExtractError> {
    let text = input.text()?;
    let wire: PackageLock<'_> =
        serde_json::from_str(text).map_err(|error| ExtractError::json(input.path, &error))?;
    if wire.lockfile_version.is_none() && wire.packages.is_none() && wire.dependencies.is_none() {
        return Err(ExtractError::new(
            input.path,
            "not an npm lockfile: it has no `lockfileVersion`, `packages` or `dependencies`",
        ));
    }
    let format_version = wire
        .lockfile_version
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |version| version.0.clone());
    let mut tree = Tree::new(Lockfile::new(input.path, format, format_version.as_str()));
    match format_version.parse::<u32>() {
        Ok(version) if (1..=NEWEST_FORMAT).contains(&version) => {}
        _ => tree.warn(format!(
            "lockfileVersion `{format_version}` is not one bulwark knows (1 to {NEWEST_FORMAT}); read as the closest known shape"
        )),
    }
    let root = &mut tree.lockfile.importers[0];
    root.name = wire.name.map(|name| name.0.into_owned());
    root.version = wire.version.map(|version| version.0.into_owned());
    let lines = lines::scan(text);
    if let Some(packages) = wire.packages {
        tree.read_packages(packages, &lines.packages, input.path)?;
    } else if let Some(dependencies) = wire.dependencies {
        let mut cursor = 0;
        tree.read_v1_level(
            dependencies,
            "",
            &lines.dependencies,
            &mut cursor,
            input.path,
        )?;
    }
    Ok(tree.resolve())
}

/// Map of install paths.
/// Map of install paths. It keeps std's randomly keyed SipHash: the keys come from a hostile
/// file, and a fixed fast hash would let one craft colliding paths that make it quadratic.
type PathMap<'a> = HashMap<Cow<'a, str>, Slot>;

/// What an install path (or a link's target) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A package of [`Lockfile::packages`].
    Package(usize),
    /// The root or a workspace member.
    Importer(usize),
    /// A link whose target the lockfile does not describe.
    Missing,
}

/// A dependency as declared, before resolution.
#[derive(Debug)]
struct Request<'a> {
    name: Cow<'a, str>,
    spec: Cow<'a, str>,
    kind: DependencyKind,
}

/// The directory a package or importer resolves its dependencies from, and what it declares.
#[derive(Debug, Default)]
struct Node<'a> {
    base: Cow<'a, str>,
    requests: Vec<Request<'a>>,
}

/// The installed tree of any lockfile version, keyed by install path.
struct Tree<'a> {
    lockfile: Lockfile,
    /// Per package in [`Lockfile::packages`].
    package_nodes: Vec<Node<'a>>,
    /// Per importer in [`Lockfile::importers`]; the root is always first.
    importer_nodes: Vec<Node<'a>>,
    /// Install path (and link path) to what is there.
    paths: PathMap<'a>,
    /// Whether the root's direct dependencies are recorded (a `""` entry).
    root_recorded: bool,
    /// Warnings past [`MAX_WARNINGS`].
    dropped_warnings: usize,
}

impl<'a> Tree<'a> {
    fn new(mut lockfile: Lockfile) -> Self {
        lockfile.importers.push(Importer::default());
        Self {
            lockfile,
            package_nodes: Vec::new(),
            importer_nodes: vec![Node::default()],
            paths: PathMap::default(),
            root_recorded: false,
            dropped_warnings: 0,
        }
    }

    fn warn(&mut self, message: String) {
        if self.lockfile.warnings.len() < MAX_WARNINGS {
            self.lockfile.warnings.push(message);
        } else {
            self.dropped_warnings += 1;
        }
    }

    /// Records what sits at `path`; a second definition wins, as it does for npm (the first
    /// stays in the inventory, unreachable, so a reviewer still sees it).
    fn place(&mut self, path: Cow<'a, str>, slot: Slot, line: u32) {
        if let Some(previous) = self.paths.insert(path, slot)
            && previous != slot
        {
            self.warn(format!(
                "line {line}: an install path is defined twice; npm uses this later definition"
            ));
        }
    }

    fn push_package(&mut self, package: Package, node: Node<'a>) -> usize {
        self.lockfile.packages.push(package);
        self.package_nodes.push(node);
        self.lockfile.packages.len() - 1
    }

    fn parse_integrity(&mut self, value: Option<&Text<'_>>, line: u32) -> Option<Integrity> {
        let value = value?.as_str();
        match Integrity::parse_sri(value) {
            Ok(integrity) => Some(integrity),
            Err(error) => {
                if let Ok(integrity) = Integrity::from_hex(Algorithm::Sha1, value) {
                    return Some(integrity);
                }
                self.warn(format!("line {line}: unreadable integrity value: {error}"));
                None
            }
        }
    }

    /// Reads the flat `packages` map of lockfileVersion 2 and 3.
    fn read_packages(
        &mut self,
        entries: Entries<'a, PackageEntry<'a>>,
        lines: &[u32],
        file: &Path,
    ) -> Result<(), ExtractError> {
        if lines.len() != entries.0.len() {
            self.warn(format!(
                "could not locate every entry of `packages` ({} lines for {} entries); some lines are approximate",
                lines.len(),
                entries.0.len()
            ));
        }
        self.paths.reserve(entries.0.len());
        self.lockfile.packages.reserve(entries.0.len());
        self.package_nodes.reserve(entries.0.len());
        let root_entry = entries
            .0
            .iter()
            .rev()
            .find(|(key, _)| key.as_str().is_empty());
        let workspaces = WorkspaceGlobs::new(root_entry.map(|(_, entry)| entry));
        let mut links = Vec::new();
        for (index, (key, entry)) in entries.0.into_iter().enumerate() {
            let line = lines.get(index).copied().unwrap_or(1).max(1);
            let key = key.0;
            if key.bytes().filter(|&b| b == b'/').count() >= MAX_PATH_SEGMENTS {
                return Err(ExtractError::at_line(
                    file,
                    line,
                    format!("install path is nested more than {MAX_PATH_SEGMENTS} levels deep"),
                ));
            }
            if key.is_empty() {
                self.read_root(entry);
            } else if let Some(installed) = installed_name(&key) {
                if entry.link {
                    links.push((key, entry.resolved, line));
                } else {
                    let installed = installed.to_owned();
                    self.read_installed(key, installed, entry, line);
                }
            } else if workspaces.contains(&key) {
                self.read_workspace(key, entry, line);
            } else {
                self.read_directory(key, entry, line);
            }
        }
        for (key, target, line) in links {
            self.read_link(key, target, line);
        }
        Ok(())
    }

    /// The `""` entry: the root importer.
    fn read_root(&mut self, entry: PackageEntry<'a>) {
        if self.root_recorded {
            self.warn("the root entry `\"\"` is defined twice; npm uses the later one".to_owned());
        }
        self.root_recorded = true;
        let root = &mut self.lockfile.importers[0];
        if let Some(name) = &entry.name {
            root.name = Some(name.as_str().to_owned());
        }
        if let Some(version) = &entry.version {
            root.version = Some(version.as_str().to_owned());
        }
        self.importer_nodes[0] = Node {
            base: Cow::Borrowed(""),
            requests: requests(entry, true),
        };
    }

    /// A package installed under some `node_modules`.
    fn read_installed(
        &mut self,
        key: Cow<'a, str>,
        installed: String,
        entry: PackageEntry<'a>,
        line: u32,
    ) {
        let resolved = entry.resolved.as_ref().map(|r| r.as_str().to_owned());
        let version = match &entry.version {
            Some(version) => version.as_str().to_owned(),
            None => {
                self.warn(format!(
                    "line {line}: `{key}` has no version; npm will not know what to install"
                ));
                String::new()
            }
        };
        let (name, alias) = match &entry.name {
            Some(name) if name.as_str() != installed => (name.as_str().to_owned(), Some(installed)),
            Some(_) => (installed, None),
            None => match resolved.as_deref().and_then(registry_tarball) {
                Some((real, tarball_version))
                    if real != installed && tarball_version == version =>
                {
                    (real.into_owned(), Some(installed))
                }
                _ => (installed, None),
            },
        };
        let source = match resolved.as_deref() {
            Some(resolved) => SourceKind::classify(resolved),
            None if entry.in_bundle => SourceKind::Unknown,
            // `omit-lockfile-registry-resolved` leaves registry packages without `resolved`.
            None => SourceKind::Registry,
        };
        let integrity = self.parse_integrity(entry.integrity.as_ref(), line);
        let package = Package {
            name,
            version,
            alias,
            resolved,
            integrity,
            source,
            flags: recorded_flags(&entry),
            dependencies: Vec::new(),
            line,
            install_path: Some(key.clone().into_owned()),
            location_file: None,
        };
        let node = Node {
            base: key.clone(),
            requests: requests(entry, false),
        };
        let index = self.push_package(package, node);
        self.place(key, Slot::Package(index), line);
    }

    /// A workspace member's directory.
    fn read_workspace(&mut self, key: Cow<'a, str>, entry: PackageEntry<'a>, line: u32) {
        self.lockfile.importers.push(Importer {
            path: key.clone().into_owned(),
            name: entry.name.as_ref().map(|name| name.as_str().to_owned()),
            version: entry.version.as_ref().map(|v| v.as_str().to_owned()),
            dependencies: Vec::new(),
        });
        self.importer_nodes.push(Node {
            base: key.clone(),
            requests: requests(entry, true),
        });
        let index = self.lockfile.importers.len() - 1;
        self.place(key, Slot::Importer(index), line);
    }

    /// A local directory that is not a workspace member (a `file:` directory dependency).
    fn read_directory(&mut self, key: Cow<'a, str>, entry: PackageEntry<'a>, line: u32) {
        let name = entry.name.as_ref().map_or_else(
            || key.rsplit('/').next().unwrap_or_default().to_owned(),
            |name| name.as_str().to_owned(),
        );
        let mut package = Package::new(name, entry.version.as_ref().map_or("", Text::as_str), line);
        package.source = SourceKind::File;
        package.resolved = Some(format!("file:{key}"));
        package.flags = recorded_flags(&entry);
        let node = Node {
            base: key.clone(),
            requests: requests(entry, false),
        };
        let index = self.push_package(package, node);
        self.place(key, Slot::Package(index), line);
    }

    /// A `link: true` entry: the install path holds whatever its target holds.
    fn read_link(&mut self, key: Cow<'a, str>, target: Option<Text<'a>>, line: u32) {
        let installed = installed_name(&key).unwrap_or_default().to_owned();
        let slot = target
            .as_ref()
            .and_then(|target| self.paths.get(target.as_str()).copied());
        match slot {
            Some(Slot::Importer(index)) => {
                let importer = &mut self.lockfile.importers[index];
                if importer.name.is_none() {
                    importer.name = Some(installed);
                }
            }
            Some(Slot::Package(index)) => {
                let package = &mut self.lockfile.packages[index];
                // Only a directory becomes a link: a link to an installed package must not
                // turn it into a local one (which reports leave out).
                if package.source == SourceKind::File && package.install_path.is_none() {
                    package.source = SourceKind::Link;
                    package.install_path = Some(key.clone().into_owned());
                    if package.name != installed {
                        package.alias = Some(installed);
                    }
                }
            }
            Some(Slot::Missing) | None => {
                let target = target.as_ref().map_or("", Text::as_str);
                self.warn(format!(
                    "line {line}: `{key}` links to `{target}`, which the lockfile does not describe"
                ));
            }
        }
        self.place(key, slot.unwrap_or(Slot::Missing), line);
    }

    /// Reads one level of the nested `dependencies` of lockfileVersion 1 (pre-order, the
    /// order the line scanner saw the keys in).
    fn read_v1_level(
        &mut self,
        entries: Entries<'a, V1Entry<'a>>,
        parent: &str,
        lines: &[u32],
        cursor: &mut usize,
        file: &Path,
    ) -> Result<(), ExtractError> {
        for (key, mut entry) in entries.0 {
            let line = lines.get(*cursor).copied().unwrap_or(1).max(1);
            *cursor += 1;
            let path = if parent.is_empty() {
                format!("node_modules/{}", key.as_str())
            } else {
                format!("{parent}/node_modules/{}", key.as_str())
            };
            if path.bytes().filter(|&b| b == b'/').count() >= MAX_PATH_SEGMENTS {
                return Err(ExtractError::at_line(
                    file,
                    line,
                    format!("dependencies are nested more than {MAX_PATH_SEGMENTS} levels deep"),
                ));
            }
            let children = entry.dependencies.take();
            self.read_v1_entry(key.0, path.clone(), entry, line);
            if let Some(children) = children {
                self.read_v1_level(children, &path, lines, cursor, file)?;
            }
        }
        Ok(())
    }

    /// One lockfileVersion 1 entry at install path `path`.
    fn read_v1_entry(&mut self, key: Cow<'a, str>, path: String, entry: V1Entry<'a>, line: u32) {
        let recorded = match &entry.version {
            Some(version) => version.as_str().to_owned(),
            None => {
                self.warn(format!("line {line}: `{path}` has no version"));
                String::new()
            }
        };
        let mut resolved = entry.resolved.as_ref().map(|r| r.as_str().to_owned());
        let mut source = resolved.as_deref().map(SourceKind::classify);
        let (name, version, alias) = if let Some(target) = recorded.strip_prefix("npm:") {
            let (name, version) = split_name_version(target);
            let alias = (name != key).then(|| key.clone().into_owned());
            (name.to_owned(), version.to_owned(), alias)
        } else {
            if is_specifier(&recorded) {
                // Git, URL and `file:` dependencies record their specifier as the version.
                if resolved.is_none() || source == Some(SourceKind::Unknown) {
                    source = Some(SourceKind::classify(&recorded));
                }
                resolved.get_or_insert_with(|| recorded.clone());
                // A registry tarball URL still names exactly one version.
                if let Some((real, version)) = registry_tarball(&recorded) {
                    let alias = (real != key).then(|| key.clone().into_owned());
                    (real.into_owned(), version.to_owned(), alias)
                } else {
                    (key.clone().into_owned(), recorded, None)
                }
            } else {
                (key.clone().into_owned(), recorded, None)
            }
        };
        let source = source.unwrap_or(if entry.bundled {
            SourceKind::Unknown
        } else {
            SourceKind::Registry
        });
        let integrity = self.parse_integrity(entry.integrity.as_ref(), line);
        let package = Package {
            name,
            version,
            alias,
            resolved,
            integrity,
            source,
            flags: Flags {
                dev: Some(entry.dev),
                optional: Some(entry.optional),
                peer: None,
            },
            dependencies: Vec::new(),
            line,
            install_path: Some(path.clone()),
            location_file: None,
        };
        let requests = entry
            .requires
            .map(|requires| {
                requires
                    .0
                    .into_iter()
                    .map(|(name, spec)| Request {
                        name: name.0,
                        spec: spec.0,
                        kind: DependencyKind::Prod,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let path: Cow<'a, str> = Cow::Owned(path);
        let node = Node {
            base: path.clone(),
            requests,
        };
        let index = self.push_package(package, node);
        self.place(path, Slot::Package(index), line);
    }

    /// Resolves every declared dependency by walking up `node_modules` directories.
    fn resolve(mut self) -> Lockfile {
        let mut buffer = String::new();
        let mut renames = Vec::new();
        let mut unresolved = 0_usize;
        let mut first_unresolved = None;
        let package_nodes = std::mem::take(&mut self.package_nodes);
        for (index, node) in package_nodes.into_iter().enumerate() {
            let dependencies: Vec<Dependency> = node
                .requests
                .into_iter()
                .map(|request| {
                    let slot = lookup(&self.paths, &node.base, &request.name, &mut buffer);
                    if slot.is_none() && request.kind == DependencyKind::Prod {
                        unresolved += 1;
                        first_unresolved.get_or_insert_with(|| {
                            (self.lockfile.packages[index].line, request.name.to_string())
                        });
                    }
                    self.dependency(request, slot, &mut renames)
                })
                .collect();
            self.lockfile.packages[index].dependencies = dependencies;
        }
        let importer_nodes = std::mem::take(&mut self.importer_nodes);
        for (index, node) in importer_nodes.into_iter().enumerate() {
            let dependencies: Vec<Dependency> = node
                .requests
                .into_iter()
                .map(|request| {
                    let slot = lookup(&self.paths, &node.base, &request.name, &mut buffer);
                    self.dependency(request, slot, &mut renames)
                })
                .collect();
            self.lockfile.importers[index].dependencies = dependencies;
        }
        for (index, name, alias) in renames {
            let package = &mut self.lockfile.packages[index];
            if package.alias.is_none() && package.name == alias {
                package.name = name;
                package.alias = Some(alias);
            }
        }
        if let Some((line, name)) = first_unresolved {
            self.warn(format!(
                "{unresolved} dependencies are not installed anywhere the lockfile records (first: line {line} requires `{name}`)"
            ));
        }
        if !self.root_recorded {
            self.infer_root_dependencies();
        }
        if self.dropped_warnings > 0 {
            let dropped = self.dropped_warnings;
            self.lockfile
                .warnings
                .push(format!("… and {dropped} more warnings"));
        }
        self.lockfile
    }

    /// The edge for `request` found at `slot`; an `npm:` alias specifier also names the real
    /// package, noted in `renames` for entries that did not say so themselves.
    fn dependency(
        &self,
        request: Request<'a>,
        slot: Option<Slot>,
        renames: &mut Vec<(usize, String, String)>,
    ) -> Dependency {
        let target = match slot {
            Some(Slot::Package(index)) => Some(index),
            _ => None,
        };
        if let Some(index) = target
            && let Some(aliased) = request.spec.strip_prefix("npm:")
        {
            let (real, _) = split_name_version(aliased);
            let package = &self.lockfile.packages[index];
            if !real.is_empty()
                && real != request.name
                && package.alias.is_none()
                && package.name == request.name
            {
                renames.push((index, real.to_owned(), request.name.to_string()));
            }
        }
        Dependency {
            name: request.name.into_owned(),
            kind: request.kind,
            target: target.map(PackageId),
        }
    }

    /// Lockfiles without a root entry (version 1, the hidden lockfile) do not say what the
    /// root depends on: take the top-level packages nothing else requires, then any
    /// top-level package still unreached (cycles).
    fn infer_root_dependencies(&mut self) {
        let packages = &self.lockfile.packages;
        let count = packages.len();
        let mut required = vec![false; count];
        let edges = packages
            .iter()
            .flat_map(|package| package.dependencies.iter())
            .chain(
                self.lockfile.importers[1..]
                    .iter()
                    .flat_map(|importer| importer.dependencies.iter()),
            );
        for dependency in edges {
            if let Some(PackageId(target)) = dependency.target {
                required[target] = true;
            }
        }
        let top_level: Vec<usize> = (0..count)
            .filter(|&index| {
                packages[index].install_path.as_deref().is_some_and(|path| {
                    path.starts_with("node_modules/") && parent_dir(path).is_empty()
                })
            })
            .collect();
        let mut reached = vec![false; count];
        let mut queue: Vec<usize> = self.lockfile.importers[1..]
            .iter()
            .flat_map(|importer| importer.dependencies.iter())
            .filter_map(|dependency| dependency.target.map(|PackageId(i)| i))
            .collect();
        reach(packages, &mut reached, &mut queue);
        let mut direct = Vec::new();
        let mut is_direct = vec![false; count];
        for pass in 0..2 {
            for &index in &top_level {
                let take = if pass == 0 {
                    !required[index]
                } else {
                    !reached[index]
                };
                if take && !is_direct[index] {
                    is_direct[index] = true;
                    direct.push(index);
                    queue.push(index);
                    reach(packages, &mut reached, &mut queue);
                }
            }
        }
        let dependencies = direct
            .into_iter()
            .map(|index| {
                let package = &packages[index];
                let kind = if package.flags.dev == Some(true) {
                    DependencyKind::Dev
                } else if package.flags.optional == Some(true) {
                    DependencyKind::Optional
                } else {
                    DependencyKind::Prod
                };
                Dependency {
                    name: package
                        .alias
                        .clone()
                        .unwrap_or_else(|| package.name.clone()),
                    kind,
                    target: Some(PackageId(index)),
                }
            })
            .collect();
        self.lockfile.importers[0].dependencies = dependencies;
    }
}

/// Marks everything reachable from `queue` (which it empties).
fn reach(packages: &[Package], reached: &mut [bool], queue: &mut Vec<usize>) {
    while let Some(index) = queue.pop() {
        if std::mem::replace(&mut reached[index], true) {
            continue;
        }
        queue.extend(
            packages[index]
                .dependencies
                .iter()
                .filter_map(|dependency| dependency.target.map(|PackageId(i)| i))
                .filter(|&i| !reached[i]),
        );
    }
}

/// The flags as npm records them on a `packages` entry.
fn recorded_flags(entry: &PackageEntry<'_>) -> Flags {
    let in_one_tree_only = !entry.dev_optional;
    Flags {
        dev: Some(entry.dev && in_one_tree_only),
        optional: Some(entry.optional && in_one_tree_only),
        peer: Some(entry.peer),
    }
}

/// The dependencies a `packages` entry declares; `devDependencies` only count for importers
/// (npm never installs a dependency's dev dependencies). A name declared twice keeps its
/// first kind in the order optional, prod, peer, dev, which is how npm lets
/// `optionalDependencies` override `dependencies`.
fn requests(entry: PackageEntry<'_>, importer: bool) -> Vec<Request<'_>> {
    let lists = [
        (entry.optional_dependencies, DependencyKind::Optional),
        (entry.dependencies, DependencyKind::Prod),
        (entry.peer_dependencies, DependencyKind::Peer),
        (
            if importer {
                entry.dev_dependencies
            } else {
                None
            },
            DependencyKind::Dev,
        ),
    ];
    let total: usize = lists
        .iter()
        .map(|(list, _)| list.as_ref().map_or(0, |list| list.0.len()))
        .sum();
    let mut requests: Vec<Request<'_>> = Vec::with_capacity(total);
    // Short lists are deduplicated by scanning; long (hostile) ones through a set.
    let mut seen: HashSet<Cow<'_, str>> = HashSet::new();
    for (list, kind) in lists {
        for (name, spec) in list.unwrap_or_default().0 {
            let duplicate = if total > 16 {
                !seen.insert(name.0.clone())
            } else {
                requests.iter().any(|request| request.name == name.0)
            };
            if !duplicate {
                requests.push(Request {
                    name: name.0,
                    spec: spec.0,
                    kind,
                });
            }
        }
    }
    requests
}

/// Finds what `name` resolves to from directory `base`, the way Node does: `<base>/node_modules/
/// <name>`, then the same from each ancestor up to the root.
fn lookup(paths: &PathMap<'_>, base: &str, name: &str, buffer: &mut String) -> Option<Slot> {
    let mut dir = base;
    loop {
        buffer.clear();
        if !dir.is_empty() {
            buffer.push_str(dir);
            buffer.push('/');
        }
        buffer.push_str("node_modules/");
        buffer.push_str(name);
        if let Some(&slot) = paths.get(buffer.as_str()) {
            return Some(slot);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

/// The byte index of the last `node_modules/` path segment of `path` (checked segment by
/// segment from the end: this runs for every resolution step).
fn last_node_modules(path: &str) -> Option<usize> {
    const SEGMENT: &[u8] = b"node_modules/";
    let bytes = path.as_bytes();
    let mut end = bytes.len();
    loop {
        let start = memchr::memrchr(b'/', bytes.get(..end)?).map_or(0, |slash| slash + 1);
        if bytes
            .get(start..)
            .is_some_and(|rest| rest.starts_with(SEGMENT))
        {
            return Some(start);
        }
        end = start.checked_sub(1)?;
    }
}

/// The package name an install path ends in (`a/node_modules/@s/b` gives `@s/b`).
fn installed_name(path: &str) -> Option<&str> {
    let index = last_node_modules(path)?;
    path.get(index + "node_modules/".len()..)
        .filter(|name| !name.is_empty())
}

/// The directory whose `node_modules` holds `path`, or the parent directory of a plain
/// directory; `""` is the root.
fn parent_dir(path: &str) -> &str {
    if let Some(index) = last_node_modules(path) {
        return path.get(..index).unwrap_or_default().trim_end_matches('/');
    }
    path.rfind('/')
        .map_or("", |index| path.get(..index).unwrap_or_default())
}

/// Splits `name@version` (the name may be scoped: `@scope/name@1.0.0`).
fn split_name_version(spec: &str) -> (&str, &str) {
    let search_from = usize::from(spec.starts_with('@'));
    match spec
        .get(search_from..)
        .and_then(|rest| rest.find('@'))
        .map(|at| at + search_from)
    {
        Some(at) => (&spec[..at], &spec[at + 1..]),
        None => (spec, ""),
    }
}

/// True for version fields that hold a specifier instead of a version (semver has no `:`,
/// `/` or `#`).
fn is_specifier(version: &str) -> bool {
    version.contains([':', '/', '#'])
}

/// The package name and version of a registry tarball URL `…/<name>/-/<basename>-<version>.tgz`
/// (the registry serves a tarball only under its own name and version).
fn registry_tarball(url: &str) -> Option<(Cow<'_, str>, &str)> {
    let path = url.split(['?', '#']).next()?;
    if !(path.starts_with("https://") || path.starts_with("http://")) {
        return None;
    }
    let (before, file) = path.rsplit_once("/-/")?;
    let (parent, last) = before.rsplit_once('/')?;
    let name: Cow<'_, str> = if last.contains('%') {
        Cow::Owned(last.replace("%2f", "/").replace("%2F", "/"))
    } else if last.starts_with('@') {
        Cow::Borrowed(last)
    } else {
        match parent.rsplit_once('/').map_or(parent, |(_, scope)| scope) {
            scope if scope.len() > 1 && scope.starts_with('@') => {
                // `…/@scope/name/-/…`: the name spans the last two segments.
                before
                    .len()
                    .checked_sub(scope.len() + 1 + last.len())
                    .and_then(|start| before.get(start..))
                    .map_or(Cow::Owned(format!("{scope}/{last}")), Cow::Borrowed)
            }
            _ => Cow::Borrowed(last),
        }
    };
    let basename = name.rsplit('/').next().filter(|b| !b.is_empty())?;
    let version = file
        .strip_suffix(".tgz")?
        .strip_prefix(basename)?
        .strip_prefix('-')
        .filter(|version| !version.is_empty() && !version.contains('/'))?;
    Some((name, version))
}

/// The root's `workspaces` globs, deciding which directory entries are workspace members.
struct WorkspaceGlobs {
    /// `None` when the lockfile has no root entry (the hidden lockfile): every directory
    /// inside the project is then taken for a member.
    globs: Option<Vec<String>>,
}

impl WorkspaceGlobs {
    /// At most this many globs are considered.
    const MAX_GLOBS: usize = 1000;

    fn new(root: Option<&PackageEntry<'_>>) -> Self {
        Self {
            globs: root.map(|entry| {
                entry
                    .workspaces
                    .as_ref()
                    .map(|globs| {
                        globs
                            .0
                            .iter()
                            .take(Self::MAX_GLOBS)
                            .map(|glob| glob.as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            }),
        }
    }

    fn contains(&self, directory: &str) -> bool {
        let Some(globs) = &self.globs else {
            return !directory.starts_with("../")
                && directory != ".."
                && !directory.starts_with('/');
        };
        let path: Vec<&str> = directory.split('/').collect();
        let matches = |glob: &str| {
            let glob = glob.trim_start_matches("./").trim_end_matches('/');
            let glob: Vec<&str> = glob.split('/').collect();
            wildcard(&glob, &path, |g| *g == "**", |g, p| segment_matches(g, p))
        };
        let included = globs
            .iter()
            .filter(|glob| !glob.starts_with('!'))
            .any(|glob| matches(glob));
        included
            && !globs
                .iter()
                .filter_map(|glob| glob.strip_prefix('!'))
                .any(matches)
    }
}

/// Whether one path segment matches one glob segment (`*` any run, `?` one character).
fn segment_matches(glob: &str, segment: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let segment: Vec<char> = segment.chars().collect();
    wildcard(&glob, &segment, |g| *g == '*', |g, s| *g == '?' || g == s)
}

/// Wildcard matching with one backtracking point: linear in practice, `O(n·m)` at worst,
/// whatever the pattern.
fn wildcard<G, T>(
    pattern: &[G],
    text: &[T],
    is_star: impl Fn(&G) -> bool,
    matches: impl Fn(&G, &T) -> bool,
) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && is_star(&pattern[p]) {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && matches(&pattern[p], &text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(is_star)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const LOCK: &dyn Extractor = &NpmLockExtractor;
    const SHRINKWRAP: &dyn Extractor = &NpmShrinkwrapExtractor;
    const HIDDEN: &dyn Extractor = &NpmHiddenLockExtractor;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/npm")
            .join(name)
    }

    fn run(extractor: &dyn Extractor, name: &str) -> Result<Lockfile, ExtractError> {
        let path = fixture(name);
        let contents = std::fs::read(&path).unwrap();
        extractor.extract(&Input {
            path: &path,
            contents: &contents,
        })
    }

    fn ids(lockfile: &Lockfile) -> BTreeSet<String> {
        lockfile
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    fn package<'l>(lockfile: &'l Lockfile, install_path: &str) -> &'l Package {
        lockfile
            .packages
            .iter()
            .find(|p| p.install_path.as_deref() == Some(install_path))
            .unwrap_or_else(|| panic!("no package at {install_path}"))
    }

    /// Names of the packages `dependent`'s edges resolve to (`-` when unresolved).
    fn edges(lockfile: &Lockfile, dependencies: &[Dependency]) -> Vec<String> {
        dependencies
            .iter()
            .map(|d| {
                let target = d.target.map_or("-".to_owned(), |PackageId(i)| {
                    lockfile.packages[i]
                        .install_path
                        .clone()
                        .unwrap_or_default()
                });
                format!("{}:{:?}->{target}", d.name, d.kind)
            })
            .collect()
    }

    #[test]
    fn file_required() {
        let cases: &[(&dyn Extractor, &str, bool)] = &[
            (LOCK, "package-lock.json", true),
            (LOCK, "project/package-lock.json", true),
            (LOCK, "project/package-lock.json.orig", false),
            (LOCK, "project/package-lock.jsonc", false),
            (LOCK, "project/Package-Lock.json", false),
            (LOCK, "project/npm-shrinkwrap.json", false),
            (LOCK, "project/node_modules/dep/package-lock.json", false),
            (LOCK, "project/node_modules/.package-lock.json", false),
            (SHRINKWRAP, "project/npm-shrinkwrap.json", true),
            (SHRINKWRAP, "npm-shrinkwrap.json", true),
            (SHRINKWRAP, "project/npm-shrinkwrap.json.bak", false),
            (
                SHRINKWRAP,
                "project/node_modules/dep/npm-shrinkwrap.json",
                false,
            ),
            (SHRINKWRAP, "project/package-lock.json", false),
            (HIDDEN, "project/node_modules/.package-lock.json", true),
            (HIDDEN, "node_modules/.package-lock.json", true),
            (HIDDEN, "project/.package-lock.json", false),
            (HIDDEN, "project/node_modules/dep/.package-lock.json", false),
            (HIDDEN, "project/node_modules/package-lock.json", false),
            (HIDDEN, "project/node_modules_old/.package-lock.json", false),
        ];
        for &(extractor, path, expected) in cases {
            assert_eq!(
                extractor.file_required(Path::new(path)),
                expected,
                "{} on {path}",
                extractor.name()
            );
        }
    }

    /// What one fixture must give: its `name@version` set and importer labels, or an error.
    struct Case {
        fixture: &'static str,
        extractor: &'static dyn Extractor,
        packages: &'static [&'static str],
        importers: &'static [&'static str],
        error: Option<&'static str>,
    }

    const BASIC: &[&str] = &[
        "ansi-regex@5.0.1",
        "ansi-styles@4.3.0",
        "color-convert@2.0.1",
        "color-name@1.1.4",
        "emoji-regex@8.0.0",
        "is-fullwidth-code-point@3.0.0",
        "is-number@7.0.0",
        "ms@2.1.3",
        "string-width@4.2.3",
        "strip-ansi@6.0.1",
        "wrap-ansi@7.0.0",
    ];
    const WORKSPACES: &[&str] = &[
        "is-number@6.0.0",
        "is-number@7.0.0",
        "is-odd@3.0.1",
        "ms@2.1.2",
        "ms@2.1.3",
    ];

    #[test]
    fn extract() {
        let ok = |fixture, extractor, packages, importers| Case {
            fixture,
            extractor,
            packages,
            importers,
            error: None,
        };
        let err = |fixture, error| Case {
            fixture,
            extractor: LOCK,
            packages: &[],
            importers: &[],
            error: Some(error),
        };
        let cases = [
            ok(
                "alias-dev-optional.v1.json",
                LOCK,
                BASIC,
                &["fixture-basic"],
            ),
            ok(
                "alias-dev-optional.v2.json",
                SHRINKWRAP,
                BASIC,
                &["fixture-basic"],
            ),
            ok(
                "alias-dev-optional.v3.json",
                LOCK,
                BASIC,
                &["fixture-basic"],
            ),
            ok(
                "hidden-alias-dev-optional.v3.json",
                HIDDEN,
                BASIC,
                &["fixture-basic"],
            ),
            ok(
                "workspaces.v3.json",
                LOCK,
                WORKSPACES,
                &["fixture-workspaces", "@fixture/a", "@fixture/b"],
            ),
            ok(
                "hidden-workspaces.v3.json",
                HIDDEN,
                WORKSPACES,
                &["fixture-workspaces", "@fixture/a", "@fixture/b"],
            ),
            ok(
                "sources.v3.json",
                LOCK,
                &[
                    "@acme/helper@1.0.0",
                    "bundled@1.5.0",
                    "chalk@4.1.2",
                    "devtool@3.0.0",
                    "fsevents@2.3.3",
                    "gitdep@1.2.3",
                    "localdir@0.0.1",
                    "ms@2.0.0",
                    "ms@2.1.3",
                    "parent@1.0.0",
                    "react@18.3.1",
                    "remote@1.0.0",
                    "tarball@2.0.0",
                ],
                &["sources"],
            ),
            ok(
                "sources.v1.json",
                LOCK,
                &[
                    "@acme/real@1.2.3",
                    "a@1.0.0",
                    "b@1.0.0",
                    "c@1.0.0",
                    "c@2.0.0",
                    "filedep@file:local/filedep",
                    "ghdep@github:acme/ghdep#0123456789abcdef0123456789abcdef01234567",
                    "inner@0.1.0",
                    "is-odd@3.0.1",
                    "sshdep@git+ssh://git@github.com/acme/sshdep.git#89abcdef0123456789abcdef0123456789abcdef",
                    "urldep@https://example.com/urldep-3.0.0.tgz",
                ],
                &["sources-v1"],
            ),
            err("not-json.txt", "invalid JSON"),
            err("truncated.v3.json", "invalid JSON"),
            err(
                "wrong-types.v3.json",
                "invalid JSON: invalid type: sequence",
            ),
            err(
                "wrong-field-type.v2.json",
                "invalid JSON: invalid type: string",
            ),
            err("deeply-nested.v1.json", "recursion limit"),
            err("binary-garbage.bin", "not valid UTF-8"),
            err("top-level-array.json", "expected an npm lockfile object"),
            err("empty-object.json", "not an npm lockfile"),
            err("duplicate-packages.v3.json", "duplicate field `packages`"),
            err("too-deep-path.v3.json", "nested more than 256 levels"),
        ];
        for case in cases {
            let result = run(case.extractor, case.fixture);
            match (case.error, result) {
                (None, Ok(lockfile)) => {
                    let expected: BTreeSet<String> =
                        case.packages.iter().map(ToString::to_string).collect();
                    assert_eq!(ids(&lockfile), expected, "{}", case.fixture);
                    let importers: Vec<String> =
                        lockfile.importers.iter().map(Importer::label).collect();
                    assert_eq!(importers, case.importers, "{}", case.fixture);
                    assert_eq!(lockfile.format, case.extractor.name());
                    for package in &lockfile.packages {
                        assert!(package.line >= 1, "{}: {package:?}", case.fixture);
                    }
                }
                (Some(expected), Err(error)) => {
                    let shown = error.to_string();
                    assert!(
                        shown.contains(case.fixture) && shown.contains(expected),
                        "{}: {shown}",
                        case.fixture
                    );
                }
                (None, Err(error)) => panic!("{}: {error}", case.fixture),
                (Some(expected), Ok(_)) => panic!("{}: expected `{expected}`", case.fixture),
            }
        }
    }

    #[test]
    fn errors_carry_lines() {
        let error = run(LOCK, "wrong-field-type.v2.json").unwrap_err();
        assert_eq!(error.line, Some(6));
        let error = run(LOCK, "too-deep-path.v3.json").unwrap_err();
        assert_eq!(error.line, Some(4));
    }

    #[test]
    fn every_version_gives_the_same_graph() {
        let shapes = [
            run(LOCK, "alias-dev-optional.v1.json").unwrap(),
            run(SHRINKWRAP, "alias-dev-optional.v2.json").unwrap(),
            run(LOCK, "alias-dev-optional.v3.json").unwrap(),
            run(HIDDEN, "hidden-alias-dev-optional.v3.json").unwrap(),
        ];
        for lockfile in &shapes {
            let strip = package(lockfile, "node_modules/strip");
            assert_eq!(
                (strip.name.as_str(), strip.alias.as_deref()),
                ("strip-ansi", Some("strip"))
            );
            let ms = package(lockfile, "node_modules/ms");
            assert_eq!(ms.flags.dev, Some(true));
            assert_eq!(ms.flags.optional, Some(false));
            let is_number = package(lockfile, "node_modules/is-number");
            assert_eq!(is_number.flags.optional, Some(true));
            assert_eq!(is_number.flags.dev, Some(false));
            assert!(
                lockfile
                    .packages
                    .iter()
                    .all(|p| p.source == SourceKind::Registry && p.integrity.is_some())
            );
            let wrap = package(lockfile, "node_modules/wrap-ansi");
            let mut wrap_edges = edges(lockfile, &wrap.dependencies);
            wrap_edges.sort();
            assert_eq!(
                wrap_edges,
                [
                    "ansi-styles:Prod->node_modules/ansi-styles",
                    "string-width:Prod->node_modules/string-width",
                    "strip-ansi:Prod->node_modules/strip-ansi",
                ]
            );
            let mut root = edges(lockfile, &lockfile.importers[0].dependencies);
            root.sort();
            assert_eq!(
                root,
                [
                    "is-number:Optional->node_modules/is-number",
                    "ms:Dev->node_modules/ms",
                    "strip:Prod->node_modules/strip",
                    "wrap-ansi:Prod->node_modules/wrap-ansi",
                ],
                "{}",
                lockfile.format_version
            );
            assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
            let project = lockfile.clone().into_inventory();
            let dev: Vec<&str> = project
                .packages
                .iter()
                .filter(|p| p.dev)
                .map(|p| p.name.as_str())
                .collect();
            assert_eq!(dev, ["ms"]);
        }
        assert_eq!(shapes[0].format_version, "1");
        assert_eq!(shapes[1].format_version, "2");
        assert_eq!(shapes[2].format_version, "3");
    }

    #[test]
    fn lines_point_at_the_entry_keys() {
        let v3 = run(LOCK, "alias-dev-optional.v3.json").unwrap();
        assert_eq!(package(&v3, "node_modules/ansi-regex").line, 21);
        assert_eq!(package(&v3, "node_modules/wrap-ansi").line, 134);
        let v1 = run(LOCK, "alias-dev-optional.v1.json").unwrap();
        assert_eq!(package(&v1, "node_modules/ansi-regex").line, 7);
        assert_eq!(package(&v1, "node_modules/strip").line, 65);
        let nested = run(LOCK, "sources.v1.json").unwrap();
        assert_eq!(package(&nested, "node_modules/a/node_modules/c").line, 16);
        assert_eq!(
            package(&nested, "node_modules/a/node_modules/inner").line,
            24
        );
        assert_eq!(package(&nested, "node_modules/b").line, 30);
    }

    #[test]
    fn workspaces_are_importers_resolved_from_their_directory() {
        for (extractor, name) in [
            (LOCK, "workspaces.v3.json"),
            (HIDDEN, "hidden-workspaces.v3.json"),
        ] {
            let lockfile = run(extractor, name).unwrap();
            let a = &lockfile.importers[1];
            assert_eq!(
                (a.path.as_str(), a.version.as_deref()),
                ("packages/a", Some("0.1.0"))
            );
            assert_eq!(
                edges(&lockfile, &a.dependencies),
                ["ms:Prod->packages/a/node_modules/ms"]
            );
            let b = &lockfile.importers[2];
            // `@fixture/a` is a link to a workspace member: not a package.
            assert_eq!(
                edges(&lockfile, &b.dependencies),
                ["@fixture/a:Prod->-", "is-odd:Prod->node_modules/is-odd"]
            );
            let is_odd = package(&lockfile, "node_modules/is-odd");
            assert_eq!(
                edges(&lockfile, &is_odd.dependencies),
                ["is-number:Prod->node_modules/is-odd/node_modules/is-number"]
            );
            let mut root = edges(&lockfile, &lockfile.importers[0].dependencies);
            root.sort();
            assert_eq!(
                root,
                [
                    "is-number:Dev->node_modules/is-number",
                    "ms:Prod->node_modules/ms"
                ],
                "{name}"
            );
            assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
        }
    }

    #[test]
    fn sources_aliases_bundles_and_links_v3() {
        let lockfile = run(LOCK, "sources.v3.json").unwrap();
        let source = |path| package(&lockfile, path).source;
        assert_eq!(source("node_modules/gitdep"), SourceKind::Git);
        assert_eq!(source("node_modules/remote"), SourceKind::RemoteTarball);
        assert_eq!(source("node_modules/tarball"), SourceKind::File);
        assert_eq!(source("node_modules/localdir"), SourceKind::Link);
        assert_eq!(
            source("node_modules/parent/node_modules/bundled"),
            SourceKind::Unknown
        );
        // No `resolved` (omit-lockfile-registry-resolved): still the registry.
        assert_eq!(source("node_modules/chalk4"), SourceKind::Registry);

        let chalk = package(&lockfile, "node_modules/chalk4");
        assert_eq!(
            (chalk.name.as_str(), chalk.alias.as_deref()),
            ("chalk", Some("chalk4"))
        );
        let helper = package(&lockfile, "node_modules/helper");
        assert_eq!(
            (helper.name.as_str(), helper.alias.as_deref()),
            ("@acme/helper", Some("helper"))
        );
        let bundled = package(&lockfile, "node_modules/parent/node_modules/bundled");
        assert!(bundled.resolved.is_none() && bundled.integrity.is_none());
        // The bundled copy resolves `ms` from its parent's node_modules, not the root's.
        assert_eq!(
            edges(&lockfile, &bundled.dependencies),
            ["ms:Prod->node_modules/parent/node_modules/ms"]
        );
        let parent = package(&lockfile, "node_modules/parent");
        assert_eq!(
            edges(&lockfile, &parent.dependencies),
            [
                "bundled:Prod->node_modules/parent/node_modules/bundled",
                "ms:Prod->node_modules/parent/node_modules/ms",
                "helper:Prod->node_modules/helper",
            ]
        );
        let local = package(&lockfile, "node_modules/localdir");
        assert_eq!(
            edges(&lockfile, &local.dependencies),
            ["ms:Prod->node_modules/ms"]
        );
        assert_eq!(local.line, 45);

        let devtool = package(&lockfile, "node_modules/devtool");
        assert_eq!(
            edges(&lockfile, &devtool.dependencies),
            [
                "fsevents:Optional->node_modules/fsevents",
                "react:Peer->node_modules/react"
            ]
        );
        let fsevents = package(&lockfile, "node_modules/fsevents");
        assert_eq!(
            fsevents.flags,
            Flags {
                dev: Some(false),
                optional: Some(false),
                peer: Some(false)
            }
        );
        assert_eq!(
            package(&lockfile, "node_modules/react").flags.peer,
            Some(true)
        );

        let root = edges(&lockfile, &lockfile.importers[0].dependencies);
        assert!(root.contains(&"ghost:Prod->-".to_owned()), "{root:?}");
        assert!(root.contains(&"devtool:Dev->node_modules/devtool".to_owned()));
        assert!(root.contains(&"react:Peer->node_modules/react".to_owned()));
        let warnings = lockfile.warnings.join("\n");
        assert!(
            warnings.contains("line 36: unreadable integrity"),
            "{warnings}"
        );
        assert!(
            warnings.contains("`node_modules/ghost` links to `../outside`"),
            "{warnings}"
        );
        assert_eq!(lockfile.warnings.len(), 2, "{warnings}");
    }

    #[test]
    fn sources_aliases_bundles_and_nesting_v1() {
        let lockfile = run(LOCK, "sources.v1.json").unwrap();
        let ghdep = package(&lockfile, "node_modules/ghdep");
        assert_eq!(ghdep.source, SourceKind::Git);
        assert_eq!(ghdep.resolved.as_deref(), Some(ghdep.version.as_str()));
        assert_eq!(
            package(&lockfile, "node_modules/sshdep").source,
            SourceKind::Git
        );
        assert_eq!(
            package(&lockfile, "node_modules/urldep").source,
            SourceKind::RemoteTarball
        );
        assert_eq!(
            package(&lockfile, "node_modules/filedep").source,
            SourceKind::File
        );
        let inner = package(&lockfile, "node_modules/a/node_modules/inner");
        assert_eq!(inner.source, SourceKind::Unknown);
        let alias = package(&lockfile, "node_modules/scoped-alias");
        assert_eq!(
            (
                alias.name.as_str(),
                alias.version.as_str(),
                alias.alias.as_deref()
            ),
            ("@acme/real", "1.2.3", Some("scoped-alias"))
        );
        assert_eq!(alias.flags.optional, Some(true));
        let tgz = package(&lockfile, "node_modules/tgzdep");
        assert_eq!(
            (
                tgz.name.as_str(),
                tgz.version.as_str(),
                tgz.alias.as_deref()
            ),
            ("is-odd", "3.0.1", Some("tgzdep"))
        );
        assert_eq!(tgz.source, SourceKind::Registry);
        assert!(
            tgz.resolved
                .as_deref()
                .is_some_and(|r| r.ends_with("is-odd-3.0.1.tgz"))
        );
        let b = package(&lockfile, "node_modules/b");
        assert_eq!(
            b.integrity.as_ref().map(|i| i.algorithm),
            Some(Algorithm::Sha1)
        );
        // `requires` walk up the nesting: a's `c` is its own copy, a's `b` the top-level one.
        let a = package(&lockfile, "node_modules/a");
        assert_eq!(
            edges(&lockfile, &a.dependencies),
            [
                "b:Prod->node_modules/b",
                "c:Prod->node_modules/a/node_modules/c"
            ]
        );
        let nested_c = package(&lockfile, "node_modules/a/node_modules/c");
        assert_eq!(
            edges(&lockfile, &nested_c.dependencies),
            ["b:Prod->node_modules/b"]
        );
        // The root is not recorded in v1: top-level packages nothing requires, then the
        // cycle a <-> b entered at its first member.
        let root = edges(&lockfile, &lockfile.importers[0].dependencies);
        assert_eq!(
            root,
            [
                "c:Dev->node_modules/c",
                "ghdep:Prod->node_modules/ghdep",
                "sshdep:Dev->node_modules/sshdep",
                "urldep:Prod->node_modules/urldep",
                "filedep:Prod->node_modules/filedep",
                "scoped-alias:Optional->node_modules/scoped-alias",
                "tgzdep:Prod->node_modules/tgzdep",
                "a:Prod->node_modules/a",
            ]
        );
        assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
    }

    #[test]
    fn helpers_handle_odd_paths() {
        assert_eq!(installed_name("node_modules/@s/n"), Some("@s/n"));
        assert_eq!(installed_name("a/node_modules/b/node_modules/c"), Some("c"));
        assert_eq!(installed_name("my_node_modules/x"), None);
        assert_eq!(installed_name("node_modules/"), None);
        assert_eq!(
            parent_dir("node_modules/a/node_modules/@s/b"),
            "node_modules/a"
        );
        assert_eq!(parent_dir("packages/a/node_modules/b"), "packages/a");
        assert_eq!(parent_dir("packages/a"), "packages");
        assert_eq!(parent_dir("node_modules/a"), "");
        assert_eq!(split_name_version("@s/n@^1.0.0"), ("@s/n", "^1.0.0"));
        assert_eq!(split_name_version("strip-ansi"), ("strip-ansi", ""));
        assert_eq!(split_name_version("@"), ("@", ""));
        let tarball = |name, version| Some((Cow::Borrowed(name), version));
        for (url, expected) in [
            (
                "https://r.example/npm/@s/n/-/n-1.0.0.tgz",
                tarball("@s/n", "1.0.0"),
            ),
            (
                "https://r.example/@s%2fn/-/n-1.0.0-rc.1.tgz",
                tarball("@s/n", "1.0.0-rc.1"),
            ),
            (
                "https://r.example/n/-/n-2.0.0.tgz?x=1#sha",
                tarball("n", "2.0.0"),
            ),
            ("https://r.example/n/-/other-2.0.0.tgz", None),
            ("https://r.example/n/-/n-.tgz", None),
            ("https://r.example/n/-/n-1.0.0.zip", None),
            ("file:n/-/n-1.0.0.tgz", None),
            ("https:///-/", None),
            ("https://r.example/@/-/-1.tgz", None),
        ] {
            assert_eq!(registry_tarball(url), expected, "{url}");
        }
    }

    #[test]
    fn workspace_globs() {
        let globs = WorkspaceGlobs {
            globs: Some(vec![
                "packages/*".into(),
                "./tools/**".into(),
                "docs".into(),
                "!packages/skip".into(),
            ]),
        };
        for (directory, expected) in [
            ("packages/a", true),
            ("packages/skip", false),
            ("packages/a/b", false),
            ("tools/x/y", true),
            ("docs", true),
            ("docs2", false),
            ("local/dir", false),
        ] {
            assert_eq!(globs.contains(directory), expected, "{directory}");
        }
        let hostile = WorkspaceGlobs {
            globs: Some(vec!["**/".repeat(200) + "a*a*a*a*a*a*a*a*b"]),
        };
        let long = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; 200].join("/");
        assert!(!hostile.contains(&long));
        let hidden = WorkspaceGlobs { globs: None };
        assert!(hidden.contains("packages/a") && !hidden.contains("../outside"));
    }

    #[test]
    fn duplicate_keys_keep_the_last_like_npm() {
        let text = br#"{"lockfileVersion": 3, "packages": {
            "": {"dependencies": {"a": "1"}},
            "node_modules/a": {"version": "1.0.0"},
            "node_modules/a": {"version": "6.6.6"}
        }}"#;
        let lockfile = LOCK
            .extract(&Input {
                path: Path::new("dup/package-lock.json"),
                contents: text,
            })
            .unwrap();
        let target = lockfile.importers[0].dependencies[0].target.unwrap();
        assert_eq!(lockfile.packages[target.0].version, "6.6.6");
        assert_eq!(lockfile.packages[target.0].line, 4);
        assert!(lockfile.warnings[0].contains("line 4: an install path is defined twice"));
    }

    #[test]
    fn a_link_cannot_make_an_installed_package_local() {
        let text = br#"{"lockfileVersion": 3, "packages": {
            "": {"dependencies": {"evil": "1", "alias": "1"}},
            "node_modules/evil": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/evil/-/evil-1.0.0.tgz"},
            "node_modules/alias": {"resolved": "node_modules/evil", "link": true}
        }}"#;
        let lockfile = LOCK
            .extract(&Input {
                path: Path::new("link/package-lock.json"),
                contents: text,
            })
            .unwrap();
        assert_eq!(lockfile.packages.len(), 1);
        assert_eq!(lockfile.packages[0].source, SourceKind::Registry);
        assert_eq!(
            lockfile.packages[0].install_path.as_deref(),
            Some("node_modules/evil")
        );
        let targets: Vec<_> = lockfile.importers[0]
            .dependencies
            .iter()
            .map(|d| d.target)
            .collect();
        assert_eq!(targets, [Some(PackageId(0)), Some(PackageId(0))]);
    }

    #[test]
    fn unknown_versions_and_missing_dependencies_warn() {
        let text = br#"{"lockfileVersion": 7, "packages": {
            "node_modules/a": {"version": "1.0.0", "dependencies": {"gone": "1"}}
        }}"#;
        let lockfile = LOCK
            .extract(&Input {
                path: Path::new("odd/package-lock.json"),
                contents: text,
            })
            .unwrap();
        let warnings = lockfile.warnings.join("\n");
        assert!(warnings.contains("lockfileVersion `7`"), "{warnings}");
        assert!(
            warnings.contains("1 dependencies are not installed"),
            "{warnings}"
        );
        assert_eq!(lockfile.importers[0].dependencies.len(), 1);
    }

    #[test]
    fn every_prefix_and_corrupted_byte_is_handled() {
        for name in ["alias-dev-optional.v1.json", "workspaces.v3.json"] {
            let path = fixture(name);
            let contents = std::fs::read(&path).unwrap();
            for end in (0..contents.len()).step_by(7) {
                let input = Input {
                    path: &path,
                    contents: &contents[..end],
                };
                let error = LOCK.extract(&input).unwrap_err();
                assert!(error.to_string().contains(name), "{name}[..{end}]: {error}");
            }
            for (index, garbage) in (0..contents.len())
                .step_by(5)
                .zip([b'\xff', b'{', b'"', b'0'].iter().cycle())
            {
                let mut corrupted = contents.clone();
                corrupted[index] = *garbage;
                let input = Input {
                    path: &path,
                    contents: &corrupted,
                };
                if let Err(error) = LOCK.extract(&input) {
                    assert!(error.to_string().contains(name), "{name}@{index}: {error}");
                }
            }
        }
    }

    #[test]
    fn byte_order_mark_and_crlf_keep_lines() {
        let path = fixture("alias-dev-optional.v3.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut contents = b"\xEF\xBB\xBF".to_vec();
        contents.extend_from_slice(text.replace('\n', "\r\n").as_bytes());
        let lockfile = LOCK
            .extract(&Input {
                path: &path,
                contents: &contents,
            })
            .unwrap();
        assert_eq!(package(&lockfile, "node_modules/ansi-regex").line, 21);
        assert_eq!(lockfile.packages.len(), 12);
    }

    /// Hostile sizes that a quadratic step would choke on: one entry declaring 50,000
    /// dependencies (some twice), and a v1 tree of 20,000 top-level packages whose root
    /// dependencies must all be inferred.
    #[test]
    fn hostile_sizes_stay_linear() {
        use std::fmt::Write as _;
        let mut text =
            String::from(r#"{"lockfileVersion": 3, "packages": {"": {"dependencies": {"#);
        for i in 0..50_000 {
            let _ = write!(text, r#""d{}": "1","#, i % 40_000);
        }
        text.push_str(r#""last": "1"}}}}"#);
        let lockfile = LOCK
            .extract(&Input {
                path: Path::new("wide/package-lock.json"),
                contents: text.as_bytes(),
            })
            .unwrap();
        assert_eq!(lockfile.importers[0].dependencies.len(), 40_001);

        let mut text = String::from(r#"{"lockfileVersion": 1, "dependencies": {"#);
        for i in 0..20_000 {
            let _ = write!(text, r#""p{i}": {{"version": "1.0.0"}},"#);
        }
        text.push_str(r#""q": {"version": "1.0.0"}}}"#);
        let lockfile = LOCK
            .extract(&Input {
                path: Path::new("flat/package-lock.json"),
                contents: text.as_bytes(),
            })
            .unwrap();
        assert_eq!(lockfile.importers[0].dependencies.len(), 20_001);
    }

    /// A 10,000-entry lockfile (5,000 hoisted packages in a shallow dependency tree, each with
    /// a nested copy of `nested`) is parsed into the inventory in under 50 ms of CPU in
    /// release mode.
    #[test]
    #[ignore = "timing: speed targets live in `cargo bench`; run explicitly in release mode"]
    fn large_lockfile_is_fast() {
        use std::fmt::Write as _;
        let hoisted = 5_000;
        let mut text = String::from(
            "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\"dependencies\": {\"pkg-0\": \"1\"}}",
        );
        for i in 0..hoisted {
            let _ = write!(
                text,
                ",\n    \"node_modules/pkg-{i}\": {{\n      \"version\": \"1.0.{i}\",\n      \"resolved\": \"https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.0.{i}.tgz\",\n      \"integrity\": \"sha512-Y38VPSHcqkFrCpFnQ9vuSXmquuv5oXOKpGeT6aGrr3o3Gc9AlVa6JBfUSOCnbxGGZF+/0ooI7KrPuUSztUdU5A==\",\n      \"license\": \"MIT\",\n      \"engines\": {{\"node\": \">=8\"}},\n      \"dependencies\": {{\"pkg-{}\": \"^1.0.0\", \"pkg-{}\": \"^1.0.0\", \"nested\": \"^2.0.0\"}}\n    }}",
                (2 * i + 1) % hoisted,
                (2 * i + 2) % hoisted
            );
            let _ = write!(
                text,
                ",\n    \"node_modules/pkg-{i}/node_modules/nested\": {{\"version\": \"2.0.{i}\", \"dev\": true}}"
            );
        }
        text.push_str("\n  }\n}\n");
        let input = Input {
            path: Path::new("big/package-lock.json"),
            contents: text.as_bytes(),
        };
        // On-CPU time of this thread (Linux; wall time elsewhere), so that the other
        // processes sharing the cores do not count. The kernel updates it about once per
        // scheduler tick, so the mean of several runs is taken.
        let on_cpu = || {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
                .map(std::time::Duration::from_nanos)
        };
        let measure = |run: &mut dyn FnMut()| {
            const RUNS: u32 = 5;
            let (cpu, wall) = (on_cpu(), std::time::Instant::now());
            for _ in 0..RUNS {
                run();
            }
            let total = match (cpu, on_cpu()) {
                (Some(before), Some(after)) => after.saturating_sub(before),
                _ => wall.elapsed(),
            };
            total / RUNS
        };
        let mut lockfiles = Vec::new();
        let extraction = measure(&mut || lockfiles.push(LOCK.extract(&input).unwrap()));
        let mut projects = Vec::new();
        let inventory = measure(&mut || {
            if let Some(lockfile) = lockfiles.pop() {
                projects.push(lockfile.into_inventory());
            }
        });
        assert_eq!(projects.len(), 5);
        for project in &projects {
            assert_eq!(project.packages.len(), 2 * hoisted);
            assert!(project.warnings.is_empty(), "{:?}", project.warnings);
            assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
            let nested = project.packages.iter().filter(|p| p.name == "nested");
            assert!(nested.clone().all(|p| p.dev) && nested.count() == hoisted);
        }
        // This extractor's share, and the whole with `into_inventory` (flags and paths, in
        // `model.rs`).
        let (limit, whole_limit) = if cfg!(debug_assertions) {
            (20_000, 40_000)
        } else {
            (50, 150)
        };
        assert!(
            extraction.as_millis() < limit,
            "extracting {} entries took {extraction:?}",
            2 * hoisted
        );
        assert!(
            (extraction + inventory).as_millis() < whole_limit,
            "{} entries took {extraction:?} + {inventory:?}",
            2 * hoisted
        );
    }
}
