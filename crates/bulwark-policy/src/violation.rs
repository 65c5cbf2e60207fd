//! What a check reports: a [`Violation`] of one [`Check`] at one [`Level`], about one package
//! (or the config itself), at one place. Check codes are a public contract (JSON, SARIF rule
//! ids): add codes, never rename them.

use std::path::PathBuf;

use crate::level::Level;

/// Every check, with its stable kebab-case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// A registry package resolved from a host not on `[registries] allow`.
    RegistryNotAllowed,
    /// A resolved URL with a scheme not on `[registries] schemes` (`http:`, `git:`).
    InsecureScheme,
    /// A git, remote-tarball, `file:` or `link:` source not on `[sources] allow`.
    SourceNotAllowed,
    /// A downloaded package without integrity.
    IntegrityMissing,
    /// A package whose integrity is weaker than sha512 (sha1).
    IntegrityWeak,
    /// A resolved registry URL for another package or version (lockfile poisoning).
    ResolvedUrlMismatch,
    /// A range (`^`, `~`, `*`, tags) in `package.json` for a direct dependency.
    UnpinnedDependency,
    /// A package on `[packages] deny`.
    PackageDenied,
    /// In approved-only mode, a package not on `[packages] allow`.
    PackageNotApproved,
    /// A package with lifecycle scripts or `binding.gyp` not on `[install-scripts] allow`.
    InstallScriptNotAllowed,
    /// A version published less than `[release-age] minimum` ago.
    ReleaseTooRecent,
    /// A version whose publication time could not be found.
    ReleaseAgeUnknown,
    /// `package.json` and the lockfile disagree about a direct dependency.
    LockfileDrift,
    /// A known malicious or compromised version, or code the analysis calls malicious.
    MaliciousPackage,
    /// Code the analysis calls suspicious.
    SuspiciousPackage,
    /// A version with a known vulnerability.
    VulnerablePackage,
    /// An allow or ignore entry of `bulwark.toml` whose `expires` date has passed.
    ExpiredEntry,
}

impl Check {
    /// Every check, in documentation order.
    pub const ALL: &'static [Self] = &[
        Self::RegistryNotAllowed,
        Self::InsecureScheme,
        Self::SourceNotAllowed,
        Self::IntegrityMissing,
        Self::IntegrityWeak,
        Self::ResolvedUrlMismatch,
        Self::UnpinnedDependency,
        Self::PackageDenied,
        Self::PackageNotApproved,
        Self::InstallScriptNotAllowed,
        Self::ReleaseTooRecent,
        Self::ReleaseAgeUnknown,
        Self::LockfileDrift,
        Self::MaliciousPackage,
        Self::SuspiciousPackage,
        Self::VulnerablePackage,
        Self::ExpiredEntry,
    ];

    /// The stable kebab-case code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::RegistryNotAllowed => "registry-not-allowed",
            Self::InsecureScheme => "insecure-scheme",
            Self::SourceNotAllowed => "source-not-allowed",
            Self::IntegrityMissing => "integrity-missing",
            Self::IntegrityWeak => "integrity-weak",
            Self::ResolvedUrlMismatch => "resolved-url-mismatch",
            Self::UnpinnedDependency => "unpinned-dependency",
            Self::PackageDenied => "package-denied",
            Self::PackageNotApproved => "package-not-approved",
            Self::InstallScriptNotAllowed => "install-script-not-allowed",
            Self::ReleaseTooRecent => "release-too-recent",
            Self::ReleaseAgeUnknown => "release-age-unknown",
            Self::LockfileDrift => "lockfile-drift",
            Self::MaliciousPackage => "malicious-package",
            Self::SuspiciousPackage => "suspicious-package",
            Self::VulnerablePackage => "vulnerable-package",
            Self::ExpiredEntry => "expired-entry",
        }
    }

    /// One sentence about what the check catches.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::RegistryNotAllowed => {
                "A registry package was resolved from a registry that the policy does not approve."
            }
            Self::InsecureScheme => {
                "A package is fetched over a URL scheme the policy does not allow (plain http, git://)."
            }
            Self::SourceNotAllowed => {
                "A package comes from git, a remote tarball, file: or link: without being listed in [sources] allow."
            }
            Self::IntegrityMissing => {
                "A downloaded package has no integrity hash in the lockfile, so a changed tarball would go unnoticed."
            }
            Self::IntegrityWeak => {
                "A package's only integrity hash is sha1 (or weaker than sha512)."
            }
            Self::ResolvedUrlMismatch => {
                "The lockfile resolves a package to a tarball URL of a different package or version (lockfile poisoning)."
            }
            Self::UnpinnedDependency => {
                "A direct dependency in package.json is a range or tag instead of an exact version."
            }
            Self::PackageDenied => "A package is on the policy's deny list.",
            Self::PackageNotApproved => {
                "In approved-only mode, a package is not on the policy's allow list."
            }
            Self::InstallScriptNotAllowed => {
                "A package has install scripts or binding.gyp and is not on the install-script allowlist."
            }
            Self::ReleaseTooRecent => {
                "A version was published more recently than the policy's minimum release age."
            }
            Self::ReleaseAgeUnknown => {
                "The publication time of a version could not be found (offline without cache, or registry error)."
            }
            Self::LockfileDrift => {
                "package.json and the lockfile disagree about a direct dependency."
            }
            Self::MaliciousPackage => {
                "A known malicious or compromised version, or code the static analysis calls malicious."
            }
            Self::SuspiciousPackage => "Code the static analysis calls suspicious.",
            Self::VulnerablePackage => "A version with a known vulnerability.",
            Self::ExpiredEntry => {
                "An allow or ignore entry of bulwark.toml has expired and no longer applies."
            }
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// `name@version` a violation is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageVersion {
    /// The package name.
    pub name: String,
    /// The version.
    pub version: String,
}

/// A file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    /// The file (a lockfile, `package.json`, an installed `package.json`, `bulwark.toml`).
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u32,
}

/// One violation of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which check.
    pub check: Check,
    /// `warn` or `deny` (allow-level violations are never produced).
    pub level: Level,
    /// One line for people.
    pub message: String,
    /// The package, when about one.
    pub package: Option<PackageVersion>,
    /// Where, when known.
    pub place: Option<Place>,
    /// Index of the project (in the scan's project list), when about one.
    pub project: Option<usize>,
}

impl Violation {
    /// A violation about `name@version`.
    #[must_use]
    pub fn new(check: Check, level: Level, message: impl Into<String>) -> Self {
        Self {
            check,
            level,
            message: message.into(),
            package: None,
            place: None,
            project: None,
        }
    }

    /// Sets the package.
    #[must_use]
    pub fn package(mut self, name: &str, version: &str) -> Self {
        self.package = Some(PackageVersion {
            name: name.to_owned(),
            version: version.to_owned(),
        });
        self
    }

    /// Sets the place.
    #[must_use]
    pub fn at(mut self, file: impl Into<PathBuf>, line: u32) -> Self {
        self.place = Some(Place {
            file: file.into(),
            line,
        });
        self
    }

    /// Sets the project index.
    #[must_use]
    pub fn in_project(mut self, project: usize) -> Self {
        self.project = Some(project);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_described() {
        let mut codes: Vec<&str> = Check::ALL.iter().map(|c| c.code()).collect();
        for code in &codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{code}"
            );
        }
        for check in Check::ALL {
            assert!(check.description().ends_with('.'));
        }
        codes.sort_unstable();
        let count = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), count, "duplicate check codes");
        assert_eq!(count, 17);
    }
}
