//! Byte-level comparisons of files: totals, executable-binary magic, and code prepended to an
//! entry file (the "inject at the top of `index.js`" pattern of many compromised releases).

use bulwark_analysis::PackageFiles;
use std::collections::BTreeMap;

use crate::FileTotals;

/// A prepended line at least this long is a blob, not hand-written code.
pub(crate) const BLOB_LINE_CHARS: usize = 1000;
/// Only files up to this size are compared line by line.
const MAX_COMPARED_BYTES: usize = 16 * 1024 * 1024;
/// The insertion must start within this many lines of the top.
const TOP_LINES: usize = 3;

pub(crate) fn totals(old: &PackageFiles, new: &PackageFiles) -> FileTotals {
    let old_files: BTreeMap<&str, &[u8]> = old
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.bytes.as_slice()))
        .collect();
    let mut totals = FileTotals::default();
    for file in &new.files {
        match old_files.get(file.path.as_str()) {
            None => totals.added += 1,
            Some(bytes) if *bytes == file.bytes.as_slice() => totals.unchanged += 1,
            Some(_) => totals.changed += 1,
        }
    }
    totals.removed = old
        .files
        .iter()
        .filter(|f| new.get(&f.path).is_none())
        .count();
    totals
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The executable format named by a file's magic bytes.
pub(crate) fn binary_format(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x7f, b'E', b'L', b'F', ..] => Some("ELF"),
        [b'M', b'Z', ..] if bytes.len() >= 64 && pe_signature(bytes) => Some("PE"),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => Some("Mach-O"),
        // Fat Mach-O shares its magic with Java class files; a fat header's architecture count
        // is small, a class file's version is not.
        [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, count, ..] if *count > 0 && *count < 20 => Some("Mach-O"),
        _ => None,
    }
}

fn pe_signature(bytes: &[u8]) -> bool {
    let Some(offset) = bytes
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    bytes.get(offset..offset.saturating_add(4)) == Some(b"PE\0\0")
}

/// Code inserted at the top of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepended {
    /// Inserted bytes.
    pub(crate) bytes: usize,
    /// Inserted lines.
    pub(crate) lines: u32,
    /// Longest inserted line, in characters.
    pub(crate) longest_line: usize,
    /// The start of the insertion, for people.
    pub(crate) excerpt: String,
}

/// When `new` is `old` with code inserted within its first few lines (after a shebang or
/// `'use strict'`), returns what was inserted. Blank or comment-only insertions do not count.
pub(crate) fn prepended(old: &[u8], new: &[u8]) -> Option<Prepended> {
    if old == new || old.len() > MAX_COMPARED_BYTES || new.len() > MAX_COMPARED_BYTES {
        return None;
    }
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let common = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    if common > TOP_LINES {
        return None;
    }
    // The old file's rest must reappear intact after the insertion.
    let rest = &old_lines[common..];
    let anchor = rest.iter().find(|line| !line.trim().is_empty())?;
    let skip = rest
        .iter()
        .take_while(|line| line.trim().is_empty())
        .count();
    let rest = &rest[skip..];
    for start in common..new_lines.len() {
        if new_lines[start] != *anchor {
            continue;
        }
        let tail = &new_lines[start..];
        if tail.len() < rest.len() || tail[..rest.len()] != *rest {
            continue;
        }
        let inserted = &new_lines[common..start];
        let code: Vec<&&str> = inserted
            .iter()
            .filter(|line| {
                let line = line.trim();
                !line.is_empty()
                    && !line.starts_with("//")
                    && !line.starts_with("/*")
                    && !line.starts_with('*')
            })
            .collect();
        if code.is_empty() {
            return None;
        }
        let bytes: usize = inserted.iter().map(|line| line.len() + 1).sum();
        let longest_line = inserted
            .iter()
            .map(|line| line.chars().count())
            .max()
            .unwrap_or(0);
        let excerpt: String = code
            .first()
            .map(|line| line.trim().chars().take(160).collect())
            .unwrap_or_default();
        return Some(Prepended {
            bytes,
            lines: u32::try_from(common + inserted.len()).unwrap_or(u32::MAX),
            longest_line,
            excerpt,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_prepended_code_only() {
        let old = b"'use strict';\nmodule.exports = 1;\n";
        let new = b"'use strict';\nrequire('child_process').exec('x');\nmodule.exports = 1;\n";
        let found = prepended(old, new).expect("prepended");
        assert_eq!(found.lines, 2);
        assert!(found.excerpt.contains("child_process"));
        // Code appended at the end, or a change in the middle, is not a prepend.
        assert!(prepended(old, b"'use strict';\nmodule.exports = 1;\nfoo();\n").is_none());
        assert!(prepended(old, b"'use strict';\nmodule.exports = 2;\n").is_none());
        // A new comment header is not code.
        assert!(prepended(old, b"// v2\n'use strict';\nmodule.exports = 1;\n").is_none());
        assert!(prepended(b"", b"x").is_none());
    }

    #[test]
    fn binary_magic() {
        assert_eq!(binary_format(b"\x7fELF\x02"), Some("ELF"));
        assert_eq!(binary_format(b"\xcf\xfa\xed\xfe...."), Some("Mach-O"));
        assert_eq!(
            binary_format(b"\xca\xfe\xba\xbe\x00\x00\x00\x34"),
            None,
            "java class"
        );
        assert_eq!(binary_format(b"MZ but short"), None);
        let mut pe = vec![0u8; 0x90];
        pe[0] = b'M';
        pe[1] = b'Z';
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(binary_format(&pe), Some("PE"));
    }
}
