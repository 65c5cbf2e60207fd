//! `bulwark run -- <package manager> …`: an ephemeral gate on a free loopback port, the
//! package manager pointed at it through environment variables (the user's files are never
//! edited), then a summary of what was blocked, and the package manager's exit status.

#![allow(
    clippy::print_stderr,
    reason = "the summary goes to stderr, beside the package manager's output"
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::Context as _;
use bulwark_proxy::BlockedVersion;

use crate::Outcome;
use crate::cli::RunArgs;

/// Most refused downloads listed one by one in the summary.
const SUMMARY_LINES: usize = 20;

/// Runs `bulwark run`. Exits the process with the package manager's status.
pub(crate) fn run(args: &RunArgs, db: Option<&Path>) -> anyhow::Result<Outcome> {
    let Some((program, program_args)) = args.command.split_first() else {
        anyhow::bail!("nothing to run: `bulwark run -- npm install`");
    };
    let gate =
        super::serve::build_gate(&args.gate, Some(SocketAddr::from(([127, 0, 0, 1], 0))), db)?;
    let runtime = super::serve::runtime()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .context("cannot listen on a loopback port")?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(bulwark_proxy::serve(Arc::clone(&gate), listener, async {
        let _ = stopped.await;
    }));
    // Ctrl-C reaches the package manager too (same process group): the gate stays up until
    // it has exited, then reports and exits with its status.
    runtime.spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    let registry = format!("http://{address}/");
    let mut command = Command::new(program);
    command.args(program_args);
    for (name, value) in registry_environment(&registry, &args.gate.upstream) {
        command.env(name, value);
    }
    if !args.quiet {
        eprintln!("bulwark run: gate on {registry}");
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run `{program}`"));
    let _ = stop.send(());
    let _ = runtime.block_on(server);
    gate.flush();
    drop(runtime);
    let status = status?;
    summarize(&gate.blocked(), args.quiet);
    let code = status.code().unwrap_or_else(|| {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt as _;
            status.signal().map_or(1, |signal| 128 + signal)
        }
        #[cfg(not(unix))]
        {
            1
        }
    });
    // The package manager's status is the command's status (it may be any value, which
    // `Outcome` cannot carry); everything was flushed above.
    std::process::exit(code)
}

/// The variables that point npm, pnpm, yarn 1, yarn 4 (berry), bun and npx at the gate.
pub(crate) fn registry_environment(registry: &str, upstreams: &[String]) -> Vec<(String, String)> {
    let mut env = vec![
        // npm, npx, pnpm and yarn 1 read npm's configuration from the environment.
        ("npm_config_registry".to_owned(), registry.to_owned()),
        ("NPM_CONFIG_REGISTRY".to_owned(), registry.to_owned()),
        // Lockfiles that record registry.npmjs.org URLs fetch through the gate too.
        (
            "npm_config_replace_registry_host".to_owned(),
            "always".to_owned(),
        ),
        // yarn 1.
        ("YARN_REGISTRY".to_owned(), registry.to_owned()),
        // yarn berry, which refuses plain http unless the host is whitelisted.
        ("YARN_NPM_REGISTRY_SERVER".to_owned(), registry.to_owned()),
        (
            "YARN_UNSAFE_HTTP_WHITELIST".to_owned(),
            "127.0.0.1".to_owned(),
        ),
        // bun.
        ("BUN_CONFIG_REGISTRY".to_owned(), registry.to_owned()),
        // The gate has no audit endpoint; `npm audit` can be run on its own.
        ("npm_config_audit".to_owned(), "false".to_owned()),
    ];
    // Scopes with their own upstream: a user's `@scope:registry` in .npmrc must not bypass
    // the gate.
    for spec in upstreams {
        if let Some((scope, _)) = spec.split_once('=').filter(|(s, _)| s.starts_with('@')) {
            env.push((format!("npm_config_{scope}:registry"), registry.to_owned()));
        }
    }
    env
}

fn summarize(blocked: &[BlockedVersion], quiet: bool) {
    let refused: Vec<&BlockedVersion> = blocked.iter().filter(|b| b.request == "tarball").collect();
    let mut left_out: BTreeMap<&str, usize> = BTreeMap::new();
    for version in blocked.iter().filter(|b| b.request == "packument") {
        *left_out.entry(version.reason.code()).or_default() += 1;
    }
    if refused.is_empty() && left_out.is_empty() {
        if !quiet {
            eprintln!("bulwark run: nothing blocked");
        }
        return;
    }
    if !refused.is_empty() {
        eprintln!("bulwark run: refused {} download(s):", refused.len());
        for version in refused.iter().take(SUMMARY_LINES) {
            eprintln!("  {}@{}: {}", version.name, version.version, version.reason);
        }
        if refused.len() > SUMMARY_LINES {
            eprintln!("  … and {} more", refused.len() - SUMMARY_LINES);
        }
    }
    if !left_out.is_empty() {
        let counts: Vec<String> = left_out
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        eprintln!(
            "bulwark run: versions left out of packuments: {}",
            counts.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        use clap::Parser as _;
        let all: Vec<&str> = ["bulwark", "run"].iter().chain(args).copied().collect();
        match crate::cli::Args::try_parse_from(all).unwrap().command {
            crate::cli::Command::Run(run) => run,
            _ => unreachable!("parsed a run"),
        }
    }

    #[test]
    fn the_command_keeps_its_own_flags() {
        let args = parse(&[
            "--min-age",
            "3d",
            "--",
            "npm",
            "install",
            "--save",
            "-q",
            "ms",
        ]);
        assert_eq!(args.command, ["npm", "install", "--save", "-q", "ms"]);
        assert_eq!(args.gate.min_age, std::time::Duration::from_secs(259_200));
        assert!(!args.quiet);
        let args = parse(&[
            "-q",
            "--upstream",
            "http://a",
            "--upstream",
            "@s=http://b",
            "pnpm",
            "i",
        ]);
        assert!(args.quiet);
        assert_eq!(args.gate.upstream.len(), 2);
        assert_eq!(args.command, ["pnpm", "i"]);
        use clap::Parser as _;
        assert!(crate::cli::Args::try_parse_from(["bulwark", "run"]).is_err());
        assert!(
            crate::cli::Args::try_parse_from(["bulwark", "run", "--min-age", "soon", "--", "npm"])
                .is_err()
        );
    }

    #[test]
    fn points_every_client_at_the_gate() {
        let env = registry_environment(
            "http://127.0.0.1:5000/",
            &[
                "@corp=https://npm.corp.example".to_owned(),
                "https://registry.npmjs.org".to_owned(),
            ],
        );
        let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        for name in [
            "npm_config_registry",
            "YARN_NPM_REGISTRY_SERVER",
            "BUN_CONFIG_REGISTRY",
            "YARN_REGISTRY",
        ] {
            assert_eq!(get(name), Some("http://127.0.0.1:5000/"), "{name}");
        }
        assert_eq!(
            get("npm_config_@corp:registry"),
            Some("http://127.0.0.1:5000/")
        );
        assert_eq!(get("YARN_UNSAFE_HTTP_WHITELIST"), Some("127.0.0.1"));
    }
}
