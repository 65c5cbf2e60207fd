//! Persistence artifacts of the 2025-2026 npm worms, derived from the indicator feed.
//!
//! * Workflow files: every `file` indicator under `.github/workflows/` becomes a name pattern
//!   (`<digits>` stands for one or more digits), plus the `shai-hulud*` family the first
//!   worm's workflow belongs to. `discussion.yaml` is a common name, so it must also run on
//!   a self-hosted runner on `discussion` events, as the backdoor does.
//! * `.claude/settings.json` with a `SessionStart` hook whose command runs node or bun.
//! * `.vscode/tasks.json` with a task that runs on `folderOpen`.
//! * Payload hashes: only candidate files are hashed, chosen by name (and size, where the
//!   feed gives one) from the payload hash list; see [`PayloadRules`].

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use bulwark_advisory::{IndicatorFeed, PayloadHash};
use sha2::{Digest as _, Sha256};

/// Largest workflow, settings or tasks file read.
pub const MAX_ARTIFACT_BYTES: u64 = 1 << 20;
/// Largest candidate file hashed.
pub const MAX_HASHED_BYTES: u64 = 64 << 20;

/// File names so common that they are only hashed when the feed gives a size to match.
const COMMON_NAMES: &[&str] = &[
    "index.js",
    "main.js",
    "package.json",
    "index.mjs",
    "index.cjs",
];

/// One workflow file name pattern.
#[derive(Debug, Clone)]
struct WorkflowRule {
    pattern: String,
    campaign: String,
    source: String,
}

/// A size window a candidate must fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SizeRange(u64, u64);

/// Which files are hashed.
#[derive(Debug, Default, Clone)]
pub struct PayloadRules {
    /// Exact base name → size windows (`None`: any size).
    by_name: HashMap<String, Vec<Option<SizeRange>>>,
    /// Base name → the parent directory names it is a candidate in (any size).
    by_dir_name: HashMap<String, Vec<String>>,
    /// Base name suffixes (`-setup.pth` from `<name>-setup.pth`).
    suffixes: Vec<String>,
    /// Lowercase hex SHA-256 → the feed row.
    hashes: HashMap<String, PayloadHash>,
}

/// Everything the artifact checks need, built once from a feed.
#[derive(Debug, Clone)]
pub struct Rules {
    workflows: Vec<WorkflowRule>,
    ide_campaign: Option<(String, String)>,
    /// Which files are hashed and what the hashes mean.
    pub payloads: PayloadRules,
}

impl Rules {
    /// Rules from `feed` (usually [`IndicatorFeed::builtin`] plus user hashes).
    #[must_use]
    pub fn from_feed(feed: &IndicatorFeed) -> Self {
        let mut workflows = Vec::new();
        let mut ide_campaign = None;
        for row in feed.strings.iter().filter(|s| s.kind == "file") {
            for value in row.value.split('|').map(str::trim) {
                if let Some(name) = value.strip_prefix(".github/workflows/") {
                    workflows.push(WorkflowRule {
                        pattern: name.to_owned(),
                        campaign: row.campaign.clone(),
                        source: row.source.clone(),
                    });
                }
            }
            if row.value.contains(".claude/settings.json")
                || row.value.contains(".vscode/tasks.json")
            {
                ide_campaign.get_or_insert((row.campaign.clone(), row.source.clone()));
            }
        }
        // The family of the first worm's workflow (`shai-hulud-workflow.yml`, later renamed).
        if let Some(first) = workflows
            .iter()
            .find(|w| w.pattern.starts_with("shai-hulud"))
            .cloned()
        {
            workflows.push(WorkflowRule {
                pattern: "shai-hulud*".to_owned(),
                ..first
            });
        }
        Self {
            workflows,
            ide_campaign,
            payloads: PayloadRules::from_hashes(&feed.hashes),
        }
    }

