//! Static backdoor detection for npm packages.
//!
//! The engine reads a package (a directory or a `.tgz` held in memory), parses every
//! JavaScript/TypeScript file **once** with oxc, collects facts in a single AST walk (resolved
//! callee paths such as `child_process.exec` however they are spelled, folded and decoded string
//! constants, assignments, member accesses), and runs every rule of [`rule_metas`] over those
//! facts plus the non-JS files (`package.json`, `binding.gyp`, scripts, binaries). Findings then
//! combine into a [`Verdict`] by the documented co-occurrence logic of `docs/verdict.md`.
//!
//! Nothing from a package is ever executed, required or installed. Inputs are hostile: reads are
//! bounded by [`Options`], tar entries with `..`, absolute paths or links are refused and
//! reported, and each file is analysed in isolation so that a panic or a timeout becomes a
//! [`FileNote`] instead of stopping the analysis.
//!
//! ```no_run
//! let report = bulwark_analysis::analyze_dir(std::path::Path::new("node_modules/left-pad"), &Default::default())?;
//! println!("{:?} {}", report.verdict, report.score);
//! # Ok::<(), bulwark_analysis::AnalysisError>(())
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod context;
mod dir_walk;
mod engine;
mod error;
mod js;
mod manifest;
mod options;
mod package;
mod report;
mod rule;
mod rules;
#[cfg(test)]
mod tester;
mod verdict;

use std::path::Path;

pub use error::AnalysisError;
pub use options::Options;
pub use package::{PackageFile, PackageFiles};
pub use report::{
    Confidence, FileNote, Finding, MAX_EVIDENCE_CHARS, NoteKind, PackageId, Report, Severity,
    Verdict,
};
pub use rule::{Category, RuleMeta};

/// Analyses a package directory (unpacked tarball or installed `node_modules/<name>`).
///
/// # Errors
/// [`AnalysisError::ReadDir`] when the directory cannot be listed.
pub fn analyze_dir(path: &Path, options: &Options) -> Result<Report, AnalysisError> {
    let package = PackageFiles::from_dir(path, options)?;
    Ok(analyze_package(&package, options))
}

/// Analyses a gzip-compressed npm tarball held in memory.
///
/// # Errors
/// [`AnalysisError::Tarball`] when the bytes are not a gzip-compressed tar archive.
pub fn analyze_tarball(bytes: &[u8], options: &Options) -> Result<Report, AnalysisError> {
    let package = PackageFiles::from_tarball(bytes, options)?;
    Ok(analyze_package(&package, options))
}

/// Analyses a package already read into memory (for `diff`, which compares two of them).
pub fn analyze_package(package: &PackageFiles, options: &Options) -> Report {
    engine::analyze(package, options)
}

/// The static description of every rule, in registration order (for docs and `--explain`).
pub fn rule_metas() -> Vec<&'static RuleMeta> {
    rules::RULES.iter().map(|rule| rule.meta()).collect()
}

/// Every rule's name, category and documentation, concatenated: hashed into the engine
/// version of a verdict cache, so cached verdicts are not reused once any rule changes.
pub fn rules_identity() -> Vec<u8> {
    let mut bytes = Vec::new();
    for meta in rule_metas() {
        bytes.extend_from_slice(meta.name.as_bytes());
        bytes.extend_from_slice(format!("{:?}", meta.category).as_bytes());
        bytes.extend_from_slice(meta.documentation.as_bytes());
    }
    bytes
}
