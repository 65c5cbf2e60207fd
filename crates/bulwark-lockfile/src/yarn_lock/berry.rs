//! yarn berry (`__metadata` versions 4 to 10): YAML entries keyed by comma-joined descriptors.
//!
//! ```yaml
//! "a@npm:^1.0.0, a@npm:^1.2.0":
//!   version: 1.2.3
//!   resolution: "a@npm:1.2.3"
//!   dependencies:
//!     b: "npm:^2.0.0"        # yarn 2/3 write `b: ^2.0.0`
//!   checksum: 10c0/<hex sha512 of yarn's zip>
//!   languageName: node
//!   linkType: hard
//! ```
//!
//! Entries whose resolution uses `workspace:` are the importers (their `dependencies` hold
//! the dev dependencies too; the workspace's `package.json` tells them apart). A dependency
//! `b: npm:^2.0.0` resolves through the descriptor `b@npm:^2.0.0`; descriptors relative to
//! their dependent (`link:`, `file:`, `portal:`, `exec:`, local patches) carry a
//! `::locator=<dependent>` binding; `catalog:` ranges are looked up in `.yarnrc.yml`; and
//! yarn's built-in compatibility patches (`fsevents`, `resolve`, `typescript`) replace the
//! descriptor they wrap. Peer dependencies are resolved per dependent by yarn (virtual
//! packages): an edge is recorded only where every dependent provides the same package.
//!
//! `checksum` is the SHA-512 of yarn's own zip archive, not of the npm tarball: it is kept as
//! the integrity so it can be compared across installs, never against the registry.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Read as _;
use std::path::Path;

use bulwark_types::{Algorithm, Integrity, SourceKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::classic::{parse_quoted, synthetic_root};
use super::manifest::{Manifest, read_manifest, read_member_manifest};
use super::{Tally, Unresolved, percent_decode, split_descriptor, syml};
use crate::{Dependency, DependencyKind, ExtractError, Importer, Lockfile, Package, PackageId};

/// The format name in reports.
const FORMAT: &str = "yarn/lock";
/// `__metadata.version` values written by released yarn versions (2.x wrote 4, 3.1 wrote 5,
/// 3.2+ wrote 6, 4.0 release candidates 7, 4.0-4.13 wrote 8, 4.14 wrote 9, 4.18 writes 10).
const KNOWN_VERSIONS: std::ops::RangeInclusive<u32> = 4..=10;
/// `.yarnrc.yml` files larger than this are not read.
const MAX_YARNRC_BYTES: u64 = 1024 * 1024;
/// How deeply YAML may nest before the general parser is asked to read it (yarn writes 4
/// levels; the parser's time grows quadratically with depth).
const MAX_YAML_DEPTH: usize = 32;
/// How deeply a `patch:` may wrap another descriptor.
const MAX_PATCH_NESTING: usize = 8;

/// A YAML scalar of any type, as text (`version: 1` is a number to YAML); borrowed from the
/// file where it is written plainly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scalar<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value)))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value.to_string())))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value.to_string())))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value.to_string())))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Cow::Owned(value.to_string())))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A mapping of scalars to scalars, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Pairs<'a>(pub(super) Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to ranges")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
                while let Some((Scalar(key), Scalar(value))) = map.next_entry()? {
                    pairs.push((key, value));
                }
                Ok(Pairs(pairs))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs::default())
            }
        }
        deserializer.deserialize_any(PairsVisitor)
    }
}

/// `dependenciesMeta.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(super) struct DependencyMeta {
    #[serde(default)]
    pub(super) optional: Option<bool>,
}

/// One lockfile entry as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Entry<'a> {
    #[serde(borrow)]
    pub(super) version: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) resolution: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    pub(super) dependencies: Pairs<'a>,
    #[serde(default, borrow)]
    pub(super) peer_dependencies: Pairs<'a>,
    #[serde(default)]
    pub(super) dependencies_meta: Option<BTreeMap<String, Option<DependencyMeta>>>,
    #[serde(borrow)]
    pub(super) checksum: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) link_type: Option<Scalar<'a>>,
}

/// `__metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Metadata<'a> {
    #[serde(borrow)]
    pub(super) version: Option<Scalar<'a>>,
}

/// The whole file: `__metadata` and the entries in file order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Document<'a> {
    pub(super) metadata: Option<Metadata<'a>>,
    pub(super) entries: Vec<(Cow<'a, str>, Entry<'a>)>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Document<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;
        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = Document<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of descriptors to entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut document = Document::default();
                while let Some(Scalar(key)) = map.next_key()? {
                    if key == "__metadata" {
                        document.metadata = Some(map.next_value()?);
                    } else {
                        let entry = map.next_value()?;
                        document.entries.push((key, entry));
                    }
                }
                Ok(document)
            }
        }
        deserializer.deserialize_map(DocumentVisitor)
    }
}

