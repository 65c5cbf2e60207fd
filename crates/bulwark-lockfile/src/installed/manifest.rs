//! Reading one installed `package.json`: bounded in size, never through a symbolic link,
//! lenient about field types (a wrong type drops that field, not the package), and locating the
//! line of its `"version"` key so findings can point at it.
//!
//! Duplicate keys resolve to the last one, as `JSON.parse` (and so Node) does: a package must
//! not be able to show bulwark one name or version and Node another.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::Read as _;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::DependencyKind;

/// `package.json` files larger than this are refused (the largest real ones are a few MiB,
/// mostly README text).
pub const MAX_PACKAGE_JSON_BYTES: u64 = 8 * 1024 * 1024;

/// What bulwark needs from one `package.json`.
#[derive(Debug, Clone, Default)]
pub(super) struct Manifest {
    /// `name`, if it is a non-empty string.
    pub(super) name: Option<String>,
    /// `version`, if it is a non-empty string.
    pub(super) version: Option<String>,
    /// The 1-based line of the top-level `"version"` key (1 when absent).
    pub(super) version_line: u32,
    /// `dependencies`, `optionalDependencies` and `peerDependencies`, one entry per name.
    pub(super) dependencies: Vec<(String, DependencyKind)>,
    /// `devDependencies` names (only importers install them).
    pub(super) dev_dependencies: Vec<String>,
    /// npm's `_resolved` (old npm versions wrote it into installed manifests).
    pub(super) resolved: Option<String>,
    /// npm's `_integrity`.
    pub(super) integrity: Option<String>,
    /// `workspaces` (an array, or `{ "packages": [...] }`).
    pub(super) workspaces: Vec<String>,
}

/// Reads the `package.json` at `path`: `Ok(None)` when there is none, `Err` with a reason
/// (without the path; the caller names the file) when it cannot be used.
pub(super) fn read(path: &Path) -> Result<Option<Manifest>, String> {
    let bytes = match read_bounded(path, MAX_PACKAGE_JSON_BYTES)? {
        Some(bytes) => bytes,
        None => return Ok(None),
    };
    parse(&bytes).map(Some)
}

/// Reads a regular file (not a link, not a directory) of at most `limit` bytes; `Ok(None)` if
/// nothing exists at `path`.
pub(super) fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read: {error}")),
    };
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link; not followed".to_owned());
    }
    if !meta.is_file() {
        return Err("is not a regular file".to_owned());
    }
    if meta.len() > limit {
        return Err(format!(
            "is larger than the {} MiB limit ({} bytes)",
            limit >> 20,
            meta.len()
        ));
    }
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open: {error}"))?;
    // The file opened must be the one just checked, not a link swapped in since.
    let opened = file
        .metadata()
        .map_err(|error| format!("cannot read: {error}"))?;
    if !same_file(&meta, &opened) {
        return Err("changed while being read; not read".to_owned());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read: {error}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("is larger than the {} MiB limit", limit >> 20));
    }
    Ok(Some(bytes))
}

/// The fields bulwark reads from a `package.json`; every other value is skipped without being
/// built (READMEs can be megabytes). A repeated key keeps its last value, as `JSON.parse` does.
#[derive(Default)]
struct Wire {
    name: Option<Value>,
    version: Option<Value>,
    dependencies: Option<Value>,
    dev_dependencies: Option<Value>,
    optional_dependencies: Option<Value>,
    peer_dependencies: Option<Value>,
    resolved: Option<Value>,
    integrity: Option<Value>,
    workspaces: Option<Value>,
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(WireVisitor)
    }
}

struct WireVisitor;

impl<'de> Visitor<'de> for WireVisitor {
    type Value = Wire;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
        let mut wire = Wire::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "name" => &mut wire.name,
                "version" => &mut wire.version,
                "dependencies" => &mut wire.dependencies,
                "devDependencies" => &mut wire.dev_dependencies,
                "optionalDependencies" => &mut wire.optional_dependencies,
                "peerDependencies" => &mut wire.peer_dependencies,
                "_resolved" => &mut wire.resolved,
                "_integrity" => &mut wire.integrity,
                "workspaces" => &mut wire.workspaces,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<Value>()?);
        }
        Ok(wire)
    }
}

#[cfg(unix)]
fn same_file(checked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    checked.dev() == opened.dev() && checked.ino() == opened.ino()
}

#[cfg(not(unix))]
fn same_file(_checked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    opened.is_file()
}

