//! npm semver versions.
//!
//! Advisories and inventories speak npm's dialect of semver 2.0: a version is
//! `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, optionally written with a leading `v` or `=`
//! (npm's `semver.valid` accepts both). Precedence follows semver 2.0 §11: numeric core
//! first, a pre-release sorts before its release, pre-release identifiers compare
//! numerically when numeric and lexically (ASCII) otherwise, numeric identifiers sort before
//! alphanumeric ones, and a shorter identifier list sorts first when all shared ones are
//! equal. Build metadata never takes part in precedence or equality.
//!
//! The parser is strict and bounded because every input is hostile: at most
//! [`MAX_VERSION_LENGTH`] bytes, numbers up to JavaScript's `MAX_SAFE_INTEGER` (as npm), no
//! leading zeros in numeric parts.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// npm's `MAX_LENGTH` for version strings.
pub const MAX_VERSION_LENGTH: usize = 256;

/// JavaScript's `Number.MAX_SAFE_INTEGER`, npm's bound on each numeric part.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// Digits only, compared numerically.
    Numeric(u64),
    /// Anything with a letter or hyphen, compared as ASCII.
    AlphaNumeric(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Numeric(a), Self::Numeric(b)) => a.cmp(b),
            (Self::Numeric(_), Self::AlphaNumeric(_)) => Ordering::Less,
            (Self::AlphaNumeric(_), Self::Numeric(_)) => Ordering::Greater,
            (Self::AlphaNumeric(a), Self::AlphaNumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Numeric(n) => write!(f, "{n}"),
            Self::AlphaNumeric(s) => f.write_str(s),
        }
    }
}

/// An npm semver version. Equality, ordering and hashing ignore build metadata.
#[derive(Debug, Clone)]
pub struct Version {
    /// Incompatible API changes.
    pub major: u64,
    /// Backwards-compatible features.
    pub minor: u64,
    /// Backwards-compatible fixes.
    pub patch: u64,
    /// Pre-release identifiers (`1.0.0-beta.2` → `[beta, 2]`); empty for a release.
    pub prerelease: Vec<Identifier>,
    /// Build metadata identifiers, kept for display only.
    pub build: Vec<String>,
}

impl Version {
    /// A release version `major.minor.patch`.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
            prerelease: Vec::new(),
            build: Vec::new(),
        }
    }

    /// Parse an npm version (`1.2.3`, `v1.2.3-beta.1+sha.5`).
    ///
    /// # Errors
    /// [`ErrorKind::Version`] when `input` is not a valid version.
    pub fn parse(input: &str) -> Result<Self, Error> {
        if input.len() > MAX_VERSION_LENGTH {
            return Err(invalid(input, "longer than 256 bytes"));
        }
        let trimmed = input.trim();
        let trimmed = trimmed.strip_prefix('=').unwrap_or(trimmed).trim_start();
        let trimmed = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        let (rest, build) = match trimmed.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (trimmed, None),
        };
        let (core, prerelease) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let mut parts = core.split('.');
        let (Some(major), Some(minor), Some(patch), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(input, "expected MAJOR.MINOR.PATCH"));
        };
        let mut version = Self::new(
            parse_number(major).ok_or_else(|| invalid(input, "bad major number"))?,
            parse_number(minor).ok_or_else(|| invalid(input, "bad minor number"))?,
            parse_number(patch).ok_or_else(|| invalid(input, "bad patch number"))?,
        );
        if let Some(pre) = prerelease {
            version.prerelease = parse_prerelease(pre)
                .ok_or_else(|| invalid(input, "bad pre-release identifier"))?;
        }
        if let Some(build) = build {
            let ids: Vec<&str> = build.split('.').collect();
            if ids
                .iter()
                .any(|id| id.is_empty() || !id.bytes().all(is_identifier_byte))
            {
                return Err(invalid(input, "bad build metadata"));
            }
            version.build = ids.into_iter().map(str::to_owned).collect();
        }
        Ok(version)
    }

    /// True for a pre-release (`1.0.0-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }

    /// Same `major.minor.patch`, whatever the pre-release.
    pub fn same_core(&self, other: &Self) -> bool {
        self.major == other.major && self.minor == other.minor && self.patch == other.patch
    }

    /// The lowest version of all, `0.0.0-0`.
    pub fn lowest() -> Self {
        Self {
            prerelease: vec![Identifier::Numeric(0)],
            ..Self::new(0, 0, 0)
        }
    }

    /// `major.minor.patch-0`: the lowest pre-release of a core version, npm's exclusive
    /// upper bound for `^`, `~` and x-ranges.
    pub(crate) fn floor(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            prerelease: vec![Identifier::Numeric(0)],
            ..Self::new(major, minor, patch)
        }
    }
}

