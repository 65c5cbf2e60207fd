//! The parts of `package.json` a diff compares: install hooks, dependencies that get
//! installed, entry points. Hostile manifests (not JSON, wrong types, huge objects) read as
//! empty parts, never as errors.

use std::collections::BTreeMap;

/// Lifecycle scripts that npm runs when the package is installed (as a dependency, or from
/// git for the `prepare` family).
pub(crate) const INSTALL_HOOKS: &[&str] = &[
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "preprepare",
    "postprepare",
    "prepublish",
];

/// Hooks that run on every `npm install` of the package from the registry.
pub(crate) const REGISTRY_INSTALL_HOOKS: &[&str] = &["preinstall", "install", "postinstall"];

/// Dependency lists whose entries get installed with the package.
const INSTALLED_DEPENDENCY_KINDS: &[&str] =
    &["dependencies", "optionalDependencies", "peerDependencies"];

/// At most this many entries of one object are read.
const MAX_ENTRIES: usize = 10_000;

/// What a diff reads from one `package.json`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) name: String,
    pub(crate) version: String,
    /// Install hooks and their commands.
    pub(crate) hooks: BTreeMap<String, String>,
    /// `(kind, name) -> spec` for installed dependency kinds.
    pub(crate) dependencies: BTreeMap<(String, String), String>,
    /// `main`, `module`, `browser`, `bin`, `exports` as compact JSON.
    pub(crate) entry_points: BTreeMap<&'static str, String>,
    /// Files that code runs from: `main` (or `index.js`), `bin` targets, string `exports`.
    pub(crate) entry_files: Vec<String>,
    /// `bin` command names.
    pub(crate) bin_names: Vec<String>,
}

