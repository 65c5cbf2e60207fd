//! `bun.lock`, bun's text lockfile: JSON with trailing commas (and, leniently, comments).
//!
//! The file has two maps. `workspaces` holds the root (key `""`) and every member directory
//! with their declared dependencies. `packages` holds one entry per installed package, keyed by
//! its hoisting path (`"a"`, `"a/b"`, `"@s/x/@s/y"`: `b` installed in `a`'s own `node_modules`),
//! each an array whose shape depends on how the package was resolved (see [`EntryKind`]).
//! bun resolves a dependency `d` of the package at `a/b` by looking for `a/b/d`, then `a/d`,
//! then `d`; so does this module. Workspace members appear in `packages` under their name with a
//! `workspace:` resolution, and their own nested packages under `<name>/<dep>`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::RangeInclusive;

use bulwark_types::{Integrity, SourceKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{WarningSink, install_path, split_name_at};
use crate::{
    Dependency, DependencyKind, ExtractError, Importer, Input, Lockfile, Package, PackageId,
};

/// The `lockfileVersion`s this module was written against: 0 (bun 1.1.39+), 1 (bun 1.2+, no
/// more dependency lists on workspace entries) and 2 (bun 1.3+, integrity on tarballs and
/// recorded peers). Newer versions are read with a warning.
const KNOWN_VERSIONS: RangeInclusive<u64> = 0..=2;

/// The deepest nesting accepted; a bun.lock needs five levels.
const MAX_DEPTH: usize = 64;

/// The deepest hoisting path accepted (`a/b/c/…`); real ones rarely pass ten.
const MAX_HOISTING_DEPTH: usize = 64;

/// The most elements a package entry has (`[spec, registry, info, integrity]`, git has one
/// more), with room to spare.
const MAX_ENTRY_ELEMENTS: usize = 8;

/// Reads a `bun.lock`.
pub(super) fn extract(input: &Input<'_>, format: &'static str) -> Result<Lockfile, ExtractError> {
    let text = input.text()?;
    let cleaned =
        clean(text).map_err(|(line, message)| ExtractError::at_line(input.path, line, message))?;
    let wire: Wire = serde_json::from_str(&cleaned.json)
        .map_err(|error| ExtractError::json(input.path, &error))?;
    let mut lockfile = Lockfile::new(input.path, format, wire.lockfile_version.to_string());
    if !KNOWN_VERSIONS.contains(&wire.lockfile_version) {
        lockfile.warnings.push(format!(
            "bun.lock lockfileVersion {} is newer than the versions this extractor knows ({}–{}); \
             the inventory may be incomplete",
            wire.lockfile_version,
            KNOWN_VERSIONS.start(),
            KNOWN_VERSIONS.end()
        ));
    }
    Builder::build(lockfile, wire, &cleaned)
}

// ---------------------------------------------------------------------------------------------
// JSONC to JSON

/// The text made into strict JSON, plus where the `packages` keys are.
#[derive(Debug)]
struct Cleaned {
    /// The same text with comments and trailing commas blanked out (byte offsets and lines
    /// are unchanged, so serde's error lines are the file's lines).
    json: String,
    /// The 1-based line of every key of the top-level `packages` object, in document order.
    package_lines: Vec<u32>,
    /// The line of the top-level `packages` key itself.
    packages_line: u32,
}

/// One open `{` or `[` while cleaning.
#[derive(Debug, Clone, Copy)]
struct Frame {
    object: bool,
    expect_key: bool,
}

/// Blanks comments and trailing commas outside strings in one pass, and records the line of
/// each `packages` key. Errors carry the line.
fn clean(text: &str) -> Result<Cleaned, (u32, &'static str)> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line: u32 = 1;
    let mut pending_comma: Option<usize> = None;
    let mut in_packages = false;
    let mut package_lines = Vec::new();
    let mut packages_line = 1;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'"' => {
                let start = index + 1;
                let end = string_end(bytes, start).ok_or((line, "unterminated string"))?;
                if let Some(frame) = stack.last()
                    && frame.object
                    && frame.expect_key
                {
                    match stack.len() {
                        1 => {
                            in_packages = bytes.get(start..end) == Some(b"packages".as_slice());
                            if in_packages {
                                packages_line = line;
                            }
                        }
                        2 if in_packages => package_lines.push(line),
                        _ => {}
                    }
                }
                let newlines = bytes
                    .get(start..end)
                    .map_or(0, |inner| memchr::memchr_iter(b'\n', inner).count());
                line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
                pending_comma = None;
                index = end + 1;
                continue;
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &bytes[index..]).map_or(bytes.len(), |o| index + o);
                out[index..end].fill(b' ');
                index = end;
                continue;
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                let body = index + 2;
                let close = memchr::memmem::find(&bytes[body..], b"*/")
                    .map(|o| body + o)
                    .ok_or((line, "unterminated block comment"))?;
                for slot in &mut out[index..close + 2] {
                    if *slot == b'\n' {
                        line = line.saturating_add(1);
                    } else {
                        *slot = b' ';
                    }
                }
                index = close + 2;
                continue;
            }
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err((line, "JSON is nested too deeply"));
                }
                let object = byte == b'{';
                stack.push(Frame {
                    object,
                    expect_key: object,
                });
                pending_comma = None;
            }
            b'}' | b']' => {
                if let Some(comma) = pending_comma.take() {
                    out[comma] = b' ';
                }
                stack.pop();
            }
            b':' => {
                if let Some(frame) = stack.last_mut() {
                    frame.expect_key = false;
                }
                pending_comma = None;
            }
            b',' => {
                if let Some(frame) = stack.last_mut()
                    && frame.object
                {
                    frame.expect_key = true;
                }
                pending_comma = Some(index);
            }
            b'\n' => line = line.saturating_add(1),
            b' ' | b'\t' | b'\r' => {}
            _ => pending_comma = None,
        }
        index += 1;
    }
    // Only whole ASCII bytes were replaced by spaces, so this cannot fail on `&str` input.
    let json = String::from_utf8(out).map_err(|_| (1, "file is not valid UTF-8 text"))?;
    Ok(Cleaned {
        json,
        package_lines,
        packages_line,
    })
}

