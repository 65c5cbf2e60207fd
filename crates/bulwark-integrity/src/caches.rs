//! Finding a package's published contents in the package managers' caches: npm's `_cacache`
//! (content addressed by integrity), yarn classic's `v6` cache (`.yarn-tarball.tgz` beside the
//! extracted entry, located with `bulwark-hunt`'s reader of those entries), yarn berry's zips
//! (named by the lockfile `checksum`, which is their SHA-512) and the pnpm store (an index of
//! every file's SHA-512, addressed by the tarball's integrity). bun's cache is not used: its
//! files are hard-linked into `node_modules`, so an edit of one is an edit of the other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_types::{Algorithm, Integrity};
use serde::Deserialize;

use crate::crypto::hex;
use crate::tarball::{Expected, Limits, Reference};

/// Where to look.
#[derive(Debug, Default)]
pub struct Caches {
    /// npm `_cacache` directories.
    pub npm: Vec<PathBuf>,
    /// yarn classic cache directories (`…/yarn/v6`).
    pub yarn_classic: Vec<PathBuf>,
    /// pnpm store directories (`…/store/v3`, `…/store/v10`).
    pub pnpm: Vec<PathBuf>,
    /// yarn berry caches (`.yarn/cache`, `~/.yarn/berry/cache`).
    pub berry: Vec<PathBuf>,
    yarn_index: OnceLock<HashMap<String, PathBuf>>,
    berry_index: OnceLock<HashMap<String, Vec<PathBuf>>>,
}

/// What a cache holds for a package.
#[derive(Debug)]
pub enum Cached {
    /// The published tarball.
    Tarball {
        /// Its bytes.
        bytes: Vec<u8>,
        /// Where it was read.
        path: PathBuf,
    },
    /// A yarn berry cache zip (its SHA-512 is the lockfile's `checksum`).
    Zip {
        /// Its bytes.
        bytes: Vec<u8>,
        /// Where it was read.
        path: PathBuf,
    },
    /// A per-file index of the published contents (pnpm).
    Index {
        /// The files and their SHA-512.
        reference: Reference,
        /// The index file.
        path: PathBuf,
    },
}

fn existing(paths: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = paths.into_iter().filter(|path| path.is_dir()).collect();
    out.dedup();
    out
}

impl Caches {
    /// The default cache locations of this machine (from `npm_config_cache`,
    /// `YARN_CACHE_FOLDER`, `XDG_*` and the home directory), keeping those that exist.
    #[must_use]
    pub fn discover() -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let cache_home = env("XDG_CACHE_HOME").or_else(|| home.as_ref().map(|h| h.join(".cache")));
        let data_home =
            env("XDG_DATA_HOME").or_else(|| home.as_ref().map(|h| h.join(".local/share")));
        let npm = env("npm_config_cache")
            .or_else(|| home.as_ref().map(|h| h.join(".npm")))
            .map(|dir| dir.join("_cacache"));
        let yarn = env("YARN_CACHE_FOLDER")
            .into_iter()
            .chain(cache_home.map(|dir| dir.join("yarn/v6")));
        let pnpm_store = data_home.map(|dir| dir.join("pnpm/store"));
        let pnpm = pnpm_store
            .iter()
            .flat_map(|store| [store.join("v10"), store.join("v3")]);
        let berry = home.as_ref().map(|h| h.join(".yarn/berry/cache"));
        Self {
            npm: existing(npm),
            yarn_classic: existing(yarn),
            pnpm: existing(pnpm),
            berry: existing(berry),
            yarn_index: OnceLock::new(),
            berry_index: OnceLock::new(),
        }
    }

    /// Adds a directory of any kind, recognised by its layout (`content-v2` → npm, `files` →
    /// pnpm, `npm-…-integrity` entries → yarn classic). Returns whether it was recognised.
    pub fn add(&mut self, dir: &Path) -> bool {
        if dir.join("content-v2").is_dir() {
            self.npm.push(dir.to_path_buf());
        } else if dir.join("_cacache/content-v2").is_dir() {
            self.npm.push(dir.join("_cacache"));
        } else if dir.join("files").is_dir() {
            self.pnpm.push(dir.to_path_buf());
        } else if std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                entry.file_name().to_str().is_some_and(|name| {
                    name.ends_with(".zip") && bulwark_hunt::caches::berry_zip_name(name).is_some()
                })
            })
        }) {
            self.berry.push(dir.to_path_buf());
        } else if std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .is_some_and(bulwark_hunt::caches::is_yarn_classic_entry)
            })
        }) {
            self.yarn_classic.push(dir.to_path_buf());
        } else {
            return false;
        }
        true
    }

    /// Whether there is nowhere to look.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.npm.is_empty()
            && self.yarn_classic.is_empty()
            && self.pnpm.is_empty()
            && self.berry.is_empty()
    }

    /// Looks for the published contents of `name@version` with `integrity`. The caller checks
    /// a tarball's bytes against the integrity (a mismatch is itself a finding).
    #[must_use]
    pub fn find(
        &self,
        name: &str,
        version: &str,
        integrity: Option<&Integrity>,
        limits: Limits,
    ) -> Option<Cached> {
        if let Some(integrity) = integrity {
            for cache in &self.npm {
                let digest = hex(&integrity.digest);
                let path = cache
                    .join("content-v2")
                    .join(integrity.algorithm.as_str())
                    .join(&digest[..2])
                    .join(&digest[2..4])
                    .join(&digest[4..]);
                if let Ok(bytes) = crate::read_bounded(&path, limits.max_tarball) {
                    return Some(Cached::Tarball { bytes, path });
                }
            }
            if integrity.algorithm == Algorithm::Sha512 && !self.berry.is_empty() {
                // Berry names its zips `…-<first 10 hex digits of the checksum>.zip`.
                let index = self.berry_index.get_or_init(|| berry_index(&self.berry));
                let digest = hex(&integrity.digest);
                for path in index.get(&digest[..10]).into_iter().flatten() {
                    if let Ok(bytes) = crate::read_bounded(path, limits.max_tarball) {
                        return Some(Cached::Zip {
                            bytes,
                            path: path.clone(),
                        });
                    }
                }
            }
            if integrity.algorithm == Algorithm::Sha512 {
                for store in &self.pnpm {
                    if let Some(found) = pnpm_index(store, integrity, name, version) {
                        return Some(found);
                    }
                }
            }
        }
        if !self.yarn_classic.is_empty() {
            let index = self
                .yarn_index
                .get_or_init(|| yarn_classic_index(&self.yarn_classic));
            if let Some(path) = index.get(&format!("{name}@{version}"))
                && let Ok(bytes) = crate::read_bounded(path, limits.max_tarball)
            {
                return Some(Cached::Tarball {
                    bytes,
                    path: path.clone(),
                });
            }
        }
        None
    }
}

