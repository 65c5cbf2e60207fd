//! The one inventory model every extractor produces.
//!
//! Extractors fill a [`Lockfile`]: the project's importers (the root and workspace members),
//! the resolved packages, and the dependency edges between them, exactly as the manager
//! recorded them. [`Lockfile::into_inventory`] turns that graph into a [`Project`] whose
//! [`InventoryPackage`]s carry everything reports and checks need: dev/optional/peer flags
//! (recorded ones win; otherwise derived from the graph) and the dependency paths that pull
//! each package in.

use std::collections::VecDeque;
use std::path::PathBuf;

use bulwark_types::{Integrity, SourceKind};
use serde::Serialize;

/// How many dependency paths are kept per package (the shortest ones).
pub const MAX_PATHS_PER_PACKAGE: usize = 3;

/// Index of a package in [`Lockfile::packages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PackageId(pub usize);

/// The kind of a dependency edge, as declared by the dependent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyKind {
    /// `dependencies`.
    Prod,
    /// `devDependencies` (only importers have these in a lockfile).
    Dev,
    /// `optionalDependencies`.
    Optional,
    /// `peerDependencies` that the manager resolved.
    Peer,
}

/// One dependency edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The name the dependent requires, which is the alias for `npm:` aliases.
    pub name: String,
    /// Which dependency list the edge comes from.
    pub kind: DependencyKind,
    /// The package the edge resolves to; `None` when unresolved (an optional dependency for
    /// another platform, an unmet peer, a link to a workspace member).
    pub target: Option<PackageId>,
}

/// The dev/optional/peer flags as the manager recorded them; `None` means not recorded, and
/// the flag is derived from the dependency graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// Only needed for development.
    pub dev: Option<bool>,
    /// Only pulled in through optional dependencies.
    pub optional: Option<bool>,
    /// Only pulled in through peer dependencies.
    pub peer: Option<bool>,
}

/// A resolved package as an extractor reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The real package name (an alias resolved to what it points at).
    pub name: String,
    /// The resolved version.
    pub version: String,
    /// The name it is installed and required under, when that differs from `name` (`npm:`
    /// aliases).
    pub alias: Option<String>,
    /// The URL or specifier it was resolved from, as recorded.
    pub resolved: Option<String>,
    /// The parsed integrity value, as recorded.
    pub integrity: Option<Integrity>,
    /// Where it comes from.
    pub source: SourceKind,
    /// Flags as recorded.
    pub flags: Flags,
    /// Its dependency edges (not its dev dependencies: those are never installed).
    pub dependencies: Vec<Dependency>,
    /// The 1-based line of the lockfile where it is defined.
    pub line: u32,
    /// Where it sits in `node_modules` (npm lockfiles and installed trees), relative to the
    /// project root.
    pub install_path: Option<String>,
    /// The file that defines it when that is not [`Lockfile::file`] (an installed package's own
    /// `package.json`); `line` is then a line of this file.
    pub location_file: Option<PathBuf>,
}

impl Package {
    /// A registry package with nothing else recorded yet.
    #[must_use]
    pub fn new(name: impl Into<String>, version: impl Into<String>, line: u32) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            alias: None,
            resolved: None,
            integrity: None,
            source: SourceKind::Registry,
            flags: Flags::default(),
            dependencies: Vec::new(),
            line,
            install_path: None,
            location_file: None,
        }
    }
}

/// The project root or one workspace member: where dependency paths start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Importer {
    /// Directory relative to the project root (`""` for the root itself).
    pub path: String,
    /// Its package name, if known.
    pub name: Option<String>,
    /// Its version, if known.
    pub version: Option<String>,
    /// Its direct dependencies, dev dependencies included.
    pub dependencies: Vec<Dependency>,
}

impl Importer {
    /// How the importer appears as the first element of a dependency path.
    #[must_use]
    pub fn label(&self) -> String {
        match (&self.name, self.path.as_str()) {
            (Some(name), _) => name.clone(),
            (None, "" | ".") => "(root)".to_owned(),
            (None, path) => path.to_owned(),
        }
    }
}

