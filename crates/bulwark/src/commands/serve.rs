//! `bulwark serve`: the registry gate on a fixed address, until interrupted.

#![allow(
    clippy::print_stderr,
    reason = "a server reports its address and errors on stderr"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use bulwark_policy::{Config, Level};
use bulwark_proxy::{
    BlockReason, BuiltinPolicy, Decision, Gate, ProxyConfig, UpstreamConfig, VersionPolicy,
};

use crate::Outcome;
use crate::cli::{GateArgs, ServeArgs};

/// Runs `bulwark serve`.
pub(crate) fn run(args: &ServeArgs, db: Option<&Path>) -> anyhow::Result<Outcome> {
    let gate = build_gate(&args.gate, args.listen, db)?;
    let listen = gate.config().listen;
    let runtime = runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        eprintln!("bulwark serve: http://{address}/");
        for upstream in gate.describe_upstreams() {
            eprintln!("  upstream {upstream}");
        }
        eprintln!("  cache {}", gate.config().cache_dir.display());
        if gate.config().offline {
            eprintln!("  offline: serving from the cache only");
        }
        bulwark_proxy::serve(Arc::clone(&gate), listener, shutdown_signal())
            .await
            .context("the gate stopped")
    })?;
    gate.flush();
    Ok(Outcome::Clean)
}

/// The gate's tokio runtime: one worker per CPU, a bounded blocking pool (downloads, disk,
/// analysis).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .thread_name("bulwark-gate")
        .build()
        .context("cannot start the gate's runtime")
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The gate of `serve` and `run`: configuration from the flags, then the policy file's
/// `[serve]` table; the known-bad matcher of `scan` (built-in feed plus the database when
/// there is one); the flags' policy plus the policy file's.
pub(crate) fn build_gate(
    args: &GateArgs,
    listen: Option<SocketAddr>,
    db: Option<&Path>,
) -> anyhow::Result<Arc<Gate>> {
    let policy_file = super::policy_file::load(args.config.as_deref(), Path::new("."))?;
    let serve = policy_file.as_ref().and_then(|c| c.serve.clone());
    let cache_dir = match (
        &args.cache_dir,
        serve.as_ref().and_then(|s| s.cache_dir.clone()),
    ) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => dir,
        (None, None) => default_cache_dir()?,
    };
    let mut config = ProxyConfig::new(cache_dir);
    if let Some(listen) = listen.or(serve.as_ref().map(|s| s.listen)) {
        config.listen = listen;
    }
    if !args.upstream.is_empty() {
        config.upstreams = args
            .upstream
            .iter()
            .map(|spec| parse_upstream(spec))
            .collect::<anyhow::Result<_>>()?;
    } else if let Some(serve) = serve.as_ref().filter(|s| !s.upstreams.is_empty()) {
        config.upstreams = serve
            .upstreams
            .iter()
            .map(|u| UpstreamConfig {
                scope: u.scope.clone(),
                url: u.url.clone(),
                token_env: u.token_env.clone(),
            })
            .collect();
    }
    config.audit_log = args
        .audit_log
        .clone()
        .or_else(|| serve.as_ref().and_then(|s| s.audit_log.clone()));
    config.offline = args.offline;
    config.metadata_ttl = args.metadata_ttl;
    config.upstream_timeout = args.upstream_timeout;
    let matcher = super::scan::load_matcher(args.no_db, db)?;
    let flags = BuiltinPolicy {
        min_age: args.min_age,
        allow: args.allow.clone(),
        deny: args.deny.clone(),
    };
    let policy: Arc<dyn VersionPolicy> = match policy_file {
        Some(file) => Arc::new(FilePolicy { file, flags }),
        None => Arc::new(flags),
    };
    let gate = Gate::open(config, policy, Arc::new(matcher)).context("cannot start the gate")?;
    Ok(Arc::new(gate))
}

/// `bulwark.toml` as the gate's [`VersionPolicy`]: the flags' policy first, then the file's
/// per-version checks (package allow/deny lists, minimum release age); a `deny`-level
/// violation blocks the version, `warn` lets it through.
struct FilePolicy {
    file: Config,
    flags: BuiltinPolicy,
}

