//! Byte offsets to line numbers, and finding where a key is defined in a lockfile, so every
//! package can point at its source line (for SARIF, code frames and humans).

use memchr::memchr_iter;

/// Maps byte offsets of one file to 1-based line numbers.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    #[must_use]
    pub fn new(text: &[u8]) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr_iter(b'\n', text).map(|i| i + 1));
        Self { starts }
    }

    /// The 1-based line of a byte offset.
    #[must_use]
    pub fn line_of(&self, offset: usize) -> u32 {
        let line = self.starts.partition_point(|&start| start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    /// Iterates `(1-based line number, line text)` over `text` (which must be what was indexed).
    pub fn lines<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (u32, &'a str)> + 'a {
        self.starts.iter().enumerate().map(move |(i, &start)| {
            let end = self.starts.get(i + 1).map_or(text.len(), |&next| next - 1);
            let line = text.get(start..end.max(start)).unwrap_or("");
            (
                u32::try_from(i + 1).unwrap_or(u32::MAX),
                line.trim_end_matches('\r'),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_to_lines() {
        let text = "a\nbc\n\nd";
        let index = LineIndex::new(text.as_bytes());
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(2), 2);
        assert_eq!(index.line_of(5), 3);
        assert_eq!(index.line_of(6), 4);
        let lines: Vec<_> = index.lines(text).collect();
        assert_eq!(lines, vec![(1, "a"), (2, "bc"), (3, ""), (4, "d")]);
    }
}
