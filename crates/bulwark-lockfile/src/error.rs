//! Errors of extraction. Every error names the file, and the line where it is known.

use std::fmt;
use std::path::PathBuf;

/// A lockfile, package.json or installed tree that could not be read.
#[derive(Debug, thiserror::Error)]
pub struct ExtractError {
    /// The file that failed.
    pub file: PathBuf,
    /// The 1-based line of the problem, where known.
    pub line: Option<u32>,
    /// What went wrong, for a human.
    pub message: String,
}

impl ExtractError {
    /// An error in `file` without a known line.
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            message: message.into(),
        }
    }

    /// An error in `file` at `line` (1-based).
    pub fn at_line(file: impl Into<PathBuf>, line: u32, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// Wraps a `serde_json` error, keeping its line.
    pub fn json(file: impl Into<PathBuf>, error: &serde_json::Error) -> Self {
        let line = u32::try_from(error.line()).ok().filter(|&line| line > 0);
        Self {
            file: file.into(),
            line,
            message: format!("invalid JSON: {error}"),
        }
    }

    /// Wraps a YAML error, keeping its line.
    pub fn yaml(file: impl Into<PathBuf>, error: &serde_norway::Error) -> Self {
        let line = error.location().and_then(|l| u32::try_from(l.line()).ok());
        Self {
            file: file.into(),
            line,
            message: format!("invalid YAML: {error}"),
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}
