//! Installed trees: walking `node_modules` (nested, scoped, the `.pnpm` virtual store,
//! symlinked workspaces) and reading each package's `package.json`.

use std::path::Path;

use crate::{ExtractError, Lockfile};

/// The format name of installed trees in reports.
pub const FORMAT: &str = "installed/node_modules";

/// Inventories the installed tree rooted at the `node_modules` directory `node_modules`.
///
/// # Errors
/// Returns an error naming the directory if it cannot be read at all.
pub fn extract_tree(node_modules: &Path) -> Result<Lockfile, ExtractError> {
    Err(ExtractError::new(
        node_modules,
        "installed trees are not supported yet",
    ))
}
