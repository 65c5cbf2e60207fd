//! Finding the line where each package key is defined, by a cheap scan of the raw text.
//!
//! The YAML parser does not report where map keys are, so the lines are found the way a human
//! would: pnpm writes every top-level section (`packages:`, `snapshots:`) at column 0 and every
//! package key one indentation step in. The scan reads each line once and borrows plain keys
//! from the text; quoted keys are unquoted so they compare equal to what the parser read.
//! A lockfile written by hand with odd layout only loses precision: unknown keys fall back to
//! the line of their section.

use std::borrow::Cow;
use std::collections::HashMap;

use memchr::memchr_iter;

/// A YAML document's place in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Document {
    /// Byte offset of its first line.
    pub(super) start: usize,
    /// Byte offset just past its last line.
    pub(super) end: usize,
    /// 1-based line number of its first line.
    pub(super) first_line: u32,
}

/// Splits `text` at `---` document markers, dropping a leading part that holds nothing but
/// blank lines, comments and directives (it belongs to the first document).
pub(super) fn documents(text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut first_line = 1;
    let mut content_seen = false;
    let mut line_number = 1u32;
    let mut line_start = 0;
    for end in memchr_iter(b'\n', text.as_bytes())
        .map(|newline| newline + 1)
        .chain(std::iter::once(text.len()))
    {
        let line = text.get(line_start..end).unwrap_or_default();
        if is_document_marker(line) {
            if content_seen {
                documents.push(Document {
                    start,
                    end: line_start,
                    first_line,
                });
            }
            start = line_start;
            first_line = line_number;
            content_seen = false;
        } else if !is_blank_or_comment(line) && !line.starts_with('%') {
            content_seen = true;
        }
        line_start = end;
        line_number = line_number.saturating_add(1);
        if end == text.len() {
            break;
        }
    }
    if content_seen || documents.is_empty() {
        documents.push(Document {
            start,
            end: text.len(),
            first_line,
        });
    }
    documents
}

fn is_document_marker(line: &str) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// The keys of one top-level section and the lines they are on.
///
/// Keys are looked up in file order almost always, so lookups first try the next key in order
/// and only build a hash map for the rare out-of-order lookup.
#[derive(Debug, Default)]
pub(super) struct SectionLines<'a> {
    /// The line of the section header (`packages:`), 0 if the section was not found.
    pub(super) header: u32,
    /// Each key and its line, in file order.
    keys: Vec<(Cow<'a, str>, u32)>,
    /// The next key expected in order.
    cursor: usize,
    /// Each key's first line, built on the first out-of-order lookup.
    index: Option<HashMap<Cow<'a, str>, u32>>,
}

impl<'a> SectionLines<'a> {
    /// Lines already known (from the fast reader), keys in file order. The header line is
    /// unknown, so keys missing from it fall back to the caller's line.
    pub(super) fn from_keys(keys: Vec<(Cow<'a, str>, u32)>) -> Self {
        Self {
            header: 0,
            keys,
            cursor: 0,
            index: None,
        }
    }

    /// The line of `key`, else the section header's, else `fallback`; never 0.
    pub(super) fn line_of(&mut self, key: &str, fallback: u32) -> u32 {
        let found = match self.keys.get(self.cursor) {
            Some((next, line)) if next == key => {
                self.cursor += 1;
                Some(*line)
            }
            _ => {
                let keys = &self.keys;
                self.index
                    .get_or_insert_with(|| {
                        let mut index = HashMap::with_capacity(keys.len());
                        for (key, line) in keys {
                            index.entry(key.clone()).or_insert(*line);
                        }
                        index
                    })
                    .get(key)
                    .copied()
            }
        };
        found
            .or((self.header > 0).then_some(self.header))
            .unwrap_or(fallback)
            .max(1)
    }

    /// How many keys were found.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Scans `document` of `text` for the keys of the top-level section `name`.
pub(super) fn section_lines<'a>(text: &'a str, document: Document, name: &str) -> SectionLines<'a> {
    let body = text.get(document.start..document.end).unwrap_or_default();
    let mut section = SectionLines::default();
    let mut indent: Option<usize> = None;
    let mut line_start = 0;
    let mut line_number = document.first_line;
    let mut inside = false;
    for end in memchr_iter(b'\n', body.as_bytes())
        .map(|newline| newline + 1)
        .chain(std::iter::once(body.len()))
    {
        let raw = body.get(line_start..end).unwrap_or_default();
        let line = raw.trim_end_matches(['\n', '\r']);
        let this_line = line_number;
        line_start = end;
        line_number = line_number.saturating_add(1);
        if !is_blank_or_comment(line) {
            if !line.starts_with([' ', '\t']) {
                if inside {
                    break;
                }
                inside = is_header(line, name);
                if inside {
                    section.header = this_line;
                }
            } else if inside {
                let spaces = line.len() - line.trim_start_matches(' ').len();
                let expected = *indent.get_or_insert(spaces);
                if spaces == expected
                    && let Some(key) = key_of(&line[spaces..])
                {
                    section.keys.push((key, this_line));
                }
            }
        }
        if end == body.len() {
            break;
        }
    }
    section
}