impl Parts {
    pub(crate) fn parse(bytes: Option<&[u8]>) -> Self {
        let Some(value) =
            bytes.and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        else {
            return Self {
                entry_files: vec!["index.js".to_owned()],
                ..Self::default()
            };
        };
        let text = |key: &str| {
            value
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut parts = Self {
            name: text("name"),
            version: text("version"),
            ..Self::default()
        };
        if let Some(scripts) = value.get("scripts").and_then(serde_json::Value::as_object) {
            for hook in INSTALL_HOOKS {
                if let Some(command) = scripts.get(*hook).and_then(serde_json::Value::as_str) {
                    parts.hooks.insert((*hook).to_owned(), command.to_owned());
                }
            }
        }
        for kind in INSTALLED_DEPENDENCY_KINDS {
            if let Some(object) = value.get(*kind).and_then(serde_json::Value::as_object) {
                for (name, spec) in object.iter().take(MAX_ENTRIES) {
                    let spec = spec.as_str().unwrap_or("<not a string>");
                    parts
                        .dependencies
                        .insert(((*kind).to_owned(), name.clone()), spec.to_owned());
                }
            }
        }
        for key in ["main", "module", "browser", "bin", "exports"] {
            if let Some(entry) = value.get(key) {
                parts.entry_points.insert(key, compact(entry));
            }
        }
        let main = text("main");
        parts.entry_files.push(if main.is_empty() {
            "index.js".to_owned()
        } else {
            main
        });
        match value.get("bin") {
            Some(serde_json::Value::String(file)) => {
                parts
                    .bin_names
                    .push(parts.name.rsplit('/').next().unwrap_or_default().to_owned());
                parts.entry_files.push(file.clone());
            }
            Some(serde_json::Value::Object(bins)) => {
                for (name, file) in bins.iter().take(MAX_ENTRIES) {
                    parts.bin_names.push(name.clone());
                    if let Some(file) = file.as_str() {
                        parts.entry_files.push(file.to_owned());
                    }
                }
            }
            _ => {}
        }
        if let Some(exports) = value.get("exports") {
            collect_strings(exports, &mut parts.entry_files, 0);
        }
        parts.entry_files = parts
            .entry_files
            .iter()
            .filter_map(|file| normalize(file))
            .collect();
        parts.entry_files.sort();
        parts.entry_files.dedup();
        parts
    }
}

/// Compact JSON of a value, bounded.
fn compact(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string(value).unwrap_or_default();
    if text.len() > 400 {
        let mut cut = 400;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
    if depth > 8 || out.len() > 1000 {
        return;
    }
    match value {
        serde_json::Value::String(file) => out.push(file.clone()),
        serde_json::Value::Object(object) => {
            for nested in object.values().take(MAX_ENTRIES) {
                collect_strings(nested, out, depth + 1);
            }
        }
        serde_json::Value::Array(array) => {
            for nested in array.iter().take(MAX_ENTRIES) {
                collect_strings(nested, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// A package-relative path as the package files are keyed (`./lib/x.js` → `lib/x.js`),
/// or `None` for paths that leave the package or contain patterns.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    (!joined.is_empty() && !joined.contains('*')).then_some(joined)
}

/// Whether a dependency spec installs from outside the registry (git, a URL, a GitHub
/// shorthand, a local file).
pub(crate) fn is_remote_spec(spec: &str) -> bool {
    let spec = spec.trim();
    let lower = spec.to_ascii_lowercase();
    [
        "git:",
        "git+",
        "http:",
        "https:",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "file:",
        "link:",
    ]
    .iter()
    .any(|prefix| lower.starts_with(prefix))
        || (spec.contains('/')
            && !spec.starts_with('@')
            && !spec.starts_with("npm:")
            && !spec.starts_with("workspace:")
            && spec
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric()))
}

/// How a version moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bump {
    /// `x` grew.
    Major,
    /// `y` grew.
    Minor,
    /// `z` grew.
    Patch,
    /// Only the pre-release or build part changed.
    Prerelease,
    /// Same version.
    Same,
    /// The new version is lower.
    Downgrade,
    /// One of the versions is not semver.
    Unknown,
}

/// Classifies `old` → `new` by semver.
pub(crate) fn bump(old: &str, new: &str) -> Bump {
    let (Some(old_parts), Some(new_parts)) = (semver(old), semver(new)) else {
        return Bump::Unknown;
    };
    if old.trim() == new.trim() {
        return Bump::Same;
    }
    match (
        new_parts.0.cmp(&old_parts.0),
        new_parts.1.cmp(&old_parts.1),
        new_parts.2.cmp(&old_parts.2),
    ) {
        (std::cmp::Ordering::Greater, _, _) => Bump::Major,
        (std::cmp::Ordering::Less, _, _) => Bump::Downgrade,
        (_, std::cmp::Ordering::Greater, _) => Bump::Minor,
        (_, std::cmp::Ordering::Less, _) => Bump::Downgrade,
        (_, _, std::cmp::Ordering::Greater) => Bump::Patch,
        (_, _, std::cmp::Ordering::Less) => Bump::Downgrade,
        _ => Bump::Prerelease,
    }
}

fn semver(version: &str) -> Option<(u64, u64, u64)> {
    let core = version
        .trim()
        .trim_start_matches(['v', '='])
        .split(['-', '+'])
        .next()?;
    let mut numbers = core.split('.').map(|n| n.parse::<u64>().ok());
    let parts = (numbers.next()??, numbers.next()??, numbers.next()??);
    numbers.next().is_none().then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps() {
        assert_eq!(bump("1.2.3", "1.2.4"), Bump::Patch);
        assert_eq!(bump("1.2.3", "1.3.0"), Bump::Minor);
        assert_eq!(bump("1.2.3", "2.0.0"), Bump::Major);
        assert_eq!(bump("1.2.3", "1.2.3"), Bump::Same);
        assert_eq!(bump("1.2.3", "1.2.2"), Bump::Downgrade);
        assert_eq!(bump("1.2.3-beta.1", "1.2.3-beta.2"), Bump::Prerelease);
        assert_eq!(bump("latest", "1.0.0"), Bump::Unknown);
        assert_eq!(bump("1.2", "1.3"), Bump::Unknown);
    }

    #[test]
    fn remote_specs() {
        for remote in [
            "git+https://github.com/a/b.git",
            "github:a/b",
            "a/b",
            "a/b#main",
            "https://example.invalid/x.tgz",
            "file:../x",
        ] {
            assert!(is_remote_spec(remote), "{remote}");
        }
        for registry in ["^1.2.3", "1.x", "npm:other@1", "workspace:*", "*", ">=1 <2"] {
            assert!(!is_remote_spec(registry), "{registry}");
        }
    }

    #[test]
    fn entry_files_and_hostile_manifests() {
        let parts = Parts::parse(Some(
            br#"{"name":"@s/x","main":"./lib/index.js","bin":{"x":"bin/x.js"},"exports":{".":{"require":"./lib/index.js","import":"./esm/index.mjs"},"./p/*":"./p/*.js"},"scripts":{"postinstall":"node a.js","test":"jest"}}"#,
        ));
        assert_eq!(
            parts.entry_files,
            ["bin/x.js", "esm/index.mjs", "lib/index.js"]
        );
        assert_eq!(parts.hooks.len(), 1);
        assert_eq!(Parts::parse(Some(b"not json")).entry_files, ["index.js"]);
        assert_eq!(Parts::parse(Some(b"[1,2]")).hooks.len(), 0);
        assert_eq!(normalize("../../etc/passwd"), None);
    }
}
