//! `bun.lockb`, bun's binary lockfile: bun's in-memory lockfile written out as struct arrays.
//!
//! The layout (little-endian, from bun's `bun.lockb.zig`, `Package.zig` and `Buffers.zig`):
//!
//! ```text
//! "#!/usr/bin/env bun\nbun-lockfile-format-v0\n"  u32 format  [32]u8 meta hash  u64 data end
//! packages: u64 count, u64 alignment (8), u64 field count (8), u64 begin, u64 end,
//!           then one column per field between begin and end:
//!           name String(8) | name hash u64 | Resolution | dependencies slice (u32 off, u32 len)
//!           | resolutions slice | Meta(88) | Bin(20) | Scripts(49)
//! buffers:  six arrays, each u64 begin, u64 end, a type-name line, padding, then the data:
//!           trees [20]u8, hoisted dependency ids u32, resolutions u32 (package id per
//!           dependency), dependencies [26]u8, external strings [16]u8, string bytes
//! u64 0, then optional tagged sections ("wOrKsPaC": workspace versions and paths, …)
//! ```
//!
//! A `String` is 8 bytes: inline text (zero-padded) when the top bit of the last byte is clear,
//! else a `u32` offset and a `u32` length (top bit set) into the string bytes. Format 2 (bun
//! 0.1.7 to 1.1) stores semver numbers as `u32` (a 64-byte `Resolution`); format 3 (bun 1.2+)
//! as `u64` (72 bytes). Every offset, length and count read from the file is checked against the
//! buffer before use.

use std::collections::HashMap;
use std::path::Path;

use bulwark_types::{Algorithm, Integrity, SourceKind};

use super::WarningSink;
use crate::{
    Dependency, DependencyKind, ExtractError, Importer, Input, Lockfile, Package, PackageId,
};

/// The first bytes of every bun.lockb.
/// The most elements preallocated from a count read from the file (a corrupt count must not
/// make the allocator abort; found by `cargo fuzz run bun_lockb`).
const PREALLOCATION_LIMIT: usize = 1 << 16;

const HEADER: &[u8] = b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n";
/// Where the package table header starts: header, format, meta hash, data end.
const PACKAGES_AT: usize = HEADER.len() + 4 + 32 + 8;
/// The tag of the optional workspace section after the buffers.
const WORKSPACE_TAG: &[u8; 8] = b"wOrKsPaC";
/// The dependency id of the root tree node (trees older than bun 1.0 store package ids).
const ROOT_DEPENDENCY_ID: u32 = u32::MAX - 1;
/// Deepest `node_modules` nesting for which an install path is computed.
const MAX_TREE_DEPTH: usize = 256;
/// The most bytes spent on install paths (a hostile file could make a few long names repeat
/// in many tree nodes); paths beyond it are left unknown, with a warning.
const MAX_INSTALL_PATH_BYTES: usize = 64 << 20;

const STRING: usize = 8;
const META: usize = 88;
const BIN: usize = 20;
const SCRIPTS: usize = 49;
const TREE: usize = 20;
const DEPENDENCY: usize = 26;

/// `Dependency.Behavior` bits.
const PROD: u8 = 1 << 1;
const OPTIONAL: u8 = 1 << 2;
const DEV: u8 = 1 << 3;
const PEER: u8 = 1 << 4;

/// `Resolution.Tag` values.
mod tag {
    pub(super) const UNINITIALIZED: u8 = 0;
    pub(super) const ROOT: u8 = 1;
    pub(super) const NPM: u8 = 2;
    pub(super) const FOLDER: u8 = 4;
    pub(super) const LOCAL_TARBALL: u8 = 8;
    pub(super) const GITHUB: u8 = 16;
    pub(super) const GITLAB: u8 = 24;
    pub(super) const GIT: u8 = 32;
    pub(super) const GIT_HTTP: u8 = 33;
    pub(super) const SYMLINK: u8 = 64;
    pub(super) const WORKSPACE: u8 = 72;
    pub(super) const REMOTE_TARBALL: u8 = 80;
}

/// What differs between the supported formats.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Bytes of one semver number (`u32` in format 2, `u64` in format 3).
    number: usize,
}

impl Layout {
    fn of(format: u32) -> Option<Self> {
        match format {
            2 => Some(Self { number: 4 }),
            3 => Some(Self { number: 8 }),
            _ => None,
        }
    }

    /// `Semver.Version`: three numbers (padded to 8 bytes), then pre and build
    /// `ExternalString`s of 16 bytes each.
    fn version_size(self) -> usize {
        (3 * self.number).next_multiple_of(8) + 32
    }

    /// `Resolution`: a tag padded to 8 bytes, then a union as large as `VersionedURL`.
    fn resolution_size(self) -> usize {
        8 + STRING + self.version_size()
    }
}

/// Reads a `bun.lockb`.
pub(super) fn extract(input: &Input<'_>, format: &'static str) -> Result<Lockfile, ExtractError> {
    let file = Bytes {
        data: input.contents,
        path: input.path,
    };
    if !input.contents.starts_with(HEADER) {
        return Err(file.error("not a bun.lockb: the `bun-lockfile-format-v0` header is missing"));
    }
    let version = file.u32_at(HEADER.len(), "format version")?;
    let layout = Layout::of(version).ok_or_else(|| {
        file.error(format!(
            "bun.lockb format {version} is not supported; run `bun install --save-text-lockfile` \
             to write a text bun.lock"
        ))
    })?;
    let data_end = file.usize_at(PACKAGES_AT - 8, "data end")?;
    if data_end > file.data.len() {
        return Err(file.error(format!(
            "bun.lockb is truncated: it says its data ends at byte {data_end}, but the file has {} bytes",
            file.data.len()
        )));
    }
    let file = Bytes {
        data: &input.contents[..data_end],
        path: input.path,
    };
    let table = PackageTable::read(&file, layout)?;
    let (buffers, after) = Buffers::read(&file, table.end)?;
    if file.u64_at(after, "end of buffers marker")? != 0 {
        return Err(file.error(format!(
            "bun.lockb is malformed: expected 0 after the buffers at offset {after}"
        )));
    }
    let mut lockfile = Lockfile::new(input.path, format, version.to_string());
    let workspace_versions = match read_workspace_versions(&file, layout, &buffers, after + 8) {
        Ok(versions) => versions,
        Err(error) => {
            lockfile.warnings.push(format!(
                "workspace versions are unreadable: {}",
                error.message
            ));
            HashMap::new()
        }
    };
    let decoder = Decoder {
        file: &file,
        layout,
        table: &table,
        buffers: &buffers,
    };
    decoder.build(lockfile, &workspace_versions)
}

/// The file's bytes with checked accessors; every error names the file.
#[derive(Clone, Copy)]
struct Bytes<'a> {
    data: &'a [u8],
    path: &'a Path,
}

impl<'a> Bytes<'a> {
    fn error(&self, message: impl Into<String>) -> ExtractError {
        ExtractError::new(self.path, message)
    }

