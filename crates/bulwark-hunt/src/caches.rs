//! Reading the package managers' caches: which `name@version`s each one holds.
//!
//! Caches keep a package long after `node_modules` is deleted, so a compromised version that
//! was once downloaded is still there to be found. Each reader takes one cache entry (an
//! index bucket, a zip name, an index file, a directory name) and returns the packages it
//! names; none of them looks at package contents, and every input is hostile: sizes are
//! capped and malformed entries become [`Problem`]s, never panics.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use bulwark_advisory::feed::is_valid_package_name;
use serde::Deserialize;
use sha1::{Digest as _, Sha1};

use crate::report::{PackageVersion, Problem};

/// Largest npm cache index bucket read (buckets are a few lines each).
pub const MAX_BUCKET_BYTES: u64 = 16 << 20;
/// Largest pnpm index file read (they list every file of a package).
pub const MAX_PNPM_INDEX_BYTES: u64 = 32 << 20;
/// Largest `package.json` read from a yarn classic cache entry.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Largest zip central directory read from a yarn berry cache file.
const MAX_CENTRAL_DIRECTORY: u64 = 8 << 20;

/// Reads at most `limit` bytes of `path`; more than that is an error naming the limit.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, Problem> {
    let file = std::fs::File::open(path).map_err(|error| problem(path, None, error))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| problem(path, None, error))?;
    if bytes.len() as u64 > limit {
        return Err(problem(
            path,
            None,
            format!("larger than the {} KiB limit", limit >> 10),
        ));
    }
    Ok(bytes)
}

pub(crate) fn problem(path: &Path, line: Option<u32>, message: impl ToString) -> Problem {
    Problem {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    }
}

fn package(name: &str, version: &str) -> Option<PackageVersion> {
    (is_valid_package_name(name)
        && !version.is_empty()
        && version.len() <= 256
        && !version
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()))
    .then(|| PackageVersion {
        name: name.to_owned(),
        version: version.to_owned(),
    })
}

/// One line of an npm cache (cacache `index-v5`) bucket.
#[derive(Deserialize)]
struct IndexEntry {
    key: String,
    integrity: Option<String>,
}

/// The packages named by one cacache index bucket: tarball entries (`make-fetch-happen:
/// request-cache:<registry>/<name>/-/<base>-<version>.tgz`, and pacote's `pacote:tarball:
/// <name>@<version>`), each with its 1-based line. A later line for the same key replaces an
/// earlier one, and a line whose `integrity` is null deletes the key, as in cacache. Lines
/// that are not `<sha1 hex>\t<json>`, whose JSON is malformed, or whose SHA-1 does not match
/// are reported (a hash mismatch still names its package: the entry is evidence either way).
#[must_use]
pub fn npm_index_bucket(path: &Path, bytes: &[u8]) -> (Vec<(PackageVersion, u32)>, Vec<Problem>) {
    let mut problems = Vec::new();
    // key → (package, line); insertion order kept by a Vec (buckets are tiny).
    let mut entries: Vec<(String, Option<(PackageVersion, u32)>)> = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let Some(tab) = raw.iter().position(|&b| b == b'\t') else {
            problems.push(problem(
                path,
                Some(line),
                "index entry without a tab separator",
            ));
            continue;
        };
        let (hash, json) = (&raw[..tab], &raw[tab + 1..]);
        let entry: IndexEntry = match serde_json::from_slice(json) {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(problem(
                    path,
                    Some(line),
                    format!("index entry is not valid JSON: {error}"),
                ));
                continue;
            }
        };
        if !sha1_matches(hash, json) {
            problems.push(problem(
                path,
                Some(line),
                "index entry's SHA-1 does not match its content (corrupt or edited)",
            ));
        }
        let named = package_of_key(&entry.key)
            .filter(|_| entry.integrity.is_some())
            .map(|package| (package, line));
        match entries.iter_mut().find(|(key, _)| *key == entry.key) {
            Some(slot) => slot.1 = named,
            None => entries.push((entry.key, named)),
        }
    }
    (
        entries.into_iter().filter_map(|(_, e)| e).collect(),
        problems,
    )
}

fn sha1_matches(hash: &[u8], json: &[u8]) -> bool {
    let digest = Sha1::digest(json);
    hash.len() == 40
        && hash.chunks(2).zip(digest.iter()).all(|(pair, byte)| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                == Some(*byte)
        })
}

/// The line cacache writes for `json` (`<sha1 hex>\t<json>`); used to build test caches.
#[must_use]
pub fn npm_index_line(json: &str) -> String {
    let digest = Sha1::digest(json.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}\t{json}")
}