/// The `catalog:` ranges of `.yarnrc.yml`.
#[derive(Debug, Default, Deserialize)]
struct YarnRc<'a> {
    #[serde(default, borrow)]
    catalog: Option<BTreeMap<String, Scalar<'a>>>,
    #[serde(default, borrow)]
    catalogs: Option<BTreeMap<String, BTreeMap<String, Scalar<'a>>>>,
    #[serde(flatten)]
    _rest: BTreeMap<String, IgnoredAny>,
}

/// Reads a berry `yarn.lock`.
pub(super) fn extract(path: &Path, text: &str) -> Result<Lockfile, ExtractError> {
    let (document, lines) = match syml::parse(text) {
        Some(parsed) => parsed,
        None => {
            check_nesting(text).map_err(|line| {
                ExtractError::at_line(
                    path,
                    line,
                    format!("YAML nested more than {MAX_YAML_DEPTH} levels deep"),
                )
            })?;
            let document: Document =
                serde_norway::from_str(text).map_err(|error| ExtractError::yaml(path, &error))?;
            let top_level = top_level_lines(text);
            let lines = document
                .entries
                .iter()
                .map(|(key, _)| top_level.get(key.as_ref()).copied().unwrap_or(1))
                .collect();
            (document, lines)
        }
    };
    let Some(version) = document
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.version.as_ref())
    else {
        return Err(ExtractError::new(path, "`__metadata.version` is missing"));
    };
    let mut lockfile = Lockfile::new(path, FORMAT, version.0.clone());
    match version.0.parse::<u32>() {
        Ok(number) if KNOWN_VERSIONS.contains(&number) => {}
        Ok(number) if number > *KNOWN_VERSIONS.end() => lockfile.warnings.push(format!(
            "`__metadata.version` {number} is newer than bulwark knows; read as version {}",
            KNOWN_VERSIONS.end()
        )),
        _ => {
            let line = text
                .lines()
                .position(|line| line.starts_with("__metadata") || line.starts_with("\"__metadata"))
                .and_then(|index| u32::try_from(index + 1).ok())
                .unwrap_or(1);
            return Err(ExtractError::at_line(
                path,
                line,
                format!(
                    "`__metadata.version` `{}` is not a yarn berry lockfile version (4 to 10)",
                    version.0
                ),
            ));
        }
    }
    let root = path.parent().unwrap_or_else(|| Path::new(""));
    let catalogs = read_catalogs(root, &mut lockfile.warnings);
    let root_manifest = match read_manifest(&root.join("package.json")) {
        Ok(manifest) => manifest,
        Err(reason) => {
            lockfile.warnings.push(reason);
            None
        }
    };
    let resolutions = Resolutions::new(root_manifest.as_ref());
    let context = Context {
        root,
        root_manifest,
        catalogs,
        resolutions,
    };
    Builder::new(path, &document, &lines, context, &mut lockfile)?.build(&mut lockfile);
    Ok(lockfile)
}

/// What one entry resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A package, by index into the lockfile's packages.
    Package(usize),
    /// A workspace member, by index into the importers.
    Workspace(usize),
}

/// What the files beside the lockfile add.
struct Context<'a> {
    /// The project directory.
    root: &'a Path,
    /// The root `package.json`, if readable.
    root_manifest: Option<Manifest>,
    /// `catalog:` ranges of `.yarnrc.yml`.
    catalogs: Catalogs,
    /// The root manifest's `resolutions`.
    resolutions: Resolutions,
}

/// Turns parsed entries into the model.
struct Builder<'a> {
    document: &'a Document<'a>,
    context: Context<'a>,
    /// Entry index -> slot.
    slots: Vec<Slot>,
    /// Normalised descriptor (`name@range`, see [`normalize_range`]) -> entry; borrowed from
    /// the entry keys where they are already normal (always, for yarn 4).
    by_descriptor: HashMap<Cow<'a, str>, usize>,
    /// (Normalised descriptor without its binding, the locator it is bound to) -> entry.
    by_bound_descriptor: HashMap<(String, String), usize>,
    /// Normalised descriptor without its binding -> entry, `None` when several entries share it.
    by_unbound_descriptor: HashMap<String, Option<usize>>,
    /// Normalised descriptor a built-in compatibility patch wraps -> the patch's entry.
    builtin_patches: HashMap<String, usize>,
    /// Workspace entries: (entry index, relative path).
    workspaces: Vec<(usize, String)>,
    /// The root workspace's locator (what `resolutions` descriptors are bound to).
    root_locator: Option<String>,
    /// Resolution (locator) -> entry, for the base a `patch:` package is made from.
    by_resolution: HashMap<&'a str, usize>,
}

