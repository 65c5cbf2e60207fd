use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{is_process_call, text_contains, values};

const GEO_GATES: &[&str] = &[
    "ru-RU",
    "ru_RU",
    "be-BY",
    "Europe/Moscow",
    "Europe/Minsk",
    "Asia/Tehran",
    "Russia",
    "Belarus",
    "country_code",
    "countryCode",
    "country_name",
    "ipgeolocation",
    "ipapi.co",
    "ip-api.com",
    "geoip",
    "geolocation-db",
];
static GATE_MATCHER: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        // Only `is_match` is asked, which any match kind answers alike; leftmost-first allows
        // the vectorised prefilter.
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(GEO_GATES)
            .ok()
    });

const DESTRUCTIVE_COMMANDS: &[&str] = &[
    "rm -rf",
    "rd /s /q",
    "del /f /s /q",
    "del /s /q",
    "format c:",
    "shutdown -h",
    "shutdown /s",
    "mkfs",
];

/// A call that deletes files or runs a destructive command.
fn is_destructive_call(call: &crate::js::CallFact) -> bool {
    matches!(
        call.callee.as_str(),
        "fs.rmSync"
            | "fs.rmdirSync"
            | "fs.rm"
            | "fs.rmdir"
            | "rimraf"
            | "rimraf.sync"
            | "fs-extra.removeSync"
            | "fs-extra.emptyDirSync"
    ) || is_process_call(&call.callee)
        && call
            .arguments
            .first()
            .and_then(|argument| argument.constant.as_deref())
            .is_some_and(|command| {
                DESTRUCTIVE_COMMANDS
                    .iter()
                    .any(|destructive| command.contains(destructive))
            })
}

declare_rule! {
    /// ### What it does
    /// Finds destructive actions (recursive deletes, file overwrites, `rm -rf`, shutdowns) in a
    /// file that also checks the victim's country, language or time zone (`ru-RU`,
    /// `Europe/Moscow`, IP geolocation services, `Intl…timeZone`).
    ///
    /// ### Why is this bad?
    /// Protestware (node-ipc 2022 overwrote files on Russian and Belarusian IPs) and wipers gate
    /// their damage on geography; no library needs both.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// if (country === 'RU') fs.rmSync(home, { recursive: true });
    /// ```
    /// Correct:
    /// ```js
    /// fs.rmSync(tmpDir, { recursive: true });
    /// ```
    GeoGatedDestructive, "geo-gated-destructive", Destructive,
    tokens = &["child_process", "exec", "spawn", "fork", "process", "Intl", "writeFile", "unlink", "rmSync", "rmdir", ".rm("]
}

impl Rule for GeoGatedDestructive {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if file.kind != FileKind::Script {
            return;
        }
        let Some(facts) = file.js else { return };
        // Damage needs a destructive call or a file write; without one, skip the text scans.
        if !facts
            .calls
            .iter()
            .any(|call| is_destructive_call(call) || call.callee.starts_with("fs.writeFile"))
        {
            return;
        }
        let Some(automaton) = GATE_MATCHER.as_ref() else {
            return;
        };
        if !automaton.is_match(file.text) && !text_contains(file.text, "Intl.") {
            return;
        }
        let file_values = values(file);
        let mut gates: Vec<usize> = file_values
            .iter()
            .filter(|value| value.text.len() < 200 && automaton.is_match(value.text))
            .map(|value| value.offset)
            .collect();
        gates.extend(
            facts
                .members
                .iter()
                .filter(|member| member.path.starts_with("Intl."))
                .map(|member| member.offset as usize),
        );
        gates.extend(memchr::memmem::find_iter(
            file.text.as_bytes(),
            b"resolvedOptions().timeZone",
        ));
        // The gate must guard the damage: both within the same ~2 KB of code.
        let near_gate = |offset: usize| gates.iter().any(|gate| gate.abs_diff(offset) <= 2000);
        let Some(gate_offset) = gates.first().copied() else {
            return;
        };
        let destructive_call = facts
            .calls
            .iter()
            .filter(|call| near_gate(call.offset as usize))
            .find(|call| is_destructive_call(call));
        let overwrite = text_contains(file.text, "❤️")
            && facts
                .calls
                .iter()
                .any(|call| call.callee.starts_with("fs.writeFile"));
        let offset = destructive_call
            .map(|call| call.offset as usize)
            .or(overwrite.then_some(gate_offset));
        if let Some(offset) = offset {
            out.push(
                file.finding(
                    &Self::META,
                    Severity::Critical,
                    Confidence::Medium,
                    Some(offset),
                    "destructive action gated on the victim's country, language or time zone"
                        .to_owned(),
                    None,
                ),
            );
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
            "const fs = require('fs'); fs.rmSync(tmpDir, { recursive: true });".into(),
            "const lang = Intl.DateTimeFormat().resolvedOptions().locale; console.log(lang === 'ru-RU');".into(),
        ];
        let fail = vec![
            "const fs = require('fs'); if (Intl.DateTimeFormat().resolvedOptions().timeZone === 'Europe/Moscow') fs.rmSync(require('os').homedir(), { recursive: true, force: true });".into(),
            "const { execSync } = require('child_process'); fetch('https://api.ipgeolocation.io/ipgeo').then(r => r.json()).then(j => { if (j.country_name === 'Russia') execSync('rm -rf ~/'); });".into(),
        ];
        test_rule(GeoGatedDestructive::META.name, pass, fail);
    }
}
