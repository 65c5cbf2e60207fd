//! End-to-end tests of known-bad matching in `bulwark scan` and of `bulwark db`: compromised
//! versions are planted by rewriting versions in copies of real lockfiles (never by
//! installing anything).

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bulwark_command, json, repo_root, run};

fn bulwark(args: &[&str], db: Option<&Path>) -> Output {
    let mut command = bulwark_command();
    command.args(args).env_remove("BULWARK_DB");
    if let Some(db) = db {
        command.env("BULWARK_DB", db);
    } else {
        // Keep the user's real database out of tests.
        command.env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("bulwark-tests-no-db"),
        );
    }
    run(&mut command)
}

/// A copy of the demo project whose lockfile resolves `debug` to the compromised 4.4.2 of
/// the September 2025 chalk/debug incident.
fn planted_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = repo_root().join("examples/demo-project");
    let lockfile = std::fs::read_to_string(demo.join("package-lock.json")).unwrap();
    let planted = lockfile
        .replace("\"debug\": \"4.3.4\"", "\"debug\": \"4.4.2\"")
        .replace("\"version\": \"4.3.4\"", "\"version\": \"4.4.2\"");
    assert_ne!(planted, lockfile, "the planting changed the lockfile");
    std::fs::write(dir.path().join("package-lock.json"), planted).unwrap();
    std::fs::copy(demo.join("package.json"), dir.path().join("package.json")).unwrap();
    dir
}

