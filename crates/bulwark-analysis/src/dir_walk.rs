//! Directory access for [`crate::PackageFiles::from_dir`]: list a directory, then open its
//! entries *relative to it*.
//!
//! On Unix every child is opened with `openat` on its parent's descriptor and `O_NOFOLLOW`, so a
//! path is resolved one component at a time (no repeated walk of `node_modules/a/node_modules/b/…`
//! per file) and an entry swapped for a symlink after it was listed is refused instead of
//! followed. Files are opened with `O_NONBLOCK`, so a FIFO planted in a package cannot block the
//! read. Elsewhere the same interface is built on `std::fs` paths.

use std::fs::File;
use std::io;

/// What a directory entry is, as listed (links are never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Link,
    /// A socket, FIFO, device, or something that could not be classified.
    Other,
}

/// A file opened for reading with its size, taken from the open handle.
pub(crate) struct OpenedFile {
    /// The open file.
    pub(crate) file: File,
    /// Its size when opened.
    pub(crate) size: u64,
}

#[cfg(unix)]
pub(crate) use unix::Directory;

#[cfg(not(unix))]
pub(crate) use portable::Directory;

#[cfg(unix)]
mod unix {
    use std::ffi::{CStr, CString, OsStr};
    use std::fs::File;
    use std::io;
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStrExt as _;
    use std::path::Path;
    use std::rc::Rc;

    use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags};

    use super::{EntryKind, OpenedFile};

    /// An open directory; cheap to clone (the descriptor is shared).
    #[derive(Clone)]
    pub(crate) struct Directory {
        fd: Rc<OwnedFd>,
    }

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC);

    impl Directory {
        /// Opens the root of a walk (a symlink here is followed: the caller named it).
        pub(crate) fn open_root(path: &Path) -> io::Result<Self> {
            let fd = rustix::fs::openat(CWD, path, DIR_FLAGS, Mode::empty())?;
            Ok(Self { fd: Rc::new(fd) })
        }

        /// The entries of this directory (without `.` and `..`), with their names as raw bytes.
        pub(crate) fn entries(&self) -> io::Result<Vec<(Vec<u8>, EntryKind)>> {
            // `Dir::read_from` reads through its own descriptor, so this one stays usable for
            // `openat`.
            let mut dir = Dir::read_from(&*self.fd)?;
            let mut entries = Vec::new();
            while let Some(entry) = dir.read() {
                let entry = entry?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let kind = match entry.file_type() {
                    FileType::Unknown => self.kind_of(entry.file_name()),
                    other => kind_of_type(other),
                };
                entries.push((name.to_vec(), kind));
            }
            Ok(entries)
        }

        /// A file system that does not report entry types: ask without following links.
        fn kind_of(&self, name: &CStr) -> EntryKind {
            rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(EntryKind::Other, |stat| {
                    kind_of_type(FileType::from_raw_mode(stat.st_mode))
                })
        }

        /// Opens the subdirectory `name` (refusing a symlink).
        pub(crate) fn open_dir(&self, name: &[u8]) -> io::Result<Self> {
            let fd = rustix::fs::openat(
                &*self.fd,
                c_name(name)?.as_c_str(),
                DIR_FLAGS.union(OFlags::NOFOLLOW),
                Mode::empty(),
            )?;
            Ok(Self { fd: Rc::new(fd) })
        }

        /// Opens the file `name` for reading (refusing a symlink, never blocking on a FIFO) and
        /// sizes it; `Ok(None)` when it is no longer a regular file.
        pub(crate) fn open_file(&self, name: &[u8]) -> io::Result<Option<OpenedFile>> {
            let fd = rustix::fs::openat(
                &*self.fd,
                c_name(name)?.as_c_str(),
                OFlags::RDONLY
                    .union(OFlags::CLOEXEC)
                    .union(OFlags::NOFOLLOW)
                    .union(OFlags::NONBLOCK),
                Mode::empty(),
            )?;
            let stat = rustix::fs::fstat(&fd)?;
            if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
                return Ok(None);
            }
            Ok(Some(OpenedFile {
                file: File::from(fd),
                size: u64::try_from(stat.st_size).unwrap_or(0),
            }))
        }
    }

    fn kind_of_type(file_type: FileType) -> EntryKind {
        match file_type {
            FileType::Directory => EntryKind::Dir,
            FileType::RegularFile => EntryKind::File,
            FileType::Symlink => EntryKind::Link,
            _ => EntryKind::Other,
        }
    }

    fn c_name(name: &[u8]) -> io::Result<CString> {
        CString::new(name).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("NUL byte in file name {:?}", OsStr::from_bytes(name)),
            )
        })
    }
}