impl VersionPolicy for FilePolicy {
    fn check(
        &self,
        name: &str,
        version: &str,
        published: Option<SystemTime>,
        now: SystemTime,
    ) -> Decision {
        if let Decision::Block(reason) = self.flags.check(name, version, published, now) {
            return Decision::Block(reason);
        }
        let violations = self.file.check_version(name, version, published, now);
        match violations.iter().find(|v| v.level == Level::Deny) {
            Some(violation) => Decision::Block(BlockReason::Policy {
                code: violation.check.code().to_owned(),
                message: format!("bulwark.toml: {}", violation.message),
            }),
            None => Decision::Allow,
        }
    }

    fn fingerprint(&self) -> String {
        format!(
            "{}|file:{}",
            self.flags.fingerprint(),
            self.file.source_text.len()
        )
    }
}

fn default_cache_dir() -> anyhow::Result<PathBuf> {
    let database = bulwark_advisory::Store::default_path()
        .context("no data directory for the gate's cache; pass --cache-dir")?;
    let parent = database.parent().unwrap_or(Path::new("."));
    Ok(parent.join("gate"))
}

/// `URL`, `@scope=URL`, either followed by `,token-env=VAR`.
pub(crate) fn parse_upstream(spec: &str) -> anyhow::Result<UpstreamConfig> {
    let mut parts = spec.split(',');
    let head = parts.next().unwrap_or_default().trim();
    let (scope, url) = match head.split_once('=') {
        Some((scope, url)) if scope.starts_with('@') => (Some(scope.to_owned()), url),
        _ => (None, head),
    };
    let mut token_env = None;
    for option in parts {
        match option.trim().split_once('=') {
            Some(("token-env", var)) if !var.is_empty() => token_env = Some(var.to_owned()),
            _ => anyhow::bail!(
                "upstream `{}`: unknown option `{option}` (expected token-env=VAR)",
                bulwark_advisory::redact_url(spec)
            ),
        }
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!(
            "upstream `{}` is not an http:// or https:// URL",
            bulwark_advisory::redact_url(url)
        );
    }
    Ok(UpstreamConfig {
        scope,
        url: url.to_owned(),
        token_env,
    })
}

/// `3d`, `12h`, `90m`, `30s`, `2w` or `0`.
pub(crate) fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if value == "0" {
        return Ok(Duration::ZERO);
    }
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{value}` needs a unit: s, m, h, d or w"))?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{value}` is not a duration such as 3d or 12h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "`{value}`: unknown unit `{unit}` (s, m, h, d or w)"
            ));
        }
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{value}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_arguments() {
        use clap::Parser as _;
        let parsed = crate::cli::Args::try_parse_from(["bulwark", "serve"]).unwrap();
        let crate::cli::Command::Serve(args) = parsed.command else {
            panic!("not a serve")
        };
        assert_eq!(args.listen, None);
        assert_eq!(args.gate.min_age, Duration::ZERO);
        assert_eq!(args.gate.metadata_ttl, Duration::from_secs(300));
        assert!(!args.gate.offline && args.gate.config.is_none());
        let parsed = crate::cli::Args::try_parse_from([
            "bulwark",
            "serve",
            "--listen",
            "0.0.0.0:8080",
            "--offline",
            "--deny",
            "ms@2.1.3",
            "--audit-log",
            "a.jsonl",
        ])
        .unwrap();
        let crate::cli::Command::Serve(args) = parsed.command else {
            panic!("not a serve")
        };
        assert_eq!(args.listen, Some("0.0.0.0:8080".parse().unwrap()));
        assert!(args.gate.offline);
        assert_eq!(args.gate.deny, ["ms@2.1.3"]);
        assert!(
            crate::cli::Args::try_parse_from(["bulwark", "serve", "--listen", "nowhere"]).is_err()
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("3d"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("3").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("99999999999999999999w").is_err());
    }

    #[test]
    fn upstream_specs() {
        let plain = parse_upstream("https://registry.npmjs.org").unwrap();
        assert_eq!(plain.scope, None);
        assert_eq!(plain.token_env, None);
        let scoped =
            parse_upstream("@corp=https://npm.corp.example/,token-env=CORP_TOKEN").unwrap();
        assert_eq!(scoped.scope.as_deref(), Some("@corp"));
        assert_eq!(scoped.url, "https://npm.corp.example/");
        assert_eq!(scoped.token_env.as_deref(), Some("CORP_TOKEN"));
        assert!(parse_upstream("ftp://x").is_err());
        assert!(parse_upstream("https://x,token=abc").is_err());
        let error = parse_upstream("https://user:pw@x,bad")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("pw"), "{error}");
    }
}
