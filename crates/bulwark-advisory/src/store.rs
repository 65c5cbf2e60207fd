//! The local advisory database: SQLite (bundled), versioned migrations, WAL.
//!
//! One file holds the imported OSV advisories (raw JSON kept, plus the columns matching
//! needs), their affected packages indexed by name, indicator feeds (compromised versions,
//! payload hashes, indicator strings) and a metadata row per source saying when it was
//! loaded and how much it held.
//!
//! * **Migrations** are an ordered list of SQL batches; `PRAGMA user_version` records how
//!   many were applied, and a database from a newer bulwark is refused rather than damaged.
//! * **Concurrency**: WAL journal mode lets `scan` processes read while `db update` writes;
//!   a 5 s busy timeout covers writer contention.
//! * **Atomicity**: every import runs in one transaction. A failure part-way (a corrupt
//!   archive, a full disk, a killed process) leaves the previous data exactly as it was.
//! * The **built-in feed** is loaded into the store when it is opened, and reloaded when the
//!   binary carries a newer one (checked by fingerprint), so queries see one set of tables.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{Error, ErrorKind, ImportFailure, Result};
use crate::feed::{
    self, BUILTIN_FEED, CompromisedVersion, IndicatorFeed, IndicatorString, PayloadHash,
};
use crate::import::{self, Entry, Limits};
use crate::osv::range::StoredAffected;
use crate::osv::schema::OsvRecord;

/// Environment variable the CLI reads to override the database path.
pub const DB_PATH_ENV: &str = "BULWARK_DB";

/// Schema migrations, in order. Never edit one that has shipped; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE advisories (
        id TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        modified TEXT NOT NULL,
        published TEXT,
        withdrawn TEXT,
        summary TEXT,
        aliases TEXT NOT NULL,
        severity TEXT,
        score REAL,
        score_vector TEXT,
        source TEXT NOT NULL,
        raw TEXT NOT NULL
    );
    CREATE INDEX advisories_source ON advisories(source);
    CREATE TABLE affected (
        advisory_id TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        name TEXT NOT NULL,
        purl TEXT,
        ranges TEXT NOT NULL
    );
    CREATE INDEX affected_name ON affected(ecosystem, name);
    CREATE INDEX affected_advisory ON affected(advisory_id);
    CREATE TABLE indicator_versions (
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        campaign TEXT,
        source TEXT NOT NULL,
        feed TEXT NOT NULL,
        PRIMARY KEY (package, version, feed)
    );
    CREATE TABLE payload_hashes (
        sha256 TEXT NOT NULL,
        file TEXT NOT NULL,
        note TEXT NOT NULL,
        campaign TEXT NOT NULL,
        source TEXT NOT NULL,
        feed TEXT NOT NULL,
        PRIMARY KEY (sha256, feed)
    );
    CREATE TABLE indicator_strings (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        campaign TEXT NOT NULL,
        note TEXT NOT NULL,
        source TEXT NOT NULL,
        feed TEXT NOT NULL
    );
    CREATE INDEX indicator_strings_feed ON indicator_strings(feed);
    CREATE TABLE metadata (
        source TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        records INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        detail TEXT
    );",
];

/// What kind of input a metadata row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// OSV records from a file, directory or zip on disk.
    OsvImport,
    /// OSV records downloaded by `update`.
    OsvDownload,
    /// A user's indicator list.
    Indicators,
    /// The feed built into the binary.
    Builtin,
}

impl SourceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::OsvImport => "osv-import",
            Self::OsvDownload => "osv-download",
            Self::Indicators => "indicators",
            Self::Builtin => "builtin",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "osv-import" => Some(Self::OsvImport),
            "osv-download" => Some(Self::OsvDownload),
            "indicators" => Some(Self::Indicators),
            "builtin" => Some(Self::Builtin),
            _ => None,
        }
    }
}

/// Outcome of an import: how many records went in and which inputs failed, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// The source label recorded in the metadata table (path or URL).
    pub source: String,
    /// Records (advisories or indicator rows) stored.
    pub imported: usize,
    /// Of those, withdrawn advisories (stored, never matched).
    pub withdrawn: usize,
    /// Inputs that could not be imported.
    pub failed: Vec<ImportFailure>,
}

