//! Approved registries and URL schemes: every resolved URL must use an allowed scheme
//! (https only by default), and registry packages must come from an allowed host or URL
//! prefix. Lockfiles that record no URL for default-registry packages (pnpm, yarn berry)
//! have nothing to check here; their registry is the one the project's `.npmrc` names.

use bulwark_lockfile::Project;
use bulwark_types::SourceKind;

use super::{about, is_local};
use crate::config::{Config, Registries};
use crate::violation::{Check, Violation};

/// The scheme and host of a URL-shaped resolved value (`git+https://h/x` → `https`, `h`).
#[must_use]
pub fn scheme_and_host(resolved: &str) -> Option<(String, String)> {
    let (scheme, rest) = url_part(resolved)?.split_once("://")?;
    let scheme = scheme
        .strip_prefix("git+")
        .unwrap_or(scheme)
        .to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    Some((scheme, host.to_ascii_lowercase()))
}

/// The URL inside a resolved value: yarn berry writes `name@https://…`.
#[must_use]
pub fn url_part(resolved: &str) -> Option<&str> {
    let at = resolved.find("://")?;
    let start = resolved[..at]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
        .map_or(0, |i| i + 1);
    Some(&resolved[start..])
}

/// True when `url` (on `host`) is on the allow list.
#[must_use]
pub fn host_allowed(rules: &Registries, url: &str, host: &str) -> bool {
    let host_without_port = host.split(':').next().unwrap_or(host);
    rules.allow.iter().any(|allowed| {
        if allowed.contains("://") {
            url == allowed
                || url
                    .strip_prefix(allowed.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        } else {
            allowed.eq_ignore_ascii_case(host) || allowed.eq_ignore_ascii_case(host_without_port)
        }
    })
}

/// Checks the resolved URLs of `project`.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    let rules = &config.registries;
    let mut violations = Vec::new();
    for package in project.packages.iter().filter(|p| !is_local(p)) {
        let Some(resolved) = &package.resolved else {
            continue;
        };
        let Some((scheme, host)) = scheme_and_host(resolved) else {
            continue;
        };
        if !rules.schemes.contains(&scheme) {
            violations.push(about(
                Check::InsecureScheme,
                rules.level,
                package,
                format!(
                    "{} is fetched over `{scheme}:` ({resolved}); allowed schemes: {}",
                    package.id(),
                    rules.schemes.join(", ")
                ),
            ));
        }
        let url = url_part(resolved).unwrap_or(resolved);
        if package.source == SourceKind::Registry && !host_allowed(rules, url, &host) {
            violations.push(about(
                Check::RegistryNotAllowed,
                rules.level,
                package,
                format!(
                    "{} is resolved from `{host}`, which is not an approved registry ({})",
                    package.id(),
                    rules.allow.join(", ")
                ),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{config, project_with};

    #[test]
    fn urls() {
        assert_eq!(
            scheme_and_host("git+ssh://git@github.com/a/b.git#abc"),
            Some(("ssh".to_owned(), "github.com".to_owned()))
        );
        assert_eq!(
            scheme_and_host("https://user:pw@npm.corp:8443/x/-/x-1.tgz"),
            Some(("https".to_owned(), "npm.corp:8443".to_owned()))
        );
        assert_eq!(scheme_and_host("file:../x"), None);
        assert_eq!(
            scheme_and_host("is-odd@https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz"),
            Some(("https".to_owned(), "registry.npmjs.org".to_owned()))
        );
        assert_eq!(url_part("is-odd@http://x/y"), Some("http://x/y"));
    }

    #[test]
    fn pass_and_fail() {
        let policy = config(
            r#"
[registries]
level = "deny"
allow = ["registry.npmjs.org", "https://npm.corp.example/repo"]
"#,
        );
        let pass = [
            "https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz",
            "https://npm.corp.example/repo/chalk/-/chalk-4.1.2.tgz",
        ];
        for url in pass {
            let project =
                project_with(&[("chalk", "4.1.2")], |p| p.resolved = Some(url.to_owned()));
            assert!(check(&policy, &project).is_empty(), "{url}");
        }
        let fail = [
            (
                "http://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz",
                vec![Check::InsecureScheme],
            ),
            (
                "https://evil.example/chalk/-/chalk-4.1.2.tgz",
                vec![Check::RegistryNotAllowed],
            ),
            (
                "https://npm.corp.example/repository/chalk/-/chalk-4.1.2.tgz",
                vec![Check::RegistryNotAllowed],
            ),
            (
                "http://evil.example/chalk/-/chalk-4.1.2.tgz",
                vec![Check::InsecureScheme, Check::RegistryNotAllowed],
            ),
        ];
        for (url, expected) in fail {
            let project =
                project_with(&[("chalk", "4.1.2")], |p| p.resolved = Some(url.to_owned()));
            let found: Vec<Check> = check(&policy, &project).iter().map(|v| v.check).collect();
            assert_eq!(found, expected, "{url}");
        }
    }
}
