//! Starting `bulwark serve` as a child process, and isolated environments for the package
//! managers (temporary HOME, caches and config; the only registry is the gate).

#![allow(dead_code, reason = "each test binary uses a part of the helpers")]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The bulwark binary under test.
pub(crate) fn bulwark() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    command
        .env_remove("BULWARK_DB")
        .env("BULWARK_DB", "/nonexistent/bulwark-test.sqlite3");
    command
}

/// A running `bulwark serve`, killed on drop.
pub(crate) struct ServeProcess {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl ServeProcess {
    /// Starts `bulwark serve --listen 127.0.0.1:0 --no-db ARGS` and waits for its address.
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut child = bulwark()
            .args(["serve", "--listen", "127.0.0.1:0", "--no-db"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("bulwark serve: ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .trim_end_matches('/')
            .to_owned();
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }

    /// `kill -9`.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A blocking GET with headers; returns status, headers (lower-case names) and body.
pub(crate) fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.call().unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    (status, headers, body)
}

/// The directory of the pinned package managers (`scripts/install-tools.sh`).
pub(crate) fn tools_bin() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/bin"))
}

/// The command of a package manager, or `None` (with the reason printed) when it is not
/// installed here; CI installs every one of them (`scripts/setup-tests.sh`).
#[allow(
    clippy::print_stderr,
    reason = "a skipped client is said on the test output"
)]
pub(crate) fn client(name: &str) -> Option<PathBuf> {
    let path = if name == "npm" {
        which("npm")
    } else {
        Some(tools_bin().join(name)).filter(|p| p.is_file())
    };
    if path.is_none() {
        eprintln!("skipping {name}: not installed (run scripts/install-tools.sh)");
    }
    path
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// Environment of a package manager that sees nothing of the user: HOME, caches and config
/// under `sandbox`, no update checks, no telemetry.
pub(crate) fn isolate(command: &mut Command, sandbox: &Path) {
    let home = sandbox.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let userconfig = home.join(".npmrc");
    std::fs::write(&userconfig, "").unwrap();
    for var in [
        "npm_config_registry",
        "NPM_CONFIG_REGISTRY",
        "npm_config_userconfig",
        "NPM_CONFIG_USERCONFIG",
        "YARN_REGISTRY",
        "YARN_NPM_REGISTRY_SERVER",
        "BUN_CONFIG_REGISTRY",
        "npm_config_cache",
    ] {
        command.env_remove(var);
    }
    command
        .env("HOME", &home)
        .env("USERPROFILE", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("npm_config_userconfig", &userconfig)
        .env("npm_config_cache", sandbox.join("npm-cache"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_omit_lockfile_registry_resolved", "false")
        .env("npm_config_store_dir", sandbox.join("pnpm-store"))
        .env("YARN_CACHE_FOLDER", sandbox.join("yarn-cache"))
        .env("YARN_GLOBAL_FOLDER", sandbox.join("yarn-global"))
        .env("YARN_ENABLE_GLOBAL_CACHE", "false")
        .env("YARN_ENABLE_TELEMETRY", "0")
        .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "false")
        .env("YARN_NODE_LINKER", "node-modules")
        .env("COREPACK_ENABLE_STRICT", "0")
        .env("BUN_INSTALL_CACHE_DIR", sandbox.join("bun-cache"))
        .env("DO_NOT_TRACK", "1")
        .env("CI", "true");
}
