//! Serde wire structs of `pnpm-lock.yaml`, one set for every lockfile version.
//!
//! The versions differ mostly in how keys are spelled (see [`super::keys`]), so one set of
//! structs with optional fields covers them all: v5/v6 describe each package instance in
//! `packages:`; v7/v9 split that into `packages:` (metadata, keyed `name@version`) and
//! `snapshots:` (the dependency edges of each peer-suffixed instance). Importer dependencies
//! are bare references in v5 and `{specifier, version}` maps from v6 on.
//!
//! Maps are read into [`Entries`], which keeps file order and borrows from the input where
//! YAML allows it, so a large lockfile is parsed once without hashing or copying every key.
//! Fields bulwark does not use are still typed where pnpm documents them, so a lockfile with
//! the wrong shape is reported rather than half-read.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// One YAML document of a `pnpm-lock.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireLockfile<'a> {
    /// `5.4` (a YAML number) in v5, `'6.0'`/`'9.0'` (strings) later.
    pub(super) lockfile_version: Option<Text<'a>>,
    /// The root and workspace members, keyed by directory (`.` is the root).
    #[serde(borrow)]
    pub(super) importers: Option<Entries<Text<'a>, WireImporter<'a>>>,
    /// v5/v6: every package instance; v7/v9: metadata per `name@version`.
    #[serde(borrow)]
    pub(super) packages: Option<Entries<Text<'a>, WirePackage<'a>>>,
    /// v7/v9: every package instance (peer-suffixed) with its dependency edges.
    #[serde(borrow)]
    pub(super) snapshots: Option<Entries<Text<'a>, WireSnapshot<'a>>>,
    /// Single-project v5/v6 lockfiles keep the root importer's fields at the top level.
    #[serde(borrow)]
    pub(super) dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
    /// See [`WireLockfile::dependencies`].
    #[serde(borrow)]
    pub(super) dev_dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
    /// See [`WireLockfile::dependencies`].
    #[serde(borrow)]
    pub(super) optional_dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
}

/// The root project or one workspace member.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireImporter<'a> {
    /// `dependencies` of the member's `package.json`.
    #[serde(borrow)]
    pub(super) dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
    /// `devDependencies`.
    #[serde(borrow)]
    pub(super) dev_dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
    /// `optionalDependencies`.
    #[serde(borrow)]
    pub(super) optional_dependencies: Option<Entries<Text<'a>, DependencyRef<'a>>>,
    /// Config dependencies; only the env document of a two-document lockfile has them.
    pub(super) config_dependencies: Option<IgnoredAny>,
    /// The package manager itself; only the env document of a two-document lockfile has it.
    pub(super) package_manager_dependencies: Option<IgnoredAny>,
}

/// An importer's dependency: a bare reference (v5) or `{specifier, version}` (v6+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DependencyRef<'a> {
    /// What it resolved to: a version with peer suffix, an alias's key, `link:…`, `file:…`.
    pub(super) version: Text<'a>,
}

