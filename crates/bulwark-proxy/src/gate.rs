//! Gate decisions: whether one version of a package may be served, and why not.
//!
//! A version is removed from packuments (and its tarball answered with 403) when it is a
//! known-bad version ([`bulwark_advisory::Matcher`]), when the [`VersionPolicy`] refuses it
//! (too young, not on the allowlist, denied), or when the analysis engine called its tarball
//! malicious.

use std::fmt;
use std::time::{Duration, SystemTime};

use bulwark_advisory::{Matcher, PackageRef};

/// Why a version is not served.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockReason {
    /// An advisory or indicator lists this version as malicious or compromised.
    KnownBad {
        /// The advisory id or `IOC:<campaign>`.
        advisory: String,
    },
    /// Published more recently than the minimum age allows.
    TooNew {
        /// How old the version is, in whole hours.
        age_hours: u64,
        /// The minimum age, in whole hours.
        min_age_hours: u64,
    },
    /// The minimum age applies and the registry gives no publish time.
    UnknownPublishTime,
    /// An allowlist is configured and does not list the package.
    NotAllowed,
    /// A denylist names the package or version.
    Denied {
        /// The matching list entry.
        entry: String,
    },
    /// The static analysis of the tarball returned `malicious`.
    Malicious {
        /// The rules that fired, worst first.
        rules: Vec<String>,
    },
    /// Another policy said no (an adapter of an external policy engine).
    Policy {
        /// Short machine label (`[a-z-]+`), used as the metrics label.
        code: String,
        /// The sentence shown to the user.
        message: String,
    },
}

impl BlockReason {
    /// Short stable label for metrics and the audit log.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::KnownBad { .. } => "known-bad",
            Self::TooNew { .. } => "too-new",
            Self::UnknownPublishTime => "unknown-publish-time",
            Self::NotAllowed => "not-allowed",
            Self::Denied { .. } => "denied",
            Self::Malicious { .. } => "malicious",
            Self::Policy { code, .. } => code,
        }
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KnownBad { advisory } => write!(f, "known-malicious version ({advisory})"),
            Self::TooNew {
                age_hours,
                min_age_hours,
            } => write!(
                f,
                "published {age_hours}h ago, younger than the minimum age of {min_age_hours}h"
            ),
            Self::UnknownPublishTime => {
                f.write_str("the registry gives no publish time and a minimum age applies")
            }
            Self::NotAllowed => f.write_str("not on the allowlist"),
            Self::Denied { entry } => write!(f, "denied by `{entry}`"),
            Self::Malicious { rules } if rules.is_empty() => {
                f.write_str("the code analysis found it malicious")
            }
            Self::Malicious { rules } => {
                write!(
                    f,
                    "the code analysis found it malicious ({})",
                    rules.join(", ")
                )
            }
            Self::Policy { message, .. } => f.write_str(message),
        }
    }
}

/// The verdict on one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Served.
    Allow,
    /// Removed from packuments; its tarball gets 403.
    Block(BlockReason),
}

/// A per-version rule set: allow/deny lists, minimum age, or an adapter of an external policy.
pub trait VersionPolicy: Send + Sync {
    /// Whether `name@version`, published at `published` (when the registry says), may be
    /// served at `now`.
    fn check(
        &self,
        name: &str,
        version: &str,
        published: Option<SystemTime>,
        now: SystemTime,
    ) -> Decision;

    /// A string that changes whenever the policy's answers could change (cache keys).
    fn fingerprint(&self) -> String;
}

/// The policy of the command-line flags: a minimum age and optional allow/deny lists.
#[derive(Debug, Clone, Default)]
pub struct BuiltinPolicy {
    /// Versions younger than this are blocked (zero: no minimum).
    pub min_age: Duration,
    /// When not empty, only these package names are served.
    pub allow: Vec<String>,
    /// Package names (`name`) or versions (`name@version`) that are never served.
    pub deny: Vec<String>,
}

