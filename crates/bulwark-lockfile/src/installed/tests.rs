//! Installed trees built in temporary directories (npm nested/scoped/aliased, the pnpm store,
//! hostile links and manifests, deep trees), and skeletons of real npm and pnpm installs
//! rebuilt from `tests/fixtures/installed/` and compared with the managers' own listings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::Project;

/// A project directory under construction.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn node_modules(&self) -> PathBuf {
        self.root().join("node_modules")
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        assert!(
            Path::new(relative).is_relative(),
            "{relative} must stay in the fixture"
        );
        let path = self.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// `dir/package.json` with `name`, `version` and the extra fields of `rest`.
    fn package(&self, dir: &str, name: &str, version: &str, rest: Value) {
        let mut manifest = json!({ "name": name, "version": version });
        if let (Value::Object(manifest), Value::Object(rest)) = (&mut manifest, rest) {
            manifest.extend(rest);
        }
        let file = if dir.is_empty() {
            "package.json".to_owned()
        } else {
            format!("{dir}/package.json")
        };
        self.write(&file, serde_json::to_string_pretty(&manifest).unwrap());
    }

    #[cfg(unix)]
    fn link(&self, link: &str, target: impl AsRef<Path>) {
        let path = self.root().join(link);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }

    fn extract(&self) -> Lockfile {
        extract_tree(&self.node_modules()).unwrap_or_else(|error| panic!("{error}"))
    }
}

/// One line per package: install path, id, alias, source and resolved edges.
fn summary(lock: &Lockfile) -> Vec<String> {
    let mut lines: Vec<String> = lock
        .packages
        .iter()
        .map(|package| {
            let edges: Vec<String> = package
                .dependencies
                .iter()
                .map(|dep| format!("{}{}", dep.name, edge(lock, dep)))
                .collect();
            format!(
                "{} {}@{}{} {:?} [{}]",
                package.install_path.as_deref().unwrap_or("?"),
                package.name,
                package.version,
                package
                    .alias
                    .as_ref()
                    .map(|alias| format!(" as {alias}"))
                    .unwrap_or_default(),
                package.source,
                edges.join(", ")
            )
        })
        .collect();
    lines.sort();
    lines
}

fn edge(lock: &Lockfile, dep: &Dependency) -> String {
    let kind = match dep.kind {
        DependencyKind::Prod => "",
        DependencyKind::Dev => " dev",
        DependencyKind::Optional => " optional",
        DependencyKind::Peer => " peer",
    };
    match dep.target {
        Some(PackageId(index)) => format!(
            "{kind}={}",
            lock.packages[index].install_path.as_deref().unwrap_or("?")
        ),
        None => format!("{kind}=unresolved"),
    }
}

fn importers(lock: &Lockfile) -> Vec<String> {
    lock.importers
        .iter()
        .map(|importer| {
            let edges: Vec<String> = importer
                .dependencies
                .iter()
                .map(|dep| format!("{}{}", dep.name, edge(lock, dep)))
                .collect();
            format!("{:?} [{}]", importer.path, edges.join(", "))
        })
        .collect()
}

/// `name@version dev optional` per package of the inventory, sorted.
fn flags(project: &Project) -> Vec<String> {
    let mut lines: Vec<String> = project
        .packages
        .iter()
        .map(|p| format!("{} dev={} optional={}", p.id(), p.dev, p.optional))
        .collect();
    lines.sort();
    lines
}

