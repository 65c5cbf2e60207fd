//! How each pnpm lockfile version spells package keys and the references that point at them.
//!
//! A package instance is keyed by its name, version and a suffix that tells instances of the
//! same version apart (resolved peers, a patch hash):
//!
//! | version | key | reference from a dependent |
//! |---|---|---|
//! | 5.x | `/name/1.0.0_peer@2.0.0` (or `_<hash>` when long) | `1.0.0_peer@2.0.0`, alias `/real/1.0.0` |
//! | 6.0 | `/name@1.0.0(peer@2.0.0)(patch_hash=…)` | `1.0.0(peer@2.0.0)`, alias `/real@1.0.0` |
//! | 7.0, 9.0 | `name@1.0.0(peer@2.0.0)` | `1.0.0(peer@2.0.0)`, alias `real@1.0.0` |
//!
//! Keys from a registry other than the default one start with its host instead of `/` in v5
//! and v6 (`registry.example.com/name/1.0.0`). Non-registry packages have keys such as
//! `file:dir`, `github.com/user/repo/<sha>` (v5/v6) or `name@file:dir`, `name@https://…`
//! (v7/v9), and record their name and version in fields instead.

use std::borrow::Cow;

/// The key spelling of a lockfile version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyStyle {
    /// v5.x: `/name/1.0.0_suffix`.
    Slash,
    /// v6.x: `/name@1.0.0(suffix)`.
    SlashAt,
    /// v7 and v9: `name@1.0.0(suffix)`, with edges in `snapshots:`.
    At,
}

/// The parts of a package key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct KeyParts<'a> {
    /// The package name (scoped names keep their scope).
    pub(super) name: &'a str,
    /// The version without any suffix.
    pub(super) version: &'a str,
    /// The peer/patch suffix, with its leading `_` or `(`; empty if none.
    pub(super) suffix: &'a str,
}

/// Where a dependency reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reference<'a> {
    /// `link:…`: a workspace member or linked directory, not a package.
    Link,
    /// The key of the package instance it resolves to.
    Key(Cow<'a, str>),
}

/// Splits a package key into name, version and suffix, or `None` if it is not a registry-style
/// key of `style` (non-registry packages record their name and version in fields instead).
pub(super) fn parse_key(key: &str, style: KeyStyle) -> Option<KeyParts<'_>> {
    match style {
        KeyStyle::Slash => parse_slash(strip_registry(key)?),
        KeyStyle::SlashAt => parse_at(strip_registry(key)?),
        KeyStyle::At => parse_at(key),
    }
}

/// The key a dependency named `name` with resolved `reference` points at (owned; the
/// extractor uses [`reference_key_in`]).
#[cfg(test)]
pub(super) fn reference_key<'a>(name: &str, reference: &'a str, style: KeyStyle) -> Reference<'a> {
    let mut buffer = String::new();
    match reference_key_in(name, reference, style, &mut buffer) {
        Reference::Link => Reference::Link,
        Reference::Key(key) => Reference::Key(Cow::Owned(key.into_owned())),
    }
}

/// The key a dependency named `name` with resolved `reference` points at, the way pnpm's own
/// `refToRelative` does it for `style`; a composed key is built in `buffer` (reused across
/// calls, so resolving the edges of a large lockfile allocates nothing).
pub(super) fn reference_key_in<'b>(
    name: &str,
    reference: &'b str,
    style: KeyStyle,
    buffer: &'b mut String,
) -> Reference<'b> {
    if reference.starts_with("link:") {
        return Reference::Link;
    }
    let is_key = match style {
        KeyStyle::Slash => reference.starts_with("file:") || reference.contains('/'),
        KeyStyle::SlashAt => {
            let head = reference.split('(').next().unwrap_or(reference);
            reference.starts_with("file:") || head.contains('/')
        }
        KeyStyle::At => {
            reference.starts_with('@')
                || reference.find('@').is_some_and(|at| {
                    reference.find(':').is_none_or(|colon| at < colon)
                        && reference.find('(').is_none_or(|paren| at < paren)
                })
        }
    };
    if is_key {
        return Reference::Key(Cow::Borrowed(reference));
    }
    buffer.clear();
    match style {
        KeyStyle::Slash => {
            buffer.push('/');
            buffer.push_str(name);
            buffer.push('/');
        }
        KeyStyle::SlashAt => {
            buffer.push('/');
            buffer.push_str(name);
            buffer.push('@');
        }
        KeyStyle::At => {
            buffer.push_str(name);
            buffer.push('@');
        }
    }
    buffer.push_str(reference);
    Reference::Key(Cow::Borrowed(buffer.as_str()))
}

