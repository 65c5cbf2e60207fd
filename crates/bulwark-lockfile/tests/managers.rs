//! Lockfiles written by the real package managers (`tests/fixtures/generated`, made by
//! `scripts/generate-fixtures.sh`; its README says how): bulwark's inventory of each lockfile
//! must equal the manager's own listing of the same install, package for package.
//!
//! Each listing is parsed here with test-only code. The comparison is on distinct
//! `name@version` sets with workspace members and the local directory package excluded on both
//! sides. Where the listing records dev-ness (npm, pnpm, bun) or optional-ness (pnpm),
//! bulwark's `dev` and `optional` flags must agree, and the `npm:` alias must be resolved.
//!
//! The legitimate differences are handled one by one: `npm ls` and `bun pm ls` list what was
//! installed on this machine (linux-x64), so optional packages for other platforms are in the
//! lockfile but not in the listing ([`PlatformSkips`]); `bun pm ls` names a tarball-URL
//! dependency by its URL instead of a version ([`resolve_urls`]); yarn 1 and bun list an alias
//! under the alias name ([`Manifests`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bulwark_lockfile::{InventoryPackage, Project, extract_file, extractor_for};
use serde_json::Value;

/// The template's `npm:` alias, as written in the root `package.json`.
const ALIAS: &str = "strip";
/// What the alias resolves to.
const ALIASED_PACKAGE: &str = "strip-ansi@6.0.1";

fn fixture(manager: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/generated")
        .join(manager)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {path:?}: {error}"))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|error| panic!("{path:?}: {error}"))
}

/// Splits `name@version` (scoped names keep their leading `@`).
fn split_id(id: &str) -> (&str, &str) {
    let at = id
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '@')
        .map_or_else(|| panic!("`{id}` is not name@version"), |(i, _)| i);
    (&id[..at], &id[at + 1..])
}

/// What the committed manifests say: the names of the workspace members and of the local
/// `file:` directory dependency (excluded from every comparison), and the `npm:` aliases
/// (alias name and version → real name), which yarn 1 and bun list under the alias name.
struct Manifests {
    local_names: BTreeSet<String>,
    aliases: BTreeMap<(String, String), String>,
}

impl Manifests {
    fn read(dir: &Path) -> Self {
        let mut manifests = vec![dir.join("package.json")];
        for folder in ["packages", "vendor"] {
            if let Ok(entries) = std::fs::read_dir(dir.join(folder)) {
                manifests.extend(entries.map(|entry| entry.unwrap().path().join("package.json")));
            }
        }
        let mut local_names = BTreeSet::new();
        let mut aliases = BTreeMap::new();
        for path in manifests {
            let manifest = json(&path);
            if let Some(name) = manifest["name"].as_str() {
                local_names.insert(name.to_owned());
            }
            for section in ["dependencies", "devDependencies", "optionalDependencies"] {
                let Some(deps) = manifest[section].as_object() else {
                    continue;
                };
                for (alias, spec) in deps {
                    if let Some(target) = spec.as_str().and_then(|s| s.strip_prefix("npm:")) {
                        let (name, version) = split_id(target);
                        aliases.insert((alias.clone(), version.to_owned()), name.to_owned());
                    }
                }
            }
        }
        Self {
            local_names,
            aliases,
        }
    }

    /// The real `name@version` of a listed `name@version` that may be an alias.
    fn real_id(&self, name: &str, version: &str) -> String {
        let key = (name.to_owned(), version.to_owned());
        let name = self.aliases.get(&key).map_or(name, String::as_str);
        format!("{name}@{version}")
    }
}

/// How the listing can legitimately lack packages that the lockfile records.
#[derive(Debug)]
enum PlatformSkips {
    /// The listing covers every platform (it is computed from the lockfile): sets are equal.
    None,
    /// The listing names the optional packages it did not install, without a version
    /// (`npm ls` prints them as `{}`).
    Named(BTreeSet<String>),
    /// The listing silently leaves out the optional packages it did not install (`bun pm ls`
    /// prints the installed `node_modules` tree).
    Unnamed,
}

