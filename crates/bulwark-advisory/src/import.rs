//! Reading OSV inputs: one JSON file, a directory tree of them, or OSV's `all.zip`.
//!
//! Inputs are turned into a stream of entries that the store consumes inside one
//! transaction, so nothing is held in memory beyond the record being imported. Every input
//! is hostile: files and zip entries are read through a byte cap (a zip entry's declared
//! size is not trusted), zips may hold at most [`Limits::max_entries`] entries and
//! [`Limits::max_total_bytes`] uncompressed bytes, and directory walks do not follow
//! symlinks.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::osv::schema::MAX_RECORD_BYTES;

/// Size caps for archives and directory trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single record, compressed or not.
    pub max_entry_bytes: u64,
    /// Most entries (files) in one input. OSV's npm `all.zip` holds a few hundred thousand.
    pub max_entries: usize,
    /// Most uncompressed bytes read from one input.
    pub max_total_bytes: u64,
    /// Largest archive accepted (downloads are held in memory).
    pub max_archive_bytes: u64,
    /// Largest indicator list (`--iocs FILE`) accepted.
    pub max_list_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entry_bytes: MAX_RECORD_BYTES as u64,
            max_entries: 2_000_000,
            max_total_bytes: 8 * 1024 * 1024 * 1024,
            max_archive_bytes: 2 * 1024 * 1024 * 1024,
            max_list_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One item of an input stream.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A record's bytes and its name (path, or `archive.zip!entry.json`).
    Record { name: PathBuf, bytes: Vec<u8> },
    /// A record that could not be read; reported by name, the import goes on.
    Unreadable { name: PathBuf, reason: String },
    /// The input as a whole is broken (corrupt archive, cap exceeded): the import stops and
    /// its transaction is rolled back.
    Fatal(Error),
}

/// Read at most `cap` bytes; `Err` when there is more.
fn read_capped(reader: impl Read, cap: u64) -> std::io::Result<Result<Vec<u8>, String>> {
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Ok(Err(format!("larger than the {cap}-byte cap")));
    }
    Ok(Ok(bytes))
}