/// What one extractor read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// The file it was read from.
    pub file: PathBuf,
    /// The extractor's name, e.g. `npm/package-lock`.
    pub format: &'static str,
    /// The format version as the file states it (`3`, `9.0`, `8`, …).
    pub format_version: String,
    /// The root and workspace members.
    pub importers: Vec<Importer>,
    /// Every resolved package, workspace members excluded.
    pub packages: Vec<Package>,
    /// Things worth telling the user that did not stop extraction.
    pub warnings: Vec<String>,
}

/// Where a package is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file (a lockfile, or an installed `package.json`).
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
}

/// One package of a project's inventory, ready for checks and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryPackage {
    /// The real package name.
    pub name: String,
    /// The resolved version.
    pub version: String,
    /// The alias it is installed under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The resolved URL or specifier.
    pub resolved: Option<String>,
    /// The integrity value.
    pub integrity: Option<Integrity>,
    /// Where it comes from.
    pub source: SourceKind,
    /// Only needed for development.
    pub dev: bool,
    /// Only pulled in through optional dependencies.
    pub optional: bool,
    /// Only pulled in through peer dependencies.
    pub peer: bool,
    /// Up to [`MAX_PATHS_PER_PACKAGE`] shortest dependency paths from an importer, each a list
    /// of `name@version` steps starting with the importer's label.
    pub paths: Vec<Vec<String>>,
    /// Where it is defined.
    pub location: Location,
    /// Where it sits in `node_modules`, if the format says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_path: Option<String>,
    /// Indices (into the project's packages) of its resolved dependencies.
    #[serde(skip)]
    pub dependencies: Vec<usize>,
}

impl InventoryPackage {
    /// `name@version`.
    #[must_use]
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// One project's inventory from one lockfile or installed tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The directory the lockfile or tree belongs to.
    pub root: PathBuf,
    /// The lockfile, or the `node_modules` directory for installed trees.
    pub file: PathBuf,
    /// The extractor's name.
    pub format: &'static str,
    /// The format version.
    pub format_version: String,
    /// Labels of the root and workspace members.
    pub importers: Vec<String>,
    /// The packages.
    pub packages: Vec<InventoryPackage>,
    /// Non-fatal notes from extraction.
    pub warnings: Vec<String>,
    /// Indices of the root importer's direct dependencies (for the CycloneDX graph).
    #[serde(skip)]
    pub direct: Vec<usize>,
}

