//! yarn classic (`# yarn lockfile v1`): a small line parser for yarn's own indentation syntax.
//!
//! ```text
//! "@scope/a@^1.0.0", "@scope/a@^1.2.0":
//!   version "1.2.3"
//!   resolved "https://registry.yarnpkg.com/@scope/a/-/a-1.2.3.tgz#<sha1>"
//!   integrity sha512-...
//!   dependencies:
//!     b "^2.0.0"
//! ```
//!
//! Each entry is headed by the comma-joined specifiers (`name@range`) that resolved to it; a
//! dependency `b "^2.0.0"` resolves through the specifier `b@^2.0.0`. The file records no
//! importers and no dev flags, so the importers come from the `package.json` beside the
//! lockfile (and its workspaces), and dev/optional are derived from the graph.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use bulwark_types::{Algorithm, Integrity, SourceKind};

use super::manifest::{Manifest, expand_workspaces, read_manifest, read_member_manifest};
use super::{Tally, Unresolved, alias_target, split_descriptor};
use crate::{Dependency, DependencyKind, ExtractError, Importer, Lockfile, Package, PackageId};

/// The format name in reports.
const FORMAT: &str = "yarn/lock";

/// One entry as written.
#[derive(Debug, Default)]
struct RawEntry<'a> {
    /// The header line.
    line: u32,
    /// The specifiers of the header.
    specifiers: Vec<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
    resolved: Option<Cow<'a, str>>,
    integrity: Option<Cow<'a, str>>,
    /// `(name, range, kind, line)`.
    dependencies: Vec<(Cow<'a, str>, Cow<'a, str>, DependencyKind)>,
}

/// Which block an indented line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// Directly under the entry header.
    Fields,
    /// `dependencies:` or `optionalDependencies:`.
    Dependencies(DependencyKind),
    /// A block bulwark does not read; its lines are skipped.
    Other,
}

/// Reads a classic `yarn.lock`.
pub(super) fn extract(path: &Path, text: &str) -> Result<Lockfile, ExtractError> {
    let entries = parse(path, text)?;
    let mut lockfile = Lockfile::new(path, FORMAT, "1");

    // Specifier -> entry. Keys borrow from the entries.
    let mut by_specifier: HashMap<(&str, &str), usize> = HashMap::with_capacity(entries.len() * 2);
    let mut duplicates = 0usize;
    for (index, entry) in entries.iter().enumerate() {
        for specifier in &entry.specifiers {
            if by_specifier
                .insert(split_descriptor(specifier), index)
                .is_some_and(|previous| previous != index)
            {
                duplicates += 1;
            }
        }
    }
    if duplicates > 0 {
        lockfile.warnings.push(format!(
            "{duplicates} specifiers head more than one entry; the last one is used"
        ));
    }

    let mut unresolved = Unresolved::default();
    let mut bad_integrity = Tally::default();
    lockfile.packages = entries
        .iter()
        .map(|entry| {
            package(
                path,
                entry,
                &by_specifier,
                &mut unresolved,
                &mut bad_integrity,
            )
        })
        .collect::<Result<_, _>>()?;
    lockfile
        .warnings
        .extend(bad_integrity.into_warning("entries have an unreadable integrity, e.g."));

    let root = path.parent().unwrap_or_else(|| Path::new(""));
    match read_manifest(&root.join("package.json")) {
        Ok(Some(manifest)) => {
            lockfile.importers = importers(
                root,
                &manifest,
                &by_specifier,
                &mut unresolved,
                &mut lockfile.warnings,
            );
        }
        Ok(None) => {
            lockfile.warnings.push(
                "no package.json beside the lockfile: every entry is treated as a prod dependency of the project"
                    .to_owned(),
            );
            lockfile.importers = vec![synthetic_root(&lockfile.packages)];
        }
        Err(reason) => {
            lockfile.warnings.push(format!(
                "{reason}; every entry is treated as a prod dependency of the project"
            ));
            lockfile.importers = vec![synthetic_root(&lockfile.packages)];
        }
    }
    lockfile.warnings.extend(unresolved.into_warning());
    Ok(lockfile)
}

