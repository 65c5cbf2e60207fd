//! bun's lockfiles: the text `bun.lock` (bun 1.1.39+, the default since bun 1.2) and the
//! binary `bun.lockb` (bun 0.x to 1.1, and bun 1.2+ projects that kept it).
//!
//! Both record the same model: the workspaces, and one entry per installed package keyed by
//! where it sits in the hoisted `node_modules` tree. [`text`] reads the JSONC text format and
//! resolves dependencies through those hoisting paths the way bun does; [`binary`] reads the
//! struct arrays and string buffers of the binary format, checking every offset against the
//! file, and follows the resolutions bun recorded. Neither ever runs bun.

mod binary;
mod text;

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

/// Extractor for `bun.lock`, the text lockfile (`lockfileVersion` 0, 1 and 2).
#[derive(Debug, Clone, Copy)]
pub struct BunLockExtractor;

impl Extractor for BunLockExtractor {
    fn name(&self) -> &'static str {
        "bun/lock"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "bun.lock" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        text::extract(input, self.name())
    }
}

/// Extractor for `bun.lockb`, the binary lockfile (formats 2 and 3).
#[derive(Debug, Clone, Copy)]
pub struct BunLockbExtractor;

impl Extractor for BunLockbExtractor {
    fn name(&self) -> &'static str {
        "bun/lockb"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "bun.lockb" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        binary::extract(input, self.name())
    }
}

/// Splits bun's `name@resolution` into its parts; the `@` of a scope is not a separator.
fn split_name_at(spec: &str) -> Option<(&str, &str)> {
    let search_from = usize::from(spec.starts_with('@'));
    let at = spec.get(search_from..)?.find('@')? + search_from;
    let (name, rest) = (spec.get(..at)?, spec.get(at + 1..)?);
    (!name.is_empty() && name != "@").then_some((name, rest))
}

/// The `node_modules` path of a hoisting path made of package names (`["a", "@s/b"]` gives
/// `node_modules/a/node_modules/@s/b`).
fn install_path<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut path = String::new();
    for name in names {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str("node_modules/");
        path.push_str(name);
    }
    path
}

/// How many warnings of one kind are kept before they are summarised.
const MAX_WARNINGS_PER_KIND: usize = 20;

/// Collects warnings of one kind, keeping the first few and counting the rest.
#[derive(Debug, Default)]
struct WarningSink {
    kept: Vec<String>,
    dropped: usize,
}

