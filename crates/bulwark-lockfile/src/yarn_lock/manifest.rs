//! The `package.json` files beside a `yarn.lock`, read only for what the lockfile leaves out:
//! yarn classic records no importers at all, and yarn berry merges each workspace's
//! `devDependencies` into its `dependencies`. Reads are bounded in size, workspace globs are
//! bounded in depth and breadth, and symbolic links are never followed, so a hostile tree
//! cannot lead extraction outside the project.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

use crate::DependencyKind;

/// `package.json` files larger than this are not read.
const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
/// How many directories a workspace glob may look at in total.
const MAX_GLOB_VISITS: usize = 20_000;
/// How deep a `**` segment may descend.
const MAX_GLOB_DEPTH: usize = 12;
/// How many workspace members are read at most.
const MAX_MEMBERS: usize = 5_000;

/// What extraction needs from one `package.json`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    /// `name`.
    pub(super) name: Option<String>,
    /// `version`.
    pub(super) version: Option<String>,
    /// `dependencies`, `devDependencies` and `optionalDependencies` as `(name, range, kind)`,
    /// one per name, the way npm and yarn merge them: a name in `optionalDependencies` is
    /// optional, else one in `dependencies` is prod, else dev.
    pub(super) dependencies: Vec<(String, String, DependencyKind)>,
    /// The `workspaces` globs (array form or `{ "packages": [...] }`).
    pub(super) workspaces: Vec<String>,
    /// `resolutions` (pattern, range), in file order.
    pub(super) resolutions: Vec<(String, String)>,
}

impl Manifest {
    /// The kind a dependency `name` has in this manifest, if it declares it.
    pub(super) fn kind_of(&self, name: &str) -> Option<DependencyKind> {
        self.dependencies
            .iter()
            .find(|(dep, _, _)| dep == name)
            .map(|&(_, _, kind)| kind)
    }
}

/// Reads the manifest at `path`: `Ok(None)` if there is none, `Err` with a reason if it exists
/// but cannot be used (a symbolic link, too large, not a JSON object).
pub(super) fn read_manifest(path: &Path) -> Result<Option<Manifest>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read `{}`: {error}", path.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "`{}` is a symbolic link, which is not followed",
            path.display()
        ));
    }
    if !meta.is_file() {
        return Err(format!("`{}` is not a file", path.display()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "`{}` is larger than {} MiB",
            path.display(),
            MAX_MANIFEST_BYTES >> 20
        ));
    }
    parse_manifest(&bytes)
        .map(Some)
        .map_err(|error| format!("`{}`: {error}", path.display()))
}

/// Reads the manifest of the workspace member at `relative` (a contained, `/`-separated
/// path) under `root`, refusing paths that pass through a symbolic link.
pub(super) fn read_member_manifest(
    root: &Path,
    relative: &str,
) -> Result<Option<Manifest>, String> {
    if !is_contained(relative) {
        return Err(format!("workspace `{relative}` leaves the project"));
    }
    let mut dir = root.to_path_buf();
    for part in relative
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
    {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "`{}` is a symbolic link, which is not followed",
                    dir.display()
                ));
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("cannot read `{}`: {error}", dir.display())),
        }
    }
    read_manifest(&dir.join("package.json"))
}

