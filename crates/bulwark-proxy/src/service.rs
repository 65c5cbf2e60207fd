//! The gate itself: packuments and tarballs through the decisions, the caches and the
//! upstreams.
//!
//! * **Packuments** are fetched from the upstream (full form, for the `time` map), stored on
//!   disk for `--offline` and outages, decided version by version and kept in memory for
//!   `metadata_ttl`; after that they are revalidated with `If-None-Match`. When the upstream
//!   fails, the last good copy is served.
//! * **Versions not yet analysed** are listed. The first request for a tarball downloads it,
//!   checks its integrity against the upstream packument, analyses it and stores the verdict;
//!   a malicious verdict answers that request with 403 and removes the version from every
//!   packument served afterwards.
//! * **Tarballs** are stored content-addressed only after their integrity matched, so a
//!   truncated, slow or tampered download never leaves an entry.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bulwark_advisory::Matcher;
use bulwark_types::Integrity;
use bytes::Bytes;

use crate::config::{ConfigError, ProxyConfig};
use crate::gate::{BlockReason, Decision, VersionPolicy};
use crate::metrics::Metrics;
use crate::packument::{Gated, Rendered};
use crate::store::{
    AuditRecord, AuditSink, BlobStore, PackumentStore, StoredPackument, StoredVerdict, VerdictStore,
};
use crate::upstream::{Fetched, UpstreamError, Upstreams};

/// The stores the gate keeps its state in (see [`crate::store`]).
#[derive(Clone)]
pub struct Stores {
    /// Tarballs by integrity.
    pub blobs: Arc<dyn BlobStore>,
    /// Last upstream packuments.
    pub packuments: Arc<dyn PackumentStore>,
    /// Analysis verdicts by integrity.
    pub verdicts: Arc<dyn VerdictStore>,
    /// Decisions.
    pub audit: Arc<dyn AuditSink>,
}

impl Stores {
    /// The default: tarballs and packuments under `cache_dir`, verdicts in
    /// `cache_dir/verdicts.sqlite3`, the audit log in `audit_log` (if any).
    ///
    /// # Errors
    /// [`crate::StoreError`] when a directory or file cannot be opened.
    pub fn local(
        cache_dir: &std::path::Path,
        audit_log: Option<&std::path::Path>,
        engine: String,
    ) -> Result<Self, crate::StoreError> {
        let disk = Arc::new(crate::disk::LocalDisk::open(cache_dir)?);
        let verdicts = Arc::new(crate::verdicts::SqliteVerdicts::open(
            &cache_dir.join("verdicts.sqlite3"),
            engine,
        )?);
        let audit: Arc<dyn AuditSink> = match audit_log {
            Some(path) => Arc::new(crate::audit::JsonLinesAudit::open(path)?),
            None => Arc::new(crate::store::NoAudit),
        };
        Ok(Self {
            blobs: disk.clone(),
            packuments: disk,
            verdicts,
            audit,
        })
    }
}

/// A version the gate refused, for the summary of `bulwark run`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockedVersion {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Why.
    pub reason: BlockReason,
    /// `tarball` when a download was refused, `packument` when the version was only left out
    /// of a packument.
    pub request: &'static str,
}

/// A failed request, as the client sees it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) message: String,
    /// The HTTP reason phrase: pnpm, yarn 1 and yarn 4 print it, not the body.
    pub(crate) phrase: Option<String>,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            phrase: None,
        }
    }

    fn blocked(name: &str, version: &str, reason: &BlockReason) -> Self {
        Self {
            status: 403,
            message: format!("bulwark: {name}@{version} is blocked: {reason}"),
            phrase: Some(format!("Forbidden by bulwark: {}", reason.code())),
        }
    }
}

struct Entry {
    gated: Gated,
    upstream_etag: Option<String>,
    checked: Instant,
}

/// Packuments in memory, least recently used evicted first.
struct Memory {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (Arc<Entry>, u64)>,
}

impl Memory {
    fn get(&mut self, name: &str) -> Option<Arc<Entry>> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(name).map(|(entry, used)| {
            *used = tick;
            Arc::clone(entry)
        })
    }

    fn insert(&mut self, name: String, entry: Arc<Entry>) {
        self.tick += 1;
        if self.entries.len() >= self.capacity.max(1) && !self.entries.contains_key(&name) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(name, (entry, self.tick));
    }

    fn remove(&mut self, name: &str) {
        self.entries.remove(name);
    }
}