impl WarningSink {
    fn push(&mut self, warning: impl FnOnce() -> String) {
        if self.kept.len() < MAX_WARNINGS_PER_KIND {
            self.kept.push(warning());
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn drain_into(self, warnings: &mut Vec<String>, what: &str) {
        warnings.extend(self.kept);
        if self.dropped > 0 {
            warnings.push(format!("… and {} more {what}", self.dropped));
        }
    }
}

/// Helpers shared by the text and binary tests.
#[cfg(test)]
mod test_support {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use crate::{ExtractError, Extractor, Input, Lockfile};

    /// A file under `tests/fixtures/bun/`.
    pub(super) fn fixture(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bun")).join(name)
    }

    /// Runs `extractor` on the fixture `name`.
    pub(super) fn extract(extractor: &dyn Extractor, name: &str) -> Result<Lockfile, ExtractError> {
        let path = fixture(name);
        let contents = std::fs::read(&path).expect("fixture exists");
        extractor.extract(&Input {
            path: &path,
            contents: &contents,
        })
    }

    /// Runs `extractor` on in-memory `contents` named `name`.
    pub(super) fn extract_bytes(
        extractor: &dyn Extractor,
        name: &str,
        contents: &[u8],
    ) -> Result<Lockfile, ExtractError> {
        let path = PathBuf::from(name);
        extractor.extract(&Input {
            path: &path,
            contents,
        })
    }

    /// CPU time of the current thread (Linux), so timing tests measure work rather than the
    /// load of a shared machine; wall time elsewhere.
    pub(super) fn thread_time() -> std::time::Duration {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
            .map_or_else(
                || START.get_or_init(std::time::Instant::now).elapsed(),
                std::time::Duration::from_nanos,
            )
    }

    /// Mean thread time over `runs` of `parse`, and of `parse` plus `into_inventory` (the
    /// kernel accounts thread time in scheduler ticks, so one run alone is too coarse).
    pub(super) fn time_extraction(
        runs: u32,
        mut parse: impl FnMut() -> Lockfile,
    ) -> (std::time::Duration, std::time::Duration) {
        let (mut parsing, mut total) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        for _ in 0..runs {
            let start = thread_time();
            let lockfile = parse();
            let parsed = thread_time();
            let project = lockfile.into_inventory();
            let done = thread_time();
            assert!(!project.packages.is_empty());
            parsing += parsed - start;
            total += done - start;
        }
        (parsing / runs, total / runs)
    }

    /// bun's own `bun pm ls --all` listing: `installed-name@version`, workspace members left out.
    pub(super) fn listing(name: &str) -> BTreeSet<String> {
        let text = std::fs::read_to_string(fixture(name)).expect("listing exists");
        text.lines()
            .map(|line| line.trim_start_matches(['│', '├', '└', '─', ' ', '\u{a0}']))
            .filter(|entry| !entry.is_empty() && !entry.contains("@workspace:"))
            .map(str::to_owned)
            .collect()
    }

    /// bun's `bun pm ls --all` tree as `(install path, installed-name@version)` pairs.
    pub(super) fn listing_tree(name: &str) -> BTreeSet<(String, String)> {
        let text = std::fs::read_to_string(fixture(name)).expect("listing exists");
        let mut stack: Vec<String> = Vec::new();
        let mut entries = BTreeSet::new();
        for line in text.lines() {
            let Some(marker) = line.find("── ") else {
                continue;
            };
            let depth = line[..marker].chars().count().saturating_sub(1) / 4;
            let entry = &line[marker + "── ".len()..];
            let installed = super::split_name_at(entry).expect("name@version").0;
            stack.truncate(depth);
            stack.push(installed.to_owned());
            let path = super::install_path(stack.iter().map(String::as_str));
            entries.insert((path, entry.to_owned()));
        }
        entries
    }

    /// Asserts that the packages sit exactly where bun's tree `listing` puts them (workspace
    /// members, which are importers, left out).
    pub(super) fn assert_install_paths(lockfile: &Lockfile, listing: &str) {
        let tree: BTreeSet<(String, String)> = listing_tree(listing)
            .into_iter()
            .filter(|(_, entry)| !entry.contains("@workspace:"))
            .collect();
        let ours: BTreeSet<(String, String)> = lockfile
            .packages
            .iter()
            .map(|p| {
                let installed = p.alias.as_deref().unwrap_or(&p.name);
                let path = p.install_path.clone().unwrap_or_default();
                (path, format!("{installed}@{}", p.version))
            })
            .collect();
        assert_eq!(ours, tree, "{listing}");
    }

    /// The inventory in the listing's terms: `installed-name@version` of every package.
    pub(super) fn as_listed(lockfile: &Lockfile) -> BTreeSet<String> {
        lockfile
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.alias.as_deref().unwrap_or(&p.name), p.version))
            .collect()
    }

    /// What the dependency `dependency` of the package `from` (`name@version`, or an importer
    /// path prefixed with `importer:`) resolves to, as `name@version`.
    pub(super) fn edge(lockfile: &Lockfile, from: &str, dependency: &str) -> Option<String> {
        let dependencies = match from.strip_prefix("importer:") {
            Some(path) => {
                &lockfile
                    .importers
                    .iter()
                    .find(|i| i.path == path)?
                    .dependencies
            }
            None => {
                &lockfile
                    .packages
                    .iter()
                    .find(|p| format!("{}@{}", p.name, p.version) == from)?
                    .dependencies
            }
        };
        let target = dependencies.iter().find(|d| d.name == dependency)?.target?;
        let package = lockfile.packages.get(target.0)?;
        Some(format!("{}@{}", package.name, package.version))
    }