impl Lockfile {
    /// An empty lockfile model for `file`.
    #[must_use]
    pub fn new(
        file: impl Into<PathBuf>,
        format: &'static str,
        format_version: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            format,
            format_version: format_version.into(),
            importers: Vec::new(),
            packages: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Derives flags and dependency paths and produces the project inventory.
    #[must_use]
    pub fn into_inventory(self) -> Project {
        let count = self.packages.len();
        let valid = |dep: &&Dependency| dep.target.is_some_and(|PackageId(i)| i < count);
        let reach_without = |excluded: DependencyKind| {
            let mut seen = vec![false; count];
            let mut queue: VecDeque<usize> = self
                .importers
                .iter()
                .flat_map(|importer| importer.dependencies.iter())
                .filter(valid)
                .filter(|dep| dep.kind != excluded)
                .filter_map(|dep| dep.target.map(|PackageId(i)| i))
                .collect();
            while let Some(index) = queue.pop_front() {
                if std::mem::replace(&mut seen[index], true) {
                    continue;
                }
                for dep in self.packages[index].dependencies.iter().filter(valid) {
                    if dep.kind != excluded
                        && let Some(PackageId(next)) = dep.target
                        && !seen[next]
                    {
                        queue.push_back(next);
                    }
                }
            }
            seen
        };
        let any_reach = reach_without_none(&self.importers, &self.packages);
        let non_dev = reach_without(DependencyKind::Dev);
        let non_optional = reach_without(DependencyKind::Optional);
        let non_peer = reach_without(DependencyKind::Peer);
        let paths = dependency_paths(&self.importers, &self.packages);

        let root = self.file.parent().map(PathBuf::from).unwrap_or_default();
        let direct = self
            .importers
            .iter()
            .find(|importer| importer.path.is_empty() || importer.path == ".")
            .or(self.importers.first())
            .map(|importer| {
                let mut direct: Vec<usize> = importer
                    .dependencies
                    .iter()
                    .filter(valid)
                    .filter_map(|dep| dep.target.map(|PackageId(i)| i))
                    .collect();
                direct.sort_unstable();
                direct.dedup();
                direct
            })
            .unwrap_or_default();
        let file = self.file.clone();
        let packages = self
            .packages
            .into_iter()
            .zip(paths)
            .enumerate()
            .map(|(index, (package, paths))| {
                let derive = |recorded: Option<bool>, reachable_without: &[bool]| {
                    recorded.unwrap_or(any_reach[index] && !reachable_without[index])
                };
                let mut dependencies: Vec<usize> = package
                    .dependencies
                    .iter()
                    .filter(valid)
                    .filter_map(|dep| dep.target.map(|PackageId(i)| i))
                    .collect();
                dependencies.sort_unstable();
                dependencies.dedup();
                InventoryPackage {
                    dev: derive(package.flags.dev, &non_dev),
                    optional: derive(package.flags.optional, &non_optional),
                    peer: derive(package.flags.peer, &non_peer),
                    name: package.name,
                    version: package.version,
                    alias: package.alias,
                    resolved: package.resolved,
                    integrity: package.integrity,
                    source: package.source,
                    paths,
                    location: Location {
                        file: package.location_file.unwrap_or_else(|| file.clone()),
                        line: package.line,
                    },
                    install_path: package.install_path,
                    dependencies,
                }
            })
            .collect();
        Project {
            root,
            file: self.file,
            format: self.format,
            format_version: self.format_version,
            importers: self.importers.iter().map(Importer::label).collect(),
            packages,
            warnings: self.warnings,
            direct,
        }
    }
}

/// Which packages are reachable from any importer at all.
fn reach_without_none(importers: &[Importer], packages: &[Package]) -> Vec<bool> {
    let mut seen = vec![false; packages.len()];
    let mut queue: VecDeque<usize> = importers
        .iter()
        .flat_map(|importer| importer.dependencies.iter())
        .filter_map(|dep| dep.target.map(|PackageId(i)| i))
        .filter(|&i| i < packages.len())
        .collect();
    while let Some(index) = queue.pop_front() {
        if std::mem::replace(&mut seen[index], true) {
            continue;
        }
        queue.extend(
            packages[index]
                .dependencies
                .iter()
                .filter_map(|dep| dep.target.map(|PackageId(i)| i))
                .filter(|&i| i < packages.len() && !seen[i]),
        );
    }
    seen
}

/// A step of a breadth-first path search: the package reached and the step it came from.
struct Step {
    package: usize,
    importer: usize,
    parent: Option<usize>,
}

/// Up to [`MAX_PATHS_PER_PACKAGE`] shortest simple paths from the importers to each package.
fn dependency_paths(importers: &[Importer], packages: &[Package]) -> Vec<Vec<Vec<String>>> {
    let count = packages.len();
    let mut steps: Vec<Step> = Vec::new();
    let mut reached: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut queue = VecDeque::new();
    for (importer_index, importer) in importers.iter().enumerate() {
        for dep in &importer.dependencies {
            if let Some(PackageId(target)) = dep.target
                && target < count
                && reached[target].len() < MAX_PATHS_PER_PACKAGE
                && !reached[target]
                    .iter()
                    .any(|&s| steps[s].parent.is_none() && steps[s].importer == importer_index)
            {
                steps.push(Step {
                    package: target,
                    importer: importer_index,
                    parent: None,
                });
                reached[target].push(steps.len() - 1);
                queue.push_back(steps.len() - 1);
            }
        }
    }
    while let Some(step_index) = queue.pop_front() {
        let package = steps[step_index].package;
        let importer = steps[step_index].importer;
        for dep in &packages[package].dependencies {
            let Some(PackageId(target)) = dep.target else {
                continue;
            };
            if target >= count || reached[target].len() >= MAX_PATHS_PER_PACKAGE {
                continue;
            }
            if path_contains(&steps, step_index, target) {
                continue;
            }
            steps.push(Step {
                package: target,
                importer,
                parent: Some(step_index),
            });
            reached[target].push(steps.len() - 1);
            queue.push_back(steps.len() - 1);
        }
    }
    // Each label is formatted once and cloned into the paths that pass through it.
    let labels: Vec<String> = packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    let importer_labels: Vec<String> = importers.iter().map(Importer::label).collect();
    reached
        .iter()
        .map(|ends| {
            ends.iter()
                .map(|&end| {
                    let mut path = Vec::with_capacity(8);
                    let mut cursor = Some(end);
                    while let Some(index) = cursor {
                        path.push(labels[steps[index].package].clone());
                        cursor = steps[index].parent;
                    }
                    path.push(importer_labels[steps[end].importer].clone());
                    path.reverse();
                    path
                })
                .collect()
        })
        .collect()
}

fn path_contains(steps: &[Step], mut index: usize, package: usize) -> bool {
    loop {
        if steps[index].package == package {
            return true;
        }
        match steps[index].parent {
            Some(parent) => index = parent,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, kind: DependencyKind, target: usize) -> Dependency {
        Dependency {
            name: name.to_owned(),
            kind,
            target: Some(PackageId(target)),
        }
    }

    /// root -> a (prod) -> c ; root -> b (dev) -> c, d ; a -> e (optional); b -> a (cycle-free)
    fn sample() -> Lockfile {
        let mut lock = Lockfile::new("/p/package-lock.json", "test", "1");
        lock.importers.push(Importer {
            path: String::new(),
            name: Some("app".into()),
            version: None,
            dependencies: vec![
                dep("a", DependencyKind::Prod, 0),
                dep("b", DependencyKind::Dev, 1),
            ],
        });
        let mut packages: Vec<Package> = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(i, n)| Package::new(*n, "1.0.0", i as u32 + 1))
            .collect();
        packages[0].dependencies = vec![
            dep("c", DependencyKind::Prod, 2),
            dep("e", DependencyKind::Optional, 4),
        ];
        packages[1].dependencies = vec![
            dep("c", DependencyKind::Prod, 2),
            dep("d", DependencyKind::Prod, 3),
            dep("a", DependencyKind::Prod, 0),
        ];
        packages[2].dependencies = vec![dep("a", DependencyKind::Prod, 0)];
        lock.packages = packages;
        lock
    }

    #[test]
    fn derives_flags_from_graph() {
        let project = sample().into_inventory();
        let flags: Vec<(String, bool, bool)> = project
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.dev, p.optional))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("a".into(), false, false),
                ("b".into(), true, false),
                ("c".into(), false, false),
                ("d".into(), true, false),
                ("e".into(), false, true),
            ]
        );
        assert_eq!(project.direct, vec![0, 1]);
        assert_eq!(project.root, PathBuf::from("/p"));
    }

    #[test]
    fn recorded_flags_win() {
        let mut lock = sample();
        lock.packages[3].flags.dev = Some(false);
        let project = lock.into_inventory();
        assert!(!project.packages[3].dev);
    }

    #[test]
    fn shortest_paths_first_and_simple() {
        let project = sample().into_inventory();
        assert_eq!(
            project.packages[2].paths[0],
            vec!["app", "a@1.0.0", "c@1.0.0"]
        );
        assert_eq!(
            project.packages[2].paths[1],
            vec!["app", "b@1.0.0", "c@1.0.0"]
        );
        for package in &project.packages {
            assert!(!package.paths.is_empty(), "{} has a path", package.name);
            assert!(package.paths.len() <= MAX_PATHS_PER_PACKAGE);
            for path in &package.paths {
                let mut steps = path.clone();
                steps.sort();
                steps.dedup();
                assert_eq!(steps.len(), path.len(), "path {path:?} repeats a step");
            }
        }
    }

    #[test]
    fn unreachable_packages_are_not_flagged() {
        let mut lock = sample();
        lock.packages.push(Package::new("orphan", "1.0.0", 9));
        let project = lock.into_inventory();
        let orphan = project.packages.last().unwrap();
        assert!(!orphan.dev && !orphan.optional && orphan.paths.is_empty());
    }
}
