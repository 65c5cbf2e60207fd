//! A fast reader for the YAML subset yarn berry writes (its `syml` stringifier): two-space
//! indentation, one `key: value` per line, JSON-quoted or plain scalars, no flow collections,
//! anchors, tags, block scalars or comments after content.
//!
//! A general YAML parser reads a large berry lockfile an order of magnitude slower than this
//! line scan. Whenever a file strays outside the subset, [`parse`] returns `None` and the
//! caller falls back to `serde_norway`, which reads any YAML into the same [`Document`]; a
//! test checks that both agree on every fixture.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::berry::{DependencyMeta, Document, Entry, Metadata, Scalar};
use super::classic::parse_quoted;

/// A scalar value as read.
enum Value<'a> {
    /// A string, or an integer spelled as YAML would print it back.
    Text(Cow<'a, str>),
    /// `true` or `false`.
    Bool(bool),
}

impl<'a> Value<'a> {
    /// The value as a string field, which a boolean cannot be here.
    fn text(self) -> Option<Scalar<'a>> {
        match self {
            Self::Text(text) => Some(Scalar(text)),
            Self::Bool(_) => None,
        }
    }
}

/// Which level-1 block the current line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// No block open.
    None,
    Dependencies,
    PeerDependencies,
    DependenciesMeta,
    /// A block bulwark does not read (`bin`, `peerDependenciesMeta`, …): skipped.
    Ignored,
}

/// What is being read at level 0.
enum Top<'a> {
    Nothing,
    Metadata(Metadata<'a>),
    Entry(Cow<'a, str>, u32, Entry<'a>),
}

/// Reads `text`, or `None` if it is not in the subset (the caller then uses a YAML parser).
/// Returns the document and the line of each entry's key.
pub(super) fn parse(text: &str) -> Option<(Document<'_>, Vec<u32>)> {
    // yarn writes about 300 bytes per entry.
    let mut document = Document {
        metadata: None,
        entries: Vec::with_capacity(text.len() / 256),
    };
    let mut lines = Vec::with_capacity(text.len() / 256);
    let mut top = Top::Nothing;
    let mut field = Field::None;
    let mut meta_name: Option<Cow<'_, str>> = None;
    let mut number = 0u32;
    for raw in text.split('\n') {
        number = number.checked_add(1)?;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim_start_matches(' ');
        if content.is_empty() || (content.starts_with('#') && content.len() == line.len()) {
            continue;
        }
        let indent = line.len() - content.len();
        if indent > 2 && field == Field::Ignored {
            continue;
        }
        let (key, value) = key_value(content)?;
        match indent {
            0 => {
                finish(
                    &mut document,
                    &mut lines,
                    std::mem::replace(&mut top, Top::Nothing),
                );
                if value.is_some() {
                    return None;
                }
                top = if key == "__metadata" {
                    if document.metadata.is_some() {
                        return None;
                    }
                    Top::Metadata(Metadata::default())
                } else {
                    Top::Entry(key, number, Entry::default())
                };
                field = Field::None;
            }
            2 => {
                meta_name = None;
                field = Field::None;
                match (&mut top, value) {
                    (Top::Nothing, _) => return None,
                    (Top::Metadata(metadata), Some(value)) => {
                        if key == "version" {
                            set(&mut metadata.version, value.text()?)?;
                        }
                    }
                    (Top::Metadata(_), None) => field = Field::Ignored,
                    (Top::Entry(_, _, entry), Some(value)) => match key.as_ref() {
                        "version" => set(&mut entry.version, value.text()?)?,
                        "resolution" => set(&mut entry.resolution, value.text()?)?,
                        "checksum" => set(&mut entry.checksum, value.text()?)?,
                        "linkType" => set(&mut entry.link_type, value.text()?)?,
                        "dependencies" | "peerDependencies" | "dependenciesMeta" => return None,
                        _ => {}
                    },
                    (Top::Entry(..), None) => {
                        field = match key.as_ref() {
                            "dependencies" => Field::Dependencies,
                            "peerDependencies" => Field::PeerDependencies,
                            "dependenciesMeta" => Field::DependenciesMeta,
                            _ => Field::Ignored,
                        };
                    }
                }
            }
            4 => {
                let Top::Entry(_, _, entry) = &mut top else {
                    return None;
                };
                match (field, value) {
                    (Field::Dependencies, Some(value)) => {
                        entry.dependencies.0.push((key, value.text()?.0));
                    }
                    (Field::PeerDependencies, Some(value)) => {
                        entry.peer_dependencies.0.push((key, value.text()?.0));
                    }
                    (Field::DependenciesMeta, None) => {
                        entry
                            .dependencies_meta
                            .get_or_insert_with(BTreeMap::new)
                            .insert(key.to_string(), None);
                        meta_name = Some(key);
                    }
                    _ => return None,
                }
            }
            6 => {
                let (Top::Entry(_, _, entry), Field::DependenciesMeta, Some(name), Some(value)) =
                    (&mut top, field, &meta_name, value)
                else {
                    return None;
                };
                let meta = entry
                    .dependencies_meta
                    .as_mut()?
                    .get_mut(name.as_ref())?
                    .get_or_insert_with(DependencyMeta::default);
                if key == "optional" {
                    let Value::Bool(optional) = value else {
                        return None;
                    };
                    meta.optional = Some(optional);
                }
            }
            _ => return None,
        }
    }
    finish(&mut document, &mut lines, top);
    Some((document, lines))
}

/// Stores a finished level-0 block.
fn finish<'a>(document: &mut Document<'a>, lines: &mut Vec<u32>, top: Top<'a>) {
    match top {
        Top::Nothing => {}
        Top::Metadata(metadata) => document.metadata = Some(metadata),
        Top::Entry(key, line, entry) => {
            document.entries.push((key, entry));
            lines.push(line);
        }
    }
}

