//! Matching inventory packages against advisories and indicators.
//!
//! A [`Matcher`] is built once (from a [`Store`], from the built-in feed alone, or from
//! records in memory) into a hash index from package name to the compiled affected entries
//! and compromised versions of that name. Matching a package is then one hash lookup and,
//! for the rare names that have advisories, an evaluation of their ranges. The budget is
//! 100 ms for 20,000 packages against 200,000 advisories; `benches/matching.rs` measures it
//! (the cost is dominated by cache misses on the name index and by building findings).
//!
//! Versions are parsed once per package. A version that is not npm semver (a git URL, a
//! `file:` path) can still match an explicit `versions` entry with the same text, a
//! compromised-version indicator with the same text, or a whole-package malicious report
//! (`introduced: "0"` and nothing else): such a package is malware whatever its version.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::error::Result;
use crate::feed::{BUILTIN_FEED, CompromisedVersion, IndicatorFeed};
use crate::osv::range::{CompiledAffected, StoredAffected};
use crate::osv::schema::{AdvisoryId, AdvisoryKind, OsvRecord};
use crate::osv::severity::SeverityLevel;
use crate::store::Store;
use crate::version::Version;

/// A package to check: npm name and the version string found in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PackageRef {
    /// npm package name (`@scope/name`).
    pub name: String,
    /// Version as written in the lockfile or `package.json`.
    pub version: String,
}

impl PackageRef {
    /// A package reference.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}

/// One finding: a package version that an advisory or indicator covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The package that matched (as given).
    pub package: PackageRef,
    /// Index of that package in the slice given to [`Matcher::match_packages`], so the
    /// caller can attach locations and dependency paths without a lookup.
    pub package_index: usize,
    /// The advisory id, or `IOC:<campaign>` for an indicator row.
    pub advisory_id: AdvisoryId,
    /// Other ids of the advisory.
    pub aliases: Vec<AdvisoryId>,
    /// Malicious, vulnerability or compromised-version indicator.
    pub kind: AdvisoryKind,
    /// Incident name of an indicator row.
    pub campaign: Option<String>,
    /// Where an indicator row comes from (URL, advisory id, user file).
    pub source: Option<String>,
    /// Qualitative severity (malicious code and compromised versions are `Critical`).
    pub severity: Option<SeverityLevel>,
    /// Numeric CVSS base score, when the advisory has a vector.
    pub score: Option<f64>,
    /// Affected range in human form (`>=4.1.1 <=4.1.2`, `=0.0.7`, `*`).
    pub affected_range: String,
    /// The first fixed version above the matched one, if any.
    pub fixed: Option<String>,
    /// The advisory's summary.
    pub summary: Option<String>,
}

/// Filters for [`Matcher::query`], built fluently (`Query::new().kind(…).min_severity(…)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    kinds: BTreeSet<AdvisoryKind>,
    min_severity: Option<SeverityLevel>,
    package: Option<String>,
}

impl Query {
    /// Everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only findings of `kind` (call several times to allow several kinds).
    #[must_use]
    pub fn kind(mut self, kind: AdvisoryKind) -> Self {
        self.kinds.insert(kind);
        self
    }

    /// Only findings at or above `level`; findings without a severity are dropped.
    #[must_use]
    pub fn min_severity(mut self, level: SeverityLevel) -> Self {
        self.min_severity = Some(level);
        self
    }

    /// Only findings for the package named `name`.
    #[must_use]
    pub fn package(mut self, name: impl Into<String>) -> Self {
        self.package = Some(name.into());
        self
    }

    fn accepts_package(&self, name: &str) -> bool {
        self.package.as_deref().is_none_or(|p| p == name)
    }

    fn accepts(&self, found: &Match) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&found.kind))
            && self
                .min_severity
                .is_none_or(|min| found.severity.is_some_and(|s| s >= min))
    }
}

#[derive(Debug)]
struct AdvisoryMeta {
    id: AdvisoryId,
    aliases: Vec<AdvisoryId>,
    kind: AdvisoryKind,
    severity: Option<SeverityLevel>,
    score: Option<f64>,
    summary: Option<String>,
}

#[derive(Debug)]
struct AffectedEntry {
    advisory: usize,
    compiled: CompiledAffected,
}

#[derive(Debug)]
struct IocEntry {
    version: Option<Version>,
    text: String,
    campaign: Option<String>,
    source: String,
}

