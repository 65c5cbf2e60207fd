//! Indicator feeds: compromised package versions, payload file hashes and indicator strings.
//!
//! The built-in feed is compiled into the binary from `data/` (see `data/NOTICE.md` for the
//! sources and licences): 5,871 npm versions of the 2018–2026 incidents with their campaign
//! and source, 47 payload SHA-256s and 58 indicator strings. It needs no import and no
//! network, so `scan` and `hunt` work offline on a fresh machine. Users add their own lists
//! in the same simple formats with [`parse_version_list`].

use std::sync::OnceLock;

use serde::Serialize;

use crate::csv;
use crate::error::ImportFailure;
use crate::version::Version;

const BUILTIN_VERSIONS: &str = include_str!("../data/npm_compromised_versions.csv");
const BUILTIN_HASHES: &str = include_str!("../data/file_hashes.csv");
const BUILTIN_INDICATORS: &str = include_str!("../data/indicators.csv");

/// Name of the built-in feed in the store and in findings.
pub const BUILTIN_FEED: &str = "builtin";

/// Longest npm package name (npm's own limit).
const MAX_PACKAGE_NAME: usize = 214;

/// One known-compromised `package@version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompromisedVersion {
    /// npm package name (`@ctrl/tinycolor`).
    pub package: String,
    /// The exact version.
    pub version: String,
    /// Incident the version belongs to (`2025-09 Shai-Hulud v1`), if known.
    pub campaign: Option<String>,
    /// Where the row comes from (URL, advisory id, or the user's file).
    pub source: String,
}

/// SHA-256 of a known payload file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadHash {
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Usual file name of the payload (`bundle.js`).
    pub file: String,
    /// Free-form note (size, variant).
    pub note: String,
    /// Incident.
    pub campaign: String,
    /// Where the hash was published.
    pub source: String,
}

/// A string, domain, file name or hook that indicates a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorString {
    /// `string`, `domain`, `file`, `hook`, `url`, `repo_name`, …
    pub kind: String,
    /// The value to look for (some `file` values list alternatives separated by `|`).
    pub value: String,
    /// Incident.
    pub campaign: String,
    /// What the indicator is.
    pub note: String,
    /// Where it was published.
    pub source: String,
}

/// A whole feed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndicatorFeed {
    /// Compromised versions.
    pub versions: Vec<CompromisedVersion>,
    /// Payload hashes.
    pub hashes: Vec<PayloadHash>,
    /// Indicator strings.
    pub strings: Vec<IndicatorString>,
}

impl IndicatorFeed {
    /// The feed compiled into the binary, parsed once.
    pub fn builtin() -> &'static Self {
        static FEED: OnceLock<IndicatorFeed> = OnceLock::new();
        FEED.get_or_init(|| {
            let (versions, _) = parse_version_list(BUILTIN_VERSIONS, BUILTIN_FEED);
            Self {
                versions,
                hashes: parse_hashes(BUILTIN_HASHES),
                strings: parse_indicators(BUILTIN_INDICATORS),
            }
        })
    }

    /// A fingerprint of the embedded data, so a store can tell that the binary's feed
    /// changed and reload it.
    pub fn builtin_fingerprint() -> String {
        // FNV-1a over the three files; collisions only cost a redundant reload.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for text in [BUILTIN_VERSIONS, BUILTIN_HASHES, BUILTIN_INDICATORS] {
            for byte in text.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("fnv1a64:{hash:016x}")
    }
}

/// True for a plausible npm package name: 1–214 bytes, no whitespace or control
/// characters, and `@scope/name` with both parts non-empty when scoped.
pub fn is_valid_package_name(name: &str) -> bool {
    if name.is_empty()
        || name.len() > MAX_PACKAGE_NAME
        || name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b',')
    {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => {
                !scope.is_empty() && !rest.is_empty() && !rest.contains(['/', '@'])
            }
            None => false,
        },
        None => !name.contains(['/', '@']),
    }
}

/// Split `name@version`, scoped names included (`@scope/pkg@1.2.3`).
pub fn split_name_version(spec: &str) -> Option<(&str, &str)> {
    let at = spec.rfind('@').filter(|at| *at > 0)?;
    Some((&spec[..at], &spec[at + 1..]))
}