/// Turns one entry into a package, resolving its dependencies.
fn package(
    path: &Path,
    entry: &RawEntry<'_>,
    by_specifier: &HashMap<(&str, &str), usize>,
    unresolved: &mut Unresolved,
    bad_integrity: &mut Tally,
) -> Result<Package, ExtractError> {
    let header = entry
        .specifiers
        .first()
        .map_or("", |specifier| specifier.as_ref());
    let Some(version) = entry.version.as_deref() else {
        return Err(ExtractError::at_line(
            path,
            entry.line,
            format!("entry `{header}` has no `version`"),
        ));
    };
    let (first_name, first_range) = split_descriptor(header);
    let name = alias_target(first_range).unwrap_or(first_name);
    if name.is_empty() {
        return Err(ExtractError::at_line(
            path,
            entry.line,
            format!("entry `{header}` names no package"),
        ));
    }
    let alias = entry
        .specifiers
        .iter()
        .map(|specifier| split_descriptor(specifier).0)
        .find(|alias| *alias != name)
        .map(str::to_owned);

    let mut package = Package::new(name, version, entry.line);
    package.alias = alias;
    package.resolved = entry.resolved.as_deref().map(str::to_owned);
    package.source = match entry.resolved.as_deref() {
        Some(resolved) => SourceKind::classify(resolved),
        None => source_of_range(first_range),
    };
    package.integrity = match (entry.integrity.as_deref(), entry.resolved.as_deref()) {
        (Some(integrity), _) => match Integrity::parse_sri(integrity) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                bad_integrity.add(|| format!("`{name}@{version}` (line {}: {error})", entry.line));
                None
            }
        },
        (None, Some(resolved))
            if matches!(
                package.source,
                SourceKind::Registry | SourceKind::RemoteTarball
            ) =>
        {
            resolved
                .rsplit_once('#')
                .and_then(|(_, hash)| Integrity::from_hex(Algorithm::Sha1, hash).ok())
        }
        _ => None,
    };

    let from = format!("{name}@{version}");
    package.dependencies = entry
        .dependencies
        .iter()
        .map(|(dep_name, range, kind)| {
            let target = by_specifier.get(&(dep_name.as_ref(), range.as_ref()));
            if target.is_none() {
                unresolved.add(&from, dep_name, range);
            }
            Dependency {
                name: dep_name.to_string(),
                kind: *kind,
                target: target.copied().map(PackageId),
            }
        })
        .collect();
    Ok(package)
}

/// The source of an entry without `resolved`, from its range (`file:`, `link:`, git).
fn source_of_range(range: &str) -> SourceKind {
    let range = range.strip_prefix("npm:").unwrap_or(range);
    SourceKind::classify(range)
}

/// The root importer and one per workspace member, from the manifests on disk.
fn importers(
    root: &Path,
    manifest: &Manifest,
    by_specifier: &HashMap<(&str, &str), usize>,
    unresolved: &mut Unresolved,
    warnings: &mut Vec<String>,
) -> Vec<Importer> {
    let mut members = vec![(String::new(), manifest.clone())];
    for dir in expand_workspaces(root, &manifest.workspaces, warnings) {
        match read_member_manifest(root, &dir) {
            Ok(Some(member)) => members.push((dir, member)),
            Ok(None) => {}
            Err(reason) => warnings.push(reason),
        }
    }
    let workspace_names: Vec<&str> = members
        .iter()
        .filter_map(|(_, member)| member.name.as_deref())
        .collect();
    members
        .iter()
        .map(|(dir, member)| {
            let label = member.name.clone().unwrap_or_else(|| {
                if dir.is_empty() {
                    "(root)".to_owned()
                } else {
                    dir.clone()
                }
            });
            let dependencies = member
                .dependencies
                .iter()
                .map(|(name, range, kind)| {
                    let target = by_specifier.get(&(name.as_str(), range.as_str()));
                    // A workspace member satisfies the range itself: a link, not an entry.
                    if target.is_none() && !workspace_names.contains(&name.as_str()) {
                        unresolved.add(&label, name, range);
                    }
                    Dependency {
                        name: name.clone(),
                        kind: *kind,
                        target: target.copied().map(PackageId),
                    }
                })
                .collect();
            Importer {
                path: dir.clone(),
                name: member.name.clone(),
                version: member.version.clone(),
                dependencies,
            }
        })
        .collect()
}