impl VersionPolicy for BuiltinPolicy {
    fn check(
        &self,
        name: &str,
        version: &str,
        published: Option<SystemTime>,
        now: SystemTime,
    ) -> Decision {
        if let Some(entry) = self.deny.iter().find(|entry| {
            entry.as_str() == name
                || entry
                    .rsplit_once('@')
                    .is_some_and(|(n, v)| !n.is_empty() && n == name && v == version)
        }) {
            return Decision::Block(BlockReason::Denied {
                entry: entry.clone(),
            });
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|allowed| allowed == name) {
            return Decision::Block(BlockReason::NotAllowed);
        }
        if !self.min_age.is_zero() {
            let Some(published) = published else {
                return Decision::Block(BlockReason::UnknownPublishTime);
            };
            // A publish time in the future is "age zero".
            let age = now.duration_since(published).unwrap_or_default();
            if age < self.min_age {
                return Decision::Block(BlockReason::TooNew {
                    age_hours: age.as_secs() / 3600,
                    min_age_hours: self.min_age.as_secs().div_ceil(3600),
                });
            }
        }
        Decision::Allow
    }

    fn fingerprint(&self) -> String {
        format!(
            "builtin:{}:{:?}:{:?}",
            self.min_age.as_secs(),
            self.allow,
            self.deny
        )
    }
}

/// The known-bad check: the first advisory or indicator that covers `name@version`.
#[must_use]
pub fn known_bad(matcher: &Matcher, name: &str, version: &str) -> Option<BlockReason> {
    let package = [PackageRef::new(name, version)];
    let found = matcher.match_packages(&package);
    found
        .iter()
        .find(|m| {
            matches!(
                m.kind,
                bulwark_advisory::osv::schema::AdvisoryKind::Malicious
                    | bulwark_advisory::osv::schema::AdvisoryKind::CompromisedVersion
            )
        })
        .map(|m| BlockReason::KnownBad {
            advisory: m.advisory_id.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn minimum_age_blocks_young_and_undated_versions() {
        let policy = BuiltinPolicy {
            min_age: DAY * 3,
            ..BuiltinPolicy::default()
        };
        let now = SystemTime::UNIX_EPOCH + DAY * 1000;
        assert_eq!(
            policy.check("a", "1.0.0", Some(now - DAY * 4), now),
            Decision::Allow
        );
        assert_eq!(
            policy.check("a", "1.0.1", Some(now - DAY), now),
            Decision::Block(BlockReason::TooNew {
                age_hours: 24,
                min_age_hours: 72
            })
        );
        assert_eq!(
            policy.check("a", "1.0.1", Some(now + DAY), now),
            Decision::Block(BlockReason::TooNew {
                age_hours: 0,
                min_age_hours: 72
            })
        );
        assert_eq!(
            policy.check("a", "1.0.2", None, now),
            Decision::Block(BlockReason::UnknownPublishTime)
        );
        assert_eq!(
            BuiltinPolicy::default().check("a", "1.0.2", None, now),
            Decision::Allow
        );
    }

    #[test]
    fn lists() {
        let policy = BuiltinPolicy {
            allow: vec!["ms".into(), "@types/ms".into()],
            deny: vec!["ms@2.1.3".into(), "@types/ms".into()],
            ..BuiltinPolicy::default()
        };
        let now = SystemTime::now();
        assert_eq!(policy.check("ms", "2.1.2", None, now), Decision::Allow);
        assert!(matches!(
            policy.check("ms", "2.1.3", None, now),
            Decision::Block(BlockReason::Denied { .. })
        ));
        assert!(matches!(
            policy.check("@types/ms", "0.7.34", None, now),
            Decision::Block(BlockReason::Denied { .. })
        ));
        assert_eq!(
            policy.check("left-pad", "1.0.0", None, now),
            Decision::Block(BlockReason::NotAllowed)
        );
    }

    #[test]
    fn builtin_feed_blocks_a_compromised_version() {
        let matcher = Matcher::builtin();
        // event-stream's flatmap-stream payload (2018), in the built-in feed.
        let reason = known_bad(&matcher, "flatmap-stream", "0.1.1");
        assert!(
            matches!(reason, Some(BlockReason::KnownBad { .. })),
            "{reason:?}"
        );
        assert_eq!(known_bad(&matcher, "ms", "2.1.3"), None);
    }
}
