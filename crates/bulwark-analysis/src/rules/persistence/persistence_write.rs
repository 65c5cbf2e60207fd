use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{ValueNeedles, has_call, is_process_call, values, values_may_contain};

/// Targets that run code on the next push, folder open or agent session: high when written.
const CODE_TRIGGERS: &[&str] = &[
    ".github/workflows",
    ".claude/settings.json",
    ".vscode/tasks.json",
    "authorized_keys",
    ".cursor/rules",
    ".cursor/mcp.json",
];

/// (needle, what); matched as path segments in string values with `\` normalised to `/`.
const TARGETS: &[(&str, &str)] = &[
    (".github/workflows", "GitHub Actions workflows"),
    (
        ".claude/settings.json",
        "Claude Code settings (hooks run commands)",
    ),
    (".claude/", "Claude Code configuration"),
    (".vscode/tasks.json", "VS Code tasks (run on folder open)"),
    (".cursor/", "Cursor configuration"),
    (".bashrc", "the bash startup file"),
    (".zshrc", "the zsh startup file"),
    (".bash_profile", "the bash login file"),
    (".profile", "the shell login file"),
    ("crontab", "cron"),
    ("/etc/cron", "cron"),
    ("systemd/system", "systemd units"),
    (".config/systemd/user", "systemd user units"),
    ("authorized_keys", "SSH authorized keys"),
    ("library/launchagents", "macOS launch agents"),
    ("currentversion/run", "the Windows Run registry key"),
    ("start menu/programs/startup", "the Windows startup folder"),
    (".git/hooks/", "git hooks"),
];

/// Directory names that are only a target when they are a whole path segment value.
const EXACT_TARGETS: &[(&str, &str)] = &[
    (".claude", "Claude Code configuration"),
    (".cursor", "Cursor configuration"),
    (".bashrc", "the bash startup file"),
    (".zshrc", "the zsh startup file"),
    ("authorized_keys", "SSH authorized keys"),
];

/// `needle` occurs as a path segment: after start, `/`, `~` or a quote, and (for names) before
/// the end, `/` or a quote. `application/vnd.x.profile` is not `~/.profile`.
fn segment_match(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(index, _)| {
        let before = text[..index].chars().next_back();
        let after = text[index + needle.len()..].chars().next();
        let before_ok =
            before.is_none_or(|character| matches!(character, '/' | '~' | '"' | '\'' | ' ' | '\\'));
        let after_ok = needle.ends_with('/')
            || after
                .is_none_or(|character| matches!(character, '/' | '"' | '\'' | ' ' | '.' | '\n'));
        before_ok && after_ok
    })
}

/// The needles of [`TARGET_PREFILTER`] but the backslash.
pub(crate) fn target_needles() -> Vec<&'static str> {
    TARGETS
        .iter()
        .chain(EXACT_TARGETS)
        .map(|(needle, _)| *needle)
        .collect()
}

/// Cheap whole-file gate before the per-value checks.
static TARGET_PREFILTER: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        let mut needles = target_needles();
        needles.push("\\");
        crate::rules::matcher(&needles)
    });

fn writes(callee: &str) -> bool {
    let method = callee.rsplit('.').next().unwrap_or_default();
    callee.starts_with("fs.")
        && (method.starts_with("write")
            || method.starts_with("append")
            || method.starts_with("copy")
            || method == "createWriteStream"
            || method.starts_with("rename"))
}

declare_rule! {
    /// ### What it does
    /// Finds package code that names persistence locations — `.github/workflows`,
    /// `.claude/settings.json`, `.vscode/tasks.json`, `.cursor/`, shell rc files, cron, systemd
    /// units, `authorized_keys`, launch agents, the Windows Run key — in a file that also writes
    /// files or runs commands (high), or just names them (low).
    ///
    /// ### Why is this bad?
    /// Worms keep access by planting workflows, editor tasks and AI-agent hooks that run on the
    /// next open or push, or by appending to shell start-up files and `authorized_keys`.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// fs.writeFileSync('.github/workflows/discussion.yaml', workflow);
    /// ```
    /// Correct:
    /// ```js
    /// const docs = 'see .github/workflows in your repository';
    /// ```
    PersistenceWrite, "persistence-write", Persistence,
    tokens = &["writeFile", "homedir", "os.", "child_process", "exec", "spawn", "fork", "process"]
}

impl Rule for PersistenceWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike) {
            return;
        }
        // A value is reported only when, with `\` turned into `/`, it holds a target: none does
        // when no spelling of a target is in their haystack.
        if !values_may_contain(file, ValueNeedles::PersistenceTargets) {
            return;
        }
        let acts = file.kind == FileKind::ShellLike
            || has_call(file, |callee| writes(callee) || is_process_call(callee));
        for value in values(file) {
            if value.text.len() > 1000
                || !TARGET_PREFILTER
                    .as_ref()
                    .is_none_or(|automaton| automaton.is_match(value.text))
            {
                continue;
            }
            let normalized = value.text.replace('\\', "/").to_ascii_lowercase();
            let exact = EXACT_TARGETS
                .iter()
                .find(|(needle, _)| normalized == *needle);
            if let Some((needle, what)) = exact.or_else(|| {
                TARGETS
                    .iter()
                    .find(|(needle, _)| segment_match(&normalized, needle))
            }) {
                // Prose and globs mentioning a path are not writes.
                if normalized.contains(' ')
                    && !normalized.contains("echo")
                    && !normalized.contains(">>")
                    || normalized.contains('*')
                {
                    continue;
                }
                let (severity, confidence) = match (acts, CODE_TRIGGERS.contains(needle)) {
                    (true, true) => (Severity::High, Confidence::Medium),
                    (true, false) => (Severity::Medium, Confidence::Medium),
                    (false, _) => (Severity::Low, Confidence::Low),
                };
                out.push(file.finding(
                    &Self::META,
                    severity,
                    confidence,
                    Some(value.offset),
                    format!("writes to {what} (`{needle}`)"),
                    None,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        let pass = vec![
            "const docs = 'see .github/workflows in your repository';".into(),
            "const fs = require('fs'); const types = {'application/vnd.evolv.ecig.profile': 1}; fs.writeFileSync('x', '');".into(),
            "const files = glob('.github/workflows/*.yml');".into(),
        ];
        let fail = vec![
            "const fs = require('fs'); fs.writeFileSync('.github/workflows/discussion.yaml', wf);".into(),
            "const fs = require('fs'); fs.appendFileSync(require('os').homedir() + '/.bashrc', line);".into(),
            "const fs = require('fs'); fs.writeFileSync(require('path').join(dir, '.claude', 'settings.json'), hooks);".into(),
            "const fs = require('fs'); fs.appendFileSync('/root/.ssh/authorized_keys', key);".into(),
        ];
        test_rule(PersistenceWrite::META.name, pass, fail);
    }
}