fn invalid(input: &str, why: &str) -> Error {
    let shown: String = input.chars().take(64).collect();
    Error::new(
        ErrorKind::Version,
        format!("invalid version `{shown}`: {why}"),
    )
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A numeric part: digits only, no leading zero, at most `MAX_SAFE_INTEGER`.
pub(crate) fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse::<u64>().ok().filter(|n| *n <= MAX_SAFE_INTEGER)
}

pub(crate) fn parse_prerelease(text: &str) -> Option<Vec<Identifier>> {
    text.split('.')
        .map(|id| {
            if id.is_empty() || !id.bytes().all(is_identifier_byte) {
                None
            } else if id.bytes().all(|b| b.is_ascii_digit()) {
                parse_number(id).map(Identifier::Numeric)
            } else {
                Some(Identifier::AlphaNumeric(id.to_owned()))
            }
        })
        .collect()
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then(self.minor.cmp(&other.minor))
            .then(self.patch.cmp(&other.patch))
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    // Lexicographic over identifiers; a shorter list that is a prefix sorts first.
                    (false, false) => self.prerelease.cmp(&other.prerelease),
                },
            )
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.major, self.minor, self.patch, &self.prerelease).hash(state);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.prerelease.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        for (i, id) in self.build.iter().enumerate() {
            f.write_str(if i == 0 { "+" } else { "." })?;
            f.write_str(id)?;
        }
        Ok(())
    }
}

impl FromStr for Version {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_valid_versions() {
        let pass = [
            ("1.2.3", "1.2.3"),
            ("v1.2.3", "1.2.3"),
            ("=1.2.3", "1.2.3"),
            ("  1.2.3  ", "1.2.3"),
            ("1.2.3-beta.2", "1.2.3-beta.2"),
            ("1.2.3-0", "1.2.3-0"),
            ("1.2.3-x-y-z.--", "1.2.3-x-y-z.--"),
            ("1.0.0+20130313144700", "1.0.0+20130313144700"),
            ("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta+exp.sha.5114f85"),
            (
                "1.0.0+21AF26D3----117B344092BD",
                "1.0.0+21AF26D3----117B344092BD",
            ),
            ("0.0.0", "0.0.0"),
            ("9007199254740991.0.0", "9007199254740991.0.0"),
            ("1.0.0-alpha.0valid", "1.0.0-alpha.0valid"),
            ("1.0.0-rc.1+build.1", "1.0.0-rc.1+build.1"),
        ];
        for (input, shown) in pass {
            assert_eq!(v(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn rejects_invalid_versions() {
        let fail = [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3-beta..1",
            "1.2.3+",
            "1.2.3+a..b",
            "1.2.3-be$ta",
            "a.b.c",
            "-1.2.3",
            "1.2.x",
            "9007199254740992.0.0",
            "99999999999999999999999.0.0",
            "1.2.3 4",
            "latest",
        ];
        for input in fail {
            let error = Version::parse(input).expect_err(input);
            assert_eq!(error.kind(), ErrorKind::Version);
        }
        let long = format!("1.2.3-{}", "a".repeat(300));
        assert!(Version::parse(&long).is_err());
    }

    #[test]
    fn semver_spec_precedence_chain() {
        // semver 2.0 §11 example chain, strictly increasing.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
            "10.0.0",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]), "{} > {}", pair[1], pair[0]);
        }
    }

    #[test]
    fn build_metadata_is_ignored_for_precedence() {
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert_eq!(v("1.0.0-rc.1+a"), v("1.0.0-rc.1"));
        assert_ne!(v("1.0.0-rc.1"), v("1.0.0"));
        let mut set = std::collections::HashSet::new();
        set.insert(v("1.0.0+x"));
        assert!(set.contains(&v("1.0.0")));
    }

    #[test]
    fn numeric_identifiers_sort_numerically_and_before_alphanumeric() {
        assert!(v("1.0.0-2") < v("1.0.0-10"));
        assert!(v("1.0.0-10") < v("1.0.0-a"));
        assert!(v("1.0.0-B") < v("1.0.0-a"), "ASCII order");
        assert!(v("1.0.0-0") < v("1.0.0-alpha"));
        assert!(Version::lowest() <= v("0.0.0-0"));
        assert!(Version::lowest() < v("0.0.0"));
    }
}
