//! End to end: the real npm, pnpm, yarn 1, yarn 4 and bun install through `bulwark run`,
//! whose gate reads a local fixture registry (no internet). Benign packages install with the
//! registry's integrity; the too-new `ms@2.1.3` is never installed (`^2.1.0` resolves to
//! 2.1.2); the malicious `bulwark-evil-fixture@1.0.1` is refused with a 403 whose message
//! reaches the user, and afterwards `^1.0.0` resolves to the harmless 1.0.0.

#[path = "serve/fixture_registry.rs"]
mod fixture_registry;
#[path = "serve/gate.rs"]
mod gate;

use std::path::Path;
use std::process::Output;

use fixture_registry::FixtureRegistry;

/// A client's install command, run in the project directory.
struct Client {
    name: &'static str,
    install: &'static [&'static str],
    /// What the client prints of a 403: npm prints the JSON `error`; pnpm and yarn 4 print
    /// the reason phrase; yarn 1 and bun print the status only (the reason then comes from the summary of
    /// `bulwark run`, which every client run gets).
    shows: &'static str,
    /// Whether the lockfile records the registry's integrity (yarn berry records the
    /// checksum of its own cache archive instead).
    records_integrity: bool,
}

fn run_install(
    client: &Path,
    spec: &Client,
    project: &Path,
    sandbox: &Path,
    registry: &FixtureRegistry,
) -> Output {
    let mut command = gate::bulwark();
    command
        .args(["run", "--no-db", "--min-age", "3d", "--upstream"])
        .arg(registry.url())
        .arg("--cache-dir")
        .arg(sandbox.join("gate-cache"))
        .arg("--audit-log")
        .arg(sandbox.join("audit.jsonl"))
        .arg("--")
        .arg(client)
        .args(spec.install)
        .current_dir(project);
    gate::isolate(&mut command, sandbox);
    command.output().unwrap()
}

fn project(
    sandbox: &Path,
    name: &str,
    client: &str,
    dependencies: serde_json::Value,
) -> std::path::PathBuf {
    let dir = sandbox.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = serde_json::json!({
        "name": name, "version": "1.0.0", "private": true, "dependencies": dependencies,
    });
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    if client == "yarn4" {
        // yarn berry looks for the nearest lockfile to find the project root.
        std::fs::write(dir.join("yarn.lock"), "").unwrap();
    }
    dir
}

fn installed_version(project: &Path, name: &str) -> Option<String> {
    let text =
        std::fs::read_to_string(project.join("node_modules").join(name).join("package.json"))
            .ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn install_through_the_gate(spec: &Client) {
    let Some(client) = gate::client(spec.name) else {
        return;
    };
    let registry = FixtureRegistry::start(&[("ms", "2.1.3")]);
    let sandbox = tempfile::tempdir().unwrap();

    // 1. The malicious version, asked for by exact version: refused with a readable 403.
    let evil = project(
        sandbox.path(),
        "wants-evil",
        spec.name,
        serde_json::json!({"bulwark-evil-fixture": "1.0.1"}),
    );
    let output = run_install(&client, spec, &evil, sandbox.path(), &registry);
    let shown = text(&output);
    assert!(
        !output.status.success(),
        "{}: the malicious version installed\n{shown}",
        spec.name
    );
    assert!(
        shown.contains("403"),
        "{}: no 403 shown\n{shown}",
        spec.name
    );
    assert!(
        shown.contains(spec.shows),
        "{}: the client did not show the reason\n{shown}",
        spec.name
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bulwark-evil-fixture@1.0.1: the code analysis found it malicious"),
        "{}: no summary\n{shown}",
        spec.name
    );
    assert_eq!(
        installed_version(&evil, "bulwark-evil-fixture"),
        None,
        "{shown}"
    );

    // 2. Ranges resolve to the newest allowed versions; everything benign installs.
    let app = project(
        sandbox.path(),
        "app",
        spec.name,
        serde_json::json!({
            "is-odd": "^3.0.1", "ms": "^2.1.0", "@types/ms": "0.7.34", "bulwark-evil-fixture": "^1.0.0",
        }),
    );
    let output = run_install(&client, spec, &app, sandbox.path(), &registry);
    let shown = text(&output);
    assert!(
        output.status.success(),
        "{}: install failed\n{shown}",
        spec.name
    );
    for (name, version) in [
        ("is-odd", "3.0.1"),
        ("ms", "2.1.2"),
        ("@types/ms", "0.7.34"),
        ("bulwark-evil-fixture", "1.0.0"),
    ] {
        assert_eq!(
            installed_version(&app, name).as_deref(),
            Some(version),
            "{}: {name}\n{shown}",
            spec.name
        );
    }

    // 3. The lockfile records the versions the gate allowed, with the registry's integrity.
    let scan = bulwark_lockfile::discover::inventory(&app);
    let lockfile_packages: Vec<_> = scan
        .projects
        .iter()
        .filter(|p| p.file.is_file() && !p.file.to_string_lossy().contains("node_modules"))
        .flat_map(|p| p.packages.iter())
        .collect();
    assert!(
        !lockfile_packages.is_empty(),
        "{}: no lockfile read",
        spec.name
    );
    for (name, version) in [
        ("ms", "2.1.2"),
        ("bulwark-evil-fixture", "1.0.0"),
        ("is-number", "6.0.0"),
    ] {
        let found: Vec<_> = lockfile_packages
            .iter()
            .filter(|p| p.name == name)
            .collect();
        assert!(
            !found.is_empty(),
            "{}: {name} not in the lockfile",
            spec.name
        );
        for package in found {
            assert_eq!(package.version, version, "{}: {name}", spec.name);
            if spec.records_integrity {
                let integrity = package
                    .integrity
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: {name} has no integrity", spec.name));
                assert_eq!(
                    integrity.to_string(),
                    registry.integrity(name, version),
                    "{}: {name}",
                    spec.name
                );
            }
        }
    }
    // The summary of `bulwark run` names what was left out.
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("too-new"),
        "{shown}"
    );
}

#[test]
fn npm_installs_through_the_gate() {
    install_through_the_gate(&Client {
        name: "npm",
        install: &["install", "--no-audit", "--no-fund"],
        shows: "bulwark: bulwark-evil-fixture@1.0.1 is blocked: the code analysis found it malicious",
        records_integrity: true,
    });
}

#[test]
fn pnpm_installs_through_the_gate() {
    install_through_the_gate(&Client {
        name: "pnpm10",
        install: &["install"],
        shows: "Forbidden by bulwark: malicious",
        records_integrity: true,
    });
}

#[test]
fn yarn1_installs_through_the_gate() {
    install_through_the_gate(&Client {
        name: "yarn1",
        install: &["install", "--non-interactive", "--no-progress"],
        shows: "403",
        records_integrity: true,
    });
}

#[test]
fn yarn4_installs_through_the_gate() {
    install_through_the_gate(&Client {
        name: "yarn4",
        install: &["install"],
        shows: "Forbidden by bulwark: malicious",
        records_integrity: false,
    });
}

#[test]
fn bun_installs_through_the_gate() {
    install_through_the_gate(&Client {
        name: "bun",
        install: &["install"],
        shows: "403",
        records_integrity: true,
    });
}