/// Warnings with the temporary root replaced by `<root>`.
fn warnings(lock: &Lockfile, root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    lock.warnings
        .iter()
        .map(|warning| warning.replace(&root, "<root>"))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[cfg(unix)]
#[test]
fn npm_nested_scoped_and_aliased_tree() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({
            "dependencies": { "a": "^1", "@s/b": "^1", "alias-c": "npm:c@2" },
            "devDependencies": { "d": "1" },
            "optionalDependencies": { "e": "1" }
        }),
    );
    fx.package(
        "node_modules/a",
        "a",
        "1.0.0",
        json!({ "dependencies": { "c": "^1" } }),
    );
    fx.package("node_modules/a/node_modules/c", "c", "1.0.0", json!({}));
    fx.package(
        "node_modules/@s/b",
        "@s/b",
        "1.0.0",
        json!({ "dependencies": { "c": "^3" }, "peerDependencies": { "a": "*", "missing-peer": "*" } }),
    );
    fx.package("node_modules/c", "c", "3.0.0", json!({}));
    fx.package("node_modules/alias-c", "c", "2.0.0", json!({}));
    fx.package(
        "node_modules/d",
        "d",
        "1.0.0",
        json!({ "dependencies": { "f": "1" } }),
    );
    fx.package(
        "node_modules/e",
        "e",
        "1.0.0",
        json!({ "optionalDependencies": { "fsevents": "*" } }),
    );
    fx.package("node_modules/f", "f", "1.0.0", json!({}));
    fx.write("node_modules/.bin/a", "#!/bin/sh\n");
    fx.package("node_modules/.cache/x", "x", "1.0.0", json!({}));
    fx.write(
        "node_modules/.package-lock.json",
        json!({
            "lockfileVersion": 3,
            "packages": {
                "node_modules/f": { "version": "1.0.0", "dev": true },
                "node_modules/c": { "version": "3.0.0", "dev": true, "optional": true, "devOptional": true },
                "node_modules/e": { "version": "9.9.9", "dev": true }
            }
        })
        .to_string(),
    );

    let lock = fx.extract();
    assert_eq!(lock.format, FORMAT);
    assert_eq!(lock.format_version, "npm");
    assert_eq!(lock.file, fx.node_modules());
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/@s/b @s/b@1.0.0 Registry [c=node_modules/c, a peer=node_modules/a, missing-peer peer=unresolved]",
            "node_modules/a a@1.0.0 Registry [c=node_modules/a/node_modules/c]",
            "node_modules/a/node_modules/c c@1.0.0 Registry []",
            "node_modules/alias-c c@2.0.0 as alias-c Registry []",
            "node_modules/c c@3.0.0 Registry []",
            "node_modules/d d@1.0.0 Registry [f=node_modules/f]",
            "node_modules/e e@1.0.0 Registry [fsevents optional=unresolved]",
            "node_modules/f f@1.0.0 Registry []",
        ])
    );
    assert_eq!(
        importers(&lock),
        strings(&[
            "\"\" [e optional=node_modules/e, @s/b=node_modules/@s/b, a=node_modules/a, alias-c=node_modules/alias-c, d dev=node_modules/d]"
        ])
    );
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);

    let a = lock
        .packages
        .iter()
        .find(|p| p.install_path.as_deref() == Some("node_modules/a"))
        .unwrap();
    assert_eq!(
        a.location_file.as_deref(),
        Some(fx.root().join("node_modules/a/package.json").as_path())
    );
    let text = std::fs::read_to_string(fx.root().join("node_modules/a/package.json")).unwrap();
    let version_line = text
        .lines()
        .position(|l| l.contains("\"version\":"))
        .unwrap()
        + 1;
    assert_eq!(a.line as usize, version_line);
    assert!(a.line > 1);

    let project = lock.into_inventory();
    assert_eq!(project.root, fx.root());
    assert_eq!(
        flags(&project),
        strings(&[
            "@s/b@1.0.0 dev=false optional=false",
            "a@1.0.0 dev=false optional=false",
            "c@1.0.0 dev=false optional=false",
            "c@2.0.0 dev=false optional=false",
            "c@3.0.0 dev=false optional=false",
            "d@1.0.0 dev=true optional=false",
            "e@1.0.0 dev=false optional=true",
            "f@1.0.0 dev=true optional=false",
        ])
    );
    let f = project.packages.iter().find(|p| p.name == "f").unwrap();
    assert_eq!(f.paths, vec![strings(&["app", "d@1.0.0", "f@1.0.0"])]);
    assert_eq!(
        f.location.file,
        fx.root().join("node_modules/f/package.json")
    );
}

#[cfg(unix)]
#[test]
fn hidden_lockfile_flags_win_only_for_matching_versions() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({ "dependencies": { "a": "1", "b": "1" } }),
    );
    fx.package("node_modules/a", "a", "1.0.0", json!({}));
    fx.package("node_modules/b", "b", "1.0.0", json!({}));
    fx.write(
        "node_modules/.package-lock.json",
        json!({ "packages": {
            "node_modules/a": { "version": "1.0.0", "dev": true },
            "node_modules/b": { "version": "0.9.0", "dev": true }
        }})
        .to_string(),
    );
    let project = fx.extract().into_inventory();
    assert_eq!(
        flags(&project),
        strings(&[
            "a@1.0.0 dev=true optional=false",
            "b@1.0.0 dev=false optional=false"
        ])
    );

    fx.write("node_modules/.package-lock.json", "{ not json");
    let lock = fx.extract();
    assert_eq!(lock.warnings.len(), 1, "{:?}", lock.warnings);
    assert!(lock.warnings[0].contains(".package-lock.json: invalid hidden lockfile"));
    assert!(lock.packages.iter().all(|p| p.flags == Flags::default()));
}