/// The `packages:` entry of one package.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WirePackage<'a> {
    /// Where it comes from and its integrity.
    #[serde(borrow)]
    pub(super) resolution: Option<WireResolution<'a>>,
    /// Recorded for packages whose key does not tell the name (git, tarballs, directories).
    #[serde(borrow)]
    pub(super) name: Option<Text<'a>>,
    /// See [`WirePackage::name`].
    #[serde(borrow)]
    pub(super) version: Option<Text<'a>>,
    /// v5/v6: the edges to other packages.
    #[serde(borrow)]
    pub(super) dependencies: Option<Entries<Text<'a>, Text<'a>>>,
    /// v5/v6: the optional edges.
    #[serde(borrow)]
    pub(super) optional_dependencies: Option<Entries<Text<'a>, Text<'a>>>,
    /// The ranges of its peers; the resolved peers appear among its dependencies.
    #[serde(borrow)]
    pub(super) peer_dependencies: Option<Entries<Text<'a>, Text<'a>>>,
    /// v5/v6: `true` if only development needs it, `false` if only production does.
    pub(super) dev: Option<bool>,
    /// v5/v6: `true` if only optional dependencies pull it in.
    pub(super) optional: Option<bool>,
    // The fields below are not part of the inventory model yet; they are read so that a
    // lockfile that spells them with the wrong type is reported as malformed.
    /// It installs executables.
    #[serde(rename = "hasBin")]
    pub(super) _has_bin: Option<bool>,
    /// v5/v6: it has install scripts (or native code) to run.
    #[serde(rename = "requiresBuild")]
    pub(super) _requires_build: Option<bool>,
    /// v5: its files are patched (the key carries the patch hash).
    #[serde(rename = "patched")]
    pub(super) _patched: Option<bool>,
    /// The operating systems it installs on.
    #[serde(rename = "os")]
    pub(super) _os: Option<Strings>,
    /// The CPUs it installs on.
    #[serde(rename = "cpu")]
    pub(super) _cpu: Option<Strings>,
    /// The C libraries it installs with.
    #[serde(rename = "libc")]
    pub(super) _libc: Option<Strings>,
    /// The deprecation message of this version.
    #[serde(rename = "deprecated")]
    pub(super) _deprecated: Option<AnyText>,
}

/// The `snapshots:` entry (v7/v9) of one package instance.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireSnapshot<'a> {
    /// The edges to other instances.
    #[serde(borrow)]
    pub(super) dependencies: Option<Entries<Text<'a>, Text<'a>>>,
    /// The optional edges.
    #[serde(borrow)]
    pub(super) optional_dependencies: Option<Entries<Text<'a>, Text<'a>>>,
    /// `true` if only optional dependencies pull it in.
    pub(super) optional: Option<bool>,
    /// Peers its dependencies need that it passes on (read to check its shape only).
    #[serde(rename = "transitivePeerDependencies")]
    pub(super) _transitive_peer_dependencies: Option<Strings>,
}

/// `resolution:` of a package: registry integrity, a tarball URL, a directory or a git commit.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireResolution<'a> {
    /// SRI of the tarball.
    #[serde(borrow)]
    pub(super) integrity: Option<Text<'a>>,
    /// A tarball URL (remote, `file:`, or a non-default registry's).
    #[serde(borrow)]
    pub(super) tarball: Option<Text<'a>>,
    /// `directory`, `git`, or absent for tarballs.
    #[serde(borrow, rename = "type")]
    pub(super) kind: Option<Text<'a>>,
    /// The directory of a `type: directory` resolution.
    #[serde(borrow)]
    pub(super) directory: Option<Text<'a>>,
    /// The repository of a `type: git` resolution.
    #[serde(borrow)]
    pub(super) repo: Option<Text<'a>>,
    /// The commit of a `type: git` resolution.
    #[serde(borrow)]
    pub(super) commit: Option<Text<'a>>,
    /// The sub-directory of a git or tarball resolution that holds the package.
    #[serde(borrow)]
    pub(super) path: Option<Text<'a>>,
}

/// A YAML scalar read as text whatever its type (`lockfileVersion: 5.4` is a number to YAML,
/// and a version such as `1.0` could be too), exactly as written, borrowed from the lockfile
/// when YAML allows it (no escapes or folding).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(value))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value.to_owned()))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value))
    }
}

/// A list of strings (`os: [darwin]`) that is checked but not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Strings;

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(StringsVisitor)
    }
}

struct StringsVisitor;

impl<'de> Visitor<'de> for StringsVisitor {
    type Value = Strings;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<AnyText>()?.is_some() {}
        Ok(Strings)
    }
}

/// A scalar that is checked but not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AnyText;

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(AnyTextVisitor)
    }
}

struct AnyTextVisitor;

