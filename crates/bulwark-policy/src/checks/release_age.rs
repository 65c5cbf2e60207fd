//! Minimum release age: a version published less than `[release-age] minimum` before the
//! scan is a violation (the window in which most malicious versions are caught and pulled).
//! Publication times come from [`crate::packument`]; a version that cannot be dated is a
//! `release-age-unknown` violation at the `unknown` level, so offline runs say what they
//! could not check.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use bulwark_lockfile::Project;
use bulwark_types::SourceKind;

use super::{Context, about};
use crate::config::Config;
use crate::date::{describe, from_unix_seconds, unix_seconds};
use crate::violation::{Check, Violation};

/// The decision for one `name@version` published at `published` (Unix seconds), or
/// `Err(why)` when its time is unknown.
#[must_use]
pub fn decide(
    config: &Config,
    name: &str,
    version: &str,
    published: Result<i64, &str>,
    now: SystemTime,
) -> Option<Violation> {
    let rules = &config.release_age;
    let minimum = rules.minimum?;
    if rules.ignore.iter().any(|e| e.covers(name, version)) {
        return None;
    }
    match published {
        Ok(published) => {
            let age = unix_seconds(now).saturating_sub(published);
            let minimum_seconds = i64::try_from(minimum.as_secs()).unwrap_or(i64::MAX);
            (age < minimum_seconds).then(|| {
                let age = std::time::Duration::from_secs(age.max(0).unsigned_abs());
                Violation::new(
                    Check::ReleaseTooRecent,
                    rules.level,
                    format!(
                        "{name}@{version} was published {} ago ({}), less than the minimum release age of {}",
                        describe(age),
                        crate::date::Date::of(from_unix_seconds(published)),
                        describe(minimum)
                    ),
                )
                .package(name, version)
            })
        }
        Err(why) => Some(
            Violation::new(
                Check::ReleaseAgeUnknown,
                rules.unknown,
                format!("{name}@{version}: publication time unknown ({why})"),
            )
            .package(name, version),
        ),
    }
}

/// Registry packages whose publication time the policy needs: name → versions.
#[must_use]
pub fn wanted(config: &Config, projects: &[Project]) -> BTreeMap<String, BTreeSet<String>> {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if config.release_age.minimum.is_none() {
        return wanted;
    }
    for package in projects.iter().flat_map(|p| p.packages.iter()) {
        if package.source == SourceKind::Registry
            && !config
                .release_age
                .ignore
                .iter()
                .any(|e| e.covers(&package.name, &package.version))
        {
            wanted
                .entry(package.name.clone())
                .or_default()
                .insert(package.version.clone());
        }
    }
    wanted
}

/// Checks the registry packages of `project` against the publication times in `context`.
#[must_use]
pub fn check(config: &Config, project: &Project, context: &Context<'_>) -> Vec<Violation> {
    if config.release_age.minimum.is_none() {
        return Vec::new();
    }
    project
        .packages
        .iter()
        .filter(|package| package.source == SourceKind::Registry)
        .filter_map(|package| {
            let published = match context.publish_times.get(&package.name) {
                Some(times) => times
                    .get(&package.version)
                    .copied()
                    .ok_or("the registry lists no time for this version"),
                None => Err(context
                    .undated
                    .get(&package.name)
                    .map_or("could not be looked up", String::as_str)),
            };
            decide(
                config,
                &package.name,
                &package.version,
                published,
                context.now,
            )
            .map(|v| about(v.check, v.level, package, v.message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use crate::checks::test_support::{config, project};

    const DAY: i64 = 86_400;

    #[test]
    fn too_recent_unknown_and_ignored() {
        let policy = config(
            r#"
[release-age]
level = "deny"
minimum = "7d"
unknown = "warn"
ignore = [{ name = "@corp/*", reason = "our own releases" }]
"#,
        );
        let now = from_unix_seconds(1_000 * DAY);
        let recent = decide(&policy, "chalk", "5.0.0", Ok(995 * DAY), now).unwrap();
        assert_eq!(recent.check, Check::ReleaseTooRecent);
        assert_eq!(recent.level, Level::Deny);
        assert!(recent.message.contains("5 days ago"), "{}", recent.message);
        assert!(decide(&policy, "chalk", "4.1.2", Ok(900 * DAY), now).is_none());
        assert!(
            decide(&policy, "chalk", "4.1.2", Ok(993 * DAY), now).is_none(),
            "exactly 7 days"
        );
        let unknown = decide(&policy, "chalk", "5.0.0", Err("offline"), now).unwrap();
        assert_eq!(
            (unknown.check, unknown.level),
            (Check::ReleaseAgeUnknown, Level::Warn)
        );
        assert!(decide(&policy, "@corp/lib", "1.0.0", Ok(999 * DAY), now).is_none());
    }

    #[test]
    fn disabled_without_minimum() {
        let policy = config("");
        let now = from_unix_seconds(1_000 * DAY);
        assert!(decide(&policy, "chalk", "5.0.0", Ok(999 * DAY), now).is_none());
        assert!(wanted(&policy, &[project(&[("chalk", "5.0.0")])]).is_empty());
    }

    #[test]
    fn over_an_inventory() {
        let policy = config("[release-age]\nminimum = \"3d\"\n");
        let project = project(&[("fresh", "1.0.0"), ("old", "1.0.0"), ("undated", "1.0.0")]);
        let wanted = wanted(&policy, std::slice::from_ref(&project));
        assert_eq!(wanted.len(), 3);
        let times = BTreeMap::from([
            (
                "fresh".to_owned(),
                BTreeMap::from([("1.0.0".to_owned(), 999 * DAY)]),
            ),
            (
                "old".to_owned(),
                BTreeMap::from([("1.0.0".to_owned(), 100 * DAY)]),
            ),
        ]);
        let undated = BTreeMap::from([("undated".to_owned(), "404 Not Found".to_owned())]);
        let context = Context {
            now: from_unix_seconds(1_000 * DAY),
            publish_times: &times,
            undated: &undated,
        };
        let found = check(&policy, &project, &context);
        let checks: Vec<(Check, &str)> = found
            .iter()
            .map(|v| (v.check, v.package.as_ref().unwrap().name.as_str()))
            .collect();
        assert_eq!(
            checks,
            [
                (Check::ReleaseTooRecent, "fresh"),
                (Check::ReleaseAgeUnknown, "undated")
            ]
        );
        assert!(
            found[1].message.contains("(404 Not Found)"),
            "{}",
            found[1].message
        );
    }
}
