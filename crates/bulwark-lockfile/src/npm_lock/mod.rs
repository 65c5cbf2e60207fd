//! npm `package-lock.json` (lockfileVersion 1, 2, 3), `npm-shrinkwrap.json` and the hidden
//! lockfile `node_modules/.package-lock.json`.

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

/// Extractor for `package-lock.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmLockExtractor;

impl Extractor for NpmLockExtractor {
    fn name(&self) -> &'static str {
        "npm/package-lock"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "package-lock.json" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "package-lock.json is not supported yet",
        ))
    }
}

/// Extractor for `npm-shrinkwrap.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmShrinkwrapExtractor;

impl Extractor for NpmShrinkwrapExtractor {
    fn name(&self) -> &'static str {
        "npm/shrinkwrap"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "npm-shrinkwrap.json" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "npm-shrinkwrap.json is not supported yet",
        ))
    }
}

/// Extractor for `node_modules/.package-lock.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmHiddenLockExtractor;

impl Extractor for NpmHiddenLockExtractor {
    fn name(&self) -> &'static str {
        "npm/hidden-lockfile"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == ".package-lock.json"
            && path
                .parent()
                .is_some_and(|p| file_name(p) == "node_modules")
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "node_modules/.package-lock.json is not supported yet",
        ))
    }
}
