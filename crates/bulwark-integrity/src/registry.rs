//! The lockfile against the registry: a packument says which versions exist, their
//! `dist.integrity`, tarball URL, signatures, attestations and publish time; the registry's
//! manifest must also agree with the `package.json` inside the tarball (manifest confusion: the
//! registry shows one set of scripts and dependencies while the tarball installs another).

use serde::Serialize;
use serde_json::Value;

use crate::signatures::RegistrySignature;
use bulwark_types::time::parse_rfc3339;

/// Largest packument read (some popular packages have 50+ MiB packuments).
pub const MAX_PACKUMENT_BYTES: usize = 256 << 20;

/// A parsed packument.
#[derive(Debug, Clone)]
pub struct Packument {
    value: Value,
}

/// Why a packument was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackumentError {
    /// Too large.
    #[error("packument larger than {} MiB", MAX_PACKUMENT_BYTES >> 20)]
    TooLarge,
    /// Not JSON, or not an object with `versions`.
    #[error("malformed packument: {0}")]
    Malformed(String),
}

/// One version as the registry describes it.
#[derive(Debug, Clone)]
pub struct RegistryVersion<'a> {
    /// The version's manifest.
    pub manifest: &'a Value,
    /// `dist.integrity` (or `sha1-` of `dist.shasum` for very old versions).
    pub integrity: Option<String>,
    /// `dist.tarball`.
    pub tarball: Option<&'a str>,
    /// `dist.signatures`.
    pub signatures: Option<Vec<RegistrySignature>>,
    /// Whether `dist.attestations` announces attestations.
    pub has_attestations: bool,
    /// `time[version]` in Unix seconds.
    pub published: Option<i64>,
}

impl Packument {
    /// Parses packument bytes.
    ///
    /// # Errors
    /// [`PackumentError`].
    pub fn parse(bytes: &[u8]) -> Result<Self, PackumentError> {
        if bytes.len() > MAX_PACKUMENT_BYTES {
            return Err(PackumentError::TooLarge);
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| PackumentError::Malformed(error.to_string()))?;
        if !value["versions"].is_object() {
            return Err(PackumentError::Malformed("no `versions` object".to_owned()));
        }
        Ok(Self { value })
    }

    /// The packument's `name`.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.value["name"].as_str()
    }

    /// One version, if the registry has it.
    #[must_use]
    pub fn version(&self, version: &str) -> Option<RegistryVersion<'_>> {
        let manifest = self.value["versions"].get(version)?;
        let dist = &manifest["dist"];
        let integrity = dist["integrity"].as_str().map(str::to_owned).or_else(|| {
            dist["shasum"].as_str().and_then(|hex| {
                bulwark_types::Integrity::from_hex(bulwark_types::Algorithm::Sha1, hex)
                    .ok()
                    .map(|integrity| integrity.to_string())
            })
        });
        Some(RegistryVersion {
            manifest,
            integrity,
            tarball: dist["tarball"].as_str(),
            signatures: dist
                .get("signatures")
                .and_then(|value| serde_json::from_value(value.clone()).ok()),
            has_attestations: dist.get("attestations").is_some_and(Value::is_object),
            published: self.value["time"][version].as_str().and_then(parse_rfc3339),
        })
    }

    /// Every version with a publish time, oldest first.
    #[must_use]
    pub fn versions_by_time(&self) -> Vec<(String, i64)> {
        let mut versions: Vec<(String, i64)> = self.value["versions"]
            .as_object()
            .into_iter()
            .flat_map(|versions| versions.keys())
            .filter_map(|version| {
                self.value["time"][version.as_str()]
                    .as_str()
                    .and_then(parse_rfc3339)
                    .map(|time| (version.clone(), time))
            })
            .collect();
        versions.sort_by_key(|(_, time)| *time);
        versions
    }

    /// The version published last before `version`.
    #[must_use]
    pub fn previous(&self, version: &str) -> Option<String> {
        let versions = self.versions_by_time();
        let position = versions.iter().position(|(v, _)| v == version)?;
        position
            .checked_sub(1)
            .map(|index| versions[index].0.clone())
    }
}

/// A disagreement between the registry manifest and the tarball's `package.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestMismatch {
    /// The field (`name`, `version`, `scripts`, `dependencies`, …).
    pub field: String,
    /// What the registry says (JSON).
    pub registry: String,
    /// What the tarball says (JSON).
    pub tarball: String,
}

/// Fields compared for manifest confusion.
pub const CONFUSION_FIELDS: [&str; 6] = [
    "name",
    "version",
    "scripts",
    "dependencies",
    "optionalDependencies",
    "bin",
];

