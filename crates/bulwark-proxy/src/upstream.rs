//! The registries the gate reads from: per-scope routing, credentials from environment
//! variables, bounded downloads, and errors that never show a token.
//!
//! Requests are blocking (ureq, rustls) and run on tokio's blocking pool. A token is sent as
//! `Authorization: Bearer …` only to its own upstream (ureq drops the header on redirects).

use std::fmt;
use std::io::Read as _;
use std::time::Duration;

use bytes::Bytes;

use crate::config::UpstreamConfig;

/// A secret that never prints.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What went wrong talking to an upstream. Messages name the URL with credentials removed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No upstream is configured for the package's scope and there is no default.
    #[error("no upstream registry for `{name}`")]
    NoUpstream {
        /// The package.
        name: String,
    },
    /// The upstream answered with an unexpected status.
    #[error("`{url}` answered HTTP {status}")]
    Status {
        /// The URL (redacted).
        url: String,
        /// The status code.
        status: u16,
    },
    /// The connection failed or timed out.
    #[error("cannot fetch `{url}`: {message}")]
    Transport {
        /// The URL (redacted).
        url: String,
        /// Why (redacted).
        message: String,
    },
    /// The body was larger than allowed.
    #[error("`{url}` is larger than {limit} bytes")]
    TooLarge {
        /// The URL (redacted).
        url: String,
        /// The limit.
        limit: u64,
    },
    /// A packument's tarball URL points outside its upstream.
    #[error("the tarball URL `{url}` is not on the upstream registry")]
    Foreign {
        /// The URL (redacted).
        url: String,
    },
}

/// One configured upstream.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    scope: Option<String>,
    /// Base URL without a trailing slash.
    base: String,
    /// `scheme://host[:port]`, lower-cased.
    origin: String,
    token: Option<Secret>,
}

/// A packument fetch result.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// A new body and its `ETag`.
    Body { etag: Option<String>, body: Bytes },
    /// The `ETag` sent still matches.
    NotModified,
    /// The upstream does not know the package.
    NotFound,
}

/// All upstreams and the HTTP client.
#[derive(Debug)]
pub(crate) struct Upstreams {
    list: Vec<Upstream>,
    agent: ureq::Agent,
    max_packument_bytes: u64,
    max_tarball_bytes: u64,
}

impl Upstreams {
    /// Resolves tokens from their environment variables (a missing variable is an error
    /// naming the variable, never its value).
    pub(crate) fn new(
        configs: &[UpstreamConfig],
        timeout: Duration,
        max_packument_bytes: u64,
        max_tarball_bytes: u64,
    ) -> Result<Self, crate::ConfigError> {
        let mut list = Vec::new();
        for config in configs {
            let base = config.url.trim_end_matches('/').to_owned();
            let origin = origin_of(&base).ok_or_else(|| crate::ConfigError::BadUpstream {
                url: redact(&base, None),
            })?;
            let token = match &config.token_env {
                Some(var) => {
                    Some(Secret(std::env::var(var).map_err(|_| {
                        crate::ConfigError::MissingToken { var: var.clone() }
                    })?))
                }
                None => None,
            };
            let scope = config.scope.as_ref().map(|s| {
                let s = s.trim_end_matches('/');
                if s.starts_with('@') {
                    s.to_owned()
                } else {
                    format!("@{s}")
                }
            });
            list.push(Upstream {
                scope,
                base,
                origin,
                token,
            });
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(bulwark_http::tls_config())
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("bulwark-gate/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self {
            list,
            agent,
            max_packument_bytes,
            max_tarball_bytes,
        })
    }

    /// The upstream of `name`: the one configured for its scope, else the default.
    pub(crate) fn for_name(&self, name: &str) -> Result<&Upstream, UpstreamError> {
        let scope = name
            .strip_prefix('@')
            .and_then(|_| name.split_once('/'))
            .map(|(s, _)| s);
        self.list
            .iter()
            .find(|u| u.scope.is_some() && u.scope.as_deref() == scope)
            .or_else(|| self.list.iter().find(|u| u.scope.is_none()))
            .ok_or_else(|| UpstreamError::NoUpstream {
                name: name.to_owned(),
            })
    }