/// The `packages:` key of a v7/v9 snapshot key: the snapshot key without its suffixes.
pub(super) fn metadata_key(snapshot_key: &str) -> &str {
    snapshot_key
        .find('(')
        .map_or(snapshot_key, |paren| &snapshot_key[..paren])
}

/// Drops the leading `/` of a default-registry key or the host of another registry's key.
fn strip_registry(key: &str) -> Option<&str> {
    match key.strip_prefix('/') {
        Some(rest) => Some(rest),
        None => key.split_once('/').map(|(_host, rest)| rest),
    }
}

/// `name/1.0.0_suffix` or `@scope/name/1.0.0_suffix`.
fn parse_slash(rest: &str) -> Option<KeyParts<'_>> {
    let name_end = if rest.starts_with('@') {
        let scope_end = rest.find('/')?;
        scope_end + 1 + rest[scope_end + 1..].find('/')?
    } else {
        rest.find('/')?
    };
    let name = &rest[..name_end];
    let tail = &rest[name_end + 1..];
    if tail.contains('/') {
        return None;
    }
    let (version, suffix) = tail.split_at(tail.find('_').unwrap_or(tail.len()));
    valid(name, version).then_some(KeyParts {
        name,
        version,
        suffix,
    })
}

/// `name@1.0.0(suffix)` or `@scope/name@1.0.0(suffix)`.
fn parse_at(rest: &str) -> Option<KeyParts<'_>> {
    let at = 1 + rest.get(1..)?.find('@')?;
    let name = &rest[..at];
    let tail = &rest[at + 1..];
    let (version, suffix) = tail.split_at(tail.find('(').unwrap_or(tail.len()));
    valid(name, version).then_some(KeyParts {
        name,
        version,
        suffix,
    })
}

