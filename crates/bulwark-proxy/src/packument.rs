//! Reading an upstream packument and writing the gated one.
//!
//! [`Gated::build`] parses the upstream bytes once, records each version's integrity, tarball
//! URL and gate [`Decision`]. [`Gated::render`] writes the packument a client sees: blocked
//! versions removed (from `versions` and `time`), tarball URLs pointing at the gate,
//! `dist-tags` moved to the newest allowed version, in the full or the abbreviated
//! (`application/vnd.npm.install-v1+json`) form, gzip-compressed once. Renders are memoised
//! per origin and form, so a warm request copies no JSON.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bulwark_advisory::Version;
use bulwark_types::Integrity;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::gate::Decision;
use crate::protocol;

/// Fields of a version kept in the abbreviated form (npm's "corgi" documents).
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "dist",
    "engines",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
];

/// Why an upstream packument was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackumentError {
    /// Not JSON, or not an object.
    #[error("the upstream packument of `{name}` is not a JSON object")]
    NotAnObject {
        /// The package.
        name: String,
    },
    /// The document names another package.
    #[error("the upstream packument for `{name}` describes `{found}`")]
    WrongName {
        /// The package asked for.
        name: String,
        /// The name in the document.
        found: String,
    },
}

/// One version as the gate sees it.
#[derive(Debug, Clone)]
pub(crate) struct VersionInfo {
    pub(crate) integrity: Option<Integrity>,
    pub(crate) upstream_tarball: Option<String>,
    pub(crate) decision: Decision,
}

/// A rendered packument.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) body: Bytes,
    pub(crate) gzip: Bytes,
    pub(crate) etag: String,
}

/// An upstream packument with the gate's decisions.
#[derive(Debug)]
pub(crate) struct Gated {
    pub(crate) name: String,
    raw: Bytes,
    pub(crate) versions: BTreeMap<String, VersionInfo>,
    /// Tarball file name to version.
    pub(crate) files: HashMap<String, String>,
    rendered: Mutex<HashMap<(String, bool), Arc<Rendered>>>,
}

