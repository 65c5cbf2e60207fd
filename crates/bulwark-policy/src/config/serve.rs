//! `[serve]`: settings of the registry gate (`bulwark serve`). Parsed and validated here with
//! spans like the rest of the file; the proxy consumes the plain [`Serve`] struct. Tokens are
//! never written in the file: an upstream names the environment variable that holds one.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the gate listens when `listen` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4873";

/// `[serve]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serve {
    /// Listen address (default [`DEFAULT_LISTEN`]).
    pub listen: SocketAddr,
    /// Where packuments and tarballs are cached, if set.
    pub cache_dir: Option<PathBuf>,
    /// Where the audit log is appended, if set.
    pub audit_log: Option<PathBuf>,
    /// Upstream registries; at most one without `scope` (the default).
    pub upstreams: Vec<Upstream>,
}

/// `[[serve.upstream]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Base URL of the registry (`https://registry.npmjs.org`), without a trailing slash.
    pub url: String,
    /// `@scope` whose packages go to this upstream; `None` for the default upstream.
    pub scope: Option<String>,
    /// Name of the environment variable that holds the token, never the token itself.
    pub token_env: Option<String>,
}

impl Upstream {
    /// The token, read from [`Upstream::token_env`] now.
    #[must_use]
    pub fn token(&self) -> Option<String> {
        self.token_env
            .as_deref()
            .and_then(|name| std::env::var(name).ok())
            .filter(|token| !token.is_empty())
    }
}

impl Serve {
    /// The upstream for `package` (its scope's, else the default one).
    #[must_use]
    pub fn upstream_for(&self, package: &str) -> Option<&Upstream> {
        let scope = package
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('/'))
            .map(|(scope, _)| scope);
        self.upstreams
            .iter()
            .find(|upstream| {
                upstream
                    .scope
                    .as_deref()
                    .is_some_and(|s| Some(&s[1..]) == scope)
            })
            .or_else(|| self.upstreams.iter().find(|u| u.scope.is_none()))
    }
}

/// True for names a shell accepts as an environment variable (`NPM_TOKEN`).
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
