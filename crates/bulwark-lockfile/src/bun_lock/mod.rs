//! bun's text lockfile `bun.lock` and binary lockfile `bun.lockb`.

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

/// Extractor for `bun.lock`.
#[derive(Debug, Clone, Copy)]
pub struct BunLockExtractor;

impl Extractor for BunLockExtractor {
    fn name(&self) -> &'static str {
        "bun/lock"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "bun.lock" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "bun.lock is not supported yet",
        ))
    }
}

/// Extractor for `bun.lockb`.
#[derive(Debug, Clone, Copy)]
pub struct BunLockbExtractor;

impl Extractor for BunLockbExtractor {
    fn name(&self) -> &'static str {
        "bun/lockb"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "bun.lockb" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "bun.lockb is not supported yet",
        ))
    }
}
