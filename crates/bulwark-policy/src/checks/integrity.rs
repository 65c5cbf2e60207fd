//! Integrity: every downloaded package (registry or remote tarball) needs an integrity hash
//! in the lockfile, and it should be sha512; a sha1-only entry is reported as weak. Git and
//! local packages have no tarball hash to record.

use bulwark_lockfile::Project;
use bulwark_types::{Algorithm, SourceKind};

use super::about;
use crate::config::Config;
use crate::violation::{Check, Violation};

/// Checks the integrity values of `project`'s downloaded packages.
#[must_use]
pub fn check(config: &Config, project: &Project) -> Vec<Violation> {
    let rules = &config.integrity;
    project
        .packages
        .iter()
        .filter(|p| matches!(p.source, SourceKind::Registry | SourceKind::RemoteTarball))
        .filter(|p| !rules.ignore.iter().any(|e| e.covers(&p.name, &p.version)))
        .filter_map(|package| match &package.integrity {
            None => Some(about(
                Check::IntegrityMissing,
                rules.missing,
                package,
                format!(
                    "{} has no integrity hash in the lockfile; a swapped tarball would install unnoticed",
                    package.id()
                ),
            )),
            Some(integrity) if integrity.algorithm != Algorithm::Sha512 => Some(about(
                Check::IntegrityWeak,
                rules.weak,
                package,
                format!(
                    "{} is only protected by {} (`{integrity}`); sha512 is required",
                    package.id(),
                    integrity.algorithm.as_str()
                ),
            )),
            Some(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use crate::checks::test_support::{config, project, project_with};
    use bulwark_types::Integrity;

    #[test]
    fn pass_and_fail() {
        let policy = config("[integrity]\nmissing = \"deny\"\nweak = \"warn\"\n");
        assert!(check(&policy, &project(&[("chalk", "4.1.2")])).is_empty());
        let missing = project_with(&[("chalk", "4.1.2")], |p| p.integrity = None);
        let found = check(&policy, &missing);
        assert_eq!(
            (found[0].check, found[0].level),
            (Check::IntegrityMissing, Level::Deny)
        );
        let sha1 = project_with(&[("chalk", "4.1.2")], |p| {
            p.integrity = Some(
                Integrity::from_hex(Algorithm::Sha1, "0123456789abcdef0123456789abcdef01234567")
                    .unwrap(),
            );
        });
        let found = check(&policy, &sha1);
        assert_eq!(
            (found[0].check, found[0].level),
            (Check::IntegrityWeak, Level::Warn)
        );
        assert!(found[0].message.contains("sha1"));
        let git = project_with(&[("chalk", "4.1.2")], |p| {
            p.integrity = None;
            p.source = SourceKind::Git;
        });
        assert!(check(&policy, &git).is_empty(), "git has no tarball hash");
    }

    #[test]
    fn ignored_packages() {
        let policy = config(
            "[integrity]\nmissing = \"deny\"\nignore = [{ name = \"chalk\", reason = \"legacy mirror\" }]\n",
        );
        let missing = project_with(&[("chalk", "4.1.2")], |p| p.integrity = None);
        assert!(check(&policy, &missing).is_empty());
    }
}
