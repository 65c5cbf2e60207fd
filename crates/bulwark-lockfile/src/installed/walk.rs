//! The directory walk of installed trees: which entries of which `node_modules` directories
//! are packages, and where their symbolic links lead.
//!
//! Only real directories are descended. A link is resolved to its canonical target and kept
//! only if that target lies inside the project root; links out of the root are reported and
//! never followed. Each level of the tree is read in parallel, and so are the links.

use std::collections::HashSet;
use std::fs::FileType;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

/// How many `node_modules` levels below the top one are read.
pub const MAX_DEPTH: usize = 64;
/// At most this many package entries are read from one tree.
pub const MAX_ENTRIES: usize = 250_000;
/// Dot-directories that are virtual stores of real package directories laid out as
/// `<store>/<key>/node_modules/<name>`: pnpm, bun's isolated installs and yarn's pnpm linker
/// (which keeps the package itself in `<store>/<key>/package` and links to it).
const STORES: &[&str] = &[".pnpm", ".bun", ".store"];
/// The store of yarn's pnpm linker.
const YARN_STORE: &str = ".store";

/// What one entry of a `node_modules` directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EntryKind {
    /// A real directory: the package itself.
    Dir,
    /// A symbolic link to a directory inside the root, relative to the root (`/`-separated;
    /// `""` is the root itself).
    Link(String),
}

/// One package entry of a `node_modules` directory.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Its path relative to the project root, `/`-separated (`node_modules/@s/a`).
    pub(super) path: String,
    /// The name it is installed under (`@s/a`); empty when the path does not say (yarn's
    /// `.store/<key>/package`).
    pub(super) name: String,
    /// Directory or link.
    pub(super) kind: EntryKind,
}

/// Everything the walk found.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Package entries, sorted by path.
    pub(super) entries: Vec<Entry>,
    /// Links out of the root, broken links, unreadable directories, limits reached.
    pub(super) warnings: Vec<String>,
}

/// A unit of the walk; each level of the tree is read in parallel.
enum Work {
    /// A `node_modules` directory, `depth` levels below a top one; `top` ones may hold stores.
    NodeModules {
        dir: String,
        depth: usize,
        top: bool,
    },
    /// One `<store>/<key>` directory of a virtual store.
    StoreKey {
        dir: String,
        depth: usize,
        yarn: bool,
    },
}

/// What one unit of work found.
#[derive(Default)]
struct Found {
    /// Package directories and links (their targets not resolved yet).
    packages: Vec<Entry>,
    /// Directories to read at the next level.
    more: Vec<Work>,
    warnings: Vec<String>,
}

/// Walks the `node_modules` directories `tops` (relative to `root`) and everything nested in
/// them. `canonical_root` is `root` with links resolved.
pub(super) fn walk(root: &Path, canonical_root: &Path, tops: &[String]) -> Walk {
    let mut walk = Walk::default();
    let mut links: Vec<Entry> = Vec::new();
    let mut level: Vec<Work> = tops
        .iter()
        .map(|dir| Work::NodeModules {
            dir: dir.clone(),
            depth: 0,
            top: true,
        })
        .collect();
    'levels: while !level.is_empty() {
        let found: Vec<Found> = level.par_iter().map(|work| work.run(root)).collect();
        let mut next = Vec::new();
        for found in found {
            walk.warnings.extend(found.warnings);
            for entry in found.packages {
                if walk.entries.len() + links.len() >= MAX_ENTRIES {
                    walk.warnings.push(format!(
                        "{}: more than {MAX_ENTRIES} installed packages; the rest were not read",
                        root.join(&entry.path).display()
                    ));
                    break 'levels;
                }
                match entry.kind {
                    EntryKind::Dir => walk.entries.push(entry),
                    EntryKind::Link(_) => links.push(entry),
                }
            }
            next.extend(found.more);
        }
        level = next;
    }

    // Links straight to a directory the walk read (pnpm, bun and yarn store links) are
    // resolved from their text; the others are canonicalised, in parallel.
    let directories: HashSet<&str> = walk
        .entries
        .iter()
        .map(|entry| entry.path.as_str())
        .collect();
    let resolved: Vec<Result<String, String>> = links
        .par_iter()
        .map(|link| {
            std::fs::read_link(root.join(&link.path))
                .ok()
                .and_then(|raw| lexical_target(&link.path, &raw))
                .filter(|target| directories.contains(target.as_str()))
                .map_or_else(|| link_target(root, canonical_root, &link.path), Ok)
        })
        .collect();
    for (mut link, target) in links.into_iter().zip(resolved) {
        match target {
            Ok(target) => {
                link.kind = EntryKind::Link(target);
                walk.entries.push(link);
            }
            Err(warning) => walk.warnings.push(warning),
        }
    }
    walk.entries.sort_by(|a, b| a.path.cmp(&b.path));
    walk.warnings.sort();
    walk
}