/// A plausible package name (`name` or `@scope/name`) and a non-empty version.
fn valid(name: &str, version: &str) -> bool {
    let name_ok = match name.strip_prefix('@') {
        Some(scoped) => scoped.split_once('/').is_some_and(|(scope, base)| {
            !scope.is_empty() && !base.is_empty() && !base.contains('/')
        }),
        None => !name.is_empty() && !name.contains('/'),
    };
    name_ok && !version.is_empty() && !name.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(name: &'a str, version: &'a str, suffix: &'a str) -> Option<KeyParts<'a>> {
        Some(KeyParts {
            name,
            version,
            suffix,
        })
    }

    #[test]
    fn parses_keys_of_every_style() {
        use KeyStyle::{At, Slash, SlashAt};
        let cases = [
            ("/ms/2.1.3", Slash, parts("ms", "2.1.3", "")),
            (
                "/@algolia/autocomplete-preset-algolia/1.7.4_algoliasearch@4.13.1",
                Slash,
                parts(
                    "@algolia/autocomplete-preset-algolia",
                    "1.7.4",
                    "_algoliasearch@4.13.1",
                ),
            ),
            (
                "/@microsoft/api-extractor/7.34.4_@types+node@18.15.5",
                Slash,
                parts("@microsoft/api-extractor", "7.34.4", "_@types+node@18.15.5"),
            ),
            (
                "/sirv/2.0.2_hmoqtj4vy3i7wnpchga2a2mu3y",
                Slash,
                parts("sirv", "2.0.2", "_hmoqtj4vy3i7wnpchga2a2mu3y"),
            ),
            (
                "registry.example.com/left-pad/1.3.0",
                Slash,
                parts("left-pad", "1.3.0", ""),
            ),
            ("file:playground/alias/dir/module", Slash, None),
            ("github.com/user/repo/0123abc", Slash, None),
            ("/ms", Slash, None),
            ("/@scope/1.0.0", Slash, None),
            ("/ms/", Slash, None),
            ("", Slash, None),
            (
                "/@vitejs/plugin-vue@5.0.4(vite@5.2.7)(vue@packages+vue)",
                SlashAt,
                parts(
                    "@vitejs/plugin-vue",
                    "5.0.4",
                    "(vite@5.2.7)(vue@packages+vue)",
                ),
            ),
            (
                "/sirv@2.0.2(patch_hash=abc)",
                SlashAt,
                parts("sirv", "2.0.2", "(patch_hash=abc)"),
            ),
            (
                "/string-width@4.2.3",
                SlashAt,
                parts("string-width", "4.2.3", ""),
            ),
            ("/@scope@1.0.0", SlashAt, None),
            ("/ms@", SlashAt, None),
            ("@babel/core@7.24.0", At, parts("@babel/core", "7.24.0", "")),
            (
                "use-sync-external-store@1.2.0(react@18.3.1)",
                At,
                parts("use-sync-external-store", "1.2.0", "(react@18.3.1)"),
            ),
            (
                "local-dir@file:packages/local-dir",
                At,
                parts("local-dir", "file:packages/local-dir", ""),
            ),
            (
                "pkg@https://codeload.github.com/u/pkg/tar.gz/abc",
                At,
                parts("pkg", "https://codeload.github.com/u/pkg/tar.gz/abc", ""),
            ),
            ("@scope/name", At, None),
            ("ms", At, None),
            ("@", At, None),
            ("my pkg@1.0.0", At, None),
        ];
        for (key, style, expected) in cases {
            assert_eq!(parse_key(key, style), expected, "{key} {style:?}");
        }
    }

    #[test]
    fn resolves_references_like_pnpm() {
        use KeyStyle::{At, Slash, SlashAt};
        let key = |s: &str| Reference::Key(Cow::Owned(s.to_owned()));
        let cases = [
            ("ms", "2.1.3", Slash, key("/ms/2.1.3")),
            ("@types/node", "18.15.5", Slash, key("/@types/node/18.15.5")),
            (
                "plugin",
                "1.0.0_@types+node@18",
                Slash,
                key("/plugin/1.0.0_@types+node@18"),
            ),
            ("slash3", "/slash/3.0.0", Slash, key("/slash/3.0.0")),
            (
                "dep",
                "file:playground/dep",
                Slash,
                key("file:playground/dep"),
            ),
            ("vite", "link:../../packages/vite", Slash, Reference::Link),
            ("ms", "2.1.3", SlashAt, key("/ms@2.1.3")),
            (
                "vite",
                "5.2.7(@types/node@20.12.5)(terser@5.30.1)",
                SlashAt,
                key("/vite@5.2.7(@types/node@20.12.5)(terser@5.30.1)"),
            ),
            (
                "strip-ansi-cjs",
                "/strip-ansi@6.0.1",
                SlashAt,
                key("/strip-ansi@6.0.1"),
            ),
            (
                "repo",
                "github.com/user/repo/abc",
                SlashAt,
                key("github.com/user/repo/abc"),
            ),
            ("vue", "link:packages/vue", SlashAt, Reference::Link),
            ("ms", "2.1.3", At, key("ms@2.1.3")),
            (
                "use-sync-external-store",
                "1.2.0(react@18.3.1)",
                At,
                key("use-sync-external-store@1.2.0(react@18.3.1)"),
            ),
            ("strip", "strip-ansi@6.0.1", At, key("strip-ansi@6.0.1")),
            ("types", "@types/node@20.0.0", At, key("@types/node@20.0.0")),
            (
                "local-dir",
                "file:packages/local-dir",
                At,
                key("local-dir@file:packages/local-dir"),
            ),
            (
                "pkg",
                "git+ssh://git@github.com/u/pkg.git#abc",
                At,
                key("pkg@git+ssh://git@github.com/u/pkg.git#abc"),
            ),
            ("@fixture/b", "link:../b", At, Reference::Link),
        ];
        for (name, reference, style, expected) in cases {
            assert_eq!(
                reference_key(name, reference, style),
                expected,
                "{name} {reference} {style:?}"
            );
        }
    }

    #[test]
    fn metadata_keys_drop_peer_and_patch_suffixes() {
        assert_eq!(metadata_key("a@1.0.0(patch_hash=x)(b@2.0.0)"), "a@1.0.0");
        assert_eq!(metadata_key("a@1.0.0"), "a@1.0.0");
        assert_eq!(metadata_key("(odd"), "");
    }
}
