//! Publication times of package versions, for the minimum release age.
//!
//! They come from the `time` field of a registry packument, fetched through a
//! caller-supplied [`PackumentSource`] (the CLI's HTTPS client; a local server in tests), and
//! are kept in a [`TimeCache`] file so later and `--offline` runs need no network. Publication
//! times never change, so a cached time is trusted; a package is fetched again only when a
//! version it needs is missing from the cache. Cache writes are atomic (temporary file, then
//! rename).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Version → publication time in Unix seconds.
pub type PublishTimes = BTreeMap<String, i64>;

/// Cache files larger than this are ignored (and rebuilt).
pub const MAX_CACHE_BYTES: u64 = 256 << 20;

/// How many packuments are fetched at once.
const FETCH_THREADS: usize = 8;

/// Where packuments come from.
pub trait PackumentSource: Sync {
    /// The packument of `name` as JSON bytes (the caller bounds its size).
    ///
    /// # Errors
    /// A message naming what failed (HTTP status, connection error).
    fn packument(&self, name: &str) -> Result<Vec<u8>, String>;
}

/// The URL path of a packument: `/<name>` with the scope's slash escaped as npm does.
#[must_use]
pub fn packument_path(name: &str) -> String {
    format!("/{}", name.replace('/', "%2f"))
}

/// Reads the `time` field of a packument: version → Unix seconds (`created` and `modified`
/// are dropped).
///
/// # Errors
/// A message when the bytes are not a JSON packument.
pub fn parse_times(bytes: &[u8]) -> Result<PublishTimes, String> {
    #[derive(Deserialize)]
    struct Packument {
        #[serde(default)]
        time: BTreeMap<String, serde_json::Value>,
    }
    let packument: Packument =
        serde_json::from_slice(bytes).map_err(|error| format!("not a packument: {error}"))?;
    Ok(packument
        .time
        .into_iter()
        .filter(|(version, _)| version != "created" && version != "modified")
        .filter_map(|(version, time)| {
            time.as_str()
                .and_then(crate::date::parse_rfc3339)
                .map(|seconds| (version, seconds))
        })
        .collect())
}

/// The on-disk cache of publication times.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct TimeCache {
    /// Format version of the file.
    version: u32,
    /// Package name → its versions' times.
    packages: BTreeMap<String, PublishTimes>,
    /// Where it is stored, if anywhere.
    #[serde(skip)]
    path: Option<PathBuf>,
    /// Whether it changed since it was loaded.
    #[serde(skip)]
    dirty: bool,
}

/// What [`TimeCache::resolve`] found.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Times per package name (only names that could be looked up).
    pub times: BTreeMap<String, PublishTimes>,
    /// Packages fetched from the source in this run.
    pub fetched: usize,
    /// Packages that could not be dated, with why.
    pub undated: BTreeMap<String, String>,
}

