//! `yarn.lock` of yarn classic (v1) and yarn berry (`__metadata` versions 4 to 8).

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

/// Extractor for `yarn.lock`.
#[derive(Debug, Clone, Copy)]
pub struct YarnLockExtractor;

impl Extractor for YarnLockExtractor {
    fn name(&self) -> &'static str {
        "yarn/lock"
    }
    fn version(&self) -> u32 {
        0
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "yarn.lock" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        Err(ExtractError::new(
            input.path,
            "yarn.lock is not supported yet",
        ))
    }
}