impl Gated {
    /// Parses `raw` and decides every version with `decide(version, integrity, published)`.
    pub(crate) fn build(
        name: &str,
        raw: Bytes,
        mut decide: impl FnMut(&str, Option<&Integrity>, Option<SystemTime>) -> Decision,
    ) -> Result<Self, PackumentError> {
        let doc: Value = serde_json::from_slice(&raw).map_err(|_| PackumentError::NotAnObject {
            name: name.to_owned(),
        })?;
        let Value::Object(doc) = doc else {
            return Err(PackumentError::NotAnObject {
                name: name.to_owned(),
            });
        };
        if let Some(found) = doc.get("name").and_then(Value::as_str)
            && found != name
        {
            return Err(PackumentError::WrongName {
                name: name.to_owned(),
                found: found.to_owned(),
            });
        }
        let times = doc.get("time").and_then(Value::as_object);
        let bare = name.rsplit('/').next().unwrap_or(name);
        let mut versions = BTreeMap::new();
        let mut files = HashMap::new();
        if let Some(Value::Object(listed)) = doc.get("versions") {
            for (version, manifest) in listed {
                let dist = manifest.get("dist");
                let integrity = dist.and_then(crate::integrity::of_dist);
                let upstream_tarball = dist
                    .and_then(|d| d.get("tarball"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let published = times
                    .and_then(|t| t.get(version))
                    .and_then(Value::as_str)
                    .and_then(crate::clock::parse_rfc3339);
                let decision = decide(version, integrity.as_ref(), published);
                let file = upstream_tarball
                    .as_deref()
                    .and_then(protocol::tarball_file)
                    .map_or_else(|| format!("{bare}-{version}.tgz"), str::to_owned);
                files.insert(file, version.clone());
                versions.insert(
                    version.clone(),
                    VersionInfo {
                        integrity,
                        upstream_tarball,
                        decision,
                    },
                );
            }
        }
        Ok(Self {
            name: name.to_owned(),
            raw,
            versions,
            files,
            rendered: Mutex::new(HashMap::new()),
        })
    }

    /// The upstream bytes.
    pub(crate) fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The blocked versions with their reasons.
    pub(crate) fn blocked(&self) -> impl Iterator<Item = (&str, &crate::gate::BlockReason)> {
        self.versions
            .iter()
            .filter_map(|(v, info)| match &info.decision {
                Decision::Block(reason) => Some((v.as_str(), reason)),
                Decision::Allow => None,
            })
    }

    fn allowed(&self, version: &str) -> bool {
        self.versions
            .get(version)
            .is_some_and(|info| info.decision == Decision::Allow)
    }

    /// The packument already rendered for `origin` in this form, if any.
    pub(crate) fn memoised(&self, origin: &str, abbreviated: bool) -> Option<Arc<Rendered>> {
        self.lock()
            .iter()
            .find(|((o, a), _)| o == origin && *a == abbreviated)
            .map(|(_, rendered)| Arc::clone(rendered))
    }

    /// The packument a client sees, for tarball URLs under `origin`.
    pub(crate) fn render(&self, origin: &str, abbreviated: bool) -> Arc<Rendered> {
        let key = (origin.to_owned(), abbreviated);
        if let Some(hit) = self.lock().get(&key) {
            return Arc::clone(hit);
        }
        let rendered = Arc::new(self.render_uncached(origin, abbreviated));
        let mut memo = self.lock();
        // Bounded: a hostile client could send many Host headers.
        if memo.len() >= 8 {
            memo.clear();
        }
        memo.insert(key, Arc::clone(&rendered));
        rendered
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, bool), Arc<Rendered>>> {
        self.rendered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn render_uncached(&self, origin: &str, abbreviated: bool) -> Rendered {
        let mut doc: Map<String, Value> = match serde_json::from_slice(&self.raw) {
            Ok(Value::Object(doc)) => doc,
            _ => Map::new(),
        };
        let mut versions = match doc.remove("versions") {
            Some(Value::Object(versions)) => versions,
            _ => Map::new(),
        };
        versions.retain(|version, _| self.allowed(version));
        for (version, manifest) in &mut versions {
            let file = self
                .versions
                .get(version)
                .and_then(|info| info.upstream_tarball.as_deref())
                .and_then(protocol::tarball_file)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    format!(
                        "{}-{version}.tgz",
                        self.name.rsplit('/').next().unwrap_or(&self.name)
                    )
                });
            if let Some(Value::Object(dist)) = manifest.get_mut("dist") {
                dist.insert(
                    "tarball".into(),
                    Value::String(protocol::gate_tarball_url(origin, &self.name, &file)),
                );
            }
        }
        if let Some(Value::Object(times)) = doc.get_mut("time") {
            times.retain(|key, _| key == "created" || key == "modified" || self.allowed(key));
        }
        let tags = match doc.remove("dist-tags") {
            Some(Value::Object(tags)) => tags,
            _ => Map::new(),
        };
        let tags = self.rewrite_dist_tags(tags, &versions);
        let out = if abbreviated {
            let mut out = Map::new();
            out.insert("name".into(), Value::String(self.name.clone()));
            if let Some(modified) = doc.get("time").and_then(|t| t.get("modified")).cloned() {
                out.insert("modified".into(), modified);
            }
            out.insert("dist-tags".into(), Value::Object(tags));
            let slim: Map<String, Value> = versions
                .into_iter()
                .map(|(version, manifest)| {
                    let manifest = match manifest {
                        Value::Object(mut fields) => {
                            fields.retain(|key, _| ABBREVIATED_FIELDS.contains(&key.as_str()));
                            Value::Object(fields)
                        }
                        other => other,
                    };
                    (version, manifest)
                })
                .collect();
            out.insert("versions".into(), Value::Object(slim));
            out
        } else {
            doc.insert("dist-tags".into(), Value::Object(tags));
            doc.insert("versions".into(), Value::Object(versions));
            doc
        };
        let body = serde_json::to_vec(&Value::Object(out)).unwrap_or_default();
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::fast(),
        );
        let gzip = encoder
            .write_all(&body)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        let etag = crate::integrity::etag_of(&body);
        Rendered {
            body: body.into(),
            gzip: gzip.into(),
            etag,
        }
    }