/// Reads one fixture's listing.
type ListingParser = fn(&Path, &Manifests) -> Listing;

/// One manager's listing, parsed.
struct Listing {
    /// Every listed package as `name@version` (real names, workspace members excluded).
    packages: BTreeSet<String>,
    /// The packages the listing shows outside dev dependencies, where it records that.
    prod: Option<BTreeSet<String>>,
    /// The packages the listing shows outside optional dependencies, where it records that.
    required: Option<BTreeSet<String>>,
    skips: PlatformSkips,
}

/// `npm ls --all --json`: a nested tree keyed by the name each package is required under.
fn npm_tree(
    manifests: &Manifests,
    deps: &Value,
    packages: &mut BTreeSet<String>,
    missing: &mut BTreeSet<String>,
) {
    let Some(deps) = deps.as_object() else {
        return;
    };
    for (key, entry) in deps {
        let Some(version) = entry["version"].as_str() else {
            // `{}`: an optional dependency npm did not install on this platform.
            missing.insert(key.clone());
            continue;
        };
        let resolved = entry["resolved"].as_str().unwrap_or_default();
        if !manifests.local_names.contains(key) && !resolved.starts_with("file:") {
            // An alias is only listed under its key; the registry tarball URL names the
            // real package (`…/strip-ansi/-/strip-ansi-6.0.1.tgz`). Deduplicated entries
            // carry no URL, and then the manifests' aliases apply.
            let id = match registry_name(resolved) {
                Some(name) => format!("{name}@{version}"),
                None => manifests.real_id(key, version),
            };
            packages.insert(id);
        }
        npm_tree(manifests, &entry["dependencies"], packages, missing);
    }
}

/// The package name in a registry tarball URL (`…/<name>/-/<file>.tgz`).
fn registry_name(resolved: &str) -> Option<String> {
    let (before, _) = resolved.split_once("/-/")?;
    let path = before.split_once("://")?.1.split_once('/')?.1;
    Some(
        path.replace("%2f", "/")
            .replace("%2F", "/")
            .replace("%40", "@"),
    )
}

fn npm_listing(dir: &Path, manifests: &Manifests) -> Listing {
    let mut packages = BTreeSet::new();
    let mut missing = BTreeSet::new();
    npm_tree(
        manifests,
        &json(&dir.join("npm-ls.json"))["dependencies"],
        &mut packages,
        &mut missing,
    );
    let mut prod = BTreeSet::new();
    npm_tree(
        manifests,
        &json(&dir.join("npm-ls-omit-dev.json"))["dependencies"],
        &mut prod,
        &mut BTreeSet::new(),
    );
    Listing {
        packages,
        prod: Some(prod),
        required: None,
        skips: PlatformSkips::Named(missing),
    }
}

/// `pnpm list --json`: per importer, `dependencies`/`devDependencies`/`optionalDependencies`
/// trees whose entries carry the real name in `from`.
fn pnpm_tree(manifests: &Manifests, deps: &Value, packages: &mut BTreeSet<String>) {
    let Some(deps) = deps.as_object() else {
        return;
    };
    for (key, entry) in deps {
        let version = entry["version"].as_str().unwrap_or_default();
        let name = entry["from"].as_str().unwrap_or(key);
        // Workspace members are `link:` versions; the local directory dependency is a
        // `file:` version (pnpm 8 and later) or its own version (pnpm 7). Their
        // dependencies are packages all the same.
        let local = version.starts_with("link:")
            || version.starts_with("file:")
            || manifests.local_names.contains(name);
        if !local {
            packages.insert(format!("{name}@{version}"));
        }
        pnpm_tree(manifests, &entry["dependencies"], packages);
        pnpm_tree(manifests, &entry["optionalDependencies"], packages);
    }
}

/// One `pnpm list` file: every listed package, and those outside `devDependencies`.
fn pnpm_file(path: &Path, manifests: &Manifests) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut packages = BTreeSet::new();
    let mut prod = BTreeSet::new();
    for importer in json(path).as_array().expect("pnpm list prints an array") {
        // `unsavedDependencies` (pnpm 10, workspace members) are links into the root's
        // `node_modules`, not packages of the member: left out.
        pnpm_tree(manifests, &importer["dependencies"], &mut prod);
        pnpm_tree(manifests, &importer["optionalDependencies"], &mut prod);
        pnpm_tree(manifests, &importer["devDependencies"], &mut packages);
    }
    packages.extend(prod.iter().cloned());
    (packages, prod)
}