/// One row of the metadata table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceStatus {
    /// Path, URL or `builtin`.
    pub source: String,
    /// What was imported.
    pub kind: SourceKind,
    /// Unix time of the import.
    pub imported_at: i64,
    /// Seconds since the import (0 if the clock went backwards).
    pub age_seconds: u64,
    /// Records stored.
    pub records: u64,
    /// Inputs that failed.
    pub failed: u64,
}

/// What the store holds, for `bulwark db status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// Database file, `None` in memory.
    pub path: Option<PathBuf>,
    /// Applied migrations.
    pub schema_version: u32,
    /// Advisories stored.
    pub advisories: u64,
    /// Of which malicious-package reports.
    pub malicious: u64,
    /// Of which withdrawn.
    pub withdrawn: u64,
    /// Affected-package rows.
    pub affected_packages: u64,
    /// Compromised-version indicator rows (built-in feed included).
    pub compromised_versions: u64,
    /// Payload hashes.
    pub payload_hashes: u64,
    /// Indicator strings.
    pub indicator_strings: u64,
    /// Per-source import times and counts, newest first.
    pub sources: Vec<SourceStatus>,
    /// Age in seconds of the newest OSV data, `None` when no OSV data was ever loaded.
    pub osv_age_seconds: Option<u64>,
}