    /// Each tag keeps its version when allowed, else moves to the newest allowed version not
    /// above it (releases only, unless the tag pointed at a pre-release); a tag with no such
    /// version is dropped.
    fn rewrite_dist_tags(
        &self,
        tags: Map<String, Value>,
        allowed: &Map<String, Value>,
    ) -> Map<String, Value> {
        let candidates: Vec<(Version, &String)> = allowed
            .keys()
            .filter_map(|v| Version::parse(v).ok().map(|parsed| (parsed, v)))
            .collect();
        let mut out = Map::new();
        for (tag, target) in tags {
            let Some(target_text) = target.as_str() else {
                continue;
            };
            if allowed.contains_key(target_text) {
                out.insert(tag, target);
                continue;
            }
            let Ok(target_version) = Version::parse(target_text) else {
                continue;
            };
            let best = candidates
                .iter()
                .filter(|(v, _)| *v <= target_version)
                .filter(|(v, _)| target_version.is_prerelease() || !v.is_prerelease())
                .max_by(|a, b| a.0.cmp(&b.0));
            if let Some((_, version)) = best {
                out.insert(tag, Value::String((*version).clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::BlockReason;

    fn packument() -> Bytes {
        let doc = serde_json::json!({
            "name": "@s/p",
            "dist-tags": {"latest": "1.2.0", "next": "2.0.0-rc.1", "old": "1.0.0"},
            "time": {"created": "2020-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                     "1.0.0": "2020-01-01T00:00:00.000Z", "1.1.0": "2021-01-01T00:00:00.000Z",
                     "1.2.0": "2024-01-01T00:00:00.000Z", "2.0.0-rc.1": "2024-01-01T00:00:00.000Z"},
            "readme": "long text",
            "versions": {
                "1.0.0": {"name": "@s/p", "version": "1.0.0", "readme": "x", "scripts": {"test": "t"},
                          "dist": {"tarball": "https://up.example/@s/p/-/p-1.0.0.tgz", "shasum": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"}},
                "1.1.0": {"name": "@s/p", "version": "1.1.0", "dependencies": {"ms": "^2"},
                          "dist": {"tarball": "https://up.example/@s/p/-/p-1.1.0.tgz"}},
                "1.2.0": {"name": "@s/p", "version": "1.2.0", "dist": {"tarball": "https://up.example/@s/p/-/p-1.2.0.tgz"}},
                "2.0.0-rc.1": {"name": "@s/p", "version": "2.0.0-rc.1", "dist": {"tarball": "https://up.example/@s/p/-/p-2.0.0-rc.1.tgz"}}
            }
        });
        Bytes::from(serde_json::to_vec(&doc).unwrap())
    }

    fn gated() -> Gated {
        Gated::build("@s/p", packument(), |version, _, published| {
            if version == "1.2.0" || version == "2.0.0-rc.1" {
                assert!(published.is_some());
                Decision::Block(BlockReason::TooNew {
                    age_hours: 1,
                    min_age_hours: 72,
                })
            } else {
                Decision::Allow
            }
        })
        .unwrap()
    }

    fn parse(rendered: &Rendered) -> Value {
        serde_json::from_slice(&rendered.body).unwrap()
    }

    #[test]
    fn removes_blocked_versions_and_moves_tags() {
        let gated = gated();
        assert_eq!(
            gated.files.get("p-1.1.0.tgz").map(String::as_str),
            Some("1.1.0")
        );
        assert!(gated.versions["1.0.0"].integrity.is_some());
        let full = parse(&gated.render("http://127.0.0.1:9", false));
        let versions = full["versions"].as_object().unwrap();
        assert_eq!(versions.keys().collect::<Vec<_>>(), ["1.0.0", "1.1.0"]);
        assert_eq!(
            full["dist-tags"],
            serde_json::json!({"latest": "1.1.0", "next": "1.1.0", "old": "1.0.0"})
        );
        assert_eq!(
            full["versions"]["1.1.0"]["dist"]["tarball"],
            "http://127.0.0.1:9/@s/p/-/p-1.1.0.tgz"
        );
        assert!(full["time"].get("1.2.0").is_none());
        assert!(full["time"].get("modified").is_some());
        assert_eq!(full["readme"], "long text");
        assert_eq!(gated.blocked().count(), 2);
    }

    #[test]
    fn abbreviated_form_keeps_install_fields_only() {
        let gated = gated();
        let rendered = gated.render("http://h", true);
        let corgi = parse(&rendered);
        assert_eq!(corgi["name"], "@s/p");
        assert_eq!(corgi["modified"], "2024-01-01T00:00:00.000Z");
        assert!(corgi.get("readme").is_none() && corgi.get("time").is_none());
        let v = &corgi["versions"]["1.0.0"];
        assert!(v.get("readme").is_none() && v.get("scripts").is_none());
        assert_eq!(corgi["versions"]["1.1.0"]["dependencies"]["ms"], "^2");
        // Memoised, and the gzip form inflates to the same bytes.
        assert!(Arc::ptr_eq(&rendered, &gated.render("http://h", true)));
        let mut inflated = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&rendered.gzip[..]),
            &mut inflated,
        )
        .unwrap();
        assert_eq!(inflated, rendered.body);
    }

    #[test]
    fn refuses_non_objects_and_other_names() {
        assert!(Gated::build("x", Bytes::from_static(b"[1]"), |_, _, _| Decision::Allow).is_err());
        assert!(
            Gated::build("x", Bytes::from_static(b"{\"name\":\"y\"}"), |_, _, _| {
                Decision::Allow
            })
            .is_err()
        );
        let empty =
            Gated::build("x", Bytes::from_static(b"{}"), |_, _, _| Decision::Allow).unwrap();
        assert_eq!(
            parse(&empty.render("http://h", true))["versions"],
            serde_json::json!({})
        );
    }
}