impl<'a> Builder<'a> {
    fn new(
        path: &Path,
        document: &'a Document<'a>,
        lines: &[u32],
        context: Context<'a>,
        lockfile: &mut Lockfile,
    ) -> Result<Self, ExtractError> {
        let count = document.entries.len();
        let mut builder = Builder {
            document,
            context,
            slots: Vec::with_capacity(count),
            by_descriptor: HashMap::with_capacity(count * 2),
            by_bound_descriptor: HashMap::new(),
            by_unbound_descriptor: HashMap::new(),
            builtin_patches: HashMap::new(),
            workspaces: Vec::new(),
            root_locator: None,
            by_resolution: HashMap::new(),
        };
        let mut patched = Tally::default();
        let mut generated = Tally::default();
        lockfile.packages.reserve(count);
        for (index, (key, entry)) in document.entries.iter().enumerate() {
            let line = lines.get(index).copied().unwrap_or(1).max(1);
            builder.index_descriptors(key, index);
            let resolution = entry.resolution.as_ref().map(|r| r.0.as_ref());
            let Some(resolution) = resolution else {
                return Err(ExtractError::at_line(
                    path,
                    line,
                    format!("entry `{key}` has no `resolution`"),
                ));
            };
            builder.by_resolution.insert(resolution, index);
            let (name, reference) = split_descriptor(resolution);
            if name.is_empty() || reference.is_empty() {
                return Err(ExtractError::at_line(
                    path,
                    line,
                    format!("entry `{key}` has an invalid resolution `{resolution}`"),
                ));
            }
            if let Some(workspace) = reference.strip_prefix("workspace:") {
                let workspace = if workspace == "." { "" } else { workspace };
                if workspace.is_empty() {
                    builder.root_locator = Some(resolution.to_owned());
                }
                builder
                    .slots
                    .push(Slot::Workspace(builder.workspaces.len()));
                builder.workspaces.push((index, workspace.to_owned()));
                continue;
            }
            let Some(version) = entry.version.as_ref() else {
                return Err(ExtractError::at_line(
                    path,
                    line,
                    format!("entry `{key}` has no `version`"),
                ));
            };
            let mut package = Package::new(name, version.0.clone(), line);
            package.alias = key
                .split(',')
                .map(|descriptor| split_descriptor(descriptor.trim()).0)
                .find(|alias| *alias != name)
                .map(str::to_owned);
            package.resolved = Some(resolution.to_owned());
            package.source = source_of(reference, entry.link_type.as_ref(), 0);
            package.integrity = entry
                .checksum
                .as_ref()
                .and_then(|checksum| checksum_integrity(&checksum.0));
            if let Some(patch) = reference.strip_prefix("patch:")
                && !patch.contains("builtin<")
            {
                patched.add(|| format!("`{name}@{}` (line {line})", version.0));
            }
            if reference.starts_with("exec:") {
                generated.add(|| format!("`{name}@{}` (line {line})", version.0));
            }
            builder.slots.push(Slot::Package(lockfile.packages.len()));
            lockfile.packages.push(package);
        }
        lockfile.warnings.extend(patched.into_warning(
            "packages are patched locally, so their code differs from the registry's:",
        ));
        lockfile.warnings.extend(
            generated.into_warning(
                "packages are generated by running a script at install time (`exec:`):",
            ),
        );
        Ok(builder)
    }

    /// Indexes the descriptors of one entry key.
    fn index_descriptors(&mut self, key: &'a str, index: usize) {
        for descriptor in key.split(',') {
            let descriptor = descriptor.trim();
            let (name, range) = split_descriptor(descriptor);
            let normalized = normalize_range(range);
            let (unbound, binding) = match normalized.split_once("::") {
                Some((unbound, binding)) => (unbound, Some(binding)),
                None => (normalized.as_ref(), None),
            };
            if let Some(binding) = binding {
                let locator = binding
                    .split('&')
                    .find_map(|param| param.strip_prefix("locator="))
                    .map(percent_decode)
                    .unwrap_or_default();
                self.by_bound_descriptor
                    .insert((format!("{name}@{unbound}"), locator), index);
                self.by_unbound_descriptor
                    .entry(format!("{name}@{unbound}"))
                    .and_modify(|slot| {
                        if *slot != Some(index) {
                            *slot = None;
                        }
                    })
                    .or_insert(Some(index));
            }
            if let Some(patch) = unbound.strip_prefix("patch:")
                && let Some((source, selector)) = patch.split_once('#')
                && selector.contains("builtin<compat/")
            {
                let (inner_name, inner_range) = split_descriptor(source);
                self.builtin_patches.insert(
                    format!("{inner_name}@{}", normalize_range(inner_range)),
                    index,
                );
            }
            let key = match normalized {
                Cow::Borrowed(_) => Cow::Borrowed(descriptor),
                Cow::Owned(range) => Cow::Owned(format!("{name}@{range}")),
            };
            self.by_descriptor.insert(key, index);
        }
    }

