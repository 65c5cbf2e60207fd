//! Which versions an OSV `affected[]` entry covers, evaluated per the OSV specification.
//!
//! A version is affected when it falls in any `SEMVER`/`ECOSYSTEM` range or equals one of
//! the explicit `versions`. Within one range the events are sorted by version (`introduced:
//! "0"` first) and replayed: `introduced ≤ v` turns "affected" on, `fixed ≤ v` turns it off,
//! `last_affected < v` turns it off. When a range has `limit` events, `v` must also be below
//! one of them (`"*"` is no limit). For npm both range types use npm semver ordering, so
//! pre-releases sort correctly (`1.0.0-rc.1 < 1.0.0`).
//!
//! # The "every version plus a narrow range" rule for malicious reports
//!
//! ossf/malicious-packages merges the reports of several origins. When an early origin said
//! "the whole package" (`introduced: "0"` and nothing else) and a later one narrowed it down
//! (`introduced: 4.1.1, last_affected: 4.1.2` for `@ctrl/tinycolor`), the merged record keeps
//! both ranges, and OSV.dev's export then also enumerates *every* published version in
//! `versions`. Read literally, every benign release would be flagged. So, for malicious
//! records only:
//!
//! * when an entry has at least one **bounded** range (any range other than the bare
//!   `introduced: "0"` catch-all), the bounded ranges win: catch-all ranges are dropped and
//!   so is the `versions` list (it either agrees with the bounded ranges, so nothing is
//!   lost, or it is the enumeration of the stale catch-all);
//! * when an entry has only a catch-all and `versions`, the record's
//!   `malicious-packages-origins` decide (single-entry records only, since origins do not
//!   say which entry they describe): origins with the same `source` and `id` are successive
//!   versions of one report and only the latest counts. If a catch-all was said only by
//!   superseded origins, it is stale: it is dropped, and `versions` is cut down to the
//!   versions the current origins name;
//! * otherwise everything is kept: a bare catch-all means the whole package is malicious
//!   (typosquats, `--hiljson`), and a lone `versions` list is exact evidence. Origins that
//!   say nothing about versions make the provenance unknown, which also keeps everything.
//!
//! Vulnerability records keep standard OSV semantics (the union), since their ranges are
//! curated. The cost of the rule is a possible miss when a later origin lists an extra
//! version outside the bounded range in `versions` only; the benefit is that benign releases
//! of a hijacked popular package are not reported as malware, which would train users to
//! ignore findings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::osv::schema::{AdvisoryKind, Affected, Event, OsvRecord, RangeType};
use crate::version::Version;

/// One event with a parsed version; `None` stands for `introduced: "0"`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
}

impl Bound {
    fn version(&self) -> Option<&Version> {
        match self {
            Self::Introduced(v) => v.as_ref(),
            Self::Fixed(v) | Self::LastAffected(v) => Some(v),
        }
    }
}

/// One `SEMVER`/`ECOSYSTEM` range, parsed and sorted, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRange {
    bounds: Vec<Bound>,
    limits: Vec<Version>,
    /// Human form, rendered once: findings clone it instead of formatting per match.
    label: String,
}

/// Parse an event version leniently: npm semver, or a partial (`1`, `1.2`) padded with
/// zeros, which some databases write. `None` for anything else.
fn event_version(text: &str) -> Option<Version> {
    if let Ok(version) = Version::parse(text) {
        return Some(version);
    }
    let mut parts = text.trim().trim_start_matches(['v', '=']).split('.');
    let major = crate::version::parse_number(parts.next()?)?;
    let minor = parts.next().map_or(Some(0), crate::version::parse_number)?;
    if parts.next().is_some() {
        return None;
    }
    Some(Version::new(major, minor, 0))
}