#[cfg(unix)]
#[test]
fn pnpm_store_counts_each_package_once_and_resolves_siblings() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({
            "dependencies": { "a": "1", "w": "workspace:*" },
            "devDependencies": { "my-b": "npm:b@1" }
        }),
    );
    fx.write("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n");
    fx.package(
        "packages/w",
        "w",
        "0.1.0",
        json!({ "dependencies": { "b": "2" } }),
    );
    fx.package(
        "node_modules/.pnpm/a@1.0.0/node_modules/a",
        "a",
        "1.0.0",
        json!({ "dependencies": { "b": "^1", "@s/c": "1" } }),
    );
    fx.link(
        "node_modules/.pnpm/a@1.0.0/node_modules/b",
        "../../b@1.0.0/node_modules/b",
    );
    fx.package(
        "node_modules/.pnpm/b@1.0.0/node_modules/b",
        "b",
        "1.0.0",
        json!({}),
    );
    fx.package(
        "node_modules/.pnpm/b@2.0.0/node_modules/b",
        "b",
        "2.0.0",
        json!({}),
    );
    fx.package(
        "node_modules/.pnpm/@s+c@1.0.0/node_modules/@s/c",
        "@s/c",
        "1.0.0",
        json!({}),
    );
    fx.package(
        "node_modules/.pnpm/g@https+++example.com+g.tgz/node_modules/g",
        "g",
        "1.0.0",
        json!({}),
    );
    fx.link(
        "node_modules/.pnpm/node_modules/@s/c",
        "../../@s+c@1.0.0/node_modules/@s/c",
    );
    fx.write("node_modules/.pnpm/lock.yaml", "lockfileVersion: '9.0'\n");
    fx.write("node_modules/.modules.yaml", "layoutVersion: 5\n");
    fx.link("node_modules/a", ".pnpm/a@1.0.0/node_modules/a");
    fx.link("node_modules/my-b", ".pnpm/b@1.0.0/node_modules/b");
    fx.link("node_modules/w", "../packages/w");
    fx.link(
        "packages/w/node_modules/b",
        "../../../node_modules/.pnpm/b@2.0.0/node_modules/b",
    );

    let lock = fx.extract();
    assert_eq!(lock.format_version, "pnpm");
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/.pnpm/@s+c@1.0.0/node_modules/@s/c @s/c@1.0.0 Registry []",
            "node_modules/.pnpm/a@1.0.0/node_modules/a a@1.0.0 Registry [@s/c=node_modules/.pnpm/@s+c@1.0.0/node_modules/@s/c, b=node_modules/.pnpm/b@1.0.0/node_modules/b]",
            "node_modules/.pnpm/b@1.0.0/node_modules/b b@1.0.0 Registry []",
            "node_modules/.pnpm/b@2.0.0/node_modules/b b@2.0.0 Registry []",
            "node_modules/.pnpm/g@https+++example.com+g.tgz/node_modules/g g@1.0.0 RemoteTarball []",
            "node_modules/w w@0.1.0 Workspace [b=node_modules/.pnpm/b@2.0.0/node_modules/b]",
        ])
    );
    assert_eq!(
        importers(&lock),
        strings(&[
            "\"\" [a=node_modules/.pnpm/a@1.0.0/node_modules/a, w=node_modules/w, my-b dev=node_modules/.pnpm/b@1.0.0/node_modules/b]",
            "\"packages/w\" [b=node_modules/.pnpm/b@2.0.0/node_modules/b]",
        ])
    );
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
    let w = lock.packages.iter().find(|p| p.name == "w").unwrap();
    assert_eq!(
        w.location_file.as_deref(),
        Some(fx.root().join("packages/w/package.json").as_path())
    );
    let project = lock.into_inventory();
    assert_eq!(
        flags(&project),
        strings(&[
            "@s/c@1.0.0 dev=false optional=false",
            "a@1.0.0 dev=false optional=false",
            "b@1.0.0 dev=false optional=false",
            "b@2.0.0 dev=false optional=false",
            "g@1.0.0 dev=false optional=false",
            "w@0.1.0 dev=false optional=false",
        ])
    );
}

#[cfg(unix)]
#[test]
fn links_out_of_the_root_are_reported_and_never_followed() {
    let outside = Fixture::new();
    outside.package("evil", "evil", "6.6.6", json!({}));
    outside.package("nm/hidden", "hidden", "6.6.6", json!({}));
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({ "dependencies": { "evil": "1", "ok": "1" } }),
    );
    fx.link("node_modules/evil", outside.root().join("evil"));
    fx.link("node_modules/@scope", outside.root());
    fx.package(
        "node_modules/ok",
        "ok",
        "1.0.0",
        json!({ "dependencies": { "y": "1" } }),
    );
    fx.link("node_modules/ok/node_modules", outside.root().join("nm"));
    fx.package(
        "node_modules/.pnpm/x@1.0.0/node_modules/x",
        "x",
        "1.0.0",
        json!({}),
    );
    fx.link(
        "node_modules/.pnpm/x@1.0.0/node_modules/y",
        outside.root().join("evil"),
    );
    std::fs::create_dir_all(fx.root().join("node_modules/sneaky")).unwrap();
    fx.link(
        "node_modules/sneaky/package.json",
        outside.root().join("evil/package.json"),
    );
    fx.link("node_modules/broken", "does-not-exist");
    fx.link("node_modules/self", "../node_modules");

    let lock = fx.extract();
    let outside_root = std::fs::canonicalize(outside.root()).unwrap();
    let mut warnings = warnings(&lock, fx.root());
    for warning in &mut warnings {
        *warning = warning.replace(&outside_root.display().to_string(), "<outside>");
    }
    assert_eq!(
        warnings,
        strings(&[
            "<root>/node_modules/.pnpm/x@1.0.0/node_modules/y: symbolic link points outside the project root (to `<outside>/evil`); not followed",
            "<root>/node_modules/@scope: scope directory is a symbolic link; not followed",
            "<root>/node_modules/broken: broken symbolic link to `does-not-exist` (No such file or directory (os error 2)); skipped",
            "<root>/node_modules/evil: symbolic link points outside the project root (to `<outside>/evil`); not followed",
            "<root>/node_modules/ok/node_modules: `node_modules` is a symbolic link; not followed",
            "<root>/node_modules/sneaky/package.json: is a symbolic link; not followed; not inventoried",
            "<root>/node_modules/self: links to `node_modules`, which has no package.json; not inventoried",
        ])
    );
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/.pnpm/x@1.0.0/node_modules/x x@1.0.0 Registry []",
            "node_modules/ok ok@1.0.0 Registry [y=unresolved]",
        ])
    );
    assert_eq!(
        importers(&lock),
        strings(&["\"\" [evil=unresolved, ok=node_modules/ok]"])
    );
}