impl TimeCache {
    /// Loads the cache at `path`; a missing, oversized or corrupt file is an empty cache
    /// (it is rebuilt on the next save).
    #[must_use]
    pub fn load(path: &Path) -> Self {
        let loaded = std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file() && m.len() <= MAX_CACHE_BYTES)
            .and_then(|_| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<Self>(&bytes).ok())
            .filter(|cache| cache.version == 1);
        Self {
            path: Some(path.to_path_buf()),
            ..loaded.unwrap_or(Self {
                version: 1,
                ..Self::default()
            })
        }
    }

    /// An empty cache that is never saved.
    #[must_use]
    pub fn in_memory() -> Self {
        Self {
            version: 1,
            ..Self::default()
        }
    }

    /// The cached times of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&PublishTimes> {
        self.packages.get(name)
    }

    /// Looks up the publication times of `wanted` (name → versions needed). Names whose
    /// needed versions are all cached are answered from the cache; the rest are fetched from
    /// `source` when there is one (`None` = offline) and added to the cache.
    pub fn resolve(
        &mut self,
        wanted: &BTreeMap<String, BTreeSet<String>>,
        source: Option<&dyn PackumentSource>,
    ) -> Resolved {
        let mut resolved = Resolved::default();
        let mut to_fetch = Vec::new();
        for (name, versions) in wanted {
            match self.packages.get(name) {
                Some(times) if versions.iter().all(|v| times.contains_key(v)) => {
                    resolved.times.insert(name.clone(), times.clone());
                }
                _ => to_fetch.push(name.clone()),
            }
        }
        let Some(source) = source else {
            for name in to_fetch {
                if let Some(times) = self.packages.get(&name) {
                    resolved.times.insert(name.clone(), times.clone());
                }
                resolved
                    .undated
                    .insert(name, "offline and not in the publish-time cache".to_owned());
            }
            return resolved;
        };
        let results = fetch_all(source, &to_fetch);
        for (name, result) in results {
            match result {
                Ok(times) => {
                    resolved.fetched += 1;
                    self.packages.insert(name.clone(), times.clone());
                    self.dirty = true;
                    resolved.times.insert(name, times);
                }
                Err(why) => {
                    resolved.undated.insert(name, why);
                }
            }
        }
        resolved
    }

    /// Writes the cache atomically when it changed (and has a path).
    ///
    /// # Errors
    /// I/O errors creating the directory, writing or renaming, naming the file.
    pub fn save(&mut self) -> Result<(), String> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let fail = |what: &str, error: std::io::Error| {
            format!("cannot {what} `{}`: {error}", path.display())
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", e))?;
        let temporary = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .map_or_else(|| "cache".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let bytes =
            serde_json::to_vec(self).map_err(|e| format!("cannot encode the cache: {e}"))?;
        let mut file = std::fs::File::create(&temporary).map_err(|e| fail("write", e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| fail("write", e))?;
        std::fs::rename(&temporary, &path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            fail("replace", e)
        })?;
        self.dirty = false;
        Ok(())
    }
}

/// Fetches and parses packuments on a few threads.
fn fetch_all(
    source: &dyn PackumentSource,
    names: &[String],
) -> Vec<(String, Result<PublishTimes, String>)> {
    if names.is_empty() {
        return Vec::new();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(names.len()));
    std::thread::scope(|scope| {
        for _ in 0..FETCH_THREADS.min(names.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = names.get(index) else { break };
                    let result = source.packument(name).and_then(|bytes| parse_times(&bytes));
                    if let Ok(mut results) = results.lock() {
                        results.push((name.clone(), result));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl PackumentSource for Fake {
        fn packument(&self, name: &str) -> Result<Vec<u8>, String> {
            match name {
                "left-pad" => Ok(br#"{"name":"left-pad","time":{"created":"2014-03-14T00:00:00.000Z","1.0.0":"2014-03-14T00:00:00.000Z","1.3.0":"2018-04-09T01:01:11.000Z"}}"#.to_vec()),
                _ => Err("404 Not Found".to_owned()),
            }
        }
    }

    fn wanted(pairs: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, version) in pairs {
            map.entry((*name).to_owned())
                .or_default()
                .insert((*version).to_owned());
        }
        map
    }

    #[test]
    fn packument_paths_escape_scopes() {
        assert_eq!(packument_path("@types/node"), "/@types%2fnode");
        assert_eq!(packument_path("chalk"), "/chalk");
    }

    #[test]
    fn fetches_caches_and_answers_offline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("times.json");
        let mut cache = TimeCache::load(&path);
        let resolved = cache.resolve(
            &wanted(&[("left-pad", "1.3.0"), ("nope", "1.0.0")]),
            Some(&Fake),
        );
        assert_eq!(resolved.fetched, 1);
        assert_eq!(resolved.times["left-pad"]["1.3.0"], 1_523_235_671);
        assert!(!resolved.times["left-pad"].contains_key("created"));
        assert_eq!(resolved.undated["nope"], "404 Not Found");
        cache.save().unwrap();

        let mut offline = TimeCache::load(&path);
        let resolved = offline.resolve(&wanted(&[("left-pad", "1.0.0"), ("chalk", "4.1.2")]), None);
        assert_eq!(resolved.fetched, 0);
        assert!(resolved.times.contains_key("left-pad"));
        assert!(resolved.undated["chalk"].contains("offline"));
    }

    #[test]
    fn corrupt_cache_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("times.json");
        std::fs::write(&path, b"{not json").unwrap();
        let cache = TimeCache::load(&path);
        assert!(cache.get("left-pad").is_none());
    }
}