    fn get(&self, start: usize, len: usize, what: &str) -> Result<&'a [u8], ExtractError> {
        start
            .checked_add(len)
            .and_then(|end| self.data.get(start..end))
            .ok_or_else(|| {
                self.error(format!(
                    "bun.lockb is truncated or corrupt: {what} ({len} bytes at offset {start}) \
                     lies outside the {} bytes of data",
                    self.data.len()
                ))
            })
    }

    fn u32_at(&self, at: usize, what: &str) -> Result<u32, ExtractError> {
        let bytes = self.get(at, 4, what)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64_at(&self, at: usize, what: &str) -> Result<u64, ExtractError> {
        let bytes = self.get(at, 8, what)?;
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(word))
    }

    fn usize_at(&self, at: usize, what: &str) -> Result<usize, ExtractError> {
        let value = self.u64_at(at, what)?;
        usize::try_from(value).map_err(|_| {
            self.error(format!(
                "bun.lockb is corrupt: {what} `{value}` is too large"
            ))
        })
    }
}

fn u32_le(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

fn u64_le(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    if let Some(slice) = bytes.get(at..at + 8) {
        word.copy_from_slice(slice);
    }
    u64::from_le_bytes(word)
}

/// The package table: where each column starts.
#[derive(Debug)]
struct PackageTable {
    count: usize,
    /// Start offsets of the name, name hash, resolution, dependencies, resolutions and meta
    /// columns.
    columns: [usize; 6],
    /// Where the table ends (the buffers follow).
    end: usize,
}

impl PackageTable {
    fn read(file: &Bytes<'_>, layout: Layout) -> Result<Self, ExtractError> {
        let count = file.usize_at(PACKAGES_AT, "package count")?;
        let alignment = file.u64_at(PACKAGES_AT + 8, "package alignment")?;
        let fields = file.u64_at(PACKAGES_AT + 16, "package field count")?;
        let begin = file.usize_at(PACKAGES_AT + 24, "package table start")?;
        let end = file.usize_at(PACKAGES_AT + 32, "package table end")?;
        if alignment != 8 {
            return Err(file.error(format!(
                "bun.lockb is corrupt: package alignment is {alignment}, expected 8"
            )));
        }
        let sizes = [
            STRING,
            8,
            layout.resolution_size(),
            8,
            8,
            META,
            BIN,
            SCRIPTS,
        ];
        // Lockfiles older than bun 0.6.8 have no scripts column.
        let used = match fields {
            8 => &sizes[..],
            7 => &sizes[..7],
            _ => {
                return Err(file.error(format!(
                    "bun.lockb is corrupt: {fields} package fields, expected 8"
                )));
            }
        };
        // Field sizes come from the file: add and multiply without overflow (found by
        // `cargo fuzz run bun_lockb`).
        let row = used
            .iter()
            .try_fold(0_usize, |sum, &size| sum.checked_add(size));
        let table_len = end.checked_sub(begin);
        let expected = row.and_then(|row| count.checked_mul(row));
        let row = row.unwrap_or(usize::MAX);
        if begin < PACKAGES_AT + 40 || end > file.data.len() || table_len != expected {
            return Err(file.error(format!(
                "bun.lockb is corrupt: {count} packages of {row} bytes do not fit the package \
                 table at bytes {begin}..{end}"
            )));
        }
        let mut columns = [0; 6];
        let mut at = begin;
        for (column, size) in columns.iter_mut().zip(sizes) {
            *column = at;
            at = count
                .checked_mul(size)
                .and_then(|bytes| at.checked_add(bytes))
                .filter(|&next| next <= end)
                .ok_or_else(|| {
                    file.error(format!(
                        "bun.lockb is corrupt: a package column of {size} bytes does not fit \
                         the package table at bytes {begin}..{end}"
                    ))
                })?;
        }
        Ok(Self {
            count,
            columns,
            end,
        })
    }
}

/// The six arrays after the package table.
#[derive(Debug)]
struct Buffers<'a> {
    trees: &'a [u8],
    hoisted: &'a [u8],
    resolutions: &'a [u8],
    dependencies: &'a [u8],
    strings: &'a [u8],
}

impl<'a> Buffers<'a> {
    /// Reads the arrays starting at `at`; returns them and the offset after the last one.
    fn read(file: &Bytes<'a>, mut at: usize) -> Result<(Self, usize), ExtractError> {
        let names = [
            ("trees", TREE),
            ("hoisted dependencies", 4),
            ("resolutions", 4),
            ("dependencies", DEPENDENCY),
            ("external strings", 16),
            ("string bytes", 1),
        ];
        let mut arrays = [&[][..]; 6];
        for (slot, (name, element)) in arrays.iter_mut().zip(names) {
            let (array, next) = read_array(file, at, name, element)?;
            *slot = array;
            at = next;
        }
        let [
            trees,
            hoisted,
            resolutions,
            dependencies,
            _extern_strings,
            strings,
        ] = arrays;
        if resolutions.len() / 4 != dependencies.len() / DEPENDENCY {
            return Err(file.error(format!(
                "bun.lockb is corrupt: {} resolutions for {} dependencies",
                resolutions.len() / 4,
                dependencies.len() / DEPENDENCY
            )));
        }
        Ok((
            Self {
                trees,
                hoisted,
                resolutions,
                dependencies,
                strings,
            },
            at,
        ))
    }
}

/// One array: `u64 begin`, `u64 end` (absolute), then the data somewhere in between.
fn read_array<'a>(
    file: &Bytes<'a>,
    at: usize,
    name: &str,
    element: usize,
) -> Result<(&'a [u8], usize), ExtractError> {
    let begin = file.usize_at(at, name)?;
    let end = file.usize_at(at + 8, name)?;
    let data_start = at + 16;
    if begin < data_start || begin > end || end > file.data.len() {
        return Err(file.error(format!(
            "bun.lockb is corrupt: the {name} array claims bytes {begin}..{end} (header at \
             offset {at}, {} bytes of data)",
            file.data.len()
        )));
    }
    let data = file.get(begin, end - begin, name)?;
    if data.len() % element != 0 {
        return Err(file.error(format!(
            "bun.lockb is corrupt: the {name} array has {} bytes, not a multiple of {element}",
            data.len()
        )));
    }
    Ok((data, end))
}

/// Reads the workspace member versions of the tagged section after the buffers, by name hash.
fn read_workspace_versions(
    file: &Bytes<'_>,
    layout: Layout,
    buffers: &Buffers<'_>,
    at: usize,
) -> Result<HashMap<u64, String>, ExtractError> {
    let mut versions = HashMap::new();
    if file.data.len().saturating_sub(at) <= 8 || file.get(at, 8, "section tag")? != WORKSPACE_TAG {
        return Ok(versions);
    }
    let (hashes, next) = read_array(file, at + 8, "workspace name hashes", 8)?;
    let (values, _) = read_array(file, next, "workspace versions", layout.version_size())?;
    let strings = Strings {
        bytes: buffers.strings,
    };
    for (hash, value) in hashes
        .chunks_exact(8)
        .zip(values.chunks_exact(layout.version_size()))
    {
        if let Ok(version) = format_version(value, layout, &strings) {
            versions.insert(u64_le(hash, 0), version);
        }
    }
    Ok(versions)
}

/// The string bytes, resolving 8-byte `String`s.
#[derive(Clone, Copy)]
struct Strings<'a> {
    bytes: &'a [u8],
}