/// The index of the `"` closing the string whose contents start at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    loop {
        let found = at + memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[found] == b'"' {
            return Some(found);
        }
        at = found + 2;
    }
}

// ---------------------------------------------------------------------------------------------
// Wire format

/// The top level of a bun.lock. Strings borrow from the cleaned text unless they have escapes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    lockfile_version: u64,
    #[serde(default, borrow)]
    workspaces: Ordered<'a, WireWorkspace<'a>>,
    #[serde(default, borrow)]
    packages: Ordered<'a, WireEntry<'a>>,
}

/// A JSON string, borrowed from the input unless it has escapes.
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(value))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(value.to_owned()))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(value))
            }
        }
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON object kept as its entries in document order (duplicates included).
#[derive(Debug)]
struct Ordered<'a, T>(Vec<(Text<'a>, T)>);

impl<T> Default for Ordered<'_, T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Ordered<'a, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<'a, T>(PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<'a, T> {
            type Value = Ordered<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 12));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// One entry of `workspaces` (the version ranges are not needed, only the names).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireWorkspace<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    dependencies: Ordered<'a, IgnoredAny>,
    #[serde(borrow)]
    dev_dependencies: Ordered<'a, IgnoredAny>,
    #[serde(borrow)]
    optional_dependencies: Ordered<'a, IgnoredAny>,
    #[serde(borrow)]
    peer_dependencies: Ordered<'a, IgnoredAny>,
}

/// The info object of a package entry (`os`, `cpu`, `bin`, … are not needed and skipped).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireInfo<'a> {
    #[serde(borrow)]
    dependencies: Ordered<'a, IgnoredAny>,
    #[serde(borrow)]
    optional_dependencies: Ordered<'a, IgnoredAny>,
    #[serde(borrow)]
    peer_dependencies: Ordered<'a, IgnoredAny>,
}

/// One entry of `packages`: `["name@resolution", …]`.
#[derive(Debug)]
struct WireEntry<'a> {
    spec: Text<'a>,
    items: Vec<Item<'a>>,
}