impl Visitor<'_> for AnyTextVisitor {
    type Value = AnyText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, _value: &str) -> Result<Self::Value, E> {
        Ok(AnyText)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for DependencyRef<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DependencyRefVisitor)
    }
}

struct DependencyRefVisitor;

impl<'de> Visitor<'de> for DependencyRefVisitor {
    type Value = DependencyRef<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resolved version or a map with `specifier` and `version`")
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(DependencyRef {
            version: Text(Cow::Borrowed(value)),
        })
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(DependencyRef {
            version: Text(Cow::Owned(value.to_owned())),
        })
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(DependencyRef {
            version: Text(Cow::Owned(value)),
        })
    }
    // A bare number is not something pnpm writes, but JavaScript would read it as text too.
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        self.visit_string(value.to_string())
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        self.visit_string(value.to_string())
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        self.visit_string(value.to_string())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut version = None;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_ref() {
                "version" => {
                    if version.is_some() {
                        return Err(de::Error::duplicate_field("version"));
                    }
                    version = Some(map.next_value::<Text<'de>>()?);
                }
                "specifier" => {
                    map.next_value::<Text<'de>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let version = version.ok_or_else(|| de::Error::missing_field("version"))?;
        Ok(DependencyRef { version })
    }
}

/// A YAML mapping read as its entries in file order (duplicates kept, so they can be
/// reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entries<K, V>(pub(super) Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

struct EntriesVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
    type Value = Entries<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        // `dependencies:` with nothing after it is an empty map to pnpm.
        Ok(Entries(Vec::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Entries(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_and_values_are_borrowed() {
        let text =
            "lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: 2.0.0\n";
        let wire: WireLockfile<'_> = serde_norway::from_str(text).unwrap();
        let snapshots = wire.snapshots.unwrap();
        let (key, snapshot) = &snapshots.0[0];
        assert!(matches!(key.0, Cow::Borrowed("a@1.0.0")));
        let deps = snapshot.dependencies.as_ref().unwrap();
        assert!(matches!(deps.0[0].1.0, Cow::Borrowed("2.0.0")));
        assert_eq!(&*wire.lockfile_version.unwrap(), "9.0");
    }

    #[test]
    fn numeric_versions_and_both_importer_shapes() {
        let text = "lockfileVersion: 5.4\ndependencies:\n  a: 1.0.0\nimporters:\n  .:\n    dependencies:\n      b: {specifier: ^2, version: 2.0.0}\n";
        let wire: WireLockfile<'_> = serde_norway::from_str(text).unwrap();
        assert_eq!(&*wire.lockfile_version.unwrap(), "5.4");
        assert_eq!(&*wire.dependencies.unwrap().0[0].1.version, "1.0.0");
        let importers = wire.importers.unwrap();
        let deps = importers.0[0].1.dependencies.as_ref().unwrap();
        assert_eq!(&*deps.0[0].1.version, "2.0.0");
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for text in [
            "importers:\n  .:\n    dependencies:\n      b: {specifier: ^2}\n",
            "importers:\n  .:\n    dependencies:\n      b: [1]\n",
            "packages:\n  /a/1.0.0:\n    dev: maybe\n",
            "packages:\n  /a/1.0.0:\n    dependencies: [b]\n",
            "packages: 3\n",
        ] {
            assert!(
                serde_norway::from_str::<WireLockfile<'_>>(text).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn empty_maps_are_accepted() {
        let text = "importers:\n  .:\n    dependencies:\n    devDependencies: {}\n";
        let wire: WireLockfile<'_> = serde_norway::from_str(text).unwrap();
        let importers = wire.importers.unwrap();
        let importer = &importers.0[0].1;
        assert!(
            importer
                .dependencies
                .as_ref()
                .is_none_or(|d| d.0.is_empty())
        );
        assert!(importer.dev_dependencies.as_ref().unwrap().0.is_empty());
    }
}
