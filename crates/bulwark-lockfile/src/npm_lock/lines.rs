//! Where each entry of an npm lockfile is defined, found in one pass over the text.
//!
//! serde does not report positions, so after the file has parsed this scanner walks its JSON
//! structure once (strings are skipped with `memchr`) and records the line of every key of the
//! `packages` map and of every nested key of the v1 `dependencies` tree, in document order.
//! The wire structs keep entries in file order too, so the converter pairs the n-th entry
//! with the n-th line: no re-parsing, no searching, and it works however the file is
//! formatted (minified, CRLF, odd indentation).

use memchr::memchr2;

/// Lines of the entries, in document order.
#[derive(Debug, Default)]
pub(super) struct EntryLines {
    /// Lines of the keys of the top-level `packages` object.
    pub(super) packages: Vec<u32>,
    /// Lines of the keys of the top-level `dependencies` object and of every nested
    /// `dependencies` object of its entries, in pre-order.
    pub(super) dependencies: Vec<u32>,
}

/// What the keys of an object mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The top-level object.
    Root,
    /// The top-level `packages` map: its keys are entries.
    Packages,
    /// A v1 `dependencies` map: its keys are entries.
    Dependencies,
    /// A v1 entry: its `dependencies` key opens a nested map.
    Entry,
    /// Anything else.
    Other,
}

/// One open object or array.
#[derive(Debug, Clone, Copy)]
struct Frame {
    role: Role,
    object: bool,
}

/// Scans `text`, which must already have parsed as JSON.
pub(super) fn scan(text: &str) -> EntryLines {
    let bytes = text.as_bytes();
    let mut lines = EntryLines::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line: u32 = 1;
    let mut expecting_key = false;
    let mut next_role = Role::Root;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'\n' => line = line.saturating_add(1),
            b'{' => {
                stack.push(Frame {
                    role: next_role,
                    object: true,
                });
                next_role = Role::Other;
                expecting_key = true;
            }
            b'[' => {
                stack.push(Frame {
                    role: Role::Other,
                    object: false,
                });
                next_role = Role::Other;
            }
            b'}' | b']' => {
                stack.pop();
                next_role = Role::Other;
                expecting_key = false;
            }
            b',' => expecting_key = stack.last().is_some_and(|frame| frame.object),
            b'"' => {
                let start = index + 1;
                let end = string_end(bytes, start);
                if expecting_key && let Some(frame) = stack.last() {
                    next_role = match frame.role {
                        Role::Root => match key_text(text, start, end).as_deref() {
                            Some("packages") => Role::Packages,
                            Some("dependencies") => Role::Dependencies,
                            _ => Role::Other,
                        },
                        Role::Packages => {
                            lines.packages.push(line);
                            Role::Other
                        }
                        Role::Dependencies => {
                            lines.dependencies.push(line);
                            Role::Entry
                        }
                        Role::Entry => match key_text(text, start, end).as_deref() {
                            Some("dependencies") => Role::Dependencies,
                            _ => Role::Other,
                        },
                        Role::Other => Role::Other,
                    };
                    expecting_key = false;
                } else {
                    next_role = Role::Other;
                }
                index = end;
            }
            _ => {}
        }
        index += 1;
    }
    lines
}

/// The index of the closing quote of the string whose content starts at `start` (or the end
/// of the text for an unterminated string).
fn string_end(bytes: &[u8], mut start: usize) -> usize {
    loop {
        let Some(rest) = bytes.get(start..) else {
            return bytes.len();
        };
        match memchr2(b'"', b'\\', rest) {
            Some(offset) if rest[offset] == b'"' => return start + offset,
            // Skip the backslash and the character it escapes.
            Some(offset) => start += offset + 2,
            None => return bytes.len(),
        }
    }
}

/// The decoded text of the key between `start` and `end`; only keys with escapes allocate.
fn key_text(text: &str, start: usize, end: usize) -> Option<std::borrow::Cow<'_, str>> {
    let raw = text.get(start..end)?;
    if raw.contains('\\') {
        let quoted = text.get(start.checked_sub(1)?..=end)?;
        serde_json::from_str::<String>(quoted).ok().map(Into::into)
    } else {
        Some(raw.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_package_keys_in_any_layout() {
        let pretty = "{\n  \"packages\": {\n    \"\": {},\n    \"node_modules/a\": {\n      \"dependencies\": {\"b\": \"1\"}\n    },\n    \"node_modules/b\": {}\n  }\n}\n";
        assert_eq!(scan(pretty).packages, vec![3, 4, 7]);
        let minified = r#"{"packages":{"":{},"node_modules/a":{"x":"}{\"["},"node_modules/b":{}}}"#;
        assert_eq!(scan(minified).packages, vec![1, 1, 1]);
        let crlf = "{\r\n\"name\": \"p\",\r\n\"packages\": {\r\n\"node_modules/a\": {}\r\n}}";
        assert_eq!(scan(crlf).packages, vec![4]);
    }

    #[test]
    fn finds_nested_v1_keys_in_pre_order() {
        let text = "{\n\"dependencies\": {\n\"a\": {\n\"requires\": {\"x\": \"1\"},\n\"dependencies\": {\n\"b\": {}\n}\n},\n\"c\": {}\n}\n}";
        let lines = scan(text);
        assert_eq!(lines.dependencies, vec![3, 6, 9]);
        assert!(lines.packages.is_empty());
    }

    #[test]
    fn escaped_keys_and_values_do_not_confuse_it() {
        let text = "{\"p\\u0061ckages\": {\n\"a\\\"b\": {\"v\": \"\\\\\"}\n,\"c\": 1}}";
        assert_eq!(scan(text).packages, vec![2, 3]);
        assert_eq!(
            scan("{\"dependencies\": [{\"a\": {}}]}").dependencies,
            Vec::<u32>::new()
        );
    }
}