/// The package a cacache key names, if it names a tarball.
#[must_use]
pub fn package_of_key(key: &str) -> Option<PackageVersion> {
    if let Some(url) = key.strip_prefix("make-fetch-happen:request-cache:") {
        return package_of_tarball_url(url);
    }
    let spec = key.strip_prefix("pacote:tarball:")?;
    if spec.contains("://") {
        return package_of_tarball_url(spec);
    }
    let at = spec.rfind('@').filter(|&at| at > 0)?;
    package(&spec[..at], &spec[at + 1..])
}

/// `https://registry.npmjs.org/@scope/name/-/name-1.2.3.tgz` → `@scope/name@1.2.3` (also
/// `@scope%2fname` and other registries' paths ending in `<name>/-/<file>.tgz`).
#[must_use]
pub fn package_of_tarball_url(url: &str) -> Option<PackageVersion> {
    let url = url.split(['?', '#']).next()?;
    let (before, file) = url.rsplit_once("/-/")?;
    let file = file.strip_suffix(".tgz")?;
    let decoded = before
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%40", "@");
    let mut segments = decoded.rsplit('/');
    let last = segments.next()?;
    let name = match segments.next() {
        Some(scope) if scope.starts_with('@') => format!("{scope}/{last}"),
        _ => last.to_owned(),
    };
    let base = name.rsplit('/').next()?;
    let version = file.strip_prefix(base)?.strip_prefix('-')?;
    package(&name, version)
}

/// The yarn berry cache file name `<slug>-npm-<version>-<hash>[-<hash>].zip`, as
/// (slug, version). The slug is the name with `/` turned into `-`, so a scoped slug whose
/// scope or name has a dash is ambiguous: see [`berry_package`].
#[must_use]
pub fn berry_zip_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".zip")?;
    // Drop the trailing hash segments (checksum, cache key): hex or `10c0`-style keys.
    let mut rest = stem;
    for _ in 0..2 {
        let (head, tail) = rest.rsplit_once('-')?;
        if tail.len() < 3 || !tail.bytes().all(|b| b.is_ascii_hexdigit()) {
            break;
        }
        if head.contains("-npm-") {
            rest = head;
        }
    }
    let at = rest.rfind("-npm-")?;
    let (slug, version) = (&rest[..at], &rest[at + 5..]);
    (!slug.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()))
        .then_some((slug, version))
}

/// The package of a berry cache zip: the name comes from the file name, and for scoped slugs
/// from the zip's central directory (`node_modules/@scope/name/…`) when the dash between
/// scope and name cannot be told from the others.
pub fn berry_package(path: &Path, file_name: &str) -> Result<Option<PackageVersion>, Problem> {
    let Some((slug, version)) = berry_zip_name(file_name) else {
        return Ok(None);
    };
    let Some(scoped) = slug.strip_prefix('@') else {
        return Ok(package(slug, version));
    };
    if scoped.matches('-').count() == 1 {
        return Ok(package(
            &format!("@{}", scoped.replacen('-', "/", 1)),
            version,
        ));
    }
    let names = zip_entry_names(path)?;
    let name = names.iter().find_map(|entry| {
        let mut parts = entry.strip_prefix("node_modules/")?.split('/');
        let (scope, name) = (parts.next()?, parts.next()?);
        let full = format!("{scope}/{name}");
        (scope.starts_with('@') && full.replace('/', "-") == slug).then_some(full)
    });
    match name {
        Some(name) => Ok(package(&name, version)),
        None => Err(problem(
            path,
            None,
            "yarn cache zip does not hold the package its name says",
        )),
    }
}