#[cfg(unix)]
#[test]
fn links_inside_the_root_become_link_packages_without_descending() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({ "dependencies": { "local": "link:./lib", "b": "1" } }),
    );
    fx.package(
        "lib",
        "local-lib",
        "0.0.1",
        json!({ "dependencies": { "b": "1" } }),
    );
    fx.package(
        "lib/node_modules/not-walked",
        "not-walked",
        "1.0.0",
        json!({}),
    );
    fx.package("node_modules/b", "b", "1.0.0", json!({}));
    fx.link("node_modules/local", "../lib");
    fx.link("node_modules/b-again", "b");
    let lock = fx.extract();
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/b b@1.0.0 Registry []",
            "node_modules/local local-lib@0.0.1 as local Link [b=node_modules/b]",
        ])
    );
    assert_eq!(
        importers(&lock),
        strings(&["\"\" [b=node_modules/b, local=node_modules/local]"])
    );
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
}

#[cfg(unix)]
#[test]
fn malformed_manifests_are_warnings_and_the_walk_goes_on() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({ "dependencies": { "good": "1", "bad": "1" } }),
    );
    fx.package("node_modules/good", "good", "1.0.0", json!({}));
    fx.write(
        "node_modules/bad/package.json",
        "{\n  \"name\": \"bad\",\n  oops\n}",
    );
    fx.package(
        "node_modules/bad/node_modules/inner",
        "inner",
        "2.0.0",
        json!({}),
    );
    std::fs::create_dir_all(fx.root().join("node_modules/dir-pkg/package.json")).unwrap();
    let mut huge = b"{\"name\":\"huge\",\"version\":\"1.0.0\",\"x\":\"".to_vec();
    huge.resize(usize::try_from(MAX_PACKAGE_JSON_BYTES).unwrap(), b'a');
    huge.extend_from_slice(b"\"}");
    fx.write("node_modules/huge/package.json", &huge);
    fx.write("node_modules/array/package.json", "[1, 2]");
    fx.write(
        "node_modules/no-version/package.json",
        "{\"name\": \"no-version\"}",
    );
    std::fs::create_dir_all(fx.root().join("node_modules/empty")).unwrap();
    fx.write("node_modules/stray-file", "not a package");

    let lock = fx.extract();
    let limit = MAX_PACKAGE_JSON_BYTES + 2;
    assert_eq!(
        warnings(&lock, fx.root()),
        vec![
            "<root>/node_modules/array/package.json: is not a JSON object; not inventoried".to_owned(),
            "<root>/node_modules/bad/package.json: invalid JSON at line 3: key must be a string at line 3 column 3; not inventoried".to_owned(),
            "<root>/node_modules/dir-pkg/package.json: is not a regular file; not inventoried".to_owned(),
            "<root>/node_modules/empty: no package.json; not inventoried".to_owned(),
            format!("<root>/node_modules/huge/package.json: is larger than the 8 MiB limit ({limit} bytes); not inventoried"),
            "<root>/node_modules/no-version/package.json: has no `version`; inventoried with an empty version".to_owned(),
        ]
    );
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/bad/node_modules/inner inner@2.0.0 Registry []",
            "node_modules/good good@1.0.0 Registry []",
            "node_modules/no-version no-version@ Registry []",
        ])
    );
}

#[test]
fn old_npm_resolved_and_integrity_are_kept() {
    let fx = Fixture::new();
    fx.package(
        "",
        "app",
        "1.0.0",
        json!({ "dependencies": { "a": "1", "g": "1", "bad": "1" } }),
    );
    fx.package(
        "node_modules/a",
        "a",
        "1.0.0",
        json!({
            "_resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz",
            "_integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk= sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
        }),
    );
    fx.package(
        "node_modules/g",
        "g",
        "1.0.0",
        json!({ "_resolved": "git+ssh://git@github.com/u/g.git#abc" }),
    );
    fx.package(
        "node_modules/bad",
        "bad",
        "1.0.0",
        json!({ "_integrity": "sha512-???" }),
    );
    let lock = fx.extract();
    let by_name = |name: &str| lock.packages.iter().find(|p| p.name == name).unwrap();
    let a = by_name("a");
    assert_eq!(
        a.resolved.as_deref(),
        Some("https://registry.npmjs.org/a/-/a-1.0.0.tgz")
    );
    assert_eq!(a.source, SourceKind::Registry);
    let integrity = a.integrity.as_ref().unwrap();
    assert_eq!(
        integrity.algorithm,
        bulwark_types::Algorithm::Sha512,
        "the strongest is kept"
    );
    assert_eq!(by_name("g").source, SourceKind::Git);
    assert_eq!(by_name("bad").integrity, None);
    assert_eq!(lock.warnings.len(), 1, "{:?}", lock.warnings);
    assert!(
        lock.warnings[0]
            .contains("node_modules/bad/package.json: `_integrity` is not a valid SRI value"),
        "{:?}",
        lock.warnings
    );
}