/// The registry gate.
pub struct Gate {
    config: ProxyConfig,
    upstreams: Upstreams,
    policy: Arc<dyn VersionPolicy>,
    matcher: Arc<Matcher>,
    stores: Stores,
    metrics: Metrics,
    memory: Mutex<Memory>,
    packument_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    tarball_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    analysis_slots: tokio::sync::Semaphore,
    blocked: Mutex<BTreeSet<BlockedVersion>>,
    /// Verdicts already read or computed (a verdict never changes for its integrity).
    verdict_memo: Mutex<HashMap<Integrity, StoredVerdict>>,
    /// Recently served tarballs (verified when read from the store), oldest evicted first.
    hot_blobs: Mutex<HotBlobs>,
}

/// Bytes of tarballs kept in memory at most.
const HOT_BLOB_BYTES: usize = 64 << 20;

/// A byte-bounded FIFO of tarballs by integrity.
#[derive(Default)]
struct HotBlobs {
    bytes: usize,
    order: std::collections::VecDeque<Integrity>,
    blobs: HashMap<Integrity, Bytes>,
}

impl HotBlobs {
    fn get(&self, integrity: &Integrity) -> Option<Bytes> {
        self.blobs.get(integrity).cloned()
    }

    fn insert(&mut self, integrity: Integrity, bytes: Bytes) {
        if bytes.len() > HOT_BLOB_BYTES / 8 || self.blobs.contains_key(&integrity) {
            return;
        }
        while self.bytes + bytes.len() > HOT_BLOB_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.blobs.remove(&oldest) {
                self.bytes -= evicted.len();
            }
        }
        self.bytes += bytes.len();
        self.order.push_back(integrity.clone());
        self.blobs.insert(integrity, bytes);
    }
}

/// Most refused versions kept for [`Gate::blocked`].
const MAX_BLOCKED_KEPT: usize = 10_000;