    /// The campaign and source of a workflow file named `name`, if it is a worm's; `read`
    /// gives its contents when the name alone is not enough.
    pub(crate) fn workflow(
        &self,
        name: &str,
        read: impl FnOnce() -> Option<String>,
    ) -> Option<(&str, &str)> {
        let rule = self
            .workflows
            .iter()
            .find(|rule| workflow_name_matches(&rule.pattern, name))?;
        if rule.pattern.starts_with("discussion.") {
            let text = read()?;
            if !(text.contains("self-hosted") && text.contains("discussion")) {
                return None;
            }
        }
        Some((&rule.campaign, &rule.source))
    }

    /// The campaign of IDE/agent persistence files.
    pub(crate) fn ide_campaign(&self) -> (Option<String>, Option<String>) {
        match &self.ide_campaign {
            Some((campaign, source)) => (Some(campaign.clone()), Some(source.clone())),
            None => (None, None),
        }
    }
}

/// Whether `name` matches a workflow pattern: literal text, `<digits>` for one or more ASCII
/// digits, and a trailing `*` for any `.yml`/`.yaml` name with that prefix.
fn workflow_name_matches(pattern: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        let lower = name.to_ascii_lowercase();
        return lower.starts_with(prefix) && (lower.ends_with(".yml") || lower.ends_with(".yaml"));
    }
    match pattern.split_once("<digits>") {
        Some((before, after)) => name
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())),
        None => pattern == name,
    }
}

/// The commands of `SessionStart` hooks that run node or bun, from a Claude Code
/// `settings.json` (`{"hooks": {"SessionStart": [{"hooks": [{"command": …}]}]}}`).
#[must_use]
pub fn claude_session_start_commands(json: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let mut commands = Vec::new();
    let groups = value
        .get("hooks")
        .and_then(|h| h.get("SessionStart"))
        .and_then(|s| s.as_array());
    for group in groups.into_iter().flatten() {
        let hooks = group.get("hooks").and_then(|h| h.as_array());
        for hook in hooks.into_iter().flatten() {
            if let Some(command) = hook.get("command").and_then(|c| c.as_str())
                && runs_node_or_bun(command)
            {
                commands.push(command.to_owned());
            }
        }
    }
    commands
}

fn runs_node_or_bun(command: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | '"' | '\''))
        .filter_map(|word| word.rsplit('/').next())
        .any(|program| {
            matches!(
                program,
                "node" | "nodejs" | "bun" | "bunx" | "node.exe" | "bun.exe"
            )
        })
}

/// Whether a VS Code `tasks.json` (JSON with comments) has a task with
/// `"runOptions": {"runOn": "folderOpen"}`. Read as text: the file need not be valid JSON.
#[must_use]
pub fn vscode_folder_open_task(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("runOn") {
        rest = &rest[at + 5..];
        let value = rest
            .trim_start_matches(|c: char| c == '"' || c == '\'' || c == ':' || c.is_whitespace());
        if value.starts_with("folderOpen") {
            return true;
        }
    }
    false
}

impl PayloadRules {
    fn from_hashes(hashes: &[PayloadHash]) -> Self {
        let mut rules = Self::default();
        for row in hashes {
            rules
                .hashes
                .insert(row.sha256.to_ascii_lowercase(), row.clone());
            let size = size_hint(&row.note).or_else(|| size_hint(&row.file));
            for token in file_tokens(&row.file) {
                if let Some((dirs, name)) = token.rsplit_once('/') {
                    let entry = rules.by_dir_name.entry(name.to_owned()).or_default();
                    entry.extend(dirs.split('|').map(str::to_owned));
                } else if let Some(suffix) = token
                    .strip_prefix('<')
                    .and_then(|t| t.split_once('>'))
                    .map(|(_, s)| s)
                {
                    rules.suffixes.push(suffix.to_owned());
                } else if token.contains('|') {
                    // `.claude|.vscode setup.mjs`: the directories of the next token.
                } else {
                    rules.by_name.entry(token).or_default().push(size);
                }
            }
        }
        // A common name is only a candidate in its size windows; a distinctive one always.
        rules.by_name.retain(|name, sizes| {
            if COMMON_NAMES.contains(&name.as_str()) {
                sizes.retain(Option::is_some);
                !sizes.is_empty()
            } else {
                sizes.clear();
                sizes.push(None);
                true
            }
        });
        rules
    }