    /// The entry a dependency `name: range` of the entry resolved as `dependent` points at.
    fn lookup(
        &self,
        name: &str,
        range: &str,
        dependent: &str,
        dependent_name: &str,
        buffer: &mut String,
    ) -> Option<usize> {
        let range = match range.strip_prefix("catalog:") {
            Some(catalog) => self.context.catalogs.range(catalog, name)?,
            None => range,
        };
        let range = self
            .context
            .resolutions
            .apply(dependent_name, name, range)
            .unwrap_or(range);
        let range = normalize_range(range);
        buffer.clear();
        buffer.push_str(name);
        buffer.push('@');
        buffer.push_str(&range);
        if let Some(&index) = self.builtin_patches.get(buffer.as_str()) {
            return Some(index);
        }
        if let Some(&index) = self.by_descriptor.get(buffer.as_str()) {
            return Some(index);
        }
        if self.by_bound_descriptor.is_empty() {
            return None;
        }
        for locator in [Some(dependent), self.root_locator.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(&index) = self
                .by_bound_descriptor
                .get(&(buffer.clone(), locator.to_owned()))
            {
                return Some(index);
            }
        }
        self.by_unbound_descriptor
            .get(buffer.as_str())
            .copied()
            .flatten()
    }

    /// Resolves every edge and builds the importers.
    fn build(self, lockfile: &mut Lockfile) {
        let mut unresolved = Unresolved::default();
        let mut buffer = String::new();
        let mut missing_manifests = Vec::new();
        let mut importers = Vec::with_capacity(self.workspaces.len());
        for (entry_index, relative) in &self.workspaces {
            let (_, entry) = &self.document.entries[*entry_index];
            let resolution = entry.resolution.as_ref().map_or("", |r| r.0.as_ref());
            let (name, _) = split_descriptor(resolution);
            let manifest = self.workspace_manifest(relative, &mut missing_manifests);
            let meta = optional_names(entry);
            let dependencies = entry
                .dependencies
                .0
                .iter()
                .map(|(dep_name, range)| {
                    let kind = if meta.contains(dep_name.as_ref()) {
                        DependencyKind::Optional
                    } else {
                        manifest
                            .as_ref()
                            .and_then(|manifest| manifest.kind_of(dep_name))
                            .unwrap_or(DependencyKind::Prod)
                    };
                    self.edge(
                        dep_name,
                        range,
                        kind,
                        (resolution, name),
                        &mut buffer,
                        &mut unresolved,
                    )
                })
                .collect();
            importers.push(Importer {
                path: relative.clone(),
                name: Some(name.to_owned()),
                version: manifest.and_then(|manifest| manifest.version),
                dependencies,
            });
        }
        for (entry_index, (_, entry)) in self.document.entries.iter().enumerate() {
            let Slot::Package(package_index) = self.slots[entry_index] else {
                continue;
            };
            let resolution = entry.resolution.as_ref().map_or("", |r| r.0.as_ref());
            let (name, _) = split_descriptor(resolution);
            let meta = optional_names(entry);
            let dependencies: Vec<Dependency> = entry
                .dependencies
                .0
                .iter()
                .map(|(dep_name, range)| {
                    let kind = if meta.contains(dep_name.as_ref()) {
                        DependencyKind::Optional
                    } else {
                        DependencyKind::Prod
                    };
                    self.edge(
                        dep_name,
                        range,
                        kind,
                        (resolution, name),
                        &mut buffer,
                        &mut unresolved,
                    )
                })
                .collect();
            let mut dependencies = dependencies;
            dependencies.extend(self.patch_base(resolution));
            lockfile.packages[package_index].dependencies = dependencies;
        }
        // The root first, so it labels the project.
        importers.sort_by_key(|importer| !importer.path.is_empty());
        if importers.is_empty() {
            lockfile.warnings.push(
                "no `workspace:` entry: every entry is treated as a prod dependency of the project"
                    .to_owned(),
            );
            importers.push(synthetic_root(&lockfile.packages));
        }
        lockfile.importers = importers;
        resolve_peers(self.document, &self.slots, lockfile);
        if !missing_manifests.is_empty() {
            lockfile.warnings.push(format!(
                "{} workspace manifests could not be read, so their dev dependencies count as prod: {}",
                missing_manifests.len(),
                missing_manifests.join("; ")
            ));
        }
        lockfile.warnings.extend(unresolved.into_warning());
    }

    /// One resolved edge of `dependent` (its locator and name).
    fn edge(
        &self,
        name: &str,
        range: &str,
        kind: DependencyKind,
        (dependent, dependent_name): (&str, &str),
        buffer: &mut String,
        unresolved: &mut Unresolved,
    ) -> Dependency {
        let target = match self.lookup(name, range, dependent, dependent_name, buffer) {
            Some(entry) => match self.slots.get(entry) {
                Some(Slot::Package(index)) => Some(PackageId(*index)),
                _ => None,
            },
            None => {
                unresolved.add(dependent, name, range);
                None
            }
        };
        Dependency {
            name: name.to_owned(),
            kind,
            target,
        }
    }

    /// A `patch:` package is made from its base package, which yarn fetches too: an edge to
    /// it keeps the base in the graph with the patched package's flags.
    fn patch_base(&self, resolution: &str) -> Option<Dependency> {
        let (name, reference) = split_descriptor(resolution);
        let patch = reference.strip_prefix("patch:")?;
        let base = percent_decode(patch.split('#').next().unwrap_or_default());
        let entry = *self.by_resolution.get(base.as_str())?;
        match self.slots.get(entry) {
            Some(Slot::Package(index)) => Some(Dependency {
                name: name.to_owned(),
                kind: DependencyKind::Prod,
                target: Some(PackageId(*index)),
            }),
            _ => None,
        }
    }