/// Most verdicts kept in memory; the memo is emptied when full.
const VERDICT_MEMO_ENTRIES: usize = 65_536;

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("upstreams", &self.upstreams)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate with the default local stores under `config.cache_dir`.
    ///
    /// # Errors
    /// [`ConfigError`] for a bad upstream, an unset token variable or an unusable cache.
    pub fn open(
        config: ProxyConfig,
        policy: Arc<dyn VersionPolicy>,
        matcher: Arc<Matcher>,
    ) -> Result<Self, ConfigError> {
        let stores = Stores::local(
            &config.cache_dir,
            config.audit_log.as_deref(),
            crate::verdicts::engine_version(),
        )?;
        Self::with_stores(config, policy, matcher, stores)
    }

    /// A gate over the given stores.
    ///
    /// # Errors
    /// [`ConfigError`] for a bad upstream or an unset token variable.
    pub fn with_stores(
        config: ProxyConfig,
        policy: Arc<dyn VersionPolicy>,
        matcher: Arc<Matcher>,
        stores: Stores,
    ) -> Result<Self, ConfigError> {
        let upstreams = Upstreams::new(
            &config.upstreams,
            config.upstream_timeout,
            config.max_packument_bytes,
            config.max_tarball_bytes,
        )?;
        Ok(Self {
            memory: Mutex::new(Memory {
                capacity: config.packument_cache_entries,
                tick: 0,
                entries: HashMap::new(),
            }),
            analysis_slots: tokio::sync::Semaphore::new(config.analysis_concurrency.max(1)),
            config,
            upstreams,
            policy,
            matcher,
            stores,
            metrics: Metrics::default(),
            packument_locks: Mutex::new(HashMap::new()),
            tarball_locks: Mutex::new(HashMap::new()),
            blocked: Mutex::new(BTreeSet::new()),
            verdict_memo: Mutex::new(HashMap::new()),
            hot_blobs: Mutex::new(HotBlobs::default()),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// The upstreams, credentials removed, for a start-up line.
    #[must_use]
    pub fn describe_upstreams(&self) -> Vec<String> {
        self.upstreams.describe()
    }

    /// The counters.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The versions refused so far (removed from a packument or their tarball refused), up
    /// to 10,000.
    #[must_use]
    pub fn blocked(&self) -> Vec<BlockedVersion> {
        lock(&self.blocked).iter().cloned().collect()
    }

    /// Writes out buffered audit records.
    pub fn flush(&self) {
        self.stores.audit.flush();
    }

    fn audit_block(
        &self,
        client: &str,
        name: &str,
        version: &str,
        reason: &BlockReason,
        request: &'static str,
    ) {
        self.metrics.block(reason.code());
        let mut record = AuditRecord::now(client.to_owned(), name, version, request);
        record.decision = "block";
        reason.code().clone_into(&mut record.reason);
        record.detail = reason.to_string();
        self.stores.audit.record(record);
        let mut blocked = lock(&self.blocked);
        // A long-running gate keeps the first ones; the audit log has them all.
        if blocked.len() < MAX_BLOCKED_KEPT {
            blocked.insert(BlockedVersion {
                name: name.to_owned(),
                version: version.to_owned(),
                reason: reason.clone(),
                request,
            });
        }
    }

    /// The gated packument of `name`, rendered for `origin`.
    pub(crate) async fn packument(
        self: &Arc<Self>,
        name: &str,
        origin: &str,
        abbreviated: bool,
        client: &str,
    ) -> Result<Arc<Rendered>, Refusal> {
        let entry = self.entry(name, client).await?;
        if let Some(rendered) = entry.gated.memoised(origin, abbreviated) {
            return Ok(rendered);
        }
        let gate = Arc::clone(self);
        let origin = origin.to_owned();
        // A first render of a big packument is CPU work; memoised renders return at once.
        tokio::task::spawn_blocking(move || {
            let _ = &gate;
            entry.gated.render(&origin, abbreviated)
        })
        .await
        .map_err(|_| Refusal::new(500, "the packument could not be rendered"))
    }

    async fn entry(self: &Arc<Self>, name: &str, client: &str) -> Result<Arc<Entry>, Refusal> {
        let fresh = |entry: &Arc<Entry>| {
            self.config.offline || entry.checked.elapsed() < self.config.metadata_ttl
        };
        if let Some(entry) = lock(&self.memory).get(name).filter(fresh) {
            self.metrics.packument_cache(true);
            return Ok(entry);
        }
        let key_lock = keyed_lock(&self.packument_locks, name);
        let _guard = key_lock.lock().await;
        let previous = lock(&self.memory).get(name);
        if let Some(entry) = previous.clone().filter(fresh) {
            self.metrics.packument_cache(true);
            return Ok(entry);
        }
        self.metrics.packument_cache(false);
        let result = self.load_entry(name, previous, client).await;
        drop(_guard);
        lock(&self.packument_locks).remove(name);
        result
    }

    async fn load_entry(
        self: &Arc<Self>,
        name: &str,
        previous: Option<Arc<Entry>>,
        client: &str,
    ) -> Result<Arc<Entry>, Refusal> {
        let gate = Arc::clone(self);
        let owned = name.to_owned();
        let client = client.to_owned();
        let entry = tokio::task::spawn_blocking(move || {
            gate.load_entry_blocking(&owned, previous, &client)
        })
        .await
        .map_err(|_| Refusal::new(500, "internal error while loading the packument"))??;
        let entry = Arc::new(entry);
        lock(&self.memory).insert(name.to_owned(), Arc::clone(&entry));
        Ok(entry)
    }

    fn load_entry_blocking(
        &self,
        name: &str,
        previous: Option<Arc<Entry>>,
        client: &str,
    ) -> Result<Entry, Refusal> {
        let stored = || self.stores.packuments.get(name).ok().flatten();
        let (raw, etag) = if self.config.offline {
            let stored = stored().ok_or_else(|| {
                Refusal::new(404, format!("`{name}` is not in the offline cache"))
            })?;
            (stored.body, stored.etag)
        } else {
            let known = previous
                .as_ref()
                .map(|e| (e.gated.raw().clone(), e.upstream_etag.clone()))
                .or_else(|| stored().map(|s| (s.body, s.etag)));
            let etag = known.as_ref().and_then(|(_, etag)| etag.as_deref());
            match self.upstreams.packument(name, etag) {
                Ok(Fetched::Body { etag, body }) => {
                    let _ = self.stores.packuments.put(
                        name,
                        &StoredPackument {
                            etag: etag.clone(),
                            body: body.clone(),
                        },
                    );
                    (body, etag)
                }
                Ok(Fetched::NotModified) => match known {
                    Some(known) => known,
                    None => {
                        return Err(Refusal::new(
                            502,
                            format!("the upstream answered 304 for `{name}` without a known copy"),
                        ));
                    }
                },
                Ok(Fetched::NotFound) => {
                    return Err(Refusal::new(
                        404,
                        format!("`{name}` is not in the upstream registry"),
                    ));
                }
                Err(error) => {
                    self.metrics.upstream_error();
                    match known {
                        // Stale is better than nothing: the decisions are made again below.
                        Some(known) => known,
                        None => return Err(upstream_refusal(&error)),
                    }
                }
            }
        };
        let now = SystemTime::now();
        let gated = Gated::build(name, raw, |version, integrity, published| {
            self.decide(name, version, integrity, published, now)
        })
        .map_err(|error| Refusal::new(502, error.to_string()))?;
        for (version, reason) in gated.blocked() {
            self.audit_block(client, name, version, reason, "packument");
        }
        Ok(Entry {
            gated,
            upstream_etag: etag,
            checked: Instant::now(),
        })
    }

    fn decide(
        &self,
        name: &str,
        version: &str,
        integrity: Option<&Integrity>,
        published: Option<SystemTime>,
        now: SystemTime,
    ) -> Decision {
        if let Some(reason) = crate::gate::known_bad(&self.matcher, name, version) {
            return Decision::Block(reason);
        }
        if let Decision::Block(reason) = self.policy.check(name, version, published, now) {
            return Decision::Block(reason);
        }
        if let Some(integrity) = integrity
            && let Ok(Some(verdict)) = self.stores.verdicts.get(integrity)
            && let Some(reason) = verdict_block(&verdict)
        {
            return Decision::Block(reason);
        }
        if self.config.offline && !integrity.is_some_and(|i| self.stores.blobs.contains(i)) {
            return Decision::Block(BlockReason::Policy {
                code: "not-cached".into(),
                message: "not in the offline cache".into(),
            });
        }
        Decision::Allow
    }

    /// The tarball `file` of `name`, if the gate lets it through.
    pub(crate) async fn tarball(
        self: &Arc<Self>,
        name: &str,
        file: &str,
        client: &str,
    ) -> Result<(Bytes, Integrity), Refusal> {
        let entry = self.entry(name, client).await?;
        let Some(version) = entry.gated.files.get(file).cloned() else {
            return Err(Refusal::new(
                404,
                format!("`{name}` has no tarball `{file}`"),
            ));
        };
        let info = entry
            .gated
            .versions
            .get(&version)
            .cloned()
            .ok_or_else(|| Refusal::new(404, "unknown version"))?;
        let blocked = |reason: &BlockReason| {
            self.audit_block(client, name, &version, reason, "tarball");
            Refusal::blocked(name, &version, reason)
        };
        if let Decision::Block(reason) = &info.decision {
            return Err(blocked(reason));
        }
        let Some(integrity) = info.integrity.clone() else {
            return Err(Refusal::new(
                502,
                format!(
                    "the upstream packument gives no integrity for {name}@{version}; not served"
                ),
            ));
        };
        let cached = self.blob(&integrity).await?;
        let (bytes, fresh) = match cached {
            Some(bytes) => {
                self.metrics.tarball_cache(true);
                (bytes, false)
            }
            None if self.config.offline => {
                return Err(Refusal::new(
                    503,
                    format!("{name}@{version} is not in the offline cache"),
                ));
            }
            None => {
                let key_lock = keyed_lock(&self.tarball_locks, &integrity.to_string());
                let guard = key_lock.lock().await;
                let result = match self.blob(&integrity).await? {
                    Some(bytes) => {
                        self.metrics.tarball_cache(true);
                        Ok((bytes, false))
                    }
                    None => {
                        self.metrics.tarball_cache(false);
                        self.download(
                            name,
                            &version,
                            info.upstream_tarball.as_deref(),
                            &integrity,
                            client,
                        )
                        .await
                        .map(|bytes| (bytes, true))
                    }
                };
                drop(guard);
                lock(&self.tarball_locks).remove(&integrity.to_string());
                result?
            }
        };
        let verdict = self.verdict(&integrity, &bytes).await?;
        if let Some(reason) = verdict_block(&verdict) {
            // Later packuments leave this version out.
            lock(&self.memory).remove(name);
            return Err(blocked(&reason));
        }
        if fresh {
            let gate = Arc::clone(self);
            let (stored, key) = (bytes.clone(), integrity.clone());
            tokio::task::spawn_blocking(move || gate.stores.blobs.put(&key, &stored))
                .await
                .map_err(|_| Refusal::new(500, "internal error while storing the tarball"))?
                .map_err(|error| Refusal::new(500, format!("cannot store the tarball: {error}")))?;
        }
        let mut record = AuditRecord::now(client.to_owned(), name, &version, "tarball");
        record.reason.clone_from(&verdict.verdict);
        self.stores.audit.record(record);
        Ok((bytes, integrity))
    }

    async fn blob(self: &Arc<Self>, integrity: &Integrity) -> Result<Option<Bytes>, Refusal> {
        if let Some(bytes) = lock(&self.hot_blobs).get(integrity) {
            return Ok(Some(bytes));
        }
        let gate = Arc::clone(self);
        let key = integrity.clone();
        let found = tokio::task::spawn_blocking(move || gate.stores.blobs.get(&key))
            .await
            .map_err(|_| Refusal::new(500, "internal error while reading the cache"))?
            .map_err(|error| Refusal::new(500, format!("cannot read the cache: {error}")))?;
        if let Some(bytes) = &found {
            lock(&self.hot_blobs).insert(integrity.clone(), bytes.clone());
        }
        Ok(found)
    }

    async fn download(
        self: &Arc<Self>,
        name: &str,
        version: &str,
        url: Option<&str>,
        integrity: &Integrity,
        client: &str,
    ) -> Result<Bytes, Refusal> {
        let Some(url) = url else {
            return Err(Refusal::new(
                502,
                format!("the upstream packument gives no tarball URL for {name}@{version}"),
            ));
        };
        let gate = Arc::clone(self);
        let (owned_name, owned_url) = (name.to_owned(), url.to_owned());
        let bytes =
            tokio::task::spawn_blocking(move || gate.upstreams.tarball(&owned_name, &owned_url))
                .await
                .map_err(|_| Refusal::new(500, "internal error while downloading"))?
                .map_err(|error| {
                    self.metrics.upstream_error();
                    upstream_refusal(&error)
                })?;
        if !crate::integrity::matches(integrity, &bytes) {
            self.metrics.upstream_error();
            let reason = BlockReason::Policy {
                code: "integrity-mismatch".into(),
                message: format!(
                    "the upstream tarball does not match the integrity `{integrity}` of its packument"
                ),
            };
            self.audit_block(client, name, version, &reason, "tarball");
            return Err(Refusal::new(
                502,
                format!("bulwark: {name}@{version}: {reason}; not served"),
            ));
        }
        Ok(bytes.into())
    }

    async fn verdict(
        self: &Arc<Self>,
        integrity: &Integrity,
        bytes: &Bytes,
    ) -> Result<StoredVerdict, Refusal> {
        if let Some(known) = lock(&self.verdict_memo).get(integrity) {
            return Ok(known.clone());
        }
        let verdict = self.stored_or_analysed_verdict(integrity, bytes).await?;
        let mut memo = lock(&self.verdict_memo);
        if memo.len() >= VERDICT_MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(integrity.clone(), verdict.clone());
        Ok(verdict)
    }

    async fn stored_or_analysed_verdict(
        self: &Arc<Self>,
        integrity: &Integrity,
        bytes: &Bytes,
    ) -> Result<StoredVerdict, Refusal> {
        let gate = Arc::clone(self);
        let key = integrity.clone();
        let known = tokio::task::spawn_blocking(move || gate.stores.verdicts.get(&key))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        if let Some(known) = known {
            return Ok(known);
        }
        let _slot = self
            .analysis_slots
            .acquire()
            .await
            .map_err(|_| Refusal::new(503, "the gate is shutting down"))?;
        self.metrics.analysis();
        let gate = Arc::clone(self);
        let (key, bytes) = (integrity.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || {
            let options = bulwark_analysis::Options::default();
            let verdict = match bulwark_analysis::analyze_tarball(&bytes, &options) {
                Ok(report) => StoredVerdict {
                    verdict: match report.verdict {
                        bulwark_analysis::Verdict::Malicious => "malicious",
                        bulwark_analysis::Verdict::Suspicious => "suspicious",
                        bulwark_analysis::Verdict::Clean => "clean",
                    }
                    .to_owned(),
                    score: report.score,
                    rules: dedup(report.findings.iter().map(|f| f.rule_id.to_owned())),
                },
                Err(_) => StoredVerdict {
                    verdict: "unreadable".into(),
                    score: 100,
                    rules: Vec::new(),
                },
            };
            let _ = gate.stores.verdicts.put(&key, &verdict);
            verdict
        })
        .await
        .map_err(|_| Refusal::new(500, "internal error while analysing the tarball"))
    }
}

fn dedup(rules: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in rules {
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    out.truncate(8);
    out
}

fn verdict_block(verdict: &StoredVerdict) -> Option<BlockReason> {
    match verdict.verdict.as_str() {
        "malicious" => Some(BlockReason::Malicious {
            rules: verdict.rules.clone(),
        }),
        "unreadable" => Some(BlockReason::Policy {
            code: "unreadable".into(),
            message: "the tarball is not a readable gzip tar archive".into(),
        }),
        _ => None,
    }
}

fn upstream_refusal(error: &UpstreamError) -> Refusal {
    let status = match error {
        UpstreamError::NoUpstream { .. } => 404,
        UpstreamError::Transport { message, .. }
            if message.contains("timeout") || message.contains("timed out") =>
        {
            504
        }
        _ => 502,
    };
    Refusal::new(status, format!("bulwark: upstream error: {error}"))
}

fn keyed_lock(
    locks: &Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    key: &str,
) -> Arc<tokio::sync::Mutex<()>> {
    Arc::clone(lock(locks).entry(key.to_owned()).or_default())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The address a request came from, as written to the audit log.
pub(crate) fn client_label(peer: SocketAddr) -> String {
    peer.ip().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Integrity {
        Integrity {
            algorithm: bulwark_types::Algorithm::Sha1,
            digest: vec![n; 20],
        }
    }

    #[test]
    fn hot_blobs_stay_within_their_byte_budget() {
        let mut hot = HotBlobs::default();
        let chunk = Bytes::from(vec![0u8; HOT_BLOB_BYTES / 8]);
        for n in 0..20 {
            hot.insert(key(n), chunk.clone());
            assert!(hot.bytes <= HOT_BLOB_BYTES);
        }
        assert_eq!(hot.blobs.len(), 8);
        assert!(hot.get(&key(0)).is_none(), "the oldest went first");
        assert!(hot.get(&key(19)).is_some());
        hot.insert(key(99), Bytes::from(vec![0u8; HOT_BLOB_BYTES / 8 + 1]));
        assert!(hot.get(&key(99)).is_none(), "too big to keep");
    }

    #[test]
    fn memory_evicts_the_least_recently_used() {
        let mut memory = Memory {
            capacity: 2,
            tick: 0,
            entries: HashMap::new(),
        };
        let entry = |name: &str| {
            Arc::new(Entry {
                gated: Gated::build(name, Bytes::from_static(b"{}"), |_, _, _| Decision::Allow)
                    .unwrap(),
                upstream_etag: None,
                checked: Instant::now(),
            })
        };
        memory.insert("a".into(), entry("a"));
        memory.insert("b".into(), entry("b"));
        assert!(memory.get("a").is_some());
        memory.insert("c".into(), entry("c"));
        assert!(memory.get("b").is_none());
        assert!(memory.get("a").is_some() && memory.get("c").is_some());
    }
}