impl EventRange {
    /// Parse the events of a range. `None` when an event version is not a version: such a
    /// range cannot be evaluated and is reported by [`CompiledAffected::skipped_ranges`].
    pub fn from_events(events: &[Event]) -> Option<Self> {
        let mut bounds = Vec::with_capacity(events.len());
        let mut limits = Vec::new();
        for event in events {
            if let Some(introduced) = &event.introduced {
                let version = if introduced.trim() == "0" {
                    None
                } else {
                    Some(event_version(introduced)?)
                };
                bounds.push(Bound::Introduced(version));
            } else if let Some(fixed) = &event.fixed {
                bounds.push(Bound::Fixed(event_version(fixed)?));
            } else if let Some(last) = &event.last_affected {
                bounds.push(Bound::LastAffected(event_version(last)?));
            } else if let Some(limit) = &event.limit
                && limit.trim() != "*"
            {
                limits.push(event_version(limit)?);
            }
        }
        // Sort by version, "0" first; at equal versions `introduced` comes first so that a
        // `fixed` at the same version closes it.
        bounds.sort_by(|a, b| {
            let rank = |bound: &Bound| u8::from(!matches!(bound, Bound::Introduced(_)));
            match (a.version(), b.version()) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(y),
            }
            .then(rank(a).cmp(&rank(b)))
        });
        let mut range = Self {
            bounds,
            limits,
            label: String::new(),
        };
        range.label = range.render();
        Some(range)
    }

    /// True for the bare catch-all: only `introduced: "0"` events, nothing else.
    pub fn is_catch_all(&self) -> bool {
        self.limits.is_empty() && self.bounds.iter().all(|b| *b == Bound::Introduced(None))
    }

    /// OSV evaluation of one range.
    pub fn contains(&self, version: &Version) -> bool {
        if !self.limits.is_empty() && !self.limits.iter().any(|limit| version < limit) {
            return false;
        }
        let mut affected = false;
        for bound in &self.bounds {
            match bound {
                Bound::Introduced(None) => affected = true,
                Bound::Introduced(Some(introduced)) => {
                    if version >= introduced {
                        affected = true;
                    }
                }
                Bound::Fixed(fixed) => {
                    if version >= fixed {
                        affected = false;
                    }
                }
                Bound::LastAffected(last) => {
                    if version > last {
                        affected = false;
                    }
                }
            }
        }
        affected
    }

    /// The first `fixed` version above `version`, if the range has one.
    pub fn fixed_after(&self, version: &Version) -> Option<&Version> {
        self.bounds.iter().find_map(|bound| match bound {
            Bound::Fixed(fixed) if fixed > version => Some(fixed),
            _ => None,
        })
    }
}

impl fmt::Display for EventRange {
    /// Human form: `>=4.1.1 <=4.1.2`, `<1.2.3`, `*` (every version), several intervals
    /// joined with `||`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl EventRange {
    fn render(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut open: Option<String> = None;
        for bound in &self.bounds {
            match bound {
                Bound::Introduced(version) => {
                    if open.is_none() {
                        open = Some(version.as_ref().map_or(String::new(), |v| format!(">={v}")));
                    }
                }
                Bound::Fixed(version) | Bound::LastAffected(version) => {
                    if let Some(lower) = open.take() {
                        let op = if matches!(bound, Bound::Fixed(_)) {
                            "<"
                        } else {
                            "<="
                        };
                        let upper = format!("{op}{version}");
                        parts.push(if lower.is_empty() {
                            upper
                        } else {
                            format!("{lower} {upper}")
                        });
                    }
                }
            }
        }
        if let Some(lower) = open {
            parts.push(if lower.is_empty() {
                "*".to_owned()
            } else {
                lower
            });
        }
        if !self.limits.is_empty() {
            let limits: Vec<String> = self.limits.iter().map(|l| format!("<{l}")).collect();
            parts = parts
                .into_iter()
                .map(|p| format!("{p} ({})", limits.join(" or ")))
                .collect();
        }
        if parts.is_empty() {
            return "(no version)".to_owned();
        }
        parts.join(" || ")
    }
}

/// The evaluable part of an `affected[]` entry, with the malicious-report rule applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledAffected {
    /// Ranges in effect.
    pub ranges: Vec<EventRange>,
    /// Explicit versions in effect (parsed; unparseable strings are compared textually).
    pub versions: Vec<Version>,
    /// Explicit versions that are not npm semver, matched by exact text.
    pub raw_versions: Vec<String>,
    /// Ranges that could not be evaluated (bad event versions).
    pub skipped_ranges: usize,
    /// True when the malicious-report rule dropped a catch-all range or a `versions` list.
    pub narrowed: bool,
}

