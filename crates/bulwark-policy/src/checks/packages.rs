//! Allow and deny lists of packages by name, scope, glob and version range. A denied package
//! is a violation; in approved-only mode so is any package not on the allow list. Deny wins
//! over allow.

use bulwark_lockfile::Project;

use super::{about, is_local};
use crate::config::Config;
use crate::violation::{Check, Violation};

/// The decision for one `name@version`, without a place.
#[must_use]
pub fn decide(config: &Config, name: &str, version: &str) -> Option<Violation> {
    let rules = &config.packages;
    if let Some(entry) = rules.deny.iter().find(|e| e.covers(name, version)) {
        let why = if entry.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", entry.reason)
        };
        return Some(
            Violation::new(
                Check::PackageDenied,
                rules.level,
                format!(
                    "{name}@{version} is denied by `{}` (bulwark.toml line {}){why}",
                    entry.label(),
                    entry.line
                ),
            )
            .package(name, version),
        );
    }
    if rules.approved_only && !rules.allow.iter().any(|e| e.covers(name, version)) {
        return Some(
            Violation::new(
                Check::PackageNotApproved,
                rules.level,
                format!("{name}@{version} is not on the approved list ([packages] allow)"),
            )
            .package(name, version),
        );
    }
    None
}

/// Checks every package of `project` (workspace members and local links excluded).
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    project
        .packages
        .iter()
        .filter(|package| !is_local(package))
        .filter_map(|package| {
            decide(config, &package.name, &package.version)
                .map(|v| about(v.check, v.level, package, v.message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use crate::checks::test_support::{config, project};

    #[test]
    fn deny_list_by_name_scope_glob_and_range() {
        let policy = config(
            r#"
[packages]
deny = [
  { name = "event-stream", version = "3.3.6", reason = "flatmap-stream backdoor" },
  { name = "@evil/*", reason = "typosquat scope" },
  { name = "colors", version = ">=1.4.1", reason = "sabotaged" },
]
"#,
        );
        let fail = [
            ("event-stream", "3.3.6"),
            ("@evil/thing", "1.0.0"),
            ("colors", "1.4.2"),
            ("colors", "1.4.1"),
        ];
        for (name, version) in fail {
            let violation = decide(&policy, name, version).expect(name);
            assert_eq!(violation.check, Check::PackageDenied);
            assert_eq!(violation.level, Level::Deny);
        }
        // npm's pre-release rule: `>=1.4.1` does not admit `1.4.44-liberty-2`.
        let pass = [
            ("event-stream", "3.3.5"),
            ("evil", "1.0.0"),
            ("colors", "1.4.0"),
            ("colors", "1.4.44-liberty-2"),
        ];
        for (name, version) in pass {
            assert!(decide(&policy, name, version).is_none(), "{name}@{version}");
        }
    }

    #[test]
    fn approved_only_mode() {
        let policy = config(
            r#"
[packages]
level = "warn"
approved-only = true
allow = [
  { name = "chalk", version = "^4", reason = "approved 2026-01" },
  { name = "@types/*", reason = "types only" },
]
deny = [{ name = "@types/evil" }]
"#,
        );
        assert!(decide(&policy, "chalk", "4.1.2").is_none());
        assert!(decide(&policy, "@types/node", "20.0.0").is_none());
        let unapproved = decide(&policy, "chalk", "5.0.0").unwrap();
        assert_eq!(unapproved.check, Check::PackageNotApproved);
        assert_eq!(unapproved.level, Level::Warn);
        assert_eq!(
            decide(&policy, "@types/evil", "1.0.0").unwrap().check,
            Check::PackageDenied
        );
        let project = project(&[("chalk", "4.1.2"), ("left-pad", "1.3.0")]);
        let found = check(&policy, &project);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].package.as_ref().unwrap().name, "left-pad");
        assert!(found[0].place.is_some());
    }
}