impl Work {
    fn run(&self, root: &Path) -> Found {
        let mut found = Found::default();
        match self {
            Self::NodeModules { dir, depth, top } => {
                node_modules(root, dir, *depth, *top, &mut found);
            }
            Self::StoreKey { dir, depth, yarn } => store_key(root, dir, *depth, *yarn, &mut found),
        }
        found
    }
}

/// Reads one `node_modules` directory: packages, `@scope` directories and (at the top)
/// virtual stores.
fn node_modules(root: &Path, dir: &str, depth: usize, top: bool, found: &mut Found) {
    for (name, kind) in list(root, dir, &mut found.warnings) {
        let path = format!("{dir}/{name}");
        if name.starts_with('.') {
            if top && kind.is_dir() && STORES.contains(&name.as_str()) {
                store(root, &path, depth, found);
            }
        } else if name.starts_with('@') {
            if kind.is_dir() {
                for (inner, inner_kind) in list(root, &path, &mut found.warnings) {
                    if !inner.starts_with('.') {
                        let inner_path = format!("{path}/{inner}");
                        let inner_name = format!("{name}/{inner}");
                        package(root, &inner_path, &inner_name, &inner_kind, depth, found);
                    }
                }
            } else if kind.is_symlink() {
                found.warnings.push(format!(
                    "{}: scope directory is a symbolic link; not followed",
                    root.join(&path).display()
                ));
            }
        } else {
            package(root, &path, &name, &kind, depth, found);
        }
    }
}

/// Queues the keys of a virtual store and the store's own hoisting `node_modules`.
fn store(root: &Path, store: &str, depth: usize, found: &mut Found) {
    let yarn = store.ends_with(YARN_STORE);
    for (key, kind) in list(root, store, &mut found.warnings) {
        if !kind.is_dir() || key.starts_with('.') {
            continue;
        }
        found.more.push(if key == "node_modules" {
            Work::NodeModules {
                dir: format!("{store}/node_modules"),
                depth: depth + 1,
                top: false,
            }
        } else {
            Work::StoreKey {
                dir: format!("{store}/{key}"),
                depth: depth + 1,
                yarn,
            }
        });
    }
}

/// Reads one store key: its `node_modules`, and for yarn the package in `package`.
fn store_key(root: &Path, dir: &str, depth: usize, yarn: bool, found: &mut Found) {
    if yarn {
        let package_dir = format!("{dir}/package");
        if let Ok(meta) = std::fs::symlink_metadata(root.join(&package_dir)) {
            // Its name is only known from its manifest.
            package(root, &package_dir, "", &meta.file_type(), depth, found);
        }
    }
    let modules = format!("{dir}/node_modules");
    if is_real_dir(&root.join(&modules)) {
        node_modules(root, &modules, depth, false, found);
    }
}

/// Records one package entry and queues its own `node_modules`.
fn package(root: &Path, path: &str, name: &str, kind: &FileType, depth: usize, found: &mut Found) {
    if kind.is_symlink() {
        found.packages.push(Entry {
            path: path.to_owned(),
            name: name.to_owned(),
            kind: EntryKind::Link(String::new()),
        });
    } else if kind.is_dir() {
        found.packages.push(Entry {
            path: path.to_owned(),
            name: name.to_owned(),
            kind: EntryKind::Dir,
        });
        let nested = format!("{path}/node_modules");
        match std::fs::symlink_metadata(root.join(&nested)) {
            Ok(meta) if meta.is_dir() => {
                if depth < MAX_DEPTH {
                    found.more.push(Work::NodeModules {
                        dir: nested,
                        depth: depth + 1,
                        top: false,
                    });
                } else {
                    found.warnings.push(format!(
                        "{}: more than {MAX_DEPTH} nested `node_modules` levels; not read",
                        root.join(&nested).display()
                    ));
                }
            }
            Ok(meta) if meta.file_type().is_symlink() => found.warnings.push(format!(
                "{}: `node_modules` is a symbolic link; not followed",
                root.join(&nested).display()
            )),
            _ => {}
        }
    }
}

