//! What the gate needs to start: where it listens, its upstreams, its cache and its limits.
//! The CLI fills this from flags (and, later, `bulwark.toml`'s `[serve]` table).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4873";

/// The default upstream.
pub const DEFAULT_UPSTREAM: &str = "https://registry.npmjs.org";

/// One upstream registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// `@scope` whose packages come from here; `None` for the default upstream.
    pub scope: Option<String>,
    /// Base URL (`https://registry.npmjs.org`).
    pub url: String,
    /// Name of the environment variable holding a bearer token (never the token itself).
    pub token_env: Option<String>,
}

/// The gate's configuration.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Upstream registries (one without a scope is the default).
    pub upstreams: Vec<UpstreamConfig>,
    /// Cache directory (tarballs, packuments, verdict database).
    pub cache_dir: PathBuf,
    /// Audit log file (JSON lines), if any.
    pub audit_log: Option<PathBuf>,
    /// Serve from the cache only; never contact an upstream.
    pub offline: bool,
    /// How long an upstream packument is used before it is revalidated.
    pub metadata_ttl: Duration,
    /// Time limit of one upstream request.
    pub upstream_timeout: Duration,
    /// Largest packument accepted from an upstream.
    pub max_packument_bytes: u64,
    /// Largest tarball accepted from an upstream.
    pub max_tarball_bytes: u64,
    /// Tarballs analysed at the same time.
    pub analysis_concurrency: usize,
    /// Packages whose gated packuments are kept in memory.
    pub packument_cache_entries: usize,
}

impl ProxyConfig {
    /// Defaults with `cache_dir`: listens on [`DEFAULT_LISTEN`], reads [`DEFAULT_UPSTREAM`].
    #[must_use]
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 4873))),
            upstreams: vec![UpstreamConfig {
                scope: None,
                url: DEFAULT_UPSTREAM.to_owned(),
                token_env: None,
            }],
            cache_dir,
            audit_log: None,
            offline: false,
            metadata_ttl: Duration::from_secs(300),
            upstream_timeout: Duration::from_secs(60),
            max_packument_bytes: 128 * 1024 * 1024,
            max_tarball_bytes: 256 * 1024 * 1024,
            analysis_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            packument_cache_entries: 2048,
        }
    }
}

/// A configuration the gate cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An upstream URL is not http(s).
    #[error("upstream `{url}` is not an http:// or https:// URL")]
    BadUpstream {
        /// The URL (credentials removed).
        url: String,
    },
    /// The token variable of an upstream is not set.
    #[error("the environment variable `{var}` (an upstream token) is not set")]
    MissingToken {
        /// The variable's name.
        var: String,
    },
    /// A store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
