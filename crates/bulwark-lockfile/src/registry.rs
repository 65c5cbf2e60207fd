//! The extractor contract and the one list of registered extractors.
//!
//! Adding a lockfile format is a local change: a module implementing [`Extractor`] and one
//! line in [`EXTRACTORS`].

use std::io::Read as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::{ExtractError, Lockfile, bun_lock, npm_lock, pnpm_lock, yarn_lock};

/// Lockfiles larger than this are refused (the largest real ones are tens of MiB).
pub const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;

/// One file handed to an extractor. The walker, not the extractor, owns I/O.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The file's path (used in errors and locations).
    pub path: &'a Path,
    /// The file's bytes.
    pub contents: &'a [u8],
}

impl<'a> Input<'a> {
    /// The contents as UTF-8 (a leading byte-order mark is dropped).
    ///
    /// # Errors
    /// Returns an error naming the file and the line of the first invalid byte.
    pub fn text(&self) -> Result<&'a str, ExtractError> {
        let bytes = self
            .contents
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(self.contents);
        std::str::from_utf8(bytes).map_err(|error| {
            let line = crate::LineIndex::new(bytes).line_of(error.valid_up_to());
            ExtractError::at_line(self.path, line, "file is not valid UTF-8 text")
        })
    }
}

/// A parser of one lockfile format.
pub trait Extractor: Sync {
    /// A path-like identifier, e.g. `npm/package-lock`; it names the format in reports.
    fn name(&self) -> &'static str;
    /// Bumped when the extractor's output changes substantively.
    fn version(&self) -> u32;
    /// Whether this extractor reads the file at `path` (decided by the path alone).
    fn file_required(&self, path: &Path) -> bool;
    /// Reads the file into the inventory model.
    ///
    /// # Errors
    /// Returns an error naming the file (and line where known) for malformed input.
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError>;
}

/// Every registered extractor, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[
    &npm_lock::NpmLockExtractor,
    &npm_lock::NpmShrinkwrapExtractor,
    &npm_lock::NpmHiddenLockExtractor,
    &yarn_lock::YarnLockExtractor,
    &pnpm_lock::PnpmLockExtractor,
    &bun_lock::BunLockExtractor,
    &bun_lock::BunLockbExtractor,
];

/// The extractor that reads `path`, if any.
#[must_use]
pub fn extractor_for(path: &Path) -> Option<&'static dyn Extractor> {
    EXTRACTORS
        .iter()
        .copied()
        .find(|extractor| extractor.file_required(path))
}

/// Reads `path` (bounded in size) and runs `extractor` on it. A panic inside the extractor is
/// turned into an error naming the file, so one bad file never stops a scan.
///
/// # Errors
/// Returns an error naming the file if it cannot be read or parsed.
pub fn extract_file(extractor: &dyn Extractor, path: &Path) -> Result<Lockfile, ExtractError> {
    let file = std::fs::File::open(path)
        .map_err(|error| ExtractError::new(path, format!("cannot open: {error}")))?;
    let mut contents = Vec::new();
    file.take(MAX_LOCKFILE_BYTES + 1)
        .read_to_end(&mut contents)
        .map_err(|error| ExtractError::new(path, format!("cannot read: {error}")))?;
    if contents.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(ExtractError::new(
            path,
            format!(
                "file is larger than the {} MiB limit for lockfiles",
                MAX_LOCKFILE_BYTES >> 20
            ),
        ));
    }
    let input = Input {
        path,
        contents: &contents,
    };
    catch_unwind(AssertUnwindSafe(|| extractor.extract(&input))).unwrap_or_else(|_| {
        Err(ExtractError::new(
            path,
            format!(
                "internal error: the {} extractor panicked on this file",
                extractor.name()
            ),
        ))
    })
}

/// The file name of `path`, or `""`.
pub(crate) fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
}

/// True if any component of `path` above the file is `node_modules`.
pub(crate) fn inside_node_modules(path: &Path) -> bool {
    path.parent()
        .is_some_and(|parent| parent.components().any(|c| c.as_os_str() == "node_modules"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lockfile_name_has_exactly_one_extractor() {
        let cases = [
            ("p/package-lock.json", Some("npm/package-lock")),
            ("p/npm-shrinkwrap.json", Some("npm/shrinkwrap")),
            (
                "p/node_modules/.package-lock.json",
                Some("npm/hidden-lockfile"),
            ),
            ("p/yarn.lock", Some("yarn/lock")),
            ("p/pnpm-lock.yaml", Some("pnpm/lock")),
            ("p/bun.lock", Some("bun/lock")),
            ("p/bun.lockb", Some("bun/lockb")),
            ("p/package-lock.json.bak", None),
            ("p/package.json", None),
            ("p/.package-lock.json", None),
            ("p/pnpm-lock.yml", None),
            ("p/node_modules/foo/package-lock.json", None),
        ];
        for (path, expected) in cases {
            let path = Path::new(path);
            let matching: Vec<_> = EXTRACTORS
                .iter()
                .filter(|e| e.file_required(path))
                .map(|e| e.name())
                .collect();
            assert!(matching.len() <= 1, "{path:?} matched {matching:?}");
            assert_eq!(matching.first().copied(), expected, "{path:?}");
        }
    }

    #[test]
    fn extractor_names_are_unique() {
        let mut names: Vec<_> = EXTRACTORS.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