#[cfg(unix)]
#[test]
fn yarn_pnpm_linker_store_packages_are_read_once() {
    let fx = Fixture::new();
    fx.package("", "app", "1.0.0", json!({ "dependencies": { "a": "1" } }));
    fx.package(
        "node_modules/.store/a-npm-1.0.0-abc/package",
        "a",
        "1.0.0",
        json!({ "dependencies": { "b": "1" } }),
    );
    fx.link(
        "node_modules/.store/a-npm-1.0.0-abc/node_modules/a",
        "../package",
    );
    fx.link(
        "node_modules/.store/a-npm-1.0.0-abc/node_modules/b",
        "../../b-npm-1.0.0-def/package",
    );
    fx.package(
        "node_modules/.store/b-npm-1.0.0-def/package",
        "b",
        "1.0.0",
        json!({}),
    );
    fx.write(
        "node_modules/.store/nameless-0/package/package.json",
        "{\"version\": \"1.0.0\"}",
    );
    fx.link("node_modules/a", ".store/a-npm-1.0.0-abc/package");
    let lock = fx.extract();
    assert_eq!(lock.format_version, "yarn");
    assert_eq!(
        summary(&lock),
        strings(&[
            "node_modules/.store/a-npm-1.0.0-abc/package a@1.0.0 Registry [b=node_modules/.store/b-npm-1.0.0-def/package]",
            "node_modules/.store/b-npm-1.0.0-def/package b@1.0.0 Registry []",
            "node_modules/.store/nameless-0/package @1.0.0 Registry []",
        ])
    );
    assert_eq!(
        warnings(&lock, fx.root()),
        strings(&[
            "<root>/node_modules/.store/nameless-0/package/package.json: has no `name`, and its path does not tell it; inventoried with an empty name"
        ])
    );
}

#[test]
fn missing_root_manifest_takes_every_top_level_package_as_direct() {
    let fx = Fixture::new();
    fx.package(
        "node_modules/a",
        "a",
        "1.0.0",
        json!({ "dependencies": { "b": "1" } }),
    );
    fx.package("node_modules/@s/b", "@s/b", "1.0.0", json!({}));
    fx.package("node_modules/a/node_modules/b", "b", "1.0.0", json!({}));
    let lock = fx.extract();
    assert_eq!(lock.format_version, "nested");
    assert_eq!(
        importers(&lock),
        strings(&["\"\" [@s/b=node_modules/@s/b, a=node_modules/a]"])
    );
    assert_eq!(
        warnings(&lock, fx.root()),
        strings(&[
            "<root>/package.json: not found; every top-level package is taken as a direct dependency"
        ])
    );
    let project = lock.into_inventory();
    assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
}

#[test]
fn deep_trees_are_bounded() {
    let fx = Fixture::new();
    fx.package("", "app", "1.0.0", json!({ "dependencies": { "d0": "1" } }));
    fx.package("node_modules/shared", "shared", "1.0.0", json!({}));
    let levels = MAX_DEPTH + 6;
    let mut dir = String::from("node_modules");
    for level in 0..levels {
        dir = format!("{dir}/d{level}");
        let next = format!("d{}", level + 1);
        fx.package(
            &dir,
            &format!("d{level}"),
            "1.0.0",
            json!({ "dependencies": { next: "1", "shared": "1" } }),
        );
        dir.push_str("/node_modules");
    }
    let lock = fx.extract();
    assert_eq!(lock.packages.len(), MAX_DEPTH + 2, "d0..=d64 and shared");
    assert_eq!(lock.warnings.len(), 1, "{:?}", lock.warnings);
    assert!(lock.warnings[0].contains(&format!("d{MAX_DEPTH}/node_modules: more than 64 nested")));
    let deepest = lock
        .packages
        .iter()
        .find(|p| p.name == format!("d{MAX_DEPTH}"))
        .unwrap();
    let shared = &deepest.dependencies[1];
    assert_eq!(shared.name, "shared");
    let PackageId(target) = shared.target.unwrap();
    assert_eq!(
        lock.packages[target].install_path.as_deref(),
        Some("node_modules/shared")
    );
    assert_eq!(
        deepest.dependencies[0].target, None,
        "not read beyond the limit"
    );
    let project = lock.into_inventory();
    assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
}

#[cfg(unix)]
#[test]
fn refuses_what_is_not_a_real_node_modules_directory() {
    let fx = Fixture::new();
    let missing = extract_tree(&fx.node_modules()).unwrap_err();
    assert_eq!(missing.file, fx.node_modules());
    assert!(missing.message.starts_with("cannot read"), "{missing}");
    fx.write("node_modules", "file");
    let file = extract_tree(&fx.node_modules()).unwrap_err();
    assert_eq!(file.message, "is not a directory");
    std::fs::create_dir_all(fx.root().join("vendor")).unwrap();
    let other = extract_tree(&fx.root().join("vendor")).unwrap_err();
    assert_eq!(other.message, "is not a `node_modules` directory");
    let linked = Fixture::new();
    std::fs::create_dir_all(linked.root().join("real")).unwrap();
    linked.link("node_modules", "real");
    let link = extract_tree(&linked.node_modules()).unwrap_err();
    assert!(link.message.starts_with("is a symbolic link"), "{link}");
}

#[test]
fn node_resolution_walks_up_without_looking_inside_node_modules_dirs() {
    let at: HashMap<String, PackageId> = [
        ("node_modules/x", 0),
        ("node_modules/a/node_modules/x", 1),
        ("node_modules/.pnpm/node_modules/x", 2),
        ("node_modules/.pnpm/k/node_modules/x", 3),
    ]
    .into_iter()
    .map(|(path, id)| (path.to_owned(), PackageId(id)))
    .collect();
    let cases = [
        ("", Some(0)),
        ("node_modules/b", Some(0)),
        ("node_modules/a", Some(1)),
        ("node_modules/a/node_modules/c", Some(1)),
        ("node_modules/.pnpm/k/node_modules/y", Some(3)),
        ("node_modules/.pnpm/j/node_modules/y", Some(2)),
        ("packages/lib", Some(0)),
    ];
    for (from, expected) in cases {
        assert_eq!(resolve(&at, from, "x"), expected.map(PackageId), "{from}");
    }
    assert_eq!(resolve(&at, "node_modules/a", "y"), None);
}

