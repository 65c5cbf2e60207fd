//! The default verdict store: `bulwark-cache`'s SQLite file, keyed by tarball integrity and
//! analysis engine version (a new rule set re-analyses).

use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use bulwark_cache::{Cache, CachedAnalysis, CachedFinding};
use bulwark_types::Integrity;

use crate::store::{StoreError, StoredVerdict, VerdictStore};

/// Verdicts in an SQLite file.
#[derive(Debug)]
pub struct SqliteVerdicts {
    cache: Mutex<Cache>,
    engine: String,
}

impl SqliteVerdicts {
    /// Opens (creating) the verdict database at `path` for analysis engine `engine`.
    ///
    /// # Errors
    /// [`StoreError::Verdicts`] when the file cannot be opened or is not a cache.
    pub fn open(path: &Path, engine: String) -> Result<Self, StoreError> {
        Ok(Self {
            cache: Mutex::new(Cache::open(path)?),
            engine,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl VerdictStore for SqliteVerdicts {
    fn get(&self, integrity: &Integrity) -> Result<Option<StoredVerdict>, StoreError> {
        let cached = self.lock().get(&integrity.to_string(), &self.engine)?;
        Ok(cached.map(|analysis| StoredVerdict {
            verdict: analysis.verdict,
            score: analysis.score,
            rules: analysis.findings.into_iter().map(|f| f.rule_id).collect(),
        }))
    }

    fn put(&self, integrity: &Integrity, verdict: &StoredVerdict) -> Result<(), StoreError> {
        let analysis = CachedAnalysis {
            verdict: verdict.verdict.clone(),
            score: verdict.score,
            findings: verdict
                .rules
                .iter()
                .map(|rule| CachedFinding {
                    rule_id: rule.clone(),
                    severity: String::new(),
                    confidence: String::new(),
                    message: String::new(),
                    file: String::new(),
                    line: 0,
                    column: 0,
                    evidence: String::new(),
                })
                .collect(),
            notes: Vec::new(),
        };
        let key = integrity.to_string();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or_default());
        self.lock()
            .put_many(&self.engine, [(key.as_str(), &analysis)], now)?;
        Ok(())
    }
}

/// The analysis engine version of this build: the crate version and every rule's name,
/// category and documentation.
#[must_use]
pub fn engine_version() -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(bulwark_analysis::rules_identity());
    let digest = hasher.finalize();
    format!("gate-analysis-{}", bulwark_types::hex(&digest[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_round_trip_per_engine() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verdicts.sqlite3");
        let integrity =
            Integrity::from_hex(bulwark_types::Algorithm::Sha1, &"ab".repeat(20)).unwrap();
        let verdict = StoredVerdict {
            verdict: "malicious".into(),
            score: 90,
            rules: vec!["exfiltration-endpoint".into()],
        };
        let store = SqliteVerdicts::open(&path, "e1".into()).unwrap();
        assert_eq!(store.get(&integrity).unwrap(), None);
        store.put(&integrity, &verdict).unwrap();
        assert_eq!(store.get(&integrity).unwrap(), Some(verdict));
        drop(store);
        let other = SqliteVerdicts::open(&path, "e2".into()).unwrap();
        assert_eq!(other.get(&integrity).unwrap(), None);
    }
}
