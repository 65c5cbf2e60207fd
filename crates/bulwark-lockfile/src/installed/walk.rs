//! The directory walk of installed trees: which entries of which `node_modules` directories
//! are packages, and where their symbolic links lead.
//!
//! Only real directories are descended. A link is resolved to its canonical target and kept
//! only if that target lies inside the project root; links out of the root are reported and
//! never followed. The walk itself is sequential and cheap (one `read_dir` per
//! `node_modules`); reading the manifests is the parallel part.

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

struct Walker<'a> {
    root: &'a Path,
    walk: Walk,
    /// `node_modules` directories still to read: path relative to the root, and depth.
    pending: Vec<(String, usize)>,
    /// Links found, their targets not resolved yet.
    links: Vec<Entry>,
    full: bool,
}

/// Walks the `node_modules` directories `tops` (relative to `root`) and everything nested in
/// them. `canonical_root` is `root` with links resolved.
pub(super) fn walk(root: &Path, canonical_root: &Path, tops: &[String]) -> Walk {
    let mut walker = Walker {
        root,
        walk: Walk::default(),
        pending: Vec::new(),
        links: Vec::new(),
        full: false,
    };
    for top in tops {
        walker.node_modules(top, 0, true);
        while let Some((dir, depth)) = walker.pending.pop() {
            walker.node_modules(&dir, depth, false);
        }
    }
    // Links straight to a directory the walk read (pnpm, bun and yarn store links) are
    // resolved from their text; the others are canonicalised, in parallel.
    let directories: HashSet<&str> = walker
        .walk
        .entries
        .iter()
        .map(|entry| entry.path.as_str())
        .collect();
    let resolved: Vec<Result<String, String>> = walker
        .links
        .par_iter()
        .map(|link| {
            std::fs::read_link(root.join(&link.path))
                .ok()
                .and_then(|raw| lexical_target(&link.path, &raw))
                .filter(|target| directories.contains(target.as_str()))
                .map_or_else(|| link_target(root, canonical_root, &link.path), Ok)
        })
        .collect();
    for (mut link, target) in walker.links.into_iter().zip(resolved) {
        match target {
            Ok(target) => {
                link.kind = EntryKind::Link(target);
                walker.walk.entries.push(link);
            }
            Err(warning) => walker.walk.warnings.push(warning),
        }
    }
    walker.walk.entries.sort_by(|a, b| a.path.cmp(&b.path));
    walker.walk.warnings.sort();
    walker.walk
}

impl Walker<'_> {
    /// Reads one `node_modules` directory.
    fn node_modules(&mut self, dir: &str, depth: usize, top: bool) {
        for (name, kind) in self.list(dir) {
            let path = format!("{dir}/{name}");
            if name.starts_with('.') {
                if top && kind.is_dir() && STORES.contains(&name.as_str()) {
                    self.store(&path, depth);
                }
            } else if name.starts_with('@') {
                if kind.is_dir() {
                    for (inner, inner_kind) in self.list(&path) {
                        if !inner.starts_with('.') {
                            self.package(
                                &format!("{path}/{inner}"),
                                &format!("{name}/{inner}"),
                                &inner_kind,
                                depth,
                            );
                        }
                    }
                } else if kind.is_symlink() {
                    self.warn(format!(
                        "{}: scope directory is a symbolic link; not followed",
                        self.display(&path)
                    ));
                }
            } else {
                self.package(&path, &name, &kind, depth);
            }
        }
    }

    /// Reads a virtual store: each `<key>/node_modules`, and the store's own hoisting
    /// `node_modules`.
    fn store(&mut self, store: &str, depth: usize) {
        let yarn = store.ends_with(YARN_STORE);
        for (key, kind) in self.list(store) {
            if !kind.is_dir() || key.starts_with('.') {
                continue;
            }
            let package = format!("{store}/{key}/package");
            if yarn && let Ok(meta) = std::fs::symlink_metadata(self.root.join(&package)) {
                // Its name is only known from its manifest.
                self.package(&package, "", &meta.file_type(), depth + 1);
            }
            let modules = if key == "node_modules" {
                format!("{store}/node_modules")
            } else {
                format!("{store}/{key}/node_modules")
            };
            if is_real_dir(&self.root.join(&modules)) {
                self.pending.push((modules, depth + 1));
            }
        }
    }

    /// Records one package entry and queues its own `node_modules`.
    fn package(&mut self, path: &str, name: &str, kind: &FileType, depth: usize) {
        if self.full {
            return;
        }
        if self.walk.entries.len() + self.links.len() >= MAX_ENTRIES {
            self.full = true;
            self.warn(format!(
                "{}: more than {MAX_ENTRIES} installed packages; the rest were not read",
                self.display(path)
            ));
            return;
        }
        if kind.is_symlink() {
            self.links.push(Entry {
                path: path.to_owned(),
                name: name.to_owned(),
                kind: EntryKind::Link(String::new()),
            });
        } else if kind.is_dir() {
            self.walk.entries.push(Entry {
                path: path.to_owned(),
                name: name.to_owned(),
                kind: EntryKind::Dir,
            });
            let nested = format!("{path}/node_modules");
            match std::fs::symlink_metadata(self.root.join(&nested)) {
                Ok(meta) if meta.is_dir() => {
                    if depth < MAX_DEPTH {
                        self.pending.push((nested, depth + 1));
                    } else {
                        self.warn(format!(
                            "{}: more than {MAX_DEPTH} nested `node_modules` levels; not read",
                            self.display(&nested)
                        ));
                    }
                }
                Ok(meta) if meta.file_type().is_symlink() => self.warn(format!(
                    "{}: `node_modules` is a symbolic link; not followed",
                    self.display(&nested)
                )),
                _ => {}
            }
        }
    }

    /// The entries of directory `dir` (relative to the root), sorted by name.
    fn list(&mut self, dir: &str) -> Vec<(String, FileType)> {
        let entries = match std::fs::read_dir(self.root.join(dir)) {
            Ok(entries) => entries,
            Err(error) => {
                self.warn(format!(
                    "{}: cannot read directory: {error}",
                    self.display(dir)
                ));
                return Vec::new();
            }
        };
        let mut listed = Vec::new();
        for (count, entry) in entries.enumerate() {
            if count >= MAX_ENTRIES {
                self.warn(format!(
                    "{}: more than {MAX_ENTRIES} entries; the rest were not read",
                    self.display(dir)
                ));
                break;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.warn(format!(
                        "{}: cannot read directory: {error}",
                        self.display(dir)
                    ));
                    break;
                }
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            match entry.file_name().into_string() {
                Ok(name) => listed.push((name, kind)),
                Err(name) => self.warn(format!(
                    "{}: entry `{}` has a name that is not valid UTF-8; skipped",
                    self.display(dir),
                    name.to_string_lossy()
                )),
            }
        }
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        listed
    }

    fn display(&self, relative: &str) -> String {
        self.root.join(relative).display().to_string()
    }

    fn warn(&mut self, warning: String) {
        self.walk.warnings.push(warning);
    }
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