/// `pnpm-list.json`, and `pnpm-list-no-optional.json` (`--no-optional`) for optional-ness.
fn pnpm_listing(dir: &Path, manifests: &Manifests) -> Listing {
    let (packages, prod) = pnpm_file(&dir.join("pnpm-list.json"), manifests);
    let (required, _) = pnpm_file(&dir.join("pnpm-list-no-optional.json"), manifests);
    Listing {
        packages,
        prod: Some(prod),
        required: Some(required),
        skips: PlatformSkips::None,
    }
}

/// `yarn list --json` (yarn 1): JSON lines, one of type `tree` holding the hoisted layout;
/// `shadow` entries only repeat a range.
fn yarn1_tree(manifests: &Manifests, trees: &Value, packages: &mut BTreeSet<String>) {
    for tree in trees.as_array().into_iter().flatten() {
        if tree["shadow"].as_bool() != Some(true) {
            let (name, version) = split_id(tree["name"].as_str().expect("tree has a name"));
            if !manifests.local_names.contains(name) {
                packages.insert(manifests.real_id(name, version));
            }
        }
        yarn1_tree(manifests, &tree["children"], packages);
    }
}

fn yarn1_listing(dir: &Path, manifests: &Manifests) -> Listing {
    let mut packages = BTreeSet::new();
    let mut trees = 0;
    for line in read(&dir.join("yarn-list.json")).lines() {
        let line: Value = serde_json::from_str(line).expect("yarn list prints JSON lines");
        if line["type"] == "tree" {
            trees += 1;
            yarn1_tree(manifests, &line["data"]["trees"], &mut packages);
        }
    }
    assert_eq!(trees, 1, "yarn list printed one tree");
    Listing {
        packages,
        prod: None,
        required: None,
        skips: PlatformSkips::None,
    }
}

/// `yarn info --all --recursive --json` (yarn 4): one JSON object per locator
/// (`name@npm:1.0.0`, `name@patch:…`, `name@workspace:path`) with its `Version`.
fn yarn4_listing(dir: &Path, manifests: &Manifests) -> Listing {
    let mut packages = BTreeSet::new();
    for line in read(&dir.join("yarn-info.ndjson")).lines() {
        let entry: Value = serde_json::from_str(line).expect("yarn info prints NDJSON");
        let locator = entry["value"].as_str().expect("an entry has a locator");
        let (name, reference) = split_id(locator);
        if reference.starts_with("workspace:") || manifests.local_names.contains(name) {
            continue;
        }
        let version = entry["children"]["Version"]
            .as_str()
            .unwrap_or_else(|| panic!("{locator} has no Version"));
        packages.insert(format!("{name}@{version}"));
    }
    Listing {
        packages,
        prod: None,
        required: None,
        skips: PlatformSkips::None,
    }
}

/// `bun pm ls --all`: a text tree of `node_modules` after a header line; members appear as
/// `name@workspace:path`, the local directory dependency as `name@vendor/local-dep`, aliases
/// under the alias name.
fn bun_tree(manifests: &Manifests, path: &Path) -> BTreeSet<String> {
    read(path)
        .lines()
        .skip(1)
        .map(|line| line.trim_start_matches(['│', '├', '└', '─', ' ', '\u{a0}']))
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let (name, version) = split_id(entry);
            (!version.starts_with("workspace:") && !manifests.local_names.contains(name))
                .then(|| manifests.real_id(name, version))
        })
        .collect()
}

fn bun_listing(dir: &Path, manifests: &Manifests) -> Listing {
    Listing {
        packages: bun_tree(manifests, &dir.join("bun-pm-ls.txt")),
        prod: Some(bun_tree(manifests, &dir.join("bun-pm-ls-prod.txt"))),
        required: None,
        skips: PlatformSkips::Unnamed,
    }
}

