//! Resolved URL consistency: a registry tarball URL has the shape
//! `<registry>/<name>/-/<basename>-<version>.tgz`. A lockfile entry for `a@1.0.0` whose URL
//! is the tarball of `b` or of another version is lockfile poisoning (the manager installs
//! what the URL names and the integrity of that tarball).

use bulwark_lockfile::Project;
use bulwark_types::SourceKind;

use super::about;
use crate::config::Config;
use crate::violation::{Check, Violation};

/// The package name and version a registry tarball URL names, if it has the registry shape.
#[must_use]
pub fn named_by_url(url: &str) -> Option<(String, String)> {
    let path = url.split(['?', '#']).next()?;
    let (_, after_scheme) = path.split_once("://")?;
    let path = after_scheme.split_once('/')?.1;
    let (name_part, file) = path.rsplit_once("/-/")?;
    let file = file
        .strip_suffix(".tgz")
        .or_else(|| file.strip_suffix(".tar.gz"))?;
    let name_part = name_part.replace("%2f", "/").replace("%2F", "/");
    // Registries under a path prefix (`/repo/npm/`): the name is the last one or two segments.
    let segments: Vec<&str> = name_part.split('/').collect();
    let name = match segments.as_slice() {
        [.., scope, name] if scope.starts_with('@') => format!("{scope}/{name}"),
        [.., name] => (*name).to_owned(),
        [] => return None,
    };
    let basename = name.rsplit('/').next()?;
    let version = file.strip_prefix(basename)?.strip_prefix('-')?;
    Some((name, version.to_owned()))
}

/// Checks `project`'s registry packages.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    project
        .packages
        .iter()
        .filter(|p| matches!(p.source, SourceKind::Registry | SourceKind::RemoteTarball))
        .filter_map(|package| {
            let resolved = package.resolved.as_deref()?;
            if !resolved.contains("/-/") {
                return None;
            }
            // bun records URL dependencies with the URL as their version: only the name counts.
            let version_is_url = package.version.contains("://");
            let message = match named_by_url(resolved) {
                Some((name, version))
                    if name == package.name && (version_is_url || version == package.version) =>
                {
                    return None;
                }
                Some((name, version)) => format!(
                    "{} resolves to the tarball of {name}@{version} (`{resolved}`): lockfile poisoning?",
                    package.id()
                ),
                None => format!(
                    "{} resolves to `{resolved}`, which names neither this package nor this version",
                    package.id()
                ),
            };
            Some(about(Check::ResolvedUrlMismatch, config.resolved_url, package, message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use crate::checks::test_support::{config, project_with};

    #[test]
    fn names_in_urls() {
        let cases = [
            (
                "https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz",
                Some(("chalk", "4.1.2")),
            ),
            (
                "https://registry.npmjs.org/@babel/core/-/core-7.0.0.tgz",
                Some(("@babel/core", "7.0.0")),
            ),
            (
                "https://registry.npmjs.org/@babel%2fcore/-/core-7.0.0.tgz",
                Some(("@babel/core", "7.0.0")),
            ),
            (
                "https://npm.corp/repo/npm/left-pad/-/left-pad-1.3.0.tgz#sha1",
                Some(("left-pad", "1.3.0")),
            ),
            (
                "https://registry.npmjs.org/ms/-/ms-3.0.0-canary.1.tgz",
                Some(("ms", "3.0.0-canary.1")),
            ),
            ("https://registry.npmjs.org/chalk/-/other-4.1.2.tgz", None),
        ];
        for (url, expected) in cases {
            let found = named_by_url(url);
            assert_eq!(
                found.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
                expected,
                "{url}"
            );
        }
    }

    #[test]
    fn pass_and_fail() {
        let policy = config("");
        let ok = project_with(&[("chalk", "4.1.2")], |_| {});
        assert!(check(&policy, &ok).is_empty());
        let poisoned = [
            "https://registry.npmjs.org/chalk-evil/-/chalk-evil-4.1.2.tgz",
            "https://registry.npmjs.org/chalk/-/chalk-4.1.3.tgz",
            "https://registry.npmjs.org/chalk/-/evil-4.1.2.tgz",
        ];
        for url in poisoned {
            let project =
                project_with(&[("chalk", "4.1.2")], |p| p.resolved = Some(url.to_owned()));
            let found = check(&policy, &project);
            assert_eq!(found.len(), 1, "{url}");
            assert_eq!(
                (found[0].check, found[0].level),
                (Check::ResolvedUrlMismatch, Level::Deny)
            );
        }
    }
}