/// Parses a manifest leniently: fields of unexpected types are ignored.
pub(super) fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("invalid JSON: {error}"))?;
    let Value::Object(object) = value else {
        return Err("not a JSON object".to_owned());
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let pairs = |key: &str| -> Vec<(&str, &str)> {
        object
            .get(key)
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(name, range)| Some((name.as_str(), range.as_str()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let optional = pairs("optionalDependencies");
    let prod = pairs("dependencies");
    let dev = pairs("devDependencies");
    let mut seen = HashSet::new();
    let mut dependencies = Vec::with_capacity(optional.len() + prod.len() + dev.len());
    for (list, kind) in [
        (optional, DependencyKind::Optional),
        (prod, DependencyKind::Prod),
        (dev, DependencyKind::Dev),
    ] {
        for (name, range) in list {
            if seen.insert(name) {
                dependencies.push((name.to_owned(), range.to_owned(), kind));
            }
        }
    }
    let globs = match object.get("workspaces") {
        Some(Value::Array(globs)) => Some(globs),
        Some(Value::Object(map)) => map.get("packages").and_then(Value::as_array),
        _ => None,
    };
    let workspaces = globs
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let resolutions = pairs("resolutions")
        .into_iter()
        .map(|(pattern, range)| (pattern.to_owned(), range.to_owned()))
        .collect();
    Ok(Manifest {
        resolutions,
        name: text("name"),
        version: text("version"),
        dependencies,
        workspaces,
    })
}

/// Whether `relative` is a plain relative path that stays inside the project.
pub(super) fn is_contained(relative: &str) -> bool {
    !relative.starts_with('/')
        && !relative.contains('\\')
        && !relative.contains(':')
        && relative.split('/').all(|part| part != "..")
}

/// The workspace member directories (relative, `/`-separated, sorted) that the `workspaces`
/// globs of the root manifest select under `root`: directories holding a `package.json`.
/// Supports `*`, `?` and `**` segments and `!` exclusions; never follows symbolic links and
/// never descends into `node_modules` or hidden directories through a wildcard.
pub(super) fn expand_workspaces(
    root: &Path,
    patterns: &[String],
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut visits = 0usize;
    let mut included = Vec::new();
    let mut excluded = HashSet::new();
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        if !is_contained(pattern) {
            warnings.push(format!(
                "workspace pattern `{pattern}` leaves the project and was ignored"
            ));
            continue;
        }
        let segments: Vec<&str> = pattern
            .split('/')
            .filter(|segment| !segment.is_empty() && *segment != ".")
            .collect();
        let mut matches = Vec::new();
        walk(root, String::new(), &segments, 0, &mut visits, &mut matches);
        if negated {
            excluded.extend(matches);
        } else {
            included.extend(matches);
        }
    }
    if visits >= MAX_GLOB_VISITS {
        warnings.push(format!(
            "workspace globs matched more than {MAX_GLOB_VISITS} directories; the rest were not read"
        ));
    }
    included.retain(|dir| !excluded.contains(dir));
    included.sort_unstable();
    included.dedup();
    if included.len() > MAX_MEMBERS {
        warnings.push(format!(
            "more than {MAX_MEMBERS} workspace members; only the first {MAX_MEMBERS} were read"
        ));
        included.truncate(MAX_MEMBERS);
    }
    included
}

/// Matches `segments` below `dir` (whose path relative to the root is `relative`).
fn walk(
    dir: &Path,
    relative: String,
    segments: &[&str],
    depth: usize,
    visits: &mut usize,
    matches: &mut Vec<String>,
) {
    *visits += 1;
    if *visits > MAX_GLOB_VISITS || depth > MAX_GLOB_DEPTH + 32 {
        return;
    }
    let Some((&segment, rest)) = segments.split_first() else {
        let manifest = dir.join("package.json");
        if std::fs::symlink_metadata(manifest).is_ok_and(|meta| meta.is_file()) {
            matches.push(relative);
        }
        return;
    };
    let join = |name: &str| {
        if relative.is_empty() {
            name.to_owned()
        } else {
            format!("{relative}/{name}")
        }
    };
    if !segment.contains(['*', '?']) {
        let child = dir.join(segment);
        if std::fs::symlink_metadata(&child).is_ok_and(|meta| meta.is_dir()) {
            walk(&child, join(segment), rest, depth + 1, visits, matches);
        }
        return;
    }
    if segment == "**" {
        // Zero directories, then one more level with `**` still pending.
        walk(dir, relative.clone(), rest, depth, visits, matches);
        if depth >= MAX_GLOB_DEPTH {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter(|name| !name.starts_with('.') && name != "node_modules")
        .collect();
    children.sort_unstable();
    for name in children {
        if *visits > MAX_GLOB_VISITS {
            return;
        }
        let child = dir.join(&name);
        if segment == "**" {
            walk(&child, join(&name), segments, depth + 1, visits, matches);
        } else if crate::glob::segment_matches(segment.as_bytes(), name.as_bytes()) {
            walk(&child, join(&name), rest, depth + 1, visits, matches);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_merges_dependency_lists() {
        let manifest = parse_manifest(
            br#"{"name":"x","dependencies":{"a":"1","b":"2","bad":3},
                "devDependencies":{"a":"1","c":"3"},"optionalDependencies":{"b":"2"},
                "workspaces":{"packages":["p/*",7]}}"#,
        )
        .unwrap();
        assert_eq!(manifest.kind_of("a"), Some(DependencyKind::Prod));
        assert_eq!(manifest.kind_of("b"), Some(DependencyKind::Optional));
        assert_eq!(manifest.kind_of("c"), Some(DependencyKind::Dev));
        assert_eq!(manifest.kind_of("bad"), None);
        assert_eq!(manifest.workspaces, vec!["p/*"]);
        assert!(parse_manifest(b"[1]").is_err());
        assert!(parse_manifest(b"{").is_err());
    }

    #[test]
    fn containment() {
        assert!(is_contained("packages/a"));
        assert!(is_contained("."));
        assert!(!is_contained("../a"));
        assert!(!is_contained("a/../../b"));
        assert!(!is_contained("/etc"));
        assert!(!is_contained("C:/x"));
    }

    #[cfg(unix)]
    #[test]
    fn member_manifests_are_not_read_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("packages/a")).unwrap();
        std::fs::write(root.join("packages/a/package.json"), r#"{"name":"a"}"#).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/package.json"), r#"{"name":"x"}"#).unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("packages/b")).unwrap();
        let name =
            |relative: &str| read_member_manifest(&root, relative).map(|m| m.and_then(|m| m.name));
        assert_eq!(name("packages/a"), Ok(Some("a".to_owned())));
        assert_eq!(name("packages/missing"), Ok(None));
        assert!(name("packages/b").unwrap_err().contains("symbolic link"));
        assert!(
            name("../outside")
                .unwrap_err()
                .contains("leaves the project")
        );
    }

    #[test]
    fn globs_expand_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for member in [
            "packages/a",
            "packages/b",
            "tools/deep/x",
            "packages/c-nomanifest",
        ] {
            std::fs::create_dir_all(root.join(member)).unwrap();
        }
        for member in ["packages/a", "packages/b", "tools/deep/x"] {
            std::fs::write(root.join(member).join("package.json"), "{}").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("packages/a"), root.join("packages/link")).unwrap();
        let mut warnings = Vec::new();
        let found = expand_workspaces(
            root,
            &[
                "packages/*".to_owned(),
                "!packages/b".to_owned(),
                "tools/**".to_owned(),
                "../outside/*".to_owned(),
            ],
            &mut warnings,
        );
        assert_eq!(found, vec!["packages/a", "tools/deep/x"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
}
