//! The few `package.json` facts the checks need: a project's direct dependencies per type
//! (with their lines) and an installed package's lifecycle scripts. Files are hostile: size
//! is bounded, and a file reached through a link that leaves the project is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `package.json` files larger than this are not read.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// The dependency types of `package.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DependencyType {
    Prod,
    Dev,
    Optional,
    Peer,
}

impl DependencyType {
    pub(crate) const ALL: [Self; 4] = [Self::Prod, Self::Dev, Self::Optional, Self::Peer];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Prod => "dependencies",
            Self::Dev => "devDependencies",
            Self::Optional => "optionalDependencies",
            Self::Peer => "peerDependencies",
        }
    }
}

/// One direct dependency as `package.json` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    pub(crate) name: String,
    pub(crate) spec: String,
    pub(crate) kind: DependencyType,
    pub(crate) line: u32,
}

/// A project's `package.json`.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) path: PathBuf,
    pub(crate) dependencies: Vec<Declared>,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    scripts: BTreeMap<String, serde_json::Value>,
}

/// Reads a bounded file that must resolve inside `root`.
pub(crate) fn read_inside(root: &Path, path: &Path) -> Option<String> {
    read_inside_canonical(&root.canonicalize().ok()?, path)
}

/// [`read_inside`] with the root already canonical (one `realpath` per project, not per file).
pub(crate) fn read_inside_canonical(canonical_root: &Path, path: &Path) -> Option<String> {
    let canonical = path.canonicalize().ok()?;
    if !canonical.starts_with(canonical_root) {
        return None;
    }
    let metadata = std::fs::metadata(&canonical).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    std::fs::read_to_string(&canonical).ok()
}

/// The `package.json` in `dir`, if there is a readable one.
pub(crate) fn read_manifest(dir: &Path) -> Option<Manifest> {
    let path = dir.join("package.json");
    let text = read_inside(dir, &path)?;
    let wire: Wire = serde_json::from_str(&text).ok()?;
    let mut dependencies = Vec::new();
    for kind in DependencyType::ALL {
        let map = match kind {
            DependencyType::Prod => &wire.dependencies,
            DependencyType::Dev => &wire.dev_dependencies,
            DependencyType::Optional => &wire.optional_dependencies,
            DependencyType::Peer => &wire.peer_dependencies,
        };
        for (name, spec) in map {
            let Some(spec) = spec.as_str() else { continue };
            dependencies.push(Declared {
                name: name.clone(),
                spec: spec.to_owned(),
                kind,
                line: line_of_key(&text, kind.key(), name),
            });
        }
    }
    Some(Manifest { path, dependencies })
}

/// At most this many workspace members are read.
const MAX_WORKSPACE_MEMBERS: usize = 10_000;

/// The workspace member directories the root declares: `workspaces` in `package.json` (an
/// array, or `{ "packages": [...] }`) and `packages:` in `pnpm-workspace.yaml`. Patterns are
/// a directory (`tools/cli`) or a directory's children (`packages/*`); `**`, other globs and
/// negations are skipped, and so is anything that leaves the root.
pub(crate) fn workspace_members(root: &Path) -> Vec<PathBuf> {
    let mut patterns: Vec<String> = Vec::new();
    if let Some(text) = read_inside(root, &root.join("package.json"))
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let workspaces = value.get("workspaces");
        let list = workspaces.and_then(|w| w.as_array()).or_else(|| {
            workspaces
                .and_then(|w| w.get("packages"))
                .and_then(|p| p.as_array())
        });
        patterns.extend(
            list.into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_owned)),
        );
    }
    if let Some(text) = read_inside(root, &root.join("pnpm-workspace.yaml")) {
        let mut in_packages = false;
        for line in text.lines() {
            if !line.starts_with([' ', '\t', '-']) && !line.trim().is_empty() {
                in_packages = line.trim_end() == "packages:";
                continue;
            }
            if in_packages && let Some(item) = line.trim().strip_prefix('-') {
                let item = item.trim().trim_matches(['"', '\'']);
                patterns.push(item.to_owned());
            }
        }
    }
    let Ok(canonical_root) = root.canonicalize() else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for pattern in patterns {
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        if pattern.is_empty()
            || pattern.starts_with(['!', '/'])
            || pattern.split('/').any(|part| part == "..")
        {
            continue;
        }
        let candidates: Vec<PathBuf> = match pattern.strip_suffix("/*") {
            Some(parent) if !parent.contains(['*', '?', '[', '{']) => {
                let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
                    continue;
                };
                let mut children: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect();
                children.sort();
                children
            }
            None if !pattern.contains(['*', '?', '[', '{']) => vec![root.join(pattern)],
            _ => continue,
        };
        for dir in candidates {
            if dir.canonicalize().is_ok_and(|canonical| {
                canonical.starts_with(&canonical_root) && canonical != canonical_root
            }) && dir.join("package.json").is_file()
                && !members.contains(&dir)
            {
                members.push(dir);
            }
            if members.len() >= MAX_WORKSPACE_MEMBERS {
                return members;
            }
        }
    }
    members
}

