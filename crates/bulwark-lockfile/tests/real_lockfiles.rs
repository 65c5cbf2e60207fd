//! Real-world lockfiles from `../shared/fixtures/lockfiles-real`: bulwark's distinct
//! `name@version` set (local and workspace packages excluded) must equal the independently
//! computed `reference-packages.txt` of each.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_lockfile::{extract_file, extractor_for};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lockfiles-real")
}

/// Extracts the one lockfile in `folder` and compares it with the reference set.
fn check(folder: &str, lockfile: &str) {
    let dir = fixtures().join(folder);
    let path = dir.join(lockfile);
    let extractor = extractor_for(&path).unwrap_or_else(|| panic!("no extractor for {path:?}"));
    let project = extract_file(extractor, &path)
        .unwrap_or_else(|error| panic!("{error}"))
        .into_inventory();
    let ours: BTreeSet<String> = project
        .packages
        .iter()
        .filter(|package| !package.source.is_local())
        .map(|package| package.id())
        .collect();
    let reference_text = std::fs::read_to_string(dir.join("reference-packages.txt")).unwrap();
    let reference: BTreeSet<String> = reference_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let missing: Vec<_> = reference.difference(&ours).take(20).collect();
    let extra: Vec<_> = ours.difference(&reference).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{folder}: {} ours vs {} reference\nmissing (first 20): {missing:#?}\nextra (first 20): {extra:#?}",
        ours.len(),
        reference.len()
    );
    for package in &project.packages {
        assert!(
            package.location.line >= 1,
            "{folder}: {} has no line",
            package.id()
        );
    }
}

/// Counts of the npm inventory of `folder`: (packages, dev, optional, peer, aliased,
/// without `resolved`, importers), and its warnings.
fn npm_stats(folder: &str, file: &str) -> ([usize; 7], Vec<String>) {
    let path = fixtures().join(folder).join(file);
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    let importers = lockfile.importers.len();
    let project = lockfile.into_inventory();
    let count = |keep: &dyn Fn(&bulwark_lockfile::InventoryPackage) -> bool| {
        project.packages.iter().filter(|p| keep(p)).count()
    };
    let counts = [
        project.packages.len(),
        count(&|p| p.dev),
        count(&|p| p.optional),
        count(&|p| p.peer),
        count(&|p| p.alias.is_some()),
        count(&|p| p.resolved.is_none()),
        importers,
    ];
    (counts, project.warnings)
}

