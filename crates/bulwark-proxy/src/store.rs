//! The gate's state behind three traits, so that the default (local disk + embedded SQLite)
//! and a shared deployment (object storage + PostgreSQL, see `docs/scaling.md`) are two
//! implementations of the same interfaces.
//!
//! Every method is blocking; the server calls them on tokio's blocking pool.

use std::path::PathBuf;
use std::time::SystemTime;

use bulwark_types::Integrity;
use bytes::Bytes;
use serde::Serialize;

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{what} `{path}`")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Bytes offered to the blob store do not match the integrity they were offered under.
    #[error("refused to store bytes that do not match `{integrity}`")]
    IntegrityMismatch {
        /// The expected integrity.
        integrity: String,
    },
    /// The verdict database failed.
    #[error(transparent)]
    Verdicts(#[from] bulwark_cache::CacheError),
}

/// Content-addressed tarball storage: the key is the tarball's integrity, and only bytes that
/// match it are ever stored, so a reader never sees a partial or foreign tarball.
pub trait BlobStore: Send + Sync {
    /// The tarball with this integrity, if stored.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    fn get(&self, integrity: &Integrity) -> Result<Option<Bytes>, StoreError>;

    /// Whether a tarball with this integrity is stored.
    fn contains(&self, integrity: &Integrity) -> bool;

    /// Stores `bytes` under `integrity` atomically after checking that they match it.
    ///
    /// # Errors
    /// [`StoreError::IntegrityMismatch`], or when the store cannot be written.
    fn put(&self, integrity: &Integrity, bytes: &[u8]) -> Result<(), StoreError>;
}

/// The last upstream packument of each package, for `--offline` and for serving stale data
/// when the upstream is down.
pub trait PackumentStore: Send + Sync {
    /// The stored upstream packument of `name` and its upstream `ETag`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    fn get(&self, name: &str) -> Result<Option<StoredPackument>, StoreError>;

    /// Replaces the stored packument of `name` atomically.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    fn put(&self, name: &str, packument: &StoredPackument) -> Result<(), StoreError>;
}

/// An upstream packument as stored.
#[derive(Debug, Clone)]
pub struct StoredPackument {
    /// The upstream `ETag`, if it sent one.
    pub etag: Option<String>,
    /// The JSON bytes exactly as received.
    pub body: Bytes,
}

/// The analysis verdict on one tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVerdict {
    /// `clean`, `suspicious` or `malicious`.
    pub verdict: String,
    /// 0-100.
    pub score: u32,
    /// Rule ids of the findings, worst first.
    pub rules: Vec<String>,
}

impl StoredVerdict {
    /// Whether the gate blocks the tarball.
    #[must_use]
    pub fn is_malicious(&self) -> bool {
        self.verdict == "malicious"
    }
}

/// Verdicts keyed by tarball integrity and analysis engine version.
pub trait VerdictStore: Send + Sync {
    /// The verdict on the tarball with this integrity, if analysed by this engine.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    fn get(&self, integrity: &Integrity) -> Result<Option<StoredVerdict>, StoreError>;

    /// Records a verdict.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    fn put(&self, integrity: &Integrity, verdict: &StoredVerdict) -> Result<(), StoreError>;
}

/// One gate decision, as written to the audit log (one JSON object per line).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC.
    pub time: String,
    /// The client's address.
    pub client: String,
    /// The package name.
    pub package: String,
    /// The version.
    pub version: String,
    /// `allow` or `block`.
    pub decision: &'static str,
    /// Stable reason code (`known-bad`, `too-new`, `malicious`, … or `clean`).
    pub reason: String,
    /// The reason as a sentence.
    pub detail: String,
    /// What was asked: `packument` or `tarball`.
    pub request: &'static str,
}

impl AuditRecord {
    /// A record stamped now.
    #[must_use]
    pub fn now(client: String, package: &str, version: &str, request: &'static str) -> Self {
        Self {
            time: crate::clock::format_rfc3339(SystemTime::now()),
            client,
            package: package.to_owned(),
            version: version.to_owned(),
            decision: "allow",
            reason: String::new(),
            detail: String::new(),
            request,
        }
    }
}

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    /// Records one decision; never blocks the request on slow storage.
    fn record(&self, record: AuditRecord);

    /// Writes out what is buffered (at shutdown).
    fn flush(&self) {}
}

/// An audit sink that drops everything (no `--audit-log`).
#[derive(Debug, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _record: AuditRecord) {}
}
