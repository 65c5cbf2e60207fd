//! The policy file, `bulwark.toml`: loaded in two phases (cargo-deny's model). [`raw`] keeps
//! every value with its span and rejects unknown keys; [`validate`] interprets levels,
//! patterns, ranges, dates and durations and turns every mistake into a [`Diagnostic`] at
//! its line and column. Allow and ignore entries need a `reason`; an entry whose `expires`
//! date has passed stops applying and is reported as a warning and as a violation.

mod raw;
mod serve;
mod validate;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bulwark_advisory::Range;

use crate::date::Date;
use crate::diagnostic::Diagnostic;
use crate::level::Level;
use crate::pattern::NamePattern;

pub use serve::{DEFAULT_LISTEN, Serve, Upstream};

/// The file name looked for in the project root.
pub const FILE_NAME: &str = "bulwark.toml";

/// Config files larger than this are refused.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("`{}` is larger than 1 MiB", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a valid policy; the diagnostics say where and why.
    #[error("`{name}` is not a valid policy ({} errors)", diagnostics.iter().filter(|d| d.severity == crate::Severity::Error).count())]
    Invalid {
        /// The file name as shown in diagnostics.
        name: String,
        /// The text, for rendering code frames.
        source_text: String,
        /// Every problem found (errors, and warnings such as expired entries).
        diagnostics: Vec<Diagnostic>,
    },
}

/// One allow, deny or ignore entry of the policy.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Which packages (`None` for finding ignores by `id` only).
    pub name: Option<NamePattern>,
    /// An advisory id (`[findings] ignore` only).
    pub id: Option<String>,
    /// Which versions (npm range syntax); `None` means every version.
    pub version: Option<Range>,
    /// The range as written.
    pub version_text: Option<String>,
    /// Why the entry exists (required).
    pub reason: String,
    /// The last day the entry applies, if it expires.
    pub expires: Option<Date>,
    /// 1-based line of the entry in the config.
    pub line: usize,
}

impl Entry {
    /// True when the entry covers `name@version` (a version that is not npm semver is
    /// covered only by entries without `version`).
    #[must_use]
    pub fn covers(&self, name: &str, version: &str) -> bool {
        let name_matches = self
            .name
            .as_ref()
            .is_some_and(|pattern| pattern.matches(name));
        name_matches
            && match &self.version {
                None => true,
                Some(range) => bulwark_advisory::Version::parse(version)
                    .is_ok_and(|version| range.matches(&version)),
            }
    }

    /// `name` or `name@range`, for messages.
    #[must_use]
    pub fn label(&self) -> String {
        let name = self
            .name
            .as_ref()
            .map_or_else(|| self.id.clone().unwrap_or_default(), ToString::to_string);
        match &self.version_text {
            Some(version) => format!("{name}@{version}"),
            None => name,
        }
    }
}

/// An entry whose `expires` date has passed: it no longer applies.
#[derive(Debug, Clone)]
pub struct ExpiredEntry {
    /// The section and list, e.g. `install-scripts.allow`.
    pub list: String,
    /// The entry.
    pub entry: Entry,
}

/// `[registries]`: where registry packages may be resolved from.
#[derive(Debug, Clone)]
pub struct Registries {
    /// Level of a resolved URL on another host or with another scheme.
    pub level: Level,
    /// Allowed hosts (`registry.npmjs.org`) or URL prefixes (`https://npm.corp/repo/`).
    pub allow: Vec<String>,
    /// Allowed URL schemes (`https` by default).
    pub schemes: Vec<String>,
}

/// `[sources]`: levels for packages that do not come from a registry.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `git+…`, `github:…`.
    pub git: Level,
    /// A tarball from an arbitrary URL.
    pub remote_tarball: Level,
    /// `file:`.
    pub file: Level,
    /// `link:`, `portal:`.
    pub link: Level,
    /// Packages allowed to use such a source.
    pub allow: Vec<Entry>,
}

/// `[integrity]`.
#[derive(Debug, Clone)]
pub struct IntegrityRules {
    /// Level of a downloaded package without integrity.
    pub missing: Level,
    /// Level of a package whose only integrity is sha1 (or anything weaker than sha512).
    pub weak: Level,
    /// Packages exempted.
    pub ignore: Vec<Entry>,
}

/// `[pinning]`: levels of ranges in `package.json`, per dependency type.
#[derive(Debug, Clone)]
pub struct Pinning {
    /// `dependencies`.
    pub dependencies: Level,
    /// `devDependencies`.
    pub dev_dependencies: Level,
    /// `optionalDependencies`.
    pub optional_dependencies: Level,
    /// `peerDependencies`.
    pub peer_dependencies: Level,
    /// Dependencies exempted.
    pub ignore: Vec<Entry>,
}

