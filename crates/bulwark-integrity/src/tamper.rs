//! Tamper detection: the files of an installed package against its published contents. A file
//! modified, added or removed after installation is a [`FileChange`]; the bookkeeping package
//! managers do (npm ≤ 6 adding `_resolved`, `_integrity`, `_from`… to `package.json`) is
//! recognised and not reported. Nested `node_modules` belong to other packages and are skipped.
//! Nothing is followed out of the package directory: links are reported, never read.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use serde::Serialize;

use crate::tarball::{Expected, Reference};

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

/// Compares the installed package at `dir` with `reference`. Changes are sorted by path.
///
/// # Errors
/// The directory itself cannot be read.
pub fn compare(dir: &Path, reference: &Reference) -> std::io::Result<Vec<FileChange>> {
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![String::new()];
    let mut walked = 0usize;
    std::fs::read_dir(dir)?;
    while let Some(relative) = stack.pop() {
        let absolute = if relative.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&relative)
        };
        let Ok(entries) = std::fs::read_dir(&absolute) else {
            changes.push(FileChange {
                path: relative.clone(),
                kind: ChangeKind::Unreadable,
            });
            continue;
        };
        for entry in entries.flatten() {
            walked += 1;
            if walked > MAX_INSTALLED_FILES {
                changes.push(FileChange {
                    path: relative.clone(),
                    kind: ChangeKind::Unreadable,
                });
                stack.clear();
                break;
            }
            let Ok(name) = entry.file_name().into_string() else {
                changes.push(FileChange {
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
            let Ok(file_type) = entry.file_type() else {
                changes.push(FileChange {
                    path,
                    kind: ChangeKind::Unreadable,
                });
                continue;
            };
            if file_type.is_dir() {
                if name != "node_modules" {
                    stack.push(path);
                }
                continue;
            }
            if file_type.is_symlink() {
                seen.insert(path.clone());
                changes.push(FileChange {
                    path,
                    kind: ChangeKind::Link,
                });
                continue;
            }
            let Some((reference_path, expected)) = reference_entry(reference, &path) else {
                changes.push(FileChange {
                    path,
                    kind: ChangeKind::Added,
                });
                continue;
            };
            seen.insert(reference_path.to_owned());
            let file_path = entry.path();
            let same = match expected {
                Expected::Bytes(bytes) => same_bytes(&file_path, bytes),
                Expected::Sha512(digest) => same_sha512(&file_path, digest),
            };
            match same {
                Ok(true) => {}
                Ok(false) => {
                    let bookkeeping = path == "package.json"
                        && matches!(expected, Expected::Bytes(bytes) if manifest_equivalent(&file_path, bytes));
                    if !bookkeeping {
                        changes.push(FileChange {
                            path,
                            kind: ChangeKind::Modified,
                        });
                    }
                }
                Err(_) => changes.push(FileChange {
                    path,
                    kind: ChangeKind::Unreadable,
                }),
            }
        }
    }
    for path in reference.files.keys() {
        if !seen.contains(path)
            && !path.starts_with("node_modules/")
            && !path.contains("/node_modules/")
        {
            changes.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Removed,
            });
        }
    }
    changes.sort_by(|left, right| left.path.cmp(&right.path));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tarball::{Limits, read_tarball, tests::build};

    #[test]
    fn reports_modified_added_removed_and_ignores_bookkeeping() {
        let tarball = build(&[
            ("package/package.json", br#"{"name":"a","version":"1.0.0"}"#),
            ("package/index.js", b"module.exports = 1;\n"),
            ("package/lib/util.js", b"exports.x = 1;\n"),
            ("package/README.md", b"hello\n"),
        ]);
        let reference = read_tarball(&tarball, Limits::default()).unwrap();
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
        let changes = compare(root, &reference).unwrap();
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
        let changes = compare(root, &reference).unwrap();
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
        let reference = read_tarball(&tarball, Limits::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("package.json"), b"{}").unwrap();
        std::fs::write(dir.path().join(".npmignore"), b"dist\n").unwrap();
        std::fs::write(dir.path().join("lib/.gitignore"), b"x\n").unwrap();
        assert_eq!(compare(dir.path(), &reference).unwrap(), vec![]);
        std::fs::write(dir.path().join(".npmignore"), b"changed\n").unwrap();
        assert_eq!(
            compare(dir.path(), &reference).unwrap(),
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
        let reference = read_tarball(&tarball, Limits::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), b"{}").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("a.js")).unwrap();
        let changes = compare(dir.path(), &reference).unwrap();
        assert_eq!(
            changes,
            vec![FileChange {
                path: "a.js".into(),
                kind: ChangeKind::Link
            }]
        );
    }
}