#[cfg(not(unix))]
mod portable {
    use std::fs::File;
    use std::io;
    use std::path::{Path, PathBuf};

    use super::{EntryKind, OpenedFile};

    /// A directory, by path.
    #[derive(Clone)]
    pub(crate) struct Directory {
        path: PathBuf,
    }

    impl Directory {
        pub(crate) fn open_root(path: &Path) -> io::Result<Self> {
            std::fs::read_dir(path)?;
            Ok(Self {
                path: path.to_path_buf(),
            })
        }

        pub(crate) fn entries(&self) -> io::Result<Vec<(Vec<u8>, EntryKind)>> {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&self.path)?.flatten() {
                let kind = match entry.file_type() {
                    Ok(kind) if kind.is_symlink() => EntryKind::Link,
                    Ok(kind) if kind.is_dir() => EntryKind::Dir,
                    Ok(kind) if kind.is_file() => EntryKind::File,
                    _ => EntryKind::Other,
                };
                let name = entry
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
                    .into_bytes();
                entries.push((name, kind));
            }
            Ok(entries)
        }

        fn child(&self, name: &[u8]) -> PathBuf {
            self.path.join(String::from_utf8_lossy(name).as_ref())
        }

        pub(crate) fn open_dir(&self, name: &[u8]) -> io::Result<Self> {
            let path = self.child(name);
            if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
                return Err(io::Error::other("symlink not followed"));
            }
            Ok(Self { path })
        }

        pub(crate) fn open_file(&self, name: &[u8]) -> io::Result<Option<OpenedFile>> {
            let file = File::open(self.child(name))?;
            let metadata = file.metadata()?;
            if !metadata.is_file() {
                return Ok(None);
            }
            Ok(Some(OpenedFile {
                size: metadata.len(),
                file,
            }))
        }
    }
}

/// Reads at most `limit` bytes of `opened` (its size is only a capacity hint).
pub(crate) fn read_bounded(opened: OpenedFile, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let capacity = usize::try_from(opened.size.min(limit).saturating_add(1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    opened.file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn lists_kinds_and_refuses_links_and_fifos_when_opening() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.js"), "x").unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("lib"), dir.path().join("dirlink")).unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let root = Directory::open_root(dir.path()).unwrap();
        let mut entries = root.entries().unwrap();
        entries.sort_by(|left, right| left.0.cmp(&right.0));
        let listed: Vec<(&[u8], EntryKind)> = entries
            .iter()
            .map(|(name, kind)| (name.as_slice(), *kind))
            .collect();
        assert_eq!(
            listed,
            [
                (&b"a.js"[..], EntryKind::File),
                (&b"dirlink"[..], EntryKind::Link),
                (&b"fifo"[..], EntryKind::Other),
                (&b"lib"[..], EntryKind::Dir),
                (&b"link"[..], EntryKind::Link),
            ]
        );
        let opened = root.open_file(b"a.js").unwrap().unwrap();
        assert_eq!(opened.size, 1);
        assert_eq!(read_bounded(opened, 10).unwrap(), b"x");
        // An entry that turned into a link or a FIFO after listing is refused, never followed
        // or waited on.
        assert!(root.open_file(b"link").is_err());
        assert!(root.open_dir(b"dirlink").is_err());
        assert!(root.open_file(b"fifo").unwrap().is_none());
        assert!(root.open_dir(b"lib").unwrap().entries().unwrap().is_empty());
        assert!(root.open_file(b"a\0b").is_err());
    }
}
