//! Known-bad matches and code-analysis verdicts mapped to policy levels: by default a
//! malicious or compromised version (or malicious code) is `deny`, suspicious code and
//! vulnerabilities `warn`. `[findings] ignore` entries silence one advisory `id` (or its
//! alias) or one package, each with a reason.

use crate::config::Config;
use crate::level::Level;
use crate::violation::Check;

/// What a finding of the scan is, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingClass {
    /// A known malicious or compromised version, or code the analysis calls malicious.
    Malicious,
    /// Code the analysis calls suspicious.
    Suspicious,
    /// A known vulnerability.
    Vulnerability,
}

impl FindingClass {
    /// The check a finding of this class is reported under.
    #[must_use]
    pub fn check(self) -> Check {
        match self {
            Self::Malicious => Check::MaliciousPackage,
            Self::Suspicious => Check::SuspiciousPackage,
            Self::Vulnerability => Check::VulnerablePackage,
        }
    }
}

/// The level of one finding (`Allow` when an ignore entry covers it).
#[must_use]
pub fn level(
    config: &Config,
    class: FindingClass,
    ids: &[&str],
    name: &str,
    version: &str,
) -> Level {
    let rules = &config.findings;
    let ignored = rules.ignore.iter().any(|entry| {
        let id_matches = entry.id.as_deref().is_none_or(|id| {
            ids.iter()
                .any(|candidate| candidate.eq_ignore_ascii_case(id))
        });
        let name_matches = entry.name.is_none() || entry.covers(name, version);
        id_matches && name_matches
    });
    if ignored {
        return Level::Allow;
    }
    match class {
        FindingClass::Malicious => rules.malicious,
        FindingClass::Suspicious => rules.suspicious,
        FindingClass::Vulnerability => rules.vulnerability,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::config;

    #[test]
    fn defaults_and_ignores() {
        let policy = config("");
        assert_eq!(
            level(&policy, FindingClass::Malicious, &["MAL-1"], "x", "1.0.0"),
            Level::Deny
        );
        assert_eq!(
            level(&policy, FindingClass::Suspicious, &[], "x", "1.0.0"),
            Level::Warn
        );
        let policy = config(
            r#"
[findings]
suspicious = "deny"
vulnerability = "allow"
ignore = [
  { id = "GHSA-aaaa-bbbb-cccc", reason = "not reachable" },
  { name = "esbuild", version = "0.20.2", reason = "downloads its binary: reviewed" },
]
"#,
        );
        assert_eq!(
            level(&policy, FindingClass::Suspicious, &[], "x", "1.0.0"),
            Level::Deny
        );
        assert_eq!(
            level(
                &policy,
                FindingClass::Vulnerability,
                &["GHSA-x"],
                "x",
                "1.0.0"
            ),
            Level::Allow
        );
        assert_eq!(
            level(
                &policy,
                FindingClass::Malicious,
                &["CVE-1", "ghsa-aaaa-bbbb-cccc"],
                "x",
                "1.0.0"
            ),
            Level::Allow
        );
        assert_eq!(
            level(&policy, FindingClass::Suspicious, &[], "esbuild", "0.20.2"),
            Level::Allow
        );
        assert_eq!(
            level(&policy, FindingClass::Suspicious, &[], "esbuild", "0.21.0"),
            Level::Deny
        );
    }
}