/// The file names of a zip's central directory (bounded; no decompression).
fn zip_entry_names(path: &Path) -> Result<Vec<String>, Problem> {
    let bad = |message: &str| problem(path, None, format!("not a readable zip: {message}"));
    let mut file = std::fs::File::open(path).map_err(|error| problem(path, None, error))?;
    let size = file
        .metadata()
        .map_err(|error| problem(path, None, error))?
        .len();
    let tail_len = size.min(22 + 65_535);
    file.seek(SeekFrom::Start(size - tail_len))
        .map_err(|error| problem(path, None, error))?;
    let mut tail = Vec::new();
    (&mut file)
        .take(tail_len)
        .read_to_end(&mut tail)
        .map_err(|error| problem(path, None, error))?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or_else(|| bad("no end of central directory"))?;
    let u32_at = |bytes: &[u8], at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u16_at = |bytes: &[u8], at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let cd_size = u64::from(u32_at(&tail, eocd + 12).ok_or_else(|| bad("truncated"))?);
    let cd_offset = u64::from(u32_at(&tail, eocd + 16).ok_or_else(|| bad("truncated"))?);
    if cd_size > MAX_CENTRAL_DIRECTORY || cd_offset.saturating_add(cd_size) > size {
        return Err(bad("central directory out of bounds"));
    }
    file.seek(SeekFrom::Start(cd_offset))
        .map_err(|error| problem(path, None, error))?;
    let mut cd = Vec::new();
    file.take(cd_size)
        .read_to_end(&mut cd)
        .map_err(|error| problem(path, None, error))?;
    let mut names = Vec::new();
    let mut at = 0;
    while cd.get(at..at + 4) == Some(&[0x50, 0x4b, 0x01, 0x02]) {
        let (Some(name_len), Some(extra), Some(comment)) = (
            u16_at(&cd, at + 28),
            u16_at(&cd, at + 30),
            u16_at(&cd, at + 32),
        ) else {
            break;
        };
        let Some(name) = cd.get(at + 46..at + 46 + name_len) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + name_len + extra + comment;
    }
    Ok(names)
}

#[derive(Deserialize)]
struct NameVersion {
    name: Option<String>,
    version: Option<String>,
}

/// The package a pnpm store index file (v3 `files/xx/<hash>-index.json`, v10
/// `index/xx/<hash>-<name>@<version>.json`) names, from its `name` and `version` fields.
pub fn pnpm_index(path: &Path, bytes: &[u8]) -> Result<Option<PackageVersion>, Problem> {
    let index: NameVersion = serde_json::from_slice(bytes).map_err(|error| {
        problem(
            path,
            None,
            format!("pnpm index file is not valid JSON: {error}"),
        )
    })?;
    Ok(match (index.name, index.version) {
        (Some(name), Some(version)) => package(&name, &version),
        _ => None,
    })
}

/// A bun cache entry directory `<name>@<version>@@@<n>` (inside `@scope/` for scoped
/// packages: pass the parent directory's name as `scope`).
#[must_use]
pub fn bun_entry(dir_name: &str, scope: Option<&str>) -> Option<PackageVersion> {
    let (spec, generation) = dir_name.rsplit_once("@@@")?;
    if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (name, version) = spec.rsplit_once('@')?;
    if name.is_empty() || name.starts_with('@') {
        return None;
    }
    match scope {
        Some(scope) => package(&format!("{scope}/{name}"), version),
        None => package(name, version),
    }
}

/// Whether `dir_name` looks like a yarn classic cache entry
/// (`npm-<name>-<version>-<hash>-integrity`).
#[must_use]
pub fn is_yarn_classic_entry(dir_name: &str) -> bool {
    dir_name.starts_with("npm-") && dir_name.ends_with("-integrity") && dir_name.len() > 15
}

