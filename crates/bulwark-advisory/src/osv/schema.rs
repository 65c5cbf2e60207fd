//! Serde wire model of an OSV record (<https://ossf.github.io/osv-schema/>).
//!
//! The structs mirror the JSON closely and are lenient where the schema is (missing arrays
//! and `null` both mean empty) but strict where matching depends on it: a record needs a
//! non-empty `id` and `modified`, and each range event names exactly one of `introduced`,
//! `fixed`, `last_affected` or `limit`. Fields bulwark does not use (`credits`,
//! `references` beyond their URLs) are kept in the raw JSON the store saves.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, ErrorKind};
use crate::osv::severity::{self, SeverityLevel};

/// Largest OSV JSON document accepted (OSV records are a few KiB; the biggest real ones
/// with enumerated `versions` lists stay well under a MiB).
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// An advisory identifier (`MAL-2025-47141`, `GHSA-…`, `CVE-…`). Opaque: no assumption is
/// made about its format (STYLE convention 6).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdvisoryId(pub String);

impl std::fmt::Display for AdvisoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a finding means for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisoryKind {
    /// The package version contains malicious code (OSV `MAL-*`, ossf/malicious-packages).
    Malicious,
    /// The package version has a vulnerability.
    Vulnerability,
    /// The version is on a list of compromised versions from an incident (indicator feed).
    CompromisedVersion,
}

impl AdvisoryKind {
    /// Stable kebab-case name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malicious => "malicious",
            Self::Vulnerability => "vulnerability",
            Self::CompromisedVersion => "compromised-version",
        }
    }

    /// Inverse of [`Self::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "malicious" => Some(Self::Malicious),
            "vulnerability" => Some(Self::Vulnerability),
            "compromised-version" => Some(Self::CompromisedVersion),
            _ => None,
        }
    }
}

fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One OSV record.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvRecord {
    /// Schema version the record claims (`1.7.4`).
    #[serde(default)]
    pub schema_version: Option<String>,
    /// The advisory id.
    pub id: AdvisoryId,
    /// RFC 3339 time of the last change.
    pub modified: String,
    /// RFC 3339 time of publication.
    #[serde(default)]
    pub published: Option<String>,
    /// RFC 3339 time of withdrawal; a withdrawn advisory never matches.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids of the same advisory.
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<AdvisoryId>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Markdown details.
    #[serde(default)]
    pub details: Option<String>,
    /// Record-level severities.
    #[serde(default, deserialize_with = "nullable")]
    pub severity: Vec<SeverityEntry>,
    /// Affected packages.
    #[serde(default, deserialize_with = "nullable")]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(default, deserialize_with = "nullable")]
    pub references: Vec<Reference>,
    /// Database-specific data (`malicious-packages-origins`, GHSA `severity`).
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// `severity[]` entry: a scoring system and its vector.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector (or label) in that system.
    pub score: String,
}

/// `affected[]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Affected {
    /// The package; required by the schema, optional in practice for withdrawn stubs.
    #[serde(default)]
    pub package: Option<Package>,
    /// Per-package severities.
    #[serde(default, deserialize_with = "nullable")]
    pub severity: Vec<SeverityEntry>,
    /// Version ranges.
    #[serde(default, deserialize_with = "nullable")]
    pub ranges: Vec<OsvRange>,
    /// Explicitly enumerated affected versions.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data.
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// `affected[].package`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Package {
    /// `npm`, `PyPI`, …
    pub ecosystem: String,
    /// Package name as the ecosystem writes it (`@ctrl/tinycolor`).
    pub name: String,
    /// Package URL, if given.
    #[serde(default)]
    pub purl: Option<String>,
}

/// Range type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RangeType {
    /// Semver 2.0 versions.
    #[serde(rename = "SEMVER")]
    Semver,
    /// The ecosystem's own ordering (npm: npm semver).
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    /// Git commits; never used to match npm versions.
    #[serde(rename = "GIT")]
    Git,
    /// A type this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OsvRange {
    /// How to order the event versions.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// Repository of a `GIT` range.
    #[serde(default)]
    pub repo: Option<String>,
    /// The events.
    #[serde(default, deserialize_with = "nullable")]
    pub events: Vec<Event>,
}