/// Serialised form of the evaluable part of an `affected[]` entry, as the store keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAffected {
    /// Events of each `SEMVER`/`ECOSYSTEM` range.
    pub ranges: Vec<Vec<Event>>,
    /// Explicit versions.
    pub versions: Vec<String>,
    /// Provenance from `malicious-packages-origins`: the catch-all range only comes from
    /// origins that a later report of the same source and id replaced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale_catch_all: bool,
    /// With [`Self::stale_catch_all`]: the versions the current origins name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_versions: Option<Vec<String>>,
}

/// What one `malicious-packages-origins` entry says.
struct Origin<'a> {
    key: (&'a str, &'a str),
    time: &'a str,
    catch_all: bool,
    versions: Vec<String>,
}

fn origins(record: &OsvRecord) -> Option<Vec<Origin<'_>>> {
    let list = record
        .database_specific
        .as_ref()?
        .get("malicious-packages-origins")?
        .as_array()?;
    let mut origins = Vec::with_capacity(list.len());
    for origin in list {
        let text = |field: &str| origin.get(field).and_then(serde_json::Value::as_str);
        let ranges = origin.get("ranges").and_then(serde_json::Value::as_array);
        let versions: Vec<String> = origin
            .get("versions")
            .and_then(serde_json::Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let catch_all = ranges.is_some_and(|ranges| {
            ranges.iter().any(|range| {
                range
                    .get("events")
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|events| {
                        !events.is_empty()
                            && events.iter().all(|e| {
                                e.as_object().is_some_and(|o| {
                                    o.len() == 1
                                        && o.get("introduced").and_then(|v| v.as_str()) == Some("0")
                                })
                            })
                    })
            })
        });
        if ranges.is_none_or(|r| r.is_empty()) && versions.is_empty() {
            // An origin that says nothing about versions: provenance is incomplete.
            return None;
        }
        origins.push(Origin {
            key: (text("source").unwrap_or(""), text("id").unwrap_or("")),
            time: text("modified_time")
                .or_else(|| text("import_time"))
                .unwrap_or(""),
            catch_all,
            versions,
        });
    }
    Some(origins)
}

impl StoredAffected {
    /// Keep the `SEMVER`/`ECOSYSTEM` ranges and the versions of an entry.
    pub fn from_affected(affected: &Affected) -> Self {
        Self {
            ranges: affected
                .ranges
                .iter()
                .filter(|r| matches!(r.kind, RangeType::Semver | RangeType::Ecosystem))
                .map(|r| r.events.clone())
                .collect(),
            versions: affected.versions.clone(),
            ..Self::default()
        }
    }

    /// [`Self::from_affected`] plus the provenance of a catch-all range, read from
    /// `malicious-packages-origins` when the record has a single `affected` entry (the
    /// origins do not say which entry they describe otherwise).
    ///
    /// Origins with the same source and id are successive versions of one report; only the
    /// latest counts. When no latest origin has a catch-all but a superseded one did, the
    /// record's catch-all is stale.
    pub fn from_entry(record: &OsvRecord, affected: &Affected) -> Self {
        let mut stored = Self::from_affected(affected);
        if record.affected.len() != 1 {
            return stored;
        }
        let Some(origins) = origins(record) else {
            return stored;
        };
        let mut latest: Vec<&Origin<'_>> = Vec::new();
        for origin in &origins {
            match latest.iter_mut().find(|o| o.key == origin.key) {
                Some(current) if current.time < origin.time => *current = origin,
                Some(_) => {}
                None => latest.push(origin),
            }
        }
        let superseded_catch_all = origins.iter().any(|o| o.catch_all);
        if superseded_catch_all && !latest.iter().any(|o| o.catch_all) {
            stored.stale_catch_all = true;
            let named: Vec<String> = latest
                .iter()
                .flat_map(|o| o.versions.iter().cloned())
                .collect();
            stored.origin_versions = (!named.is_empty()).then_some(named);
        }
        stored
    }