    /// Whether the file `name` in directory `parent` is a candidate by name alone (its size
    /// may still be checked with [`Self::wants_size`]).
    #[must_use]
    pub fn wants_name(&self, parent: &str, name: &str) -> bool {
        self.by_name.contains_key(name)
            || self.in_dir(parent, name)
            || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
    }

    /// Whether a candidate of `size` bytes is hashed.
    #[must_use]
    pub fn wants_size(&self, parent: &str, name: &str, size: u64) -> bool {
        if size > MAX_HASHED_BYTES {
            return false;
        }
        if self.in_dir(parent, name) || self.suffixes.iter().any(|s| name.ends_with(s.as_str())) {
            return true;
        }
        self.by_name.get(name).is_some_and(|sizes| {
            sizes
                .iter()
                .any(|range| range.is_none_or(|SizeRange(min, max)| (min..=max).contains(&size)))
        })
    }

    fn in_dir(&self, parent: &str, name: &str) -> bool {
        self.by_dir_name
            .get(name)
            .is_some_and(|dirs| dirs.iter().any(|dir| dir == parent))
    }

    /// The feed row of a SHA-256 (lowercase hex).
    #[must_use]
    pub fn lookup(&self, sha256: &str) -> Option<&PayloadHash> {
        self.hashes.get(sha256)
    }
}

/// SHA-256 of a file, streamed (lowercase hex).
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?.take(MAX_HASHED_BYTES);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// File-name-like tokens of a hash row's `file` column: `bundle.js`, `.claude/settings.json`,
/// `<name>-setup.pth`, `ld.py` from `stage2 Linux python (ld.py)`; `.claude|.vscode setup.mjs`
/// becomes `.claude|.vscode/setup.mjs`.
fn file_tokens(file: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut pending_dirs: Option<String> = None;
    for word in file.split_whitespace() {
        let word = word.trim_matches(|c| c == '(' || c == ')' || c == ',');
        if word.contains('|') && !word.contains('.') || word.starts_with('.') && word.contains('|')
        {
            pending_dirs = Some(word.to_owned());
            continue;
        }
        let is_file = !word.contains('@')
            && word.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty()
                    && !ext.is_empty()
                    && ext.len() <= 5
                    && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/<>|".contains(&b));
        if is_file {
            match pending_dirs.take() {
                Some(dirs) => tokens.push(format!("{dirs}/{word}")),
                None => tokens.push(word.to_owned()),
            }
        }
    }
    tokens
}

