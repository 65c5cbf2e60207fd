//! Finding and loading `bulwark.toml` for the commands that apply it (`scan`, `serve`, `run`),
//! with its diagnostics rendered as code frames on stderr.

use std::path::Path;

use anyhow::bail;
use bulwark_policy::{Config, ConfigError};

/// The policy to apply: `explicit` (`--config`), else `bulwark.toml` found from `dir`, else
/// none. Warnings are shown; an invalid file is an error (exit 2) after its diagnostics are
/// shown.
pub(crate) fn load(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<Option<Config>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => match Config::find(dir) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let mut stderr = std::io::stderr().lock();
    match Config::load(&path) {
        Ok(config) => {
            let _ = bulwark_policy::diagnostic::render(
                &path.display().to_string(),
                &config.source_text,
                &config.warnings,
                &mut stderr,
            );
            Ok(Some(config))
        }
        Err(ConfigError::Invalid {
            name,
            source_text,
            diagnostics,
        }) => {
            let _ =
                bulwark_policy::diagnostic::render(&name, &source_text, &diagnostics, &mut stderr);
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == bulwark_policy::Severity::Error)
                .count();
            bail!(
                "`{name}` is not a valid policy ({errors} {})",
                if errors == 1 { "error" } else { "errors" }
            )
        }
        Err(error) => Err(error.into()),
    }
}
