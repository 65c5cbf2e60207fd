//! The one rule for turning a path inside a package tarball into a path inside the package.

/// The package-relative path of a tarball entry, or `None` when the entry must be refused.
///
/// npm tarballs put every file under one top directory (usually `package/`, but any name is
/// accepted, as npm does); it is stripped. Backslashes count as separators. Absolute paths,
/// drive letters (`C:`) and any `..` component are refused, so no entry can name a place
/// outside the package; `.` and empty components are dropped. A file at the root of the
/// archive (no top directory) keeps its name.
#[must_use]
pub fn package_tarball_path(raw: &str) -> Option<String> {
    let normalized = raw.replace('\\', "/");
    if normalized.starts_with('/') || normalized.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let mut parts = Vec::new();
    for part in normalized.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            other => parts.push(other),
        }
    }
    match parts.as_slice() {
        [] => None,
        [only] => Some((*only).to_owned()),
        [_top, rest @ ..] => Some(rest.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::package_tarball_path;

    #[test]
    fn strips_the_top_directory() {
        assert_eq!(
            package_tarball_path("package/lib/index.js").as_deref(),
            Some("lib/index.js")
        );
        assert_eq!(
            package_tarball_path("node/./lib//a.js").as_deref(),
            Some("lib/a.js")
        );
        assert_eq!(
            package_tarball_path("package\\bin\\x.js").as_deref(),
            Some("bin/x.js")
        );
        assert_eq!(
            package_tarball_path("README.md").as_deref(),
            Some("README.md")
        );
    }

    #[test]
    fn refuses_escapes() {
        for bad in [
            "",
            "/etc/passwd",
            "C:/x",
            "c:\\x",
            "package/../../x",
            "..",
            "package/lib/../../x",
            "./",
        ] {
            assert_eq!(package_tarball_path(bad), None, "{bad}");
        }
    }
}