/// Parses `package.json` bytes.
pub(super) fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("is not a JSON object".to_owned());
    }
    let wire: Wire = serde_json::from_slice(bytes).map_err(|error| {
        if error.line() > 0 {
            format!("invalid JSON at line {}: {error}", error.line())
        } else {
            format!("invalid JSON: {error}")
        }
    })?;
    let string = |value: Option<Value>| match value {
        Some(Value::String(text)) if !text.is_empty() => Some(text),
        _ => None,
    };
    let names = |value: &Option<Value>| -> Vec<String> {
        match value {
            Some(Value::Object(map)) => string_entries(map),
            _ => Vec::new(),
        }
    };
    // A name in several lists counts once: optional over prod (as npm does) over peer.
    let mut dependencies: Vec<(String, DependencyKind)> = Vec::new();
    let mut seen = HashSet::new();
    for (value, kind) in [
        (&wire.optional_dependencies, DependencyKind::Optional),
        (&wire.dependencies, DependencyKind::Prod),
        (&wire.peer_dependencies, DependencyKind::Peer),
    ] {
        for name in names(value) {
            if seen.insert(name.clone()) {
                dependencies.push((name, kind));
            }
        }
    }
    let workspaces = match &wire.workspaces {
        Some(Value::Array(items)) => strings(items),
        Some(Value::Object(map)) => match map.get("packages") {
            Some(Value::Array(items)) => strings(items),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(Manifest {
        dev_dependencies: names(&wire.dev_dependencies),
        name: string(wire.name),
        version: string(wire.version),
        version_line: top_level_key_line(bytes, "version").unwrap_or(1),
        dependencies,
        resolved: string(wire.resolved),
        integrity: string(wire.integrity),
        workspaces,
    })
}

/// Names of a dependency map whose specifier is a string (npm refuses anything else).
fn string_entries(map: &Map<String, Value>) -> Vec<String> {
    map.iter()
        .filter(|(name, spec)| !name.is_empty() && spec.is_string())
        .map(|(name, _)| name.clone())
        .collect()
}

fn strings(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The 1-based line of the last top-level `key` of a JSON object (the one `JSON.parse` keeps).
/// Expects text that already parsed as JSON; escaped spellings of the key are not matched.
pub(super) fn top_level_key_line(text: &[u8], key: &str) -> Option<u32> {
    let mut line: u32 = 1;
    let mut depth: usize = 0;
    let mut found = None;
    let mut index = 0;
    while let Some(&byte) = text.get(index) {
        match byte {
            b'\n' => line = line.saturating_add(1),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = index + 1;
                let mut end = start;
                while let Some(&inner) = text.get(end) {
                    match inner {
                        b'\\' => end += 2,
                        b'"' => break,
                        _ => end += 1,
                    }
                }
                let is_key = text
                    .get(end + 1..)
                    .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()))
                    == Some(&b':');
                if depth == 1 && is_key && text.get(start..end) == Some(key.as_bytes()) {
                    found = Some(line);
                }
                index = end;
            }
            _ => {}
        }
        index += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_level_version_line_only() {
        let text = br#"{
  "name": "a",
  "nested": { "version": "9.9.9" },
  "list": ["version", {"version": 1}],
  "description": "the \"version\": key",
  "version": "1.0.0"
}"#;
        assert_eq!(top_level_key_line(text, "version"), Some(6));
        assert_eq!(top_level_key_line(text, "name"), Some(2));
        assert_eq!(top_level_key_line(text, "missing"), None);
        assert_eq!(
            top_level_key_line(b"{\"version\"\n:\n\"1\"}", "version"),
            Some(1)
        );
    }

    #[test]
    fn duplicate_keys_keep_the_last_like_node() {
        let text = b"{\"name\":\"a\",\"version\":\"1.0.0\",\n\"version\":\"6.6.6\"}";
        let manifest = parse(text).unwrap();
        assert_eq!(manifest.version.as_deref(), Some("6.6.6"));
        assert_eq!(manifest.version_line, 2);
    }

    #[test]
    fn wrong_field_types_drop_the_field_not_the_package() {
        let manifest = parse(
            br#"{"name": 5, "version": "1.0.0", "dependencies": {"a": "1", "b": 2, "": "1"},
               "optionalDependencies": {"a": "1", "c": "2"}, "peerDependencies": {"d": "*"},
               "devDependencies": [], "workspaces": {"packages": ["x/*", 3]}}"#,
        )
        .unwrap();
        assert_eq!(manifest.name, None);
        assert_eq!(manifest.version.as_deref(), Some("1.0.0"));
        assert_eq!(
            manifest.dependencies,
            vec![
                ("a".to_owned(), DependencyKind::Optional),
                ("c".to_owned(), DependencyKind::Optional),
                ("d".to_owned(), DependencyKind::Peer),
            ]
        );
        assert!(manifest.dev_dependencies.is_empty());
        assert_eq!(manifest.workspaces, vec!["x/*".to_owned()]);
    }

    #[test]
    fn huge_dependency_lists_stay_linear() {
        let names: Vec<String> = (0..50_000).map(|i| format!("\"dep-{i}\": \"1\"")).collect();
        let list = names.join(",");
        let text = format!(
            "{{\"name\": \"x\", \"version\": \"1.0.0\", \"dependencies\": {{{list}}}, \"peerDependencies\": {{{list}}}, \"optionalDependencies\": {{{list}}}}}"
        );
        let manifest = parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.dependencies.len(), 50_000);
        assert!(
            manifest
                .dependencies
                .iter()
                .all(|(_, kind)| *kind == DependencyKind::Optional)
        );
    }

    #[test]
    fn rejects_non_objects_and_invalid_json() {
        assert_eq!(parse(b"[]").unwrap_err(), "is not a JSON object");
        let error = parse(b"{\n\"name\": }").unwrap_err();
        assert!(error.starts_with("invalid JSON at line 2"), "{error}");
        assert!(parse(b"\xEF\xBB\xBF{\"name\":\"bom\"}").is_ok());
    }
}
