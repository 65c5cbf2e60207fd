//! `bulwark init [DIR]`: writes the commented starter policy `bulwark.toml` into DIR. An
//! existing file is never overwritten; the new file is written to a temporary name and
//! linked into place, so a concurrent writer cannot be clobbered either.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};

use crate::Outcome;
use crate::cli::InitArgs;

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<Outcome> {
    let path = write_starter(&args.dir)?;
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "wrote {}; edit it, then run `bulwark scan {}`",
        path.display(),
        args.dir.display()
    );
    Ok(Outcome::Clean)
}

/// Writes the starter config into `dir`, refusing to overwrite.
fn write_starter(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    if !dir.is_dir() {
        bail!("`{}` is not a directory", dir.display());
    }
    let path = dir.join(bulwark_policy::FILE_NAME);
    if std::fs::symlink_metadata(&path).is_ok() {
        bail!(
            "`{}` already exists; not overwriting it (delete it first to start over)",
            path.display()
        );
    }
    let temporary = dir.join(format!(".bulwark.toml.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bulwark_policy::STARTER_CONFIG)
        .with_context(|| format!("cannot write `{}`", temporary.display()))?;
    // hard_link fails if the target appeared meanwhile, unlike rename.
    let linked = std::fs::hard_link(&temporary, &path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(path),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("`{}` already exists; not overwriting it", path.display())
        }
        Err(error) => Err(error).with_context(|| format!("cannot write `{}`", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_starter(dir.path()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, bulwark_policy::STARTER_CONFIG);
        assert!(bulwark_policy::Config::from_str(&text).is_ok());
        std::fs::write(&path, "# mine\n").unwrap();
        let error = write_starter(dir.path()).unwrap_err().to_string();
        assert!(error.contains("already exists"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
        assert!(write_starter(&dir.path().join("missing")).is_err());
    }
}