/// True for a path that names a zip (by extension).
pub(crate) fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// The entries of a file, directory or zip at `path`.
pub(crate) fn entries_of_path(
    path: &Path,
    limits: Limits,
) -> Result<Box<dyn Iterator<Item = Entry>>, Error> {
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if metadata.is_dir() {
        let files = walk_json_files(path, limits)?;
        return Ok(Box::new(files.into_iter().map(move |file| {
            let result = File::open(&file).and_then(|f| read_capped(f, limits.max_entry_bytes));
            match result {
                Ok(Ok(bytes)) => Entry::Record { name: file, bytes },
                Ok(Err(reason)) => Entry::Unreadable { name: file, reason },
                Err(error) => Entry::Unreadable {
                    name: file,
                    reason: error.to_string(),
                },
            }
        })));
    }
    if is_zip(path) {
        if metadata.len() > limits.max_archive_bytes {
            return Err(Error::new(
                ErrorKind::Archive,
                format!(
                    "`{}` is larger than the {}-byte cap",
                    path.display(),
                    limits.max_archive_bytes
                ),
            ));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        return Ok(Box::new(ZipEntries::new(
            file,
            path.to_path_buf(),
            limits,
            false,
        )?));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let entry = match read_capped(file, limits.max_entry_bytes) {
        Ok(Ok(bytes)) => Entry::Record {
            name: path.to_path_buf(),
            bytes,
        },
        Ok(Err(reason)) => Entry::Unreadable {
            name: path.to_path_buf(),
            reason,
        },
        Err(error) => return Err(Error::io(path, error)),
    };
    Ok(Box::new(std::iter::once(entry)))
}

/// Every `*.json` file under `root`, sorted, without following symlinks.
fn walk_json_files(root: &Path, limits: Limits) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0_usize)];
    while let Some((dir, depth)) = stack.pop() {
        let read = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for item in read {
            let item = item.map_err(|e| Error::io(&dir, e))?;
            let Ok(kind) = item.file_type() else { continue };
            let path = item.path();
            if kind.is_dir() && depth < 32 {
                stack.push((path, depth + 1));
            } else if kind.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                files.push(path);
                if files.len() > limits.max_entries {
                    return Err(Error::new(
                        ErrorKind::Archive,
                        format!(
                            "`{}` holds more than {} JSON files",
                            root.display(),
                            limits.max_entries
                        ),
                    ));
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Streams the `*.json` entries of a zip archive.
pub(crate) struct ZipEntries<R: Read + Seek> {
    archive: zip::ZipArchive<R>,
    label: PathBuf,
    limits: Limits,
    next: usize,
    total: u64,
    /// In strict mode an unreadable entry is fatal (used by `update`).
    strict: bool,
    done: bool,
}

impl<R: Read + Seek> ZipEntries<R> {
    pub(crate) fn new(
        reader: R,
        label: PathBuf,
        limits: Limits,
        strict: bool,
    ) -> Result<Self, Error> {
        let archive = zip::ZipArchive::new(reader).map_err(|error| {
            Error::new(
                ErrorKind::Archive,
                format!("`{}` is not a readable zip archive", label.display()),
            )
            .with_source(error)
        })?;
        if archive.len() > limits.max_entries {
            return Err(Error::new(
                ErrorKind::Archive,
                format!(
                    "`{}` holds {} entries, more than the {} allowed",
                    label.display(),
                    archive.len(),
                    limits.max_entries
                ),
            ));
        }
        Ok(Self {
            archive,
            label,
            limits,
            next: 0,
            total: 0,
            strict,
            done: false,
        })
    }

    fn read_entry(&mut self, index: usize) -> Option<Entry> {
        let label = self.label.clone();
        let strict = self.strict;
        let name_of = |entry: &str| PathBuf::from(format!("{}!{entry}", label.display()));
        let unreadable = |name: PathBuf, reason: String| {
            if strict {
                Entry::Fatal(Error::new(
                    ErrorKind::Archive,
                    format!("`{}` is damaged: {reason}", name.display()),
                ))
            } else {
                Entry::Unreadable { name, reason }
            }
        };
        let cap = self
            .limits
            .max_entry_bytes
            .min(self.limits.max_total_bytes.saturating_sub(self.total));
        let (name, result) = {
            let mut file = match self.archive.by_index(index) {
                Ok(file) => file,
                Err(error) => {
                    return Some(unreadable(name_of(&format!("#{index}")), error.to_string()));
                }
            };
            if file.is_dir() {
                return None;
            }
            let entry_name = String::from_utf8_lossy(file.name_raw()).into_owned();
            if !entry_name.to_ascii_lowercase().ends_with(".json") {
                return None;
            }
            (name_of(&entry_name), read_capped(&mut file, cap))
        };
        match result {
            Ok(Ok(bytes)) => {
                self.total += bytes.len() as u64;
                Some(Entry::Record { name, bytes })
            }
            Ok(Err(reason)) => {
                if self.total + cap >= self.limits.max_total_bytes {
                    return Some(Entry::Fatal(Error::new(
                        ErrorKind::Archive,
                        format!(
                            "`{}` expands beyond the {}-byte cap",
                            label.display(),
                            self.limits.max_total_bytes
                        ),
                    )));
                }
                Some(unreadable(name, reason))
            }
            Err(error) => Some(unreadable(name, error.to_string())),
        }
    }
}

impl<R: Read + Seek> Iterator for ZipEntries<R> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        while !self.done && self.next < self.archive.len() {
            let index = self.next;
            self.next += 1;
            if let Some(entry) = self.read_entry(index) {
                if matches!(entry, Entry::Fatal(_)) {
                    self.done = true;
                }
                return Some(entry);
            }
        }
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// Build a zip in memory from `(name, bytes)` pairs.
    pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).expect("start");
            writer.write_all(bytes).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn collect(bytes: Vec<u8>, limits: Limits, strict: bool) -> Vec<Entry> {
        ZipEntries::new(
            std::io::Cursor::new(bytes),
            "all.zip".into(),
            limits,
            strict,
        )
        .expect("opens")
        .collect()
    }

    #[test]
    fn zip_bomb_entries_are_capped() {
        let big = vec![b'a'; 10_000];
        let zip = zip_of(&[
            ("a.json", b"{}"),
            ("bomb.json", &big),
            ("c.json", b"{}"),
            ("README", b"x"),
        ]);
        let limits = Limits {
            max_entry_bytes: 1_000,
            ..Limits::default()
        };
        let entries = collect(zip.clone(), limits, false);
        assert_eq!(entries.len(), 3, "README is skipped");
        assert!(
            matches!(&entries[1], Entry::Unreadable { name, .. } if name.ends_with("all.zip!bomb.json"))
        );
        assert!(matches!(&entries[2], Entry::Record { .. }));
        // Strict mode (update) stops at the first damaged entry.
        let entries = collect(zip.clone(), limits, true);
        assert!(matches!(entries.last(), Some(Entry::Fatal(_))));
        // The total cap is fatal.
        let limits = Limits {
            max_total_bytes: 5_000,
            ..Limits::default()
        };
        let entries = collect(zip, limits, false);
        assert!(matches!(entries.last(), Some(Entry::Fatal(_))));
    }

    #[test]
    fn too_many_entries_and_garbage_are_rejected() {
        let zip = zip_of(&[("a.json", b"{}"), ("b.json", b"{}")]);
        let limits = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(ZipEntries::new(std::io::Cursor::new(zip), "x.zip".into(), limits, false).is_err());
        let garbage = b"PK\x03\x04 definitely not a zip".to_vec();
        let error = ZipEntries::new(
            std::io::Cursor::new(garbage),
            "x.zip".into(),
            Limits::default(),
            false,
        )
        .err()
        .expect("garbage");
        assert_eq!(error.kind(), ErrorKind::Archive);
    }
}
