//! Lockfile drift: `package.json` and the lockfile must agree about the root's direct
//! dependencies. A declared dependency missing from the lockfile, a locked version outside
//! the declared range, or a locked direct dependency that `package.json` no longer declares
//! means the lockfile was not regenerated (or was edited by hand) and a fresh install would
//! resolve something else.

use std::collections::BTreeMap;

use bulwark_advisory::{Range, Version};
use bulwark_lockfile::{InventoryPackage, Project};

use super::about;
use crate::config::Config;
use crate::level::Level;
use crate::manifest::{DependencyType, read_manifest};
use crate::violation::{Check, Violation};

/// The range a specifier asks for, when it is an npm range (aliases unwrapped).
fn declared_range(spec: &str) -> Option<Range> {
    let spec = spec.trim();
    let spec = match spec.strip_prefix("npm:") {
        Some(aliased) => match aliased.strip_prefix('@') {
            Some(rest) => rest.split_once('@')?.1,
            None => aliased.split_once('@')?.1,
        },
        None => spec,
    };
    if spec.contains(':') || spec.contains('/') {
        return None;
    }
    Range::parse(spec).ok()
}

/// The real package an `npm:` alias specifier names (`npm:@s/p@1` → `@s/p`).
fn aliased_name(spec: &str) -> Option<&str> {
    let aliased = spec.trim().strip_prefix("npm:")?;
    match aliased.strip_prefix('@') {
        Some(rest) => Some(
            rest.split_once('@')
                .map_or(aliased, |(scope_name, _)| &aliased[..=scope_name.len()]),
        ),
        None => Some(aliased.split_once('@').map_or(aliased, |(name, _)| name)),
    }
}

/// Checks `project`'s root direct dependencies against its `package.json`.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    let level = config.drift;
    if level == Level::Allow || project.direct.is_empty() {
        return Vec::new();
    }
    let Some(manifest) = read_manifest(&project.root) else {
        return Vec::new();
    };
    let mut locked: BTreeMap<&str, Vec<&InventoryPackage>> = BTreeMap::new();
    for &index in &project.direct {
        if let Some(package) = project.packages.get(index) {
            let name = package.alias.as_deref().unwrap_or(&package.name);
            locked.entry(name).or_default().push(package);
        }
    }
    let mut violations = Vec::new();
    for declared in &manifest.dependencies {
        if declared.kind == DependencyType::Peer {
            continue;
        }
        match locked.get(declared.name.as_str()) {
            None if declared.kind == DependencyType::Optional => {}
            None => violations.push(
                Violation::new(
                    Check::LockfileDrift,
                    level,
                    format!(
                        "\"{}\" is in {} of package.json but not in the lockfile; regenerate the lockfile",
                        declared.name,
                        declared.kind.key()
                    ),
                )
                .package(&declared.name, &declared.spec)
                .at(manifest.path.clone(), declared.line),
            ),
            Some(packages) => {
                let wanted_name = aliased_name(&declared.spec).unwrap_or(&declared.name);
                if !packages.iter().any(|package| package.name == wanted_name) {
                    let package = packages[0];
                    violations.push(about(
                        Check::LockfileDrift,
                        level,
                        package,
                        format!(
                            "package.json asks for {wanted_name} (\"{}\": \"{}\") but the lockfile installs {} under that name: lockfile poisoning?",
                            declared.name,
                            declared.spec,
                            package.id()
                        ),
                    ));
                    continue;
                }
                let Some(range) = declared_range(&declared.spec) else {
                    continue;
                };
                let satisfied = packages.iter().any(|package| {
                    Version::parse(&package.version).is_ok_and(|v| range.matches(&v))
                });
                if !satisfied {
                    let package = packages[0];
                    violations.push(about(
                        Check::LockfileDrift,
                        level,
                        package,
                        format!(
                            "package.json asks for \"{}\": \"{}\" but the lockfile has {}",
                            declared.name, declared.spec, package.version
                        ),
                    ));
                }
            }
        }
    }
    for (name, packages) in &locked {
        if !manifest.dependencies.iter().any(|d| d.name == *name) {
            violations.push(about(
                Check::LockfileDrift,
                level,
                packages[0],
                format!(
                    "{} is a direct dependency in the lockfile but not in package.json",
                    packages[0].id()
                ),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_targets() {
        assert_eq!(aliased_name("npm:strip-ansi@6.0.1"), Some("strip-ansi"));
        assert_eq!(aliased_name("npm:@scope/pkg@^1"), Some("@scope/pkg"));
        assert_eq!(aliased_name("npm:left-pad"), Some("left-pad"));
        assert_eq!(aliased_name("4.1.2"), None);
    }

    #[test]
    fn ranges_of_specifiers() {
        assert!(declared_range("^4.1.2").is_some());
        assert!(declared_range("npm:strip-ansi@6.0.1").is_some());
        assert!(declared_range("npm:@s/p@^1").is_some());
        assert!(declared_range("file:./x").is_none());
        assert!(declared_range("user/repo").is_none());
        assert!(declared_range("latest").is_none());
    }
}
