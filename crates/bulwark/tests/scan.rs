//! End-to-end tests of `bulwark scan`: the binary run on real trees, its exit codes and outputs.

mod common;

use common::{assert_validates, bulwark, json, official_schema, repo_root};

fn demo() -> String {
    repo_root()
        .join("examples/demo-project")
        .display()
        .to_string()
}

#[test]
fn demo_project_json_inventory() {
    let output = bulwark(&["scan", &demo(), "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["projects"].as_array().unwrap().len(), 1);
    assert_eq!(report["projects"][0]["format"], "npm/package-lock");
    assert_eq!(report["projects"][0]["file"], "package-lock.json");
    let packages = report["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 13);
    let strip = packages
        .iter()
        .find(|p| p["name"] == "strip-ansi")
        .expect("alias resolved");
    assert_eq!(strip["alias"], "strip");
    assert_eq!(strip["version"], "6.0.1");
    assert_eq!(strip["dev"], false);
    assert_eq!(strip["source"], "registry");
    assert_eq!(strip["integrity"]["algorithm"], "sha512");
    assert_eq!(strip["purl"], "pkg:npm/strip-ansi@6.0.1");
    assert_eq!(
        strip["paths"][0],
        serde_json::json!(["demo-project", "strip-ansi@6.0.1"])
    );
    let semver = packages.iter().find(|p| p["name"] == "semver").unwrap();
    assert_eq!(semver["dev"], true);
    let ms = packages.iter().find(|p| p["name"] == "ms").unwrap();
    assert_eq!(
        ms["paths"][0],
        serde_json::json!(["demo-project", "debug@4.3.4", "ms@2.1.2"])
    );
    let line = ms["location"]["line"].as_u64().unwrap();
    let lockfile =
        std::fs::read_to_string(repo_root().join("examples/demo-project/package-lock.json"))
            .unwrap();
    let defined = lockfile
        .lines()
        .nth(usize::try_from(line).unwrap() - 1)
        .unwrap();
    assert!(
        defined.contains("\"node_modules/ms\""),
        "line {line} is `{defined}`"
    );
}

#[test]
fn human_output_summarises() {
    let output = bulwark(&["scan", &demo()]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("1 project, 13 packages"), "{text}");
    assert!(text.contains("package-lock.json"), "{text}");
    assert!(text.contains("npm/package-lock v3"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR output has escape codes: {text:?}"
    );
}

#[test]
fn bad_lockfile_is_named_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::create_dir(&good).unwrap();
    std::fs::copy(
        repo_root().join("examples/demo-project/package-lock.json"),
        good.join("package-lock.json"),
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("examples/demo-project/package.json"),
        good.join("package.json"),
    )
    .unwrap();
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("package-lock.json"),
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n",
    )
    .unwrap();
    std::fs::write(bad.join("pnpm-lock.yaml"), b"\x00\x01\x02binary\xff\xfe").unwrap();

    let output = bulwark(&[
        "scan",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let report = json(&output);
    assert_eq!(
        report["projects"].as_array().unwrap().len(),
        1,
        "the good project is still reported"
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let files: Vec<&str> = errors.iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"bad/package-lock.json"), "{files:?}");
    assert!(files.contains(&"bad/pnpm-lock.yaml"), "{files:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad/package-lock.json"),
        "stderr names the file: {stderr}"
    );
}

#[test]
fn missing_directory_is_an_operational_error() {
    let output = bulwark(&["scan", "/definitely/not/here", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/definitely/not/here"));
}

#[test]
fn writes_to_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = bulwark(&[
        "scan",
        &demo(),
        "-f",
        "json",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(report["summary"]["packages"], 13);
}

/// The CycloneDX output validates against the official 1.6 JSON schema (installed by
/// `scripts/setup-tests.sh` from the `@cyclonedx/cyclonedx-library` npm package).
#[test]
fn cyclonedx_validates_against_official_schema() {
    let schema =
        official_schema("@cyclonedx/cyclonedx-library/res/schema/bom-1.6.SNAPSHOT.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let shared = repo_root().join("../shared/fixtures/lockfiles-real");
    let targets = [
        demo(),
        shared.join("pnpm-v9/vue-core").display().to_string(),
        shared.join("yarn-berry/babel-m8").display().to_string(),
        shared.join("npm-v1/npm-cli").display().to_string(),
    ];
    for (index, target) in targets.iter().enumerate() {
        let bom_path = dir.path().join(format!("bom-{index}.json"));
        let output = bulwark(&[
            "scan",
            target,
            "--format",
            "cyclonedx",
            "-o",
            &bom_path.display().to_string(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{target}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&bom_path).unwrap()).unwrap();
        assert_eq!(bom["specVersion"], "1.6");
        let components = bom["components"].as_array().unwrap();
        assert!(
            components.len() > 5,
            "{target}: {} components",
            components.len()
        );
        assert!(bom["dependencies"].as_array().unwrap().len() > 5);
        assert_validates(&schema, &bom_path, &format!("{target}: BOM"));
    }
}
