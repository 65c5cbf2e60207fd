//! The default stores on local disk: a content-addressed tarball directory and the last
//! upstream packument of each package.
//!
//! Layout under the cache directory:
//!
//! * `blobs/<algorithm>/<first two hex digits>/<hex digest>`: tarballs, named by their hash;
//! * `packuments/<name with / as %2f>.json`: the upstream `ETag` on the first line, then the
//!   packument bytes as received;
//! * `tmp/`: files being written, named `<pid>-<n>.part`. Every write goes to a fresh file
//!   here, is flushed with `fsync`, then renamed into place (and the directory synced), so a
//!   reader sees a whole file or none. A crash leaves at most a file in `tmp/`; at start-up
//!   the files of processes that are gone are removed (several gates may share one cache:
//!   on Linux a process is gone when `/proc/<pid>` is; elsewhere files older than a day are).

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bulwark_types::Integrity;
use bytes::Bytes;

use crate::store::{BlobStore, PackumentStore, StoreError, StoredPackument};

/// Tarballs and packuments in a directory.
#[derive(Debug)]
pub struct LocalDisk {
    root: PathBuf,
    counter: AtomicU64,
}

impl LocalDisk {
    /// Opens (creating) the cache directory `root` and removes unfinished writes.
    ///
    /// # Errors
    /// [`StoreError::Io`] when a directory cannot be created or `tmp/` cannot be emptied.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in ["blobs", "packuments", "tmp"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(io("cannot create", &path))?;
        }
        let tmp = root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(io("cannot list", &tmp))? {
            let entry = entry.map_err(io("cannot list", &tmp))?;
            let path = entry.path();
            if is_abandoned(&entry) {
                fs::remove_file(&path).map_err(io("cannot remove the unfinished write", &path))?;
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            counter: AtomicU64::new(0),
        })
    }

    /// The cache directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the tarball with this integrity lives.
    #[must_use]
    pub fn blob_path(&self, integrity: &Integrity) -> PathBuf {
        let hex = integrity.hex_digest();
        self.root
            .join("blobs")
            .join(integrity.algorithm.as_str())
            .join(&hex[..2])
            .join(hex)
    }

    fn packument_path(&self, name: &str) -> PathBuf {
        let file = format!("{}.json", name.replace('/', "%2f"));
        self.root.join("packuments").join(file)
    }

    /// Writes `parts` to `target` atomically: temp file, fsync, rename, fsync of the directory.
    fn write_atomically(&self, target: &Path, parts: &[&[u8]]) -> Result<(), StoreError> {
        let parent = target.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        let temp = self.root.join("tmp").join(format!(
            "{}-{}.part",
            std::process::id(),
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = File::create(&temp).map_err(io("cannot create", &temp))?;
            for part in parts {
                file.write_all(part).map_err(io("cannot write", &temp))?;
            }
            file.sync_all().map_err(io("cannot sync", &temp))?;
            fs::rename(&temp, target).map_err(io("cannot rename into", target))?;
            File::open(parent)
                .and_then(|dir| dir.sync_all())
                .map_err(io("cannot sync", parent))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

impl BlobStore for LocalDisk {
    fn get(&self, integrity: &Integrity) -> Result<Option<Bytes>, StoreError> {
        let path = self.blob_path(integrity);
        match fs::read(&path) {
            Ok(bytes) if crate::integrity::matches(integrity, &bytes) => Ok(Some(bytes.into())),
            // Damaged on disk (not by us: writes are verified and atomic): drop it, refetch.
            Ok(_) => {
                let _ = fs::remove_file(&path);
                Ok(None)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::Io {
                what: "cannot read",
                path,
                source: error,
            }),
        }
    }

    fn contains(&self, integrity: &Integrity) -> bool {
        self.blob_path(integrity).is_file()
    }

    fn put(&self, integrity: &Integrity, bytes: &[u8]) -> Result<(), StoreError> {
        if !crate::integrity::matches(integrity, bytes) {
            return Err(StoreError::IntegrityMismatch {
                integrity: integrity.to_string(),
            });
        }
        let path = self.blob_path(integrity);
        if path.is_file() {
            return Ok(());
        }
        self.write_atomically(&path, &[bytes])
    }
}

impl PackumentStore for LocalDisk {
    fn get(&self, name: &str) -> Result<Option<StoredPackument>, StoreError> {
        let path = self.packument_path(name);
        let bytes = match fs::read(&path) {
            Ok(bytes) => Bytes::from(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(StoreError::Io {
                    what: "cannot read",
                    path,
                    source: error,
                });
            }
        };
        let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let etag = std::str::from_utf8(&bytes[..newline])
            .ok()
            .filter(|etag| !etag.is_empty())
            .map(str::to_owned);
        Ok(Some(StoredPackument {
            etag,
            body: bytes.slice(newline + 1..),
        }))
    }

    fn put(&self, name: &str, packument: &StoredPackument) -> Result<(), StoreError> {
        let etag = packument
            .etag
            .as_deref()
            .unwrap_or_default()
            .replace('\n', "");
        self.write_atomically(
            &self.packument_path(name),
            &[etag.as_bytes(), b"\n", &packument.body],
        )
    }
}

/// Whether a temp file belongs to a process that no longer runs.
fn is_abandoned(entry: &fs::DirEntry) -> bool {
    let name = entry.file_name();
    let pid = name
        .to_str()
        .and_then(|n| n.split('-').next())
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if pid == std::process::id() => true,
        Some(pid) if Path::new("/proc/self").exists() => {
            !Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age > std::time::Duration::from_secs(86_400)),
    }
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha512};

    fn sri(bytes: &[u8]) -> Integrity {
        Integrity {
            algorithm: bulwark_types::Algorithm::Sha512,
            digest: Sha512::digest(bytes).to_vec(),
        }
    }

    #[test]
    fn stores_only_matching_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let disk = LocalDisk::open(dir.path()).unwrap();
        let integrity = sri(b"tarball");
        assert!(BlobStore::get(&disk, &integrity).unwrap().is_none());
        assert!(matches!(
            BlobStore::put(&disk, &integrity, b"other"),
            Err(StoreError::IntegrityMismatch { .. })
        ));
        assert!(!disk.contains(&integrity));
        BlobStore::put(&disk, &integrity, b"tarball").unwrap();
        assert_eq!(
            BlobStore::get(&disk, &integrity).unwrap().unwrap(),
            &b"tarball"[..]
        );
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_damaged_blob_is_a_miss_and_unfinished_writes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let integrity = sri(b"tarball");
        {
            let disk = LocalDisk::open(dir.path()).unwrap();
            BlobStore::put(&disk, &integrity, b"tarball").unwrap();
            fs::write(disk.blob_path(&integrity), b"tarbal").unwrap();
            // A process that cannot exist (pid_max is at most 2^22).
            fs::write(dir.path().join("tmp/4999999-0.part"), b"half").unwrap();
        }
        let disk = LocalDisk::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(BlobStore::get(&disk, &integrity).unwrap().is_none());
        assert!(!disk.contains(&integrity));
    }

    #[test]
    fn packuments_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let disk = LocalDisk::open(dir.path()).unwrap();
        let stored = StoredPackument {
            etag: Some("\"abc\"".into()),
            body: Bytes::from_static(b"{\"name\":\"@s/p\"}\n"),
        };
        PackumentStore::put(&disk, "@s/p", &stored).unwrap();
        let back = PackumentStore::get(&disk, "@s/p").unwrap().unwrap();
        assert_eq!(back.etag, stored.etag);
        assert_eq!(back.body, stored.body);
        assert!(PackumentStore::get(&disk, "other").unwrap().is_none());
    }
}