    /// The manifest of the workspace at `relative`, if it can be read.
    fn workspace_manifest(&self, relative: &str, missing: &mut Vec<String>) -> Option<Manifest> {
        if relative.is_empty() {
            if self.context.root_manifest.is_none() {
                missing.push("the root package.json is missing".to_owned());
            }
            return self.context.root_manifest.clone();
        }
        match read_member_manifest(self.context.root, relative) {
            Ok(Some(manifest)) => Some(manifest),
            Ok(None) => {
                missing.push(format!("`{relative}/package.json` not found"));
                None
            }
            Err(reason) => {
                missing.push(reason);
                None
            }
        }
    }
}

/// Names marked `optional: true` in an entry's `dependenciesMeta` (keys may carry a range).
fn optional_names<'a>(entry: &'a Entry<'_>) -> HashSet<&'a str> {
    entry
        .dependencies_meta
        .iter()
        .flatten()
        .filter(|(_, meta)| meta.as_ref().and_then(|meta| meta.optional) == Some(true))
        .map(|(key, _)| {
            let (name, _) = split_descriptor(key);
            name
        })
        .collect()
}

/// Resolves peer dependencies where every dependent that depends on the package provides
/// the same package under the peer's name (yarn resolves peers per dependent).
fn resolve_peers(document: &Document, slots: &[Slot], lockfile: &mut Lockfile) {
    let count = lockfile.packages.len();
    let mut has_peers = vec![false; count];
    for (entry_index, (_, entry)) in document.entries.iter().enumerate() {
        if let Some(Slot::Package(index)) = slots.get(entry_index).copied()
            && !entry.peer_dependencies.0.is_empty()
        {
            has_peers[index] = true;
        }
    }
    if !has_peers.contains(&true) {
        return;
    }
    // Dependents of each package with peers: the dependency lists (of importers and
    // packages) holding it.
    let mut dependents: Vec<Vec<(bool, usize)>> = vec![Vec::new(); count];
    let lists = lockfile
        .importers
        .iter()
        .enumerate()
        .map(|(index, importer)| ((true, index), &importer.dependencies))
        .chain(
            lockfile
                .packages
                .iter()
                .enumerate()
                .map(|(index, package)| ((false, index), &package.dependencies)),
        );
    for (dependent, list) in lists {
        for dep in list {
            if let Some(PackageId(target)) = dep.target
                && has_peers.get(target) == Some(&true)
            {
                dependents[target].push(dependent);
            }
        }
    }
    let mut peer_edges = Vec::new();
    for (entry_index, (_, entry)) in document.entries.iter().enumerate() {
        let Some(Slot::Package(index)) = slots.get(entry_index).copied() else {
            continue;
        };
        for (peer, _) in &entry.peer_dependencies.0 {
            let mut provided = dependents[index].iter().map(|&(is_importer, parent)| {
                let list = if is_importer {
                    &lockfile.importers[parent].dependencies
                } else {
                    &lockfile.packages[parent].dependencies
                };
                list.iter()
                    .find(|dep| dep.name == *peer)
                    .and_then(|dep| dep.target)
            });
            let first = provided.next().flatten();
            let target = first.filter(|&first| provided.all(|other| other == Some(first)));
            peer_edges.push((
                index,
                Dependency {
                    name: peer.to_string(),
                    kind: DependencyKind::Peer,
                    target,
                },
            ));
        }
    }
    for (index, edge) in peer_edges {
        lockfile.packages[index].dependencies.push(edge);
    }
}

/// A range in the form descriptors are indexed by: `npm:` added where no protocol is given
/// (yarn 2 and 3 write `^1.0.0` where yarn 4 writes `npm:^1.0.0`), and `patch:` sources
/// percent-decoded (yarn keeps them as the user wrote them, encoded or not).
fn normalize_range(range: &str) -> Cow<'_, str> {
    if let Some(patch) = range.strip_prefix("patch:") {
        return if patch.contains('%') {
            Cow::Owned(format!("patch:{}", percent_decode(patch)))
        } else {
            Cow::Borrowed(range)
        };
    }
    if has_protocol(range) {
        Cow::Borrowed(range)
    } else {
        Cow::Owned(format!("npm:{range}"))
    }
}

/// Whether `range` starts with a protocol such as `npm:`, `workspace:` or `https:`.
fn has_protocol(range: &str) -> bool {
    let bytes = range.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')))
            .is_some_and(|end| bytes[end] == b':')
}

/// The root manifest's `resolutions`: `name`, `name@range`, `parent/name` and `**/name`
/// patterns that replace the range of matching dependencies before they are looked up.
#[derive(Debug, Default)]
struct Resolutions {
    /// Dependency name -> rules for it, in file order.
    by_name: HashMap<String, Vec<ResolutionRule>>,
}

