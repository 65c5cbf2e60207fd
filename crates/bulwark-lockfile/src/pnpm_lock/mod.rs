//! `pnpm-lock.yaml` lockfileVersion 5.x, 6.0, 7.0 and 9.0.
//!
//! pnpm records every package *instance*: one version of a package resolved with one set of
//! peers (and patches) is one entry, so `react-dom@18.2.0` resolved against two `react`
//! versions is two packages here, each with its own edges. v5/v6 keep instance and metadata in
//! one `packages:` entry; v7/v9 split metadata (`packages:`) from instances (`snapshots:`).
//! Importers (the root and workspace members) list their direct dependencies; `link:`
//! references point at workspace members, which are not packages.
//!
//! pnpm records the dev and optional flags of each package in v5/v6 (`dev:`, `optional:`) and
//! only the optional one in v7/v9; the rest are derived from the graph by
//! [`Lockfile::into_inventory`]. An edge to a dependency that the dependent lists in
//! `peerDependencies` is a [`DependencyKind::Peer`] edge.
//!
//! A lockfile may hold two YAML documents (pnpm's env lockfile of config and package-manager
//! dependencies, then the project's); the project's document is the one read.

mod encoding;
mod fast_yaml;
mod keys;
mod lines;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use bulwark_types::{Integrity, SourceKind};
use serde::Deserialize as _;

use crate::registry::{file_name, inside_node_modules};
use crate::{
    Dependency, DependencyKind, ExtractError, Extractor, Importer, Input, Lockfile, Package,
    PackageId,
};
use encoding::{DependencyRef, Entries, Text, WireLockfile, WirePackage, WireSnapshot};
use keys::{KeyStyle, Reference};
use lines::{Document, SectionLines};

/// At most this many YAML documents are read from one lockfile (pnpm writes one or two).
const MAX_DOCUMENTS: usize = 8;

/// Flow collections (`[`, `{`) nested deeper than this are refused before `serde_norway`
/// sees them: libyaml's cost grows with the square of the flow depth, so a small hostile file
/// could otherwise take minutes. pnpm nests them two deep.
const MAX_FLOW_DEPTH: u32 = 1000;

/// At most this many individual warnings are kept; the rest are counted.
const MAX_WARNINGS: usize = 50;

/// Extractor for `pnpm-lock.yaml`.
#[derive(Debug, Clone, Copy)]
pub struct PnpmLockExtractor;

impl Extractor for PnpmLockExtractor {
    fn name(&self) -> &'static str {
        "pnpm/lock"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "pnpm-lock.yaml" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        extract(input, Parser::Fast)
    }
}

/// Which YAML reader to try first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    /// [`fast_yaml`], falling back to `serde_norway`.
    Fast,
    /// `serde_norway` only (tests compare the two).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "only tests force the slow path")
    )]
    SerdeNorway,
}

fn extract(input: &Input<'_>, parser: Parser) -> Result<Lockfile, ExtractError> {
    let text = input.text()?;
    let (wire, document, key_lines, skipped) = select_document(input.path, text, parser)?;
    let version = wire.lockfile_version.as_ref().map(|v| v.0.as_ref());
    let Some(version) = version else {
        return Err(ExtractError::at_line(
            input.path,
            document.first_line,
            "not a pnpm lockfile: `lockfileVersion` is missing",
        ));
    };
    let style = key_style(version).ok_or_else(|| {
        ExtractError::at_line(
            input.path,
            document.first_line,
            format!("unsupported pnpm lockfileVersion `{version}` (supported: 5.x, 6.x, 7.0, 9.0)"),
        )
    })?;
    let mut lockfile = Lockfile::new(input.path, PnpmLockExtractor.name(), version);
    let (packages_lines, snapshots_lines) = match key_lines {
        Some(found) => (
            SectionLines::from_keys(found.packages),
            SectionLines::from_keys(found.snapshots),
        ),
        None => (
            lines::section_lines(text, document, "packages"),
            if style == KeyStyle::At {
                lines::section_lines(text, document, "snapshots")
            } else {
                SectionLines::default()
            },
        ),
    };
    let mut converter = Converter {
        path: input.path,
        style,
        document,
        packages_lines,
        snapshots_lines,
        warnings: Warnings::default(),
        key_buffer: String::new(),
    };
    if let Some(skipped) = skipped {
        converter.warnings.push(skipped);
    }
    converter.convert(&wire, &mut lockfile)?;
    lockfile.warnings = converter.warnings.finish();
    Ok(lockfile)
}

/// The key style of a `lockfileVersion`, or `None` if unsupported.
fn key_style(version: &str) -> Option<KeyStyle> {
    let major = version.split('.').next()?.trim();
    match major {
        "5" => Some(KeyStyle::Slash),
        "6" => Some(KeyStyle::SlashAt),
        "7" | "9" => Some(KeyStyle::At),
        _ => None,
    }
}

/// The chosen document, where it is, the key lines if the fast reader found them, and a note
/// about a skipped env document.
type Selected<'a> = (
    WireLockfile<'a>,
    Document,
    Option<fast_yaml::KeyLines<'a>>,
    Option<String>,
);

