use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{text_contains, values, values_haystack};

/// Cheap per-value gate before the command checks.
static NEEDLES: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new([
            "npm publish",
            "npm whoami",
            "npm token",
            "/-/whoami",
            "/-/npm/v1/tokens",
            "package.tgz",
            "npm pack",
            "package/package.json",
        ])
        .ok()
    });

declare_rule! {
    /// ### What it does
    /// Finds package code that publishes to npm or checks whose npm token it holds: `npm publish`,
    /// `npm whoami`, `npm token`, the registry's `/-/whoami` and `/-/npm/v1/tokens` endpoints,
    /// and code that bumps a `package.json` version and repacks a tarball in the same file.
    ///
    /// ### Why is this bad?
    /// Self-propagating worms (Shai-Hulud 1 and 2) use a stolen npm token to inject themselves
    /// into every package the victim maintains and publish new patch versions. Publishing from
    /// the code of a *dependency* has no benign reason; release tools are dev-only.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// execSync('npm publish --access public', { cwd: tmp });
    /// ```
    /// Correct:
    /// ```js
    /// console.log('run `npm publish` to release');
    /// ```
    NpmSelfPublish, "npm-self-publish", Propagation,
    tokens = &["child_process", "exec", "spawn", "fork", "process", "http", "fetch"]
}

impl Rule for NpmSelfPublish {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike)
            || !text_contains(file.text, "npm") && !text_contains(file.text, "whoami")
        {
            return;
        }
        let file_values = values(file);
        for call in file.process_calls() {
            let command: String = call
                .arguments
                .iter()
                .filter_map(|argument| argument.constant.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            if command.contains("npm publish")
                || command.contains("npm whoami")
                || command.contains("npm token")
            {
                out.push(file.finding(
                    &Self::META,
                    Severity::High,
                    Confidence::High,
                    Some(call.offset as usize),
                    "runs npm publishing/token commands from package code".to_owned(),
                    None,
                ));
                return;
            }
        }
        let Some(automaton) = NEEDLES.as_ref() else {
            return;
        };
        // No value holds a needle when their haystack does not.
        if !automaton.is_match(values_haystack(file)) {
            return;
        }
        let file_values: Vec<_> = file_values
            .iter()
            .filter(|value| automaton.is_match(value.text))
            .collect();
        let repacks = file_values.iter().any(|value| {
            value.text.contains("package.tgz")
                || value.text.contains("npm pack")
                || value.text.contains("package/package.json")
        });
        for value in &file_values {
            if value.text.len() > 2000 {
                continue;
            }
            let text = value.text;
            let graded = if looks_like_command(text, "npm publish") {
                Some((
                    if repacks {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    "publishes to npm from package code",
                ))
            } else if looks_like_command(text, "npm whoami") || text.contains("/-/whoami") {
                Some((Severity::Medium, "checks whose npm token is available"))
            } else if looks_like_command(text, "npm token") || text.contains("/-/npm/v1/tokens") {
                Some((Severity::Medium, "lists or creates npm tokens"))
            } else {
                None
            };
            if let Some((severity, message)) = graded {
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::Medium,
                    Some(value.offset),
                    message.to_owned(),
                    None,
                ));
            }
        }
    }
}

/// `command` at the start of the value or after a shell separator (so prose is not a command).
fn looks_like_command(text: &str, command: &str) -> bool {
    let trimmed = text.trim_start();
    trimmed.starts_with(command)
        || text.contains(&format!("&& {command}"))
        || text.contains(&format!("; {command}"))
        || text.contains(&format!("$({command}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        let pass = vec![
            "console.log('Please run the release script, then publish with care');".into(),
            "const msg = 'Did you forget to run npm publish?';".into(),
        ];
        let fail = vec![
            "execSync('npm publish --access public', { cwd: tmp });".into(),
            "const who = execSync('npm whoami').toString();".into(),
            "fetch(registry + '/-/whoami', { headers: { authorization: 'Bearer ' + token } });"
                .into(),
            "execSync('tar -czf package.tgz package && npm publish package.tgz');".into(),
        ];
        test_rule(NpmSelfPublish::META.name, pass, fail);
    }
}
