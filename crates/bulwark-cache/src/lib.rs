//! A cache of package-analysis verdicts, so that a second `bulwark scan` only analyses the
//! packages that changed.
//!
//! * **Keys** are chosen by the caller: the package's integrity (`sha512-…`) when the inventory
//!   records one, else `name@version` plus a fingerprint of its file list. Each entry also
//!   records the analysis engine version it was computed with; a lookup with another engine
//!   version misses, so rule changes invalidate old verdicts without a migration.
//! * **Values** are [`CachedAnalysis`]: the verdict, score and findings, as JSON text. A row
//!   that does not decode (a hand-edited or truncated file) is a miss, never an error.
//! * **Storage** is its own SQLite file (beside the advisory database by default) in WAL mode,
//!   so concurrent scans read while one writes; [`Cache::put_many`] writes all new verdicts of a
//!   scan in one transaction, so a crash leaves either all of them or none.
//! * **Bounds**: keys and values larger than [`MAX_KEY_BYTES`] / [`MAX_VALUE_BYTES`] are not
//!   stored (nor read back).

#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};

/// Longest key stored.
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest value stored (JSON text of one [`CachedAnalysis`]).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// The file name of the cache beside the advisory database.
pub const FILE_NAME: &str = "analysis-cache.sqlite3";

/// Schema migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &["CREATE TABLE verdicts (
        key TEXT NOT NULL,
        engine TEXT NOT NULL,
        value TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY (key, engine)
    ) WITHOUT ROWID;"];

/// What went wrong with the cache file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory of the cache file could not be created.
    #[error("cannot create `{path}`")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("cache `{path}`: {what}")]
    Database {
        /// The cache file.
        path: String,
        /// What was being done.
        what: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer bulwark.
    #[error("cache `{path}` has schema version {found}, newer than this bulwark's {known}")]
    TooNew {
        /// The cache file.
        path: String,
        /// Its schema version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
}

/// One finding of a cached analysis (the fields of `bulwark_analysis::Finding`, as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedFinding {
    /// Kebab-case rule id.
    pub rule_id: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    /// One sentence.
    pub message: String,
    /// Package-relative file.
    pub file: String,
    /// 1-based line, 0 for the whole file.
    pub line: u32,
    /// 1-based column, 0 for the whole file.
    pub column: u32,
    /// A short excerpt.
    pub evidence: String,
}

/// The cached result of analysing one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedAnalysis {
    /// `clean`, `suspicious` or `malicious`.
    pub verdict: String,
    /// 0-100.
    pub score: u32,
    /// The findings, worst first.
    pub findings: Vec<CachedFinding>,
    /// Notes about files that were not (fully) analysed, as `file: message`.
    pub notes: Vec<String>,
}

/// An open cache file.
#[derive(Debug)]
pub struct Cache {
    conn: Connection,
    shown: String,
}

impl Cache {
    /// The default cache file beside the advisory database `database`.
    #[must_use]
    pub fn path_beside(database: &Path) -> PathBuf {
        database.with_file_name(FILE_NAME)
    }

    /// Opens (creating if needed) the cache at `path` for reading and writing, and migrates it.
    ///
    /// # Errors
    /// [`CacheError`] when the file cannot be created, is not SQLite, or is from a newer bulwark.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| CacheError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(database(&shown, "cannot open"))?;
        let mut cache = Self { conn, shown };
        cache.setup(true)?;
        Ok(cache)
    }

    /// Opens an existing cache read-only (a scan whose cache directory is not writable still
    /// uses what is there). A cache with an older schema reads as empty.
    ///
    /// # Errors
    /// [`CacheError`] when the file is missing or not SQLite.
    pub fn open_read_only(path: &Path) -> Result<Self, CacheError> {
        let shown = path.display().to_string();
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(database(&shown, "cannot open"))?;
        let mut cache = Self { conn, shown };
        cache.setup(false)?;
        Ok(cache)
    }

    /// A private in-memory cache (tests).
    ///
    /// # Errors
    /// [`CacheError`] if SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self, CacheError> {
        let shown = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(database(&shown, "cannot open"))?;
        let mut cache = Self { conn, shown };
        cache.setup(true)?;
        Ok(cache)
    }

    fn setup(&mut self, writable: bool) -> Result<(), CacheError> {
        let shown = self.shown.clone();
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(database(&shown, "cannot set the busy timeout"))?;
        let version: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(database(&shown, "is not a SQLite database"))?;
        let known = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
        if version > known {
            return Err(CacheError::TooNew {
                path: shown,
                found: version,
                known,
            });
        }
        if !writable {
            return Ok(());
        }
        if shown != ":memory:" {
            // WAL lets concurrent scans read while one writes; a file system without it
            // (some network mounts) still works in the default rollback mode.
            let _mode: Result<String, _> =
                self.conn
                    .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction()
                .map_err(database(&shown, "cannot migrate"))?;
            tx.execute_batch(sql)
                .map_err(database(&shown, "cannot migrate"))?;
            tx.pragma_update(None, "user_version", u32::try_from(index + 1).unwrap_or(0))
                .map_err(database(&shown, "cannot migrate"))?;
            tx.commit().map_err(database(&shown, "cannot migrate"))?;
        }
        Ok(())
    }

    /// The cached analysis for `key` computed by `engine`, if any. A row that does not decode
    /// is a miss.
    ///
    /// # Errors
    /// [`CacheError::Database`] when SQLite fails (a locked or corrupt file).
    pub fn get(&self, key: &str, engine: &str) -> Result<Option<CachedAnalysis>, CacheError> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(None);
        }
        let schema_ok: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(database(&self.shown, "cannot read"))?;
        if schema_ok == 0 {
            // Read-only open of a file that was never migrated: nothing cached.
            return Ok(None);
        }
        let value: Option<String> = self
            .conn
            .prepare("SELECT value FROM verdicts WHERE key = ?1 AND engine = ?2")
            .and_then(|mut statement| {
                statement
                    .query_row(params![key, engine], |row| row.get(0))
                    .optional()
            })
            .map_err(database(&self.shown, "cannot read"))?;
        Ok(value
            .filter(|value| value.len() <= MAX_VALUE_BYTES)
            .and_then(|value| serde_json::from_str::<CachedAnalysis>(&value).ok()))
    }

    /// Stores every `(key, analysis)` pair computed by `engine` in one transaction (all or
    /// none). Oversized keys or values are skipped. Returns how many were stored.
    ///
    /// # Errors
    /// [`CacheError::Database`] when the file cannot be written (read-only, full, locked
    /// longer than the busy timeout).
    pub fn put_many<'a>(
        &mut self,
        engine: &str,
        entries: impl IntoIterator<Item = (&'a str, &'a CachedAnalysis)>,
        now_unix: i64,
    ) -> Result<usize, CacheError> {
        let shown = self.shown.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(database(&shown, "cannot write"))?;
        let mut stored = 0;
        {
            let mut statement = tx
                .prepare(
                    "INSERT OR REPLACE INTO verdicts (key, engine, value, created) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(database(&shown, "cannot write"))?;
            for (key, analysis) in entries {
                let Ok(value) = serde_json::to_string(analysis) else {
                    continue;
                };
                if key.len() > MAX_KEY_BYTES || value.len() > MAX_VALUE_BYTES {
                    continue;
                }
                statement
                    .execute(params![key, engine, value, now_unix])
                    .map_err(database(&shown, "cannot write"))?;
                stored += 1;
            }
        }
        tx.commit().map_err(database(&shown, "cannot write"))?;
        Ok(stored)
    }

    /// Removes entries of other engine versions (they can never hit again). Returns how many.
    ///
    /// # Errors
    /// [`CacheError::Database`] when the file cannot be written.
    pub fn prune_other_engines(&mut self, engine: &str) -> Result<usize, CacheError> {
        self.conn
            .execute("DELETE FROM verdicts WHERE engine <> ?1", params![engine])
            .map_err(database(&self.shown, "cannot prune"))
    }
}