#[test]
fn builtin_feed_finds_compromised_version_offline() {
    let project = planted_project();
    let output = bulwark(
        &[
            "scan",
            &project.path().display().to_string(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["kind"], "compromised-version");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(finding["package"]["name"], "debug");
    assert_eq!(finding["package"]["version"], "4.4.2");
    assert!(
        finding["campaign"]
            .as_str()
            .unwrap()
            .contains("chalk/debug"),
        "{finding:#?}"
    );
    assert_eq!(
        finding["paths"][0],
        serde_json::json!(["demo-project", "debug@4.4.2"])
    );
    assert_eq!(finding["location"]["file"], "package-lock.json");
    assert!(finding["location"]["line"].as_u64().unwrap() > 1);
    assert_eq!(report["summary"]["findings"]["compromised-version"], 1);

    let human = bulwark(&["scan", &project.path().display().to_string()], None);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("CRITICAL") && text.contains("debug@4.4.2"),
        "{text}"
    );
}

#[test]
fn fail_on_never_reports_but_exits_zero() {
    let project = planted_project();
    let output = bulwark(
        &[
            "scan",
            &project.path().display().to_string(),
            "-f",
            "json",
            "--fail-on",
            "never",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&output)["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn clean_project_has_no_findings() {
    let demo = repo_root().join("examples/demo-project");
    let output = bulwark(
        &[
            "scan",
            &demo.display().to_string(),
            "-f",
            "json",
            "--fail-on",
            "any",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(json(&output)["findings"].as_array().unwrap().is_empty());
}

/// Writes a package-lock v3 that resolves `name@version` once.
fn lockfile_with(dir: &Path, packages: &[(&str, &str)]) {
    let mut entries = serde_json::Map::new();
    let mut root_deps = serde_json::Map::new();
    for (name, version) in packages {
        root_deps.insert((*name).to_owned(), serde_json::json!(version));
        entries.insert(
            format!("node_modules/{name}"),
            serde_json::json!({ "version": version }),
        );
    }
    entries.insert(
        "".to_owned(),
        serde_json::json!({ "name": "app", "dependencies": root_deps }),
    );
    let lock = serde_json::json!({ "name": "app", "lockfileVersion": 3, "packages": entries });
    std::fs::write(
        dir.join("package-lock.json"),
        serde_json::to_string_pretty(&lock).unwrap(),
    )
    .unwrap();
}

#[test]
fn imported_osv_malicious_reports_match_only_affected_versions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    let samples = repo_root().join("../shared/corpora/osv-samples");
    let output = bulwark(&["db", "import", &samples.display().to_string()], Some(&db));
    // One sample is a pre-ID ingest file with an empty `id`: it is named and skipped, the rest
    // is imported, and the exit code says something failed.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("imported 3 records") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("MAL-0000-amazon-inspector-4304d63d618938cc.json"),
        "{stderr}"
    );

    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    // 4.1.1 is inside the narrow malicious range; 3.4.0 only inside the report's "every version"
    // range, which must not flag it.
    lockfile_with(&project, &[("@ctrl/tinycolor", "4.1.1")]);
    let output = bulwark(
        &["scan", &project.display().to_string(), "-f", "json"],
        Some(&db),
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"MAL-2025-47141"), "{ids:?}");

    lockfile_with(&project, &[("@ctrl/tinycolor", "3.4.0")]);
    let output = bulwark(
        &["scan", &project.display().to_string(), "-f", "json"],
        Some(&db),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let status = bulwark(&["db", "status", "--format", "json"], Some(&db));
    assert_eq!(status.status.code(), Some(0));
    let status = json(&status);
    assert_eq!(status["advisories"].as_u64(), Some(3), "{status:#}");
    assert!(
        status["compromised_versions"].as_u64().unwrap() > 5000,
        "{status:#}"
    );
}

#[test]
fn user_ioc_list_is_matched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    let list = dir.path().join("iocs.csv");
    std::fs::write(
        &list,
        "package,version,campaign\nleft-pad,1.3.0,test-campaign\n@acme/internal@9.9.9\n",
    )
    .unwrap();
    let output = bulwark(
        &["db", "import", "--iocs", &list.display().to_string()],
        Some(&db),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    lockfile_with(
        &project,
        &[
            ("left-pad", "1.3.0"),
            ("@acme/internal", "9.9.9"),
            ("ms", "2.1.3"),
        ],
    );
    let output = bulwark(
        &["scan", &project.display().to_string(), "-f", "json"],
        Some(&db),
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let mut names: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["package"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["@acme/internal", "left-pad"]);
}

#[test]
fn corrupt_osv_file_is_named_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    let sample = repo_root().join("../shared/corpora/osv-samples/npm__--hiljson__MAL-2022-2.json");
    std::fs::copy(&sample, osv.join("good.json")).unwrap();
    std::fs::write(
        osv.join("broken.json"),
        "{\"id\": \"MAL-1\", \"affected\": [",
    )
    .unwrap();
    let output = bulwark(&["db", "import", &osv.display().to_string()], Some(&db));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
    assert!(stderr.contains("imported 1 records"), "{stderr}");
}

/// Serves `body` to `requests` HTTP requests on a loopback port; returns the URL.
fn serve_once(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0_u8; 4096];
            let _ = stream.read(&mut buffer);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{address}/npm/all.zip")
}

fn osv_zip() -> Vec<u8> {
    let samples = repo_root().join("../shared/corpora/osv-samples");
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let status = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile, os\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nfor f in sys.argv[2:]: z.write(f, os.path.basename(f))\nz.close()")
        .arg(&zip_path)
        .args(&files)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(zip_path).unwrap()
}

#[test]
fn db_update_downloads_from_a_local_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    let url = serve_once(osv_zip(), 1);
    let output = bulwark(&["db", "update", "--url", &url], Some(&db));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The archive holds the pre-ID ingest sample with an empty `id`: named, skipped, exit 2.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("imported 3 records"), "{stderr}");
    let status = json(&bulwark(&["db", "status", "-f", "json"], Some(&db)));
    assert_eq!(status["advisories"].as_u64(), Some(3), "{status:#}");
    assert!(status["osv_age_seconds"].as_u64().is_some(), "{status:#}");

    // A download that is not a zip leaves the database as it was.
    let bad_url = serve_once(b"this is not a zip".to_vec(), 1);
    let output = bulwark(&["db", "update", "--url", &bad_url], Some(&db));
    assert_eq!(output.status.code(), Some(2));
    let after = json(&bulwark(&["db", "status", "-f", "json"], Some(&db)));
    assert_eq!(after["advisories"], status["advisories"]);
}

#[test]
fn corrupt_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    std::fs::write(
        &db,
        b"this is not an SQLite database, just text that claims to be one\n".repeat(64),
    )
    .unwrap();
    let demo = repo_root().join("examples/demo-project");
    for args in [vec!["scan", demo.to_str().unwrap()], vec!["db", "status"]] {
        let output = bulwark(&args, Some(&db));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("advisories.db"), "{args:?}: {stderr}");
    }
    let after = std::fs::read(&db).unwrap();
    assert!(
        after.starts_with(b"this is not an SQLite database"),
        "the file was left as it was"
    );
}