/// The entries of directory `dir` (relative to `root`), sorted by name, at most
/// [`MAX_ENTRIES`].
fn list(root: &Path, dir: &str, warnings: &mut Vec<String>) -> Vec<(String, FileType)> {
    let path = root.join(dir);
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(error) => {
            warnings.push(format!(
                "{}: cannot read directory: {error}",
                path.display()
            ));
            return Vec::new();
        }
    };
    let mut listed = Vec::new();
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            warnings.push(format!(
                "{}: more than {MAX_ENTRIES} entries; the rest were not read",
                path.display()
            ));
            break;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                warnings.push(format!(
                    "{}: cannot read directory: {error}",
                    path.display()
                ));
                break;
            }
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        match entry.file_name().into_string() {
            Ok(name) => listed.push((name, kind)),
            Err(name) => warnings.push(format!(
                "{}: entry `{}` has a name that is not valid UTF-8; skipped",
                path.display(),
                name.to_string_lossy()
            )),
        }
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    listed
}

/// The target of the link at `path` (relative to the root) whose text is `raw`, worked out
/// without the file system: only for relative targets whose `..` steps all come first, so
/// that they climb real directories (the walk only descends those) and the rest descends.
/// The result is sound only if it names a directory the walk read, which the caller checks.
fn lexical_target(path: &str, raw: &Path) -> Option<String> {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    let mut descending = false;
    for component in raw.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if !descending => {
                parts.pop()?;
            }
            Component::Normal(name) => {
                descending = true;
                parts.push(name.to_str()?);
            }
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Where the link at `path` (relative to `root`) leads, relative to the root; a warning for
/// broken links, links to non-directories and links out of the root.
fn link_target(root: &Path, canonical_root: &Path, path: &str) -> Result<String, String> {
    let absolute = root.join(path);
    let raw = || {
        std::fs::read_link(&absolute)
            .map(|target| target.display().to_string())
            .unwrap_or_default()
    };
    let target = std::fs::canonicalize(&absolute).map_err(|error| {
        format!(
            "{}: broken symbolic link to `{}` ({error}); skipped",
            absolute.display(),
            raw()
        )
    })?;
    let Ok(relative) = target.strip_prefix(canonical_root) else {
        return Err(format!(
            "{}: symbolic link points outside the project root (to `{}`); not followed",
            absolute.display(),
            target.display()
        ));
    };
    if !std::fs::metadata(&target).is_ok_and(|meta| meta.is_dir()) {
        return Err(format!(
            "{}: symbolic link to `{}` is not a directory; skipped",
            absolute.display(),
            raw()
        ));
    }
    slash_path(relative).ok_or_else(|| {
        format!(
            "{}: symbolic link target is not valid UTF-8; skipped",
            absolute.display()
        )
    })
}

fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
}

/// A relative path as `/`-separated UTF-8.
fn slash_path(path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|parts| parts.join("/"))
}

/// `root` joined with a `/`-separated relative path.
pub(super) fn join(root: &Path, relative: &str) -> PathBuf {
    if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_targets_only_for_leading_parent_steps() {
        let cases = [
            (
                "node_modules/.pnpm/a@1/node_modules/b",
                "../../b@1/node_modules/b",
                Some("node_modules/.pnpm/b@1/node_modules/b"),
            ),
            (
                "node_modules/a",
                ".pnpm/a@1/node_modules/a",
                Some("node_modules/.pnpm/a@1/node_modules/a"),
            ),
            (
                "node_modules/@s/a",
                "../.pnpm/x/./node_modules/@s/a",
                Some("node_modules/.pnpm/x/node_modules/@s/a"),
            ),
            ("node_modules/self", "..", Some("")),
            ("node_modules/up", "../..", None),
            ("node_modules/abs", "/etc", None),
            ("node_modules/mixed", "x/../y", None),
        ];
        for (path, raw, expected) in cases {
            assert_eq!(
                lexical_target(path, Path::new(raw)).as_deref(),
                expected,
                "{path} -> {raw}"
            );
        }
    }
}