/// `[packages]`: allow and deny lists.
#[derive(Debug, Clone)]
pub struct Packages {
    /// Level of a denied (or, in approved-only mode, unapproved) package.
    pub level: Level,
    /// Anything not on `allow` is a violation.
    pub approved_only: bool,
    /// Approved packages.
    pub allow: Vec<Entry>,
    /// Denied packages (deny wins over allow).
    pub deny: Vec<Entry>,
}

/// `[install-scripts]`: packages allowed to run lifecycle scripts or `binding.gyp`.
#[derive(Debug, Clone)]
pub struct InstallScripts {
    /// Level of a package with install scripts that is not allowed.
    pub level: Level,
    /// Allowed packages, each pinned to versions.
    pub allow: Vec<Entry>,
}

/// `[release-age]`: minimum time between publication and use.
#[derive(Debug, Clone)]
pub struct ReleaseAge {
    /// Level of a version younger than `minimum`.
    pub level: Level,
    /// The minimum age; `None` disables the check.
    pub minimum: Option<Duration>,
    /// Level of a version whose publication time is unknown (offline without cache,
    /// registry error).
    pub unknown: Level,
    /// Packages exempted.
    pub ignore: Vec<Entry>,
}

/// `[findings]`: levels of known-bad matches and code-analysis verdicts.
#[derive(Debug, Clone)]
pub struct Findings {
    /// Known malicious or compromised versions and code the analysis calls malicious.
    pub malicious: Level,
    /// Code the analysis calls suspicious.
    pub suspicious: Level,
    /// Known vulnerabilities.
    pub vulnerability: Level,
    /// Findings exempted by advisory `id` or by package `name` (+ `version`).
    pub ignore: Vec<Entry>,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was loaded from (`None` for [`Config::from_str`]).
    pub path: Option<PathBuf>,
    /// `[registries]`.
    pub registries: Registries,
    /// `[sources]`.
    pub sources: Sources,
    /// `[integrity]`.
    pub integrity: IntegrityRules,
    /// `[resolved-url]` level: a resolved URL that names another package or version.
    pub resolved_url: Level,
    /// `[pinning]`.
    pub pinning: Pinning,
    /// `[packages]`.
    pub packages: Packages,
    /// `[install-scripts]`.
    pub install_scripts: InstallScripts,
    /// `[release-age]`.
    pub release_age: ReleaseAge,
    /// `[drift]` level: `package.json` and the lockfile disagree.
    pub drift: Level,
    /// `[findings]`.
    pub findings: Findings,
    /// `[serve]` for the registry gate, when present.
    pub serve: Option<Serve>,
    /// Entries that expired (already removed from their lists).
    pub expired: Vec<ExpiredEntry>,
    /// Warnings about the file (expired entries), to render beside the report.
    pub warnings: Vec<Diagnostic>,
    /// The text, for rendering warnings.
    pub source_text: String,
}

impl Default for Config {
    fn default() -> Self {
        Self::from_str_at("", Date::of(SystemTime::now()))
            .unwrap_or_else(|_| unreachable!("the empty config is valid"))
    }
}

impl Config {
    /// Reads and validates `path`, with today's date deciding expiry.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file; `Invalid` carries every diagnostic.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_at(path, Date::of(SystemTime::now()))
    }

    /// [`Config::load`] with an explicit "today".
    ///
    /// # Errors
    /// See [`Config::load`].
    pub fn load_at(path: &Path, today: Date) -> Result<Self, ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(io)?;
        if metadata.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut config =
            validate::parse(&text, today).map_err(|diagnostics| ConfigError::Invalid {
                name: path.display().to_string(),
                source_text: text.clone(),
                diagnostics,
            })?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses and validates config text, with today's date deciding expiry.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] with every diagnostic.
    #[expect(
        clippy::should_implement_trait,
        reason = "an inherent constructor reads better for config text"
    )]
    pub fn from_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_str_at(text, Date::of(SystemTime::now()))
    }

    /// [`Config::from_str`] with an explicit "today".
    ///
    /// # Errors
    /// See [`Config::from_str`].
    pub fn from_str_at(text: &str, today: Date) -> Result<Self, ConfigError> {
        validate::parse(text, today).map_err(|diagnostics| ConfigError::Invalid {
            name: FILE_NAME.to_owned(),
            source_text: text.to_owned(),
            diagnostics,
        })
    }

    /// `bulwark.toml` in `dir`, if there is one.
    #[must_use]
    pub fn find(dir: &Path) -> Option<PathBuf> {
        let candidate = dir.join(FILE_NAME);
        candidate.is_file().then_some(candidate)
    }
}