/// Everything known about one package name; one hash lookup per inventory package.
#[derive(Debug, Default)]
struct NameEntry {
    affected: Vec<AffectedEntry>,
    iocs: Vec<IocEntry>,
}

/// In-memory index of advisories and compromised versions by package name.
#[derive(Debug, Default)]
pub struct Matcher {
    advisories: Vec<AdvisoryMeta>,
    by_name: HashMap<String, NameEntry>,
    skipped_ranges: usize,
}

impl Matcher {
    /// An empty matcher (add data with [`Self::add_record`] and
    /// [`Self::add_compromised_versions`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A matcher over the built-in indicator feed only: works offline with no database.
    pub fn builtin() -> Self {
        let mut matcher = Self::new();
        matcher.add_compromised_versions(&IndicatorFeed::builtin().versions);
        matcher
    }

    /// A matcher over everything in `store`: npm advisories that are not withdrawn, the
    /// users' compromised-version lists, and the built-in feed of this binary.
    ///
    /// # Errors
    /// On database failure.
    pub fn from_store(store: &Store) -> Result<Self> {
        let mut matcher = Self::new();
        let what = "loading advisories for matching";
        let db = |error| crate::error::Error::database(what, error);
        let mut statement = store
            .conn
            .prepare(
                "SELECT a.id, a.kind, a.aliases, a.severity, a.score, a.summary, f.name, f.ranges
                 FROM affected f JOIN advisories a ON a.id = f.advisory_id
                 WHERE f.ecosystem = 'npm' AND a.withdrawn IS NULL
                 ORDER BY a.id",
            )
            .map_err(db)?;
        let mut rows = statement.query([]).map_err(db)?;
        let mut index_of: HashMap<String, usize> = HashMap::new();
        while let Some(row) = rows.next().map_err(db)? {
            let id: String = row.get(0).map_err(db)?;
            let kind: String = row.get(1).map_err(db)?;
            let kind = AdvisoryKind::from_name(&kind).unwrap_or(AdvisoryKind::Vulnerability);
            let advisory = match index_of.get(&id) {
                Some(index) => *index,
                None => {
                    let aliases: String = row.get(2).map_err(db)?;
                    let severity: Option<String> = row.get(3).map_err(db)?;
                    matcher.advisories.push(AdvisoryMeta {
                        id: AdvisoryId(id.clone()),
                        aliases: serde_json::from_str(&aliases).unwrap_or_default(),
                        kind,
                        severity: severity.as_deref().and_then(SeverityLevel::from_label),
                        score: row.get(4).map_err(db)?,
                        summary: row.get(5).map_err(db)?,
                    });
                    index_of.insert(id, matcher.advisories.len() - 1);
                    matcher.advisories.len() - 1
                }
            };
            let name: String = row.get(6).map_err(db)?;
            let ranges: String = row.get(7).map_err(db)?;
            let stored: StoredAffected = serde_json::from_str(&ranges).unwrap_or_default();
            matcher.add_affected(advisory, name, &stored, kind);
        }
        drop(rows);
        // The binary's own feed, not the store's copy: a read-only or older database may
        // hold a stale one.
        matcher.add_compromised_versions(&IndicatorFeed::builtin().versions);
        matcher.add_compromised_versions(&store.user_compromised_versions()?);
        Ok(matcher)
    }

    /// Add one OSV record (its npm entries); withdrawn records are ignored.
    pub fn add_record(&mut self, record: &OsvRecord) {
        if record.is_withdrawn() {
            return;
        }
        let kind = record.kind();
        self.advisories.push(AdvisoryMeta {
            id: record.id.clone(),
            aliases: record.aliases.clone(),
            kind,
            severity: record.severity_level(),
            score: record.best_score().map(|(score, _)| score),
            summary: record.summary.clone(),
        });
        let advisory = self.advisories.len() - 1;
        for affected in &record.affected {
            let Some(package) = affected.package.as_ref().filter(|p| p.ecosystem == "npm") else {
                continue;
            };
            self.add_affected(
                advisory,
                package.name.clone(),
                &StoredAffected::from_entry(record, affected),
                kind,
            );
        }
    }

    fn add_affected(
        &mut self,
        advisory: usize,
        name: String,
        stored: &StoredAffected,
        kind: AdvisoryKind,
    ) {
        let compiled = stored.compile(kind);
        self.skipped_ranges += compiled.skipped_ranges;
        self.by_name
            .entry(name)
            .or_default()
            .affected
            .push(AffectedEntry { advisory, compiled });
    }

