//! Finding every lockfile and installed tree under a directory, and reading them all.
//!
//! Project lockfiles are looked for outside `node_modules`; each top-level `node_modules`
//! (one not inside another) is inventoried as an installed tree. Symbolic links are never
//! followed, so a hostile tree cannot lead the scan outside the directory it was given.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::registry::file_name;
use crate::{ExtractError, Extractor, Project, extract_file, extractor_for, installed};

/// Directories that never hold a project's lockfile.
const SKIPPED_DIRS: &[&str] = &[".git", ".hg", ".svn"];

/// What [`discover`] found.
#[derive(Default)]
pub struct Discovered {
    /// Lockfiles with the extractor for each, sorted by path.
    pub lockfiles: Vec<(PathBuf, &'static dyn Extractor)>,
    /// Top-level `node_modules` directories.
    pub installed_trees: Vec<PathBuf>,
    /// Lockfiles that the package manager itself ignores (a `package-lock.json` beside an
    /// `npm-shrinkwrap.json`), with the reason.
    pub ignored: Vec<(PathBuf, String)>,
    /// Directories that could not be read.
    pub errors: Vec<ExtractError>,
}

impl std::fmt::Debug for Discovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovered")
            .field(
                "lockfiles",
                &self
                    .lockfiles
                    .iter()
                    .map(|(p, e)| (p, e.name()))
                    .collect::<Vec<_>>(),
            )
            .field("installed_trees", &self.installed_trees)
            .field("ignored", &self.ignored)
            .field("errors", &self.errors)
            .finish()
    }
}

/// Walks `root` (without following links) for lockfiles and installed trees. `root` may also
/// be a single lockfile.
#[must_use]
pub fn discover(root: &Path) -> Discovered {
    let mut found = Discovered::default();
    match std::fs::symlink_metadata(root) {
        Ok(meta) if meta.is_file() => {
            match extractor_for(root) {
                Some(extractor) => found.lockfiles.push((root.to_path_buf(), extractor)),
                None => found
                    .errors
                    .push(ExtractError::new(root, "not a lockfile bulwark knows")),
            }
            return found;
        }
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            found
                .errors
                .push(ExtractError::new(root, "not a directory or a regular file"));
            return found;
        }
        Err(error) => {
            found
                .errors
                .push(ExtractError::new(root, format!("cannot read: {error}")));
            return found;
        }
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                found.errors.push(ExtractError::new(
                    &dir,
                    format!("cannot read directory: {error}"),
                ));
                continue;
            }
        };
        let mut lockfiles_here = Vec::new();
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                let name = file_name(&path);
                if name == "node_modules" {
                    found.installed_trees.push(path);
                } else if !SKIPPED_DIRS.contains(&name) {
                    stack.push(path);
                }
            } else if file_type.is_file()
                && let Some(extractor) = extractor_for(&path)
            {
                lockfiles_here.push((path, extractor));
            }
        }
        let has = |name: &str| lockfiles_here.iter().any(|(p, _)| file_name(p) == name);
        let (has_shrinkwrap, has_bun_text) = (has("npm-shrinkwrap.json"), has("bun.lock"));
        for (path, extractor) in lockfiles_here {
            let shadowed_by = match file_name(&path) {
                "package-lock.json" if has_shrinkwrap => Some("npm-shrinkwrap.json"),
                "bun.lockb" if has_bun_text => Some("bun.lock"),
                _ => None,
            };
            match shadowed_by {
                Some(winner) => found.ignored.push((
                    path,
                    format!("{winner} in the same directory takes precedence"),
                )),
                None => found.lockfiles.push((path, extractor)),
            }
        }
    }
    found.lockfiles.sort_by(|a, b| a.0.cmp(&b.0));
    found.ignored.sort();
    found.installed_trees.sort();
    found
}

/// Everything read under one directory.
#[derive(Debug, Default)]
pub struct Scan {
    /// One project per lockfile or installed tree, sorted by file.
    pub projects: Vec<Project>,
    /// Files that could not be read; the scan carried on without them.
    pub errors: Vec<ExtractError>,
    /// Lockfiles skipped on purpose, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
}

