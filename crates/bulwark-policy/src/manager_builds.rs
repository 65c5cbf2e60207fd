//! The build allowlists the package managers themselves record: pnpm's
//! `onlyBuiltDependencies`, `neverBuiltDependencies`, `allowBuilds` and
//! `dangerouslyAllowAllBuilds` (the `pnpm` field of the root `package.json`, or
//! `pnpm-workspace.yaml`), and bun's `trustedDependencies` (root `package.json`).
//!
//! A package the manager will never build cannot run its install scripts, so the
//! install-scripts check does not report it. Only a definite "not built" counts: whatever
//! bulwark cannot decide (no setting, pnpm's `onlyBuiltDependenciesFile`, bun's built-in list
//! of trusted packages, a version range in an entry) is treated as built, so the check stays
//! on the side of reporting.

use std::path::Path;

use bulwark_lockfile::Project;
use serde_json::Value;

use crate::checks::is_installed_tree;
use crate::manifest::read_inside;

/// What the project's package manager does with one package's install scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ManagerBuild {
    /// The manager will not run them; the reason names the setting.
    Never(String),
    /// The manager runs them, or bulwark cannot tell that it does not.
    Maybe,
}

/// The manager-recorded build settings of one project.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildSettings {
    manager: Option<Manager>,
}

#[derive(Debug, Clone)]
enum Manager {
    Pnpm(PnpmSettings),
    Bun { trusted: Option<Vec<String>> },
}

