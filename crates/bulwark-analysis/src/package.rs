//! The in-memory package model shared by directory and tarball input, so that `inspect`,
//! `scan` and `diff` all see the same thing: a list of (relative path, bytes) pairs plus the
//! notes about what was refused while reading.
//!
//! Nothing here follows links or trusts paths: tar entries with `..`, absolute paths, symlinks
//! or hardlinks are refused and reported, and every read is bounded by [`Options`].

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use crate::dir_walk::{Directory, EntryKind, read_bounded};

use crate::error::AnalysisError;
use crate::options::Options;
use crate::report::{FileNote, NoteKind};

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative path with `/` separators, without the tarball's leading `package/`.
    pub path: String,
    /// The raw bytes (never executed).
    pub bytes: Vec<u8>,
}

/// All files of one package, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageFiles {
    /// The files that were read.
    pub files: Vec<PackageFile>,
    /// Entries that were refused or skipped while reading.
    pub notes: Vec<FileNote>,
}

impl PackageFiles {
    /// Builds a package from (path, bytes) pairs, e.g. for tests or for a caller with its own I/O.
    pub fn from_memory<P: Into<String>, B: Into<Vec<u8>>>(
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Self {
        let mut files: Vec<PackageFile> = files
            .into_iter()
            .map(|(path, bytes)| PackageFile {
                path: path.into(),
                bytes: bytes.into(),
            })
            .collect();
        files.sort_by(|left, right| left.path.cmp(&right.path));
        Self {
            files,
            notes: Vec::new(),
        }
    }

    /// The file at `path`, if present.
    pub fn get(&self, path: &str) -> Option<&PackageFile> {
        self.files
            .binary_search_by(|file| file.path.as_str().cmp(path))
            .ok()
            .and_then(|index| self.files.get(index))
    }

    /// Reads a package directory (an unpacked tarball or an installed `node_modules/<name>`).
    ///
    /// Symlinks are not followed, nested `node_modules` and `.git` are skipped (nested packages are
    /// analysed on their own by `scan`).
    ///
    /// # Errors
    /// [`AnalysisError::ReadDir`] when `root` itself cannot be listed.
    pub fn from_dir(root: &Path, options: &Options) -> Result<Self, AnalysisError> {
        let unreadable_root = |source| AnalysisError::ReadDir {
            path: root.to_path_buf(),
            source,
        };
        let root_dir = Directory::open_root(root).map_err(unreadable_root)?;
        let root_entries = root_dir.entries().map_err(unreadable_root)?;
        let mut reader = DirReader {
            package: Self::default(),
            total: 0,
            options,
            pending: Vec::new(),
        };
        if reader.list(&root_dir, root_entries, "").is_break() {
            return Ok(reader.package.finish());
        }
        while let Some((parent, name, prefix)) = reader.pending.pop() {
            let opened = parent.open_dir(&name).and_then(|dir| {
                let entries = dir.entries()?;
                Ok((dir, entries))
            });
            match opened {
                Ok((dir, entries)) => {
                    if reader.list(&dir, entries, &prefix).is_break() {
                        break;
                    }
                }
                Err(error) => reader
                    .package
                    .note(&prefix, NoteKind::Unreadable, error.to_string()),
            }
        }
        Ok(reader.package.finish())
    }

    /// Reads a gzip-compressed npm tarball held in memory.
    ///
    /// The leading directory (`package/` for npm) is stripped. Entries with `..` or absolute paths,
    /// symlinks and hardlinks are refused with a [`FileNote`]; limits on entry count, per-file size
    /// and total uncompressed size stop the read early (also with a note) instead of failing.
    ///
    /// # Errors
    /// [`AnalysisError::Tarball`] when the bytes are not gzip/tar at all.
    pub fn from_tarball(bytes: &[u8], options: &Options) -> Result<Self, AnalysisError> {
        let decoder = flate2::read::GzDecoder::new(bytes);
        // Headers and padding add up to ~1 KiB per entry on top of the file contents.
        let header_allowance = (options.max_entries as u64).saturating_mul(1024);
        let bounded = decoder.take(options.max_total_size.saturating_add(header_allowance));
        let mut archive = tar::Archive::new(bounded);
        let entries = archive.entries().map_err(|source| AnalysisError::Tarball {
            message: "not a tar archive".to_owned(),
            source: Some(source),
        })?;
        let mut package = Self::default();
        let mut total: u64 = 0;
        let mut seen_entries = 0usize;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(source) => {
                    if seen_entries == 0 {
                        return Err(AnalysisError::Tarball {
                            message: "unreadable first entry".to_owned(),
                            source: Some(source),
                        });
                    }
                    package.note(
                        "",
                        NoteKind::LimitReached,
                        format!("tarball truncated or corrupt: {source}"),
                    );
                    break;
                }
            };
            seen_entries += 1;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if seen_entries > options.max_entries {
                package.note(
                    &raw_path,
                    NoteKind::LimitReached,
                    "entry limit reached".to_owned(),
                );
                break;
            }
            let entry_type = entry.header().entry_type();
            if entry_type.is_symlink() || entry_type.is_hard_link() {
                package.note(&raw_path, NoteKind::Link, "link entry refused".to_owned());
                continue;
            }
            if !(entry_type.is_file() || entry_type == tar::EntryType::Continuous) {
                continue;
            }
            let Some(path) = bulwark_types::package_tarball_path(&raw_path) else {
                package.note(
                    &raw_path,
                    NoteKind::PathTraversal,
                    "absolute or `..` path refused".to_owned(),
                );
                continue;
            };
            let size = entry.header().size().unwrap_or(u64::MAX);
            if size > options.max_file_size {
                package.note(&path, NoteKind::TooLarge, format!("{size} bytes, not read"));
                continue;
            }
            total = total.saturating_add(size);
            if total > options.max_total_size {
                package.note(
                    &path,
                    NoteKind::LimitReached,
                    "total size limit reached".to_owned(),
                );
                break;
            }
            let mut contents = Vec::with_capacity(usize::try_from(size.min(1 << 20)).unwrap_or(0));
            match (&mut entry)
                .take(options.max_file_size)
                .read_to_end(&mut contents)
            {
                Ok(_) => package.files.push(PackageFile {
                    path,
                    bytes: contents,
                }),
                Err(error) => {
                    package.note(&path, NoteKind::Unreadable, error.to_string());
                    break;
                }
            }
        }
        if seen_entries == 0 {
            return Err(AnalysisError::Tarball {
                message: "empty archive".to_owned(),
                source: None,
            });
        }
        Ok(package.finish())
    }

    fn note(&mut self, file: &str, kind: NoteKind, message: String) {
        self.notes.push(FileNote {
            file: file.to_owned(),
            kind,
            message,
        });
    }

    fn finish(mut self) -> Self {
        self.files.sort_by(|left, right| left.path.cmp(&right.path));
        // Duplicate paths in a tarball: the last one wins in npm, keep the last.
        self.files.reverse();
        self.files
            .dedup_by(|later, earlier| later.path == earlier.path);
        self.files.reverse();
        self
    }
}

