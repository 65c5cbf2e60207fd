//! Package-name patterns of allow and deny entries: an exact name (`lodash`), a scope
//! (`@types/*`) or a glob where `*` matches any run of characters and `?` one character
//! (`eslint-plugin-*`, `@babel/plugin-*`).

use std::fmt;

/// A validated package-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    text: String,
    glob: bool,
}

impl NamePattern {
    /// Parses a pattern.
    ///
    /// # Errors
    /// A message for empty patterns, upper-case or characters npm names never contain, a
    /// scope without a name part, and globs with `**` or brackets.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty package name".to_owned());
        }
        if text.len() > 214 {
            return Err(format!("`{text}` is longer than npm's 214-character limit"));
        }
        if let Some(bad) = text.chars().find(|&c| {
            !(c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, '-' | '.' | '_' | '~' | '@' | '/' | '*' | '?' | '!')
                || c.is_ascii_uppercase())
        }) {
            return Err(format!(
                "invalid glob `{text}`: `{bad}` never appears in an npm package name (globs support `*` and `?`)"
            ));
        }
        if text.contains("**") {
            return Err(format!(
                "invalid glob `{text}`: `**` is not supported, `*` already matches `/`"
            ));
        }
        if let Some(scoped) = text.strip_prefix('@') {
            match scoped.split_once('/') {
                Some((scope, name)) if !scope.is_empty() && !name.is_empty() => {}
                _ => {
                    return Err(format!(
                        "invalid name `{text}`: a scoped name is `@scope/name` (or `@scope/*`)"
                    ));
                }
            }
        } else if text.contains('@') {
            return Err(format!(
                "invalid name `{text}`: put the version in `version`, not after `@`"
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            glob: text.contains(['*', '?']),
        })
    }

    /// True when `name` matches (npm names compare case-sensitively; legacy names such as
    /// `JSONStream` keep their case).
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        if self.glob {
            glob_match(self.text.as_bytes(), name.as_bytes())
        } else {
            self.text == name
        }
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Iterative wildcard match with one backtrack point (linear in practice).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_and_fail() {
        let pass = [
            ("lodash", "lodash"),
            ("@types/*", "@types/node"),
            ("eslint-plugin-*", "eslint-plugin-react"),
            ("@babel/plugin-*", "@babel/plugin-transform-runtime"),
            ("*", "@scope/anything"),
            ("is-?dd", "is-odd"),
            ("JSONStream", "JSONStream"),
        ];
        for (pattern, name) in pass {
            assert!(
                NamePattern::parse(pattern).unwrap().matches(name),
                "{pattern} {name}"
            );
        }
        let fail = [
            ("lodash", "lodash-es"),
            ("@types/*", "@typescript-eslint/parser"),
            ("@types/*", "types"),
            ("eslint-plugin-*", "eslint"),
            ("is-?dd", "is-oddd"),
            ("jsonstream", "JSONStream"),
        ];
        for (pattern, name) in fail {
            assert!(
                !NamePattern::parse(pattern).unwrap().matches(name),
                "{pattern} {name}"
            );
        }
    }

    #[test]
    fn invalid_patterns_are_explained() {
        for bad in [
            "", "@types", "@/x", "lodash@4", "a[bc]", "a**", "a b", "{a,b}",
        ] {
            let error = NamePattern::parse(bad).unwrap_err();
            assert!(!error.is_empty(), "{bad}");
        }
        assert!(
            NamePattern::parse("a[b]")
                .unwrap_err()
                .contains("invalid glob")
        );
    }
}