/// Without a manifest, a root that depends on every entry nothing else depends on (and on
/// whatever those do not reach, such as cycles), so every entry is reachable and none is dev.
pub(super) fn synthetic_root(packages: &[Package]) -> Importer {
    let mut depended_on = vec![false; packages.len()];
    for package in packages {
        for dep in &package.dependencies {
            if let Some(PackageId(target)) = dep.target {
                depended_on[target] = true;
            }
        }
    }
    let mut roots: Vec<usize> = (0..packages.len()).filter(|&i| !depended_on[i]).collect();
    let mut reached = vec![false; packages.len()];
    let mut stack = roots.clone();
    let mut next_unreached = 0;
    loop {
        while let Some(index) = stack.pop() {
            if std::mem::replace(&mut reached[index], true) {
                continue;
            }
            stack.extend(
                packages[index]
                    .dependencies
                    .iter()
                    .filter_map(|dep| dep.target.map(|PackageId(i)| i)),
            );
        }
        while next_unreached < packages.len() && reached[next_unreached] {
            next_unreached += 1;
        }
        if next_unreached == packages.len() {
            break;
        }
        roots.push(next_unreached);
        stack.push(next_unreached);
    }
    Importer {
        path: String::new(),
        name: None,
        version: None,
        dependencies: roots
            .into_iter()
            .map(|index| Dependency {
                name: packages[index]
                    .alias
                    .clone()
                    .unwrap_or_else(|| packages[index].name.clone()),
                kind: DependencyKind::Prod,
                target: Some(PackageId(index)),
            })
            .collect(),
    }
}

/// Parses the file into raw entries.
fn parse<'a>(path: &Path, text: &'a str) -> Result<Vec<RawEntry<'a>>, ExtractError> {
    let mut entries: Vec<RawEntry<'a>> = Vec::new();
    let mut block = Block::Fields;
    let mut line_number = 0u32;
    for raw_line in text.split('\n') {
        line_number = line_number.saturating_add(1);
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let error = |message: String| ExtractError::at_line(path, line_number, message);
        if content.starts_with('\t') {
            return Err(error(
                "tab indentation is not valid in yarn.lock".to_owned(),
            ));
        }
        match indent {
            0 => {
                let Some(header) = content.trim_end().strip_suffix(':') else {
                    return Err(error(format!(
                        "expected an entry header ending in `:`, found `{}`",
                        shorten(content)
                    )));
                };
                let specifiers = parse_header(header).map_err(error)?;
                entries.push(RawEntry {
                    line: line_number,
                    specifiers,
                    ..RawEntry::default()
                });
                block = Block::Fields;
            }
            2 => {
                let Some(entry) = entries.last_mut() else {
                    return Err(error("indented line outside of any entry".to_owned()));
                };
                let (key, value) = parse_pair(content).map_err(error)?;
                match value {
                    None => {
                        block = match key.as_ref() {
                            "dependencies" => Block::Dependencies(DependencyKind::Prod),
                            "optionalDependencies" => Block::Dependencies(DependencyKind::Optional),
                            _ => Block::Other,
                        };
                    }
                    Some(value) => {
                        block = Block::Fields;
                        match key.as_ref() {
                            "version" => entry.version = Some(value),
                            "resolved" => entry.resolved = Some(value),
                            "integrity" => entry.integrity = Some(value),
                            _ => {}
                        }
                    }
                }
            }
            _ => match block {
                Block::Dependencies(kind) if indent == 4 => {
                    let (name, range) = parse_pair(content).map_err(error)?;
                    let Some(range) = range else {
                        return Err(error(format!("dependency `{name}` has no range")));
                    };
                    if let Some(entry) = entries.last_mut() {
                        entry.dependencies.push((name, range, kind));
                    }
                }
                Block::Other if indent % 2 == 0 => {}
                _ => {
                    return Err(error(format!("unexpected indentation of {indent} spaces")));
                }
            },
        }
    }
    Ok(entries)
}

/// Splits an entry header (without its trailing `:`) into specifiers.
fn parse_header(header: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let mut specifiers = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (specifier, after) = if rest.starts_with('"') {
            parse_quoted(rest)?
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (Cow::Borrowed(rest[..end].trim_end()), &rest[end..])
        };
        if specifier.is_empty() {
            return Err("empty specifier in entry header".to_owned());
        }
        specifiers.push(specifier);
        rest = after.trim_start();
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma.trim_start();
            if rest.is_empty() {
                return Err("entry header ends with `,`".to_owned());
            }
        } else if !rest.is_empty() {
            return Err(format!(
                "expected `,` in entry header before `{}`",
                shorten(rest)
            ));
        }
    }
    if specifiers.is_empty() {
        return Err("empty entry header".to_owned());
    }
    Ok(specifiers)
}

