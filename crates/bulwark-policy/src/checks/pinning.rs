//! Pinning: direct dependencies in `package.json` should name one exact version. Ranges
//! (`^`, `~`, `>=`, `x`, `*`), dist-tags (`latest`, `next`) and git references without a
//! commit let a new (possibly malicious) release in on the next install or lockfile update.
//! Local specifiers (`file:`, `link:`, `workspace:`) and tarball URLs are pinned.

use bulwark_advisory::Version;
use bulwark_lockfile::Project;

use crate::config::Config;
use crate::level::Level;
use crate::manifest::{DependencyType, Manifest, read_manifest, workspace_members};
use crate::violation::{Check, Violation};

/// Why `spec` is not pinned, or `None` when it is.
#[must_use]
pub fn unpinned_reason(spec: &str) -> Option<&'static str> {
    let spec = spec.trim();
    if let Some(aliased) = spec.strip_prefix("npm:") {
        let target = match aliased.strip_prefix('@') {
            Some(rest) => rest.split_once('@').map(|(_, v)| v),
            None => aliased.split_once('@').map(|(_, v)| v),
        };
        return match target {
            Some(version) => unpinned_reason(version),
            None => Some("an alias without a version"),
        };
    }
    if ["file:", "link:", "portal:", "workspace:"]
        .iter()
        .any(|prefix| spec.starts_with(prefix))
    {
        return None;
    }
    let is_git = spec.starts_with("git")
        || spec.starts_with("github:")
        || spec.starts_with("gitlab:")
        || spec.starts_with("bitbucket:")
        || spec.contains(".git")
        || (!spec.contains(':') && spec.matches('/').count() == 1 && !spec.starts_with('@'));
    if is_git {
        let commit = spec.rsplit_once('#').map(|(_, r)| r);
        return match commit {
            Some(commit) if commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()) => {
                None
            }
            _ => Some("a git reference without a full commit hash"),
        };
    }
    if spec.starts_with("https://") || spec.starts_with("http://") {
        return None;
    }
    let exact = spec.strip_prefix('=').unwrap_or(spec).trim();
    if Version::parse(exact).is_ok() {
        return None;
    }
    if spec.is_empty() || spec == "*" || spec.eq_ignore_ascii_case("x") {
        return Some("any version");
    }
    if bulwark_advisory::Range::parse(spec).is_ok() {
        if spec.starts_with(['^', '~', '>', '<']) || spec.contains(['x', 'X', '*', ' ', '|']) {
            return Some("a range");
        }
        return Some("a partial version (a range)");
    }
    Some("a dist-tag, which moves with every release")
}

/// Checks the root `package.json` of `project` and those of its workspace members.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    let manifests = std::iter::once(project.root.clone())
        .chain(workspace_members(&project.root))
        .filter_map(|dir| read_manifest(&dir));
    manifests
        .flat_map(|manifest| check_manifest(config, &manifest))
        .collect()
}

fn check_manifest(config: &Config, manifest: &Manifest) -> Vec<Violation> {
    let rules = &config.pinning;
    manifest
        .dependencies
        .iter()
        .filter_map(|declared| {
            let level = match declared.kind {
                DependencyType::Prod => rules.dependencies,
                DependencyType::Dev => rules.dev_dependencies,
                DependencyType::Optional => rules.optional_dependencies,
                DependencyType::Peer => rules.peer_dependencies,
            };
            if level == Level::Allow
                || rules
                    .ignore
                    .iter()
                    .any(|e| e.name.as_ref().is_some_and(|n| n.matches(&declared.name)))
            {
                return None;
            }
            let why = unpinned_reason(&declared.spec)?;
            Some(
                Violation::new(
                    Check::UnpinnedDependency,
                    level,
                    format!(
                        "\"{}\": \"{}\" in {} is {why}; pin an exact version",
                        declared.name,
                        declared.spec,
                        declared.kind.key()
                    ),
                )
                .package(&declared.name, &declared.spec)
                .at(manifest.path.clone(), declared.line),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_and_unpinned_specifiers() {
        let pinned = [
            "4.1.2",
            "=4.1.2",
            "v4.1.2",
            "3.0.0-canary.1",
            "1.0.0-next.0",
            "npm:strip-ansi@6.0.1",
            "npm:@scope/pkg@1.0.0",
            "file:./vendor/dep",
            "link:../dep",
            "workspace:*",
            "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz",
            "github:user/repo#0123456789abcdef0123456789abcdef01234567",
            "git+https://github.com/u/r.git#0123456789abcdef0123456789abcdef01234567",
        ];
        for spec in pinned {
            assert_eq!(unpinned_reason(spec), None, "{spec}");
        }
        let unpinned = [
            ("^4.1.2", "a range"),
            ("~4.1.2", "a range"),
            (">=1.0.0 <2", "a range"),
            ("4.x", "a range"),
            ("*", "any version"),
            ("", "any version"),
            ("latest", "a dist-tag, which moves with every release"),
            ("next", "a dist-tag, which moves with every release"),
            ("4", "a partial version (a range)"),
            ("4.1", "a partial version (a range)"),
            ("npm:strip-ansi@^6", "a range"),
            ("user/repo", "a git reference without a full commit hash"),
            (
                "github:user/repo#main",
                "a git reference without a full commit hash",
            ),
        ];
        for (spec, why) in unpinned {
            assert_eq!(unpinned_reason(spec), Some(why), "{spec}");
        }
    }
}