    /// Add compromised-version indicator rows.
    pub fn add_compromised_versions(&mut self, rows: &[CompromisedVersion]) {
        for row in rows {
            let entries = &mut self.by_name.entry(row.package.clone()).or_default().iocs;
            let version = Version::parse(&row.version).ok();
            // The same version from two feeds under the same campaign is one finding.
            if entries
                .iter()
                .any(|e| e.text == row.version && e.campaign == row.campaign)
            {
                continue;
            }
            entries.push(IocEntry {
                version,
                text: row.version.clone(),
                campaign: row.campaign.clone(),
                source: row.source.clone(),
            });
        }
    }

    /// Advisories indexed.
    pub fn advisory_count(&self) -> usize {
        self.advisories.len()
    }

    /// Ranges that could not be evaluated because an event version was not a version.
    pub fn skipped_ranges(&self) -> usize {
        self.skipped_ranges
    }

    /// Every finding for `packages`, in input order, then by kind and id.
    pub fn match_packages(&self, packages: &[PackageRef]) -> Vec<Match> {
        self.query(packages, &Query::new())
    }

    /// The findings for `packages` that `query` accepts.
    pub fn query(&self, packages: &[PackageRef], query: &Query) -> Vec<Match> {
        let mut found = Vec::new();
        for (package_index, package) in packages.iter().enumerate() {
            if !query.accepts_package(&package.name) {
                continue;
            }
            let start = found.len();
            let Some(known) = self.by_name.get(package.name.as_str()) else {
                continue;
            };
            let version = Version::parse(&package.version).ok();
            for entry in &known.affected {
                let hit = match &version {
                    Some(version) => entry.compiled.evaluate(version),
                    None => entry.compiled.evaluate_raw(&package.version).or_else(|| {
                        entry
                            .compiled
                            .ranges
                            .iter()
                            .find(|r| r.is_catch_all())
                            .map(|r| crate::osv::range::RangeHit {
                                range: r.to_string(),
                                fixed: None,
                            })
                    }),
                };
                let Some(hit) = hit else { continue };
                let meta = &self.advisories[entry.advisory];
                if found[start..]
                    .iter()
                    .any(|m: &Match| m.advisory_id == meta.id)
                {
                    continue;
                }
                let candidate = Match {
                    package: package.clone(),
                    package_index,
                    advisory_id: meta.id.clone(),
                    aliases: meta.aliases.clone(),
                    kind: meta.kind,
                    campaign: None,
                    source: None,
                    severity: meta.severity,
                    score: meta.score,
                    affected_range: hit.range,
                    fixed: hit.fixed.map(|f| f.to_string()),
                    summary: meta.summary.clone(),
                };
                if query.accepts(&candidate) {
                    found.push(candidate);
                }
            }
            for ioc in &known.iocs {
                let same = match (&version, &ioc.version) {
                    (Some(a), Some(b)) => a == b,
                    _ => ioc.text == package.version,
                };
                if !same {
                    continue;
                }
                let label = ioc.campaign.as_deref().unwrap_or(BUILTIN_FEED);
                let candidate = Match {
                    package: package.clone(),
                    package_index,
                    advisory_id: AdvisoryId(format!("IOC:{label}")),
                    aliases: Vec::new(),
                    kind: AdvisoryKind::CompromisedVersion,
                    campaign: ioc.campaign.clone(),
                    source: Some(ioc.source.clone()),
                    severity: Some(SeverityLevel::Critical),
                    score: None,
                    affected_range: format!("={}", ioc.text),
                    fixed: None,
                    summary: Some(match &ioc.campaign {
                        Some(campaign) => {
                            format!("Compromised version of {} ({campaign})", package.name)
                        }
                        None => format!("Compromised version of {}", package.name),
                    }),
                };
                if query.accepts(&candidate) {
                    found.push(candidate);
                }
            }
            found[start..].sort_by(|a, b| (a.kind, &a.advisory_id).cmp(&(b.kind, &b.advisory_id)));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> OsvRecord {
        OsvRecord::from_json(json.as_bytes()).expect("record")
    }

    fn matcher() -> Matcher {
        let mut m = Matcher::builtin();
        m.add_record(&record(
            r#"{"id":"GHSA-vuln","modified":"x","aliases":["CVE-1"],"summary":"proto pollution",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
            "affected":[{"package":{"ecosystem":"npm","name":"lib"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"1.4.0"}]}]},
              {"package":{"ecosystem":"PyPI","name":"lib"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ));
        m.add_record(&record(
            r#"{"id":"MAL-1","modified":"x","affected":[{"package":{"ecosystem":"npm","name":"typo-squat"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#,
        ));
        m.add_record(&record(
            r#"{"id":"GHSA-gone","modified":"x","withdrawn":"2024-01-01T00:00:00Z",
              "affected":[{"package":{"ecosystem":"npm","name":"lib"},"versions":["1.1.0"]}]}"#,
        ));
        m
    }

    #[test]
    fn finds_vulnerabilities_malware_and_compromised_versions() {
        let packages = [
            PackageRef::new("lib", "1.2.0"),
            PackageRef::new("typo-squat", "git+https://example.invalid/x.git"),
            PackageRef::new("@ctrl/tinycolor", "4.1.1"),
            PackageRef::new("left-pad", "1.3.0"),
        ];
        let found = matcher().match_packages(&packages);
        let summary: Vec<(&str, &str, AdvisoryKind, &str, Option<&str>)> = found
            .iter()
            .map(|m| {
                (
                    m.package.name.as_str(),
                    m.advisory_id.0.as_str(),
                    m.kind,
                    m.affected_range.as_str(),
                    m.fixed.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary[0],
            (
                "lib",
                "GHSA-vuln",
                AdvisoryKind::Vulnerability,
                ">=1.0.0 <1.4.0",
                Some("1.4.0")
            )
        );
        assert_eq!(
            summary[1],
            ("typo-squat", "MAL-1", AdvisoryKind::Malicious, "*", None)
        );
        assert_eq!(summary[2].0, "@ctrl/tinycolor");
        assert_eq!(summary[2].2, AdvisoryKind::CompromisedVersion);
        assert_eq!(found.len(), 3, "{summary:?}");
        let indices: Vec<usize> = found.iter().map(|m| m.package_index).collect();
        assert_eq!(indices, [0, 1, 2]);
        assert!((found[0].score.expect("score") - 7.5).abs() < 1e-9);
        assert_eq!(found[0].severity, Some(SeverityLevel::High));
        assert_eq!(found[0].aliases, vec![AdvisoryId("CVE-1".into())]);
        assert!(
            found[2]
                .campaign
                .as_deref()
                .is_some_and(|c| c.contains("Shai-Hulud"))
        );
        assert!(found[2].source.is_some());
    }

    #[test]
    fn benign_versions_and_withdrawn_advisories_do_not_match() {
        let packages = [
            PackageRef::new("lib", "0.9.0"),
            PackageRef::new("lib", "1.4.0"),
            PackageRef::new("lib", "1.1.0"),
            PackageRef::new("@ctrl/tinycolor", "4.1.0"),
            PackageRef::new("lib", "not-a-version"),
        ];
        let found = matcher().match_packages(&packages);
        let ids: Vec<(&str, &str)> = found
            .iter()
            .map(|m| (m.package.version.as_str(), m.advisory_id.0.as_str()))
            .collect();
        // 1.1.0 is matched by GHSA-vuln's range only, never by the withdrawn GHSA-gone.
        assert_eq!(ids, [("1.1.0", "GHSA-vuln")]);
    }

    /// `scan` and `hunt` share one matcher across worker threads.
    #[test]
    fn matcher_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Matcher>();
        shareable::<Match>();
    }

    #[test]
    fn query_filters() {
        let packages = [
            PackageRef::new("lib", "1.2.0"),
            PackageRef::new("typo-squat", "1.0.0"),
        ];
        let m = matcher();
        let malicious = m.query(&packages, &Query::new().kind(AdvisoryKind::Malicious));
        assert_eq!(malicious.len(), 1);
        assert_eq!(malicious[0].advisory_id.0, "MAL-1");
        let critical = m.query(
            &packages,
            &Query::new().min_severity(SeverityLevel::Critical),
        );
        assert_eq!(
            critical.len(),
            1,
            "MAL is critical, the 7.5 vulnerability is not"
        );
        let only_lib = m.query(&packages, &Query::new().package("lib"));
        assert_eq!(only_lib.len(), 1);
        assert_eq!(
            m.query(&packages, &Query::new().package("nope")),
            Vec::new()
        );
    }
}
