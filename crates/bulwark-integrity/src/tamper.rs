//! Tamper detection: the files of an installed package against its published contents. A file
//! modified, added or removed after installation is a [`FileChange`]; the bookkeeping package
//! managers do (npm ≤ 6 adding `_resolved`, `_integrity`, `_from`… to `package.json`) is
//! recognised and not reported. Nested `node_modules` belong to other packages and are skipped.
//! Nothing is followed out of the package directory: links are reported, never read.

use std::fs::File;
use std::path::Path;

use serde::Serialize;

use std::collections::BTreeMap;
use std::io::Read;

use crate::tarball::{Expected, Limits, Reference, TarballError};

/// Largest installed file read for comparison.
pub const MAX_INSTALLED_FILE: u64 = 128 << 20;
/// Most files walked in one installed package.
pub const MAX_INSTALLED_FILES: usize = 100_000;

/// How an installed file differs from the published one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Contents differ.
    Modified,
    /// Not in the published package.
    Added,
    /// Published but missing.
    Removed,
    /// A symbolic link where the package has none (or a file).
    Link,
    /// Could not be read (permissions, over the size limit).
    Unreadable,
}

/// One file that is not as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Path inside the package, `/`-separated.
    pub path: String,
    /// How it differs.
    pub kind: ChangeKind,
}

fn same_bytes(path: &Path, expected: &[u8]) -> std::io::Result<bool> {
    let file = File::open(path)?;
    if file.metadata()?.len() != expected.len() as u64 {
        return Ok(false);
    }
    let mut reader = file.take(expected.len() as u64 + 1);
    let mut buffer = vec![0u8; (64 << 10).min(expected.len().max(1))];
    let mut offset = 0usize;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            return Ok(offset == expected.len());
        }
        if offset + read > expected.len() || buffer[..read] != expected[offset..offset + read] {
            return Ok(false);
        }
        offset += read;
    }
}

fn same_sha512(path: &Path, expected: &[u8]) -> std::io::Result<bool> {
    let file = File::open(path)?;
    let digest =
        crate::sri::digest_reader(bulwark_types::Algorithm::Sha512, file, MAX_INSTALLED_FILE)?;
    Ok(digest.digest == expected)
}

/// Keys managers add to an installed `package.json`: npm ≤ 6 writes `_from`, `_id`,
/// `_integrity`, `_resolved`, `_where`, `_requested`…; all begin with `_`.
fn without_bookkeeping(value: &mut serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        object.retain(|key, _| !key.starts_with('_'));
    }
}

/// Whether an installed `package.json` equals the published one once manager bookkeeping is
/// set aside (formatting, key order and `_`-prefixed fields).
fn manifest_equivalent(path: &Path, published: &[u8]) -> bool {
    let Ok(installed) = crate::read_bounded(path, 16 << 20) else {
        return false;
    };
    let (Ok(mut installed), Ok(mut published)) = (
        serde_json::from_slice::<serde_json::Value>(&installed),
        serde_json::from_slice::<serde_json::Value>(published),
    ) else {
        return false;
    };
    without_bookkeeping(&mut installed);
    without_bookkeeping(&mut published);
    installed == published
}

/// The published file an installed path stands for. npm (pacote) extracts a published
/// `.gitignore` as `.npmignore`, so an installed `.npmignore` with no published one stands for
/// the `.gitignore` beside it.
fn reference_entry<'a>(reference: &'a Reference, path: &str) -> Option<(&'a str, &'a Expected)> {
    if let Some((key, expected)) = reference.files.get_key_value(path) {
        return Some((key.as_str(), expected));
    }
    let renamed = path
        .strip_suffix(".npmignore")
        .filter(|dir| dir.is_empty() || dir.ends_with('/'))?;
    reference
        .files
        .get_key_value(&format!("{renamed}.gitignore"))
        .map(|(key, expected)| (key.as_str(), expected))
}