    /// The edges the generated `workspace-alias` project must have, in every format.
    pub(super) fn assert_workspace_alias_graph(lockfile: &Lockfile) {
        let cases = [
            ("importer:", "ms", Some("ms@2.1.3")),
            ("importer:", "strip", Some("strip-ansi@6.0.1")),
            ("importer:", "is-number", Some("is-number@7.0.0")),
            ("importer:", "is-odd", Some("is-odd@3.0.1")),
            ("importer:packages/lib", "ms", Some("ms@2.0.0")),
            ("importer:packages/lib", "has-flag", Some("has-flag@4.0.0")),
            ("importer:packages/util", "@fx/lib", None),
            (
                "importer:packages/util",
                "supports-color",
                Some("supports-color@7.2.0"),
            ),
            ("importer:packages/util", "ms", Some("ms@2.1.3")),
            ("debug@4.3.4", "ms", Some("ms@2.1.2")),
            ("is-odd@3.0.1", "is-number", Some("is-number@6.0.0")),
            ("strip-ansi@6.0.1", "ansi-regex", Some("ansi-regex@5.0.1")),
            ("supports-color@7.2.0", "has-flag", Some("has-flag@4.0.0")),
            (
                "local-thing@vendor/local-thing",
                "ansi-regex",
                Some("ansi-regex@5.0.1"),
            ),
        ];
        for (from, dependency, expected) in cases {
            assert_eq!(
                edge(lockfile, from, dependency).as_deref(),
                expected,
                "{from} -> {dependency}"
            );
        }
        let kinds: Vec<_> = lockfile.importers[0]
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.kind))
            .filter(|(name, _)| ["is-number", "is-odd", "debug"].contains(name))
            .collect();
        for (name, kind) in kinds {
            let expected = match name {
                "is-number" => crate::DependencyKind::Dev,
                "is-odd" => crate::DependencyKind::Optional,
                _ => crate::DependencyKind::Prod,
            };
            assert_eq!(kind, expected, "{name}");
        }
        let paths: Vec<_> = lockfile.importers.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["", "packages/lib", "packages/util"]);
        let names: Vec<_> = lockfile
            .importers
            .iter()
            .map(|i| i.name.as_deref())
            .collect();
        assert_eq!(
            names,
            [Some("bun-fixture"), Some("@fx/lib"), Some("@fx/util")]
        );
        let project = lockfile.clone().into_inventory();
        let flags = |id: &str| {
            let p = project.packages.iter().find(|p| p.id() == id).expect(id);
            (p.dev, p.optional)
        };
        assert_eq!(flags("is-number@7.0.0"), (true, false));
        assert_eq!(flags("is-number@6.0.0"), (false, true));
        assert_eq!(flags("is-odd@3.0.1"), (false, true));
        assert_eq!(flags("ms@2.1.2"), (false, false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_required_near_misses() {
        let cases = [
            ("bun.lock", true, false),
            ("p/bun.lock", true, false),
            ("p/bun.lockb", false, true),
            ("bun.lockb", false, true),
            ("p/bun.lock.bak", false, false),
            ("p/bun.lockb.old", false, false),
            ("p/Bun.lock", false, false),
            ("p/bun.lock/x", false, false),
            ("p/bun.yaml", false, false),
            ("p/node_modules/x/bun.lock", false, false),
            ("p/node_modules/x/bun.lockb", false, false),
            ("p/not-bun.lock", false, false),
        ];
        for (path, text, binary) in cases {
            let path = Path::new(path);
            assert_eq!(BunLockExtractor.file_required(path), text, "{path:?}");
            assert_eq!(BunLockbExtractor.file_required(path), binary, "{path:?}");
        }
    }

    #[test]
    fn splits_name_and_resolution() {
        let cases = [
            ("ms@2.1.3", Some(("ms", "2.1.3"))),
            ("@s/x@1.0.0", Some(("@s/x", "1.0.0"))),
            (
                "@fx/lib@workspace:packages/lib",
                Some(("@fx/lib", "workspace:packages/lib")),
            ),
            (
                "a@git+ssh://git@github.com/u/r.git#abc",
                Some(("a", "git+ssh://git@github.com/u/r.git#abc")),
            ),
            ("root@root:", Some(("root", "root:"))),
            ("ms", None),
            ("@s/x", None),
            ("@", None),
            ("@@1", None),
            ("", None),
            ("@1.0.0", None),
        ];
        for (spec, expected) in cases {
            assert_eq!(split_name_at(spec), expected, "{spec}");
        }
    }

    #[test]
    fn builds_install_paths() {
        assert_eq!(install_path(["a"]), "node_modules/a");
        assert_eq!(
            install_path(["a", "@s/b"]),
            "node_modules/a/node_modules/@s/b"
        );
    }

    /// Everything but `resolved` (the text format leaves the default registry out) and the
    /// line, in a canonical order, with edges named by their target.
    fn canonical(lockfile: &Lockfile) -> Vec<String> {
        let id = |target: Option<crate::PackageId>| {
            target.map_or_else(
                || "-".to_owned(),
                |t| {
                    let p = &lockfile.packages[t.0];
                    format!("{}@{}", p.name, p.version)
                },
            )
        };
        let edges = |dependencies: &[crate::Dependency]| {
            let mut edges: Vec<String> = dependencies
                .iter()
                .map(|d| format!("{}:{:?}->{}", d.name, d.kind, id(d.target)))
                .collect();
            edges.sort();
            edges.join(" ")
        };
        let mut lines: Vec<String> = lockfile
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{}@{} alias={:?} source={:?} integrity={:?} path={:?} deps=[{}]",
                    p.name,
                    p.version,
                    p.alias,
                    p.source,
                    p.integrity.as_ref().map(ToString::to_string),
                    p.install_path,
                    edges(&p.dependencies)
                )
            })
            .collect();
        lines.sort();
        lines.extend(lockfile.importers.iter().map(|i| {
            format!(
                "importer {:?} {:?} {:?} deps=[{}]",
                i.path,
                i.name,
                i.version,
                edges(&i.dependencies)
            )
        }));
        lines
    }

    /// The same project locked by bun 1.1.45 and 1.2.23 in the text and binary formats reads
    /// the same, edge for edge.
    #[test]
    fn text_and_binary_formats_agree() {
        use test_support::extract;
        let reference = canonical(&extract(&BunLockExtractor, "workspace-alias.v1.lock").unwrap());
        for (extractor, name) in [
            (
                &BunLockExtractor as &dyn Extractor,
                "workspace-alias.v0.lock",
            ),
            (&BunLockbExtractor, "workspace-alias.format2.lockb"),
            (&BunLockbExtractor, "workspace-alias.format3.lockb"),
        ] {
            let other = canonical(&extract(extractor, name).unwrap());
            let differing: Vec<_> = other
                .iter()
                .zip(&reference)
                .filter(|(a, b)| a != b)
                .collect();
            assert!(differing.is_empty(), "{name}: {differing:#?}");
            assert_eq!(other.len(), reference.len(), "{name}");
        }
    }

    /// Negative fixtures: each is an error naming the file (and the line where known).
    #[test]
    fn negative_fixtures_are_errors() {
        let cases: [(&dyn Extractor, &str, &str, Option<u32>); 7] = [
            (&BunLockExtractor, "not-json.lock", "invalid JSON", Some(1)),
            (
                &BunLockExtractor,
                "wrong-types.lock",
                "invalid type: sequence",
                Some(9),
            ),
            (
                &BunLockExtractor,
                "deeply-nested.lock",
                "nested too deeply",
                Some(4),
            ),
            // Byte 10 is a newline; the first invalid byte (0x80) is on line 2.
            (&BunLockExtractor, "binary.lock", "not valid UTF-8", Some(2)),
            (
                &BunLockbExtractor,
                "garbage.lockb",
                "header is missing",
                None,
            ),
            (&BunLockbExtractor, "truncated.lockb", "is truncated", None),
            (
                &BunLockbExtractor,
                "format1.lockb",
                "bun.lockb format 1 is not supported; run `bun install --save-text-lockfile`",
                None,
            ),
        ];
        for (extractor, name, message, line) in cases {
            let error = test_support::extract(extractor, name)
                .err()
                .unwrap_or_else(|| panic!("{name} parsed"));
            assert_eq!(error.file, test_support::fixture(name), "{name}");
            assert!(error.message.contains(message), "{name}: {error}");
            assert_eq!(error.line, line, "{name}: {error}");
        }
    }

    /// A project with platform-specific optional packages (esbuild), a peer (react-dom on
    /// react), an override (`ms` → 2.1.3 under `debug`), trusted dependencies and a dev
    /// dependency, locked by bun 1.1.45 (format 2), 1.2.23 (format 3 and text v1).
    #[test]
    fn features_fixture_equals_bun_listing() {
        use test_support::{as_listed, edge, extract, listing};
        let mut canonical_forms = Vec::new();
        for (extractor, tag) in [
            (&BunLockExtractor as &dyn Extractor, "v1.lock"),
            (&BunLockbExtractor, "format2.lockb"),
            (&BunLockbExtractor, "format3.lockb"),
        ] {
            let name = format!("features.{tag}");
            let lockfile = extract(extractor, &name).unwrap();
            let listed = format!("features.{}.pm-ls.txt", tag.split('.').next().unwrap());
            assert_eq!(as_listed(&lockfile), listing(&listed), "{name}");
            test_support::assert_install_paths(&lockfile, &listed);
            assert!(
                lockfile.warnings.is_empty(),
                "{name}: {:?}",
                lockfile.warnings
            );
            let cases = [
                ("debug@4.3.4", "ms", Some("ms@2.1.3")),
                ("react-dom@18.3.1", "react", Some("react@18.3.1")),
                (
                    "esbuild@0.21.5",
                    "@esbuild/linux-x64",
                    Some("@esbuild/linux-x64@0.21.5"),
                ),
                ("importer:", "typescript", Some("typescript@5.4.5")),
            ];
            for (from, dependency, expected) in cases {
                assert_eq!(
                    edge(&lockfile, from, dependency).as_deref(),
                    expected,
                    "{name}: {from}"
                );
            }
            let project = lockfile.clone().into_inventory();
            for package in &project.packages {
                let platform = package.name.starts_with("@esbuild/");
                assert_eq!(package.optional, platform, "{name}: {}", package.id());
                assert_eq!(
                    package.dev,
                    package.name == "typescript",
                    "{name}: {}",
                    package.id()
                );
                assert!(!package.peer, "{name}: {}", package.id());
            }
            canonical_forms.push((name, canonical(&lockfile)));
        }
        let (_, reference) = &canonical_forms[0];
        for (name, form) in &canonical_forms[1..] {
            assert_eq!(form, reference, "{name}");
        }
    }
}