/// A size from a note (`~3.6MB`, `498KB`, `157 bytes`, `727,680 bytes`): exact byte counts
/// give an exact window, approximate ones ±50%.
fn size_hint(text: &str) -> Option<SizeRange> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b',')
        {
            i += 1;
        }
        let number: f64 = text[start..i].replace(',', "").parse().ok()?;
        let unit = text[i..].trim_start();
        let (scale, exact) = if unit.starts_with("bytes") {
            (1.0, true)
        } else if unit.starts_with("KB") {
            (1024.0, false)
        } else if unit.starts_with("MB") {
            (1024.0 * 1024.0, false)
        } else {
            continue;
        };
        let size = number * scale;
        // Sizes are small positive numbers here; the casts cannot lose anything that matters.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some(if exact {
            SizeRange(size as u64, size as u64)
        } else {
            SizeRange((size * 0.5) as u64, (size * 1.5) as u64)
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_names_come_from_the_indicators() {
        let rules = Rules::from_feed(IndicatorFeed::builtin());
        let no_read = || -> Option<String> { panic!("not read for a distinctive name") };
        assert!(rules.workflow("shai-hulud-workflow.yml", no_read).is_some());
        assert!(rules.workflow("shai-hulud.yaml", no_read).is_some());
        assert!(rules.workflow("formatter_123456789.yml", no_read).is_some());
        assert!(rules.workflow("formatter_.yml", || None).is_none());
        assert!(rules.workflow("formatter_12a.yml", || None).is_none());
        assert!(rules.workflow("ci.yml", || None).is_none());
        let backdoor = "on:\n  discussion:\njobs:\n  x:\n    runs-on: self-hosted\n";
        assert!(
            rules
                .workflow("discussion.yaml", || Some(backdoor.to_owned()))
                .is_some()
        );
        assert!(
            rules
                .workflow("discussion.yaml", || Some(
                    "on: discussion\nruns-on: ubuntu-latest".to_owned()
                ))
                .is_none()
        );
        let (campaign, _) = rules.workflow("formatter_1.yml", no_read).unwrap();
        assert!(campaign.contains("Sha1-Hulud 2.0"), "{campaign}");
    }

    #[test]
    fn claude_hooks() {
        let bad = br#"{"hooks":{"SessionStart":[{"matcher":"*","hooks":[{"type":"command","command":"node .claude/setup.mjs"}]}]}}"#;
        assert_eq!(
            claude_session_start_commands(bad),
            vec!["node .claude/setup.mjs"]
        );
        let bun = br#"{"hooks":{"SessionStart":[{"hooks":[{"command":"cd x && /usr/bin/bun run index.js"}]}]}}"#;
        assert_eq!(claude_session_start_commands(bun).len(), 1);
        for fine in [
            br#"{"hooks":{"SessionStart":[{"hooks":[{"command":"echo nodejs-free"}]}]}}"#
                .as_slice(),
            br#"{"hooks":{"PreToolUse":[{"hooks":[{"command":"node x.js"}]}]}}"#,
            br#"{"permissions":{}}"#,
            br#"not json"#,
            br#"{"hooks":{"SessionStart":"node x"}}"#,
        ] {
            assert!(claude_session_start_commands(fine).is_empty());
        }
    }

    #[test]
    fn vscode_tasks() {
        assert!(vscode_folder_open_task(
            "{ // c\n \"tasks\": [{\"runOptions\": {\"runOn\" : \"folderOpen\"},}]}"
        ));
        assert!(!vscode_folder_open_task(
            "{\"tasks\": [{\"runOptions\": {\"runOn\": \"default\"}}]}"
        ));
        assert!(!vscode_folder_open_task("runOn"));
    }

    #[test]
    fn payload_candidates_by_name_and_size() {
        let rules = Rules::from_feed(IndicatorFeed::builtin()).payloads;
        assert!(rules.wants_name("x", "setup_bun.js"));
        assert!(rules.wants_size("x", "setup_bun.js", 10));
        assert!(rules.wants_name(".claude", "settings.json"));
        assert!(!rules.wants_name("config", "settings.json"));
        assert!(rules.wants_name("site-packages", "evil-setup.pth"));
        assert!(rules.wants_name(".vscode", "setup.mjs"));
        assert!(rules.wants_name("dist", "ld.py"));
        // Common names only in the feed's size windows.
        assert!(rules.wants_name("lib", "index.js"));
        assert!(!rules.wants_size("lib", "index.js", 2_000));
        assert!(rules.wants_size("lib", "index.js", 500 * 1024));
        assert!(!rules.wants_name("lib", "package.json"));
        // A distinctive name is hashed at any size: one binding.gyp row has no size.
        assert!(rules.wants_size("pkg", "binding.gyp", 157));
        assert!(rules.wants_size("pkg", "binding.gyp", 4_000));
        assert!(!rules.wants_name("lib", "util.js"));
        assert_eq!(
            size_hint("~3.6MB webpack"),
            Some(SizeRange(1_887_436, 5_662_310))
        );
        assert_eq!(
            size_hint("727,680 bytes"),
            Some(SizeRange(727_680, 727_680))
        );
        assert_eq!(size_hint("stage2"), None);
        assert_eq!(
            rules
                .lookup("de0e25a3e6c1e1e5998b306b7141b3dc4c0088da9d7bb47c1c00c91e6e4f85d6")
                .map(|h| h.file.as_str()),
            Some("bundle.js")
        );
    }
}