/// A short human age (`45 seconds`, `3 hours`, `2 days`) for status output.
pub fn format_age(seconds: u64) -> String {
    let (value, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    if value == 1 {
        format!("1 {unit}")
    } else {
        format!("{value} {unit}s")
    }
}

/// The advisory database.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    pub(crate) limits: Limits,
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn db_error(what: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |error| Error::database(what, error)
}

impl Store {
    /// `<platform data dir>/bulwark/advisories.sqlite3` (`~/.local/share` on Linux,
    /// `~/Library/Application Support` on macOS, `%APPDATA%` on Windows). The CLI lets
    /// `--db` and [`DB_PATH_ENV`] override it.
    pub fn default_path() -> Option<PathBuf> {
        dirs::data_dir().map(|dir| dir.join("bulwark").join("advisories.sqlite3"))
    }

    /// Open (creating if needed) the database at `path`, migrate it and load the built-in
    /// feed.
    ///
    /// # Errors
    /// [`ErrorKind::Database`] when the file is not a SQLite database, is corrupt, comes
    /// from a newer bulwark, or cannot be created.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let conn = Connection::open(path).map_err(|error| {
            Error::new(
                ErrorKind::Database,
                format!("cannot open the database `{}`", path.display()),
            )
            .with_source(error)
        })?;
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// Open an existing database read-only: no migration, no built-in feed reload, every
    /// write fails. For scans of machines or images where the database is not writable;
    /// [`crate::Matcher::from_store`] still uses the binary's own built-in feed.
    ///
    /// # Errors
    /// [`ErrorKind::Database`] when the file is missing, corrupt, or its schema differs
    /// from this bulwark's (open it once read-write to migrate).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let failed = |error: rusqlite::Error| {
            Error::new(
                ErrorKind::Database,
                format!(
                    "`{shown}` is not a usable bulwark database (missing, corrupt or not SQLite)"
                ),
            )
            .with_source(error)
        };
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed)?;
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(failed)?;
        let known = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
        if version != known {
            return Err(Error::new(
                ErrorKind::Database,
                format!(
                    "`{shown}` has schema version {version}, this bulwark reads {known}; open it once read-write to migrate, or upgrade bulwark"
                ),
            ));
        }
        Ok(Self {
            conn,
            path: Some(path.to_path_buf()),
            limits: Limits::default(),
        })
    }

    /// A private in-memory database (tests, one-shot scans).
    ///
    /// # Errors
    /// [`ErrorKind::Database`] if SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self> {
        let conn =
            Connection::open_in_memory().map_err(db_error("opening an in-memory database"))?;
        Self::setup(conn, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self> {
        let shown = path
            .as_ref()
            .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
        let corrupt = |error: rusqlite::Error| {
            Error::new(
                ErrorKind::Database,
                format!("`{shown}` is not a usable bulwark database (corrupt or not SQLite)"),
            )
            .with_source(error)
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(corrupt)?;
        if path.is_some() {
            let mode: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
                .map_err(corrupt)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::new(
                    ErrorKind::Database,
                    format!("`{shown}` cannot use WAL mode (got `{mode}`)"),
                ));
            }
        }
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(corrupt)?;
        let known = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
        if version > known {
            return Err(Error::new(
                ErrorKind::Database,
                format!(
                    "`{shown}` has schema version {version}, newer than this bulwark's {known}; upgrade bulwark"
                ),
            ));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction().map_err(corrupt)?;
            tx.execute_batch(sql)
                .map_err(db_error("migrating the schema"))?;
            tx.pragma_update(
                None,
                "user_version",
                u32::try_from(index + 1).unwrap_or(u32::MAX),
            )
            .map_err(db_error("migrating the schema"))?;
            tx.commit().map_err(db_error("migrating the schema"))?;
        }
        let mut store = Self {
            conn,
            path,
            limits: Limits::default(),
        };
        store.ensure_builtin_feed()?;
        Ok(store)
    }

    /// Replace the size caps used by imports and updates.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The database file, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Applied migrations (`PRAGMA user_version`).
    ///
    /// # Errors
    /// [`ErrorKind::Database`] on SQLite failure.
    pub fn schema_version(&self) -> Result<u32> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(db_error("reading the schema version"))
    }

    fn ensure_builtin_feed(&mut self) -> Result<()> {
        let fingerprint = IndicatorFeed::builtin_fingerprint();
        let current = |conn: &Connection| -> Result<Option<String>> {
            conn.query_row(
                "SELECT detail FROM metadata WHERE source = ?1",
                [BUILTIN_FEED],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(db_error("reading the built-in feed version"))
        };
        if current(&self.conn)?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error("loading the built-in feed"))?;
        // Another process may have loaded it while we waited for the lock.
        if current(&tx)?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(());
        }
        let feed = IndicatorFeed::builtin();
        replace_feed(&tx, BUILTIN_FEED, &feed.versions)?;
        tx.execute("DELETE FROM payload_hashes WHERE feed = ?1", [BUILTIN_FEED])
            .map_err(db_error("loading the built-in feed"))?;
        tx.execute(
            "DELETE FROM indicator_strings WHERE feed = ?1",
            [BUILTIN_FEED],
        )
        .map_err(db_error("loading the built-in feed"))?;
        {
            let mut insert = tx
                .prepare("INSERT OR REPLACE INTO payload_hashes VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(db_error("loading the built-in feed"))?;
            for h in &feed.hashes {
                insert
                    .execute(params![
                        h.sha256,
                        h.file,
                        h.note,
                        h.campaign,
                        h.source,
                        BUILTIN_FEED
                    ])
                    .map_err(db_error("loading the built-in feed"))?;
            }
            let mut insert = tx
                .prepare("INSERT INTO indicator_strings VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(db_error("loading the built-in feed"))?;
            for s in &feed.strings {
                insert
                    .execute(params![
                        s.kind,
                        s.value,
                        s.campaign,
                        s.note,
                        s.source,
                        BUILTIN_FEED
                    ])
                    .map_err(db_error("loading the built-in feed"))?;
            }
        }
        let records = feed.versions.len() + feed.hashes.len() + feed.strings.len();
        record_source(
            &tx,
            BUILTIN_FEED,
            SourceKind::Builtin,
            records,
            0,
            Some(&fingerprint),
        )?;
        tx.commit().map_err(db_error("loading the built-in feed"))
    }

    /// Import OSV records from a `.json` file, a directory tree of them, or an `all.zip`.
    ///
    /// Records that fail to read or parse are reported by name in
    /// [`ImportReport::failed`] and skipped; the rest is imported in one transaction.
    /// Records with an id already present replace it.
    ///
    /// # Errors
    /// When the input as a whole cannot be read (missing path, corrupt archive, caps
    /// exceeded) or the database fails; nothing is changed then.
    pub fn import_path(&mut self, path: &Path) -> Result<ImportReport> {
        let entries = import::entries_of_path(path, self.limits)?;
        let source = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.import_entries(
            &source.display().to_string(),
            SourceKind::OsvImport,
            entries,
            false,
        )
    }

    /// Import a stream of entries in one transaction. With `replace_source` (updates),
    /// advisories previously imported from `source` are replaced by the stream's, and a
    /// stream without a single valid record is refused so a broken feed cannot empty the
    /// store.
    pub(crate) fn import_entries(
        &mut self,
        source: &str,
        kind: SourceKind,
        entries: impl IntoIterator<Item = Entry>,
        replace_source: bool,
    ) -> Result<ImportReport> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error("starting an import"))?;
        if replace_source {
            tx.execute(
                "DELETE FROM affected WHERE advisory_id IN (SELECT id FROM advisories WHERE source = ?1)",
                [source],
            )
            .map_err(db_error("replacing a source"))?;
            tx.execute("DELETE FROM advisories WHERE source = ?1", [source])
                .map_err(db_error("replacing a source"))?;
        }
        let mut report = ImportReport {
            source: source.to_owned(),
            ..ImportReport::default()
        };
        let mut inserter = Inserter::new(&tx)?;
        for entry in entries {
            match entry {
                Entry::Fatal(error) => return Err(error), // `tx` is dropped: rolled back.
                Entry::Unreadable { name, reason } => {
                    report.failed.push(ImportFailure { name, reason })
                }
                Entry::Record { name, bytes } => match OsvRecord::from_json(&bytes) {
                    Ok(record) => {
                        inserter.insert(&record, &bytes, source)?;
                        report.imported += 1;
                        report.withdrawn += usize::from(record.is_withdrawn());
                    }
                    Err(error) => report.failed.push(ImportFailure {
                        name,
                        reason: error.to_string(),
                    }),
                },
            }
        }
        drop(inserter);
        if replace_source && report.imported == 0 {
            return Err(Error::new(
                ErrorKind::Archive,
                format!(
                    "`{source}` holds no valid OSV record ({} failed); keeping the current data",
                    report.failed.len()
                ),
            ));
        }
        record_source(
            &tx,
            source,
            kind,
            report.imported,
            report.failed.len(),
            None,
        )?;
        tx.commit().map_err(db_error("committing an import"))?;
        Ok(report)
    }

    /// Import a user's list of compromised versions (`package,version[,campaign]` CSV or
    /// `name@version` lines, see [`feed::parse_version_list`]). The list replaces any
    /// earlier import of the same file. Bad lines are reported as `path:line`.
    ///
    /// # Errors
    /// When the file cannot be read or is not UTF-8, or on database failure.
    pub fn import_iocs_csv(&mut self, path: &Path) -> Result<ImportReport> {
        let cap = self.limits.max_list_bytes;
        let bytes = std::fs::File::open(path)
            .and_then(|f| {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::Read::take(f, cap + 1), &mut bytes)?;
                Ok(bytes)
            })
            .map_err(|e| Error::io(path, e))?;
        if bytes.len() as u64 > cap {
            return Err(Error::new(
                ErrorKind::Indicators,
                format!(
                    "`{}` is larger than the {cap}-byte cap for indicator lists",
                    path.display()
                ),
            ));
        }
        let text = String::from_utf8(bytes).map_err(|error| {
            Error::new(
                ErrorKind::Indicators,
                format!("`{}` is not UTF-8 text", path.display()),
            )
            .with_source(error)
        })?;
        let source = std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        self.import_iocs_text(&text, &source)
    }

    /// Like [`Self::import_iocs_csv`] for text already in memory; `feed` names the list.
    ///
    /// # Errors
    /// On database failure.
    pub fn import_iocs_text(&mut self, text: &str, feed: &str) -> Result<ImportReport> {
        if feed == BUILTIN_FEED {
            return Err(Error::new(
                ErrorKind::Indicators,
                "the feed name `builtin` is reserved",
            ));
        }
        let (versions, failed) = feed::parse_version_list(text, feed);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error("importing indicators"))?;
        replace_feed(&tx, feed, &versions)?;
        record_source(
            &tx,
            feed,
            SourceKind::Indicators,
            versions.len(),
            failed.len(),
            None,
        )?;
        tx.commit().map_err(db_error("importing indicators"))?;
        Ok(ImportReport {
            source: feed.to_owned(),
            imported: versions.len(),
            withdrawn: 0,
            failed,
        })
    }

    /// All compromised-version rows, built-in feed included.
    ///
    /// # Errors
    /// On database failure.
    pub fn compromised_versions(&self) -> Result<Vec<CompromisedVersion>> {
        self.compromised_versions_where("1")
    }

    /// The compromised-version rows users imported (not the built-in feed).
    pub(crate) fn user_compromised_versions(&self) -> Result<Vec<CompromisedVersion>> {
        self.compromised_versions_where("feed <> 'builtin'")
    }

    fn compromised_versions_where(&self, filter: &str) -> Result<Vec<CompromisedVersion>> {
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT package, version, campaign, source FROM indicator_versions
                 WHERE {filter} ORDER BY package, version, feed"
            ))
            .map_err(db_error("reading indicators"))?;
        statement
            .query_map([], |row| {
                Ok(CompromisedVersion {
                    package: row.get(0)?,
                    version: row.get(1)?,
                    campaign: row.get(2)?,
                    source: row.get(3)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_error("reading indicators"))
    }

    /// All payload hashes (for `hunt`'s file-hash sweep).
    ///
    /// # Errors
    /// On database failure.
    pub fn payload_hashes(&self) -> Result<Vec<PayloadHash>> {
        let mut statement = self
            .conn
            .prepare("SELECT sha256, file, note, campaign, source FROM payload_hashes ORDER BY sha256, feed")
            .map_err(db_error("reading payload hashes"))?;
        statement
            .query_map([], |row| {
                Ok(PayloadHash {
                    sha256: row.get(0)?,
                    file: row.get(1)?,
                    note: row.get(2)?,
                    campaign: row.get(3)?,
                    source: row.get(4)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_error("reading payload hashes"))
    }

    /// All indicator strings.
    ///
    /// # Errors
    /// On database failure.
    pub fn indicator_strings(&self) -> Result<Vec<IndicatorString>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT kind, value, campaign, note, source FROM indicator_strings ORDER BY rowid",
            )
            .map_err(db_error("reading indicator strings"))?;
        statement
            .query_map([], |row| {
                Ok(IndicatorString {
                    kind: row.get(0)?,
                    value: row.get(1)?,
                    campaign: row.get(2)?,
                    note: row.get(3)?,
                    source: row.get(4)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(db_error("reading indicator strings"))
    }

    /// The raw JSON of an advisory, as imported.
    ///
    /// # Errors
    /// On database failure.
    pub fn advisory_json(&self, id: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT raw FROM advisories WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()
            .map_err(db_error("reading an advisory"))
    }

    /// What is loaded and how old it is.
    ///
    /// # Errors
    /// On database failure.
    pub fn status(&self) -> Result<Status> {
        self.status_at(now_unix())
    }

    /// [`Self::status`] as seen at unix time `now` (for tests).
    ///
    /// # Errors
    /// On database failure.
    pub fn status_at(&self, now: i64) -> Result<Status> {
        let count = |sql: &str| -> Result<u64> {
            self.conn
                .query_row(sql, [], |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(db_error("reading the status"))
        };
        let mut statement = self
            .conn
            .prepare("SELECT source, kind, imported_at, records, failed FROM metadata ORDER BY imported_at DESC, source")
            .map_err(db_error("reading the status"))?;
        let sources = statement
            .query_map([], |row| {
                let imported_at: i64 = row.get(2)?;
                let kind: String = row.get(1)?;
                Ok(SourceStatus {
                    source: row.get(0)?,
                    kind: SourceKind::from_name(&kind).unwrap_or(SourceKind::OsvImport),
                    imported_at,
                    age_seconds: u64::try_from(now.saturating_sub(imported_at)).unwrap_or(0),
                    records: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                    failed: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
                })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(db_error("reading the status"))?;
        let osv_age_seconds = sources
            .iter()
            .filter(|s| matches!(s.kind, SourceKind::OsvImport | SourceKind::OsvDownload))
            .map(|s| s.age_seconds)
            .min();
        Ok(Status {
            path: self.path.clone(),
            schema_version: self.schema_version()?,
            advisories: count("SELECT COUNT(*) FROM advisories")?,
            malicious: count("SELECT COUNT(*) FROM advisories WHERE kind = 'malicious'")?,
            withdrawn: count("SELECT COUNT(*) FROM advisories WHERE withdrawn IS NOT NULL")?,
            affected_packages: count("SELECT COUNT(*) FROM affected")?,
            compromised_versions: count("SELECT COUNT(*) FROM indicator_versions")?,
            payload_hashes: count("SELECT COUNT(*) FROM payload_hashes")?,
            indicator_strings: count("SELECT COUNT(*) FROM indicator_strings")?,
            sources,
            osv_age_seconds,
        })
    }
}

/// Prepared statements of an OSV import, prepared once per transaction.
struct Inserter<'t> {
    delete_affected: rusqlite::Statement<'t>,
    insert_advisory: rusqlite::Statement<'t>,
    insert_affected: rusqlite::Statement<'t>,
}

impl<'t> Inserter<'t> {
    fn new(tx: &'t Transaction<'_>) -> Result<Self> {
        let what = "preparing an import";
        Ok(Self {
            delete_affected: tx
                .prepare("DELETE FROM affected WHERE advisory_id = ?1")
                .map_err(db_error(what))?,
            insert_advisory: tx
                .prepare(
                    "INSERT OR REPLACE INTO advisories
                     (id, kind, modified, published, withdrawn, summary, aliases, severity, score,
                      score_vector, source, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(db_error(what))?,
            insert_affected: tx
                .prepare(
                    "INSERT INTO affected (advisory_id, ecosystem, name, purl, ranges)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_error(what))?,
        })
    }

    fn insert(&mut self, record: &OsvRecord, raw: &[u8], source: &str) -> Result<()> {
        let what = "storing an advisory";
        let aliases = serde_json::to_string(&record.aliases).unwrap_or_else(|_| "[]".to_owned());
        let (score, vector) = record
            .best_score()
            .map_or((None, None), |(s, v)| (Some(s), Some(v)));
        let raw = String::from_utf8_lossy(raw);
        self.delete_affected
            .execute([&record.id.0])
            .map_err(db_error(what))?;
        self.insert_advisory
            .execute(params![
                record.id.0,
                record.kind().as_str(),
                record.modified,
                record.published,
                record.withdrawn.as_deref().filter(|w| !w.trim().is_empty()),
                record.summary,
                aliases,
                record.severity_level().map(|l| l.as_str()),
                score,
                vector,
                source,
                raw,
            ])
            .map_err(db_error(what))?;
        for affected in &record.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            let ranges = serde_json::to_string(&StoredAffected::from_entry(record, affected))
                .unwrap_or_else(|_| "{}".to_owned());
            self.insert_affected
                .execute(params![
                    record.id.0,
                    package.ecosystem,
                    package.name,
                    package.purl,
                    ranges
                ])
                .map_err(db_error(what))?;
        }
        Ok(())
    }
}

fn replace_feed(tx: &Transaction<'_>, feed: &str, versions: &[CompromisedVersion]) -> Result<()> {
    let what = "storing indicators";
    tx.execute("DELETE FROM indicator_versions WHERE feed = ?1", [feed])
        .map_err(db_error(what))?;
    let mut insert = tx
        .prepare("INSERT OR REPLACE INTO indicator_versions VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db_error(what))?;
    for row in versions {
        insert
            .execute(params![
                row.package,
                row.version,
                row.campaign,
                row.source,
                feed
            ])
            .map_err(db_error(what))?;
    }
    Ok(())
}

fn record_source(
    tx: &Transaction<'_>,
    source: &str,
    kind: SourceKind,
    records: usize,
    failed: usize,
    detail: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO metadata (source, kind, imported_at, records, failed, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            source,
            kind.as_str(),
            now_unix(),
            i64::try_from(records).unwrap_or(i64::MAX),
            i64::try_from(failed).unwrap_or(i64::MAX),
            detail
        ],
    )
    .map_err(db_error("recording the import"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::format_age;

    #[test]
    fn ages() {
        assert_eq!(format_age(0), "0 seconds");
        assert_eq!(format_age(1), "1 second");
        assert_eq!(format_age(59), "59 seconds");
        assert_eq!(format_age(60), "1 minute");
        assert_eq!(format_age(7_199), "1 hour");
        assert_eq!(format_age(86_400 * 3 + 5), "3 days");
    }
}