/// One range event. Exactly one field is set in a valid record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Event {
    /// The version the vulnerability was introduced in (`"0"`: since the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// First version that is not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Last version known to be affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Upper limit on the range (`"*"`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// `references[]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The link.
    pub url: String,
}

impl OsvRecord {
    /// Parse and validate one OSV JSON document.
    ///
    /// # Errors
    /// [`ErrorKind::Osv`] when the JSON is malformed, too large, or breaks a rule matching
    /// relies on (empty `id` or `modified`, an event with zero or several fields).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(Error::new(
                ErrorKind::Osv,
                format!(
                    "record is {} bytes, more than the {MAX_RECORD_BYTES} allowed",
                    bytes.len()
                ),
            ));
        }
        let record: Self = serde_json::from_slice(bytes).map_err(|error| {
            Error::new(ErrorKind::Osv, format!("not a valid OSV record: {error}"))
                .with_source(error)
        })?;
        record.validate()?;
        Ok(record)
    }

    fn validate(&self) -> Result<(), Error> {
        if self.id.0.trim().is_empty() {
            return Err(Error::new(ErrorKind::Osv, "OSV record has an empty `id`"));
        }
        if self.modified.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::Osv,
                format!("OSV record `{}` has an empty `modified`", self.id),
            ));
        }
        for affected in &self.affected {
            for range in &affected.ranges {
                for event in &range.events {
                    let set = [
                        event.introduced.is_some(),
                        event.fixed.is_some(),
                        event.last_affected.is_some(),
                        event.limit.is_some(),
                    ]
                    .into_iter()
                    .filter(|x| *x)
                    .count();
                    if set != 1 {
                        return Err(Error::new(
                            ErrorKind::Osv,
                            format!(
                                "OSV record `{}` has a range event with {set} fields, expected one",
                                self.id
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Malicious when the id starts with `MAL-` or the record carries
    /// `database_specific.malicious-packages-origins` (ossf/malicious-packages); otherwise a
    /// vulnerability. This is the one place where an id prefix is interpreted.
    pub fn kind(&self) -> AdvisoryKind {
        let origins = self
            .database_specific
            .as_ref()
            .and_then(|value| value.get("malicious-packages-origins"))
            .is_some();
        if self.id.0.starts_with("MAL-") || origins {
            AdvisoryKind::Malicious
        } else {
            AdvisoryKind::Vulnerability
        }
    }

    /// True when the record has been withdrawn.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
    }

    /// The highest numeric score among the record's and its affected entries' CVSS vectors,
    /// with the vector it came from. Vectors that fail to parse are skipped.
    pub fn best_score(&self) -> Option<(f64, String)> {
        self.severity
            .iter()
            .chain(self.affected.iter().flat_map(|a| a.severity.iter()))
            .filter_map(|entry| {
                severity::score(&entry.kind, &entry.score)
                    .ok()
                    .map(|s| (s, entry.score.clone()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The severity level: from the best CVSS score, else from GHSA's
    /// `database_specific.severity` label, else `Critical` for malicious records (installing
    /// malware is a full compromise), else unknown.
    pub fn severity_level(&self) -> Option<SeverityLevel> {
        if let Some((score, _)) = self.best_score() {
            return Some(SeverityLevel::from_score(score));
        }
        let label = self
            .database_specific
            .as_ref()
            .and_then(|value| value.get("severity"))
            .and_then(serde_json::Value::as_str)
            .and_then(SeverityLevel::from_label);
        if label.is_some() {
            return label;
        }
        (self.kind() == AdvisoryKind::Malicious).then_some(SeverityLevel::Critical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/osv-samples"
    );

    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!("{SAMPLES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn parses_real_malicious_reports() {
        let record = OsvRecord::from_json(&sample("npm__@ctrl_tinycolor__MAL-2025-47141.json"))
            .expect("tinycolor");
        assert_eq!(record.id.0, "MAL-2025-47141");
        assert_eq!(
            record.aliases,
            vec![AdvisoryId("GHSA-qjqf-7j6f-82c4".into())]
        );
        assert_eq!(record.kind(), AdvisoryKind::Malicious);
        assert_eq!(record.affected.len(), 1);
        assert_eq!(record.affected[0].ranges.len(), 2);
        assert_eq!(
            record.affected[0].ranges[1].events[1]
                .last_affected
                .as_deref(),
            Some("4.1.2")
        );
        assert_eq!(record.severity_level(), Some(SeverityLevel::Critical));

        let echo =
            OsvRecord::from_json(&sample("npm__02-echo__MAL-2025-191025.json")).expect("echo");
        assert_eq!(echo.affected[0].versions, vec!["0.0.7".to_owned()]);
        assert!(!echo.is_withdrawn());
    }

    #[test]
    fn rejects_the_transient_record_without_id() {
        let error = OsvRecord::from_json(&sample(
            "npm__02-echo__MAL-0000-amazon-inspector-4304d63d618938cc.json",
        ))
        .expect_err("empty id");
        assert!(error.to_string().contains("empty `id`"), "{error}");
    }

    #[test]
    fn kind_from_origins_without_mal_prefix() {
        let json = br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z",
            "database_specific":{"malicious-packages-origins":[]}}"#;
        assert_eq!(
            OsvRecord::from_json(json).expect("x").kind(),
            AdvisoryKind::Malicious
        );
        let json = br#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z"}"#;
        assert_eq!(
            OsvRecord::from_json(json).expect("x").kind(),
            AdvisoryKind::Vulnerability
        );
    }

    #[test]
    fn null_arrays_are_empty_and_unknown_range_types_tolerated() {
        let json = br#"{"id":"GHSA-1","modified":"2024-01-01T00:00:00Z","aliases":null,
            "affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":null,
            "ranges":[{"type":"GIT","repo":"x","events":[{"introduced":"abc"}]},
                      {"type":"WHATEVER","events":[]}]}]}"#;
        let record = OsvRecord::from_json(json).expect("parses");
        assert!(record.aliases.is_empty());
        assert_eq!(record.affected[0].ranges[0].kind, RangeType::Git);
        assert_eq!(record.affected[0].ranges[1].kind, RangeType::Unknown);
    }

    #[test]
    fn rejects_malformed_records() {
        let fail: [&[u8]; 7] = [
            b"",
            b"not json",
            b"[]",
            br#"{"modified":"2024-01-01T00:00:00Z"}"#,
            br#"{"id":"A","modified":""}"#,
            br#"{"id":"A","modified":"x","affected":[{"ranges":[{"type":"SEMVER","events":[{}]}]}]}"#,
            br#"{"id":"A","modified":"x","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}"#,
        ];
        for json in fail {
            let error = OsvRecord::from_json(json).expect_err(&String::from_utf8_lossy(json));
            assert_eq!(error.kind(), ErrorKind::Osv);
        }
        let big = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(OsvRecord::from_json(&big).is_err());
    }

    #[test]
    fn severity_from_vectors_and_labels() {
        let json = br#"{"id":"GHSA-2","modified":"x","severity":[
            {"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"},
            {"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#;
        let record = OsvRecord::from_json(json).expect("parses");
        let (score, vector) = record.best_score().expect("score");
        assert!((score - 9.8).abs() < 1e-9);
        assert!(vector.ends_with("A:H"));
        assert_eq!(record.severity_level(), Some(SeverityLevel::Critical));

        let json = br#"{"id":"GHSA-3","modified":"x","database_specific":{"severity":"MODERATE"}}"#;
        let record = OsvRecord::from_json(json).expect("parses");
        assert_eq!(record.best_score(), None);
        assert_eq!(record.severity_level(), Some(SeverityLevel::Medium));

        let json =
            br#"{"id":"GHSA-4","modified":"x","severity":[{"type":"CVSS_V3","score":"garbage"}]}"#;
        assert_eq!(
            OsvRecord::from_json(json).expect("parses").severity_level(),
            None
        );
    }
}
