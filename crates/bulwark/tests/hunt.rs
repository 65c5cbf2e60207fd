//! End-to-end tests of `bulwark hunt` on a synthetic machine built in a temp dir: projects
//! with lockfiles of several formats (copies of the generated lockfile fixtures), installed
//! trees and a global prefix, and the caches of npm (real `_cacache` index entries), pnpm
//! (v3 and v10 stores), yarn classic, yarn berry and bun (see
//! `crates/bulwark-hunt/tests/fixtures/generate.sh`). Compromised versions are planted by
//! rewriting names and versions in copies; nothing is ever installed. `hunt` must find every
//! planted item and nothing else, and must not change anything it reads.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bulwark_command, json, repo_root, run, write};

fn lockfile_fixtures() -> PathBuf {
    repo_root().join("crates/bulwark-lockfile/tests/fixtures/generated")
}

fn cache_fixtures() -> PathBuf {
    repo_root().join("crates/bulwark-hunt/tests/fixtures")
}

fn iocs() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/iocs"))
}

fn bulwark(args: &[&str]) -> Output {
    run(bulwark_command().args(args).env_remove("BULWARK_DB"))
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replaces `from` by `to` in a copy; the text must be there.
fn rewrite(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture no longer contains {from:?}");
    text.replace(from, to)
}

/// The campaign of `name@version` in the shared IOC list; the planted versions must be in it.
fn campaign_of(name: &str, version: &str) -> String {
    let csv = fs::read_to_string(iocs().join("all_compromised_versions.csv")).unwrap();
    let prefix = format!("npm,{name},{version},");
    let line = csv
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{name}@{version} is not in the IOC list"));
    let rest = &line[prefix.len()..];
    let campaign = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap(),
        None => rest.split(',').next().unwrap(),
    };
    campaign.to_owned()
}

/// Every file under `root` with its length, modification time and contents.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime, Vec<u8>)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let meta = fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                let contents = fs::read(entry.path()).unwrap();
                files.insert(
                    entry.path(),
                    (meta.len(), meta.modified().unwrap(), contents),
                );
            }
        }
    }
    files
}

/// One planted item: origin, kind, `name@version` or file name, and the file that shows it.
type Expected = (String, String, String, PathBuf);

struct Machine {
    _dir: tempfile::TempDir,
    home: PathBuf,
    outside: PathBuf,
    hashes: PathBuf,
    expected: Vec<Expected>,
}

fn plant(expected: &mut Vec<Expected>, origin: &str, kind: &str, what: &str, path: &Path) {
    expected.push((
        origin.to_owned(),
        kind.to_owned(),
        what.to_owned(),
        path.to_path_buf(),
    ));
}

fn package_json(name: &str, version: &str) -> String {
    format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"{version}\"\n}}\n")
}