fn lines(ids: &BTreeSet<&String>) -> String {
    ids.iter().fold(String::new(), |mut out, id| {
        let _ = writeln!(out, "    {id}");
        out
    })
}

/// Extracts `lockfile` of the fixture `manager` and compares it with `listing`.
fn check(manager: &str, lockfile: &str, listing: impl FnOnce(&Path, &Manifests) -> Listing) {
    let dir = fixture(manager);
    let path = dir.join(lockfile);
    let extractor = extractor_for(&path).unwrap_or_else(|| panic!("no extractor for {path:?}"));
    let project = extract_file(extractor, &path)
        .unwrap_or_else(|error| panic!("{manager}: {error}"))
        .into_inventory();
    let manifests = Manifests::read(&dir);
    let mut listing = listing(&dir, &manifests);
    listing.packages = resolve_urls(&project, &listing.packages);
    listing.prod = listing.prod.map(|prod| resolve_urls(&project, &prod));
    listing.required = listing
        .required
        .map(|required| resolve_urls(&project, &required));
    assert!(
        listing.packages.len() > 20,
        "{manager}: the listing parsed to only {:?}",
        listing.packages
    );

    let ours: BTreeSet<String> = project
        .packages
        .iter()
        .filter(|package| !package.source.is_local())
        .map(|package| package.id())
        .collect();
    let missing: BTreeSet<&String> = listing.packages.difference(&ours).collect();
    let extra: BTreeSet<&String> = ours.difference(&listing.packages).collect();
    let unexplained: BTreeSet<&String> = extra
        .iter()
        .copied()
        .filter(|id| !platform_skip(&project, &listing, id))
        .collect();
    let skipped = extra.len() - unexplained.len();
    assert!(
        missing.is_empty() && unexplained.is_empty(),
        "{manager}: bulwark has {} packages, the listing {} ({skipped} explained as \
         other-platform optionals, {:?})\nlisted but not in bulwark's inventory:\n{}\
         in bulwark's inventory but not listed:\n{}",
        ours.len(),
        listing.packages.len(),
        listing.skips,
        lines(&missing),
        lines(&unexplained),
    );

    check_alias(manager, &project);
    if let Some(prod) = &listing.prod {
        check_flag(manager, &project, Flag::Dev, &listing.packages, prod);
    }
    if let Some(required) = &listing.required {
        check_flag(
            manager,
            &project,
            Flag::Optional,
            &listing.packages,
            required,
        );
    }
}

/// `bun pm ls` prints a package installed from a tarball URL as `name@<url>`, and `bun.lock`
/// records no version for it either: such an entry stands for bulwark's package of that name
/// resolved from that URL, whatever version bulwark reports. Without one it stays `name@<url>`
/// and shows up as missing.
fn resolve_urls(project: &Project, listed: &BTreeSet<String>) -> BTreeSet<String> {
    listed
        .iter()
        .map(|id| {
            let (name, version) = split_id(id);
            if !version.contains("://") {
                return id.clone();
            }
            project
                .packages
                .iter()
                .find(|package| {
                    package.name == name
                        && (package.resolved.as_deref() == Some(version)
                            || package.version == version)
                })
                .map_or_else(|| id.clone(), |package| package.id())
        })
        .collect()
}

/// Whether bulwark's package `id` may be absent from the listing because the manager skipped
/// it on this platform: bulwark marks it optional, the listing has no version of that name at
/// all, and (for npm) the listing names it as not installed. Something it is a dependency of
/// must be in the listing or be an importer.
fn platform_skip(project: &Project, listing: &Listing, id: &str) -> bool {
    let (name, _) = split_id(id);
    let named = match &listing.skips {
        PlatformSkips::None => return false,
        PlatformSkips::Named(names) => names.contains(name),
        PlatformSkips::Unnamed => true,
    };
    let no_version_listed = !listing
        .packages
        .iter()
        .any(|listed| split_id(listed).0 == name);
    let Some(index) = project.packages.iter().position(|p| p.id() == id) else {
        return false;
    };
    let package = &project.packages[index];
    let parent_listed = project.direct.contains(&index)
        || package.paths.iter().any(|path| path.len() == 2)
        || project.packages.iter().any(|parent| {
            parent.dependencies.contains(&index) && listing.packages.contains(&parent.id())
        });
    named && no_version_listed && package.optional && parent_listed
}