/// The lifecycle scripts that run on install, from an installed `package.json`'s text.
pub(crate) fn install_scripts(text: &str) -> Vec<(String, String)> {
    let Ok(wire) = serde_json::from_str::<Wire>(text) else {
        return Vec::new();
    };
    ["preinstall", "install", "postinstall"]
        .iter()
        .filter_map(|hook| {
            wire.scripts
                .get(*hook)
                .and_then(|v| v.as_str())
                .map(|script| ((*hook).to_owned(), script.to_owned()))
        })
        .collect()
}

/// The 1-based line of `"name":` inside the `"section"` object (the section's own line
/// when the key cannot be found, 1 when neither can).
pub(crate) fn line_of_key(text: &str, section: &str, name: &str) -> u32 {
    let line_at = |offset: usize| {
        u32::try_from(text[..offset].bytes().filter(|&b| b == b'\n').count() + 1).unwrap_or(0)
    };
    let section_key = format!("\"{section}\"");
    let Some(start) = text.find(&section_key) else {
        return 1;
    };
    let key = format!("\"{name}\"");
    let body = &text[start + section_key.len()..];
    let end = body.find('}').unwrap_or(body.len());
    match body[..end].find(&key) {
        Some(offset) => line_at(start + section_key.len() + offset),
        None => line_at(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_dependencies_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            "{\n  \"dependencies\": {\n    \"chalk\": \"^4.1.2\",\n    \"debug\": \"4.3.4\"\n  },\n  \"devDependencies\": {\n    \"chalk\": \"4.1.2\"\n  }\n}\n",
        )
        .unwrap();
        let manifest = read_manifest(dir.path()).unwrap();
        let lines: Vec<(&str, DependencyType, u32)> = manifest
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.kind, d.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("chalk", DependencyType::Prod, 3),
                ("debug", DependencyType::Prod, 4),
                ("chalk", DependencyType::Dev, 7)
            ]
        );
    }

    #[test]
    fn workspace_members_from_package_json_and_pnpm() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for member in ["packages/a", "packages/b", "tools/cli", "other/x"] {
            std::fs::create_dir_all(root.join(member)).unwrap();
            std::fs::write(root.join(member).join("package.json"), "{}").unwrap();
        }
        std::fs::create_dir_all(root.join("packages/no-manifest")).unwrap();
        std::fs::write(
            root.join("package.json"),
            r#"{"workspaces":["packages/*","tools/cli","../escape","!packages/b","deep/**"]}"#,
        )
        .unwrap();
        let names = |members: Vec<PathBuf>| -> Vec<String> {
            members
                .iter()
                .map(|m| m.strip_prefix(root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names(workspace_members(root)),
            ["packages/a", "packages/b", "tools/cli"]
        );
        std::fs::write(
            root.join("package.json"),
            r#"{"workspaces":{"packages":["other/*"]}}"#,
        )
        .unwrap();
        assert_eq!(names(workspace_members(root)), ["other/x"]);
        std::fs::write(root.join("package.json"), "{}").unwrap();
        std::fs::write(
            root.join("pnpm-workspace.yaml"),
            "packages:\n  - 'tools/*'\n  - \"packages/a\"\ncatalog:\n  - x/*\n",
        )
        .unwrap();
        assert_eq!(names(workspace_members(root)), ["tools/cli", "packages/a"]);
    }

    #[test]
    fn install_hooks() {
        let scripts = install_scripts(
            r#"{"scripts":{"postinstall":"node install.js","test":"jest","preinstall":"x"}}"#,
        );
        assert_eq!(
            scripts,
            [
                ("preinstall".to_owned(), "x".to_owned()),
                ("postinstall".to_owned(), "node install.js".to_owned())
            ]
        );
        assert!(install_scripts("not json").is_empty());
    }
}