/// The state of one [`PackageFiles::from_dir`] walk.
struct DirReader<'a> {
    package: PackageFiles,
    /// Bytes accepted so far.
    total: u64,
    options: &'a Options,
    /// Directories still to list: the parent, the entry name and the relative path. Children
    /// are opened only when their turn comes, so a wide tree does not hold one descriptor per
    /// pending directory.
    pending: Vec<(Directory, Vec<u8>, String)>,
}

impl DirReader<'_> {
    /// Takes in the entries of `dir` (at `prefix`); breaks when a limit stops the whole read.
    fn list(
        &mut self,
        dir: &Directory,
        entries: Vec<(Vec<u8>, EntryKind)>,
        prefix: &str,
    ) -> ControlFlow<()> {
        for (name, kind) in entries {
            let display = String::from_utf8_lossy(&name);
            let relative = if prefix.is_empty() {
                display.into_owned()
            } else {
                format!("{prefix}/{display}")
            };
            match kind {
                EntryKind::Link => {
                    self.package
                        .note(&relative, NoteKind::Link, "symlink not followed".to_owned());
                }
                EntryKind::Dir => {
                    if name != b"node_modules" && name != b".git" {
                        self.pending.push((dir.clone(), name, relative));
                    }
                }
                EntryKind::File => self.read_file(dir, &name, relative)?,
                EntryKind::Other => {}
            }
        }
        ControlFlow::Continue(())
    }

    /// Reads one file within the limits; breaks when the entry or total limit is reached.
    fn read_file(&mut self, dir: &Directory, name: &[u8], relative: String) -> ControlFlow<()> {
        let options = self.options;
        let package = &mut self.package;
        if package.files.len() >= options.max_entries {
            package.note(
                &relative,
                NoteKind::LimitReached,
                "entry limit reached".to_owned(),
            );
            return ControlFlow::Break(());
        }
        // Sized from the open file: the size checked is the size of what is read.
        let opened = match dir.open_file(name) {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                package.note(
                    &relative,
                    NoteKind::Unreadable,
                    "no longer a regular file".to_owned(),
                );
                return ControlFlow::Continue(());
            }
            Err(error) => {
                package.note(&relative, NoteKind::Unreadable, error.to_string());
                return ControlFlow::Continue(());
            }
        };
        let size = opened.size;
        if size > options.max_file_size {
            package.note(
                &relative,
                NoteKind::TooLarge,
                format!("{size} bytes, not read"),
            );
            return ControlFlow::Continue(());
        }
        self.total = self.total.saturating_add(size);
        if self.total > options.max_total_size {
            package.note(
                &relative,
                NoteKind::LimitReached,
                "total size limit reached".to_owned(),
            );
            return ControlFlow::Break(());
        }
        match read_bounded(opened, options.max_file_size) {
            Ok(bytes) => package.files.push(PackageFile {
                path: relative,
                bytes,
            }),
            Err(error) => package.note(&relative, NoteKind::Unreadable, error.to_string()),
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // Write the raw name so that hostile paths reach the reader unchanged.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            if kind.is_symlink() {
                header.set_link_name("/etc/passwd").expect("link name");
            }
            header.set_cksum();
            builder.append(&header, *data).expect("append");
        }
        builder.into_inner().expect("tar").finish().expect("gzip")
    }

    #[test]
    fn tarball_strips_package_dir_and_refuses_hostile_entries() {
        let bytes = tarball(&[
            (
                "package/package.json",
                b"{\"name\":\"a\"}",
                tar::EntryType::Regular,
            ),
            ("package/lib/index.js", b"1", tar::EntryType::Regular),
            ("package/../../etc/x", b"1", tar::EntryType::Regular),
            ("/abs/file", b"1", tar::EntryType::Regular),
            ("package/link", b"", tar::EntryType::Symlink),
        ]);
        let package = PackageFiles::from_tarball(&bytes, &Options::default()).expect("read");
        let paths: Vec<&str> = package
            .files
            .iter()
            .map(|file| file.path.as_str())
            .collect();
        assert_eq!(paths, ["lib/index.js", "package.json"]);
        let kinds: Vec<NoteKind> = package.notes.iter().map(|note| note.kind).collect();
        assert_eq!(
            kinds,
            [
                NoteKind::PathTraversal,
                NoteKind::PathTraversal,
                NoteKind::Link
            ]
        );
    }

    #[test]
    fn tarball_limits_are_enforced() {
        let big = vec![b'a'; 4096];
        let bytes = tarball(&[
            ("package/a.js", &big, tar::EntryType::Regular),
            ("package/b.js", b"1", tar::EntryType::Regular),
            ("package/c.js", b"1", tar::EntryType::Regular),
        ]);
        let options = Options {
            max_file_size: 1024,
            max_entries: 2,
            ..Options::default()
        };
        let package = PackageFiles::from_tarball(&bytes, &options).expect("read");
        assert_eq!(package.files.len(), 1);
        let kinds: Vec<NoteKind> = package.notes.iter().map(|note| note.kind).collect();
        assert_eq!(kinds, [NoteKind::TooLarge, NoteKind::LimitReached]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(PackageFiles::from_tarball(b"not gzip at all", &Options::default()).is_err());
        assert!(PackageFiles::from_tarball(&[], &Options::default()).is_err());
    }
}
