use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::context::{FileContext, FileKind, PackageContext};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// The shipped copy of `shared/iocs/indicators.csv` (see `data/NOTICE.md`).
const INDICATORS_CSV: &str = include_str!("../../../data/indicators.csv");

/// Indicator values too generic to match as text.
const TOO_GENERIC: &[&str] = &[
    "addToQueue",
    "--yolo",
    "bundle.js",
    "telemetry.js",
    "execution.js",
    "index.js",
    "preinstall.js",
    "preinstall.sh",
    "preinstall.bat",
    "main.js",
    "Shai-Hulud",
];

#[derive(Debug)]
struct Indicator {
    kind: String,
    value: String,
    campaign: String,
}

static INDICATORS: LazyLock<Vec<Indicator>> = LazyLock::new(|| {
    let mut indicators = Vec::new();
    for line in INDICATORS_CSV.lines().skip(1) {
        let fields = split_csv(line);
        let (Some(kind), Some(value), Some(campaign)) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            continue;
        };
        for part in value.split('|') {
            let part = part.trim();
            if part.len() >= 6 && !TOO_GENERIC.contains(&part) && !part.contains('<') {
                indicators.push(Indicator {
                    kind: kind.clone(),
                    value: part.to_owned(),
                    campaign: campaign.clone(),
                });
            }
        }
    }
    indicators
});

/// Indicators of kind `file` (payload file names), matched against every file's path.
static FILE_INDICATORS: LazyLock<Vec<&'static Indicator>> = LazyLock::new(|| {
    INDICATORS
        .iter()
        .filter(|indicator| indicator.kind == "file")
        .collect()
});

/// Indicators matched as text inside scripts.
static TEXT_INDICATORS: LazyLock<(Vec<usize>, Option<AhoCorasick>)> = LazyLock::new(|| {
    let indices: Vec<usize> = INDICATORS
        .iter()
        .enumerate()
        .filter(|(_, indicator)| {
            matches!(
                indicator.kind.as_str(),
                "string" | "domain" | "wallet" | "url" | "repo_desc" | "ip" | "repo_name"
            )
        })
        .map(|(index, _)| index)
        .collect();
    let patterns: Vec<&str> = indices
        .iter()
        .filter_map(|index| INDICATORS.get(*index))
        .map(|indicator| indicator.value.as_str())
        .collect();
    (
        indices,
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
            .ok(),
    )
});

/// A minimal CSV field splitter (double quotes, no embedded newlines).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut characters = line.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '"' if quoted && characters.peek() == Some(&'"') => {
                current.push('"');
                characters.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    fields.push(current);
    fields
}

declare_rule! {
    /// ### What it does
    /// Matches the known indicators of `shared/iocs/indicators.csv` (embedded at build time):
    /// distinctive strings, domains, URLs, wallet addresses and repository descriptions of past
    /// campaigns in scripts (critical), payload file names (medium) and lifecycle hooks
    /// (high) of the package.
    ///
    /// ### Why is this bad?
    /// These strings only occur in the payloads of the named campaigns (Shai-Hulud's repository
    /// descriptions, the chalk/debug drainer's `checkethereumw`, Miasma's token threats).
    ///
    /// ### Examples
    /// Incorrect: a script containing `Sha1-Hulud: The Second Coming`.
    /// Correct: any script without such strings.
    KnownIndicator, "known-indicator", Indicator,
    tokens = &["Buffer", "atob", "fromCharCode", "unescape", "decodeURI", "\\x", "\\u"]
}