/// Parse a list of compromised versions.
///
/// Accepted per line, freely mixed: `package,version[,campaign]`; the shared IOC format
/// with a header naming `package` and `version` columns (`ecosystem,package,version,
/// campaign,source`; rows of other ecosystems are skipped); a plain `name@version`; blank
/// lines and `#` comments. Bad lines are returned as failures named `feed:line` and the rest
/// goes on. Versions must be valid npm semver.
pub fn parse_version_list(text: &str, feed: &str) -> (Vec<CompromisedVersion>, Vec<ImportFailure>) {
    let mut versions = Vec::new();
    let mut failures = Vec::new();
    // Column indices: package, version, campaign, source, ecosystem.
    let mut columns: (usize, usize, Option<usize>, Option<usize>, Option<usize>) =
        (0, 1, Some(2), None, None);
    let fail = |line: usize, reason: String| ImportFailure {
        name: format!("{feed}:{line}").into(),
        reason,
    };
    let mut header_checked = false;
    for (line, row) in csv::rows(text) {
        let fields = match row {
            Ok(fields) => fields,
            Err(reason) => {
                failures.push(fail(line, reason.to_owned()));
                continue;
            }
        };
        let fields: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
        if fields[0].starts_with('#') || fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if !header_checked {
            header_checked = true;
            let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            let find = |name: &str| lower.iter().position(|f| f == name);
            if let (Some(package), Some(version)) = (find("package"), find("version")) {
                columns = (
                    package,
                    version,
                    find("campaign"),
                    find("source"),
                    find("ecosystem"),
                );
                continue;
            }
        }
        let (package, version, campaign, source) = if fields.len() == 1 {
            match split_name_version(fields[0]) {
                Some((name, version)) => (name, version, None, None),
                None => {
                    failures.push(fail(
                        line,
                        format!("expected `name@version`, found `{}`", shorten(fields[0])),
                    ));
                    continue;
                }
            }
        } else {
            if let Some(ecosystem) = columns.4.and_then(|i| fields.get(i))
                && !ecosystem.eq_ignore_ascii_case("npm")
            {
                continue;
            }
            let (Some(package), Some(version)) = (fields.get(columns.0), fields.get(columns.1))
            else {
                failures.push(fail(
                    line,
                    "missing the package or version column".to_owned(),
                ));
                continue;
            };
            let campaign = columns
                .2
                .and_then(|i| fields.get(i))
                .copied()
                .filter(|c| !c.is_empty());
            let source = columns
                .3
                .and_then(|i| fields.get(i))
                .copied()
                .filter(|c| !c.is_empty());
            (*package, *version, campaign, source)
        };
        if !is_valid_package_name(package) {
            failures.push(fail(
                line,
                format!("invalid package name `{}`", shorten(package)),
            ));
            continue;
        }
        if let Err(error) = Version::parse(version) {
            failures.push(fail(line, error.to_string()));
            continue;
        }
        versions.push(CompromisedVersion {
            package: package.to_owned(),
            version: version.to_owned(),
            campaign: campaign.map(str::to_owned),
            source: source.unwrap_or(feed).to_owned(),
        });
    }
    (versions, failures)
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

fn parse_hashes(text: &str) -> Vec<PayloadHash> {
    csv::rows(text)
        .into_iter()
        .skip(1)
        .filter_map(|(_, row)| row.ok())
        .filter(|f| f.len() >= 5 && f[0].len() == 64 && f[0].bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|f| PayloadHash {
            sha256: f[0].to_ascii_lowercase(),
            file: f[1].clone(),
            note: f[2].clone(),
            campaign: f[3].clone(),
            source: f[4].clone(),
        })
        .collect()
}

fn parse_indicators(text: &str) -> Vec<IndicatorString> {
    csv::rows(text)
        .into_iter()
        .skip(1)
        .filter_map(|(_, row)| row.ok())
        .filter(|f| f.len() >= 5 && !f[1].is_empty())
        .map(|f| IndicatorString {
            kind: f[0].clone(),
            value: f[1].clone(),
            campaign: f[2].clone(),
            note: f[3].clone(),
            source: f[4].clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iocs");

    /// The embedded feed holds every npm row of the shared IOC set, with campaign and source.
    #[test]
    fn builtin_feed_matches_the_shared_data() {
        let shared = std::fs::read_to_string(format!("{SHARED}/all_compromised_versions.csv"))
            .expect("shared iocs");
        let npm_rows = shared.lines().filter(|l| l.starts_with("npm,")).count();
        let feed = IndicatorFeed::builtin();
        assert_eq!(feed.versions.len(), npm_rows);
        assert!(
            feed.versions
                .iter()
                .all(|v| v.campaign.is_some() && !v.source.is_empty())
        );
        let (_, failures) = parse_version_list(BUILTIN_VERSIONS, BUILTIN_FEED);
        assert!(failures.is_empty(), "{failures:?}");
        let hashes = std::fs::read_to_string(format!("{SHARED}/file_hashes.csv")).expect("hashes");
        assert_eq!(feed.hashes.len(), hashes.lines().count() - 1);
        let indicators = std::fs::read_to_string(format!("{SHARED}/indicators.csv")).expect("ind");
        assert_eq!(feed.strings.len(), csv::rows(&indicators).len() - 1);
        assert!(
            feed.strings
                .iter()
                .any(|s| s.kind == "hook" && s.value.contains("setup_bun.js"))
        );
        let tinycolor = feed
            .versions
            .iter()
            .find(|v| v.package == "@ctrl/tinycolor" && v.version == "4.1.1")
            .expect("tinycolor 4.1.1 is in the feed");
        assert!(
            tinycolor
                .campaign
                .as_deref()
                .is_some_and(|c| c.contains("Shai-Hulud")),
            "{tinycolor:?}"
        );
    }

    #[test]
    fn user_lists_in_every_accepted_shape() {
        let text = "# my incident list\n\
                    evil-pkg,1.0.0,my-campaign\n\
                    other,2.0.0\n\
                    @scope/pkg@3.1.4\n\
                    plain@0.0.1-rc.1\n\
                    \n\
                    bad name,1.0.0\n\
                    good,not-a-version\n\
                    @scope-only@1.0.0\n\
                    no-version-here\n\
                    \"unterminated,1.0.0\n";
        let (versions, failures) = parse_version_list(text, "mine.csv");
        let got: Vec<(&str, &str, Option<&str>)> = versions
            .iter()
            .map(|v| {
                (
                    v.package.as_str(),
                    v.version.as_str(),
                    v.campaign.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("evil-pkg", "1.0.0", Some("my-campaign")),
                ("other", "2.0.0", None),
                ("@scope/pkg", "3.1.4", None),
                ("plain", "0.0.1-rc.1", None),
            ]
        );
        assert!(versions.iter().all(|v| v.source == "mine.csv"));
        let lines: Vec<String> = failures
            .iter()
            .map(|f| f.name.display().to_string())
            .collect();
        assert_eq!(
            lines,
            [
                "mine.csv:7",
                "mine.csv:8",
                "mine.csv:9",
                "mine.csv:10",
                "mine.csv:11"
            ]
        );
    }

    #[test]
    fn header_maps_columns_and_skips_other_ecosystems() {
        let text =
            "ecosystem,package,version,campaign,source\nnpm,a,1.0.0,c1,s1\nPyPI,b,1.0.0,c2,s2\n";
        let (versions, failures) = parse_version_list(text, "x");
        assert!(failures.is_empty());
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].source, "s1");
        assert_eq!(versions[0].campaign.as_deref(), Some("c1"));
    }

    #[test]
    fn package_names() {
        for ok in ["a", "--hiljson", "@ctrl/tinycolor", "lodash.merge", "UPPER"] {
            assert!(is_valid_package_name(ok), "{ok}");
        }
        for bad in [
            "",
            "@scope",
            "@/x",
            "@s/",
            "a/b",
            "a b",
            "a@b",
            "@s/a/b",
            &"x".repeat(215),
        ] {
            assert!(!is_valid_package_name(bad), "{bad}");
        }
        assert_eq!(split_name_version("@s/p@1.0.0"), Some(("@s/p", "1.0.0")));
        assert_eq!(split_name_version("@s/p"), None);
    }
}
