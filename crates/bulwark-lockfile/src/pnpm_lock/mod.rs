//! `pnpm-lock.yaml` lockfileVersion 5.x, 6.0, 7.0 and 9.0.

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

/// Extractor for `pnpm-lock.yaml`.
#[derive(Debug, Clone, Copy)]
pub struct PnpmLockExtractor;

impl Extractor for PnpmLockExtractor {
    fn name(&self) -> &'static str {
        "pnpm/lock"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "pnpm-lock.yaml" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "pnpm-lock.yaml is not supported yet",
        ))
    }
}