fn machine() -> Machine {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home/user");
    let outside = dir.path().join("outside");
    let mut expected = Vec::new();
    let cv = "compromised-version";

    // npm project: debug rewritten to a compromised version.
    let npm = home.join("projects/npm-app");
    let lock = fs::read_to_string(lockfile_fixtures().join("npm/package-lock.json")).unwrap();
    let lock = rewrite(
        &lock,
        "\"version\": \"4.3.4\",\n      \"resolved\": \"https://registry.npmjs.org/debug/-/debug-4.3.4.tgz\"",
        "\"version\": \"4.4.2\",\n      \"resolved\": \"https://registry.npmjs.org/debug/-/debug-4.4.2.tgz\"",
    );
    write(&npm.join("package-lock.json"), lock);
    fs::copy(
        lockfile_fixtures().join("npm/package.json"),
        npm.join("package.json"),
    )
    .unwrap();
    plant(
        &mut expected,
        "lockfile",
        cv,
        "debug@4.4.2",
        &npm.join("package-lock.json"),
    );

    // pnpm project: ansi-regex rewritten.
    let pnpm = home.join("projects/pnpm-app");
    let lock = fs::read_to_string(lockfile_fixtures().join("pnpm9/pnpm-lock.yaml")).unwrap();
    let lock = rewrite(&lock, "ansi-regex@5.0.1", "ansi-regex@6.2.1");
    let lock = rewrite(&lock, "ansi-regex: 5.0.1", "ansi-regex: 6.2.1");
    write(&pnpm.join("pnpm-lock.yaml"), lock);
    for file in ["package.json", "pnpm-workspace.yaml"] {
        fs::copy(
            lockfile_fixtures().join("pnpm9").join(file),
            pnpm.join(file),
        )
        .unwrap();
    }
    plant(
        &mut expected,
        "lockfile",
        cv,
        "ansi-regex@6.2.1",
        &pnpm.join("pnpm-lock.yaml"),
    );

    // Clean yarn classic, yarn berry and bun projects (controls).
    for (fixture, files) in [
        ("yarn1", &["yarn.lock", "package.json"][..]),
        ("yarn4", &["yarn.lock", "package.json"][..]),
        ("bun", &["bun.lock", "package.json"][..]),
    ] {
        for file in files {
            let target = home.join("projects").join(fixture).join(file);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(lockfile_fixtures().join(fixture).join(file), target).unwrap();
        }
    }

    // An installed tree with one compromised package, and one benign.
    let web = home.join("apps/web");
    write(
        &web.join("package.json"),
        r#"{"name":"web","version":"1.0.0","dependencies":{"ms":"2.1.3","error-ex":"1.3.3"}}"#,
    );
    write(
        &web.join("node_modules/ms/package.json"),
        package_json("ms", "2.1.3"),
    );
    let planted = web.join("node_modules/error-ex/package.json");
    write(&planted, package_json("error-ex", "1.3.3"));
    plant(&mut expected, "installed", cv, "error-ex@1.3.3", &planted);

    // A global prefix (nvm) with a compromised global install.
    let global = home.join(".nvm/versions/node/v20.19.0/lib/node_modules");
    write(
        &global.join("npm/package.json"),
        package_json("npm", "10.8.2"),
    );
    let planted = global.join("chalk/package.json");
    write(&planted, package_json("chalk", "5.6.1"));
    plant(&mut expected, "installed", cv, "chalk@5.6.1", &planted);

    // npm cache: the real index, plus one entry rewritten to a compromised tarball.
    let cacache = home.join(".npm/_cacache");
    copy_tree(&cache_fixtures().join("npm-cache/_cacache"), &cacache);
    let real = fs::read_to_string(
        cache_fixtures().join("npm-cache/_cacache/index-v5/21/a7/bd8af8e4938b9fee217abddb09ce52db330434e323c828aeabe5bd909ae7"),
    )
    .unwrap();
    let json = real
        .lines()
        .find(|l| !l.is_empty())
        .unwrap()
        .split_once('\t')
        .unwrap()
        .1;
    let json = rewrite(
        json,
        "ms/-/ms-2.1.3.tgz",
        "@ctrl/tinycolor/-/tinycolor-4.1.1.tgz",
    );
    let planted = cacache.join("index-v5/aa/bb/0123456789abcdef");
    write(
        &planted,
        format!("\n{}", bulwark_hunt::caches::npm_index_line(&json)),
    );
    plant(
        &mut expected,
        "cached",
        cv,
        "@ctrl/tinycolor@4.1.1",
        &planted,
    );

    // pnpm stores (v10 and v3), one index rewritten.
    let store = home.join(".local/share/pnpm/store");
    copy_tree(&cache_fixtures().join("pnpm-store"), &store);
    let index = store.join(
        "v10/index/e8/5973b9b4cb646dc9d9afcd542025784863ceae68c601f268253dc985ef70bb-ms@2.1.3.json",
    );
    let text = fs::read_to_string(&index).unwrap();
    let text = rewrite(
        &text,
        r#""name":"ms","version":"2.1.3""#,
        r#""name":"color-convert","version":"3.1.1""#,
    );
    let planted = store.join("v10/index/12/34abcd-color-convert@3.1.1.json");
    write(&planted, text);
    plant(&mut expected, "cached", cv, "color-convert@3.1.1", &planted);

    // yarn berry cache (a project's .yarn/cache): a zip copied under a compromised name.
    let berry = home.join("projects/yarn4/.yarn/cache");
    copy_tree(&cache_fixtures().join("berry-cache"), &berry);
    let planted = berry.join("supports-color-npm-10.2.1-81ff3cfac1-d924b57e73.zip");
    fs::copy(
        berry.join("ms-npm-2.1.3-81ff3cfac1-d924b57e73.zip"),
        &planted,
    )
    .unwrap();
    plant(
        &mut expected,
        "cached",
        cv,
        "supports-color@10.2.1",
        &planted,
    );

    // yarn classic cache: an entry copied and rewritten.
    let yarn = home.join(".cache/yarn");
    copy_tree(&cache_fixtures().join("yarn-classic-cache"), &yarn);
    let text = fs::read_to_string(
        yarn.join("v6/npm-ms-2.1.3-574c8138ce1d2b5861f0b44579dbadd60c6615b2-integrity/node_modules/ms/package.json"),
    )
    .unwrap();
    let text = rewrite(&text, "\"version\": \"2.1.3\"", "\"version\": \"0.3.3\"");
    let text = rewrite(&text, "\"name\": \"ms\"", "\"name\": \"is-arrayish\"");
    let planted = yarn.join(
        "v6/npm-is-arrayish-0.3.3-0123456789abcdef0123456789abcdef01234567-integrity/node_modules/is-arrayish/package.json",
    );
    write(&planted, text);
    plant(&mut expected, "cached", cv, "is-arrayish@0.3.3", &planted);

    // bun cache: an entry copied under a compromised name.
    let bun = home.join(".bun/install/cache");
    copy_tree(&cache_fixtures().join("bun-cache"), &bun);
    let planted = bun.join("simple-swizzle@0.2.3@@@1");
    copy_tree(&bun.join("ms@2.1.3@@@1"), &planted);
    plant(
        &mut expected,
        "cached",
        cv,
        "simple-swizzle@0.2.3",
        &planted,
    );

    // Worm artifacts in one repository, benign look-alikes in another.
    let repo = home.join("work/repo");
    write(
        &repo.join("package.json"),
        r#"{"name":"repo","version":"1.0.0"}"#,
    );
    let planted = repo.join(".github/workflows/shai-hulud-workflow.yml");
    write(&planted, "on: push\njobs: {}\n");
    plant(
        &mut expected,
        "artifact",
        "workflow",
        "shai-hulud-workflow.yml",
        &planted,
    );
    write(&repo.join(".github/workflows/ci.yml"), "on: push\n");
    let planted = repo.join(".claude/settings.json");
    write(
        &planted,
        r#"{"hooks":{"SessionStart":[{"matcher":"*","hooks":[{"type":"command","command":"node .claude/setup.mjs"}]}]}}"#,
    );
    plant(
        &mut expected,
        "artifact",
        "claude-hook",
        "settings.json",
        &planted,
    );
    let planted = repo.join(".vscode/tasks.json");
    write(
        &planted,
        "{\n  // auto\n  \"version\": \"2.0.0\",\n  \"tasks\": [{\"label\": \"x\", \"command\": \"node .vscode/setup.mjs\",\n    \"runOptions\": {\"runOn\": \"folderOpen\"}}]\n}\n",
    );
    plant(
        &mut expected,
        "artifact",
        "vscode-task",
        "tasks.json",
        &planted,
    );
    // A payload file inside an installed package: its (benign) hash is given with --hashes.
    write(
        &repo.join("node_modules/helper/package.json"),
        package_json("helper", "1.0.0"),
    );
    let payload = b"// bulwark hunt test payload: harmless\n";
    let planted = repo.join("node_modules/helper/setup_bun.js");
    write(&planted, payload);
    plant(
        &mut expected,
        "artifact",
        "payload-hash",
        "setup_bun.js",
        &planted,
    );
    write(
        &repo.join("node_modules/helper/bundle.js"),
        b"// another file\n",
    );
    let other = home.join("work/other");
    write(
        &other.join(".github/workflows/discussion.yaml"),
        "on: discussion\njobs:\n  a:\n    runs-on: ubuntu-latest\n",
    );
    write(
        &other.join(".claude/settings.json"),
        r#"{"permissions":{"allow":[]}}"#,
    );
    write(
        &other.join(".vscode/tasks.json"),
        r#"{"tasks":[{"runOptions":{"runOn":"default"}}]}"#,
    );

    // Outside the root, reachable only through a symbolic link: never read.
    write(
        &outside.join("package-lock.json"),
        r#"{"name":"x","lockfileVersion":3,"packages":{"":{},"node_modules/chalk":{"version":"5.6.1"}}}"#,
    );
    write(
        &outside.join(".github/workflows/shai-hulud-workflow.yml"),
        "on: push\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, home.join("linked")).unwrap();

    let hashes = dir.path().join("hashes.csv");
    let sha256 = sha256_hex(payload);
    write(
        &hashes,
        format!(
            "sha256,file,size_note,campaign,source\n{sha256},setup_bun.js,,test campaign,test\n"
        ),
    );

    Machine {
        _dir: dir,
        home,
        outside,
        hashes,
        expected,
    }
}

/// SHA-256 through the system's `sha256sum`, so the test does not share the code under test.
fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn found(report: &serde_json::Value) -> Vec<Expected> {
    let mut found: Vec<Expected> = report["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            let path = PathBuf::from(hit["path"].as_str().unwrap());
            let what = match hit["kind"].as_str().unwrap() {
                "compromised-version" | "malicious-package" => format!(
                    "{}@{}",
                    hit["package"]["name"].as_str().unwrap(),
                    hit["package"]["version"].as_str().unwrap()
                ),
                _ => path.file_name().unwrap().to_string_lossy().into_owned(),
            };
            (
                hit["origin"].as_str().unwrap().to_owned(),
                hit["kind"].as_str().unwrap().to_owned(),
                what,
                path,
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn finds_every_planted_item_and_nothing_else() {
    let machine = machine();
    let before = snapshot(machine.home.parent().unwrap().parent().unwrap());
    let home = machine.home.display().to_string();
    let hashes = machine.hashes.display().to_string();
    let output = bulwark(&[
        "hunt", &home, "--no-db", "--format", "json", "--hashes", &hashes,
    ]);
    let report = json(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut expected = machine.expected.clone();
    expected.sort();
    assert_eq!(found(&report), expected);

    for hit in report["hits"].as_array().unwrap() {
        // Every package hit carries the campaign the IOC list gives it.
        if let Some(package) = hit["package"].as_object()
            && hit["origin"] != "artifact"
        {
            let campaign = campaign_of(
                package["name"].as_str().unwrap(),
                package["version"].as_str().unwrap(),
            );
            assert_eq!(hit["campaign"].as_str(), Some(campaign.as_str()), "{hit}");
            assert!(
                hit["advisory"].as_str().unwrap().starts_with("IOC:"),
                "{hit}"
            );
        } else {
            assert!(
                hit["campaign"].as_str().is_some_and(|c| !c.is_empty()),
                "{hit}"
            );
        }
        // Where it came from and which project it belongs to.
        let path = PathBuf::from(hit["path"].as_str().unwrap());
        assert!(path.starts_with(&machine.home), "{hit}");
        match hit["origin"].as_str().unwrap() {
            "cached" => assert!(
                hit["cache"].is_string() && hit["project"].is_null(),
                "{hit}"
            ),
            _ => {
                let project = PathBuf::from(hit["project"].as_str().unwrap());
                assert!(path.starts_with(&project), "{hit}");
            }
        }
    }
    let project_of = |suffix: &str| {
        report["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hit| hit["path"].as_str().unwrap().ends_with(suffix))
            .map(|hit| PathBuf::from(hit["project"].as_str().unwrap()))
            .unwrap()
    };
    assert_eq!(project_of("setup_bun.js"), machine.home.join("work/repo"));
    assert_eq!(
        project_of("shai-hulud-workflow.yml"),
        machine.home.join("work/repo")
    );
    assert_eq!(
        project_of("error-ex/package.json"),
        machine.home.join("apps/web")
    );
    let payload = report["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "payload-hash")
        .unwrap();
    assert_eq!(payload["package"]["name"], "helper");

    // Every lockfile format, installed tree and cache was inventoried.
    let formats: Vec<&str> = report["inventories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|inventory| inventory["format"].as_str().unwrap())
        .collect();
    for format in [
        "npm/package-lock",
        "pnpm/lock",
        "yarn/lock",
        "bun/lock",
        "installed/node_modules",
        "cache/npm",
        "cache/pnpm-store",
        "cache/yarn-berry",
        "cache/yarn-classic",
        "cache/bun",
    ] {
        assert!(
            formats.contains(&format),
            "{format} missing from {formats:?}"
        );
    }
    let cached = |format: &str| -> u64 {
        report["inventories"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["format"] == format)
            .map(|i| i["packages"].as_u64().unwrap())
            .sum()
    };
    // The real fixtures hold three packages per cache (plus the planted one); the npm index
    // names each tarball twice (make-fetch-happen and pacote keys), and the pnpm fixture has
    // a v3 and a v10 store.
    assert_eq!(cached("cache/pnpm-store"), 3 + 3 + 1);
    assert_eq!(cached("cache/yarn-berry"), 3 + 1);
    assert_eq!(cached("cache/yarn-classic"), 3 + 1);
    assert_eq!(cached("cache/bun"), 3 + 1);
    assert_eq!(cached("cache/npm"), 2 * 3 + 1);
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{}",
        report["errors"]
    );

    // Nothing outside the root was read through the link, and nothing was changed.
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains(&machine.outside.display().to_string())
    );
    assert_eq!(
        snapshot(machine.home.parent().unwrap().parent().unwrap()),
        before
    );
}

#[test]
fn human_output_names_hits_and_exit_codes_follow_them() {
    let machine = machine();
    let home = machine.home.display().to_string();
    let output = bulwark(&["hunt", &home, "--no-db", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("debug@4.4.2"), "{text}");
    assert!(text.contains("shai-hulud-workflow.yml"), "{text}");
    assert!(output.stderr.is_empty(), "-q keeps stderr quiet");

    // A clean tree: exit 0, and the summary goes to stderr.
    let clean = tempfile::tempdir().unwrap();
    fs::copy(
        lockfile_fixtures().join("yarn1/yarn.lock"),
        clean.path().join("yarn.lock"),
    )
    .unwrap();
    let output = bulwark(&["hunt", &clean.path().display().to_string(), "--no-db"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 lockfiles"));

    // A root that does not exist is an operational error.
    let output = bulwark(&["hunt", "/nonexistent/bulwark-hunt-root", "--no-db"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn corrupt_cache_entries_and_unreadable_directories_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join(".npm/_cacache/index-v5/00/11/2233"),
        "\nnot an entry\n",
    );
    write(&root.join("p/package-lock.json"), "{ not json");
    let locked = root.join("locked");
    write(&locked.join("yarn.lock"), "");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    }
    let output = bulwark(&["hunt", &root.display().to_string(), "--no-db", "-f", "json"]);
    // Root can read a mode-000 directory; anyone else gets an error naming it.
    let readable = fs::read_dir(&locked).is_ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let report = json(&output);
    assert_eq!(output.status.code(), Some(2), "no hit, but problems");
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["path"].as_str().unwrap(), e["line"]))
        .collect();
    assert!(errors.iter().any(|e| e.ends_with("2233:2")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("package-lock.json")),
        "{errors:?}"
    );
    assert_eq!(
        errors.iter().any(|e| e.contains("locked")),
        !readable,
        "{errors:?}"
    );
}
