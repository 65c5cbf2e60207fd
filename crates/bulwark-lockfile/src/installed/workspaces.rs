//! Workspace members of an installed project: the `workspaces` globs of the root
//! `package.json` (npm, yarn, bun) and the `packages` globs of `pnpm-workspace.yaml`, expanded
//! against the directory tree without following links and without leaving the root.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::manifest::read_bounded;

/// `pnpm-workspace.yaml` files larger than this are refused.
const MAX_WORKSPACE_FILE_BYTES: u64 = 1024 * 1024;
/// At most this many workspace patterns are expanded.
const MAX_PATTERNS: usize = 1_000;
/// How deep `**` descends.
const MAX_GLOB_DEPTH: usize = 8;
/// At most this many directories are considered while expanding all patterns.
const MAX_CANDIDATES: usize = 10_000;
/// Directories that never hold workspace members.
const SKIPPED: &[&str] = &["node_modules", ".git"];

#[derive(Deserialize)]
struct PnpmWorkspace {
    #[serde(default)]
    packages: Option<Vec<String>>,
}

/// The patterns of `pnpm-workspace.yaml` in `root`, if there is one.
pub(super) fn pnpm_patterns(root: &Path, warnings: &mut Vec<String>) -> Vec<String> {
    let path = root.join("pnpm-workspace.yaml");
    let bytes = match read_bounded(&path, MAX_WORKSPACE_FILE_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Vec::new(),
        Err(reason) => {
            warnings.push(format!("{}: {reason}; ignored", path.display()));
            return Vec::new();
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    match serde_norway::from_slice::<PnpmWorkspace>(&bytes) {
        Ok(workspace) => workspace.packages.unwrap_or_default(),
        Err(error) => {
            warnings.push(format!(
                "{}: invalid YAML: {error}; ignored",
                path.display()
            ));
            Vec::new()
        }
    }
}

/// Expands workspace `patterns` under `root` into member directories relative to it (sorted,
/// `/`-separated, the root itself excluded), keeping those with a `package.json`.
pub(super) fn members(root: &Path, patterns: &[String], warnings: &mut Vec<String>) -> Vec<String> {
    let mut budget = MAX_CANDIDATES;
    let mut included = Vec::new();
    let mut excluded = HashSet::new();
    if patterns.len() > MAX_PATTERNS {
        warnings.push(format!(
            "more than {MAX_PATTERNS} workspace patterns; the rest were ignored"
        ));
    }
    for pattern in patterns.iter().take(MAX_PATTERNS) {
        let (negated, body) = match pattern.strip_prefix('!') {
            Some(body) => (true, body),
            None => (false, pattern.as_str()),
        };
        let Some(segments) = segments(body) else {
            warnings.push(format!(
                "workspace pattern `{pattern}` leaves the project root; ignored"
            ));
            continue;
        };
        let found = expand(root, &segments, &mut budget);
        if negated {
            excluded.extend(found);
        } else {
            included.extend(found);
        }
    }
    if budget == 0 {
        warnings.push(format!(
            "workspace patterns match more than {MAX_CANDIDATES} directories; the rest were not considered"
        ));
    }
    included.retain(|dir: &String| {
        !dir.is_empty()
            && !dir.split('/').any(|segment| SKIPPED.contains(&segment))
            && !excluded.contains(dir)
            && std::fs::symlink_metadata(root.join(dir).join("package.json"))
                .is_ok_and(|meta| meta.is_file())
    });
    included.sort();
    included.dedup();
    included
}

/// The path segments of a pattern, or `None` if it is absolute or climbs out with `..`.
fn segments(pattern: &str) -> Option<Vec<&str>> {
    if pattern.starts_with('/') || pattern.contains('\\') {
        return None;
    }
    let segments: Vec<&str> = pattern
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .collect();
    if segments.contains(&"..") {
        return None;
    }
    Some(segments)
}

/// The directories (relative to `root`) that `segments` matches.
fn expand(root: &Path, segments: &[&str], budget: &mut usize) -> Vec<String> {
    let mut current = vec![String::new()];
    for segment in segments {
        let mut next = Vec::new();
        for dir in &current {
            if *segment == "**" {
                descendants(root, dir, 0, &mut next, budget);
            } else if segment.contains(['*', '?']) {
                for child in children(root, dir, budget) {
                    let name = child.rsplit('/').next().unwrap_or_default();
                    if crate::glob::segment_matches(segment.as_bytes(), name.as_bytes()) {
                        next.push(child);
                    }
                }
            } else {
                let child = join(dir, segment);
                if is_real_dir(&root.join(&child)) {
                    next.push(child);
                }
            }
        }
        next.sort();
        next.dedup();
        current = next;
    }
    current
}

/// `dir` and every real directory below it (bounded), skipping dot-directories.
fn descendants(root: &Path, dir: &str, depth: usize, out: &mut Vec<String>, budget: &mut usize) {
    out.push(dir.to_owned());
    if depth >= MAX_GLOB_DEPTH {
        return;
    }
    for child in children(root, dir, budget) {
        descendants(root, &child, depth + 1, out, budget);
    }
}

/// The real subdirectories of `dir`, minus dot-directories and `node_modules`.
fn children(root: &Path, dir: &str, budget: &mut usize) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        if *budget == 0 {
            break;
        }
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') || SKIPPED.contains(&name.as_str()) {
            continue;
        }
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            *budget -= 1;
            found.push(join(dir, &name));
        }
    }
    found.sort();
    found
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_patterns_without_links_or_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for member in [
            "packages/a",
            "packages/b",
            "packages/skip",
            "apps/web/deep",
            "node_modules/x",
            "tools",
        ] {
            std::fs::create_dir_all(root.join(member)).unwrap();
            std::fs::write(root.join(member).join("package.json"), "{}").unwrap();
        }
        std::fs::create_dir_all(root.join("packages/no-manifest")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("tools"), root.join("packages/linked")).unwrap();
        let mut warnings = Vec::new();
        let patterns: Vec<String> = [
            "packages/*",
            "!packages/skip",
            "apps/**",
            "../*",
            "/etc",
            "node_modules/x",
        ]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
        let members = members(root, &patterns, &mut warnings);
        assert_eq!(members, vec!["apps/web/deep", "packages/a", "packages/b"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("`../*`"));
    }

    #[test]
    fn reads_pnpm_workspace_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let mut warnings = Vec::new();
        assert!(pnpm_patterns(dir.path(), &mut warnings).is_empty());
        std::fs::write(
            dir.path().join("pnpm-workspace.yaml"),
            "packages:\n  - 'packages/*'\n  - '!**/test/**'\n",
        )
        .unwrap();
        assert_eq!(
            pnpm_patterns(dir.path(), &mut warnings),
            vec!["packages/*", "!**/test/**"]
        );
        std::fs::write(dir.path().join("pnpm-workspace.yaml"), "packages: [\n").unwrap();
        assert!(pnpm_patterns(dir.path(), &mut warnings).is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("pnpm-workspace.yaml: invalid YAML"));
    }
}