    /// Fetches the full packument of `name`, conditionally when `etag` is known.
    pub(crate) fn packument(
        &self,
        name: &str,
        etag: Option<&str>,
    ) -> Result<Fetched, UpstreamError> {
        let upstream = self.for_name(name)?;
        let url = format!(
            "{}/{}",
            upstream.base,
            crate::protocol::packument_path(name)
        );
        let mut request = self.agent.get(&url).header("accept", "application/json");
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        if let Some(token) = &upstream.token {
            request = request.header("authorization", format!("Bearer {}", token.0));
        }
        let response = request.call().map_err(|e| transport(upstream, &url, &e))?;
        match response.status().as_u16() {
            200 => {}
            304 => return Ok(Fetched::NotModified),
            404 => return Ok(Fetched::NotFound),
            status => {
                return Err(UpstreamError::Status {
                    url: redact(&url, upstream.token.as_ref()),
                    status,
                });
            }
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_bounded(upstream, &url, response, self.max_packument_bytes)?;
        Ok(Fetched::Body {
            etag,
            body: body.into(),
        })
    }

    /// Downloads a tarball from `url`, which must be on `name`'s upstream.
    pub(crate) fn tarball(&self, name: &str, url: &str) -> Result<Vec<u8>, UpstreamError> {
        let upstream = self.for_name(name)?;
        if origin_of(url).as_deref() != Some(upstream.origin.as_str()) {
            return Err(UpstreamError::Foreign {
                url: redact(url, upstream.token.as_ref()),
            });
        }
        let mut request = self.agent.get(url);
        if let Some(token) = &upstream.token {
            request = request.header("authorization", format!("Bearer {}", token.0));
        }
        let response = request.call().map_err(|e| transport(upstream, url, &e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(UpstreamError::Status {
                url: redact(url, upstream.token.as_ref()),
                status,
            });
        }
        read_bounded(upstream, url, response, self.max_tarball_bytes)
    }

    /// The upstream base URLs, credentials removed (for logs).
    pub(crate) fn describe(&self) -> Vec<String> {
        self.list
            .iter()
            .map(|u| {
                let auth = if u.token.is_some() { " (token)" } else { "" };
                match &u.scope {
                    Some(scope) => format!("{scope} -> {}{auth}", redact(&u.base, None)),
                    None => format!("* -> {}{auth}", redact(&u.base, None)),
                }
            })
            .collect()
    }
}

fn read_bounded(
    upstream: &Upstream,
    url: &str,
    response: ureq::http::Response<ureq::Body>,
    limit: u64,
) -> Result<Vec<u8>, UpstreamError> {
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(UpstreamError::TooLarge {
            url: redact(url, upstream.token.as_ref()),
            limit,
        });
    }
    let mut bytes =
        Vec::with_capacity(usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0));
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| UpstreamError::Transport {
            url: redact(url, upstream.token.as_ref()),
            message: redact(&error.to_string(), upstream.token.as_ref()),
        })?;
    if bytes.len() as u64 > limit {
        return Err(UpstreamError::TooLarge {
            url: redact(url, upstream.token.as_ref()),
            limit,
        });
    }
    if declared.is_some_and(|length| length != bytes.len() as u64) {
        return Err(UpstreamError::Transport {
            url: redact(url, upstream.token.as_ref()),
            message: "the body ended before its Content-Length".into(),
        });
    }
    Ok(bytes)
}

fn transport(upstream: &Upstream, url: &str, error: &ureq::Error) -> UpstreamError {
    UpstreamError::Transport {
        url: redact(url, upstream.token.as_ref()),
        message: redact(&error.to_string(), upstream.token.as_ref()),
    }
}

/// `text` with URL credentials and the token replaced by `***`.
fn redact(text: &str, token: Option<&Secret>) -> String {
    let mut out = bulwark_advisory::redact_url(text);
    if let Some(token) = token.filter(|t| !t.0.is_empty()) {
        out = out.replace(&token.0, "***");
    }
    out
}

/// `scheme://host[:port]` of an http(s) URL, lower-cased, credentials removed.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(scope: Option<&str>, url: &str) -> UpstreamConfig {
        UpstreamConfig {
            scope: scope.map(str::to_owned),
            url: url.into(),
            token_env: None,
        }
    }

    #[test]
    fn routes_by_scope() {
        let upstreams = Upstreams::new(
            &[
                config(None, "https://registry.npmjs.org/"),
                config(Some("corp"), "https://npm.corp.example/api/"),
            ],
            Duration::from_secs(5),
            1,
            1,
        )
        .unwrap();
        assert_eq!(
            upstreams.for_name("ms").unwrap().base,
            "https://registry.npmjs.org"
        );
        assert_eq!(
            upstreams.for_name("@corp/ui").unwrap().base,
            "https://npm.corp.example/api"
        );
        assert_eq!(
            upstreams.for_name("@types/ms").unwrap().base,
            "https://registry.npmjs.org"
        );
        let only_scoped = Upstreams::new(
            &[config(Some("@corp"), "http://h")],
            Duration::from_secs(5),
            1,
            1,
        )
        .unwrap();
        assert!(matches!(
            only_scoped.for_name("ms"),
            Err(UpstreamError::NoUpstream { .. })
        ));
    }

    #[test]
    fn tokens_come_from_the_environment_and_never_print() {
        let missing = UpstreamConfig {
            scope: None,
            url: "https://r.example".into(),
            token_env: Some("BULWARK_TEST_TOKEN_THAT_IS_NOT_SET".into()),
        };
        let error = Upstreams::new(&[missing], Duration::from_secs(5), 1, 1).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("BULWARK_TEST_TOKEN_THAT_IS_NOT_SET")
        );
        let secret = Secret("npm_s3cr3t".into());
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        assert_eq!(
            redact("https://user:pw@r.example/x?t=npm_s3cr3t", Some(&secret)),
            "https://***@r.example/x?t=***"
        );
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Registry.npmjs.org:443/ms/-/ms-1.tgz").as_deref(),
            Some("https://registry.npmjs.org")
        );
        assert_eq!(
            origin_of("http://u:p@127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("file:///etc/passwd"), None);
        assert_eq!(origin_of("https://"), None);
    }
}