/// The package of a yarn classic cache entry, from the `package.json` under its
/// `node_modules` (`node_modules/<name>/` or `node_modules/@scope/<name>/`).
pub fn yarn_classic_entry(
    entry: &Path,
) -> Result<Option<(PackageVersion, std::path::PathBuf)>, Problem> {
    let modules = entry.join("node_modules");
    let list = |dir: &Path| -> Result<Vec<String>, Problem> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|error| problem(dir, None, error))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    };
    let mut first = list(&modules)?.into_iter().next();
    if let Some(scope) = first.clone().filter(|n| n.starts_with('@')) {
        first = list(&modules.join(&scope))?
            .into_iter()
            .next()
            .map(|name| format!("{scope}/{name}"));
    }
    let Some(dir) = first else {
        return Ok(None);
    };
    let manifest = modules.join(dir).join("package.json");
    let bytes = read_capped(&manifest, MAX_MANIFEST_BYTES)?;
    let parsed: NameVersion = serde_json::from_slice(&bytes).map_err(|error| {
        problem(
            &manifest,
            None,
            format!("package.json is not valid JSON: {error}"),
        )
    })?;
    Ok(match (parsed.name, parsed.version) {
        (Some(name), Some(version)) => package(&name, &version).map(|p| (p, manifest)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str, version: &str) -> Option<PackageVersion> {
        Some(PackageVersion {
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }

    #[test]
    fn tarball_urls() {
        let cases = [
            (
                "https://registry.npmjs.org/debug/-/debug-4.4.2.tgz",
                pv("debug", "4.4.2"),
            ),
            (
                "https://registry.npmjs.org/@ctrl/tinycolor/-/tinycolor-4.1.1.tgz",
                pv("@ctrl/tinycolor", "4.1.1"),
            ),
            (
                "https://registry.npmjs.org/@ctrl%2ftinycolor/-/tinycolor-4.1.1.tgz",
                pv("@ctrl/tinycolor", "4.1.1"),
            ),
            (
                "https://r.example/npm/a-b/-/a-b-1.0.0-beta.1.tgz?x=1",
                pv("a-b", "1.0.0-beta.1"),
            ),
            ("https://registry.npmjs.org/debug", None),
            ("https://registry.npmjs.org/debug/-/other-1.0.0.tgz", None),
            ("https://registry.npmjs.org/debug/-/debug-.tgz", None),
            ("https://registry.npmjs.org/-/debug-1.tgz", None),
            ("", None),
        ];
        for (url, expected) in cases {
            assert_eq!(package_of_tarball_url(url), expected, "{url}");
        }
        assert_eq!(
            package_of_key("pacote:tarball:@types/ms@0.7.34"),
            pv("@types/ms", "0.7.34")
        );
        assert_eq!(package_of_key("pacote:tarball:@types/ms"), None);
        assert_eq!(
            package_of_key("make-fetch-happen:request-cache:https://registry.npmjs.org/ms"),
            None
        );
    }

    #[test]
    fn bucket_lines_replace_delete_and_report_corruption() {
        let ok = npm_index_line(
            r#"{"key":"pacote:tarball:ms@2.1.3","integrity":"sha512-x","time":1,"size":2}"#,
        );
        let gone = npm_index_line(
            r#"{"key":"pacote:tarball:debug@4.4.2","integrity":"sha512-y","time":1,"size":2}"#,
        );
        let deleted = npm_index_line(
            r#"{"key":"pacote:tarball:debug@4.4.2","integrity":null,"time":2,"size":0}"#,
        );
        let edited = format!(
            "{}\t{{\"key\":\"pacote:tarball:chalk@5.6.1\",\"integrity\":\"sha512-z\"}}",
            "0".repeat(40)
        );
        let text = format!("\n{ok}\n{gone}\n{deleted}\nnot an entry\n{edited}\nabc\t{{not json\n");
        let (packages, problems) = npm_index_bucket(Path::new("b"), text.as_bytes());
        assert_eq!(
            packages,
            vec![
                (pv("ms", "2.1.3").unwrap(), 2),
                (pv("chalk", "5.6.1").unwrap(), 6)
            ]
        );
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(5), Some(6), Some(7)]);
    }

    #[test]
    fn berry_names() {
        assert_eq!(
            berry_zip_name("ms-npm-2.1.3-81ff3cfac1-d924b57e73.zip"),
            Some(("ms", "2.1.3"))
        );
        assert_eq!(
            berry_zip_name("ms-npm-2.1.3-81ff3cfac1-10c0.zip"),
            Some(("ms", "2.1.3"))
        );
        assert_eq!(
            berry_zip_name("@types-ms-npm-0.7.34-46f5141bfd-ac80bd9001.zip"),
            Some(("@types-ms", "0.7.34"))
        );
        assert_eq!(
            berry_zip_name("a-npm-b-npm-1.0.0-rc.1-0123456789.zip"),
            Some(("a-npm-b", "1.0.0-rc.1"))
        );
        assert_eq!(berry_zip_name("resolve-patch-abc.zip"), None);
        assert_eq!(berry_zip_name("x.zip"), None);
        assert_eq!(
            berry_package(
                Path::new("/nonexistent"),
                "@types-ms-npm-0.7.34-46f5141bfd-ac80bd9001.zip"
            )
            .unwrap(),
            pv("@types/ms", "0.7.34")
        );
    }

    #[test]
    fn bun_entries() {
        assert_eq!(bun_entry("ms@2.1.3@@@1", None), pv("ms", "2.1.3"));
        assert_eq!(
            bun_entry("ms@0.7.34@@@1", Some("@types")),
            pv("@types/ms", "0.7.34")
        );
        assert_eq!(bun_entry("ms@2.1.3", None), None);
        assert_eq!(bun_entry("@2.1.3@@@1", None), None);
        assert_eq!(bun_entry("ms@2.1.3@@@x", None), None);
    }

    #[test]
    fn hostile_zips_are_problems_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        for (i, bytes) in [
            Vec::new(),
            b"PK\x05\x06".to_vec(),
            [b"PK\x05\x06".as_slice(), &[0xff; 18]].concat(),
            vec![0x50; 70_000],
        ]
        .iter()
        .enumerate()
        {
            let path = dir.path().join(format!("{i}.zip"));
            std::fs::write(&path, bytes).unwrap();
            assert!(berry_package(&path, "@a-b-c-npm-1.0.0-0123456789.zip").is_err());
        }
    }
}