/// Parses every YAML document and picks the project's lockfile: the last one with importers
/// or packages that is not pnpm's env lockfile. Returns it, where it is, and a note about a
/// skipped env document.
///
/// A single document in the subset of YAML pnpm writes is read by [`fast_yaml`]; anything
/// else, and every error, goes through `serde_norway`.
fn select_document<'a>(
    path: &Path,
    text: &'a str,
    parser: Parser,
) -> Result<Selected<'a>, ExtractError> {
    if parser == Parser::Fast
        && let Ok((wire, key_lines)) = fast_yaml::deserialize::<WireLockfile<'a>>(text)
    {
        let document = Document {
            start: 0,
            end: text.len(),
            first_line: 1,
        };
        return Ok((wire, document, Some(key_lines), None));
    }
    if let Some(line) = flow_too_deep(text) {
        return Err(ExtractError::at_line(
            path,
            line,
            format!("YAML flow collections nested more than {MAX_FLOW_DEPTH} levels deep"),
        ));
    }
    let mut parsed = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        if index >= MAX_DOCUMENTS {
            return Err(ExtractError::new(
                path,
                format!("more than {MAX_DOCUMENTS} YAML documents; a pnpm lockfile has one or two"),
            ));
        }
        let wire = WireLockfile::deserialize(document)
            .map_err(|error| ExtractError::yaml(path, &error))?;
        parsed.push(wire);
    }
    let has_graph = |wire: &WireLockfile<'_>| {
        wire.importers.is_some()
            || wire.packages.is_some()
            || wire.snapshots.is_some()
            || wire.dependencies.is_some()
            || wire.dev_dependencies.is_some()
            || wire.optional_dependencies.is_some()
    };
    let chosen = parsed
        .iter()
        .rposition(|wire| has_graph(wire) && !is_env_lockfile(wire))
        .or_else(|| parsed.iter().rposition(has_graph))
        .or_else(|| {
            parsed
                .iter()
                .rposition(|wire| wire.lockfile_version.is_some())
        })
        .ok_or_else(|| {
            ExtractError::new(
                path,
                "not a pnpm lockfile: no YAML document with `lockfileVersion`, `importers` or `packages`",
            )
        })?;
    let skipped = parsed
        .iter()
        .enumerate()
        .find(|&(index, wire)| index != chosen && is_env_lockfile(wire))
        .map(|(index, wire)| {
            let count = wire
                .snapshots
                .as_ref()
                .map(|s| s.0.len())
                .or_else(|| wire.packages.as_ref().map(|p| p.0.len()))
                .unwrap_or(0);
            format!(
                "YAML document {} is pnpm's env lockfile (config and package-manager \
                 dependencies, {count} packages); they are not part of this inventory",
                index + 1
            )
        });
    let ranges = lines::documents(text);
    let document = if ranges.len() == parsed.len() {
        ranges[chosen]
    } else {
        Document {
            start: 0,
            end: text.len(),
            first_line: 1,
        }
    };
    let wire = parsed.swap_remove(chosen);
    Ok((wire, document, None, skipped))
}

/// The line where `[`/`{` nesting first exceeds [`MAX_FLOW_DEPTH`], counting every bracket
/// (quoted ones too, which can only over-count).
fn flow_too_deep(text: &str) -> Option<u32> {
    let mut depth = 0u32;
    let mut line = 1u32;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(line);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line = line.saturating_add(1),
            _ => {}
        }
    }
    None
}

/// pnpm's env lockfile: its importers only hold config and package-manager dependencies.
fn is_env_lockfile(wire: &WireLockfile<'_>) -> bool {
    wire.importers.as_ref().is_some_and(|importers| {
        !importers.0.is_empty()
            && importers.0.iter().all(|(_, importer)| {
                (importer.config_dependencies.is_some()
                    || importer.package_manager_dependencies.is_some())
                    && importer.dependencies.is_none()
                    && importer.dev_dependencies.is_none()
                    && importer.optional_dependencies.is_none()
            })
    })
}

/// Non-fatal notes, bounded.
#[derive(Debug, Default)]
struct Warnings {
    kept: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, warning: String) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(warning);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.kept
                .push(format!("… and {} more warnings like these", self.dropped));
        }
        self.kept
    }
}

/// One package instance before conversion: its key, metadata and (v7/v9) snapshot.
struct Instance<'w, 'a> {
    key: &'w str,
    metadata: Option<&'w WirePackage<'a>>,
    snapshot: Option<&'w WireSnapshot<'a>>,
    line: u32,
}

/// Turns the chosen wire document into the model.
struct Converter<'p, 't> {
    path: &'p Path,
    style: KeyStyle,
    document: Document,
    packages_lines: SectionLines<'t>,
    snapshots_lines: SectionLines<'t>,
    warnings: Warnings,
    /// Reused to build the keys that dependency references point at.
    key_buffer: String,
}

impl Converter<'_, '_> {
    fn convert(
        &mut self,
        wire: &WireLockfile<'_>,
        lockfile: &mut Lockfile,
    ) -> Result<(), ExtractError> {
        let instances = self.instances(wire)?;
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(instances.len());
        for (position, instance) in instances.iter().enumerate() {
            if index.insert(instance.key, position).is_some() {
                return Err(ExtractError::at_line(
                    self.path,
                    instance.line,
                    format!("package key `{}` appears twice", instance.key),
                ));
            }
        }
        lockfile.packages.reserve(instances.len());
        for instance in &instances {
            let package = self.package(instance, &index)?;
            lockfile.packages.push(package);
        }
        lockfile.importers = self.importers(wire, &index);
        assign_aliases(lockfile);
        Ok(())
    }