#[test]
fn pnpm_store_keys_tell_non_registry_sources() {
    let cases = [
        ("node_modules/.pnpm/a@1.0.0/node_modules/a", None),
        (
            "node_modules/.pnpm/@s+a@1.0.0_react@18.0.0/node_modules/@s/a",
            None,
        ),
        (
            "node_modules/.pnpm/a@file+vendor+a.tgz/node_modules/a",
            Some(SourceKind::File),
        ),
        (
            "node_modules/.pnpm/a@https+++codeload.github.com+u+a+tar.gz+abc/node_modules/a",
            Some(SourceKind::Git),
        ),
        (
            "node_modules/.pnpm/a@https+++x.org+a.tgz/node_modules/a",
            Some(SourceKind::RemoteTarball),
        ),
        ("node_modules/a", None),
    ];
    for (path, expected) in cases {
        assert_eq!(store_source(path), expected, "{path}");
    }
}

/// Builds `count` packages: a flat top level where each package depends on the one before
/// it, and every tenth package also nests its own copy of that dependency, as npm does for
/// version conflicts.
fn wide_tree(fx: &Fixture, count: usize) {
    let mut root_deps = serde_json::Map::new();
    let mut written = 0;
    let mut index: usize = 0;
    while written < count {
        let name = format!("pkg-{index}");
        let previous = index.checked_sub(1).map(|p| format!("pkg-{p}"));
        let dependencies: serde_json::Map<String, Value> =
            previous.iter().map(|p| (p.clone(), json!("1"))).collect();
        fx.package(
            &format!("node_modules/{name}"),
            &name,
            "1.0.0",
            json!({ "dependencies": dependencies, "description": "x".repeat(2000) }),
        );
        root_deps.insert(name.clone(), json!("1"));
        written += 1;
        if let Some(previous) = previous
            && index.is_multiple_of(10)
            && written < count
        {
            fx.package(
                &format!("node_modules/{name}/node_modules/{previous}"),
                &previous,
                "2.0.0",
                json!({}),
            );
            written += 1;
        }
        index += 1;
    }
    fx.package("", "app", "1.0.0", json!({ "dependencies": root_deps }));
}

#[test]
fn reads_1500_packages() {
    let fx = Fixture::new();
    wide_tree(&fx, 1500);
    let lock = fx.extract();
    assert_eq!(lock.packages.len(), 1500);
    assert!(lock.warnings.is_empty());
    let resolved = lock
        .packages
        .iter()
        .flat_map(|p| &p.dependencies)
        .filter(|d| d.target.is_some())
        .count();
    assert_eq!(
        resolved,
        lock.packages
            .iter()
            .map(|p| p.dependencies.len())
            .sum::<usize>()
    );
}

/// Measures the walk of 1,500 packages (`cargo test --release -- --ignored --nocapture`).
#[test]
#[ignore = "timing, run explicitly"]
#[expect(clippy::print_stdout, reason = "the measurement is the output")]
fn time_1500_packages() {
    let fx = Fixture::new();
    wide_tree(&fx, 1500);
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let project = fx.extract().into_inventory();
        best = best.min(start.elapsed());
        assert_eq!(project.packages.len(), 1500);
    }
    println!("1500 packages: best of 5 = {best:?}");
    // A real tree to measure as well, e.g. a `react-scripts` install.
    if let Some(tree) = std::env::var_os("BULWARK_INSTALLED_TREE") {
        let tree = PathBuf::from(tree);
        let mut best = std::time::Duration::MAX;
        let mut counts = (0, 0, 0);
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let lock = extract_tree(&tree).unwrap();
            best = best.min(start.elapsed());
            let edges = lock.packages.iter().flat_map(|p| &p.dependencies);
            counts = (
                lock.packages.len(),
                edges.clone().filter(|d| d.target.is_some()).count(),
                edges.filter(|d| d.target.is_none()).count(),
            );
        }
        println!(
            "{}: {} packages, {} resolved and {} unresolved edges: best of 5 = {best:?}",
            tree.display(),
            counts.0,
            counts.1,
            counts.2
        );
    }
}

// Real trees: skeletons rebuilt from `tests/fixtures/installed/<layout>/layout.json`.

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/installed")
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Rebuilds the recorded tree of `layout`: the project's manifests as the generator used them,
/// minimal package.json files and the recorded symlinks.
#[cfg(unix)]
fn rebuild(layout: &str) -> Fixture {
    let fx = Fixture::new();
    let source = fixture_dir();
    let project = std::fs::read_to_string(source.join("project/package.json")).unwrap();
    let project = if layout == "npm" {
        project
    } else {
        project.replace(
            "\"installed-fixture-lib\": \"*\"",
            "\"installed-fixture-lib\": \"workspace:*\"",
        )
    };
    fx.write("package.json", project);
    if layout == "pnpm" {
        fx.write(
            "pnpm-workspace.yaml",
            std::fs::read(source.join("project/pnpm-workspace.yaml")).unwrap(),
        );
    }
    fx.write(
        "packages/lib/package.json",
        std::fs::read(source.join("project/packages/lib/package.json")).unwrap(),
    );
    let recorded = load(&source.join(layout).join("layout.json"));
    for package in recorded["packages"].as_array().unwrap() {
        let mut manifest = serde_json::Map::new();
        for key in [
            "name",
            "version",
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            if let Some(value) = package.get(key).filter(|v| !v.is_null()) {
                manifest.insert(key.to_owned(), value.clone());
            }
        }
        fx.write(
            package["path"].as_str().unwrap(),
            serde_json::to_string_pretty(&manifest).unwrap(),
        );
    }
    for link in recorded["links"].as_array().unwrap() {
        fx.link(
            link["path"].as_str().unwrap(),
            link["target"].as_str().unwrap(),
        );
    }
    for marker in recorded["markers"].as_array().unwrap() {
        let marker = marker.as_str().unwrap();
        if marker != ".package-lock.json" {
            fx.write(&format!("node_modules/{marker}"), "");
        }
    }
    let hidden = source.join(layout).join("hidden-lockfile.json");
    if hidden.exists() {
        fx.write(
            "node_modules/.package-lock.json",
            std::fs::read(hidden).unwrap(),
        );
    }
    fx
}