impl<'a> Strings<'a> {
    fn get(&self, raw: &'a [u8]) -> Result<&'a str, String> {
        let Some(&last) = raw.get(STRING - 1) else {
            return Err("a string field is cut short".to_owned());
        };
        let bytes = if last & 0x80 == 0 {
            let raw = &raw[..STRING];
            let len = raw.iter().position(|&b| b == 0).unwrap_or(STRING);
            &raw[..len]
        } else {
            let offset = u32_le(raw, 0) as usize;
            let len = (u32_le(raw, 4) & 0x7fff_ffff) as usize;
            offset
                .checked_add(len)
                .and_then(|end| self.bytes.get(offset..end))
                .ok_or_else(|| {
                    format!(
                        "a string ({len} bytes at {offset}) lies outside the {} bytes of strings",
                        self.bytes.len()
                    )
                })?
        };
        std::str::from_utf8(bytes).map_err(|_| "a string is not valid UTF-8".to_owned())
    }
}

/// Formats a `Semver.Version`.
fn format_version(raw: &[u8], layout: Layout, strings: &Strings<'_>) -> Result<String, String> {
    let number = |index: usize| -> u64 {
        let at = index * layout.number;
        if layout.number == 4 {
            u64::from(u32_le(raw, at))
        } else {
            u64_le(raw, at)
        }
    };
    let mut version = format!("{}.{}.{}", number(0), number(1), number(2));
    let tags = (3 * layout.number).next_multiple_of(8);
    let pre = strings.get(raw.get(tags..tags + STRING).unwrap_or_default())?;
    let build = strings.get(raw.get(tags + 16..tags + 16 + STRING).unwrap_or_default())?;
    if !pre.is_empty() {
        version.push('-');
        version.push_str(pre);
    }
    if !build.is_empty() {
        version.push('+');
        version.push_str(build);
    }
    Ok(version)
}

/// One row of the package table, decoded.
#[derive(Debug)]
struct Row {
    name: String,
    name_hash: u64,
    tag: u8,
    /// The version or location, as bun prints it.
    version: String,
    resolved: Option<String>,
    source: SourceKind,
    integrity: Option<Integrity>,
    /// Range into the dependency and resolution buffers.
    dependencies: std::ops::Range<usize>,
}

/// One dependency of a row: the name it is required by, its kind, the package id it resolved
/// to (`None` when bun left it unresolved).
#[derive(Debug)]
struct Edge {
    name: String,
    kind: DependencyKind,
    target: Option<usize>,
}

/// Decodes the table and buffers into the model.
struct Decoder<'f, 'a> {
    file: &'f Bytes<'a>,
    layout: Layout,
    table: &'f PackageTable,
    buffers: &'f Buffers<'a>,
}

impl Decoder<'_, '_> {
    fn strings(&self) -> Strings<'_> {
        Strings {
            bytes: self.buffers.strings,
        }
    }

    fn cell(&self, column: usize, index: usize, size: usize) -> Result<&[u8], ExtractError> {
        let at = index
            .checked_mul(size)
            .and_then(|offset| offset.checked_add(self.table.columns[column]))
            .ok_or_else(|| {
                self.file
                    .error("bun.lockb is corrupt: package index overflow")
            })?;
        self.file.get(at, size, "a package table cell")
    }

    fn corrupt(&self, index: usize, message: &str) -> ExtractError {
        self.file
            .error(format!("bun.lockb is corrupt: package #{index}: {message}"))
    }

    fn row(&self, index: usize) -> Result<Row, ExtractError> {
        let strings = self.strings();
        let name = strings
            .get(self.cell(0, index, STRING)?)
            .map_err(|m| self.corrupt(index, &m))?
            .to_owned();
        let name_hash = u64_le(self.cell(1, index, 8)?, 0);
        let resolution = self.cell(2, index, self.layout.resolution_size())?;
        let dependencies = self.cell(3, index, 8)?;
        let resolutions = self.cell(4, index, 8)?;
        let meta = self.cell(5, index, META)?;

        let (offset, len) = (
            u32_le(dependencies, 0) as usize,
            u32_le(dependencies, 4) as usize,
        );
        let total = self.buffers.dependencies.len() / DEPENDENCY;
        let range = offset..offset.saturating_add(len);
        if range.end > total
            || u32_le(resolutions, 0) as usize != offset
            || u32_le(resolutions, 4) as usize != len
        {
            return Err(self.corrupt(
                index,
                &format!("its dependencies {range:?} lie outside the {total} recorded"),
            ));
        }

        let tag = resolution[0];
        let value = &resolution[8..];
        let text = |at: usize| -> Result<String, ExtractError> {
            strings
                .get(value.get(at..at + STRING).unwrap_or_default())
                .map(str::to_owned)
                .map_err(|m| self.corrupt(index, &m))
        };
        let (version, resolved, source) = match tag {
            tag::NPM => {
                let url = text(0)?;
                let version = format_version(&value[STRING..], self.layout, &strings)
                    .map_err(|m| self.corrupt(index, &m))?;
                (
                    version,
                    Some(url).filter(|u| !u.is_empty()),
                    SourceKind::Registry,
                )
            }
            tag::FOLDER => {
                let path = text(0)?;
                (path.clone(), Some(format!("file:{path}")), SourceKind::File)
            }
            tag::LOCAL_TARBALL => {
                let path = text(0)?;
                (path.clone(), Some(path), SourceKind::File)
            }
            tag::SYMLINK => {
                let path = text(0)?;
                (path.clone(), Some(format!("link:{path}")), SourceKind::Link)
            }
            tag::REMOTE_TARBALL => {
                let url = text(0)?;
                (url.clone(), Some(url), SourceKind::RemoteTarball)
            }
            tag::GITHUB | tag::GITLAB | tag::GIT | tag::GIT_HTTP => {
                let (owner, repo) = (text(0)?, text(STRING)?);
                let (committish, commit) = (text(2 * STRING)?, text(3 * STRING)?);
                let mut spec = String::from(match tag {
                    tag::GITHUB => "github:",
                    tag::GITLAB => "gitlab:",
                    _ => "git+",
                });
                if !owner.is_empty() {
                    spec.push_str(&owner);
                    spec.push('/');
                }
                spec.push_str(&repo);
                let reference = if commit.is_empty() {
                    committish
                } else {
                    commit
                };
                if !reference.is_empty() {
                    spec.push('#');
                    spec.push_str(&reference);
                }
                (spec.clone(), Some(spec), SourceKind::Git)
            }
            tag::WORKSPACE => (text(0)?, None, SourceKind::Workspace),
            _ => (String::new(), None, SourceKind::Unknown),
        };
        Ok(Row {
            name,
            name_hash,
            tag,
            version,
            resolved,
            source,
            integrity: integrity(meta),
            dependencies: range,
        })
    }

