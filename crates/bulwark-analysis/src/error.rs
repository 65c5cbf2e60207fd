//! Operational failures of the engine (as opposed to findings, which are data).

use std::path::PathBuf;

/// Why a package could not be analysed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The directory could not be read.
    #[error("failed to read package directory `{}`", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The tarball is not a readable gzip-compressed tar archive.
    #[error("failed to read package tarball: {message}")]
    Tarball {
        /// What went wrong.
        message: String,
        /// The underlying I/O error, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
}