    /// Parse, then apply the malicious-report rule of this module for `kind`.
    pub fn compile(&self, kind: AdvisoryKind) -> CompiledAffected {
        let mut ranges = Vec::with_capacity(self.ranges.len());
        let mut skipped_ranges = 0;
        for events in &self.ranges {
            match EventRange::from_events(events) {
                Some(range) => ranges.push(range),
                None => skipped_ranges += 1,
            }
        }
        let mut versions = Vec::new();
        let mut raw_versions = Vec::new();
        for text in &self.versions {
            match Version::parse(text) {
                Ok(version) => versions.push(version),
                Err(_) => raw_versions.push(text.clone()),
            }
        }
        let mut narrowed = false;
        if kind == AdvisoryKind::Malicious
            && self.stale_catch_all
            && ranges.iter().all(EventRange::is_catch_all)
        {
            // Rule 2: the catch-all came only from superseded origins. Drop it, and keep
            // only the explicit versions that the current origins name (the list may be
            // OSV.dev's enumeration of the stale catch-all).
            narrowed = !ranges.is_empty();
            ranges.clear();
            if let Some(named) = &self.origin_versions {
                let named: Vec<Version> = named
                    .iter()
                    .filter_map(|v| Version::parse(v).ok())
                    .collect();
                let before = versions.len() + raw_versions.len();
                versions.retain(|v| named.contains(v));
                raw_versions.retain(|raw| {
                    self.origin_versions
                        .as_ref()
                        .is_some_and(|n| n.contains(raw))
                });
                narrowed |= versions.len() + raw_versions.len() != before;
            }
        }
        if kind == AdvisoryKind::Malicious && ranges.iter().any(|r| !r.is_catch_all()) {
            let before = ranges.len();
            ranges.retain(|r| !r.is_catch_all());
            narrowed = ranges.len() != before || !versions.is_empty() || !raw_versions.is_empty();
            versions.clear();
            raw_versions.clear();
        }
        CompiledAffected {
            ranges,
            versions,
            raw_versions,
            skipped_ranges,
            narrowed,
        }
    }
}

/// Why a version matched an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeHit {
    /// The affected range in human form (`>=4.1.1 <=4.1.2`, `=0.0.7`).
    pub range: String,
    /// The first fixed version above the matched one, if any.
    pub fixed: Option<Version>,
}

impl CompiledAffected {
    /// Evaluate `version`; `raw` is its text for non-semver explicit versions.
    pub fn evaluate(&self, version: &Version) -> Option<RangeHit> {
        if let Some(range) = self.ranges.iter().find(|r| r.contains(version)) {
            return Some(RangeHit {
                range: range.label.clone(),
                fixed: range.fixed_after(version).cloned(),
            });
        }
        self.versions
            .iter()
            .find(|v| *v == version)
            .map(|v| RangeHit {
                range: format!("={v}"),
                fixed: None,
            })
    }