/// An installed entry.
enum Installed {
    /// A regular file at this absolute path.
    File(std::path::PathBuf),
    /// A symbolic link.
    Link,
}

/// Every file and link of the installed package at `dir` (nested `node_modules` skipped), and
/// what could not be read.
fn walk(dir: &Path) -> std::io::Result<(BTreeMap<String, Installed>, Vec<FileChange>)> {
    let mut installed = BTreeMap::new();
    let mut problems = Vec::new();
    let mut stack = vec![String::new()];
    std::fs::read_dir(dir)?;
    while let Some(relative) = stack.pop() {
        let absolute = if relative.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&relative)
        };
        let Ok(entries) = std::fs::read_dir(&absolute) else {
            problems.push(FileChange {
                path: relative.clone(),
                kind: ChangeKind::Unreadable,
            });
            continue;
        };
        for entry in entries.flatten() {
            if installed.len() + problems.len() >= MAX_INSTALLED_FILES {
                problems.push(FileChange {
                    path: relative.clone(),
                    kind: ChangeKind::Unreadable,
                });
                return Ok((installed, problems));
            }
            let Ok(name) = entry.file_name().into_string() else {
                problems.push(FileChange {
                    path: format!("{relative}/{}", entry.file_name().to_string_lossy()),
                    kind: ChangeKind::Added,
                });
                continue;
            };
            let path = if relative.is_empty() {
                name.clone()
            } else {
                format!("{relative}/{name}")
            };
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    if name != "node_modules" {
                        stack.push(path);
                    }
                }
                Ok(kind) if kind.is_symlink() => {
                    installed.insert(path, Installed::Link);
                }
                Ok(_) => {
                    installed.insert(path, Installed::File(entry.path()));
                }
                Err(_) => problems.push(FileChange {
                    path,
                    kind: ChangeKind::Unreadable,
                }),
            }
        }
    }
    Ok((installed, problems))
}

fn inside_nested_modules(path: &str) -> bool {
    path.starts_with("node_modules/") || path.contains("/node_modules/")
}

fn finish(mut changes: Vec<FileChange>) -> Vec<FileChange> {
    changes.sort_by(|left, right| left.path.cmp(&right.path));
    changes
}

/// Compares the installed package at `dir` with `reference` (files known up front: a berry zip
/// read into memory, or a pnpm index of digests). Changes are sorted by path.
///
/// # Errors
/// The directory itself cannot be read.
pub fn compare(dir: &Path, reference: &Reference) -> std::io::Result<Vec<FileChange>> {
    let (installed, mut changes) = walk(dir)?;
    let mut seen = std::collections::BTreeSet::new();
    for (path, entry) in &installed {
        let Installed::File(file_path) = entry else {
            seen.insert(path.clone());
            changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Link,
            });
            continue;
        };
        let Some((reference_path, expected)) = reference_entry(reference, path) else {
            changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Added,
            });
            continue;
        };
        seen.insert(reference_path.to_owned());
        let same = match expected {
            Expected::Bytes(bytes) => same_bytes(file_path, bytes),
            Expected::Sha512(digest) => same_sha512(file_path, digest),
        };
        match same {
            Ok(true) => {}
            Ok(false) => {
                let bookkeeping = path == "package.json"
                    && matches!(expected, Expected::Bytes(bytes) if manifest_equivalent(file_path, bytes));
                if !bookkeeping {
                    changes.push(FileChange {
                        path: path.clone(),
                        kind: ChangeKind::Modified,
                    });
                }
            }
            Err(_) => changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Unreadable,
            }),
        }
    }
    for path in reference.files.keys() {
        if !seen.contains(path) && !inside_nested_modules(path) {
            changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Removed,
            });
        }
    }
    Ok(finish(changes))
}

/// Why a streaming comparison stopped.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The installed directory cannot be read.
    #[error("cannot read the installed package: {0}")]
    Installed(std::io::Error),
    /// The tarball is corrupt or over a limit.
    #[error(transparent)]
    Tarball(#[from] TarballError),
}

