use crate::context::PackageContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::metadata::typosquatting::is_popular;

declare_rule! {
    /// ### What it does
    /// Reports a version with an absurd major (90–9999, such as `99.10.9`) on a package that is
    /// not a popular one; with an install hook it is high.
    ///
    /// ### Why is this bad?
    /// Dependency-confusion attacks publish a company's internal package name on the public
    /// registry with a huge version so that resolvers prefer it (Birsan 2021, countless
    /// `99.x` research and attack packages since).
    ///
    /// ### Examples
    /// Incorrect: `{"name": "acme-internal-auth", "version": "99.10.9"}`.
    /// Correct: `{"name": "acme-auth", "version": "2.3.0"}`.
    DependencyConfusion, "dependency-confusion", Metadata
}

impl Rule for DependencyConfusion {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_package(&self, package: &PackageContext<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest else {
            return;
        };
        let major: u64 = manifest
            .version
            .split('.')
            .next()
            .and_then(|major| major.parse().ok())
            .unwrap_or(0);
        if !(90..10_000).contains(&major)
            || is_popular(&manifest.name)
            || manifest.version.split('.').count() != 3
        {
            return;
        }
        let hooked = manifest.install_scripts().next().is_some();
        let severity = if hooked {
            Severity::High
        } else {
            Severity::Medium
        };
        let needle = format!("\"{}\"", manifest.version);
        out.push(package.manifest_finding(
            &Self::META,
            severity,
            Confidence::Medium,
            &needle,
            format!(
                "version `{}` looks like a dependency-confusion bid",
                manifest.version
            ),
            &needle,
        ));
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
                r#"{"name":"acme-auth","version":"2.3.0"}"#,
            )]),
            Case::Files(vec![(
                "package.json",
                r#"{"name":"x","version":"20240101.0.0"}"#,
            )]),
        ];
        let fail = vec![
            Case::Files(vec![(
                "package.json",
                r#"{"name":"acme-internal-auth","version":"99.10.9"}"#,
            )]),
            Case::Files(vec![(
                "package.json",
                r#"{"name":"corp-sdk","version":"100.0.0","scripts":{"preinstall":"node i.js"}}"#,
            )]),
        ];
        test_rule(DependencyConfusion::META.name, pass, fail);
    }
}