#[test]
fn npm_v1_npm_cli() {
    check("npm-v1/npm-cli", "package-lock.json");
    // reference.json: 1009 instances, 496 `dev`, 4 `optional`, 158 `bundled` (no `resolved`).
    let (counts, warnings) = npm_stats("npm-v1/npm-cli", "package-lock.json");
    assert_eq!(counts, [1009, 496, 4, 0, 0, 158, 1]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn npm_v2_axios() {
    check("npm-v2/axios", "package-lock.json");
    // reference.json: 2115 instances, 2107 `dev`, 42 `optional`, 190 `peer`.
    let (counts, warnings) = npm_stats("npm-v2/axios", "package-lock.json");
    assert_eq!(counts, [2115, 2107, 42, 190, 0, 0, 1]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn npm_v3_npm_cli() {
    check("npm-v3/npm-cli", "package-lock.json");
    // reference.json: 1241 instances, 1030 `dev`, 6 `optional`, 164 `peer`, 3 aliases,
    // 163 of the 356 `inBundle` entries have no `resolved` (no other package lacks one), the
    // root and 16 workspaces.
    let (counts, warnings) = npm_stats("npm-v3/npm-cli", "package-lock.json");
    assert_eq!(counts, [1241, 1030, 6, 164, 3, 163, 17]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let path = fixtures().join("npm-v3/npm-cli/package-lock.json");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    let mut workspaces: Vec<String> = lockfile.importers[1..]
        .iter()
        .map(|i| {
            format!(
                "{}@{}",
                i.name.as_deref().unwrap_or("?"),
                i.version.as_deref().unwrap_or("?")
            )
        })
        .collect();
    workspaces.sort();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("npm-v3/npm-cli/reference.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        serde_json::json!(workspaces),
        reference["workspace_packages"]
    );
}

#[test]
fn npm_shrinkwrap_firebase_tools() {
    check("npm-shrinkwrap/firebase-tools", "npm-shrinkwrap.json");
    // reference.json: 1858 instances, 1067 `dev`, 173 `optional` (the 15 `devOptional` are
    // neither), 4 `peer`, 4 aliases.
    let (counts, warnings) = npm_stats("npm-shrinkwrap/firebase-tools", "npm-shrinkwrap.json");
    assert_eq!(counts, [1858, 1067, 173, 4, 4, 0, 1]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn yarn_v1_vue_core() {
    check("yarn-v1/vue-core", "yarn.lock");
    // reference.json: 912 entries, every one a distinct name@version; the root package.json
    // names 16 workspace members (`packages/*`), which yarn 1 leaves out of the lockfile.
    let path = fixtures().join("yarn-v1/vue-core/yarn.lock");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    assert_eq!(lockfile.format_version, "1");
    assert_eq!(lockfile.packages.len(), 912);
    assert_eq!(lockfile.importers.len(), 17);
    assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for package in &lockfile.packages {
        let header = lines[package.line as usize - 1];
        assert!(
            !header.starts_with(' ') && header.ends_with(':') && header.contains(&package.name),
            "{}@{} points at line {}: {header}",
            package.name,
            package.version,
            package.line
        );
        assert!(package.integrity.is_some(), "{}", package.name);
        for dep in &package.dependencies {
            assert!(
                dep.target.is_some(),
                "{} -> {} unresolved",
                package.name,
                dep.name
            );
        }
    }
    let project = lockfile.into_inventory();
    // Everything is reachable from the root or a member; the root's tooling is dev-only.
    assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
    let dev = project.packages.iter().filter(|p| p.dev).count();
    assert!(dev > 800 && dev < 912, "{dev} dev packages");
}

/// The berry lockfiles as read: `(packages, importers, packages without a checksum)` from
/// `reference.json` (entries less workspaces; `no_checksum` plus the `link:` entries), every
/// dependency resolved and every line a non-indented entry key naming the package.
fn check_berry(folder: &str, packages: usize, importers: usize, no_checksum: usize) {
    let path = fixtures().join(folder).join("yarn.lock");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    assert_eq!(lockfile.packages.len(), packages, "{folder}");
    assert_eq!(lockfile.importers.len(), importers, "{folder}");
    assert_eq!(
        lockfile
            .packages
            .iter()
            .filter(|p| p.integrity.is_none())
            .count(),
        no_checksum,
        "{folder}"
    );
    assert!(
        lockfile
            .warnings
            .iter()
            .all(|w| w.contains("patched locally")),
        "{folder}: {:?}",
        lockfile.warnings
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for package in &lockfile.packages {
        let key = lines[package.line as usize - 1];
        assert!(
            !key.starts_with(' ') && key.ends_with(':') && key.contains(&package.name),
            "{folder}: {}@{} points at line {}: {key}",
            package.name,
            package.version,
            package.line
        );
    }
    let unresolved: Vec<_> = lockfile
        .importers
        .iter()
        .flat_map(|importer| &importer.dependencies)
        .chain(
            lockfile
                .packages
                .iter()
                .flat_map(|package| &package.dependencies),
        )
        .filter(|dep| dep.kind != bulwark_lockfile::DependencyKind::Peer && dep.target.is_none())
        .map(|dep| dep.name.clone())
        .collect();
    // Edges to workspace members are links, not packages; nothing else may be unresolved.
    let members: BTreeSet<_> = lockfile
        .importers
        .iter()
        .filter_map(|i| i.name.clone())
        .collect();
    let stray: Vec<_> = unresolved
        .iter()
        .filter(|name| !members.contains(*name))
        .collect();
    assert!(stray.is_empty(), "{folder}: unresolved {stray:?}");
}

#[test]
fn yarn_berry_babel_m8() {
    // The reference (like yarn's own `yarn info`, see yarn-info-check.json) lists berry's four
    // `link:` entries (`$repo-utils` twice, and `link:./nope` stand-ins for two `@types`
    // packages) as `name@0.0.0-use.local`. bulwark classifies them as local
    // (`SourceKind::Link`: nothing is downloaded), which `check` leaves out. So this compares
    // the full reference with bulwark's non-local packages plus exactly those links.
    let dir = fixtures().join("yarn-berry/babel-m8");
    let path = dir.join("yarn.lock");
    let project = extract_file(extractor_for(&path).unwrap(), &path)
        .unwrap()
        .into_inventory();
    let links: Vec<_> = project
        .packages
        .iter()
        .filter(|p| p.source.is_local())
        .collect();
    assert_eq!(links.len(), 4);
    assert!(
        links
            .iter()
            .all(|p| p.source == bulwark_types::SourceKind::Link
                && p.version == "0.0.0-use.local"
                && p.resolved.as_deref().is_some_and(|r| r.contains("@link:")))
    );
    let ours: BTreeSet<String> = project.packages.iter().map(|p| p.id()).collect();
    let reference: BTreeSet<String> = std::fs::read_to_string(dir.join("reference-packages.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(reference.len(), 1575);
    let missing: Vec<_> = reference.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&reference).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    check_berry("yarn-berry/babel-m8", 1584, 164, 73);
    // `interpret@3.1.1` and `rollup-plugin-dts@6.1.0` carry local patches.
    let patched: Vec<_> = project
        .packages
        .iter()
        .filter(|p| {
            p.resolved
                .as_deref()
                .is_some_and(|r| r.contains("@patch:") && !r.contains("builtin<"))
        })
        .map(|p| p.id())
        .collect();
    assert_eq!(patched, ["interpret@3.1.1", "rollup-plugin-dts@6.1.0"]);
}

#[test]
fn yarn_berry_jest_m6() {
    check("yarn-berry/jest-m6", "yarn.lock");
    check_berry("yarn-berry/jest-m6", 2046, 71, 43);
}

/// pnpm lockfiles against `reference.json` and what pnpm itself records: package instances
/// (peer variants included, `virtual_store_dirs` of `pnpm-ls-check.json` for v7/v9), importers,
/// distinct names, `link:` importer dependencies, and the dev/optional counts where pnpm
/// records them (v5/v6 `dev:`; `optional:` in all). Flags derived from bulwark's own edges
/// (recorded flags cleared) must equal the recorded ones, every package must be reachable,
/// and every line must point at the package's key.
fn check_pnpm(folder: &str, counts: [usize; 5], dev: Option<usize>, optional: usize) {
    let [instances, importers, names, links, local] = counts;
    let path = fixtures().join(folder).join("pnpm-lock.yaml");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    assert!(
        lockfile.warnings.is_empty(),
        "{folder}: {:?}",
        lockfile.warnings
    );
    assert_eq!(lockfile.packages.len(), instances, "{folder}: instances");
    assert_eq!(lockfile.importers.len(), importers, "{folder}: importers");
    let link_dependencies = lockfile
        .importers
        .iter()
        .flat_map(|importer| &importer.dependencies)
        .filter(|dependency| dependency.target.is_none())
        .count();
    assert_eq!(
        link_dependencies, links,
        "{folder}: link: importer dependencies"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for package in &lockfile.packages {
        let line = lines[package.line as usize - 1];
        // Directory packages are keyed by their directory (`file:playground/dep`).
        let named = line.contains(&package.name)
            || package
                .resolved
                .as_deref()
                .is_some_and(|r| line.contains(r));
        assert!(
            line.starts_with("  ") && !line.starts_with("   ") && named,
            "{folder}: {}@{} points at {line:?}",
            package.name,
            package.version
        );
    }
    let mut unflagged = lockfile.clone();
    for package in &mut unflagged.packages {
        package.flags = bulwark_lockfile::Flags::default();
    }
    let project = lockfile.into_inventory();
    let derived = unflagged.into_inventory();
    for (recorded, derived) in project.packages.iter().zip(&derived.packages) {
        assert_eq!(
            (recorded.dev, recorded.optional),
            (derived.dev, derived.optional),
            "{folder}: {} flags derived from the graph differ from pnpm's",
            recorded.id()
        );
        assert!(
            !recorded.paths.is_empty(),
            "{folder}: {} unreachable",
            recorded.id()
        );
    }
    if let Some(dev) = dev {
        assert_eq!(
            project.packages.iter().filter(|p| p.dev).count(),
            dev,
            "{folder}: dev"
        );
    }
    let optional_count = project.packages.iter().filter(|p| p.optional).count();
    assert_eq!(optional_count, optional, "{folder}: optional");
    let distinct: BTreeSet<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(distinct.len(), names, "{folder}: distinct names");
    let local_count = project
        .packages
        .iter()
        .filter(|p| p.source.is_local())
        .count();
    assert_eq!(local_count, local, "{folder}: local packages");
}

#[test]
fn pnpm_v5_vue_core_5_3() {
    check("pnpm-v5/vue-core-5.3", "pnpm-lock.yaml");
    // reference.json: 924 keys, 17 importers, 784 names, 31 link deps, f_dev 898, f_optional 23.
    check_pnpm("pnpm-v5/vue-core-5.3", [924, 17, 784, 31, 0], Some(898), 23);
}

#[test]
fn pnpm_v5_vite_5_4() {
    // The reference (like pnpm's own listing, see pnpm-convert-check.json) lists the 57
    // `file:` directory packages (`resolution: {type: directory}`) that pnpm copies into its
    // store, by the name and version their entries record. bulwark classifies them as local
    // (`SourceKind::File`: nothing is downloaded), which `check` leaves out. So this compares
    // the full reference with bulwark's non-local packages plus exactly those directories.
    let dir = fixtures().join("pnpm-v5/vite-5.4");
    let path = dir.join("pnpm-lock.yaml");
    let project = extract_file(extractor_for(&path).unwrap(), &path)
        .unwrap()
        .into_inventory();
    let local: Vec<_> = project
        .packages
        .iter()
        .filter(|p| p.source.is_local())
        .collect();
    assert_eq!(local.len(), 57);
    assert!(local.iter().all(|p| {
        p.source == bulwark_types::SourceKind::File
            && p.resolved
                .as_deref()
                .is_some_and(|r| r.starts_with("playground/"))
            && p.integrity.is_none()
    }));
    let ours: BTreeSet<String> = project.packages.iter().map(|p| p.id()).collect();
    let reference: BTreeSet<String> = std::fs::read_to_string(dir.join("reference-packages.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(reference.len(), 1232);
    let missing: Vec<_> = reference.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&reference).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    // reference.json: 1237 keys, 160 importers, 1058 names, 44 link deps, f_dev 756,
    // f_optional 75, res_directory 57.
    check_pnpm("pnpm-v5/vite-5.4", [1237, 160, 1058, 44, 57], Some(756), 75);
    // Three packages carry patches (`patchedDependencies`); the hash is their key's suffix.
    let mut patched: Vec<_> = project
        .packages
        .iter()
        .filter(|p| {
            ["sirv@2.0.2", "dotenv-expand@9.0.0", "chokidar@3.5.3"].contains(&p.id().as_str())
        })
        .map(|p| p.location.line)
        .collect();
    patched.sort_unstable();
    assert_eq!(patched, [4409, 5070, 8872]);
    // `slash3: npm:slash@^3.0.0` style aliases resolve to the real package.
    let slash: Vec<_> = project
        .packages
        .iter()
        .filter(|p| p.name == "slash")
        .map(|p| (p.version.as_str(), p.alias.as_deref()))
        .collect();
    assert!(slash.contains(&("3.0.0", Some("slash3"))), "{slash:?}");
    assert!(slash.contains(&("5.0.0", Some("slash5"))), "{slash:?}");
}

#[test]
fn pnpm_v6_vue_core() {
    check("pnpm-v6/vue-core", "pnpm-lock.yaml");
    // reference.json: 730 keys, 17 importers, 631 names, 31 link deps, f_dev 699, f_optional 69.
    check_pnpm("pnpm-v6/vue-core", [730, 17, 631, 31, 0], Some(699), 69);
}

#[test]
fn pnpm_v7_pnpm() {
    check("pnpm-v7/pnpm", "pnpm-lock.yaml");
    // 1642 snapshots (virtual_store_dirs), 154 importers, 1393 names, 1036 link deps. v7 does
    // not record dev flags; 52 snapshots say `optional: true`.
    check_pnpm("pnpm-v7/pnpm", [1642, 154, 1393, 1036, 0], None, 52);
}

#[test]
fn pnpm_v9_vue_core() {
    check("pnpm-v9/vue-core", "pnpm-lock.yaml");
    // 621 snapshots (virtual_store_dirs), 18 importers, 563 names, 33 link deps; 143 snapshots
    // say `optional: true`.
    check_pnpm("pnpm-v9/vue-core", [621, 18, 563, 33, 0], None, 143);
}

#[test]
fn bun_lock_hono_v1() {
    check("bun-lock/hono-v1", "bun.lock");
    let path = fixtures().join("bun-lock/hono-v1/bun.lock");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    // reference.json: 1152 keys, all registry packages, no workspaces.
    assert_eq!(lockfile.packages.len(), 1152);
    assert_eq!(lockfile.importers.len(), 1);
    assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for package in &lockfile.packages {
        assert!(
            package.integrity.is_some(),
            "{} has no integrity",
            package.name
        );
        // The line is the line of the entry's key, which names the package (or its alias).
        let line = lines[package.line as usize - 1];
        let key = line.trim_start().split("\": [").next().unwrap_or_default();
        let installed = package.alias.as_deref().unwrap_or(&package.name);
        assert!(key.ends_with(installed), "line {}: {line}", package.line);
        let install_path = package.install_path.as_deref().unwrap();
        assert!(install_path.ends_with(&format!("node_modules/{installed}")));
    }
    let project = lockfile.into_inventory();
    assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
}

#[test]
fn bun_lockb_hono() {
    check("bun-lockb/hono", "bun.lockb");
    let path = fixtures().join("bun-lockb/hono/bun.lockb");
    let lockfile = extract_file(extractor_for(&path).unwrap(), &path).unwrap();
    // reference.json: format 2, 919 packages with the root, all from npm.
    assert_eq!(lockfile.format_version, "2");
    assert_eq!(lockfile.packages.len(), 918);
    assert_eq!(lockfile.importers.len(), 1);
    assert!(lockfile.warnings.is_empty(), "{:?}", lockfile.warnings);
    for package in &lockfile.packages {
        assert!(
            package.integrity.is_some(),
            "{} has no integrity",
            package.name
        );
        assert!(
            package.install_path.is_some(),
            "{} has no install path",
            package.name
        );
        assert!(
            package
                .resolved
                .as_deref()
                .is_some_and(|url| url.ends_with(".tgz")),
            "{}",
            package.name
        );
    }
    let project = lockfile.into_inventory();
    assert!(project.packages.iter().all(|p| !p.paths.is_empty()));
}