fn normalized(field: &str, value: Option<&Value>) -> Value {
    match (field, value) {
        (_, None | Some(Value::Null)) => Value::Null,
        // An empty object is the same as no field.
        (_, Some(Value::Object(map))) if map.is_empty() => Value::Null,
        // `bin: "cli.js"` means `{<name>: "cli.js"}`; compare the paths only.
        ("bin", Some(Value::String(path))) => Value::Array(vec![Value::String(
            path.trim_start_matches("./").to_owned(),
        )]),
        ("bin", Some(Value::Object(map))) => {
            let mut paths: Vec<String> = map
                .values()
                .filter_map(Value::as_str)
                .map(|p| p.trim_start_matches("./").to_owned())
                .collect();
            paths.sort();
            paths.dedup();
            Value::Array(paths.into_iter().map(Value::String).collect())
        }
        (_, Some(other)) => other.clone(),
    }
}

/// Compares a registry manifest with the tarball's `package.json`. The registry adds
/// `install` scripts for packages with a `binding.gyp` (`node-gyp rebuild`), so a missing
/// `scripts.install` of that exact value on the tarball side is not confusion.
#[must_use]
pub fn manifest_confusion(registry: &Value, tarball: &Value) -> Vec<ManifestMismatch> {
    let mut mismatches = Vec::new();
    for field in CONFUSION_FIELDS {
        let mut left = normalized(field, registry.get(field));
        let right = normalized(field, tarball.get(field));
        if field == "scripts"
            && let Some(scripts) = left.as_object_mut()
            && scripts.get("install").and_then(Value::as_str) == Some("node-gyp rebuild")
            && right.get("install").is_none()
        {
            scripts.remove("install");
            if scripts.is_empty() {
                left = Value::Null;
            }
        }
        if left != right {
            mismatches.push(ManifestMismatch {
                field: field.to_owned(),
                registry: left.to_string(),
                tarball: right.to_string(),
            });
        }
    }
    mismatches
}

/// Whether `resolved` is the tarball of `name@version`: its path must be the registry's
/// `dist.tarball` path, or `/<name>/-/<basename>-<version>.tgz` (mirrors keep that layout under
/// any host and prefix).
#[must_use]
pub fn resolved_matches(
    resolved: &str,
    name: &str,
    version: &str,
    registry_tarball: Option<&str>,
) -> bool {
    let path_of = |url: &str| -> String {
        let without_query = url.split(['?', '#']).next().unwrap_or_default();
        let after_scheme = without_query
            .split_once("://")
            .map_or(without_query, |(_, rest)| rest);
        after_scheme.find('/').map_or(String::new(), |slash| {
            after_scheme[slash..]
                .replace("%2f", "/")
                .replace("%2F", "/")
        })
    };
    let resolved_path = path_of(resolved);
    if let Some(tarball) = registry_tarball
        && resolved_path == path_of(tarball)
    {
        return true;
    }
    let basename = name.rsplit('/').next().unwrap_or(name);
    resolved_path.ends_with(&format!("/{name}/-/{basename}-{version}.tgz"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolved_urls_must_name_the_package() {
        let registry = Some("https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.0.tgz");
        assert!(resolved_matches(
            "https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.0.tgz",
            "@scope/pkg",
            "1.0.0",
            registry
        ));
        assert!(resolved_matches(
            "https://mirror.example/npm/@scope/pkg/-/pkg-1.0.0.tgz",
            "@scope/pkg",
            "1.0.0",
            None
        ));
        assert!(!resolved_matches(
            "https://registry.npmjs.org/evil/-/evil-1.0.0.tgz",
            "@scope/pkg",
            "1.0.0",
            registry
        ));
        assert!(!resolved_matches(
            "https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.1.tgz",
            "@scope/pkg",
            "1.0.0",
            registry
        ));
    }

    #[test]
    fn manifest_confusion_compares_scripts_and_dependencies() {
        let registry = json!({"name":"a","version":"1.0.0","dependencies":{"b":"^1"},"scripts":{"install":"node-gyp rebuild"},"bin":{"a":"./cli.js"}});
        let same = json!({"name":"a","version":"1.0.0","dependencies":{"b":"^1"},"bin":"cli.js"});
        assert!(manifest_confusion(&registry, &same).is_empty());
        let confused = json!({"name":"a","version":"1.0.0","dependencies":{"b":"^1","evil":"*"},"scripts":{"preinstall":"node x"}});
        let fields: Vec<String> = manifest_confusion(&registry, &confused)
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["scripts", "dependencies", "bin"]);
    }

    #[test]
    fn previous_version_is_by_publish_time() {
        let packument = Packument::parse(br#"{"name":"a","versions":{"1.0.0":{},"2.0.0":{},"1.0.1":{}},"time":{"1.0.0":"2020-01-01T00:00:00Z","2.0.0":"2021-01-01T00:00:00Z","1.0.1":"2022-01-01T00:00:00Z"}}"#).unwrap();
        assert_eq!(packument.previous("1.0.1").as_deref(), Some("2.0.0"));
        assert_eq!(packument.previous("1.0.0"), None);
        assert!(Packument::parse(b"[]").is_err());
    }
}