    /// The dependency edges of one row, in the order bun recorded them.
    fn edges(&self, row: &Row) -> Result<Vec<Edge>, ExtractError> {
        let strings = self.strings();
        // Capacities come from the file: never preallocate more than a sane amount.
        let mut edges = Vec::with_capacity(row.dependencies.len().min(PREALLOCATION_LIMIT));
        for dependency in row.dependencies.clone() {
            let raw = self
                .buffers
                .dependencies
                .get(dependency * DEPENDENCY..(dependency + 1) * DEPENDENCY)
                .unwrap_or_default();
            let behavior = raw.get(16).copied().unwrap_or_default();
            let kind = if behavior & PEER != 0 {
                DependencyKind::Peer
            } else if behavior & DEV != 0 {
                DependencyKind::Dev
            } else if behavior & OPTIONAL != 0 {
                DependencyKind::Optional
            } else if behavior & PROD != 0 {
                DependencyKind::Prod
            } else {
                // Only the workspace bit: the root's list of its workspace members.
                continue;
            };
            let name = strings
                .get(raw.get(..STRING).unwrap_or_default())
                .map_err(|m| {
                    self.file.error(format!(
                        "bun.lockb is corrupt: dependency #{dependency}: {m}"
                    ))
                })?
                .to_owned();
            let target = u32_le(self.buffers.resolutions, dependency * 4) as usize;
            let target = (target < self.table.count).then_some(target);
            edges.push(Edge { name, kind, target });
        }
        Ok(edges)
    }

    fn build(
        &self,
        mut lockfile: Lockfile,
        workspace_versions: &HashMap<u64, String>,
    ) -> Result<Lockfile, ExtractError> {
        let count = self.table.count;
        let mut rows = Vec::with_capacity(count.min(PREALLOCATION_LIMIT));
        let mut edges = Vec::with_capacity(count.min(PREALLOCATION_LIMIT));
        for index in 0..count {
            let row = self.row(index)?;
            edges.push(self.edges(&row)?);
            rows.push(row);
        }

        // Importers: the root package and the workspace members.
        let is_importer = |row: &Row| matches!(row.tag, tag::ROOT | tag::WORKSPACE);
        let importer_rows: Vec<usize> = (0..count).filter(|&i| is_importer(&rows[i])).collect();
        if rows.first().is_none_or(|row| row.tag != tag::ROOT) {
            lockfile
                .warnings
                .push("bun.lockb has no root package as its first entry".to_owned());
        }

        // Packages are what the importers reach; bun drops the rest when it lists or installs.
        let mut reachable = vec![false; count];
        let mut queue: Vec<usize> = importer_rows.clone();
        while let Some(index) = queue.pop() {
            for &Edge { target, .. } in &edges[index] {
                if let Some(target) = target
                    && !is_importer(&rows[target])
                    && !std::mem::replace(&mut reachable[target], true)
                {
                    queue.push(target);
                }
            }
        }
        let mut model_index = vec![None; count];
        let mut uninitialized = WarningSink::default();
        let mut orphans = WarningSink::default();
        for (index, row) in rows.iter_mut().enumerate() {
            if is_importer(row) {
                continue;
            }
            if row.tag == tag::UNINITIALIZED || row.source == SourceKind::Unknown {
                uninitialized.push(|| {
                    format!(
                        "package `{}` (#{index}) has no usable resolution (tag {}); skipped",
                        row.name, row.tag
                    )
                });
                continue;
            }
            if !reachable[index] {
                orphans.push(|| {
                    format!(
                        "`{}@{}` is recorded but nothing depends on it; bun drops it, and so does this inventory",
                        row.name, row.version
                    )
                });
                continue;
            }
            model_index[index] = Some(lockfile.packages.len());
            // Moved, not cloned: only importer rows are read again below.
            let mut package = Package::new(
                std::mem::take(&mut row.name),
                std::mem::take(&mut row.version),
                1,
            );
            package.resolved = row.resolved.take();
            package.source = row.source;
            package.integrity = row.integrity.take();
            lockfile.packages.push(package);
        }
        uninitialized.drain_into(&mut lockfile.warnings, "unresolved packages");
        orphans.drain_into(&mut lockfile.warnings, "orphaned packages");

        let mut unresolved = WarningSink::default();
        let mut to_model = |from: &str, edges: Vec<Edge>| {
            edges
                .into_iter()
                .map(|Edge { name, kind, target }| {
                    let original = target;
                    let target = original.and_then(|t| model_index[t]).map(PackageId);
                    let points_at_member =
                        original.and_then(|t| rows.get(t)).is_some_and(is_importer);
                    if target.is_none()
                        && !points_at_member
                        && matches!(kind, DependencyKind::Prod | DependencyKind::Dev)
                    {
                        unresolved.push(|| {
                            format!("`{from}` depends on `{name}`, which bun did not resolve")
                        });
                    }
                    Dependency { name, kind, target }
                })
                .collect::<Vec<_>>()
        };
        for (index, edges) in edges.iter_mut().enumerate() {
            if let Some(package) = model_index[index] {
                let dependencies =
                    to_model(&lockfile.packages[package].name, std::mem::take(edges));
                lockfile.packages[package].dependencies = dependencies;
            }
        }
        for &index in &importer_rows {
            let row = &rows[index];
            let dependencies = to_model(&row.name, std::mem::take(&mut edges[index]));
            let (path, version) = if row.tag == tag::ROOT {
                (String::new(), None)
            } else {
                (
                    row.version.clone(),
                    workspace_versions.get(&row.name_hash).cloned(),
                )
            };
            lockfile.importers.push(Importer {
                path,
                name: Some(row.name.clone()).filter(|name| !name.is_empty()),
                version,
                dependencies,
            });
        }
        if lockfile
            .importers
            .first()
            .is_none_or(|importer| !importer.path.is_empty())
        {
            lockfile.importers.insert(0, Importer::default());
        }
        // Members in path order, as bun lists them.
        if let Some(members) = lockfile.importers.get_mut(1..) {
            members.sort_by(|a, b| a.path.cmp(&b.path));
        }
        unresolved.drain_into(&mut lockfile.warnings, "unresolved dependencies");
        self.install_paths(&mut lockfile, &model_index);
        Ok(lockfile)
    }