    /// The package instances in file order: `packages:` entries for v5/v6; `snapshots:`
    /// entries joined with their metadata for v7/v9, then metadata nothing refers to.
    fn instances<'w, 'a>(
        &mut self,
        wire: &'w WireLockfile<'a>,
    ) -> Result<Vec<Instance<'w, 'a>>, ExtractError> {
        let packages = wire.packages.as_ref().map_or(&[][..], |p| &p.0[..]);
        let first_line = self.document.first_line;
        if self.style != KeyStyle::At {
            let mut instances = Vec::with_capacity(packages.len());
            for (key, metadata) in packages {
                instances.push(Instance {
                    key,
                    metadata: Some(metadata),
                    snapshot: None,
                    line: self.packages_lines.line_of(key, first_line),
                });
            }
            return Ok(instances);
        }
        let mut metadata_index: HashMap<&str, usize> = HashMap::with_capacity(packages.len());
        let mut metadata_lines = Vec::with_capacity(packages.len());
        for (position, (key, _)) in packages.iter().enumerate() {
            let line = self.packages_lines.line_of(key, first_line);
            metadata_lines.push(line);
            if metadata_index.insert(key, position).is_some() {
                return Err(ExtractError::at_line(
                    self.path,
                    line,
                    format!("package key `{key}` appears twice in `packages:`"),
                ));
            }
        }
        let snapshots = wire.snapshots.as_ref().map_or(&[][..], |s| &s.0[..]);
        let mut used = vec![false; packages.len()];
        let mut instances = Vec::with_capacity(snapshots.len().max(packages.len()));
        for (key, snapshot) in snapshots {
            let line = self.snapshots_lines.line_of(key, first_line);
            let metadata = metadata_index
                .get(keys::metadata_key(key))
                .map(|&position| {
                    used[position] = true;
                    &packages[position].1
                });
            if metadata.is_none() {
                self.warnings.push(format!(
                    "line {line}: snapshot `{key}` has no `packages:` entry (no resolution or integrity)"
                ));
            }
            instances.push(Instance {
                key,
                metadata,
                snapshot: Some(snapshot),
                line,
            });
        }
        for (((key, metadata), used), line) in packages.iter().zip(used).zip(metadata_lines) {
            if !used {
                if wire.snapshots.is_some() {
                    self.warnings.push(format!(
                        "line {line}: package `{key}` has no `snapshots:` entry (its dependencies are unknown)"
                    ));
                }
                instances.push(Instance {
                    key,
                    metadata: Some(metadata),
                    snapshot: None,
                    line,
                });
            }
        }
        Ok(instances)
    }

    /// Converts one instance.
    fn package(
        &mut self,
        instance: &Instance<'_, '_>,
        index: &HashMap<&str, usize>,
    ) -> Result<Package, ExtractError> {
        let key = instance.key;
        let line = instance.line;
        let parts = keys::parse_key(key, self.style);
        let metadata = instance.metadata;
        let name = metadata
            .and_then(|m| m.name.as_ref())
            .map(|n| n.0.as_ref())
            .or(parts.map(|p| p.name))
            .ok_or_else(|| {
                ExtractError::at_line(
                    self.path,
                    line,
                    format!("cannot tell the package name of key `{key}` (and it has no `name:`)"),
                )
            })?;
        // pnpm 8 records no version for directories: the key (`file:dir`) is what it
        // installs, as the v9 key `name@file:dir` says.
        let version = metadata
            .and_then(|m| m.version.as_ref())
            .map(|v| v.0.as_ref())
            .or(parts.map(|p| p.version))
            .unwrap_or(key);
        let mut package = Package::new(name, version, line);
        self.resolution(&mut package, metadata, key);
        package.flags.dev = metadata.and_then(|m| m.dev);
        package.flags.optional = instance
            .snapshot
            .and_then(|s| s.optional)
            .or(metadata.and_then(|m| m.optional));
        let (dependencies, optional) = match instance.snapshot {
            Some(snapshot) => (&snapshot.dependencies, &snapshot.optional_dependencies),
            None => match metadata {
                Some(m) if self.style != KeyStyle::At => {
                    (&m.dependencies, &m.optional_dependencies)
                }
                _ => (&None, &None),
            },
        };
        let peers = metadata.and_then(|m| m.peer_dependencies.as_ref());
        let is_peer =
            |name: &str| peers.is_some_and(|p| p.0.iter().any(|(peer, _)| &**peer == name));
        let mut edges = Vec::with_capacity(
            dependencies.as_ref().map_or(0, |d| d.0.len())
                + optional.as_ref().map_or(0, |d| d.0.len()),
        );
        for (list, kind) in [
            (dependencies, DependencyKind::Prod),
            (optional, DependencyKind::Optional),
        ] {
            for (dependency, reference) in list.iter().flat_map(|entries| &entries.0) {
                let kind = if kind == DependencyKind::Prod && is_peer(dependency) {
                    DependencyKind::Peer
                } else {
                    kind
                };
                let target = self.resolve(dependency, reference, index, key, line);
                edges.push(Dependency {
                    name: dependency.to_string(),
                    kind,
                    target,
                });
            }
        }
        package.dependencies = edges;
        Ok(package)
    }