// The message above already quotes the cause, so it is not also a `source` (an error chain
// would print it twice).
impl From<std::io::Error> for CompareError {
    fn from(error: std::io::Error) -> Self {
        Self::Installed(error)
    }
}

/// What one published file turned out to be, installed.
struct Outcome {
    /// The installed path it was compared with, if any.
    installed: Option<String>,
    /// Whether the contents are the same.
    same: bool,
}

/// Compares the installed package at `dir` with a gzip tarball, streaming: each entry is
/// decompressed and compared with its installed file in 64 KiB blocks, so memory stays at the
/// buffers whatever the package's size (only `package.json` is held whole, to compare it as
/// JSON). The limits of [`crate::tarball::read_tarball`] apply. Changes are sorted by path.
///
/// # Errors
/// [`CompareError`].
pub fn compare_tarball(
    dir: &Path,
    tarball: &[u8],
    limits: Limits,
) -> Result<Vec<FileChange>, CompareError> {
    let (installed, mut changes) = walk(dir)?;
    if tarball.len() as u64 > limits.max_tarball {
        return Err(TarballError::TooLarge(format!("{} bytes compressed", tarball.len())).into());
    }
    let header_allowance = (limits.max_entries as u64).saturating_mul(1024);
    let decoder = flate2::read::GzDecoder::new(tarball)
        .take(limits.max_total.saturating_add(header_allowance));
    let mut archive = tar::Archive::new(decoder);
    let entries = archive
        .entries()
        .map_err(|error| TarballError::Corrupt(error.to_string()))?;
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    // Installed path → the published path it was matched with.
    let mut claims: BTreeMap<String, String> = BTreeMap::new();
    let mut published_buffer = vec![0u8; 64 << 10];
    let mut installed_buffer = vec![0u8; 64 << 10];
    let mut total = 0u64;
    let mut any = false;
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_entries {
            return Err(TarballError::TooLarge(format!(
                "more than {} entries",
                limits.max_entries
            ))
            .into());
        }
        let mut entry = entry.map_err(|error| TarballError::Corrupt(error.to_string()))?;
        any = true;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            // Directories, links (never extracted by us, never trusted), metadata.
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = bulwark_types::package_tarball_path(&raw) else {
            continue;
        };
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > limits.max_file {
            return Err(TarballError::TooLarge(format!("`{path}` has {size} bytes")).into());
        }
        total = total.saturating_add(size);
        if total > limits.max_total {
            return Err(TarballError::TooLarge(format!(
                "more than {} MiB unpacked",
                limits.max_total >> 20
            ))
            .into());
        }
        if matches!(installed.get(&path), Some(Installed::Link)) {
            // Reported as a link below; a link is never read.
            claims.insert(path.clone(), path.clone());
            outcomes.insert(
                path.clone(),
                Outcome {
                    installed: Some(path),
                    same: true,
                },
            );
            continue;
        }
        // Which installed file stands for it: the same path, or npm's `.npmignore` for a
        // published `.gitignore` (unless a published `.npmignore` claims it).
        let target = match installed.get(&path) {
            Some(Installed::File(_)) => Some(path.clone()),
            _ => path
                .strip_suffix(".gitignore")
                .filter(|dir| dir.is_empty() || dir.ends_with('/'))
                .map(|dir| format!("{dir}.npmignore"))
                .filter(|renamed| {
                    matches!(installed.get(renamed), Some(Installed::File(_)))
                        && claims.get(renamed).is_none_or(|owner| owner == &path)
                }),
        };
        if let Some(target) = &target
            && let Some(previous) = claims.insert(target.clone(), path.clone())
            && previous != path
            && let Some(outcome) = outcomes.get_mut(&previous)
        {
            // A published `.npmignore` takes its file back from a renamed `.gitignore`.
            outcome.installed = None;
            outcome.same = false;
        }
        let same = match target.as_deref().and_then(|t| match installed.get(t) {
            Some(Installed::File(file)) => Some(file),
            _ => None,
        }) {
            None => {
                // Not installed: nothing to read; the tar reader skips the entry's data.
                false
            }
            Some(file) if path == "package.json" => {
                let mut published = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                (&mut entry)
                    .take(limits.max_file)
                    .read_to_end(&mut published)
                    .map_err(|error| TarballError::Corrupt(format!("`{path}`: {error}")))?;
                same_bytes(file, &published).unwrap_or(false)
                    || manifest_equivalent(file, &published)
            }
            Some(file) => match same_stream(
                file,
                &mut entry,
                size,
                &mut published_buffer,
                &mut installed_buffer,
            ) {
                Ok(same) => same,
                Err(StreamError::Published(error)) => {
                    return Err(TarballError::Corrupt(format!("`{path}`: {error}")).into());
                }
                Err(StreamError::Installed) => {
                    changes.push(FileChange {
                        path: target.clone().unwrap_or_default(),
                        kind: ChangeKind::Unreadable,
                    });
                    true
                }
            },
        };
        outcomes.insert(
            path,
            Outcome {
                installed: target,
                same,
            },
        );
    }
    if !any {
        return Err(TarballError::Corrupt("no entries".to_owned()).into());
    }
    for (path, outcome) in &outcomes {
        match &outcome.installed {
            None if !inside_nested_modules(path) => changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Removed,
            }),
            None => {}
            Some(installed_path) if !outcome.same => {
                changes.push(FileChange {
                    path: installed_path.clone(),
                    kind: ChangeKind::Modified,
                });
            }
            Some(_) => {}
        }
    }
    for (path, entry) in &installed {
        match entry {
            Installed::Link => changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Link,
            }),
            Installed::File(_) if !claims.contains_key(path) => {
                changes.push(FileChange {
                    path: path.clone(),
                    kind: ChangeKind::Added,
                });
            }
            Installed::File(_) => {}
        }
    }
    Ok(finish(changes))
}

