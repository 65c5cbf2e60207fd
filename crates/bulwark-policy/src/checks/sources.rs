//! Non-registry sources: git repositories, tarballs from arbitrary URLs, `file:` and `link:`
//! packages are violations at their kind's level unless the package is on `[sources] allow`.

use bulwark_lockfile::Project;
use bulwark_types::SourceKind;

use super::about;
use crate::config::Config;
use crate::level::Level;
use crate::violation::{Check, Violation};

/// Checks the sources of `project`'s packages.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    let rules = &config.sources;
    project
        .packages
        .iter()
        .filter_map(|package| {
            // npm links `file:` directories, so the specifier decides between the two.
            let written = package.resolved.as_deref().unwrap_or("");
            let (level, what) = match package.source {
                SourceKind::Git => (rules.git, "a git repository"),
                SourceKind::RemoteTarball => (rules.remote_tarball, "a remote tarball"),
                SourceKind::File | SourceKind::Link if written.starts_with("file:") => {
                    (rules.file, "a local `file:` path")
                }
                SourceKind::File => (rules.file, "a local file or directory"),
                SourceKind::Link => (rules.link, "a `link:` to a local directory"),
                SourceKind::Registry | SourceKind::Workspace | SourceKind::Unknown => return None,
            };
            if level == Level::Allow
                || rules
                    .allow
                    .iter()
                    .any(|e| e.covers(&package.name, &package.version))
            {
                return None;
            }
            let from = package
                .resolved
                .as_deref()
                .map(|r| format!(" (`{r}`)"))
                .unwrap_or_default();
            Some(about(
                Check::SourceNotAllowed,
                level,
                package,
                format!(
                    "{} comes from {what}{from}, which is not listed in [sources] allow",
                    package.id()
                ),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{config, project_with};

    fn with_source(source: SourceKind, resolved: &str) -> Project {
        project_with(&[("dep", "1.0.0")], |p| {
            p.source = source;
            p.resolved = Some(resolved.to_owned());
        })
    }

    #[test]
    fn pass_and_fail() {
        let policy = config(
            r#"
[sources]
git = "deny"
remote-tarball = "deny"
file = "warn"
link = "allow"
"#,
        );
        let fail = [
            (
                SourceKind::Git,
                "git+https://github.com/a/dep.git#0123",
                Level::Deny,
            ),
            (
                SourceKind::RemoteTarball,
                "https://example.com/dep.tgz",
                Level::Deny,
            ),
            (SourceKind::File, "file:vendor/dep", Level::Warn),
        ];
        for (source, resolved, level) in fail {
            let found = check(&policy, &with_source(source, resolved));
            assert_eq!(found.len(), 1, "{resolved}");
            assert_eq!(
                (found[0].check, found[0].level),
                (Check::SourceNotAllowed, level)
            );
        }
        let linked_file = check(&policy, &with_source(SourceKind::Link, "file:vendor/dep"));
        assert_eq!(
            linked_file[0].level,
            Level::Warn,
            "npm links file: directories"
        );
        for (source, resolved) in [
            (SourceKind::Link, "link:../dep"),
            (
                SourceKind::Registry,
                "https://registry.npmjs.org/dep/-/dep-1.0.0.tgz",
            ),
        ] {
            assert!(check(&policy, &with_source(source, resolved)).is_empty());
        }
    }

    #[test]
    fn listed_packages_may_use_other_sources() {
        let policy = config(
            r#"
[sources]
git = "deny"
allow = [{ name = "dep", version = "1.0.0", reason = "fork with a fix" }]
"#,
        );
        assert!(check(&policy, &with_source(SourceKind::Git, "github:a/dep#abc")).is_empty());
    }
}