    /// Fills source, resolved and integrity from `resolution:`.
    fn resolution(&mut self, package: &mut Package, metadata: Option<&WirePackage<'_>>, key: &str) {
        let line = package.line;
        let Some(resolution) = metadata.and_then(|m| m.resolution.as_ref()) else {
            package.source = SourceKind::Unknown;
            if metadata.is_some() {
                self.warnings
                    .push(format!("line {line}: `{key}` has no `resolution:`"));
            }
            return;
        };
        if let Some(integrity) = &resolution.integrity {
            match Integrity::parse_sri(integrity) {
                Ok(parsed) => package.integrity = Some(parsed),
                Err(error) => self.warnings.push(format!(
                    "line {line}: `{key}` has an unreadable integrity `{integrity}`: {error}"
                )),
            }
        }
        let (source, resolved) = match resolution.kind.as_deref() {
            Some("directory") => (
                SourceKind::File,
                resolution.directory.as_deref().map(String::from),
            ),
            Some("git") => {
                let resolved = match (&resolution.repo, &resolution.commit) {
                    (Some(repo), Some(commit)) => Some(format!("{repo}#{commit}")),
                    (Some(repo), None) => Some(repo.to_string()),
                    _ => None,
                };
                (SourceKind::Git, resolved)
            }
            _ => match &resolution.tarball {
                Some(tarball) => {
                    let source = match SourceKind::classify(tarball) {
                        // A path without a scheme is a tarball in the project.
                        SourceKind::Unknown if !tarball.contains(':') => SourceKind::File,
                        source => source,
                    };
                    (source, Some(tarball.to_string()))
                }
                None if resolution.integrity.is_some() && resolution.kind.is_none() => {
                    (SourceKind::Registry, None)
                }
                None => (SourceKind::Unknown, None),
            },
        };
        package.source = source;
        package.resolved = resolved;
        if let Some(subdirectory) = &resolution.path
            && let Some(resolved) = &mut package.resolved
        {
            resolved.push_str("&path:");
            resolved.push_str(subdirectory);
        }
    }

    /// The target of one edge, warning when the lockfile does not have it.
    fn resolve(
        &mut self,
        name: &str,
        reference: &str,
        index: &HashMap<&str, usize>,
        from: &str,
        line: u32,
    ) -> Option<PackageId> {
        match keys::reference_key_in(name, reference, self.style, &mut self.key_buffer) {
            Reference::Link => None,
            Reference::Key(key) => {
                let target = index.get(key.as_ref()).copied().map(PackageId);
                if target.is_none() {
                    self.warnings.push(format!(
                        "line {line}: `{from}` depends on `{name}` at `{reference}`, which is not in the lockfile"
                    ));
                }
                target
            }
        }
    }

    /// The importers: the `importers:` map, or the top-level fields of a single project.
    fn importers(
        &mut self,
        wire: &WireLockfile<'_>,
        index: &HashMap<&str, usize>,
    ) -> Vec<Importer> {
        let line = self.document.first_line;
        match &wire.importers {
            Some(importers) => importers
                .0
                .iter()
                .map(|(path, importer)| {
                    let path = if &**path == "." { "" } else { &**path };
                    self.importer(
                        path,
                        [
                            (&importer.dependencies, DependencyKind::Prod),
                            (&importer.optional_dependencies, DependencyKind::Optional),
                            (&importer.dev_dependencies, DependencyKind::Dev),
                        ],
                        index,
                        line,
                    )
                })
                .collect(),
            None => vec![self.importer(
                "",
                [
                    (&wire.dependencies, DependencyKind::Prod),
                    (&wire.optional_dependencies, DependencyKind::Optional),
                    (&wire.dev_dependencies, DependencyKind::Dev),
                ],
                index,
                line,
            )],
        }
    }

    fn importer(
        &mut self,
        path: &str,
        lists: [(
            &Option<Entries<Text<'_>, DependencyRef<'_>>>,
            DependencyKind,
        ); 3],
        index: &HashMap<&str, usize>,
        line: u32,
    ) -> Importer {
        let label: Cow<'_, str> = if path.is_empty() {
            Cow::Borrowed("the root importer")
        } else {
            Cow::Owned(format!("importer `{path}`"))
        };
        let mut dependencies = Vec::new();
        for (list, kind) in lists {
            for (name, reference) in list.iter().flat_map(|entries| &entries.0) {
                let target = self.resolve(name, &reference.version, index, &label, line);
                dependencies.push(Dependency {
                    name: name.to_string(),
                    kind,
                    target,
                });
            }
        }
        Importer {
            path: path.to_owned(),
            name: None,
            version: None,
            dependencies,
        }
    }
}

