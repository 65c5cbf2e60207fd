//! Limits that keep hostile input bounded.

use std::time::Duration;

/// Knobs of one analysis; [`Options::default`] is what `inspect` and `scan` use.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files larger than this are not read (a [`crate::FileNote`] says so).
    pub max_file_size: u64,
    /// Largest JavaScript file that is parsed; bigger ones get only the text-level checks.
    pub max_parse_size: u64,
    /// Stop reading a package after this many uncompressed bytes in total.
    pub max_total_size: u64,
    /// Stop reading a package after this many entries.
    pub max_entries: usize,
    /// Time budget per file; a file that runs over becomes a [`crate::FileNote`].
    pub file_time_budget: Duration,
    /// Analyse the files of the package in parallel with rayon.
    pub parallel: bool,
    /// Parse only the scripts that contain a token some rule declares (see
    /// [`crate::RuleMeta::tokens`]); on by default, off only to check that nothing is lost.
    pub prefilter: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_file_size: 32 * 1024 * 1024,
            max_parse_size: 12 * 1024 * 1024,
            max_total_size: 512 * 1024 * 1024,
            max_entries: 50_000,
            file_time_budget: Duration::from_secs(10),
            parallel: true,
            prefilter: true,
        }
    }
}