impl Rule for KnownIndicator {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if matches!(
            file.kind,
            FileKind::Script | FileKind::ShellLike | FileKind::BindingGyp
        ) {
            let (indices, automaton) = &*TEXT_INDICATORS;
            if let Some(automaton) = automaton {
                let mut seen = std::collections::BTreeSet::new();
                for found in automaton.find_iter(file.text) {
                    let Some(indicator) = indices
                        .get(found.pattern().as_usize())
                        .and_then(|index| INDICATORS.get(*index))
                    else {
                        continue;
                    };
                    if seen.insert(found.pattern().as_usize()) {
                        out.push(file.finding(
                            &Self::META,
                            Severity::Critical,
                            Confidence::High,
                            Some(found.start()),
                            format!(
                                "known indicator of the {} campaign (`{}`)",
                                indicator.campaign, indicator.value
                            ),
                            None,
                        ));
                    }
                    if seen.len() >= 5 {
                        break;
                    }
                }
                // Indicators hidden behind base64/hex/char codes surface in decoded strings.
                let decoded = file
                    .js
                    .into_iter()
                    .flat_map(|facts| facts.string_values())
                    .filter(|(fact, _)| fact.decoded);
                for (fact, value) in decoded.take(10_000) {
                    let Some(found) = automaton.find(value) else {
                        continue;
                    };
                    let Some(indicator) = indices
                        .get(found.pattern().as_usize())
                        .and_then(|index| INDICATORS.get(*index))
                    else {
                        continue;
                    };
                    if seen.insert(found.pattern().as_usize()) {
                        out.push(file.finding(
                            &Self::META,
                            Severity::Critical,
                            Confidence::High,
                            Some(fact.offset as usize),
                            format!(
                                "known indicator of the {} campaign (`{}`), in decoded data",
                                indicator.campaign, indicator.value
                            ),
                            None,
                        ));
                    }
                }
            }
        }
        let name = file.path.rsplit('/').next().unwrap_or(file.path);
        if let Some(indicator) = FILE_INDICATORS
            .iter()
            .find(|indicator| indicator.value == name || indicator.value == file.path)
        {
            out.push(file.finding(
                &Self::META,
                Severity::Medium,
                Confidence::Low,
                None,
                format!(
                    "file name matches a payload of the {} campaign",
                    indicator.campaign
                ),
                Some(file.path),
            ));
        }
    }

    fn run_package(&self, package: &PackageContext<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest else {
            return;
        };
        for indicator in INDICATORS
            .iter()
            .filter(|indicator| indicator.kind == "hook")
        {
            let Some((hook, command)) = indicator.value.split_once(':') else {
                continue;
            };
            let command = command.trim();
            if manifest
                .scripts
                .get(hook.trim())
                .is_some_and(|script| script.trim() == command)
            {
                out.push(package.manifest_finding(
                    &Self::META,
                    Severity::High,
                    Confidence::Medium,
                    command,
                    format!("lifecycle hook matches the {} campaign", indicator.campaign),
                    &indicator.value,
                ));
            }
        }
        for (_, name, spec) in &manifest.dependencies {
            if name == "flatmap-stream" || format!("{name}@{spec}") == "plain-crypto-js@4.2.1" {
                out.push(package.manifest_finding(
                    &Self::META,
                    Severity::Critical,
                    Confidence::High,
                    name,
                    format!("depends on the known-malicious `{name}`"),
                    name,
                ));
            }
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
            "const description = 'A migration tool';".into(),
            Case::Files(vec![(
                "package.json",
                r#"{"name":"a","scripts":{"preinstall":"node setup.js"}}"#,
            )]),
        ];
        let fail = vec![
            "const d = 'Sha1-Hulud: The Second Coming';".into(),
            "function checkethereumw() {}".into(),
            // `Sha1-Hulud: The Second Coming`, base64-encoded.
            "const d = Buffer.from('U2hhMS1IdWx1ZDogVGhlIFNlY29uZCBDb21pbmc=', 'base64').toString();".into(),
            Case::Files(vec![
                (
                    "package.json",
                    r#"{"name":"a","scripts":{"preinstall":"node setup_bun.js"}}"#,
                ),
                ("setup_bun.js", "1"),
            ]),
        ];
        test_rule(KnownIndicator::META.name, pass, fail);
        assert!(INDICATORS.len() > 40);
        assert_eq!(split_csv(r#"a,"b,c",d"#), ["a", "b,c", "d"]);
    }
}