enum StreamError {
    /// Reading the tarball failed (corrupt).
    Published(std::io::Error),
    /// Reading the installed file failed.
    Installed,
}

fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Compares an installed file with a published entry of `size` bytes, block by block.
fn same_stream(
    path: &Path,
    published: &mut impl Read,
    size: u64,
    published_buffer: &mut [u8],
    installed_buffer: &mut [u8],
) -> Result<bool, StreamError> {
    let mut file = File::open(path).map_err(|_| StreamError::Installed)?;
    if file.metadata().map_err(|_| StreamError::Installed)?.len() != size {
        return Ok(false);
    }
    loop {
        let read = read_full(published, published_buffer).map_err(StreamError::Published)?;
        if read == 0 {
            // Both at their end: the sizes matched.
            return Ok(true);
        }
        let got = read_full(&mut file, &mut installed_buffer[..read])
            .map_err(|_| StreamError::Installed)?;
        if got != read || published_buffer[..read] != installed_buffer[..read] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tarball::{Limits, read_tarball, tests::build};

    /// Both comparisons (in memory and streaming) must agree; returns their changes.
    fn both(dir: &Path, tarball: &[u8]) -> Vec<FileChange> {
        let reference = read_tarball(tarball, Limits::default()).unwrap();
        let in_memory = compare(dir, &reference).unwrap();
        let streamed = compare_tarball(dir, tarball, Limits::default()).unwrap();
        assert_eq!(in_memory, streamed);
        streamed
    }

    #[test]
    fn reports_modified_added_removed_and_ignores_bookkeeping() {
        let tarball = build(&[
            ("package/package.json", br#"{"name":"a","version":"1.0.0"}"#),
            ("package/index.js", b"module.exports = 1;\n"),
            ("package/lib/util.js", b"exports.x = 1;\n"),
            ("package/README.md", b"hello\n"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/dep")).unwrap();
        std::fs::write(
            root.join("package.json"),
            "{\n  \"version\": \"1.0.0\",\n  \"name\": \"a\",\n  \"_resolved\": \"https://r/a.tgz\",\n  \"_integrity\": \"sha512-x\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("index.js"),
            b"module.exports = 1;\nrequire('child_process');\n",
        )
        .unwrap();
        std::fs::write(root.join("lib/util.js"), b"exports.x = 1;\n").unwrap();
        std::fs::write(root.join("lib/payload.js"), b"evil()\n").unwrap();
        std::fs::write(root.join("node_modules/dep/other.js"), b"not ours\n").unwrap();
        let changes = both(root, &tarball);
        assert_eq!(
            changes,
            vec![
                FileChange {
                    path: "README.md".into(),
                    kind: ChangeKind::Removed
                },
                FileChange {
                    path: "index.js".into(),
                    kind: ChangeKind::Modified
                },
                FileChange {
                    path: "lib/payload.js".into(),
                    kind: ChangeKind::Added
                },
            ]
        );
        // A real edit of package.json (a new install script) is reported.
        std::fs::write(
            root.join("package.json"),
            r#"{"name":"a","version":"1.0.0","scripts":{"postinstall":"node x"}}"#,
        )
        .unwrap();
        let changes = both(root, &tarball);
        assert!(changes.contains(&FileChange {
            path: "package.json".into(),
            kind: ChangeKind::Modified
        }));
    }

    #[test]
    fn npm_extracts_gitignore_as_npmignore() {
        let tarball = build(&[
            ("package/package.json", b"{}"),
            ("package/.gitignore", b"dist\n"),
            ("package/lib/.gitignore", b"x\n"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("package.json"), b"{}").unwrap();
        std::fs::write(dir.path().join(".npmignore"), b"dist\n").unwrap();
        std::fs::write(dir.path().join("lib/.gitignore"), b"x\n").unwrap();
        assert_eq!(both(dir.path(), &tarball), vec![]);
        std::fs::write(dir.path().join(".npmignore"), b"changed\n").unwrap();
        assert_eq!(
            both(dir.path(), &tarball),
            vec![FileChange {
                path: ".npmignore".into(),
                kind: ChangeKind::Modified
            }]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_reported_not_followed() {
        let tarball = build(&[("package/package.json", b"{}"), ("package/a.js", b"x")]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), b"{}").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("a.js")).unwrap();
        let changes = both(dir.path(), &tarball);
        assert_eq!(
            changes,
            vec![FileChange {
                path: "a.js".into(),
                kind: ChangeKind::Link
            }]
        );
    }

    #[test]
    fn streaming_detects_same_size_edits_and_bad_tarballs() {
        let tarball = build(&[
            ("package/package.json", b"{}"),
            ("package/a.js", b"abcdef"),
            ("package/.npmignore", b"n"),
            ("package/.gitignore", b"g"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("a.js"), b"abcdeX").unwrap();
        std::fs::write(dir.path().join(".npmignore"), b"n").unwrap();
        // A published .npmignore keeps its own file: the .gitignore is then missing.
        assert_eq!(
            both(dir.path(), &tarball),
            vec![
                FileChange {
                    path: ".gitignore".into(),
                    kind: ChangeKind::Removed
                },
                FileChange {
                    path: "a.js".into(),
                    kind: ChangeKind::Modified
                },
            ]
        );
        assert!(matches!(
            compare_tarball(dir.path(), b"not gzip", Limits::default()),
            Err(CompareError::Tarball(_))
        ));
        let small = Limits {
            max_file: 3,
            ..Limits::default()
        };
        assert!(matches!(
            compare_tarball(dir.path(), &tarball, small),
            Err(CompareError::Tarball(_))
        ));
    }
}
