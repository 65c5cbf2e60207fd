//! `yarn.lock` of yarn classic (v1) and yarn berry (`__metadata` versions 4 to 10).
//!
//! The two share a file name and nothing else: classic writes its own indentation syntax
//! (`# yarn lockfile v1`), berry writes YAML that starts with `__metadata`. This module tells
//! them apart and dispatches; [`classic`] and [`berry`] read each, and `manifest` reads the
//! `package.json` files beside the lockfile for what the lockfile does not record (importers
//! in classic, dev dependencies of workspaces in berry).

use std::path::Path;

use crate::registry::{file_name, inside_node_modules};
use crate::{ExtractError, Extractor, Input, Lockfile};

mod berry;
mod classic;
mod manifest;
mod syml;

/// Extractor for `yarn.lock`, both classic and berry.
#[derive(Debug, Clone, Copy)]
pub struct YarnLockExtractor;

impl Extractor for YarnLockExtractor {
    fn name(&self) -> &'static str {
        "yarn/lock"
    }
    fn version(&self) -> u32 {
        1
    }
    fn file_required(&self, path: &Path) -> bool {
        file_name(path) == "yarn.lock" && !inside_node_modules(path)
    }
    fn extract(&self, input: &Input<'_>) -> Result<Lockfile, ExtractError> {
        let text = input.text()?;
        match detect(text) {
            Flavor::Classic { header } => {
                let mut lockfile = classic::extract(input.path, text)?;
                if !header {
                    lockfile
                        .warnings
                        .push("no `# yarn lockfile v1` header; read as yarn classic".to_owned());
                }
                Ok(lockfile)
            }
            Flavor::Berry => berry::extract(input.path, text),
        }
    }
}

/// Which yarn wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// yarn 1; `header` tells whether the `# yarn lockfile v1` comment was there.
    Classic { header: bool },
    /// yarn 2 and later.
    Berry,
}

/// Classic files carry a `# yarn lockfile v1` comment; berry files a top-level `__metadata`
/// key, which yarn always writes first. Anything else is handed to the classic parser, which
/// rejects what it cannot read.
fn detect(text: &str) -> Flavor {
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with('#') {
            if line == "# yarn lockfile v1" {
                return Flavor::Classic { header: true };
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line == "__metadata:" || line == "\"__metadata\":" {
            return Flavor::Berry;
        }
        break;
    }
    if text.contains("\n__metadata:") {
        Flavor::Berry
    } else {
        Flavor::Classic { header: false }
    }
}

/// Splits a descriptor `name@range` at the `@` after the name (scoped names start with `@`).
/// Without a range, the range is empty.
fn split_descriptor(descriptor: &str) -> (&str, &str) {
    let search_from = usize::from(descriptor.starts_with('@'));
    match descriptor
        .get(search_from..)
        .and_then(|rest| rest.find('@'))
    {
        Some(at) => (
            &descriptor[..search_from + at],
            &descriptor[search_from + at + 1..],
        ),
        None => (descriptor, ""),
    }
}

/// The real name an `npm:` alias range points at (`npm:strip-ansi@^6` gives `strip-ansi`), or
/// `None` when the range is not an alias (`npm:^1.0.0`).
fn alias_target(range: &str) -> Option<&str> {
    let rest = range.strip_prefix("npm:")?;
    let (name, _) = split_descriptor(rest);
    let has_range = rest.len() > name.len();
    let scoped = name.starts_with('@') && name.contains('/');
    (!name.is_empty() && (has_range || scoped)).then_some(name)
}

/// Decodes `%XX` escapes (yarn encodes descriptors nested in other descriptors this way).
/// Invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = text.get(index + 1..index + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Collects dependencies that resolve to no entry and reports them as one warning.
#[derive(Debug, Default)]
struct Unresolved {
    count: usize,
    examples: Vec<String>,
}

impl Unresolved {
    const EXAMPLES: usize = 5;

    fn add(&mut self, from: &str, name: &str, range: &str) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples
                .push(format!("`{name}@{range}` (from {from})"));
        }
    }

    fn into_warning(self) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} dependencies resolve to no lockfile entry, e.g. {}",
                self.count,
                self.examples.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::registry::EXTRACTORS;

    #[test]
    fn file_required() {
        let cases = [
            ("yarn.lock", true),
            ("project/yarn.lock", true),
            ("/abs/project/yarn.lock", true),
            ("project/yarn.lock.bak", false),
            ("project/yarn.lockb", false),
            ("project/Yarn.lock", false),
            ("project/yarn-lock", false),
            ("project/yarn.lock/", true),
            ("project/node_modules/pkg/yarn.lock", false),
            ("project/.yarn/yarn.lock.orig", false),
            ("project/package-lock.json", false),
        ];
        for (path, expected) in cases {
            assert_eq!(
                YarnLockExtractor.file_required(&PathBuf::from(path)),
                expected,
                "{path}"
            );
        }
        assert!(EXTRACTORS.iter().any(|e| e.name() == "yarn/lock"));
    }

    #[test]
    fn detects_flavor() {
        let cases = [
            (
                "# yarn lockfile v1\n\na@^1:\n  version \"1\"\n",
                Flavor::Classic { header: true },
            ),
            ("# comment\n\n__metadata:\n  version: 8\n", Flavor::Berry),
            ("\"__metadata\":\n  version: 8\n", Flavor::Berry),
            (
                "a@^1:\n  version \"1\"\n",
                Flavor::Classic { header: false },
            ),
            ("", Flavor::Classic { header: false }),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(text), expected, "{text:?}");
        }
    }

    #[test]
    fn descriptors_split_after_scope() {
        let cases = [
            ("a@^1.0.0", ("a", "^1.0.0")),
            ("@s/a@npm:^1", ("@s/a", "npm:^1")),
            ("strip@npm:strip-ansi@6", ("strip", "npm:strip-ansi@6")),
            ("a", ("a", "")),
            ("@s/a", ("@s/a", "")),
            ("@", ("@", "")),
            ("", ("", "")),
        ];
        for (input, expected) in cases {
            assert_eq!(split_descriptor(input), expected, "{input}");
        }
    }

    #[test]
    fn aliases() {
        let cases = [
            ("npm:strip-ansi@^6", Some("strip-ansi")),
            ("npm:@babel/core@7.24.4", Some("@babel/core")),
            ("npm:latest", None),
            ("npm:@s/a", Some("@s/a")),
            ("npm:^1.0.0", None),
            ("npm:1.0.0", None),
            ("^1.0.0", None),
            ("npm:", None),
        ];
        for (input, expected) in cases {
            assert_eq!(alias_target(input), expected, "{input}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("fsevents@npm%3A2.3.3"), "fsevents@npm:2.3.3");
        assert_eq!(percent_decode("%40babel%2Fcore"), "@babel/core");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(percent_decode("%ff"), "%ff");
    }
}