fn database<'a>(
    shown: &'a str,
    what: &'static str,
) -> impl FnOnce(rusqlite::Error) -> CacheError + 'a {
    move |source| CacheError::Database {
        path: shown.to_owned(),
        what,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(verdict: &str) -> CachedAnalysis {
        CachedAnalysis {
            verdict: verdict.to_owned(),
            score: 80,
            findings: vec![CachedFinding {
                rule_id: "lifecycle-script".to_owned(),
                severity: "high".to_owned(),
                confidence: "high".to_owned(),
                message: "runs at install".to_owned(),
                file: "package.json".to_owned(),
                line: 3,
                column: 5,
                evidence: "node setup.js".to_owned(),
            }],
            notes: Vec::new(),
        }
    }

    #[test]
    fn round_trip_and_engine_versions_do_not_mix() {
        let mut cache = Cache::open_in_memory().unwrap();
        let bad = analysis("malicious");
        assert_eq!(cache.put_many("e1", [("sha512-abc", &bad)], 1).unwrap(), 1);
        assert_eq!(cache.get("sha512-abc", "e1").unwrap(), Some(bad.clone()));
        assert_eq!(cache.get("sha512-abc", "e2").unwrap(), None);
        assert_eq!(cache.get("sha512-other", "e1").unwrap(), None);
        assert_eq!(cache.prune_other_engines("e2").unwrap(), 1);
        assert_eq!(cache.get("sha512-abc", "e1").unwrap(), None);
    }

    #[test]
    fn oversized_keys_are_not_stored() {
        let mut cache = Cache::open_in_memory().unwrap();
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        let value = analysis("clean");
        assert_eq!(
            cache.put_many("e", [(long.as_str(), &value)], 1).unwrap(),
            0
        );
        assert_eq!(cache.get(&long, "e").unwrap(), None);
    }

    #[test]
    fn file_cache_survives_reopen_and_reads_concurrently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        let value = analysis("suspicious");
        {
            let mut cache = Cache::open(&path).unwrap();
            cache.put_many("e", [("a@1#f", &value)], 1).unwrap();
        }
        let writer = Cache::open(&path).unwrap();
        let reader = Cache::open_read_only(&path).unwrap();
        assert_eq!(reader.get("a@1#f", "e").unwrap(), Some(value.clone()));
        assert_eq!(writer.get("a@1#f", "e").unwrap(), Some(value));
    }

    #[test]
    fn garbage_file_is_an_error_and_garbage_rows_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        std::fs::write(
            &path,
            b"this is not a database at all, not even close......",
        )
        .unwrap();
        assert!(Cache::open(&path).is_err());

        let good = dir.path().join("good.sqlite3");
        let cache = Cache::open(&good).unwrap();
        cache
            .conn
            .execute("INSERT INTO verdicts VALUES ('k', 'e', '{not json', 0)", [])
            .unwrap();
        assert_eq!(cache.get("k", "e").unwrap(), None);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Cache::open(&path),
            Err(CacheError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn read_only_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        drop(Cache::open(&path).unwrap());
        let mut reader = Cache::open_read_only(&path).unwrap();
        let value = analysis("clean");
        assert!(reader.put_many("e", [("k", &value)], 1).is_err());
    }
}