    /// Sets each package's `install_path` (and alias) from the hoisted trees.
    fn install_paths(&self, lockfile: &mut Lockfile, model_index: &[Option<usize>]) {
        let trees = self.buffers.trees;
        let tree_count = trees.len() / TREE;
        if tree_count == 0 || u32_le(trees, 4) != ROOT_DEPENDENCY_ID {
            return;
        }
        let strings = self.strings();
        let dependency_name = |dependency: usize| -> Option<&str> {
            let raw = self
                .buffers
                .dependencies
                .get(dependency.checked_mul(DEPENDENCY)?..)?
                .get(..STRING)?;
            strings.get(raw).ok()
        };
        let hoisted_count = self.buffers.hoisted.len() / 4;
        let dependency_count = self.buffers.dependencies.len() / DEPENDENCY;
        let mut budget = MAX_INSTALL_PATH_BYTES;
        // (path prefix ending in "node_modules", depth) per tree node.
        let mut prefixes: Vec<Option<(String, usize)>> =
            Vec::with_capacity(tree_count.min(PREALLOCATION_LIMIT));
        let mut skipped = false;
        for tree in 0..tree_count {
            let at = tree * TREE;
            let prefix = if tree == 0 {
                Some((String::from("node_modules"), 0))
            } else {
                let parent = u32_le(trees, at + 8) as usize;
                let dependency = u32_le(trees, at + 4) as usize;
                match (
                    prefixes.get(parent).and_then(Option::as_ref),
                    dependency_name(dependency),
                ) {
                    (Some((parent_prefix, depth)), Some(name))
                        if *depth < MAX_TREE_DEPTH
                            && spend(&mut budget, parent_prefix.len() + name.len() + 14) =>
                    {
                        Some((format!("{parent_prefix}/{name}/node_modules"), depth + 1))
                    }
                    _ => {
                        skipped = true;
                        None
                    }
                }
            };
            if let Some((prefix, _)) = &prefix {
                let offset = u32_le(trees, at + 12) as usize;
                let len = u32_le(trees, at + 16) as usize;
                if offset.saturating_add(len) > hoisted_count {
                    skipped = true;
                } else {
                    for slot in offset..offset + len {
                        let dependency = u32_le(self.buffers.hoisted, slot * 4) as usize;
                        if dependency >= dependency_count {
                            skipped = true;
                            continue;
                        }
                        let package = u32_le(self.buffers.resolutions, dependency * 4) as usize;
                        let (Some(Some(model)), Some(name)) =
                            (model_index.get(package), dependency_name(dependency))
                        else {
                            continue;
                        };
                        let package = &mut lockfile.packages[*model];
                        if package.install_path.is_none() {
                            if !spend(&mut budget, prefix.len() + name.len() + 1) {
                                skipped = true;
                                continue;
                            }
                            package.install_path = Some(format!("{prefix}/{name}"));
                            if name != package.name {
                                package.alias = Some(name.to_owned());
                            }
                        }
                    }
                }
            }
            prefixes.push(prefix);
        }
        if skipped {
            lockfile.warnings.push(
                "some hoisted tree entries of bun.lockb are inconsistent; their install paths are unknown"
                    .to_owned(),
            );
        }
    }
}

/// Takes `bytes` from `budget`; false when it does not have them.
fn spend(budget: &mut usize, bytes: usize) -> bool {
    match budget.checked_sub(bytes) {
        Some(left) => {
            *budget = left;
            true
        }
        None => false,
    }
}