/// Discovers and reads every lockfile and installed tree under `root`, in parallel.
#[must_use]
pub fn inventory(root: &Path) -> Scan {
    let found = discover(root);
    let lockfiles: Vec<_> = found
        .lockfiles
        .par_iter()
        .map(|(path, extractor)| extract_file(*extractor, path))
        .collect();
    let trees: Vec<_> = found
        .installed_trees
        .par_iter()
        .map(|tree| installed::extract_tree(tree))
        .collect();
    let mut scan = Scan {
        errors: found.errors,
        ignored: found.ignored,
        ..Scan::default()
    };
    let trees = drop_workspace_member_trees(trees, &mut scan.ignored);
    for result in lockfiles.into_iter().chain(trees) {
        match result {
            Ok(lockfile) => scan.projects.push(lockfile.into_inventory()),
            Err(error) => scan.errors.push(error),
        }
    }
    scan.projects.sort_by(|a, b| a.file.cmp(&b.file));
    scan
}

/// A workspace member's own `node_modules` is already read as part of its workspace root's
/// installed tree (the walker resolves members' dependencies through it), so reading it again
/// as a separate project would count its packages twice.
fn drop_workspace_member_trees(
    trees: Vec<Result<crate::Lockfile, ExtractError>>,
    ignored: &mut Vec<(PathBuf, String)>,
) -> Vec<Result<crate::Lockfile, ExtractError>> {
    let member_dirs: Vec<(PathBuf, PathBuf)> = trees
        .iter()
        .flatten()
        .filter_map(|tree| {
            let root = tree.file.parent()?;
            Some(
                tree.importers
                    .iter()
                    .filter(|i| !i.path.is_empty() && i.path != ".")
                    .map(move |i| (root.join(&i.path), root.to_path_buf())),
            )
        })
        .flatten()
        .collect();
    trees
        .into_iter()
        .filter(|tree| {
            let Ok(tree) = tree else { return true };
            let Some(project) = tree.file.parent() else {
                return true;
            };
            match member_dirs.iter().find(|(member, _)| member == project) {
                Some((_, workspace_root)) => {
                    ignored.push((
                        tree.file.clone(),
                        format!(
                            "workspace member tree, read with the installed tree of `{}`",
                            workspace_root.display()
                        ),
                    ));
                    false
                }
                None => true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lockfiles_outside_node_modules_and_applies_shrinkwrap_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "a/package-lock.json",
            "a/npm-shrinkwrap.json",
            "d/bun.lock",
            "d/bun.lockb",
            "b/yarn.lock",
            "b/node_modules/dep/package-lock.json",
            "b/node_modules/dep/package.json",
            ".git/pnpm-lock.yaml",
            "c/deep/pnpm-lock.yaml",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        let found = discover(root);
        let names: Vec<_> = found
            .lockfiles
            .iter()
            .map(|(p, _)| p.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("a/npm-shrinkwrap.json"),
                PathBuf::from("b/yarn.lock"),
                PathBuf::from("c/deep/pnpm-lock.yaml"),
                PathBuf::from("d/bun.lock"),
            ]
        );
        assert_eq!(found.installed_trees, vec![root.join("b/node_modules")]);
        let ignored: Vec<_> = found
            .ignored
            .iter()
            .map(|(p, _)| p.strip_prefix(root).unwrap())
            .collect();
        assert_eq!(
            ignored,
            vec![Path::new("a/package-lock.json"), Path::new("d/bun.lockb")]
        );
        assert!(found.errors.is_empty());
    }

    #[test]
    fn workspace_member_trees_are_read_once_with_their_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "package.json",
            r#"{"name":"mono","workspaces":["packages/*"],"dependencies":{"ms":"2.1.3"}}"#,
        );
        write(
            "node_modules/ms/package.json",
            r#"{"name":"ms","version":"2.1.3"}"#,
        );
        write(
            "packages/a/package.json",
            r#"{"name":"a","version":"1.0.0","dependencies":{"debug":"4.3.4"}}"#,
        );
        write(
            "packages/a/node_modules/debug/package.json",
            r#"{"name":"debug","version":"4.3.4"}"#,
        );
        write(
            "other/package.json",
            r#"{"name":"other","dependencies":{"ms":"2.0.0"}}"#,
        );
        write(
            "other/node_modules/ms/package.json",
            r#"{"name":"ms","version":"2.0.0"}"#,
        );
        let scan = inventory(root);
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        let files: Vec<_> = scan
            .projects
            .iter()
            .map(|p| p.file.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            files,
            vec![
                PathBuf::from("node_modules"),
                PathBuf::from("other/node_modules")
            ]
        );
        assert_eq!(scan.ignored.len(), 1, "{:?}", scan.ignored);
        assert_eq!(scan.ignored[0].0, root.join("packages/a/node_modules"));
    }

    #[cfg(unix)]
    #[test]
    fn does_not_follow_symlinks_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("yarn.lock"), "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        let found = discover(dir.path());
        assert!(found.lockfiles.is_empty());
    }
}
