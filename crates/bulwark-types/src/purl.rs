//! Package URLs (`pkg:npm/...`) as CycloneDX and OSV use them.

/// Builds the purl of an npm package: `pkg:npm/%40scope/name@version`.
///
/// The scope's `@` is percent-encoded as the purl spec requires; other characters that npm
/// allows in names need no encoding.
#[must_use]
pub fn npm_purl(name: &str, version: &str) -> String {
    let name = name
        .strip_prefix('@')
        .map_or_else(|| name.to_owned(), |rest| format!("%40{rest}"));
    let version = version.replace('+', "%2B");
    format!("pkg:npm/{name}@{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_scope() {
        assert_eq!(npm_purl("lodash", "4.17.21"), "pkg:npm/lodash@4.17.21");
        assert_eq!(
            npm_purl("@babel/core", "7.0.0"),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(npm_purl("x", "1.0.0+build"), "pkg:npm/x@1.0.0%2Bbuild");
    }
}