/// The integrity of a `Meta`: a tag byte at 20 and up to 64 digest bytes after it.
fn integrity(meta: &[u8]) -> Option<Integrity> {
    let algorithm = match meta.get(20)? {
        1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha384,
        4 => Algorithm::Sha512,
        _ => return None,
    };
    let digest = meta.get(21..21 + algorithm.digest_len())?.to_vec();
    Some(Integrity { algorithm, digest })
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
    use crate::bun_lock::BunLockbExtractor;

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(fixture(name)).unwrap()
    }

    /// Where the header (`u64 begin, u64 end`) of the resolutions array is.
    fn resolutions_header(contents: &[u8]) -> usize {
        let file = Bytes {
            data: contents,
            path: Path::new("x"),
        };
        let table_end = file.usize_at(PACKAGES_AT + 32, "end").unwrap();
        let (_, after_trees) = read_array(&file, table_end, "trees", TREE).unwrap();
        let (_, after_hoisted) = read_array(&file, after_trees, "hoisted", 4).unwrap();
        after_hoisted
    }

    /// Where the resolutions array's data starts.
    fn resolutions_offset(contents: &[u8]) -> usize {
        usize::try_from(u64_le(contents, resolutions_header(contents))).unwrap()
    }

    #[test]
    fn generated_lockfiles_equal_bun_listing() {
        for format in ["2", "3"] {
            let name = format!("workspace-alias.format{format}.lockb");
            let lockfile = extract(&BunLockbExtractor, &name).unwrap();
            assert_eq!(
                as_listed(&lockfile),
                listing(&format!("workspace-alias.format{format}.pm-ls.txt")),
                "{name}"
            );
            assert_install_paths(
                &lockfile,
                &format!("workspace-alias.format{format}.pm-ls.txt"),
            );
            assert_eq!(lockfile.format_version, format);
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
            assert_eq!(
                strip.integrity.as_ref().unwrap().to_string(),
                "sha512-Y38VPSHcqkFrCpFnQ9vuSXmquuv5oXOKpGeT6aGrr3o3Gc9AlVa6JBfUSOCnbxGGZF+/0ooI7KrPuUSztUdU5A=="
            );
            assert_eq!(
                strip.resolved.as_deref(),
                Some("https://registry.npmjs.org/strip-ansi/-/strip-ansi-6.0.1.tgz")
            );
            assert_eq!(strip.source, SourceKind::Registry);
            assert_eq!(strip.line, 1);

            let install = |n: &str, v: &str| {
                lockfile
                    .packages
                    .iter()
                    .find(|p| p.name == n && p.version == v)
                    .and_then(|p| p.install_path.as_deref())
            };
            assert_eq!(
                install("ms", "2.1.2"),
                Some("node_modules/debug/node_modules/ms")
            );
            assert_eq!(
                install("ms", "2.0.0"),
                Some("node_modules/@fx/lib/node_modules/ms")
            );
            assert_eq!(install("ms", "2.1.3"), Some("node_modules/ms"));

            let source = |n: &str| {
                lockfile
                    .packages
                    .iter()
                    .find(|p| p.name == n)
                    .unwrap()
                    .source
            };
            assert_eq!(source("local-thing"), SourceKind::File);
            assert_eq!(source("left-pad"), SourceKind::RemoteTarball);
            let members: Vec<_> = lockfile
                .importers
                .iter()
                .map(|i| i.version.as_deref())
                .collect();
            assert_eq!(members, [None, Some("0.1.0"), Some("0.2.0")]);
        }
    }

    #[test]
    fn every_prefix_is_an_error_until_the_data_ends() {
        let contents = read("workspace-alias.format2.lockb");
        let data_end = usize::try_from(u64_le(&contents, PACKAGES_AT - 8)).unwrap();
        assert!(data_end < contents.len());
        for len in 0..=contents.len() {
            let result = extract_bytes(&BunLockbExtractor, "p/bun.lockb", &contents[..len]);
            match result {
                Ok(lockfile) => {
                    assert!(len >= data_end, "prefix of {len} bytes parsed");
                    assert_eq!(lockfile.packages.len(), 13);
                }
                Err(error) => {
                    assert!(len < data_end, "{len}: {error}");
                    assert_eq!(error.file, Path::new("p/bun.lockb"));
                }
            }
        }
    }

    #[test]
    fn corrupting_any_byte_never_panics() {
        for name in [
            "workspace-alias.format2.lockb",
            "workspace-alias.format3.lockb",
        ] {
            let original = read(name);
            let mut contents = original.clone();
            for index in 0..contents.len() {
                for value in [0xff, original[index] ^ 0x80, 0] {
                    contents[index] = value;
                    if let Err(error) = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents) {
                        assert_eq!(error.file, Path::new("bun.lockb"));
                        assert!(!error.message.is_empty());
                    }
                }
                contents[index] = original[index];
            }
        }
    }

    #[test]
    fn unsupported_formats_say_how_to_migrate() {
        let mut contents = read("workspace-alias.format2.lockb");
        for format in [0_u32, 1, 4, u32::MAX] {
            contents[HEADER.len()..HEADER.len() + 4].copy_from_slice(&format.to_le_bytes());
            let error = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap_err();
            assert_eq!(
                error.message,
                format!(
                    "bun.lockb format {format} is not supported; run `bun install \
                     --save-text-lockfile` to write a text bun.lock"
                )
            );
        }
    }

    #[test]
    fn hostile_inputs_are_errors() {
        let text = std::fs::read(fixture("workspace-alias.v1.lock")).unwrap();
        let mut huge_count = read("workspace-alias.format3.lockb");
        huge_count[PACKAGES_AT..PACKAGES_AT + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut backwards = read("workspace-alias.format2.lockb");
        let header = resolutions_header(&backwards);
        backwards[header..header + 8].copy_from_slice(&8_u64.to_le_bytes());
        let mut bad_alignment = read("workspace-alias.format2.lockb");
        bad_alignment[PACKAGES_AT + 8] = 4;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty", Vec::new(), "header is missing"),
            ("text lockfile", text, "header is missing"),
            (
                "garbage",
                [0xde, 0xad, 0xbe, 0xef].repeat(100),
                "header is missing",
            ),
            ("header only", HEADER.to_vec(), "truncated or corrupt"),
            (
                "huge package count",
                huge_count,
                "do not fit the package table",
            ),
            ("array pointing backwards", backwards, "array claims bytes"),
            ("alignment", bad_alignment, "alignment is 4"),
        ];
        for (label, contents, message) in cases {
            let error = extract_bytes(&BunLockbExtractor, "x/bun.lockb", &contents)
                .err()
                .unwrap_or_else(|| panic!("{label}: parsed"));
            assert_eq!(error.file, Path::new("x/bun.lockb"), "{label}");
            assert!(error.message.contains(message), "{label}: {error}");
        }
    }

    #[test]
    fn orphans_are_dropped_with_a_warning() {
        // Unresolve the root's `left-pad` dependency: nothing else reaches the tarball, so it
        // becomes an orphan, as bun itself would treat it.
        let mut contents = read("workspace-alias.format2.lockb");
        let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
        let before = lockfile.packages.len();
        let position = lockfile.importers[0]
            .dependencies
            .iter()
            .position(|d| d.name == "left-pad")
            .unwrap();
        // The root's dependencies start at 0 and its two workspace-list entries are skipped.
        let dependency = position + 2;
        let at = resolutions_offset(&contents) + dependency * 4;
        contents[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
        assert_eq!(lockfile.packages.len(), before - 1);
        assert!(lockfile.packages.iter().all(|p| p.name != "left-pad"));
        let warnings = lockfile.warnings.join("\n");
        assert!(warnings.contains("`left-pad@https://"), "{warnings}");
        assert!(
            warnings.contains("depends on `left-pad`, which bun did not resolve"),
            "{warnings}"
        );
    }

    #[test]
    fn decodes_strings_and_versions() {
        let strings = Strings {
            bytes: b"hello world",
        };
        let cases: [(&[u8], Result<&str, ()>); 5] = [
            (b"ms\0\0\0\0\0\0", Ok("ms")),
            (b"abcdefgh", Ok("abcdefgh")),
            (&[6, 0, 0, 0, 5, 0, 0, 0x80], Ok("world")),
            (&[6, 0, 0, 0, 6, 0, 0, 0x80], Err(())),
            (&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Err(())),
        ];
        for (raw, expected) in cases {
            assert_eq!(strings.get(raw).map_err(|_| ()), expected, "{raw:?}");
        }
        let mut v2 = vec![0_u8; Layout { number: 4 }.version_size()];
        v2[0] = 1;
        v2[4] = 2;
        v2[8] = 3;
        v2[16..24].copy_from_slice(b"beta.1\0\0");
        let layout = Layout { number: 4 };
        assert_eq!(
            format_version(&v2, layout, &strings).unwrap(),
            "1.2.3-beta.1"
        );
        let mut v3 = vec![0_u8; Layout { number: 8 }.version_size()];
        v3[0] = 10;
        v3[16] = 1;
        v3[40..48].copy_from_slice(b"build\0\0\0");
        let layout = Layout { number: 8 };
        assert_eq!(
            format_version(&v3, layout, &strings).unwrap(),
            "10.0.1+build"
        );
        assert_eq!(Layout::of(2).unwrap().resolution_size(), 64);
        assert_eq!(Layout::of(3).unwrap().resolution_size(), 72);
    }

    /// A package of a synthetic lockfile: name, resolution tag, resolution value, and its
    /// dependencies as `(name, behavior, target package id)`.
    type SyntheticRow = (String, u8, Vec<u8>, Vec<(String, u8, u32)>);

    /// Writes synthetic bun.lockb files in bun's layout, for shapes and sizes the generated
    /// fixtures do not have. Dependencies of package `i` are `(name, behavior, target)`.
    struct Writer {
        layout: Layout,
        strings: Vec<u8>,
        rows: Vec<SyntheticRow>,
    }

    impl Writer {
        fn new(format: u32) -> Self {
            Self {
                layout: Layout::of(format).unwrap(),
                strings: Vec::new(),
                rows: Vec::new(),
            }
        }

        fn string(&mut self, text: &str) -> [u8; 8] {
            let mut raw = [0; 8];
            if text.len() <= 8 && text.as_bytes().last().is_none_or(|&b| b < 0x80) {
                raw[..text.len()].copy_from_slice(text.as_bytes());
            } else {
                let offset = u32::try_from(self.strings.len()).unwrap();
                self.strings.extend_from_slice(text.as_bytes());
                let len = u32::try_from(text.len()).unwrap() | 0x8000_0000;
                raw[..4].copy_from_slice(&offset.to_le_bytes());
                raw[4..].copy_from_slice(&len.to_le_bytes());
            }
            raw
        }

        /// A resolution value holding one string (folder, tarball, symlink, workspace).
        fn text_value(&mut self, text: &str) -> Vec<u8> {
            let mut value = self.string(text).to_vec();
            value.resize(self.layout.resolution_size() - 8, 0);
            value
        }

        /// An npm resolution value: tarball URL and version (with an optional pre-release).
        fn npm_value(&mut self, url: &str, numbers: [u64; 3], pre: &str) -> Vec<u8> {
            let mut value = self.string(url).to_vec();
            for number in numbers {
                if self.layout.number == 4 {
                    value.extend_from_slice(&u32::try_from(number).unwrap().to_le_bytes());
                } else {
                    value.extend_from_slice(&number.to_le_bytes());
                }
            }
            value.resize(STRING + (3 * self.layout.number).next_multiple_of(8), 0);
            let pre = self.string(pre);
            value.extend_from_slice(&pre);
            value.resize(self.layout.resolution_size() - 8, 0);
            value
        }

        /// A git or github resolution value: owner, repo, committish, resolved commit.
        fn repository_value(&mut self, parts: [&str; 4]) -> Vec<u8> {
            let mut value = Vec::new();
            for part in parts {
                let raw = self.string(part);
                value.extend_from_slice(&raw);
            }
            value.resize(self.layout.resolution_size() - 8, 0);
            value
        }

        fn package(&mut self, name: &str, tag: u8, value: Vec<u8>, deps: &[(&str, u8, u32)]) {
            let deps = deps
                .iter()
                .map(|&(n, behavior, target)| (n.to_owned(), behavior, target))
                .collect();
            self.rows.push((name.to_owned(), tag, value, deps));
        }

        fn finish(mut self) -> Vec<u8> {
            fn pad(out: &mut Vec<u8>) {
                out.resize(out.len().next_multiple_of(8), 0);
            }
            fn array(out: &mut Vec<u8>, data: &[u8]) {
                let header = out.len();
                out.extend_from_slice(&[0; 16]);
                out.extend_from_slice(b"\n<synthetic> 1 sizeof, 1 alignof\n");
                pad(out);
                let begin = out.len() as u64;
                out.extend_from_slice(data);
                let end = out.len() as u64;
                out[header..header + 8].copy_from_slice(&begin.to_le_bytes());
                out[header + 8..header + 16].copy_from_slice(&end.to_le_bytes());
            }
            let rows = std::mem::take(&mut self.rows);
            let (mut names, mut dependencies, mut resolutions) =
                (Vec::new(), Vec::new(), Vec::new());
            let mut slices = Vec::new();
            for (name, _, _, deps) in &rows {
                names.push(self.string(name));
                let offset = u32::try_from(resolutions.len() / 4).unwrap();
                for (dep, behavior, target) in deps {
                    let mut raw = [0_u8; DEPENDENCY];
                    raw[..8].copy_from_slice(&self.string(dep));
                    raw[16] = *behavior;
                    raw[17] = 1;
                    dependencies.extend_from_slice(&raw);
                    resolutions.extend_from_slice(&target.to_le_bytes());
                }
                let mut slice = offset.to_le_bytes().to_vec();
                slice.extend_from_slice(&u32::try_from(deps.len()).unwrap().to_le_bytes());
                slices.push(slice);
            }
            let mut out = HEADER.to_vec();
            out.extend_from_slice(&self.layout_format().to_le_bytes());
            out.extend_from_slice(&[0; 32]);
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
            out.extend_from_slice(&8_u64.to_le_bytes());
            out.extend_from_slice(&8_u64.to_le_bytes());
            let range_at = out.len();
            out.extend_from_slice(&[0; 16]);
            pad(&mut out);
            let begin = out.len() as u64;
            names.iter().for_each(|name| out.extend_from_slice(name));
            out.extend(std::iter::repeat_n(0, rows.len() * 8));
            for (_, tag, value, _) in &rows {
                out.push(*tag);
                out.extend_from_slice(&[0; 7]);
                out.extend_from_slice(value);
            }
            slices.iter().for_each(|slice| out.extend_from_slice(slice));
            slices.iter().for_each(|slice| out.extend_from_slice(slice));
            for (index, _) in rows.iter().enumerate() {
                let mut meta = [0_u8; META];
                meta[20] = 4;
                meta[21] = u8::try_from(index % 251).unwrap();
                out.extend_from_slice(&meta);
            }
            out.extend(std::iter::repeat_n(0, rows.len() * (BIN + SCRIPTS)));
            let end = out.len() as u64;
            out[range_at..range_at + 8].copy_from_slice(&begin.to_le_bytes());
            out[range_at + 8..range_at + 16].copy_from_slice(&end.to_le_bytes());
            let strings = std::mem::take(&mut self.strings);
            for data in [&[][..], &[], &resolutions, &dependencies, &[], &strings] {
                array(&mut out, data);
            }
            out.extend_from_slice(&[0; 8]);
            let data_end = out.len() as u64;
            out[PACKAGES_AT - 8..PACKAGES_AT].copy_from_slice(&data_end.to_le_bytes());
            out
        }

        fn layout_format(&self) -> u32 {
            if self.layout.number == 4 { 2 } else { 3 }
        }
    }

    #[test]
    fn decodes_every_resolution_kind() {
        for format in [2, 3] {
            let mut writer = Writer::new(format);
            let root = writer.text_value("");
            let npm = writer.npm_value("https://r.example/a/-/a-1.2.3-rc.1.tgz", [1, 2, 3], "rc.1");
            let big = writer.npm_value("", [4_000_000_000, 0, 7], "");
            let github = writer.repository_value(["user", "repo", "v1", "0123abc"]);
            let git = writer.repository_value(["", "https://git.example.com/r.git", "main", ""]);
            let link = writer.text_value("../linked");
            let local = writer.text_value("vendor/local-1.0.0.tgz");
            let member = writer.text_value("packages/member-with-a-long-path");
            let unknown = writer.text_value("");
            let prod = PROD;
            writer.package(
                "root",
                tag::ROOT,
                root,
                &[
                    ("alias-a", prod, 1),
                    ("big", DEV, 2),
                    ("from-github", OPTIONAL, 3),
                    ("from-git", prod, 4),
                    ("linked", prod, 5),
                    ("local", prod, 6),
                    ("member", 0x20, 7),
                    ("gone", prod, u32::MAX),
                    ("weird", prod, 8),
                ],
            );
            writer.package("a", tag::NPM, npm, &[("member", prod | 0x20, 7)]);
            writer.package("big-package-name", tag::NPM, big, &[]);
            writer.package("from-github", tag::GITHUB, github, &[]);
            writer.package("from-git", tag::GIT, git, &[]);
            writer.package("linked", tag::SYMLINK, link, &[]);
            writer.package("local", tag::LOCAL_TARBALL, local, &[]);
            writer.package("member", tag::WORKSPACE, member, &[("a", prod, 1)]);
            writer.package("weird", 99, unknown, &[]);
            let contents = writer.finish();
            let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
            let listed: Vec<_> = lockfile
                .packages
                .iter()
                .map(|p| (p.name.as_str(), p.version.as_str(), p.source))
                .collect();
            assert_eq!(
                listed,
                [
                    ("a", "1.2.3-rc.1", SourceKind::Registry),
                    ("big-package-name", "4000000000.0.7", SourceKind::Registry),
                    ("from-github", "github:user/repo#0123abc", SourceKind::Git),
                    (
                        "from-git",
                        "git+https://git.example.com/r.git#main",
                        SourceKind::Git
                    ),
                    ("linked", "../linked", SourceKind::Link),
                    ("local", "vendor/local-1.0.0.tgz", SourceKind::File),
                ],
                "format {format}"
            );
            assert_eq!(
                lockfile.packages[0].resolved.as_deref(),
                Some("https://r.example/a/-/a-1.2.3-rc.1.tgz")
            );
            assert_eq!(lockfile.packages[1].resolved, None);
            assert_eq!(
                lockfile.packages[4].resolved.as_deref(),
                Some("link:../linked")
            );
            let importers: Vec<_> = lockfile.importers.iter().map(|i| i.path.as_str()).collect();
            assert_eq!(importers, ["", "packages/member-with-a-long-path"]);
            let root: Vec<_> = lockfile.importers[0]
                .dependencies
                .iter()
                .map(|d| (d.name.as_str(), d.kind, d.target.map(|t| t.0)))
                .collect();
            assert_eq!(
                root,
                [
                    ("alias-a", DependencyKind::Prod, Some(0)),
                    ("big", DependencyKind::Dev, Some(1)),
                    ("from-github", DependencyKind::Optional, Some(2)),
                    ("from-git", DependencyKind::Prod, Some(3)),
                    ("linked", DependencyKind::Prod, Some(4)),
                    ("local", DependencyKind::Prod, Some(5)),
                    ("gone", DependencyKind::Prod, None),
                    ("weird", DependencyKind::Prod, None),
                ]
            );
            let member = &lockfile.importers[1].dependencies;
            assert_eq!(member[0].target, Some(PackageId(0)));
            assert_eq!(lockfile.packages[0].dependencies[0].target, None);
            let warnings = lockfile.warnings.join("\n");
            assert!(
                warnings.contains("`weird` (#8) has no usable resolution"),
                "{warnings}"
            );
            assert!(
                warnings.contains("depends on `gone`, which bun did not resolve"),
                "{warnings}"
            );
            assert!(
                warnings.contains("depends on `weird`, which bun did not resolve"),
                "{warnings}"
            );
        }
    }

    /// A binary lockfile of `count` packages: the root depends on the first hundred, package
    /// `i` on `2i + 1` and `2i + 2`.
    fn big_lockb(count: u32) -> Vec<u8> {
        let mut writer = Writer::new(3);
        let root = writer.text_value("");
        let root_deps: Vec<(String, u8, u32)> = (1..=100)
            .map(|i| (format!("package-{i}"), PROD, i))
            .collect();
        let root_deps: Vec<(&str, u8, u32)> = root_deps
            .iter()
            .map(|(n, b, t)| (n.as_str(), *b, *t))
            .collect();
        writer.package("root", tag::ROOT, root, &root_deps);
        for i in 1..=count {
            let url = format!("https://registry.npmjs.org/package-{i}/-/package-{i}-1.0.{i}.tgz");
            let value = writer.npm_value(&url, [1, 0, u64::from(i)], "");
            let children: Vec<(String, u8, u32)> = [2 * i, 2 * i + 1]
                .into_iter()
                .filter(|&c| c <= count)
                .map(|c| (format!("package-{c}"), PROD, c))
                .collect();
            let children: Vec<(&str, u8, u32)> = children
                .iter()
                .map(|(n, b, t)| (n.as_str(), *b, *t))
                .collect();
            writer.package(&format!("package-{i}"), tag::NPM, value, &children);
        }
        writer.finish()
    }

    #[test]
    fn reads_a_large_synthetic_lockfile() {
        let contents = big_lockb(2_000);
        let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
        assert_eq!(lockfile.packages.len(), 2_000);
        assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
        assert!(lockfile.packages.iter().all(|p| p.integrity.is_some()));
    }

    /// `cargo test --release -p bulwark-lockfile --lib -- --ignored --nocapture lockb_10k`
    #[test]
    #[ignore = "timing; run in release mode"]
    #[expect(clippy::print_stdout, reason = "reports the measured time")]
    fn lockb_10k_entries_under_50_ms() {
        let contents = big_lockb(10_000);
        let (parse, total) = time_extraction(40, || {
            extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap()
        });
        println!(
            "bun.lockb, 10,000 packages, {} bytes: parse {parse:?}, parse + inventory {total:?} (CPU)",
            contents.len()
        );
        assert!(total.as_millis() < 50, "{total:?}");
    }

    /// The hono bun.lockb against the yarn.lock bun itself printed from it: the same packages,
    /// and for each the same dependency and optional dependency names (bun prints no peers).
    #[test]
    fn real_lockb_matches_the_yarn_lock_bun_prints() {
        use std::collections::{BTreeMap, BTreeSet};
        let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
            .join("fixtures/lockfiles-real/bun-lockb/hono");
        let printed = std::fs::read_to_string(folder.join("bun-printed-yarn.lock")).unwrap();
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let (mut name, mut id) = (String::new(), String::new());
        let mut in_dependencies = false;
        for line in printed.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !line.starts_with(' ') {
                let first = line.split(", ").next().unwrap().trim_matches(['"', ':']);
                name = super::super::split_name_at(first).unwrap().0.to_owned();
                in_dependencies = false;
            } else if let Some(version) = line.strip_prefix("  version ") {
                id = format!("{name}@{}", version.trim_matches('"'));
                expected.entry(id.clone()).or_default();
            } else if line.starts_with("  ") && !line.starts_with("    ") {
                in_dependencies = matches!(line.trim(), "dependencies:" | "optionalDependencies:");
            } else if in_dependencies {
                let entry = line.trim();
                let dependency = match entry.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next().unwrap(),
                    None => entry.split(' ').next().unwrap(),
                };
                expected.get_mut(&id).unwrap().insert(dependency.to_owned());
            }
        }
        let contents = std::fs::read(folder.join("bun.lockb")).unwrap();
        let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
        let mut ours: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for package in &lockfile.packages {
            let names = package
                .dependencies
                .iter()
                .filter(|d| matches!(d.kind, DependencyKind::Prod | DependencyKind::Optional))
                .map(|d| d.name.clone());
            ours.entry(format!("{}@{}", package.name, package.version))
                .or_default()
                .extend(names);
        }
        assert_eq!(ours.len(), 918);
        let differing: Vec<_> = ours
            .iter()
            .filter(|(id, names)| expected.get(*id) != Some(names))
            .map(|(id, names)| (id, names, expected.get(id)))
            .take(10)
            .collect();
        assert!(differing.is_empty(), "{differing:#?}");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
    }

    /// Every install path of the hono bun.lockb is where bun's own tree puts that package; a
    /// package bun hoists to several places (an `npm:` alias beside its real name) gets the
    /// first of them.
    #[test]
    fn real_lockb_install_paths_are_buns_tree() {
        let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
            .join("fixtures/lockfiles-real/bun-lockb/hono");
        let contents = std::fs::read(folder.join("bun.lockb")).unwrap();
        let lockfile = extract_bytes(&BunLockbExtractor, "bun.lockb", &contents).unwrap();
        let tree = super::super::test_support::listing_tree("real-hono.bun-lockb.pm-ls.txt");
        assert_eq!(tree.len(), 1000);
        for package in &lockfile.packages {
            let installed = package.alias.as_deref().unwrap_or(&package.name);
            let entry = (
                package.install_path.clone().unwrap(),
                format!("{installed}@{}", package.version),
            );
            assert!(tree.contains(&entry), "{entry:?}");
        }
        // And every place in bun's tree holds a package of the inventory.
        for (path, entry) in &tree {
            let (installed, version) = super::super::split_name_at(entry).unwrap();
            // Installed under its name, its alias, or a second alias some dependent uses.
            let known = lockfile.packages.iter().any(|p| {
                p.version == version
                    && (p.name == installed || p.alias.as_deref() == Some(installed))
            }) || lockfile
                .packages
                .iter()
                .flat_map(|p| &p.dependencies)
                .chain(lockfile.importers.iter().flat_map(|i| &i.dependencies))
                .any(|d| {
                    d.name == installed
                        && d.target
                            .is_some_and(|t| lockfile.packages[t.0].version == version)
                });
            assert!(known, "{path}: {entry}");
        }
    }
}