/// `packages:` (optionally followed by a comment, or by `{}` for an empty section).
fn is_header(line: &str, name: &str) -> bool {
    line.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| {
            let rest = rest.trim();
            rest.is_empty() || rest.starts_with('#') || rest == "{}"
        })
}

/// The key of a `key: value` or `key:` line with the indentation removed.
fn key_of(line: &str) -> Option<Cow<'_, str>> {
    match line.as_bytes().first()? {
        b'\'' => {
            let mut key = String::new();
            let mut rest = &line[1..];
            loop {
                let quote = rest.find('\'')?;
                key.push_str(&rest[..quote]);
                rest = &rest[quote + 1..];
                match rest.strip_prefix('\'') {
                    Some(after) => {
                        key.push('\'');
                        rest = after;
                    }
                    None => break,
                }
            }
            rest.starts_with(':').then_some(Cow::Owned(key))
        }
        b'"' => {
            let mut key = String::new();
            let mut chars = line[1..].char_indices();
            loop {
                let (index, c) = chars.next()?;
                match c {
                    '"' => {
                        return line[index + 2..]
                            .starts_with(':')
                            .then_some(Cow::Owned(key));
                    }
                    '\\' => {
                        let (_, escaped) = chars.next()?;
                        key.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    other => key.push(other),
                }
            }
        }
        b'?' | b'-' | b'#' | b'{' | b'[' => None,
        _ => {
            let end = line
                .find(": ")
                .or_else(|| line.strip_suffix(':').map(str::len))?;
            Some(Cow::Borrowed(line[..end].trim_end()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_of_a_section_only() {
        let text = "lockfileVersion: '9.0'\n\npackages:\n\n  '@a/b@1.0.0':\n    resolution: {integrity: x}\n\n  c@file:dir:\n    resolution: {directory: dir, type: directory}\n\nsnapshots:\n\n  '@a/b@1.0.0': {}\n\n  c@file:dir:\n    dependencies:\n      d: 1.0.0\n  \"e\\\"q@1.0.0\": {}\n  'it''s@1.0.0': {}\n";
        let documents = documents(text);
        assert_eq!(documents.len(), 1);
        let mut packages = section_lines(text, documents[0], "packages");
        assert_eq!(packages.header, 3);
        assert_eq!(packages.line_of("@a/b@1.0.0", 1), 5);
        assert_eq!(packages.line_of("c@file:dir", 1), 8);
        assert_eq!(packages.len(), 2);
        let mut snapshots = section_lines(text, documents[0], "snapshots");
        assert_eq!(snapshots.line_of("e\"q@1.0.0", 1), 18);
        assert_eq!(snapshots.line_of("@a/b@1.0.0", 1), 13);
        assert_eq!(snapshots.line_of("c@file:dir", 1), 15);
        assert_eq!(snapshots.line_of("e\"q@1.0.0", 1), 18);
        assert_eq!(snapshots.line_of("it's@1.0.0", 1), 19);
        assert_eq!(snapshots.line_of("missing", 1), 11);
        assert_eq!(snapshots.len(), 4);
        let mut none = section_lines(text, documents[0], "importers");
        assert_eq!(none.line_of("x", 7), 7);
    }

    #[test]
    fn splits_documents() {
        let text = "# comment\n---\nlockfileVersion: '9.0'\nimporters: {}\n---\nlockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n";
        let documents = documents(text);
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0].first_line, 2);
        assert_eq!(documents[1].first_line, 5);
        let mut packages = section_lines(text, documents[1], "packages");
        assert_eq!(packages.line_of("a@1.0.0", 1), 8);
        let in_first = section_lines(text, documents[0], "packages");
        assert_eq!(in_first.header, 0);
        assert_eq!(super::documents("").len(), 1);
        assert_eq!(super::documents("a: 1\n---\n").len(), 1);
    }

    #[test]
    fn odd_layouts_fall_back_without_panicking() {
        for text in [
            "packages:\n    /a/1.0.0:\n      dev: true\n  /b/1.0.0: {}\n",
            "packages:\n  'unterminated\n  \"bad\\",
            "packages:\n  ? complex\n  : value\n  - item\n",
            "packages:",
            "packages: {}\n",
            "\u{feff}packages:\n  é@1.0.0: {}\n",
        ] {
            let documents = documents(text);
            let mut section = section_lines(text, documents[0], "packages");
            assert!(section.line_of("whatever", 1) >= 1);
        }
        let text = "packages:\n    /a/1.0.0:\n      dev: true\n";
        let mut section = section_lines(text, documents(text)[0], "packages");
        assert_eq!(section.line_of("/a/1.0.0", 1), 2);
    }
}
