//! Matching of one path segment against a workspace glob segment (`*` any run, `?` one
//! byte), shared by the extractors that expand `workspaces` globs (yarn classic and installed
//! trees). Linear in the input: no backtracking blow-up on hostile patterns.

/// Whether `name` matches the glob segment `pattern`.
pub(crate) fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_within_a_segment() {
        let cases = [
            ("*", "abc", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a?c", "abc", true),
            ("a*d", "abc", false),
            ("*b*", "abc", true),
            ("pkg-*", "pkg-", true),
            ("babel-*", "babel-core", true),
            ("babel-*", "core", false),
            ("", "", true),
            ("", "a", false),
            ("a*a*a*a*b", &"a".repeat(5000), false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                segment_matches(pattern.as_bytes(), name.as_bytes()),
                expected,
                "{pattern} vs {name}"
            );
        }
    }
}
