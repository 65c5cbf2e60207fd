//! Errors of the advisory crate.
//!
//! One opaque [`Error`] with a `#[non_exhaustive]` [`ErrorKind`], so callers can branch on
//! the kind of failure while messages stay free to improve. Messages name the file, URL or
//! value involved in backticks.

use std::path::PathBuf;

/// What went wrong, coarsely; the [`Error`] message carries the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A version string is not valid npm semver.
    Version,
    /// A range string is not valid npm range syntax.
    Range,
    /// An OSV record (or a CVSS vector inside one) is malformed.
    Osv,
    /// An indicator (IOC) list is malformed.
    Indicators,
    /// Reading a file, directory or archive failed.
    Io,
    /// An archive is malformed or exceeds the size caps.
    Archive,
    /// The SQLite database failed or is corrupt.
    Database,
    /// Downloading a feed failed.
    Download,
}

/// An error of the advisory crate.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a message naming what failed.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("cannot read `{}`", path.display())).with_source(source)
    }

    pub(crate) fn database(what: &str, source: rusqlite::Error) -> Self {
        Self::new(ErrorKind::Database, format!("database error while {what}")).with_source(source)
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One input that could not be imported, reported by name; the import of the rest goes on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportFailure {
    /// The file (or `archive.zip!entry.json`) that failed.
    pub name: PathBuf,
    /// Why it failed, for humans.
    pub reason: String,
}