/// Records the alias of packages that a dependent requires under another name
/// (`strip: npm:strip-ansi@6.0.1`); the first such name wins.
fn assign_aliases(lockfile: &mut Lockfile) {
    let Lockfile {
        importers,
        packages,
        ..
    } = lockfile;
    let mut aliases: Vec<Option<String>> = vec![None; packages.len()];
    let edges = importers
        .iter()
        .flat_map(|importer| &importer.dependencies)
        .chain(packages.iter().flat_map(|package| &package.dependencies));
    for edge in edges {
        if let Some(PackageId(target)) = edge.target
            && let Some(package) = packages.get(target)
            && package.name != edge.name
            && let Some(slot @ None) = aliases.get_mut(target)
        {
            *slot = Some(edge.name.clone());
        }
    }
    for (package, alias) in packages.iter_mut().zip(aliases) {
        if package.alias.is_none() {
            package.alias = alias;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;
    use crate::Project;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pnpm")
            .join(name)
    }

    fn real(folder: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/lockfiles-real")
            .join(folder)
            .join("pnpm-lock.yaml")
    }

    fn run(path: &Path, parser: Parser) -> Result<Lockfile, ExtractError> {
        let contents = std::fs::read(path).unwrap();
        extract(
            &Input {
                path,
                contents: &contents,
            },
            parser,
        )
    }

    fn load(name: &str) -> Lockfile {
        let path = fixture(name);
        PnpmLockExtractor
            .extract(&Input {
                path: &path,
                contents: &std::fs::read(&path).unwrap(),
            })
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// `name@version source dev optional peer alias` of every package, sorted.
    fn rows(project: &Project) -> Vec<String> {
        let mut rows: Vec<String> = project
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{} {:?} dev={} optional={} peer={} alias={}",
                    p.id(),
                    p.source,
                    p.dev,
                    p.optional,
                    p.peer,
                    p.alias.as_deref().unwrap_or("-")
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Every package's line is the line of its key in `packages:` or `snapshots:`.
    fn assert_lines_point_at_keys(lockfile: &Lockfile) {
        let text = std::fs::read_to_string(&lockfile.file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for package in &lockfile.packages {
            let line = lines[package.line as usize - 1];
            let is_key = line.starts_with("  ")
                && !line.starts_with("   ")
                && (line.ends_with(':') || line.ends_with(": {}"));
            assert!(
                is_key && (line.contains(&package.name) || package.source != SourceKind::Registry),
                "{}@{} points at line {}: {line:?}",
                package.name,
                package.version,
                package.line
            );
        }
    }

    #[test]
    fn file_required() {
        let cases = [
            ("pnpm-lock.yaml", true),
            ("project/pnpm-lock.yaml", true),
            ("/abs/project/packages/app/pnpm-lock.yaml", true),
            ("project/pnpm-lock.yml", false),
            ("project/pnpm-lock.yaml.bak", false),
            ("project/pnpm-lock.yaml.orig/x", false),
            ("project/PNPM-LOCK.YAML", false),
            ("project/.pnpm-lock.yaml", false),
            ("project/node_modules/.pnpm/lock.yaml", false),
            ("project/node_modules/.pnpm-lock.yaml", false),
            ("project/node_modules/dep/pnpm-lock.yaml", false),
            ("project/pnpm-workspace.yaml", false),
            ("project/pnpm-lock.json", false),
            ("project/package-lock.json", false),
        ];
        for (path, expected) in cases {
            assert_eq!(
                PnpmLockExtractor.file_required(Path::new(path)),
                expected,
                "{path}"
            );
        }
    }

    /// The same workspace locked by pnpm 7, 8, 9 and 10 gives the same inventory.
    #[test]
    fn extract_generated_workspace_in_every_version() {
        let expected_registry = [
            "ansi-regex@5.0.1 Registry dev=false optional=false peer=false alias=-",
            "fsevents@2.3.3 Registry dev=false optional=true peer=false alias=-",
            "is-number@6.0.0 Registry dev=true optional=false peer=false alias=-",
            "is-number@7.0.0 Registry dev=false optional=false peer=false alias=-",
            "is-odd@3.0.1 Registry dev=true optional=false peer=false alias=-",
            "js-tokens@4.0.0 Registry dev=false optional=false peer=false alias=-",
            "loose-envify@1.4.0 Registry dev=false optional=false peer=false alias=-",
            "ms@2.1.3 Registry dev=false optional=false peer=false alias=ms-tarball",
            "react@18.2.0 Registry dev=true optional=false peer=false alias=-",
            "react@18.3.1 Registry dev=false optional=false peer=false alias=-",
            "strip-ansi@6.0.1 Registry dev=false optional=false peer=false alias=strip",
            "use-sync-external-store@1.2.0 Registry dev=false optional=false peer=false alias=-",
        ];
        let cases = [
            ("workspace.v5.yaml", "5.4", "local-dir@3.0.0"),
            (
                "workspace.v6.yaml",
                "6.0",
                "local-dir@file:packages/local-dir",
            ),
            (
                "workspace.v9.yaml",
                "9.0",
                "local-dir@file:packages/local-dir",
            ),
            (
                "workspace-pnpm10.v9.yaml",
                "9.0",
                "local-dir@file:packages/local-dir",
            ),
        ];
        for (name, version, local) in cases {
            let lockfile = load(name);
            assert_eq!(lockfile.format, "pnpm/lock");
            assert_eq!(lockfile.format_version, version, "{name}");
            assert!(
                lockfile.warnings.is_empty(),
                "{name}: {:?}",
                lockfile.warnings
            );
            assert_lines_point_at_keys(&lockfile);
            let paths: Vec<&str> = lockfile.importers.iter().map(|i| i.path.as_str()).collect();
            assert_eq!(paths, ["", "packages/a", "packages/b"], "{name}");
            let link = lockfile.importers[1]
                .dependencies
                .iter()
                .find(|d| d.name == "@fixture/b")
                .unwrap();
            assert_eq!(
                link.target, None,
                "{name}: workspace links are not packages"
            );
            let kinds: Vec<(&str, DependencyKind)> = lockfile.importers[0]
                .dependencies
                .iter()
                .map(|d| (d.name.as_str(), d.kind))
                .collect();
            assert!(kinds.contains(&("is-odd", DependencyKind::Dev)), "{name}");
            assert!(
                kinds.contains(&("fsevents", DependencyKind::Optional)),
                "{name}"
            );
            assert!(kinds.contains(&("strip", DependencyKind::Prod)), "{name}");
            let sync = lockfile
                .packages
                .iter()
                .find(|p| p.name == "use-sync-external-store")
                .unwrap();
            assert_eq!(sync.dependencies.len(), 1);
            assert_eq!(sync.dependencies[0].kind, DependencyKind::Peer, "{name}");
            let registry = lockfile
                .packages
                .iter()
                .filter(|p| p.source == SourceKind::Registry);
            for package in registry {
                assert!(package.integrity.is_some(), "{name}: {}", package.name);
                assert_eq!(package.resolved, None);
            }

            let project = lockfile.into_inventory();
            let local_row = format!("{local} File dev=false optional=false peer=false alias=-");
            let mut expected: Vec<String> =
                expected_registry.iter().map(|s| s.to_string()).collect();
            expected.push(local_row);
            expected.sort();
            assert_eq!(rows(&project), expected, "{name}");
            let ansi = project
                .packages
                .iter()
                .find(|p| p.name == "ansi-regex")
                .unwrap();
            assert!(
                ansi.paths.contains(&vec![
                    "packages/a".to_owned(),
                    "ansi-regex@5.0.1".to_owned()
                ]),
                "{name}: {:?}",
                ansi.paths
            );
            assert_eq!(project.importers, ["(root)", "packages/a", "packages/b"]);
        }
    }

    /// pnpm 10's own listing of the lockfile (`pnpm list --lockfile-only`) names the same
    /// packages.
    #[test]
    fn extract_matches_pnpm_list() {
        fn walk(value: &serde_json::Value, out: &mut BTreeSet<String>) {
            for list in ["dependencies", "devDependencies", "optionalDependencies"] {
                let Some(entries) = value.get(list).and_then(|v| v.as_object()) else {
                    continue;
                };
                for entry in entries.values() {
                    let version = entry["version"].as_str().unwrap();
                    if !version.starts_with("link:") {
                        out.insert(format!("{}@{version}", entry["from"].as_str().unwrap()));
                    }
                    walk(entry, out);
                }
            }
        }
        let listing: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture("workspace-pnpm10.list.json")).unwrap(),
        )
        .unwrap();
        let mut theirs = BTreeSet::new();
        for importer in listing.as_array().unwrap() {
            walk(importer, &mut theirs);
        }
        let project = load("workspace-pnpm10.v9.yaml").into_inventory();
        let ours: BTreeSet<String> = project.packages.iter().map(|p| p.id()).collect();
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 13);
    }

    /// Git, tarball, file, custom-registry and aliased packages, in all three key styles.
    #[test]
    fn extract_every_source_kind() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let gitlab = "fedcba9876543210fedcba9876543210fedcba98";
        let expected = [
            (
                "@fixture/tool",
                "0.5.0",
                SourceKind::Git,
                Some(format!(
                    "https://codeload.github.com/user/tool/tar.gz/{sha}"
                )),
                false,
            ),
            ("@types/node", "20.12.5", SourceKind::Registry, None, true),
            (
                "gitlab-dep",
                "4.0.0",
                SourceKind::Git,
                Some(format!(
                    "git+ssh://git@gitlab.com/group/gitlab-dep.git#{gitlab}"
                )),
                false,
            ),
            (
                "left-pad",
                "1.3.0",
                SourceKind::RemoteTarball,
                Some("https://example.com/left-pad-1.3.0.tgz".to_owned()),
                false,
            ),
            ("native", "1.2.3", SourceKind::Registry, None, true),
            ("plugin", "1.0.0", SourceKind::Registry, None, true),
            (
                "private-pkg",
                "2.0.1",
                SourceKind::Registry,
                Some("https://registry.example.com/private-pkg/-/private-pkg-2.0.1.tgz".to_owned()),
                true,
            ),
            ("undici-types", "5.26.5", SourceKind::Registry, None, true),
            (
                "vendored",
                "2.0.0",
                SourceKind::File,
                Some("file:vendor/vendored-2.0.0.tgz".to_owned()),
                true,
            ),
        ];
        for (name, version) in [
            ("sources.v5.yaml", "5.4"),
            ("sources.v6.yaml", "6.0"),
            ("sources.v9.yaml", "9.0"),
        ] {
            let lockfile = load(name);
            assert_eq!(lockfile.format_version, version);
            assert!(
                lockfile.warnings.is_empty(),
                "{name}: {:?}",
                lockfile.warnings
            );
            assert_lines_point_at_keys(&lockfile);
            assert_eq!(lockfile.importers.len(), 1, "{name}");
            assert_eq!(lockfile.importers[0].path, "");
            assert_eq!(lockfile.importers[0].dependencies.len(), 8, "{name}");
            assert!(
                lockfile.importers[0]
                    .dependencies
                    .iter()
                    .all(|d| d.target.is_some()),
                "{name}"
            );
            let plugin = lockfile
                .packages
                .iter()
                .find(|p| p.name == "plugin")
                .unwrap();
            assert_eq!(plugin.dependencies[0].kind, DependencyKind::Peer, "{name}");
            let mut got: Vec<_> = lockfile
                .packages
                .iter()
                .map(|p| {
                    (
                        p.name.as_str(),
                        p.version.as_str(),
                        p.source,
                        p.resolved.clone(),
                        p.integrity.is_some(),
                    )
                })
                .collect();
            got.sort_by(|a, b| a.0.cmp(b.0));
            let want: Vec<_> = expected
                .iter()
                .map(|(n, v, s, r, i)| (*n, *v, *s, r.clone(), *i))
                .collect();
            assert_eq!(got, want, "{name}");
            let project = lockfile.into_inventory();
            let flagged: BTreeSet<(String, bool, bool)> = project
                .packages
                .iter()
                .filter(|p| p.dev || p.optional || p.peer || p.alias.is_some())
                .map(|p| (format!("{} {:?}", p.id(), p.alias), p.dev, p.optional))
                .collect();
            let want: BTreeSet<(String, bool, bool)> = [
                (
                    "@types/node@20.12.5 Some(\"types\")".to_owned(),
                    false,
                    false,
                ),
                ("native@1.2.3 None".to_owned(), false, true),
                ("plugin@1.0.0 None".to_owned(), true, false),
            ]
            .into_iter()
            .collect();
            assert_eq!(flagged, want, "{name}");
        }
    }

    /// A lockfile that starts with pnpm's env document: the project's document is read.
    #[test]
    fn extract_two_documents() {
        let lockfile = load("two-documents.v9.yaml");
        let ids: Vec<String> = lockfile
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(ids, ["ms@2.1.3"]);
        assert_eq!(lockfile.importers.len(), 1);
        assert_eq!(
            lockfile.importers[0].dependencies[0].target,
            Some(PackageId(0))
        );
        assert_lines_point_at_keys(&lockfile);
        assert_eq!(lockfile.packages[0].line, 59);
        assert_eq!(lockfile.warnings.len(), 1);
        assert!(
            lockfile.warnings[0].contains("env lockfile"),
            "{:?}",
            lockfile.warnings
        );
    }

    /// Hostile or broken input: an error naming the file (and the line where known).
    #[test]
    fn extract_negative_fixtures() {
        let cases = [
            ("not-yaml.txt", Some(1), "invalid YAML"),
            ("truncated.v9.yaml", None, "invalid YAML"),
            ("wrong-types.v9.yaml", Some(15), "invalid YAML"),
            ("deeply-nested.v9.yaml", Some(4), "invalid type: sequence"),
            ("binary.v9.yaml", Some(2), "not valid UTF-8"),
            (
                "no-version.v9.yaml",
                Some(1),
                "`lockfileVersion` is missing",
            ),
            (
                "unsupported-version.v4.yaml",
                Some(1),
                "unsupported pnpm lockfileVersion `4.0`",
            ),
            (
                "duplicate-key.v9.yaml",
                Some(16),
                "`ms@2.1.3` appears twice",
            ),
            (
                "nameless-key.v6.yaml",
                Some(8),
                "cannot tell the package name",
            ),
        ];
        for (name, line, message) in cases {
            let path = fixture(name);
            let error = run(&path, Parser::Fast).expect_err(name);
            assert_eq!(error.file, path, "{name}");
            assert!(error.message.contains(message), "{name}: {error}");
            assert!(error.to_string().contains(name), "{name}: {error}");
            match line {
                Some(line) => assert_eq!(error.line, Some(line), "{name}: {error}"),
                None => assert!(error.line.is_some_and(|l| l > 1), "{name}: {error}"),
            }
        }
    }

    /// Deep nesting where pnpm's fields are ignored is skipped without recursion, and in
    /// block style (which the fast reader bounds) falls back to `serde_norway`.
    #[test]
    fn deep_nesting_is_bounded() {
        let path = fixture("deep.v9.yaml");
        let flow = format!(
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    engines: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let mut block =
            String::from("lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    engines:\n");
        for depth in 0..200 {
            block.push_str(&" ".repeat(6 + depth * 2));
            block.push_str("k:\n");
        }
        for text in [flow, block] {
            let input = Input {
                path: &path,
                contents: text.as_bytes(),
            };
            match PnpmLockExtractor.extract(&input) {
                Ok(lockfile) => assert_eq!(lockfile.packages.len(), 1),
                Err(error) => {
                    assert_eq!(error.file, path);
                    assert_eq!(error.line, Some(4), "{error}");
                    assert!(error.message.contains("nested more than 1000"), "{error}");
                }
            }
        }
    }

    /// Cutting a lockfile anywhere gives a lockfile or an error, never a panic.
    #[test]
    fn truncated_input_never_panics() {
        for name in ["workspace.v5.yaml", "workspace.v6.yaml", "sources.v9.yaml"] {
            let path = fixture(name);
            let contents = std::fs::read(&path).unwrap();
            for end in (0..contents.len()).step_by(13) {
                let input = Input {
                    path: &path,
                    contents: &contents[..end],
                };
                if let Err(error) = PnpmLockExtractor.extract(&input) {
                    assert_eq!(error.file, path);
                }
            }
        }
    }

    /// The fast reader and `serde_norway` read every fixture and real lockfile the same, and
    /// the fast one is what reads the files pnpm wrote.
    #[test]
    fn fast_reader_agrees_with_serde_norway() {
        let mut paths: Vec<PathBuf> = [
            "workspace.v5.yaml",
            "workspace.v6.yaml",
            "workspace.v9.yaml",
            "workspace-pnpm10.v9.yaml",
            "sources.v5.yaml",
            "sources.v6.yaml",
            "sources.v9.yaml",
            "two-documents.v9.yaml",
        ]
        .iter()
        .map(|name| fixture(name))
        .collect();
        for folder in [
            "pnpm-v5/vue-core-5.3",
            "pnpm-v5/vite-5.4",
            "pnpm-v6/vue-core",
            "pnpm-v7/pnpm",
            "pnpm-v9/vue-core",
        ] {
            paths.push(real(folder));
        }
        for path in &paths {
            let fast = run(path, Parser::Fast).unwrap();
            let slow = run(path, Parser::SerdeNorway).unwrap();
            assert_eq!(fast, slow, "{path:?}");
            let text = std::fs::read_to_string(path).unwrap();
            let fast_read = fast_yaml::deserialize::<WireLockfile<'_>>(&text).ok();
            let multi_document = path.ends_with("two-documents.v9.yaml");
            assert_eq!(fast_read.is_some(), !multi_document, "{path:?}");
        }
    }

    /// A 10,000-instance v9 lockfile, shaped like real ones (ten layers of 1,000 packages,
    /// each depending on three of the next layer, a tenth of them peer variants), must be read
    /// into the inventory in well under 50 ms in release builds.
    #[test]
    #[ignore = "timing: speed targets live in `cargo bench`; run explicitly in release mode"]
    fn large_lockfile_is_fast() {
        use std::fmt::Write as _;
        const LAYERS: usize = 10;
        const WIDTH: usize = 1_000;
        let integrity = "sha512-Y38VPSHcqkFrCpFnQ9vuSXmquuv5oXOKpGeT6aGrr3o3Gc9AlVa6JBfUSOCnbxGGZF+/0ooI7KrPuUSztUdU5A==";
        let name = |layer: usize, i: usize| {
            if i % 10 == 3 {
                format!("'@scope-{layer}/pkg-{i}'")
            } else {
                format!("pkg-{layer}-{i}")
            }
        };
        let bare = |layer: usize, i: usize| name(layer, i).trim_matches('\'').to_owned();
        let mut text =
            String::from("lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n");
        for i in 0..WIDTH {
            let _ = write!(
                text,
                "      {}:\n        specifier: ^1.0.0\n        version: 1.0.{i}\n",
                name(0, i)
            );
        }
        text.push_str("\npackages:\n\n");
        for layer in 0..LAYERS {
            for i in 0..WIDTH {
                let key = format!("{}@1.0.{i}", bare(layer, i));
                let _ = write!(
                    text,
                    "  '{key}':\n    resolution: {{integrity: {integrity}}}\n    engines: {{node: '>=8'}}\n\n"
                );
            }
        }
        text.push_str("snapshots:\n\n");
        for layer in 0..LAYERS {
            for i in 0..WIDTH {
                let _ = writeln!(text, "  '{}@1.0.{i}':", bare(layer, i));
                if layer + 1 < LAYERS {
                    text.push_str("    dependencies:\n");
                    for step in [1, 7, 31] {
                        let j = (i * 3 + step) % WIDTH;
                        let _ = writeln!(text, "      {}: 1.0.{j}", name(layer + 1, j));
                    }
                } else {
                    text.push_str("    optional: true\n");
                }
                text.push('\n');
            }
        }
        let path = Path::new("big/pnpm-lock.yaml");
        let input = Input {
            path,
            contents: text.as_bytes(),
        };
        // The time this thread spent on a CPU (Linux), so that other processes competing for
        // the cores do not count; wall time elsewhere. The kernel updates it about once per
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
        let extraction =
            measure(&mut || lockfiles.push(PnpmLockExtractor.extract(&input).unwrap()));
        let mut projects = Vec::new();
        let inventory = measure(&mut || {
            if let Some(lockfile) = lockfiles.pop() {
                projects.push(lockfile.into_inventory());
            }
        });
        assert_eq!(projects.len(), 5);
        for project in &projects {
            assert_eq!(project.packages.len(), LAYERS * WIDTH);
            assert!(project.warnings.is_empty(), "{:?}", project.warnings);
            assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
        }
        // This extractor's share, and the whole with `into_inventory` (flags and paths, in
        // `model.rs`), both against the 50 ms budget.
        let limit = if cfg!(debug_assertions) { 5_000 } else { 50 };
        assert!(
            extraction.as_millis() < limit && (extraction + inventory).as_millis() < limit,
            "{} instances took {extraction:?} to extract + {inventory:?} for the inventory",
            LAYERS * WIDTH
        );
    }
}