    /// Evaluate a version string that is not npm semver: only exact `versions` entries can
    /// match it.
    pub fn evaluate_raw(&self, text: &str) -> Option<RangeHit> {
        self.raw_versions
            .iter()
            .find(|v| *v == text)
            .map(|v| RangeHit {
                range: format!("={v}"),
                fixed: None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::schema::OsvRecord;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn events(spec: &[(&str, &str)]) -> Vec<Event> {
        spec.iter()
            .map(|(kind, version)| {
                let version = Some((*version).to_owned());
                match *kind {
                    "introduced" => Event {
                        introduced: version,
                        ..Event::default()
                    },
                    "fixed" => Event {
                        fixed: version,
                        ..Event::default()
                    },
                    "last_affected" => Event {
                        last_affected: version,
                        ..Event::default()
                    },
                    _ => Event {
                        limit: version,
                        ..Event::default()
                    },
                }
            })
            .collect()
    }

    fn range(spec: &[(&str, &str)]) -> EventRange {
        EventRange::from_events(&events(spec)).expect("valid range")
    }

    #[test]
    fn introduced_fixed() {
        let r = range(&[("introduced", "1.0.0"), ("fixed", "1.2.3")]);
        for yes in ["1.0.0", "1.1.0", "1.2.2", "1.2.3-rc.1"] {
            assert!(r.contains(&v(yes)), "{yes}");
        }
        for no in ["0.9.9", "1.0.0-beta", "1.2.3", "2.0.0"] {
            assert!(!r.contains(&v(no)), "{no}");
        }
        assert_eq!(r.to_string(), ">=1.0.0 <1.2.3");
        assert_eq!(r.fixed_after(&v("1.1.0")), Some(&v("1.2.3")));
    }

    #[test]
    fn zero_last_affected_and_multiple_intervals() {
        let r = range(&[
            ("introduced", "0"),
            ("fixed", "1.0.1"),
            ("introduced", "2.0.0"),
            ("last_affected", "2.1.0"),
        ]);
        for yes in ["0.0.0", "0.1.0-alpha", "1.0.0", "2.0.0", "2.1.0"] {
            assert!(r.contains(&v(yes)), "{yes}");
        }
        for no in ["1.0.1", "1.5.0", "2.1.1", "3.0.0"] {
            assert!(!r.contains(&v(no)), "{no}");
        }
        assert_eq!(r.to_string(), "<1.0.1 || >=2.0.0 <=2.1.0");
    }

    #[test]
    fn unsorted_events_are_sorted_first() {
        let r = range(&[("fixed", "2.0.0"), ("introduced", "1.0.0")]);
        assert!(r.contains(&v("1.5.0")));
        assert!(!r.contains(&v("2.0.0")));
    }

    #[test]
    fn limit_events() {
        let r = range(&[("introduced", "0"), ("limit", "3.0.0")]);
        assert!(r.contains(&v("2.9.9")));
        assert!(!r.contains(&v("3.0.0")));
        let star = range(&[("introduced", "1.0.0"), ("limit", "*")]);
        assert!(star.contains(&v("99.0.0")));
        assert!(!star.contains(&v("0.9.0")));
    }

    #[test]
    fn bad_event_versions_make_the_range_unusable_but_partials_are_padded() {
        assert!(EventRange::from_events(&events(&[("introduced", "banana")])).is_none());
        let padded = range(&[("introduced", "1.2"), ("fixed", "2")]);
        assert!(padded.contains(&v("1.2.0")));
        assert!(!padded.contains(&v("2.0.0")));
    }

    fn compiled(path: &str) -> (OsvRecord, CompiledAffected) {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpora/osv-samples"
        );
        let bytes = std::fs::read(format!("{dir}/{path}")).expect("sample");
        let record = OsvRecord::from_json(&bytes).expect("record");
        let compiled =
            StoredAffected::from_entry(&record, &record.affected[0]).compile(record.kind());
        (record, compiled)
    }

    /// The `@ctrl/tinycolor` report carries a stale catch-all next to the narrow range:
    /// benign versions must not be flagged.
    #[test]
    fn tinycolor_benign_versions_are_not_flagged() {
        let (_, c) = compiled("npm__@ctrl_tinycolor__MAL-2025-47141.json");
        assert!(c.narrowed);
        for bad in ["4.1.1", "4.1.2"] {
            let hit = c
                .evaluate(&v(bad))
                .unwrap_or_else(|| panic!("{bad} must match"));
            assert_eq!(hit.range, ">=4.1.1 <=4.1.2");
        }
        for benign in ["4.1.0", "4.1.3", "4.0.0", "3.6.0", "1.0.0", "4.1.1-beta.1"] {
            assert!(c.evaluate(&v(benign)).is_none(), "{benign} is benign");
        }
    }

    /// The same rule with OSV.dev's enumeration of every version in `versions`.
    #[test]
    fn enumerated_versions_do_not_override_the_narrow_range() {
        let mut stored = StoredAffected {
            ranges: vec![
                events(&[("introduced", "0")]),
                events(&[("introduced", "4.1.1"), ("last_affected", "4.1.2")]),
            ],
            versions: ["3.0.0", "4.0.0", "4.1.0", "4.1.1", "4.1.2", "4.1.3"]
                .map(String::from)
                .to_vec(),
            ..StoredAffected::default()
        };
        let c = stored.compile(AdvisoryKind::Malicious);
        assert!(c.evaluate(&v("4.1.0")).is_none());
        assert!(c.evaluate(&v("4.1.2")).is_some());
        // A vulnerability keeps the OSV union semantics.
        let c = stored.compile(AdvisoryKind::Vulnerability);
        assert!(c.evaluate(&v("4.1.0")).is_some());
        // Without a bounded range, the versions list alone decides.
        stored.ranges.clear();
        let c = stored.compile(AdvisoryKind::Malicious);
        assert!(!c.narrowed);
        assert!(c.evaluate(&v("4.1.3")).is_some());
        assert!(c.evaluate(&v("5.0.0")).is_none());
    }

    #[test]
    fn whole_package_malicious_flags_everything() {
        let (_, c) = compiled("npm__--hiljson__MAL-2022-2.json");
        assert!(!c.narrowed);
        for any in ["0.0.1", "1.0.0", "99.1.0-rc.1"] {
            let hit = c.evaluate(&v(any)).expect("whole package");
            assert_eq!(hit.range, "*");
        }
    }

    #[test]
    fn explicit_versions_only() {
        let (_, c) = compiled("npm__02-echo__MAL-2025-191025.json");
        assert_eq!(
            c.evaluate(&v("0.0.7")).map(|h| h.range),
            Some("=0.0.7".to_owned())
        );
        for benign in ["0.0.6", "0.0.8", "0.0.7-beta"] {
            assert!(c.evaluate(&v(benign)).is_none(), "{benign}");
        }
        let raw = StoredAffected {
            ranges: vec![],
            versions: vec!["2024.1".into()],
            ..StoredAffected::default()
        }
        .compile(AdvisoryKind::Vulnerability);
        assert!(raw.evaluate_raw("2024.1").is_some());
        assert!(raw.evaluate_raw("2024.2").is_none());
    }

    /// A record whose `affected` kept only a catch-all plus OSV.dev's enumeration of
    /// every version, with origins saying the catch-all report was superseded.
    fn with_origins(second_source: &str, second_id: &str, second: &str) -> OsvRecord {
        let json = format!(
            r#"{{"id":"MAL-9","modified":"x","affected":[{{"package":{{"ecosystem":"npm","name":"p"}},
            "ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}}]}}],
            "versions":["1.0.0","1.0.1","1.1.0"]}}],
            "database_specific":{{"malicious-packages-origins":[
              {{"source":"ghsa-malware","id":"GHSA-1","modified_time":"2025-01-01T00:00:00Z",
                "ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}}]}}]}},
              {{"source":"{second_source}","id":"{second_id}","modified_time":"2025-01-02T00:00:00Z",
                {second}}}]}}}}"#
        );
        OsvRecord::from_json(json.as_bytes()).expect("record")
    }

    fn compile_record(record: &OsvRecord) -> CompiledAffected {
        StoredAffected::from_entry(record, &record.affected[0]).compile(record.kind())
    }

    #[test]
    fn superseded_catch_all_is_dropped_using_origins() {
        let c = compile_record(&with_origins(
            "ghsa-malware",
            "GHSA-1",
            r#""versions":["1.0.1"]"#,
        ));
        assert!(c.narrowed);
        assert!(c.evaluate(&v("1.0.1")).is_some());
        for benign in ["1.0.0", "1.1.0", "2.0.0"] {
            assert!(c.evaluate(&v(benign)).is_none(), "{benign}");
        }
    }

    #[test]
    fn catch_all_from_a_current_origin_is_kept() {
        // A different source still says "every version": the whole package stays flagged.
        let c = compile_record(&with_origins(
            "amazon-inspector",
            "",
            r#""versions":["1.0.1"]"#,
        ));
        assert!(!c.narrowed);
        for any in ["1.0.0", "1.0.1", "7.0.0"] {
            assert!(c.evaluate(&v(any)).is_some(), "{any}");
        }
        // An origin that names no version makes the provenance incomplete: keep everything.
        let c = compile_record(&with_origins("ghsa-malware", "GHSA-1", r#""note":"none""#));
        assert!(c.evaluate(&v("7.0.0")).is_some());
        // Origins cannot be attributed when the record has several entries.
        let mut record = with_origins("ghsa-malware", "GHSA-1", r#""versions":["1.0.1"]"#);
        record.affected.push(record.affected[0].clone());
        assert!(compile_record(&record).evaluate(&v("7.0.0")).is_some());
        // Vulnerability records never use this rule.
        let record = with_origins("ghsa-malware", "GHSA-1", r#""versions":["1.0.1"]"#);
        let stored = StoredAffected::from_entry(&record, &record.affected[0]);
        assert!(
            stored
                .compile(AdvisoryKind::Vulnerability)
                .evaluate(&v("7.0.0"))
                .is_some()
        );
    }
}