/// Sets a field once (a repeated field is left to the YAML parser to reject).
fn set<'a>(slot: &mut Option<Scalar<'a>>, value: Scalar<'a>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Splits `key: value` or `key:`; both sides JSON-quoted or plain.
fn key_value(content: &str) -> Option<(Cow<'_, str>, Option<Value<'_>>)> {
    let (key, rest) = if content.starts_with('"') {
        parse_quoted(content).ok()?
    } else {
        let colon = content.find(':')?;
        let key = &content[..colon];
        if !is_plain(key) {
            return None;
        }
        (Cow::Borrowed(key), &content[colon..])
    };
    let rest = rest.strip_prefix(':')?;
    if rest.is_empty() {
        return Some((key, None));
    }
    let value = rest.strip_prefix(' ')?;
    if value.starts_with('"') {
        let (value, after) = parse_quoted(value).ok()?;
        if !after.is_empty() {
            return None;
        }
        return Some((key, Some(Value::Text(value))));
    }
    if !is_plain(value) {
        return None;
    }
    match value {
        "true" | "false" => Some((key, Some(Value::Bool(value == "true")))),
        _ if is_canonical_integer(value) => Some((key, Some(Value::Text(Cow::Borrowed(value))))),
        _ if looks_typed(value) => None,
        _ => Some((key, Some(Value::Text(Cow::Borrowed(value))))),
    }
}

/// Whether `text` reads as the same string when written as a YAML plain scalar here.
fn is_plain(text: &str) -> bool {
    let Some(first) = text.bytes().next() else {
        return false;
    };
    !b"-?:,[]{}#&*!|>'\"%@` \t".contains(&first)
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains('\t')
}

/// A decimal integer YAML reads as the number it spells (`8`, `10`, not `010`).
fn is_canonical_integer(value: &str) -> bool {
    value.len() < 19
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'))
}

/// Plain scalars YAML would not read as a string (numbers, booleans, null); left to the YAML
/// parser so both readers agree.
fn looks_typed(value: &str) -> bool {
    matches!(
        value,
        "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "Null" | "NULL" | "~"
    ) || value.parse::<f64>().is_ok()
        || value.starts_with(".")
        || value.starts_with("0x")
        || value.starts_with("0o")
        || value.starts_with('+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_subset() {
        let text = "# header\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"a@npm:^1, a@npm:^1.2\":\n  version: 1.2.0\n  resolution: \"a@npm:1.2.0\"\n  dependencies:\n    \"@s/b\": \"npm:^2\"\n    c: ^3\n  dependenciesMeta:\n    c:\n      optional: true\n      built: false\n  bin:\n    a: ./a.js\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n";
        let (document, lines) = parse(text).unwrap();
        assert_eq!(lines, vec![7]);
        let (key, entry) = &document.entries[0];
        assert_eq!(key, "a@npm:^1, a@npm:^1.2");
        assert_eq!(entry.version, Some(Scalar(Cow::Borrowed("1.2.0"))));
        assert_eq!(entry.dependencies.0.len(), 2);
        let meta = entry.dependencies_meta.as_ref().unwrap();
        assert_eq!(meta["c"].as_ref().unwrap().optional, Some(true));
        assert_eq!(
            document.metadata.unwrap().version,
            Some(Scalar(Cow::Borrowed("8")))
        );
        let yaml: Document = serde_norway::from_str(text).unwrap();
        assert_eq!(yaml.entries, document.entries);
    }

    /// Every berry lockfile in the fixtures is in the subset, and reads exactly as YAML.
    #[test]
    fn agrees_with_yaml_on_every_fixture() {
        let manifest_dir = env!("CARGO_MANIFEST_DIR");
        let mut files: Vec<std::path::PathBuf> = ["yarn-berry/babel-m8", "yarn-berry/jest-m6"]
            .iter()
            .map(|dir| {
                std::path::Path::new(manifest_dir)
                    .join("../../../shared/fixtures/lockfiles-real")
                    .join(dir)
                    .join("yarn.lock")
            })
            .collect();
        for version in 4..=10 {
            files.push(std::path::Path::new(manifest_dir).join(format!(
                "tests/fixtures/yarn/workspaces.v{version}/yarn.lock"
            )));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let (fast, lines) =
                parse(&text).unwrap_or_else(|| panic!("{file:?} is not in the subset"));
            let yaml: Document = serde_norway::from_str(&text).unwrap();
            assert_eq!(fast, yaml, "{file:?}");
            assert_eq!(lines.len(), fast.entries.len());
        }
    }

    #[test]
    fn leaves_the_rest_to_yaml() {
        let cases = [
            "a:\n  version: 1.0\n",
            "a:\n  version: 010\n",
            "a:\n  version: true\n",
            "a: {version: 1.0.0}\n",
            "a:\n  dependencies: {b: ^1}\n",
            "a:\n  dependencies:\n    - b\n",
            "a:\n  version: &v 1.0.0\n",
            "a:\n  version: '1.0.0'\n",
            "a:\n  version: |\n    1.0.0\n",
            "a:\n\tversion: 1.0.0\n",
            "a:\n   version: 1.0.0\n",
            "a:\n  version: 1.0.0 # comment\n",
            "a:\n  version: \"1.0.0\n",
            "a:\n  version: 1.0.0\n  version: 1.0.1\n",
            "  version: 1.0.0\n",
        ];
        for text in cases {
            assert!(parse(text).is_none(), "{text:?}");
        }
    }
}