/// Parses `key value`, `key: value` or `key:` (a block); the key and value may be quoted.
fn parse_pair(content: &str) -> Result<(Cow<'_, str>, Option<Cow<'_, str>>), String> {
    let content = content.trim_end();
    let (key, rest) = if content.starts_with('"') {
        parse_quoted(content)?
    } else {
        let end = content.find([' ', ':']).unwrap_or(content.len());
        (Cow::Borrowed(&content[..end]), &content[end..])
    };
    if key.is_empty() {
        return Err(format!("expected a key, found `{}`", shorten(content)));
    }
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    if rest.is_empty() {
        return Ok((key, None));
    }
    if !rest.starts_with(' ') {
        return Err(format!("expected a space after key `{key}`"));
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Ok((key, None));
    }
    let value = if rest.starts_with('"') {
        let (value, after) = parse_quoted(rest)?;
        if !after.trim().is_empty() {
            return Err(format!("unexpected `{}` after value", shorten(after)));
        }
        value
    } else {
        Cow::Borrowed(rest)
    };
    Ok((key, Some(value)))
}

/// Parses a double-quoted string at the start of `text` (JSON escapes, as yarn writes them),
/// returning it and the rest of `text`.
pub(super) fn parse_quoted(text: &str) -> Result<(Cow<'_, str>, &str), String> {
    let bytes = text.as_bytes();
    let mut index = 1;
    let mut escaped = false;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => {
                escaped = true;
                index += 2;
                continue;
            }
            b'"' => break,
            _ => index += 1,
        }
    }
    if index >= bytes.len() {
        return Err(format!("unterminated string `{}`", shorten(text)));
    }
    let quoted = &text[..=index];
    let rest = &text[index + 1..];
    if escaped {
        let unescaped: String = serde_json::from_str(quoted)
            .map_err(|error| format!("invalid string `{}`: {error}", shorten(quoted)))?;
        Ok((Cow::Owned(unescaped), rest))
    } else {
        Ok((Cow::Borrowed(&quoted[1..quoted.len() - 1]), rest))
    }
}

/// At most 60 characters of `text`, for error messages.
fn shorten(text: &str) -> &str {
    match text.char_indices().nth(60) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let cases: [(&str, &[&str]); 4] = [
            ("a@^1", &["a@^1"]),
            ("\"@s/a@^1\", \"@s/a@~1.2\"", &["@s/a@^1", "@s/a@~1.2"]),
            ("a@^1, a@~1.2", &["a@^1", "a@~1.2"]),
            ("\"strip@npm:strip-ansi@6\"", &["strip@npm:strip-ansi@6"]),
        ];
        for (input, expected) in cases {
            let parsed = parse_header(input).unwrap();
            assert_eq!(parsed, expected.to_vec(), "{input}");
        }
        for bad in ["", "a@^1,", "\"a@^1", "\"a\" b", ", a"] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_integrities_are_tallied() {
        let mut text = String::from("# yarn lockfile v1\n");
        for i in 0..8 {
            text.push_str(&format!(
                "\np{i}@^1:\n  version \"1.0.{i}\"\n  integrity sha512-@@@\n"
            ));
        }
        let lockfile = extract(Path::new("no/such/dir/yarn.lock"), &text).unwrap();
        assert!(lockfile.packages.iter().all(|p| p.integrity.is_none()));
        let tally: Vec<_> = lockfile
            .warnings
            .iter()
            .filter(|w| w.contains("unreadable integrity"))
            .collect();
        assert_eq!(tally.len(), 1, "{:?}", lockfile.warnings);
        assert!(
            tally[0].starts_with("8 entries") && tally[0].ends_with(", …"),
            "{}",
            tally[0]
        );
        assert!(tally[0].contains("`p0@1.0.0` (line 3: "), "{}", tally[0]);
    }

    #[test]
    fn pairs() {
        let (key, value) = parse_pair("version \"1.2.3\"").unwrap();
        assert_eq!((key.as_ref(), value.as_deref()), ("version", Some("1.2.3")));
        let (key, value) = parse_pair("\"@s/a\" \"^1\"").unwrap();
        assert_eq!((key.as_ref(), value.as_deref()), ("@s/a", Some("^1")));
        let (key, value) = parse_pair("dependencies:").unwrap();
        assert_eq!((key.as_ref(), value), ("dependencies", None));
        let (key, value) = parse_pair("integrity sha512-abc").unwrap();
        assert_eq!(
            (key.as_ref(), value.as_deref()),
            ("integrity", Some("sha512-abc"))
        );
        let (_, value) = parse_pair("x \"a\\\"b\"").unwrap();
        assert_eq!(value.as_deref(), Some("a\"b"));
        for bad in ["\"unterminated", "x \"a\" b", ":", "x \"bad\\q\""] {
            assert!(parse_pair(bad).is_err(), "{bad:?}");
        }
    }
}
