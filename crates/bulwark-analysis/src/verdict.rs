//! How findings combine into a [`Verdict`]. The logic is deliberately explicit (and mirrored in
//! `docs/verdict.md`) because a verdict must be explainable from the findings alone.
//!
//! A finding is *install-time* when its rule is in the `install` category or its file runs at
//! install time (see [`crate::Report`] and the lifecycle rule). Then, in order:
//!
//! 1. any `critical` finding (known IOC hash/string, drainer, download-and-execute in a hook)
//!    ⇒ **malicious**;
//! 2. install-time code + a `high` finding of credentials, network, dynamic code, download,
//!    persistence, propagation or process execution that is itself install-time, or a `medium`
//!    or worse credentials finding at install time ⇒ **malicious**;
//! 3. in one file: credential harvesting (`medium`+) and exfiltration (`high` network: raw IPs,
//!    webhooks, paste/chat services), or `high` credentials and `medium` network ⇒ **malicious**;
//! 4. in one file: dynamic code fed by decoded or remote data (`high`) together with network,
//!    process execution, download or obfuscation (`medium`+) ⇒ **malicious**;
//! 5. in one file: persistence or propagation (`high`) together with credentials or network
//!    (`medium`+) ⇒ **malicious**;
//! 6. otherwise any `high` finding, a `medium` capability finding in install-time code, or
//!    `medium` findings of two or more capability categories (not obfuscation, metadata or
//!    install) in one file ⇒ **suspicious**; obfuscation alone never goes beyond suspicious;
//! 7. otherwise **clean**.
//!
//! Rules 3-5 are per file on purpose: large CLIs (npm, yarn, prisma, vite) have every capability
//! somewhere in their tree, while payloads keep harvest, decode and send together. Findings in
//! test, example and fixture files (not run at install time) are capped at `medium` by the
//! engine before this logic runs.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Finding, Severity, Verdict};
use crate::rule::Category;
use crate::rules::category_of;

/// Decides the verdict and a 0-100 score.
pub(crate) fn decide(findings: &[Finding], install_entries: &BTreeSet<String>) -> (Verdict, u32) {
    let verdict = decide_verdict(findings, install_entries);
    let raw: u32 = findings
        .iter()
        .map(|finding| match finding.severity {
            Severity::Critical => 50,
            Severity::High => 20,
            Severity::Medium => 8,
            Severity::Low => 2,
            Severity::Info => 0,
        })
        .sum::<u32>()
        .min(100);
    let score = match verdict {
        Verdict::Malicious => raw.max(80),
        Verdict::Suspicious => raw.clamp(30, 79),
        Verdict::Clean => raw.min(29),
    };
    (verdict, score)
}

fn decide_verdict(findings: &[Finding], install_entries: &BTreeSet<String>) -> Verdict {
    let is_install = |finding: &Finding| {
        category_of(finding.rule_id) == Some(Category::Install)
            || install_entries.contains(&finding.file)
    };
    // Worst severity per category, overall and at install time.
    let mut worst: BTreeMap<Category, Severity> = BTreeMap::new();
    let mut worst_install: BTreeMap<Category, Severity> = BTreeMap::new();
    let mut per_file: BTreeMap<(&str, Category), Severity> = BTreeMap::new();
    for finding in findings {
        let Some(category) = category_of(finding.rule_id) else {
            continue;
        };
        bump(&mut worst, category, finding.severity);
        if is_install(finding) {
            bump(&mut worst_install, category, finding.severity);
        }
        let slot = per_file
            .entry((finding.file.as_str(), category))
            .or_insert(finding.severity);
        *slot = (*slot).max(finding.severity);
    }
    let at_least = |map: &BTreeMap<Category, Severity>, category: Category, severity: Severity| {
        map.get(&category).is_some_and(|worst| *worst >= severity)
    };

    // 1. Strong single indicators.
    if findings
        .iter()
        .any(|finding| finding.severity == Severity::Critical)
    {
        return Verdict::Malicious;
    }
    // 2. Install-time code doing something dangerous.
    let install_present =
        at_least(&worst_install, Category::Install, Severity::Low) || !install_entries.is_empty();
    if install_present {
        let dangerous = [
            Category::Credentials,
            Category::Network,
            Category::DynamicCode,
            Category::Download,
            Category::Persistence,
            Category::Propagation,
            Category::Process,
        ];
        if dangerous
            .iter()
            .any(|category| at_least(&worst_install, *category, Severity::High))
            || at_least(&worst_install, Category::Credentials, Severity::Medium)
        {
            return Verdict::Malicious;
        }
    }
    // 3-5. Malicious combinations inside one file (big CLIs have every capability somewhere;
    // payloads keep them together).
    let in_file = |file: &str, category: Category, severity: Severity| {
        per_file
            .get(&(file, category))
            .is_some_and(|worst| *worst >= severity)
    };
    let files: BTreeSet<&str> = per_file.keys().map(|(file, _)| *file).collect();
    for file in files {
        // 3. Harvest + exfiltrate.
        if in_file(file, Category::Credentials, Severity::Medium)
            && in_file(file, Category::Network, Severity::High)
            || in_file(file, Category::Credentials, Severity::High)
                && in_file(file, Category::Network, Severity::Medium)
        {
            return Verdict::Malicious;
        }
        // 4. Decoded/remote code execution with a delivery channel.
        if in_file(file, Category::DynamicCode, Severity::High)
            && [
                Category::Network,
                Category::Process,
                Category::Obfuscation,
                Category::Download,
            ]
            .iter()
            .any(|category| in_file(file, *category, Severity::Medium))
        {
            return Verdict::Malicious;
        }
        // 5. Persistence/propagation with a reason to persist.
        if (in_file(file, Category::Persistence, Severity::High)
            || in_file(file, Category::Propagation, Severity::High))
            && (in_file(file, Category::Credentials, Severity::Medium)
                || in_file(file, Category::Network, Severity::Medium))
        {
            return Verdict::Malicious;
        }
    }
    // 6. Worth a look.
    if findings
        .iter()
        .any(|finding| finding.severity >= Severity::High)
    {
        return Verdict::Suspicious;
    }
    if install_present
        && worst_install.iter().any(|(category, severity)| {
            *severity >= Severity::Medium
                && !matches!(
                    category,
                    Category::Install | Category::Metadata | Category::Obfuscation
                )
        })
    {
        return Verdict::Suspicious;
    }
    // Two medium capabilities in one file (not obfuscation or metadata, which are weak alone).
    let mut medium_per_file: BTreeMap<&str, BTreeSet<Category>> = BTreeMap::new();
    for ((file, category), severity) in &per_file {
        if *severity >= Severity::Medium
            && !matches!(
                category,
                Category::Obfuscation | Category::Metadata | Category::Install
            )
        {
            medium_per_file.entry(file).or_default().insert(*category);
        }
    }
    if medium_per_file
        .values()
        .any(|categories| categories.len() >= 2)
    {
        return Verdict::Suspicious;
    }
    Verdict::Clean
}

fn bump(map: &mut BTreeMap<Category, Severity>, category: Category, severity: Severity) {
    let slot = map.entry(category).or_insert(severity);
    *slot = (*slot).max(severity);
}
