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
//! 3. credential harvesting (`medium`+) and exfiltration (`high` network: raw IPs, webhooks,
//!    paste/chat services) anywhere in the package ⇒ **malicious**; `high` credentials and any
//!    `medium` network in the same file ⇒ **malicious**;
//! 4. dynamic code fed by decoded or remote data (`high`) together with network, process
//!    execution or obfuscation (`medium`+) ⇒ **malicious**;
//! 5. persistence or propagation (`high`) together with credentials or network (`medium`+)
//!    ⇒ **malicious**;
//! 6. otherwise any `high` finding, or `medium` findings in two or more categories other than
//!    obfuscation and metadata ⇒ **suspicious**; obfuscation alone never goes beyond suspicious;
//! 7. otherwise **clean**.

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
        category_of(finding.rule_id) == Some(Category::Install) || install_entries.contains(&finding.file)
    };
    // Worst severity per category, overall and at install time.
    let mut worst: BTreeMap<Category, Severity> = BTreeMap::new();
    let mut worst_install: BTreeMap<Category, Severity> = BTreeMap::new();
    let mut per_file: BTreeMap<(&str, Category), Severity> = BTreeMap::new();
    for finding in findings {
        let Some(category) = category_of(finding.rule_id) else { continue };
        bump(&mut worst, category, finding.severity);
        if is_install(finding) {
            bump(&mut worst_install, category, finding.severity);
        }
        let slot = per_file.entry((finding.file.as_str(), category)).or_insert(finding.severity);
        *slot = (*slot).max(finding.severity);
    }
    let at_least = |map: &BTreeMap<Category, Severity>, category: Category, severity: Severity| {
        map.get(&category).is_some_and(|worst| *worst >= severity)
    };

    // 1. Strong single indicators.
    if findings.iter().any(|finding| finding.severity == Severity::Critical) {
        return Verdict::Malicious;
    }
    // 2. Install-time code doing something dangerous.
    let install_present = at_least(&worst_install, Category::Install, Severity::Low) || !install_entries.is_empty();
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
        if dangerous.iter().any(|category| at_least(&worst_install, *category, Severity::High))
            || at_least(&worst_install, Category::Credentials, Severity::Medium)
        {
            return Verdict::Malicious;
        }
    }
    // 3. Harvest + exfiltrate.
    if at_least(&worst, Category::Credentials, Severity::Medium) && at_least(&worst, Category::Network, Severity::High) {
        return Verdict::Malicious;
    }
    let same_file = per_file.iter().any(|((file, category), severity)| {
        *category == Category::Credentials
            && *severity >= Severity::High
            && per_file.get(&(file, Category::Network)).is_some_and(|network| *network >= Severity::Medium)
    });
    if same_file {
        return Verdict::Malicious;
    }
    // 4. Decoded/remote code execution with a delivery channel.
    if at_least(&worst, Category::DynamicCode, Severity::High)
        && [Category::Network, Category::Process, Category::Obfuscation, Category::Download]
            .iter()
            .any(|category| at_least(&worst, *category, Severity::Medium))
    {
        return Verdict::Malicious;
    }
    // 5. Persistence/propagation with a reason to persist.
    if (at_least(&worst, Category::Persistence, Severity::High) || at_least(&worst, Category::Propagation, Severity::High))
        && (at_least(&worst, Category::Credentials, Severity::Medium) || at_least(&worst, Category::Network, Severity::Medium))
    {
        return Verdict::Malicious;
    }
    // 6. Worth a look.
    if findings.iter().any(|finding| finding.severity >= Severity::High) {
        return Verdict::Suspicious;
    }
    let medium_categories = worst
        .iter()
        .filter(|(category, severity)| {
            **severity >= Severity::Medium && !matches!(category, Category::Obfuscation | Category::Metadata)
        })
        .count();
    if medium_categories >= 2 {
        return Verdict::Suspicious;
    }
    Verdict::Clean
}

fn bump(map: &mut BTreeMap<Category, Severity>, category: Category, severity: Severity) {
    let slot = map.entry(category).or_insert(severity);
    *slot = (*slot).max(severity);
}