/// What a manager's listing says, with packages named as the listing names them:
/// `name@version` of installed packages (local ones left out) and `parent dep-name
/// child-version` edges.
#[derive(Default)]
struct Listing {
    ids: BTreeSet<String>,
    edges: BTreeSet<String>,
}

const ROOT_LABEL: &str = "installed-fixture@1.0.0";

/// `npm ls --all --json`: keys are the installed (alias) names.
fn npm_listing(node: &Value, parent: &str, listing: &mut Listing) {
    let Some(children) = node.get("dependencies").and_then(Value::as_object) else {
        return;
    };
    for (key, child) in children {
        let version = child["version"].as_str().unwrap();
        listing.edges.insert(format!("{parent} {key} {version}"));
        let local = child
            .get("resolved")
            .and_then(Value::as_str)
            .is_some_and(|r| r.starts_with("file:"));
        let id = format!("{key}@{version}");
        if !local {
            listing.ids.insert(id.clone());
        }
        npm_listing(child, &id, listing);
    }
}

/// `pnpm list --recursive --depth Infinity --json`: `from` is the real name.
fn pnpm_listing(node: &Value, parent: &str, listing: &mut Listing) {
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(children) = node.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (key, child) in children {
            let version = child["version"].as_str().unwrap();
            if version.starts_with("link:") {
                // A workspace member: its own project entry lists its dependencies.
                continue;
            }
            let id = format!("{}@{version}", child["from"].as_str().unwrap());
            listing.edges.insert(format!("{parent} {key} {version}"));
            listing.ids.insert(id.clone());
            pnpm_listing(child, &id, listing);
        }
    }
}

/// Splits `ident@rest` (the ident may start with `@`).
fn split_ident(text: &str) -> (&str, &str) {
    let at = text[1..].find('@').unwrap() + 1;
    (&text[..at], &text[at + 1..])
}

/// `yarn info --all --recursive --json`: one JSON value per line, real names.
fn yarn_listing(text: &str) -> Listing {
    let entries: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let version_of = |locator: &str| -> String {
        let (ident, reference) = split_ident(locator);
        // Virtual locators (`debug@virtual:<hash>#npm:2.6.9`) stand for the plain one.
        let reference = reference.rsplit_once('#').map_or(reference, |(_, r)| r);
        let plain = format!("{ident}@{reference}");
        let entry = entries
            .iter()
            .find(|e| e["value"] == plain.as_str())
            .unwrap();
        entry["children"]["Version"].as_str().unwrap().to_owned()
    };
    let mut listing = Listing::default();
    for entry in &entries {
        let value = entry["value"].as_str().unwrap();
        let (ident, reference) = split_ident(value);
        let version = entry["children"]["Version"].as_str().unwrap();
        let id = format!("{ident}@{version}");
        if !reference.starts_with("workspace:") {
            listing.ids.insert(id.clone());
        }
        for dep in entry["children"]["Dependencies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (name, _) = split_ident(dep["descriptor"].as_str().unwrap());
            let child = version_of(dep["locator"].as_str().unwrap());
            listing.edges.insert(format!("{id} {name} {child}"));
        }
    }
    listing
}

/// `bun pm ls --all`: a text tree of installed names, four columns per level. The first level
/// is what is hoisted to the top of `node_modules`, not the root's dependencies, so only the
/// deeper levels are edges.
fn bun_listing(text: &str) -> Listing {
    let mut listing = Listing::default();
    let mut parents: Vec<Option<String>> = vec![None];
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let marker = line.find("── ").unwrap();
        let depth = line[..marker].chars().count() / 4;
        let entry = &line[marker + "── ".len()..];
        let (name, version) = split_ident(entry);
        parents.truncate(depth + 1);
        let local = version.starts_with("workspace:");
        if let Some(parent) = &parents[depth]
            && !local
        {
            listing.edges.insert(format!("{parent} {name} {version}"));
        }
        let id = format!("{name}@{version}");
        if !local {
            listing.ids.insert(id.clone());
        }
        parents.push((!local).then_some(id));
    }
    listing
}

fn listing(layout: &str) -> Listing {
    let dir = fixture_dir().join(layout);
    let mut listing = Listing::default();
    if layout == "npm" {
        npm_listing(&load(&dir.join("listing.json")), ROOT_LABEL, &mut listing);
    } else if layout == "pnpm" {
        for project in load(&dir.join("listing.json")).as_array().unwrap() {
            let parent = format!(
                "{}@{}",
                project["name"].as_str().unwrap(),
                project["version"].as_str().unwrap()
            );
            pnpm_listing(project, &parent, &mut listing);
        }
    } else if layout.starts_with("yarn") {
        listing = yarn_listing(&std::fs::read_to_string(dir.join("listing.ndjson")).unwrap());
    } else {
        listing = bun_listing(&std::fs::read_to_string(dir.join("listing.txt")).unwrap());
    }
    assert!(
        listing.ids.len() > 10 && !listing.edges.is_empty(),
        "{layout}"
    );
    listing
}

