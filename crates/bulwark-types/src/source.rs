//! Where a resolved package comes from.

use serde::Serialize;

/// The kind of source a package was resolved from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A package registry (the npm registry or a mirror).
    Registry,
    /// A git repository (`git+https://`, `github:user/repo`, `git+ssh://`).
    Git,
    /// A tarball fetched from an arbitrary URL.
    RemoteTarball,
    /// A local tarball or directory (`file:`).
    File,
    /// A symlinked local directory (`link:`, `portal:`).
    Link,
    /// A package of the project's own workspace.
    Workspace,
    /// The manager recorded nothing that tells the source.
    Unknown,
}

impl SourceKind {
    /// True for packages that live in the project itself rather than being downloaded.
    #[must_use]
    pub fn is_local(self) -> bool {
        matches!(self, Self::File | Self::Link | Self::Workspace)
    }

    /// Classifies a resolved specifier or URL the way the package managers write them.
    ///
    /// `registry_like` is returned for `http(s)` URLs that look like registry tarballs
    /// (`/-/name-version.tgz`); other `http(s)` URLs are remote tarballs.
    #[must_use]
    pub fn classify(resolved: &str) -> Self {
        let lower = resolved.trim();
        if lower.starts_with("git+")
            || lower.starts_with("git:")
            || lower.starts_with("github:")
            || lower.starts_with("gitlab:")
            || lower.starts_with("bitbucket:")
            || lower.starts_with("ssh://")
            || lower.starts_with("git@")
            || lower.contains(".git#")
            || lower.ends_with(".git")
        {
            Self::Git
        } else if lower.starts_with("file:") {
            Self::File
        } else if lower.starts_with("link:") || lower.starts_with("portal:") {
            Self::Link
        } else if lower.starts_with("workspace:") {
            Self::Workspace
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            if is_registry_tarball_url(lower) {
                Self::Registry
            } else if lower.contains("codeload.github.com") {
                Self::Git
            } else {
                Self::RemoteTarball
            }
        } else {
            Self::Unknown
        }
    }
}

/// True for URLs of the registry shape `<registry>/<name>/-/<file>.tgz`.
fn is_registry_tarball_url(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.contains("/-/") && (path.ends_with(".tgz") || path.ends_with(".tar.gz"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_specifiers() {
        let cases = [
            (
                "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
                SourceKind::Registry,
            ),
            (
                "https://registry.yarnpkg.com/@babel/core/-/core-7.0.0.tgz#abc",
                SourceKind::Registry,
            ),
            (
                "git+ssh://git@github.com/user/repo.git#deadbeef",
                SourceKind::Git,
            ),
            ("github:user/repo", SourceKind::Git),
            (
                "https://codeload.github.com/user/repo/tar.gz/abc",
                SourceKind::Git,
            ),
            ("https://example.com/pkg.tgz", SourceKind::RemoteTarball),
            ("file:../local", SourceKind::File),
            ("link:../local", SourceKind::Link),
            ("portal:../local", SourceKind::Link),
            ("workspace:packages/a", SourceKind::Workspace),
            ("", SourceKind::Unknown),
        ];
        for (input, expected) in cases {
            assert_eq!(SourceKind::classify(input), expected, "{input}");
        }
    }
}