fn berry_index(dirs: &[PathBuf]) -> HashMap<String, Vec<PathBuf>> {
    let mut index: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".zip") else {
                continue;
            };
            if let Some((_, checksum)) = stem.rsplit_once('-')
                && checksum.len() == 10
                && checksum.bytes().all(|b| b.is_ascii_hexdigit())
            {
                index
                    .entry(checksum.to_ascii_lowercase())
                    .or_default()
                    .push(entry.path());
            }
        }
    }
    index
}

fn yarn_classic_index(dirs: &[PathBuf]) -> HashMap<String, PathBuf> {
    let mut index = HashMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name
                .to_str()
                .is_some_and(bulwark_hunt::caches::is_yarn_classic_entry)
            {
                continue;
            }
            if let Ok(Some((package, manifest))) =
                bulwark_hunt::caches::yarn_classic_entry(&entry.path())
                && let Some(parent) = manifest.parent()
            {
                let tarball = parent.join(".yarn-tarball.tgz");
                if tarball.is_file() {
                    index
                        .entry(format!("{}@{}", package.name, package.version))
                        .or_insert(tarball);
                }
            }
        }
    }
    index
}

#[derive(Deserialize)]
struct PnpmIndex {
    name: Option<String>,
    version: Option<String>,
    files: HashMap<String, PnpmFile>,
}

#[derive(Deserialize)]
struct PnpmFile {
    integrity: String,
}

/// pnpm v3 stores `files/<2 hex>/<rest>-index.json`; v10 `index/<2 hex>/<hex 2..64>-<name>@<version>.json`
/// (the name with `/` as `+`), both named by the hex of the tarball's sha512.
fn pnpm_index(store: &Path, integrity: &Integrity, name: &str, version: &str) -> Option<Cached> {
    let digest = hex(&integrity.digest);
    let (head, rest) = digest.split_at(2);
    let mut candidates = vec![
        store
            .join("files")
            .join(head)
            .join(format!("{rest}-index.json")),
    ];
    if let Ok(entries) = std::fs::read_dir(store.join("index").join(head)) {
        candidates.extend(
            entries
                .flatten()
                .filter(|entry| {
                    // v10 names keep the first 64 hex digits of the digest.
                    entry
                        .file_name()
                        .to_str()
                        .and_then(|file| file.split_once('-'))
                        .is_some_and(|(prefix, _)| prefix.len() >= 30 && rest.starts_with(prefix))
                })
                .map(|entry| entry.path()),
        );
    }
    for path in candidates {
        let Ok(bytes) = crate::read_bounded(&path, 64 << 20) else {
            continue;
        };
        let Ok(index) = serde_json::from_slice::<PnpmIndex>(&bytes) else {
            continue;
        };
        if index.name.as_deref().is_some_and(|n| n != name)
            || index.version.as_deref().is_some_and(|v| v != version)
        {
            continue;
        }
        let mut reference = Reference::default();
        for (file, entry) in index.files {
            match Integrity::parse_sri(&entry.integrity) {
                Ok(file_integrity) if file_integrity.algorithm == Algorithm::Sha512 => {
                    reference
                        .files
                        .insert(file, Expected::Sha512(file_integrity.digest));
                }
                _ => reference
                    .refused
                    .push(format!("{file}: unreadable integrity in the pnpm index")),
            }
        }
        return Some(Cached::Index { reference, path });
    }
    None
}