#[derive(Debug)]
struct ResolutionRule {
    /// Only for dependencies of this package.
    parent: Option<String>,
    /// Only for this (normalised) range.
    range: Option<String>,
    /// The range to use instead.
    replacement: String,
}

impl Resolutions {
    fn new(manifest: Option<&Manifest>) -> Self {
        let mut by_name: HashMap<String, Vec<ResolutionRule>> = HashMap::new();
        for (pattern, replacement) in manifest.map_or(&[][..], |m| &m.resolutions[..]) {
            let pattern = pattern.strip_prefix("**/").unwrap_or(pattern);
            let Some((first, rest)) = pattern_part(pattern) else {
                continue;
            };
            let (parent, target) = if rest.is_empty() {
                (None, first)
            } else {
                match pattern_part(rest) {
                    Some((target, "")) => (Some(first.0), target),
                    _ => continue,
                }
            };
            by_name
                .entry(target.0.to_owned())
                .or_default()
                .push(ResolutionRule {
                    parent: parent.map(str::to_owned),
                    range: target.1.map(|range| normalize_range(range).into_owned()),
                    replacement: replacement.clone(),
                });
        }
        Self { by_name }
    }

    /// The replacement range for the dependency `name@range` of `dependent`, the most
    /// specific rule winning.
    fn apply(&self, dependent: &str, name: &str, range: &str) -> Option<&str> {
        let rules = self.by_name.get(name)?;
        let normalized = normalize_range(range);
        rules
            .iter()
            .filter(|rule| {
                rule.parent
                    .as_deref()
                    .is_none_or(|parent| parent == dependent)
            })
            .filter(|rule| rule.range.as_deref().is_none_or(|r| r == normalized))
            .max_by_key(|rule| (rule.parent.is_some(), rule.range.is_some()))
            .map(|rule| rule.replacement.as_ref())
    }
}

