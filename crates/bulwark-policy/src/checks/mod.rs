//! The checks, one module per check. Each is a pure function from the policy and the
//! inventory (and files the inventory points at) to [`Violation`]s; [`run`] runs them all.

pub mod drift;
pub mod findings;
pub mod install_scripts;
pub mod integrity;
pub mod packages;
pub mod pinning;
pub mod registries;
pub mod release_age;
pub mod resolved_url;
pub mod sources;

use std::time::SystemTime;

use bulwark_lockfile::Project;

use crate::config::Config;
use crate::level::Level;
use crate::packument::PublishTimes;
use crate::violation::{Check, Violation};

/// What the checks need besides the policy and the inventory.
pub struct Context<'a> {
    /// "Now" for the minimum release age.
    pub now: SystemTime,
    /// Publication times per package name (from [`crate::packument`]); packages missing here
    /// are "could not be dated".
    pub publish_times: &'a std::collections::BTreeMap<String, PublishTimes>,
    /// Why packages missing from `publish_times` could not be dated.
    pub undated: &'a std::collections::BTreeMap<String, String>,
}

/// True for installed-tree projects (`node_modules`), whose packages repeat the lockfile's.
#[must_use]
pub fn is_installed_tree(project: &Project) -> bool {
    project.format.starts_with("installed")
}

/// Runs every check over every project, then reports expired config entries. Violations
/// at level `allow` are dropped; the rest are sorted deny first, then by check and package.
#[must_use]
pub fn run(config: &Config, projects: &[Project], context: &Context<'_>) -> Vec<Violation> {
    let mut violations = Vec::new();
    let has_lockfile = projects.iter().any(|p| !is_installed_tree(p));
    for (index, project) in projects.iter().enumerate() {
        let installed = is_installed_tree(project);
        let mut found = Vec::new();
        if !installed || !has_lockfile {
            found.extend(registries::check(config, project));
            found.extend(sources::check(config, project));
            found.extend(integrity::check(config, project));
            found.extend(resolved_url::check(config, project));
            found.extend(packages::check(config, project));
            found.extend(release_age::check(config, project, context));
        }
        if !installed {
            found.extend(pinning::check(config, project));
            found.extend(drift::check(config, project));
        }
        let lockfile_beside = projects
            .iter()
            .any(|other| !is_installed_tree(other) && other.root == project.root);
        found.extend(install_scripts::check_with_siblings(
            config,
            project,
            lockfile_beside,
        ));
        violations.extend(found.into_iter().map(|v| v.in_project(index)));
    }
    violations.extend(expired(config));
    finish(violations)
}

/// One `expired-entry` warning per expired entry, at its line in the config.
#[must_use]
pub fn expired(config: &Config) -> Vec<Violation> {
    let file = config
        .path
        .clone()
        .unwrap_or_else(|| crate::FILE_NAME.into());
    config
        .expired
        .iter()
        .map(|expired| {
            Violation::new(
                Check::ExpiredEntry,
                Level::Warn,
                format!(
                    "`{}` entry `{}` expired on {}; it no longer applies (reason was: {})",
                    expired.list,
                    expired.entry.label(),
                    expired
                        .entry
                        .expires
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    expired.entry.reason
                ),
            )
            .at(file.clone(), u32::try_from(expired.entry.line).unwrap_or(0))
        })
        .collect()
}

/// Drops allow-level violations and duplicates, and sorts.
#[must_use]
pub fn finish(mut violations: Vec<Violation>) -> Vec<Violation> {
    violations.retain(|v| v.level != Level::Allow);
    violations.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(a.check.cmp(&b.check))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.project.cmp(&b.project))
            .then_with(|| a.place.cmp(&b.place))
            .then_with(|| a.message.cmp(&b.message))
    });
    violations.dedup();
    violations
}

/// The place of an inventory package.
pub(crate) fn place_of(package: &bulwark_lockfile::InventoryPackage) -> crate::violation::Place {
    crate::violation::Place {
        file: package.location.file.clone(),
        line: package.location.line,
    }
}

/// A violation about an inventory package, placed at its definition.
pub(crate) fn about(
    check: Check,
    level: Level,
    package: &bulwark_lockfile::InventoryPackage,
    message: String,
) -> Violation {
    let mut violation =
        Violation::new(check, level, message).package(&package.name, &package.version);
    violation.place = Some(place_of(package));
    violation
}

/// Workspace members, `file:` and `link:` packages live in the project itself.
pub(crate) fn is_local(package: &bulwark_lockfile::InventoryPackage) -> bool {
    package.source.is_local()
}

impl Config {
    /// The per-version decision the registry gate makes before serving `name@version`,
    /// without an inventory: the allow/deny lists and the minimum release age (`published`
    /// is the version's publication time from the packument, `None` when unknown).
    /// Allow-level results are dropped.
    #[must_use]
    pub fn check_version(
        &self,
        name: &str,
        version: &str,
        published: Option<SystemTime>,
        now: SystemTime,
    ) -> Vec<Violation> {
        let published = published
            .map(crate::date::unix_seconds)
            .ok_or("the packument has no time for this version");
        let violations = packages::decide(self, name, version)
            .into_iter()
            .chain(release_age::decide(self, name, version, published, now))
            .collect();
        finish(violations)
    }

    /// True when `name@version` may run install scripts (`[install-scripts] allow`).
    #[must_use]
    pub fn install_scripts_allowed(&self, name: &str, version: &str) -> bool {
        self.install_scripts
            .allow
            .iter()
            .any(|entry| entry.covers(name, version))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Small policies and inventories for the checks' unit tests.

    use bulwark_lockfile::{
        Dependency, DependencyKind, Importer, Lockfile, Package, PackageId, Project,
    };
    use bulwark_types::Integrity;

    use crate::config::Config;
    use crate::date::Date;

    /// A policy from text, with "today" fixed at 2026-06-01.
    pub(crate) fn config(text: &str) -> Config {
        match Config::from_str_at(text, Date::parse("2026-06-01").unwrap()) {
            Ok(config) => config,
            Err(error) => panic!("{error:?}"),
        }
    }

    /// A sha512 integrity value.
    pub(crate) fn sha512() -> Integrity {
        Integrity::parse_sri(&format!("sha512-{}==", "A".repeat(86))).unwrap()
    }

    /// An npm-lockfile project whose root depends on every given registry package.
    pub(crate) fn project(packages: &[(&str, &str)]) -> Project {
        project_with(packages, |_| {})
    }

    /// [`project`] with a hook to edit each package.
    pub(crate) fn project_with(packages: &[(&str, &str)], edit: impl Fn(&mut Package)) -> Project {
        let mut lockfile = Lockfile::new("/p/package-lock.json", "npm/package-lock", "3");
        let mut root = Importer::default();
        for (index, (name, version)) in packages.iter().enumerate() {
            let mut package = Package::new(*name, *version, u32::try_from(index).unwrap() + 10);
            package.resolved = Some(format!(
                "https://registry.npmjs.org/{name}/-/{}-{version}.tgz",
                name.rsplit('/').next().unwrap()
            ));
            package.integrity = Some(sha512());
            package.install_path = Some(format!("node_modules/{name}"));
            edit(&mut package);
            lockfile.packages.push(package);
            root.dependencies.push(Dependency {
                name: (*name).to_owned(),
                kind: DependencyKind::Prod,
                target: Some(PackageId(index)),
            });
        }
        lockfile.importers.push(root);
        lockfile.into_inventory()
    }
}