/// An element of a package entry after the first.
#[derive(Debug)]
enum Item<'a> {
    Text(Cow<'a, str>),
    Info(WireInfo<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for WireEntry<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = WireEntry<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a package entry [\"name@version\", …]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let spec: Text<'de> = seq.next_element()?.ok_or_else(|| {
                    de::Error::custom("empty package entry, expected [\"name@version\", …]")
                })?;
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Item<'de>>()? {
                    if items.len() >= MAX_ENTRY_ELEMENTS {
                        return Err(de::Error::custom("package entry has too many elements"));
                    }
                    items.push(item);
                }
                Ok(WireEntry { spec, items })
            }
        }
        deserializer.deserialize_seq(EntryVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Item<'de>, E> {
                Ok(Item::Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Item<'de>, E> {
                Ok(Item::Text(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Item<'de>, E> {
                Ok(Item::Text(Cow::Owned(value)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<'de>, A::Error> {
                WireInfo::deserialize(de::value::MapAccessDeserializer::new(map)).map(Item::Info)
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Into the model

/// How a package entry was resolved, from the part of its first element after `name@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// `["name@1.2.3", "registry url or \"\"", {info}, "sha512-…"]`
    Npm,
    /// `["name@workspace:path"]` (v0 adds an info object): a member, not a package.
    Workspace,
    /// `["name@root:", {bin}]`: the project itself.
    Root,
    /// `["name@file:path", {info}]`
    Folder,
    /// `["name@link:path", {info}]`
    Link,
    /// `["name@github:user/repo#ref", {info}, "bun tag", "sha512-…"?]` and `git+…`
    Git,
    /// `["name@https://…/x.tgz", {info}, "sha512-…"?]`
    RemoteTarball,
    /// `["name@./x.tgz", {info}, "sha512-…"?]`
    LocalTarball,
}

impl EntryKind {
    fn of(resolution: &str) -> Self {
        let lower = resolution;
        if lower.starts_with("workspace:") {
            Self::Workspace
        } else if lower.starts_with("root:") {
            Self::Root
        } else if lower.starts_with("file:") {
            Self::Folder
        } else if lower.starts_with("link:") {
            Self::Link
        } else if SourceKind::classify(lower) == SourceKind::Git && !lower.starts_with("http") {
            Self::Git
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::RemoteTarball
        } else if lower.ends_with(".tgz")
            || lower.ends_with(".tar.gz")
            || lower.ends_with(".tar")
            || lower.starts_with('.')
            || lower.starts_with('/')
        {
            Self::LocalTarball
        } else {
            Self::Npm
        }
    }
}

/// What a `packages` key points at.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Package(usize),
    Member,
    Root,
}

/// Conversion state.
struct Builder<'w> {
    lockfile: Lockfile,
    by_key: HashMap<&'w str, usize>,
    slots: Vec<Slot>,
    unresolved: WarningSink,
    bad_integrity: WarningSink,
    scratch: String,
    /// Reused buffer for the names of one hoisting path.
    segments: Vec<(usize, usize)>,
    /// The ends of the names of every package's hoisting path, back to back…
    ends: Vec<usize>,
    /// …and each package's range of them, by package index.
    package_ends: Vec<(usize, usize)>,
}

impl<'w> Builder<'w> {
    fn build(
        lockfile: Lockfile,
        wire: Wire<'_>,
        cleaned: &Cleaned,
    ) -> Result<Lockfile, ExtractError> {
        let entries = &wire.packages.0;
        let mut builder = Builder {
            lockfile,
            by_key: HashMap::with_capacity(entries.len()),
            slots: Vec::with_capacity(entries.len()),
            unresolved: WarningSink::default(),
            bad_integrity: WarningSink::default(),
            scratch: String::new(),
            segments: Vec::new(),
            ends: Vec::with_capacity(entries.len() * 2),
            package_ends: Vec::with_capacity(entries.len()),
        };
        let lines = if cleaned.package_lines.len() == entries.len() {
            cleaned.package_lines.clone()
        } else {
            builder.lockfile.warnings.push(
                "could not locate the lines of the package entries; they point at `packages`"
                    .to_owned(),
            );
            vec![cleaned.packages_line; entries.len()]
        };
        let mut duplicates = WarningSink::default();
        let mut member_keys: HashMap<&str, &str> = HashMap::new();
        for (index, ((key, entry), &line)) in entries.iter().zip(&lines).enumerate() {
            if builder.by_key.insert(key.as_str(), index).is_some() {
                duplicates.push(|| {
                    format!("line {line}: package key `{key}` appears twice; the last one wins")
                });
            }
            let slot = builder.read_entry(key, entry, line)?;
            if let Slot::Member = slot
                && let Some((_, resolution)) = split_name_at(entry.spec.as_str())
            {
                let member_path = resolution.strip_prefix("workspace:").unwrap_or(resolution);
                member_keys.insert(member_path, key.as_str());
            }
            builder.slots.push(slot);
        }
        duplicates.drain_into(&mut builder.lockfile.warnings, "duplicate keys");

        // Dependencies of packages, resolved through the hoisting paths.
        for (index, (key, entry)) in entries.iter().enumerate() {
            let Some(&Slot::Package(package)) = builder.slots.get(index) else {
                continue;
            };
            let Some(info) = entry.items.iter().find_map(|item| match item {
                Item::Info(info) => Some(info),
                Item::Text(_) => None,
            }) else {
                continue;
            };
            let groups = [
                (&info.dependencies, DependencyKind::Prod),
                (&info.optional_dependencies, DependencyKind::Optional),
                (&info.peer_dependencies, DependencyKind::Peer),
            ];
            let ends = builder.package_ends[package];
            let dependencies = builder.resolve_groups(key, ends, &groups);
            builder.lockfile.packages[package].dependencies = dependencies;
        }

        // Importers: the root first, then the members.
        let mut importers = Vec::with_capacity(wire.workspaces.0.len().max(1));
        for (path, workspace) in &wire.workspaces.0 {
            let prefix = if path.is_empty() {
                ""
            } else {
                member_keys
                    .get(path.as_str())
                    .copied()
                    .or(workspace.name.as_ref().map(Text::as_str))
                    .unwrap_or_default()
            };
            let start = builder.ends.len();
            if key_segments_into(prefix, &mut builder.segments) {
                let segments = &builder.segments;
                builder.ends.extend(segments.iter().map(|&(_, end)| end));
            }
            let ends = (start, builder.ends.len());
            let groups = [
                (&workspace.dependencies, DependencyKind::Prod),
                (&workspace.dev_dependencies, DependencyKind::Dev),
                (&workspace.optional_dependencies, DependencyKind::Optional),
                (&workspace.peer_dependencies, DependencyKind::Peer),
            ];
            let dependencies = builder.resolve_groups(prefix, ends, &groups);
            importers.push(Importer {
                path: path.as_str().to_owned(),
                name: workspace.name.as_ref().map(|name| name.as_str().to_owned()),
                version: workspace.version.as_ref().map(|v| v.as_str().to_owned()),
                dependencies,
            });
        }
        match importers
            .iter()
            .position(|importer| importer.path.is_empty())
        {
            Some(0) => {}
            Some(root) => importers.swap(0, root),
            None => {
                builder
                    .lockfile
                    .warnings
                    .push("bun.lock has no root workspace (`\"\"`)".to_owned());
                importers.insert(0, Importer::default());
            }
        }
        builder.lockfile.importers = importers;
        let Builder {
            mut lockfile,
            unresolved,
            bad_integrity,
            ..
        } = builder;
        bad_integrity.drain_into(&mut lockfile.warnings, "unusable integrity values");
        unresolved.drain_into(&mut lockfile.warnings, "unresolved dependencies");
        Ok(lockfile)
    }

    /// Turns one `packages` entry into a package (or notes a member or the root).
    fn read_entry(
        &mut self,
        key: &str,
        entry: &WireEntry<'_>,
        line: u32,
    ) -> Result<Slot, ExtractError> {
        let file = &self.lockfile.file;
        let (name, resolution) = split_name_at(entry.spec.as_str()).ok_or_else(|| {
            ExtractError::at_line(
                file,
                line,
                format!(
                    "package `{key}`: `{}` is not `name@version`",
                    entry.spec.as_str()
                ),
            )
        })?;
        if !key_segments_into(key, &mut self.segments) {
            return Err(ExtractError::at_line(
                file,
                line,
                format!("package key `{key}` is not a hoisting path"),
            ));
        }
        let kind = EntryKind::of(resolution);
        match kind {
            EntryKind::Workspace => return Ok(Slot::Member),
            EntryKind::Root => return Ok(Slot::Root),
            _ => {}
        }
        let info_at = entry
            .items
            .iter()
            .position(|item| matches!(item, Item::Info(_)));
        let texts = |before: bool| {
            entry
                .items
                .iter()
                .enumerate()
                .filter(move |(i, _)| info_at.is_none_or(|at| (*i < at) == before))
                .filter_map(|(_, item)| match item {
                    Item::Text(text) => Some(text.as_ref()),
                    Item::Info(_) => None,
                })
        };
        let (version, resolved, source, integrity) = match kind {
            EntryKind::Npm => {
                let registry = texts(true).next().filter(|url| !url.is_empty());
                let integrity = if info_at.is_some() {
                    texts(false).next()
                } else {
                    texts(true).nth(1)
                };
                (
                    resolution,
                    registry.map(str::to_owned),
                    SourceKind::Registry,
                    integrity,
                )
            }
            EntryKind::Folder => (
                resolution.strip_prefix("file:").unwrap_or(resolution),
                Some(resolution.to_owned()),
                SourceKind::File,
                None,
            ),
            EntryKind::Link => (
                resolution.strip_prefix("link:").unwrap_or(resolution),
                Some(resolution.to_owned()),
                SourceKind::Link,
                None,
            ),
            EntryKind::Git => (
                resolution,
                Some(resolution.to_owned()),
                SourceKind::Git,
                texts(false).nth(1),
            ),
            EntryKind::RemoteTarball => (
                resolution,
                Some(resolution.to_owned()),
                SourceKind::RemoteTarball,
                texts(false).next(),
            ),
            EntryKind::LocalTarball | EntryKind::Workspace | EntryKind::Root => (
                resolution,
                Some(resolution.to_owned()),
                SourceKind::File,
                texts(false).next(),
            ),
        };
        if version.is_empty() {
            return Err(ExtractError::at_line(
                file,
                line,
                format!("package `{key}` has an empty version"),
            ));
        }
        let segments = &self.segments;
        let mut package = Package::new(name, version, line);
        let installed_as = segments
            .last()
            .map_or(key, |&(start, end)| &key[start..end]);
        package.alias = (installed_as != name).then(|| installed_as.to_owned());
        package.resolved = resolved;
        package.source = source;
        package.install_path = Some(install_path(segments.iter().map(|&(s, e)| &key[s..e])));
        let start = self.ends.len();
        self.ends.extend(segments.iter().map(|&(_, end)| end));
        self.package_ends.push((start, self.ends.len()));
        package.integrity = match integrity.filter(|value| !value.is_empty()) {
            None => None,
            Some(value) => match Integrity::parse_sri(value) {
                Ok(parsed) => Some(parsed),
                Err(error) => {
                    self.bad_integrity.push(|| {
                        format!(
                            "line {line}: package `{key}` has an unusable integrity value: {error}"
                        )
                    });
                    None
                }
            },
        };
        self.lockfile.packages.push(package);
        Ok(Slot::Package(self.lockfile.packages.len() - 1))
    }

    /// Resolves dependency lists declared by the package at hoisting path `from` (`""` for the
    /// root), whose names end at `self.ends[range]`.
    fn resolve_groups(
        &mut self,
        from: &str,
        range: (usize, usize),
        groups: &[(&Ordered<'_, IgnoredAny>, DependencyKind)],
    ) -> Vec<Dependency> {
        let Builder {
            by_key,
            slots,
            unresolved,
            scratch,
            ends,
            ..
        } = self;
        let segment_ends = ends.get(range.0..range.1).unwrap_or_default();
        let count = groups.iter().map(|(list, _)| list.0.len()).sum();
        let mut dependencies = Vec::with_capacity(count);
        for (list, kind) in groups {
            for (name, _) in &list.0 {
                let name = name.as_str();
                let target = match find(by_key, slots, scratch, from, segment_ends, name) {
                    Some(Slot::Package(index)) => Some(PackageId(index)),
                    Some(Slot::Member | Slot::Root) => None,
                    None => {
                        if matches!(kind, DependencyKind::Prod | DependencyKind::Dev) {
                            let from = if from.is_empty() { "the root" } else { from };
                            unresolved.push(|| {
                                format!(
                                    "`{from}` depends on `{name}`, which no package entry resolves"
                                )
                            });
                        }
                        None
                    }
                };
                dependencies.push(Dependency {
                    name: name.to_owned(),
                    kind: *kind,
                    target,
                });
            }
        }
        dependencies
    }
}

/// bun's lookup of `name` from the package at hoisting path `from`: `<from>/<name>`, then each
/// parent of `from`, then `<name>`.
fn find(
    by_key: &HashMap<&str, usize>,
    slots: &[Slot],
    scratch: &mut String,
    from: &str,
    segment_ends: &[usize],
    name: &str,
) -> Option<Slot> {
    for &end in segment_ends.iter().rev() {
        scratch.clear();
        scratch.push_str(from.get(..end)?);
        scratch.push('/');
        scratch.push_str(name);
        if let Some(&index) = by_key.get(scratch.as_str()) {
            return slots.get(index).copied();
        }
    }
    let &index = by_key.get(name)?;
    slots.get(index).copied()
}

/// [`key_segments_into`], allocating.
#[cfg(test)]
fn key_segments(key: &str) -> Option<Vec<(usize, usize)>> {
    let mut segments = Vec::new();
    key_segments_into(key, &mut segments).then_some(segments)
}

/// Fills `segments` with the `(start, end)` byte ranges of the package names in a hoisting
/// path: `a/@s/b/c` has `a`, `@s/b` and `c`. False (the buffer then unspecified) for an empty
/// path, an empty name, or more than [`MAX_HOISTING_DEPTH`] names.
fn key_segments_into(key: &str, segments: &mut Vec<(usize, usize)>) -> bool {
    segments.clear();
    let bytes = key.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let slash_after =
            |from: usize| memchr::memchr(b'/', bytes.get(from..)?).map(|offset| from + offset);
        let end = if bytes[start] == b'@' {
            match slash_after(start) {
                Some(scope_end) => slash_after(scope_end + 1).unwrap_or(bytes.len()),
                None => bytes.len(),
            }
        } else {
            slash_after(start).unwrap_or(bytes.len())
        };
        if end <= start || key.get(start..end).is_none_or(|name| name.ends_with('/')) {
            return false;
        }
        if segments.len() >= MAX_HOISTING_DEPTH {
            return false;
        }
        segments.push((start, end));
        start = end + 1;
        if end < bytes.len() && start >= bytes.len() {
            return false;
        }
    }
    !segments.is_empty()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use bulwark_types::{Algorithm, SourceKind};

    use super::super::test_support::{
        as_listed, assert_install_paths, assert_workspace_alias_graph, extract, extract_bytes,
        fixture, listing, time_extraction,
    };
    use super::*;
    use crate::bun_lock::BunLockExtractor;

    /// The 1-based line of the first line of fixture `name` containing `needle`.
    fn line_of(name: &str, needle: &str) -> u32 {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let index = text.lines().position(|l| l.contains(needle)).unwrap();
        u32::try_from(index + 1).unwrap()
    }

    #[test]
    fn generated_lockfiles_equal_bun_listing() {
        for version in ["v0", "v1", "v2"] {
            let name = format!("workspace-alias.{version}.lock");
            let lockfile = extract(&BunLockExtractor, &name).unwrap();
            assert_eq!(
                as_listed(&lockfile),
                listing(&format!("workspace-alias.{version}.pm-ls.txt")),
                "{name}"
            );
            assert_install_paths(&lockfile, &format!("workspace-alias.{version}.pm-ls.txt"));
            assert_eq!(lockfile.format_version, &version[1..]);
            assert!(
                lockfile.warnings.is_empty(),
                "{name}: {:?}",
                lockfile.warnings
            );
            assert_workspace_alias_graph(&lockfile);

            let strip = lockfile
                .packages
                .iter()
                .find(|p| p.name == "strip-ansi")
                .unwrap();
            assert_eq!(strip.alias.as_deref(), Some("strip"));
            assert_eq!(strip.install_path.as_deref(), Some("node_modules/strip"));
            assert_eq!(
                strip.integrity.as_ref().unwrap().algorithm,
                Algorithm::Sha512
            );
            assert_eq!(strip.source, SourceKind::Registry);
            assert_eq!(strip.resolved, None);

            let nested = lockfile
                .packages
                .iter()
                .find(|p| p.name == "ms" && p.version == "2.1.2")
                .unwrap();
            assert_eq!(
                nested.install_path.as_deref(),
                Some("node_modules/debug/node_modules/ms")
            );
            assert_eq!(nested.line, line_of(&name, "\"debug/ms\":"));
            assert_eq!(nested.alias, None);

            let local = lockfile
                .packages
                .iter()
                .find(|p| p.name == "local-thing")
                .unwrap();
            assert_eq!(local.source, SourceKind::File);
            assert_eq!(local.resolved.as_deref(), Some("file:vendor/local-thing"));
            let tarball = lockfile
                .packages
                .iter()
                .find(|p| p.name == "left-pad")
                .unwrap();
            assert_eq!(tarball.source, SourceKind::RemoteTarball);
            // bun 1.4 (lockfileVersion 2) records the tarball's integrity, older ones do not.
            assert_eq!(tarball.integrity.is_some(), version == "v2");

            let members: Vec<_> = lockfile
                .importers
                .iter()
                .map(|i| i.version.as_deref())
                .collect();
            assert_eq!(members, [None, Some("0.1.0"), Some("0.2.0")]);
            assert!(
                lockfile
                    .packages
                    .iter()
                    .all(|p| p.source != SourceKind::Workspace)
            );
        }
    }

    #[test]
    fn every_entry_shape() {
        let name = "shapes.synthetic.lock";
        let lockfile = extract(&BunLockExtractor, name).unwrap();
        let find = |n: &str, v: &str| {
            lockfile
                .packages
                .iter()
                .find(|p| p.name == n && p.version == v)
                .unwrap_or_else(|| panic!("{n}@{v} in {:#?}", lockfile.packages))
        };
        let github = find("from-github", "github:user/repo#0123abc");
        assert_eq!(github.source, SourceKind::Git);
        assert_eq!(
            github.line,
            line_of(name, "\"from-github\": [\"from-github")
        );
        let git = find("from-git", "git+https://git.example.com/r.git#fedcba9");
        assert_eq!(git.source, SourceKind::Git);
        assert!(git.integrity.is_some());
        assert_eq!(find("linked", "../linked").source, SourceKind::Link);
        assert_eq!(
            find("local-tgz", "./vendor/local-1.0.0.tgz").source,
            SourceKind::File
        );
        let mirror = find("mirror", "2.0.1");
        assert_eq!(
            mirror.resolved.as_deref(),
            Some("https://mirror.example.com/mirror/-/mirror-2.0.1.tgz")
        );
        assert_eq!(mirror.integrity, None);
        assert_eq!(find("@s/y", "1.0.0").integrity, None);
        assert_eq!(
            find("@s/y", "2.0.0").install_path.as_deref(),
            Some("node_modules/@s/x/node_modules/@s/y")
        );
        let edge = |from, dep| super::super::test_support::edge(&lockfile, from, dep);
        assert_eq!(edge("@s/x@1.2.0", "@s/y").as_deref(), Some("@s/y@2.0.0"));
        assert_eq!(
            edge("from-github@github:user/repo#0123abc", "@s/y").as_deref(),
            Some("@s/y@1.0.0")
        );
        assert_eq!(edge("@s/x@1.2.0", "nope"), None);
        assert_eq!(edge("importer:", "member"), None);
        assert_eq!(lockfile.packages.len(), 8);
        assert_eq!(lockfile.importers[1].version.as_deref(), Some("3.1.4"));
        // One warning: the unusable integrity of @s/y@1.0.0 (unresolved peers are not warned).
        assert_eq!(lockfile.warnings.len(), 1, "{:?}", lockfile.warnings);
        assert!(lockfile.warnings[0].contains("`@s/y`"));
    }

    #[test]
    fn cleans_jsonc_without_moving_lines() {
        let cases = [
            ("{\"a\": [1, 2,],}", "{\"a\": [1, 2 ] }"),
            // The trailing comma and the 7 bytes of the comment become 9 spaces.
            ("{\"a\": \"x,]\", // c, ]\n}", "{\"a\": \"x,]\"         \n}"),
            ("{\"a\": 1, /* x\n */ }", "{\"a\": 1      \n    }"),
            ("[\"\\\",\",]", "[\"\\\",\" ]"),
            (
                "{\"a\": \"//not a comment\"}",
                "{\"a\": \"//not a comment\"}",
            ),
        ];
        for (input, expected) in cases {
            let cleaned = clean(input).unwrap().json;
            assert_eq!(cleaned.len(), input.len(), "{input}");
            assert_eq!(cleaned, expected, "{input}");
        }
        let errors = [
            ("{\"a\": \"open", "unterminated string"),
            ("{/* open", "unterminated block comment"),
        ];
        for (input, expected) in errors {
            assert_eq!(clean(input).unwrap_err().1, expected, "{input}");
        }
    }

    #[test]
    fn splits_hoisting_paths() {
        let cases: [(&str, Option<Vec<&str>>); 9] = [
            ("a", Some(vec!["a"])),
            ("a/b", Some(vec!["a", "b"])),
            ("@s/x/@s/y", Some(vec!["@s/x", "@s/y"])),
            ("@s/x/b/@t/c", Some(vec!["@s/x", "b", "@t/c"])),
            ("", None),
            ("a//b", None),
            ("a/", None),
            ("@s/", None),
            ("/a", None),
        ];
        for (key, expected) in cases {
            let segments =
                key_segments(key).map(|s| s.iter().map(|&(a, b)| &key[a..b]).collect::<Vec<_>>());
            assert_eq!(segments, expected, "{key:?}");
        }
        let deepest = vec!["a"; MAX_HOISTING_DEPTH].join("/");
        assert_eq!(
            key_segments(&deepest).map(|s| s.len()),
            Some(MAX_HOISTING_DEPTH)
        );
        assert_eq!(key_segments(&format!("{deepest}/a")), None);
    }

    /// Hostile inputs: each is an error naming the file (and the line where it can), never a
    /// panic.
    #[test]
    fn hostile_inputs_are_errors() {
        let deep = format!(
            "{{\"lockfileVersion\": 1, \"packages\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let cases: Vec<(&str, Vec<u8>, &str, Option<u32>)> = vec![
            ("garbage", b"this is not json at all".to_vec(), "invalid JSON", Some(1)),
            ("binary", vec![0xff, 0xfe, 0x00, 0x81, 0x7f], "not valid UTF-8", Some(1)),
            ("empty", Vec::new(), "invalid JSON", Some(1)),
            ("no version", b"{\"packages\": {}}".to_vec(), "lockfileVersion", Some(1)),
            (
                "version is a string",
                b"{\"lockfileVersion\": \"1\"}".to_vec(),
                "invalid type",
                Some(1),
            ),
            (
                "packages is an array",
                b"{\"lockfileVersion\": 1,\n\"packages\": []}".to_vec(),
                "invalid type",
                Some(2),
            ),
            (
                "entry is a number",
                b"{\"lockfileVersion\": 1, \"packages\": {\n\"a\": 5}}".to_vec(),
                "invalid type",
                Some(2),
            ),
            (
                "entry is empty",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a\": []}}".to_vec(),
                "empty package entry",
                Some(1),
            ),
            (
                "entry element is a number",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@1\", 7]}}".to_vec(),
                "a string or an object",
                Some(1),
            ),
            (
                "dependencies is a string",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@1\", \"\", {\"dependencies\": \"x\"}]}}"
                    .to_vec(),
                "invalid type",
                Some(1),
            ),
            (
                "workspace dependencies is a list",
                b"{\"lockfileVersion\": 1, \"workspaces\": {\"\": {\"dependencies\": [1]}}}".to_vec(),
                "invalid type",
                Some(1),
            ),
            (
                "spec without a version",
                b"{\"lockfileVersion\": 1, \"packages\": {\n\n\"a\": [\"a\", \"\", {}, \"\"]}}".to_vec(),
                "is not `name@version`",
                Some(3),
            ),
            (
                "empty version",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@\", \"\", {}, \"\"]}}".to_vec(),
                "empty version",
                Some(1),
            ),
            (
                "bad key",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a//b\": [\"b@1\", \"\", {}, \"\"]}}"
                    .to_vec(),
                "not a hoisting path",
                Some(1),
            ),
            (
                "too many elements",
                b"{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@1\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]}}"
                    .to_vec(),
                "too many elements",
                Some(1),
            ),
            ("deeply nested", deep.into_bytes(), "nested too deeply", Some(1)),
            ("unterminated comment", b"{\n/*".to_vec(), "unterminated block comment", Some(2)),
        ];
        for (label, contents, message, line) in cases {
            let error = extract_bytes(&BunLockExtractor, "dir/bun.lock", &contents)
                .err()
                .unwrap_or_else(|| panic!("{label}: parsed"));
            assert_eq!(error.file, Path::new("dir/bun.lock"), "{label}");
            assert!(error.message.contains(message), "{label}: {error}");
            assert_eq!(error.line, line, "{label}: {error}");
        }
    }

    #[test]
    fn every_prefix_of_a_real_lockfile_is_handled() {
        let contents = std::fs::read(fixture("workspace-alias.v1.lock")).unwrap();
        let mut parsed = 0;
        for len in 0..contents.len() {
            // No panic, and every error names the file.
            match extract_bytes(&BunLockExtractor, "bun.lock", &contents[..len]) {
                Ok(_) => parsed += 1,
                Err(error) => assert_eq!(error.file, Path::new("bun.lock")),
            }
        }
        // Only the prefixes that end after the final `}` are complete documents.
        assert!(parsed <= 2, "{parsed} truncated prefixes parsed");
    }

    #[test]
    fn tolerates_unknown_versions_and_missing_root() {
        let text =
            b"{\"lockfileVersion\": 9, \"packages\": {\"a\": [\"a@1.0.0\", \"\", {}, \"\"]}}";
        let lockfile = extract_bytes(&BunLockExtractor, "bun.lock", text).unwrap();
        assert_eq!(lockfile.format_version, "9");
        assert_eq!(lockfile.packages.len(), 1);
        assert_eq!(lockfile.importers.len(), 1);
        assert!(lockfile.importers[0].path.is_empty());
        assert_eq!(lockfile.warnings.len(), 2, "{:?}", lockfile.warnings);
        assert!(lockfile.warnings[0].contains("lockfileVersion 9"));
    }

    #[test]
    fn caps_warnings_of_one_kind() {
        let mut text =
            String::from("{\"lockfileVersion\": 1, \"workspaces\": {\"\": {}}, \"packages\": {");
        for i in 0..30 {
            text.push_str(&format!(
                "\"p{i}\": [\"p{i}@1.0.0\", \"\", {{}}, \"sha512-bad\"],"
            ));
        }
        text.push_str("}}");
        let lockfile = extract_bytes(&BunLockExtractor, "bun.lock", text.as_bytes()).unwrap();
        assert_eq!(lockfile.packages.len(), 30);
        assert_eq!(lockfile.warnings.len(), 21, "{:?}", lockfile.warnings);
        assert_eq!(
            lockfile.warnings.last().unwrap(),
            "… and 10 more unusable integrity values"
        );
    }

    #[test]
    fn warns_about_unresolved_and_duplicate_entries() {
        let text = br#"{"lockfileVersion": 1,
            "workspaces": {"": {"dependencies": {"gone": "1"}}},
            "packages": {
              "a": ["a@1.0.0", "", {"dependencies": {"missing": "1"}}, ""],
              "a": ["a@2.0.0", "", {}, ""],
            }}"#;
        let lockfile = extract_bytes(&BunLockExtractor, "bun.lock", text).unwrap();
        assert_eq!(lockfile.packages.len(), 2);
        let warnings = lockfile.warnings.join("\n");
        assert!(warnings.contains("`a` appears twice"), "{warnings}");
        assert!(warnings.contains("`a` depends on `missing`"), "{warnings}");
        assert!(
            warnings.contains("`the root` depends on `gone`"),
            "{warnings}"
        );
        assert_eq!(lockfile.packages[0].line, 4);
        assert_eq!(lockfile.packages[1].line, 5);
    }

    /// `cargo test --release -p bulwark-lockfile --lib -- --ignored --nocapture lock_10k`
    #[test]
    #[ignore = "timing; run in release mode"]
    #[expect(clippy::print_stdout, reason = "reports the measured time")]
    fn lock_10k_entries_under_50_ms() {
        use std::fmt::Write as _;
        let integrity = "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==";
        let mut text = String::from(
            "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\n    \"\": {\n      \"name\": \"big\",\n      \"dependencies\": {\n",
        );
        for i in 1..=100 {
            let _ = writeln!(text, "        \"package-{i}\": \"^1.0.0\",");
        }
        text.push_str("      },\n    },\n  },\n  \"packages\": {\n");
        let count = 10_000;
        for i in 1..=count {
            let children: Vec<String> = [2 * i, 2 * i + 1]
                .into_iter()
                .filter(|&c| c <= count)
                .map(|c| format!("\"package-{c}\": \"^1.0.0\""))
                .collect();
            let _ = writeln!(
                text,
                "    \"package-{i}\": [\"package-{i}@1.0.{i}\", \"\", {{ \"dependencies\": {{ {} }} }}, \"{integrity}\"],\n",
                children.join(", ")
            );
        }
        text.push_str("  }\n}\n");
        let (parse, total) = time_extraction(40, || {
            let lockfile = extract_bytes(&BunLockExtractor, "bun.lock", text.as_bytes()).unwrap();
            assert_eq!(lockfile.packages.len(), 10_000);
            assert!(lockfile.warnings.is_empty());
            lockfile
        });
        println!(
            "bun.lock, 10,000 packages, {} bytes: parse {parse:?}, parse + inventory {total:?} (CPU)",
            text.len()
        );
        assert!(total.as_millis() < 50, "{total:?}");
    }

    /// The hono bun.lock's hoisting keys are exactly the tree bun prints for it: the same
    /// install path holds the same package, for all 1152 entries.
    #[test]
    fn real_lock_install_paths_are_buns_tree() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
            .join("fixtures/lockfiles-real/bun-lock/hono-v1/bun.lock");
        let contents = std::fs::read(&path).unwrap();
        let lockfile = extract_bytes(&BunLockExtractor, "bun.lock", &contents).unwrap();
        let ours: std::collections::BTreeSet<(String, String)> = lockfile
            .packages
            .iter()
            .map(|p| {
                let installed = p.alias.as_deref().unwrap_or(&p.name);
                (
                    p.install_path.clone().unwrap(),
                    format!("{installed}@{}", p.version),
                )
            })
            .collect();
        let tree = super::super::test_support::listing_tree("real-hono-v1.bun-lock.pm-ls.txt");
        assert_eq!(ours.len(), 1152);
        let missing: Vec<_> = tree.difference(&ours).take(10).collect();
        let extra: Vec<_> = ours.difference(&tree).take(10).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:#?}\nextra {extra:#?}"
        );
    }
}