/// The template's `"strip": "npm:strip-ansi@6.0.1"` is resolved to the real name.
fn check_alias(manager: &str, project: &Project) {
    let aliased: Vec<_> = project
        .packages
        .iter()
        .filter(|package| package.id() == ALIASED_PACKAGE)
        .map(|package| package.alias.as_deref())
        .collect();
    assert!(
        aliased.contains(&Some(ALIAS)),
        "{manager}: {ALIASED_PACKAGE} should be present with alias `{ALIAS}`, found aliases \
         {aliased:?}"
    );
    assert!(
        project.packages.iter().all(|package| package.name != ALIAS),
        "{manager}: the alias `{ALIAS}` is used as a package name"
    );
}

/// A dev/optional flag, as bulwark and the listing record it.
#[derive(Clone, Copy)]
enum Flag {
    Dev,
    Optional,
}

impl Flag {
    fn name(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Optional => "optional",
        }
    }

    fn of(self, package: &InventoryPackage) -> bool {
        match self {
            Self::Dev => package.dev,
            Self::Optional => package.optional,
        }
    }
}

/// Every listed package has `flag` exactly when the listing drops it from the listing made
/// `without` that kind of dependency (`npm ls --omit=dev`, `pnpm list --no-optional`, …).
/// bulwark may hold one `name@version` several times (pnpm peer variants, yarn patches): it
/// has the flag only if every copy has it. The importers' direct dependencies are reported
/// first, as they matter most.
fn check_flag(
    manager: &str,
    project: &Project,
    flag: Flag,
    listed: &BTreeSet<String>,
    without: &BTreeSet<String>,
) {
    let direct: BTreeSet<String> = project
        .packages
        .iter()
        .filter(|package| package.paths.iter().any(|path| path.len() == 2))
        .map(InventoryPackage::id)
        .collect();
    assert!(
        direct.contains("rimraf@3.0.2") && direct.contains("chalk@4.1.2"),
        "{manager}: direct dependencies {direct:?}"
    );
    let mut ours: BTreeMap<String, bool> = BTreeMap::new();
    for package in &project.packages {
        let all = ours.entry(package.id()).or_insert(true);
        *all &= flag.of(package);
    }
    let mut wrong: BTreeMap<bool, Vec<String>> = BTreeMap::new();
    for (id, &has) in ours.iter().filter(|(id, _)| listed.contains(*id)) {
        let expected = !without.contains(id);
        if has != expected {
            let name = flag.name();
            let what = if expected { "" } else { "not " };
            wrong.entry(!direct.contains(id)).or_default().push(format!(
                "{id} (listing: {what}{name}, bulwark: {name}={has})"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{manager}: {} flags disagree with the listing\ndirect: {:#?}\ntransitive: {:#?}",
        flag.name(),
        wrong.get(&false),
        wrong.get(&true),
    );
}

#[test]
fn npm_package_lock_v3_equals_npm_ls() {
    check("npm", "package-lock.json", npm_listing);
}

#[test]
fn npm_package_lock_v2_equals_npm_ls() {
    check("npm-v2", "package-lock.json", npm_listing);
}

/// npm 11 still writes the v1 format (no `packages` section, aliases as
/// `"version": "npm:strip-ansi@6.0.1"`, members as `"version": "file:packages/a"`).
#[test]
fn npm_package_lock_v1_equals_npm_ls() {
    check("npm-v1", "package-lock.json", npm_listing);
}

#[test]
fn npm_shrinkwrap_equals_npm_ls() {
    check("npm-shrinkwrap", "npm-shrinkwrap.json", npm_listing);
}

/// pnpm 7 writes lockfile 5.4 (`/name/version` keys; the alias points at `/strip-ansi/6.0.1`).
#[test]
fn pnpm7_lock_equals_pnpm_list() {
    check("pnpm7", "pnpm-lock.yaml", pnpm_listing);
}

/// pnpm 8 writes lockfile 6.0 (`/name@version` keys).
#[test]
fn pnpm8_lock_equals_pnpm_list() {
    check("pnpm8", "pnpm-lock.yaml", pnpm_listing);
}

#[test]
fn pnpm9_lock_equals_pnpm_list() {
    check("pnpm9", "pnpm-lock.yaml", pnpm_listing);
}

#[test]
fn pnpm10_lock_equals_pnpm_list() {
    check("pnpm10", "pnpm-lock.yaml", pnpm_listing);
}

#[test]
fn yarn1_lock_equals_yarn_list() {
    check("yarn1", "yarn.lock", yarn1_listing);
}

#[test]
fn yarn4_lock_equals_yarn_info() {
    check("yarn4", "yarn.lock", yarn4_listing);
}

#[test]
fn bun_lock_equals_bun_pm_ls() {
    check("bun", "bun.lock", bun_listing);
}

#[test]
fn bun_lockb_equals_bun_pm_ls() {
    check("bun-lockb", "bun.lockb", bun_listing);
}

/// The listing parsers themselves, on what every listing must show whatever the extractors
/// do: the alias under its real name, the three `ms` and two `react` versions, the packages
/// the tarball and the local dependency pull in, and no workspace or local package.
#[test]
fn listing_parsers_read_every_listing() {
    let parsers: [(&str, ListingParser); 12] = [
        ("npm", npm_listing),
        ("npm-v2", npm_listing),
        ("npm-v1", npm_listing),
        ("npm-shrinkwrap", npm_listing),
        ("pnpm7", pnpm_listing),
        ("pnpm8", pnpm_listing),
        ("pnpm9", pnpm_listing),
        ("pnpm10", pnpm_listing),
        ("yarn1", yarn1_listing),
        ("yarn4", yarn4_listing),
        ("bun", bun_listing),
        ("bun-lockb", bun_listing),
    ];
    for (manager, parse) in parsers {
        let dir = fixture(manager);
        let listing = parse(&dir, &Manifests::read(&dir));
        let has = |id: &str| listing.packages.contains(id);
        for id in [
            ALIASED_PACKAGE,
            "ms@2.1.2",
            "ms@2.1.3",
            "ms@3.0.0-canary.1",
            "is-number@6.0.0",
            "is-number@7.0.0",
            "has-flag@3.0.0",
            "react@18.2.0",
            "react@18.3.1",
            "react-dom@18.2.0",
            "JSONStream@1.3.5",
            "rimraf@3.0.2",
            "@esbuild/linux-x64@0.20.2",
        ] {
            assert!(has(id), "{manager}: {id} not parsed");
        }
        for id in &listing.packages {
            let (name, version) = split_id(id);
            assert!(
                name != ALIAS && !name.starts_with("bulwark-") && !name.starts_with("@bulwark-"),
                "{manager}: {id} parsed as a package"
            );
            assert!(
                version.starts_with(|c: char| c.is_ascii_digit()) || version.contains("://"),
                "{manager}: {id} has no version"
            );
        }
        if let Some(prod) = &listing.prod {
            assert!(prod.contains("chalk@4.1.2") && !prod.contains("rimraf@3.0.2"));
        }
        if let Some(required) = &listing.required {
            assert!(required.contains("esbuild@0.20.2"), "{manager}");
            assert!(!required.contains("@esbuild/linux-x64@0.20.2"), "{manager}");
            assert!(!required.contains("fsevents@2.3.3"), "{manager}");
        }
        match &listing.skips {
            PlatformSkips::None => assert!(has("fsevents@2.3.3"), "{manager}"),
            PlatformSkips::Named(names) => {
                assert!(names.contains("fsevents") && names.contains("@esbuild/win32-x64"));
            }
            PlatformSkips::Unnamed => assert!(!has("fsevents@2.3.3"), "{manager}"),
        }
    }
    let bun = bun_listing(&fixture("bun"), &Manifests::read(&fixture("bun")));
    assert!(
        bun.packages
            .contains("is-odd@https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz")
    );
}
