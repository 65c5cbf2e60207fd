//! Serde wire structs of npm lockfiles, exactly as npm writes them.
//!
//! One top-level shape covers every version: lockfileVersion 2 and 3 (and the hidden lockfile)
//! describe the tree in the flat `packages` map keyed by install path; lockfileVersion 1 (and
//! the legacy copy that version 2 keeps for npm 6) nests it in `dependencies`. Strings borrow
//! from the input wherever they have no escapes, and objects keep their entries in file order
//! so that the line scanner in `lines.rs` can pair each entry with its line by position.
//! Nothing here interprets the data: `mod.rs` turns it into the shared model.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string, borrowed from the input unless it had to be unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A JSON object kept as its entries in file order. Duplicate keys are all kept (in order):
/// `JSON.parse`, and so npm, uses the last one, which the converter mirrors and warns about.
#[derive(Debug)]
pub(super) struct Entries<'a, V>(pub(super) Vec<(Text<'a>, V)>);

impl<V> Default for Entries<'_, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Entries<'a, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a, V>(PhantomData<(&'a (), V)>);
        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<'a, V> {
            type Value = Entries<'a, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    let value = map.next_value::<V>()?;
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// `lockfileVersion`, kept as text: npm writes a number, hostile or hand-made files may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FormatVersion(pub(super) String);

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VersionVisitor;
        impl Visitor<'_> for VersionVisitor {
            type Value = FormatVersion;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a lockfile version number")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(FormatVersion(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                Ok(FormatVersion(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
                Ok(FormatVersion(value.to_string()))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(FormatVersion(value.chars().take(32).collect()))
            }
        }
        deserializer.deserialize_any(VersionVisitor)
    }
}

/// The whole file, whatever its version.
#[derive(Debug, Default)]
pub(super) struct PackageLock<'a> {
    /// The root package's name.
    pub(super) name: Option<Text<'a>>,
    /// The root package's version.
    pub(super) version: Option<Text<'a>>,
    /// `lockfileVersion`.
    pub(super) lockfile_version: Option<FormatVersion>,
    /// The flat tree of lockfileVersion 2 and 3, keyed by install path.
    pub(super) packages: Option<Entries<'a, PackageEntry<'a>>>,
    /// The nested tree of lockfileVersion 1. Not read when `packages` came first: version 2
    /// repeats the tree here only for npm 6, and reading it twice would double the work.
    pub(super) dependencies: Option<Entries<'a, V1Entry<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for PackageLock<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LockVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for LockVisitor<'a> {
            type Value = PackageLock<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an npm lockfile object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut lock = PackageLock::default();
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    match key.as_str() {
                        "name" => set_once(&mut lock.name, "name", map.next_value()?)?,
                        "version" => set_once(&mut lock.version, "version", map.next_value()?)?,
                        "lockfileVersion" => set_once(
                            &mut lock.lockfile_version,
                            "lockfileVersion",
                            map.next_value()?,
                        )?,
                        "packages" => set_once(&mut lock.packages, "packages", map.next_value()?)?,
                        "dependencies" if lock.packages.is_some() => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        "dependencies" => {
                            set_once(&mut lock.dependencies, "dependencies", map.next_value()?)?
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(lock)
            }
        }
        deserializer.deserialize_map(LockVisitor(PhantomData))
    }
}

/// Stores a top-level field, refusing a second occurrence (npm would silently take the last
/// one, which a tampered file could use to hide a tree from a reviewer).
fn set_once<T, E: de::Error>(
    slot: &mut Option<T>,
    field: &'static str,
    value: Option<T>,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = value;
    Ok(())
}

/// One entry of the `packages` map (lockfileVersion 2 and 3, the hidden lockfile).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PackageEntry<'a> {
    /// The real name, written when it differs from the install path (aliases, workspaces).
    #[serde(borrow, default)]
    pub(super) name: Option<Text<'a>>,
    /// The version.
    #[serde(borrow, default)]
    pub(super) version: Option<Text<'a>>,
    /// Where it came from; for links, the target's key.
    #[serde(borrow, default)]
    pub(super) resolved: Option<Text<'a>>,
    /// The SRI integrity.
    #[serde(borrow, default)]
    pub(super) integrity: Option<Text<'a>>,
    /// A symlink to the entry at `resolved`.
    #[serde(default)]
    pub(super) link: bool,
    /// Only in the dev tree.
    #[serde(default)]
    pub(super) dev: bool,
    /// Only in the optional tree.
    #[serde(default)]
    pub(super) optional: bool,
    /// In both the dev and the optional tree, in neither only.
    #[serde(default)]
    pub(super) dev_optional: bool,
    /// Only pulled in as a peer.
    #[serde(default)]
    pub(super) peer: bool,
    /// Shipped inside its parent's tarball.
    #[serde(default)]
    pub(super) in_bundle: bool,
    /// `dependencies` of its `package.json`.
    #[serde(borrow, default)]
    pub(super) dependencies: Option<Entries<'a, Text<'a>>>,
    /// `optionalDependencies`.
    #[serde(borrow, default)]
    pub(super) optional_dependencies: Option<Entries<'a, Text<'a>>>,
    /// `peerDependencies`.
    #[serde(borrow, default)]
    pub(super) peer_dependencies: Option<Entries<'a, Text<'a>>>,
    /// `devDependencies` (installed only for the root and workspace members).
    #[serde(borrow, default)]
    pub(super) dev_dependencies: Option<Entries<'a, Text<'a>>>,
    /// The root's `workspaces` globs.
    #[serde(borrow, default)]
    pub(super) workspaces: Option<Workspaces<'a>>,
}

/// The `workspaces` field: a list of globs, or the older `{ "packages": [...] }` object.
#[derive(Debug, Default)]
pub(super) struct Workspaces<'a>(pub(super) Vec<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Workspaces<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WorkspacesVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for WorkspacesVisitor<'a> {
            type Value = Workspaces<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of workspace globs")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut globs = Vec::new();
                while let Some(glob) = seq.next_element::<Text<'a>>()? {
                    globs.push(glob);
                }
                Ok(Workspaces(globs))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut globs = Workspaces::default();
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    if key.as_str() == "packages" {
                        globs = map.next_value()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(globs)
            }
        }
        deserializer.deserialize_any(WorkspacesVisitor(PhantomData))
    }
}

/// One entry of the nested `dependencies` tree of lockfileVersion 1.
#[derive(Debug, Default, Deserialize)]
pub(super) struct V1Entry<'a> {
    /// A version, or for aliases, git and URL dependencies the specifier
    /// (`npm:strip-ansi@6.0.1`, `github:user/repo#sha`).
    #[serde(borrow, default)]
    pub(super) version: Option<Text<'a>>,
    /// Where it came from.
    #[serde(borrow, default)]
    pub(super) resolved: Option<Text<'a>>,
    /// The SRI integrity.
    #[serde(borrow, default)]
    pub(super) integrity: Option<Text<'a>>,
    /// Only in the dev tree.
    #[serde(default)]
    pub(super) dev: bool,
    /// Only in the optional tree.
    #[serde(default)]
    pub(super) optional: bool,
    /// Shipped inside its parent's tarball.
    #[serde(default)]
    pub(super) bundled: bool,
    /// Its dependencies, name to range, resolved by walking up the nesting.
    #[serde(borrow, default)]
    pub(super) requires: Option<Entries<'a, Text<'a>>>,
    /// Packages installed in its own `node_modules`.
    #[serde(borrow, default)]
    pub(super) dependencies: Option<Entries<'a, V1Entry<'a>>>,
}