/// Splits one `name[@range]` step off a resolution pattern, returning it and what follows
/// its `/` separator.
fn pattern_part(pattern: &str) -> Option<((&str, Option<&str>), &str)> {
    let name_end = if pattern.starts_with('@') {
        let slash = pattern.find('/')?;
        slash
            + 1
            + pattern[slash + 1..]
                .find(['@', '/'])
                .unwrap_or(pattern.len() - slash - 1)
    } else {
        pattern.find(['@', '/']).unwrap_or(pattern.len())
    };
    let name = &pattern[..name_end];
    if name.is_empty() {
        return None;
    }
    let rest = &pattern[name_end..];
    let (range, rest) = match rest.strip_prefix('@') {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    Some(((name, range), rest.strip_prefix('/').unwrap_or(rest)))
}

/// The source of a resolution's reference (`npm:1.2.3`, `patch:…`, `link:…`, a git URL).
fn source_of(reference: &str, link_type: Option<&Scalar>, depth: usize) -> SourceKind {
    if reference.starts_with("npm:") {
        return SourceKind::Registry;
    }
    if let Some(patch) = reference.strip_prefix("patch:") {
        let source = percent_decode(patch.split('#').next().unwrap_or_default());
        let (_, inner) = split_descriptor(&source);
        return if depth < MAX_PATCH_NESTING {
            source_of(inner, None, depth + 1)
        } else {
            SourceKind::Unknown
        };
    }
    if reference.starts_with("exec:") {
        return SourceKind::Unknown;
    }
    if reference.contains("#commit=") || reference.contains("#tag=") || reference.contains("#head=")
    {
        return SourceKind::Git;
    }
    match SourceKind::classify(reference) {
        SourceKind::Unknown if link_type.is_some_and(|link| link.0 == "soft") => SourceKind::Link,
        kind => kind,
    }
}

/// yarn's `checksum` (`[<cache key>/]<128 hex>`) as a SHA-512 [`Integrity`] of yarn's zip.
fn checksum_integrity(checksum: &str) -> Option<Integrity> {
    let hex = checksum
        .rsplit_once('/')
        .map_or(checksum, |(_, hex)| hex)
        .as_bytes();
    if hex.len() != Algorithm::Sha512.digest_len() * 2 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let digest = hex
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect::<Option<Vec<u8>>>()?;
    Some(Integrity {
        algorithm: Algorithm::Sha512,
        digest,
    })
}

/// Fails with the line where flow collections (`[`, `{`) or indentation nest deeper than
/// [`MAX_YAML_DEPTH`], skipping quoted strings and comments.
fn check_nesting(text: &str) -> Result<(), u32> {
    let mut line = 1u32;
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut at_line_start = true;
    let mut indent = 0usize;
    let mut previous = b'\n';
    let mut bytes = text.bytes().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'\n' {
            line = line.saturating_add(1);
            at_line_start = true;
            indent = 0;
            previous = byte;
            if quote == Some(b'#') {
                quote = None;
            }
            continue;
        }
        if at_line_start {
            if byte == b' ' {
                indent += 1;
                if indent > MAX_YAML_DEPTH * 4 {
                    return Err(line);
                }
                continue;
            }
            at_line_start = false;
        }
        match quote {
            Some(b'"') if byte == b'\\' => {
                bytes.next();
            }
            Some(b'\'') if byte == b'\'' && bytes.peek() == Some(&b'\'') => {
                bytes.next();
            }
            Some(open) if byte == open && open != b'#' => quote = None,
            Some(_) => {}
            None => match byte {
                b'"' | b'\'' => quote = Some(byte),
                b'#' if matches!(previous, b' ' | b'\t' | b'\n') => quote = Some(b'#'),
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return Err(line);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        previous = byte;
    }
    Ok(())
}

/// The line of every top-level key, found by a scan for non-indented lines (used when the
/// file is read by the general YAML parser; keys may be plain, double- or single-quoted).
fn top_level_lines(text: &str) -> HashMap<Cow<'_, str>, u32> {
    let mut lines = HashMap::new();
    let mut number = 0u32;
    for line in text.split('\n') {
        number = number.saturating_add(1);
        let Some(first) = line.bytes().next() else {
            continue;
        };
        if matches!(first, b' ' | b'#' | b'\t' | b'\r' | b'-' | b'%') {
            continue;
        }
        let key = match first {
            b'"' => parse_quoted(line).ok().map(|(key, _)| key),
            b'\'' => {
                let bytes = line.as_bytes();
                let mut index = 1;
                let mut end = None;
                while index < bytes.len() {
                    if bytes[index] == b'\'' {
                        if bytes.get(index + 1) == Some(&b'\'') {
                            index += 2;
                            continue;
                        }
                        end = Some(index);
                        break;
                    }
                    index += 1;
                }
                end.map(|end| Cow::Owned(line[1..end].replace("''", "'")))
            }
            _ => line
                .find(": ")
                .or_else(|| line.trim_end().strip_suffix(':').map(str::len))
                .map(|end| Cow::Borrowed(&line[..end])),
        };
        if let Some(key) = key {
            lines.entry(key).or_insert(number);
        }
    }
    lines
}

/// The catalogs of `.yarnrc.yml`, for `catalog:` ranges.
#[derive(Debug, Default)]
struct Catalogs {
    default: BTreeMap<String, String>,
    named: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalogs {
    fn range(&self, catalog: &str, name: &str) -> Option<&str> {
        let map = if catalog.is_empty() || catalog == "default" {
            &self.default
        } else {
            self.named.get(catalog)?
        };
        map.get(name).map(String::as_str)
    }
}

/// A catalog with owned ranges.
fn owned(catalog: BTreeMap<String, Scalar<'_>>) -> BTreeMap<String, String> {
    catalog
        .into_iter()
        .map(|(name, range)| (name, range.0.into_owned()))
        .collect()
}

/// Reads the catalogs from `.yarnrc.yml` beside the lockfile, if there is one.
fn read_catalogs(root: &Path, warnings: &mut Vec<String>) -> Catalogs {
    let path = root.join(".yarnrc.yml");
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Catalogs::default();
    };
    if !meta.is_file() {
        return Catalogs::default();
    }
    let mut text = String::new();
    let read = std::fs::File::open(&path)
        .and_then(|file| file.take(MAX_YARNRC_BYTES + 1).read_to_string(&mut text));
    if let Err(error) = read {
        warnings.push(format!("cannot read `{}`: {error}", path.display()));
        return Catalogs::default();
    }
    if text.len() as u64 > MAX_YARNRC_BYTES {
        warnings.push(format!("`{}` is too large to read", path.display()));
        return Catalogs::default();
    }
    match serde_norway::from_str::<YarnRc>(&text) {
        Ok(rc) => Catalogs {
            default: owned(rc.catalog.unwrap_or_default()),
            named: rc
                .catalogs
                .unwrap_or_default()
                .into_iter()
                .map(|(name, catalog)| (name, owned(catalog)))
                .collect(),
        },
        Err(error) => {
            warnings.push(format!(
                "`{}` is not valid YAML, so `catalog:` ranges stay unresolved: {error}",
                path.display()
            ));
            Catalogs::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        let hex = "a".repeat(128);
        let cases = [
            (format!("10c0/{hex}"), true),
            (format!("10/{hex}"), true),
            (hex.clone(), true),
            (format!("10c0/{}", "a".repeat(127)), false),
            ("10c0/".to_owned(), false),
            (format!("10c0/{}", "g".repeat(128)), false),
        ];
        for (input, expected) in cases {
            assert_eq!(checksum_integrity(&input).is_some(), expected, "{input}");
        }
    }

    #[test]
    fn sources() {
        let soft = Scalar(Cow::Borrowed("soft"));
        let cases = [
            ("npm:1.2.3", None, SourceKind::Registry),
            (
                "patch:fsevents@npm%3A2.3.3#optional!builtin<compat/fsevents>::version=2.3.3",
                None,
                SourceKind::Registry,
            ),
            (
                "link:./lib::locator=a%40workspace%3A.",
                Some(&soft),
                SourceKind::Link,
            ),
            (
                "portal:./lib::locator=a%40workspace%3A.",
                Some(&soft),
                SourceKind::Link,
            ),
            (
                "file:./lib.tgz::locator=a%40workspace%3A.",
                None,
                SourceKind::File,
            ),
            (
                "https://github.com/u/r.git#commit=abc",
                None,
                SourceKind::Git,
            ),
            (
                "https://codeload.github.com/u/r/tar.gz/abc",
                None,
                SourceKind::Git,
            ),
            ("https://example.com/r.tgz", None, SourceKind::RemoteTarball),
            (
                "exec:./gen.js::locator=a%40workspace%3A.",
                None,
                SourceKind::Unknown,
            ),
        ];
        for (reference, link, expected) in cases {
            assert_eq!(source_of(reference, link, 0), expected, "{reference}");
        }
    }

    #[test]
    fn resolution_patterns() {
        let manifest = Manifest {
            resolutions: [
                ("ms", "2.0.0"),
                ("**/left-pad", "1.3.0"),
                ("debug/ms", "2.1.2"),
                ("@scope/parent/@scope/child", "npm:1.0.0"),
                ("lru-cache@^10.0.1", "patch:lru-cache@npm:10.4.3#./p.patch"),
                ("@scope/x@npm:^1", "1.1.1"),
                ("/", "bad"),
            ]
            .into_iter()
            .map(|(pattern, range)| (pattern.to_owned(), range.to_owned()))
            .collect(),
            ..Manifest::default()
        };
        let resolutions = Resolutions::new(Some(&manifest));
        let cases = [
            ("app", "ms", "^2.1.3", Some("2.0.0")),
            ("debug", "ms", "^2.1.3", Some("2.1.2")),
            ("app", "left-pad", "^1.0.0", Some("1.3.0")),
            ("@scope/parent", "@scope/child", "^2", Some("npm:1.0.0")),
            ("other", "@scope/child", "^2", None),
            (
                "app",
                "lru-cache",
                "npm:^10.0.1",
                Some("patch:lru-cache@npm:10.4.3#./p.patch"),
            ),
            ("app", "lru-cache", "^10.2.0", None),
            ("app", "@scope/x", "^1", Some("1.1.1")),
            ("app", "@scope/x", "^2", None),
            ("app", "debug", "^4", None),
        ];
        for (dependent, name, range, expected) in cases {
            assert_eq!(
                resolutions.apply(dependent, name, range),
                expected,
                "{dependent} -> {name}@{range}"
            );
        }
    }

    #[test]
    fn catalog_ranges() {
        let text = "catalog:\n  a: ^1.0.0\ncatalogs:\n  react18:\n    react: ^18.2.0\nyarnPath: x\nplugins:\n  - path: p\n";
        let rc: YarnRc<'_> = serde_norway::from_str(text).unwrap();
        let catalogs = Catalogs {
            default: owned(rc.catalog.unwrap_or_default()),
            named: rc
                .catalogs
                .unwrap_or_default()
                .into_iter()
                .map(|(name, catalog)| (name, owned(catalog)))
                .collect(),
        };
        assert_eq!(catalogs.range("", "a"), Some("^1.0.0"));
        assert_eq!(catalogs.range("default", "a"), Some("^1.0.0"));
        assert_eq!(catalogs.range("react18", "react"), Some("^18.2.0"));
        assert_eq!(catalogs.range("react18", "a"), None);
        assert_eq!(catalogs.range("missing", "a"), None);
        assert_eq!(catalogs.range("", "react"), None);
    }

    #[test]
    fn nesting_limits() {
        let deep_flow = format!("a: {}{}\n", "[".repeat(40), "]".repeat(40));
        let deep_indent = format!("a:\n{}b: 1\n", " ".repeat(200));
        let cases = [
            ("a: [[1], {b: [2]}]\n", Ok(())),
            ("a: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n", Ok(())),
            ("a: 1 # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n", Ok(())),
            ("x: 1\n", Ok(())),
            (deep_flow.as_str(), Err(1)),
            (deep_indent.as_str(), Err(2)),
        ];
        for (text, expected) in cases {
            assert_eq!(check_nesting(text), expected, "{text:?}");
        }
    }

    #[test]
    fn lines_of_top_level_keys() {
        let text = "# c\n\n__metadata:\n  version: 8\n\n\"a@npm:^1, a@npm:^1.2\":\n  version: 1.2.0\nb@npm:1:\n'c''d@npm:1': # x\n\"e@npm:1\": {version: 1}\nf@npm:1: {}\n";
        let lines = top_level_lines(text);
        assert_eq!(lines.get("c'd@npm:1"), Some(&9));
        assert_eq!(lines.get("e@npm:1"), Some(&10));
        assert_eq!(lines.get("f@npm:1"), Some(&11));
        assert_eq!(lines.get("__metadata"), Some(&3));
        assert_eq!(lines.get("a@npm:^1, a@npm:^1.2"), Some(&6));
        assert_eq!(lines.get("b@npm:1"), Some(&8));
    }
}