/// The names each package is known under: its name, its alias and the names it is required
/// by (managers list aliases under either).
fn known_names(lock: &Lockfile) -> Vec<BTreeSet<String>> {
    let mut names: Vec<BTreeSet<String>> = lock
        .packages
        .iter()
        .map(|p| p.alias.iter().chain([&p.name]).cloned().collect())
        .collect();
    let edges = lock
        .packages
        .iter()
        .flat_map(|p| &p.dependencies)
        .chain(lock.importers.iter().flat_map(|i| &i.dependencies));
    for dep in edges {
        if let Some(PackageId(target)) = dep.target {
            names[target].insert(dep.name.clone());
        }
    }
    names
}

/// Compares bulwark's inventory of a rebuilt real tree with the manager's listing.
#[cfg(unix)]
fn check_real(layout: &str, expected_layout: &str) {
    let fx = rebuild(layout);
    let lock = fx.extract();
    assert!(lock.warnings.is_empty(), "{layout}: {:?}", lock.warnings);
    assert_eq!(lock.format_version, expected_layout, "{layout}");
    let expected = listing(layout);
    let names = known_names(&lock);

    let mut known = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for (index, package) in lock.packages.iter().enumerate() {
        let ids: BTreeSet<String> = names[index]
            .iter()
            .map(|name| format!("{name}@{}", package.version))
            .collect();
        if !package.source.is_local() {
            assert!(
                ids.iter().any(|id| expected.ids.contains(id)),
                "{layout}: {ids:?} at {:?} is not in the listing",
                package.install_path
            );
            known.extend(ids.iter().cloned());
        }
        for dep in &package.dependencies {
            if let Some(PackageId(target)) = dep.target {
                for id in &ids {
                    let version = &lock.packages[target].version;
                    edges.insert(format!("{id} {} {version}", dep.name));
                }
            }
        }
    }
    for importer in &lock.importers {
        let parent = format!(
            "{}@{}",
            importer.name.as_deref().unwrap_or_default(),
            importer.version.as_deref().unwrap_or_default()
        );
        for dep in &importer.dependencies {
            if let Some(PackageId(target)) = dep.target {
                let version = &lock.packages[target].version;
                edges.insert(format!("{parent} {} {version}", dep.name));
            }
        }
    }
    let missing: Vec<_> = expected.ids.difference(&known).collect();
    assert!(
        missing.is_empty(),
        "{layout}: listed but not found: {missing:?}"
    );
    let missing: Vec<_> = expected.edges.difference(&edges).collect();
    assert!(
        missing.is_empty(),
        "{layout}: edges not found: {missing:#?}"
    );

    let mut ids: Vec<String> = lock
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(before, ids.len(), "{layout}: a package is counted twice");

    let root = &lock.importers[0];
    let project = lock.clone().into_inventory();
    for dep in &root.dependencies {
        let Some(PackageId(target)) = dep.target else {
            panic!("{layout}: direct dependency {} unresolved", dep.name);
        };
        let package = &project.packages[target];
        assert_eq!(
            package.dev,
            dep.kind == DependencyKind::Dev,
            "{layout} {}",
            dep.name
        );
        assert_eq!(
            package.optional,
            dep.kind == DependencyKind::Optional,
            "{layout} {}",
            dep.name
        );
    }
}

#[cfg(unix)]
#[test]
fn real_npm_tree_matches_npm_ls() {
    check_real("npm", "npm");
    // npm's own dev/optional flags, from its hidden lockfile, agree with the inventory.
    let project = rebuild("npm").extract().into_inventory();
    let hidden = load(&fixture_dir().join("npm/hidden-lockfile.json"));
    let mut checked = 0;
    for package in &project.packages {
        let Some(recorded) = package
            .install_path
            .as_ref()
            .and_then(|path| hidden["packages"].get(path))
        else {
            continue;
        };
        let flag = |key: &str| recorded.get(key).and_then(Value::as_bool).unwrap_or(false);
        assert_eq!(package.dev, flag("dev"), "{} dev", package.id());
        assert_eq!(
            package.optional,
            flag("optional"),
            "{} optional",
            package.id()
        );
        checked += 1;
    }
    assert_eq!(checked, project.packages.len());
}

#[cfg(unix)]
#[test]
fn real_pnpm_tree_matches_pnpm_list() {
    check_real("pnpm", "pnpm");
}

#[cfg(unix)]
#[test]
fn real_yarn_node_modules_tree_matches_yarn_info() {
    check_real("yarn-node-modules", "yarn");
}

#[cfg(unix)]
#[test]
fn real_yarn_pnpm_linker_tree_matches_yarn_info() {
    check_real("yarn-pnpm", "yarn");
}

#[cfg(unix)]
#[test]
fn real_bun_hoisted_tree_matches_bun_pm_ls() {
    check_real("bun-hoisted", "nested");
}

#[cfg(unix)]
#[test]
fn real_bun_isolated_tree_matches_bun_pm_ls() {
    check_real("bun-isolated", "bun");
}