#[derive(Debug, Clone, Default)]
struct PnpmSettings {
    /// `dangerouslyAllowAllBuilds: true`.
    allow_all: bool,
    /// `onlyBuiltDependenciesFile` is set: its contents are not read.
    only_built_file: bool,
    /// `onlyBuiltDependencies` with where it was set.
    only_built: Option<(Vec<String>, &'static str)>,
    /// `neverBuiltDependencies` with where it was set.
    never_built: Option<(Vec<String>, &'static str)>,
    /// `allowBuilds` entries (package descriptor, allowed).
    allow_builds: Option<Vec<(String, bool)>>,
}

impl BuildSettings {
    /// Reads the settings that apply to `project` (a pnpm or bun lockfile, or an installed
    /// tree laid out by one of them) from files inside its root.
    pub(crate) fn read(project: &Project) -> Self {
        let layout = if is_installed_tree(project) {
            project.format_version.as_str()
        } else {
            project.format.split('/').next().unwrap_or("")
        };
        let root = &project.root;
        let manifest = read_inside(root, &root.join("package.json"))
            .and_then(|text| serde_json::from_str::<Value>(&text).ok());
        let manager = match layout {
            "pnpm" => Some(Manager::Pnpm(pnpm_settings(root, manifest.as_ref()))),
            "bun" => Some(Manager::Bun {
                trusted: manifest
                    .as_ref()
                    .and_then(|m| m.get("trustedDependencies"))
                    .and_then(string_list),
            }),
            _ => None,
        };
        Self { manager }
    }

    /// Whether the manager will run `name@version`'s install scripts.
    pub(crate) fn decide(&self, name: &str, version: &str) -> ManagerBuild {
        match &self.manager {
            None => ManagerBuild::Maybe,
            Some(Manager::Bun { trusted: None }) => ManagerBuild::Maybe,
            Some(Manager::Bun {
                trusted: Some(list),
            }) => {
                if list.iter().any(|entry| entry == name) {
                    ManagerBuild::Maybe
                } else {
                    ManagerBuild::Never(
                        "bun runs install scripts only of `trustedDependencies`, which does not list it"
                            .to_owned(),
                    )
                }
            }
            Some(Manager::Pnpm(settings)) => settings.decide(name, version),
        }
    }
}

impl PnpmSettings {
    fn decide(&self, name: &str, version: &str) -> ManagerBuild {
        if self.allow_all || self.only_built_file {
            return ManagerBuild::Maybe;
        }
        if let Some(entries) = &self.allow_builds {
            // An explicit `true` (or a descriptor bulwark cannot resolve) wins over `false`.
            let matching: Vec<bool> = entries
                .iter()
                .filter(|(descriptor, _)| descriptor_name(descriptor) == name)
                .map(|(descriptor, allowed)| {
                    *allowed || !descriptor_covers(descriptor, name, version)
                })
                .collect();
            if matching.iter().any(|&maybe| maybe) {
                return ManagerBuild::Maybe;
            }
            return ManagerBuild::Never(if matching.is_empty() {
                "pnpm builds only packages set to `true` in `allowBuilds`, which does not list it"
                    .to_owned()
            } else {
                "pnpm's `allowBuilds` sets it to `false`".to_owned()
            });
        }
        if let Some((list, place)) = &self.only_built {
            if list.iter().any(|entry| descriptor_name(entry) == name) {
                return ManagerBuild::Maybe;
            }
            return ManagerBuild::Never(format!(
                "pnpm builds only `onlyBuiltDependencies` ({place}), which does not list it"
            ));
        }
        if let Some((list, place)) = &self.never_built
            && list.iter().any(|entry| entry == name)
        {
            return ManagerBuild::Never(format!(
                "pnpm's `neverBuiltDependencies` ({place}) lists it"
            ));
        }
        // No allowlist: pnpm 10 and later build nothing, earlier versions everything; the
        // lockfile does not say which pnpm will install, so it may run.
        ManagerBuild::Maybe
    }
}

/// pnpm's settings from `pnpm-workspace.yaml` (pnpm 10 and later read them there), and the
/// `pnpm` field of `package.json`, which older versions read.
fn pnpm_settings(root: &Path, manifest: Option<&Value>) -> PnpmSettings {
    let mut settings = PnpmSettings::default();
    let workspace = read_inside(root, &root.join("pnpm-workspace.yaml"))
        .and_then(|text| serde_norway::from_str::<Value>(&text).ok());
    let package_json = manifest.and_then(|m| m.get("pnpm"));
    for (source, place) in [
        (package_json, "`pnpm` in package.json"),
        (workspace.as_ref(), "pnpm-workspace.yaml"),
    ] {
        let Some(source) = source.filter(|s| s.is_object()) else {
            continue;
        };
        if source.get("dangerouslyAllowAllBuilds") == Some(&Value::Bool(true)) {
            settings.allow_all = true;
        }
        if source.get("onlyBuiltDependenciesFile").is_some() {
            settings.only_built_file = true;
        }
        // Both files set: their lists are merged, so a name either one lets build may build.
        if let Some(list) = source.get("onlyBuiltDependencies").and_then(string_list) {
            let (merged, _) = settings
                .only_built
                .get_or_insert_with(|| (Vec::new(), place));
            merged.extend(list);
        }
        if let Some(list) = source.get("neverBuiltDependencies").and_then(string_list) {
            let (merged, _) = settings
                .never_built
                .get_or_insert_with(|| (Vec::new(), place));
            merged.extend(list);
        }
        if let Some(map) = source.get("allowBuilds").and_then(Value::as_object) {
            settings.allow_builds.get_or_insert_with(Vec::new).extend(
                map.iter()
                    // Only a literal `false` disallows; `"warn"` and anything else may build.
                    .map(|(descriptor, value)| (descriptor.clone(), value != &Value::Bool(false))),
            );
        }
    }
    settings
}

/// The strings of a JSON/YAML array; `None` when it is not an array.
fn string_list(value: &Value) -> Option<Vec<String>> {
    Some(
        value
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_owned())
            .collect(),
    )
}

/// The package name of a pnpm descriptor (`esbuild`, `@scope/pkg`, `esbuild@0.25.0 || 0.25.1`).
fn descriptor_name(descriptor: &str) -> &str {
    let descriptor = descriptor.trim();
    let search_from = usize::from(descriptor.starts_with('@'));
    match descriptor[search_from..].find('@') {
        Some(at) => &descriptor[..search_from + at],
        None => descriptor,
    }
}

/// Whether a descriptor names exactly `name` or `name@version` (one of `||`-separated exact
/// versions); ranges are not resolved, so they do not cover.
fn descriptor_covers(descriptor: &str, name: &str, version: &str) -> bool {
    let descriptor = descriptor.trim();
    if descriptor == name {
        return true;
    }
    let Some(versions) = descriptor
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('@'))
    else {
        return false;
    };
    versions.split("||").any(|v| v.trim() == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pnpm(settings: PnpmSettings) -> BuildSettings {
        BuildSettings {
            manager: Some(Manager::Pnpm(settings)),
        }
    }

    fn never(decision: &ManagerBuild) -> bool {
        matches!(decision, ManagerBuild::Never(_))
    }

    #[test]
    fn descriptors() {
        assert_eq!(descriptor_name("esbuild"), "esbuild");
        assert_eq!(descriptor_name("esbuild@0.25.0 || 0.25.1"), "esbuild");
        assert_eq!(descriptor_name("@swc/core"), "@swc/core");
        assert_eq!(descriptor_name("@swc/core@1.3.0"), "@swc/core");
        assert_eq!(descriptor_name("@"), "@");
        assert!(descriptor_covers(
            "esbuild@0.25.0 || 0.25.1",
            "esbuild",
            "0.25.1"
        ));
        assert!(!descriptor_covers("esbuild@^0.25.0", "esbuild", "0.25.1"));
        assert!(descriptor_covers("esbuild", "esbuild", "1.0.0"));
    }

    #[test]
    fn only_built_dependencies() {
        let settings = pnpm(PnpmSettings {
            only_built: Some((vec!["esbuild@0.20.2".into()], "pnpm-workspace.yaml")),
            ..PnpmSettings::default()
        });
        assert_eq!(settings.decide("esbuild", "0.20.2"), ManagerBuild::Maybe);
        assert_eq!(
            settings.decide("esbuild", "0.21.0"),
            ManagerBuild::Maybe,
            "a listed name may build whatever the version"
        );
        assert!(never(&settings.decide("core-js", "3.0.0")));
    }

    #[test]
    fn never_built_and_defaults() {
        let settings = pnpm(PnpmSettings {
            never_built: Some((vec!["core-js".into()], "`pnpm` in package.json")),
            ..PnpmSettings::default()
        });
        assert!(never(&settings.decide("core-js", "3.0.0")));
        assert_eq!(settings.decide("esbuild", "0.20.2"), ManagerBuild::Maybe);
        assert_eq!(
            pnpm(PnpmSettings::default()).decide("esbuild", "0.20.2"),
            ManagerBuild::Maybe
        );
    }

    #[test]
    fn allow_builds_and_overrides() {
        let settings = pnpm(PnpmSettings {
            allow_builds: Some(vec![
                ("esbuild".into(), true),
                ("core-js".into(), false),
                ("sharp@^0.33.0".into(), false),
            ]),
            ..PnpmSettings::default()
        });
        assert_eq!(settings.decide("esbuild", "0.20.2"), ManagerBuild::Maybe);
        assert!(never(&settings.decide("core-js", "3.0.0")));
        assert!(never(&settings.decide("evil", "1.0.0")), "unlisted");
        assert_eq!(
            settings.decide("sharp", "0.33.1"),
            ManagerBuild::Maybe,
            "a range bulwark does not resolve is not a definite no"
        );
        let everything = pnpm(PnpmSettings {
            allow_all: true,
            only_built: Some((vec![], "pnpm-workspace.yaml")),
            ..PnpmSettings::default()
        });
        assert_eq!(everything.decide("evil", "1.0.0"), ManagerBuild::Maybe);
        let file = pnpm(PnpmSettings {
            only_built_file: true,
            only_built: Some((vec![], "pnpm-workspace.yaml")),
            ..PnpmSettings::default()
        });
        assert_eq!(file.decide("evil", "1.0.0"), ManagerBuild::Maybe);
    }

    #[test]
    fn bun_trusted_dependencies() {
        let unset = BuildSettings {
            manager: Some(Manager::Bun { trusted: None }),
        };
        assert_eq!(
            unset.decide("esbuild", "0.20.2"),
            ManagerBuild::Maybe,
            "bun's built-in trusted list may cover it"
        );
        let set = BuildSettings {
            manager: Some(Manager::Bun {
                trusted: Some(vec!["esbuild".into()]),
            }),
        };
        assert_eq!(set.decide("esbuild", "0.20.2"), ManagerBuild::Maybe);
        assert!(never(&set.decide("core-js", "3.0.0")));
        assert_eq!(
            BuildSettings::default().decide("evil", "1.0.0"),
            ManagerBuild::Maybe
        );
    }
}
