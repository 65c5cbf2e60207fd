//! SARIF 2.1.0 output (`bulwark scan --format sarif`), for GitHub code scanning and other
//! SARIF viewers. Schema: <https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json>
//! (the tests validate against the official `sarif-2.1.0-rtm.5` schema).
//!
//! One result per known-bad match, code-analysis finding and policy violation, located at
//! the lockfile (or `package.json`, or `bulwark.toml`) line relative to the scan root, so
//! code scanning shows them inline; the files of a code finding are related locations. Each
//! result carries a `partialFingerprints` value that does not depend on line numbers, so an
//! alert survives unrelated lockfile edits. Policy violations that only restate a finding
//! (`malicious-package`, …) are not repeated; the finding is the result.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::Severity;
use crate::json::{Finding, FindingKind, LocationEntry, PolicyLevel, PolicyViolation, ScanReport};

/// The `$schema` written into the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Policy checks that restate scan findings (reported once, as the finding).
const FINDING_CHECKS: &[&str] = &[
    "malicious-package",
    "suspicious-package",
    "vulnerable-package",
];

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct BaseUri {
    description: Message,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Message,
    full_description: Message,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    #[serde(rename = "security-severity")]
    security_severity: String,
}

#[derive(Serialize, Clone)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advisory: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependency_paths: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

/// Writes `report` as a SARIF 2.1.0 log.
///
/// # Errors
/// Write errors of `out`.
pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let mut rules: Vec<Rule> = Vec::new();
    let rule_index = |rules: &mut Vec<Rule>, id: &str, make: &dyn Fn() -> Rule| -> usize {
        if let Some(index) = rules.iter().position(|rule| rule.id == id) {
            index
        } else {
            rules.push(make());
            rules.len() - 1
        }
    };
    let mut results = Vec::new();
    for finding in &report.findings {
        let id = kind_code(finding.kind);
        let index = rule_index(&mut rules, id, &|| finding_rule(finding.kind));
        results.push(finding_result(finding, id, index));
    }
    if let Some(policy) = &report.policy {
        for violation in policy
            .violations
            .iter()
            .filter(|v| !FINDING_CHECKS.contains(&v.check.as_str()))
        {
            let description = policy
                .descriptions
                .get(&violation.check)
                .cloned()
                .unwrap_or_else(|| format!("Policy check `{}`.", violation.check));
            let index = rule_index(&mut rules, &violation.check, &|| {
                policy_rule(&violation.check, &description, violation.level)
            });
            results.push(violation_result(violation, index));
        }
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "bulwark",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://example.invalid/bulwark",
                    rules,
                },
            },
            original_uri_base_ids: BTreeMap::from([(
                "%SRCROOT%",
                BaseUri {
                    description: Message {
                        text: "The scanned directory.".to_owned(),
                    },
                },
            )]),
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn kind_code(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Malicious => "malicious",
        FindingKind::CompromisedVersion => "compromised-version",
        FindingKind::Vulnerability => "vulnerability",
        FindingKind::MaliciousCode => "malicious-code",
        FindingKind::SuspiciousCode => "suspicious-code",
    }
}

fn finding_rule(kind: FindingKind) -> Rule {
    let (name, short, full, level, severity) = match kind {
        FindingKind::Malicious => (
            "MaliciousPackageVersion",
            "Known malicious package version",
            "The package version is reported as malicious (an OSV MAL advisory). Remove it and rotate any credential the install could reach.",
            "error",
            "10.0",
        ),
        FindingKind::CompromisedVersion => (
            "CompromisedPackageVersion",
            "Compromised version from a known incident",
            "The package version was published by an attacker during a known supply-chain incident. Remove it and rotate any credential the install could reach.",
            "error",
            "10.0",
        ),
        FindingKind::Vulnerability => (
            "VulnerablePackageVersion",
            "Known vulnerable package version",
            "The package version is affected by a published vulnerability; upgrade to a fixed version.",
            "warning",
            "5.0",
        ),
        FindingKind::MaliciousCode => (
            "MaliciousCode",
            "Package code the static analysis calls malicious",
            "bulwark's static analysis of the installed package found behaviour typical of malware (for example credential harvesting with exfiltration, or download-and-execute in an install script).",
            "error",
            "9.0",
        ),
        FindingKind::SuspiciousCode => (
            "SuspiciousCode",
            "Package code the static analysis calls suspicious",
            "bulwark's static analysis of the installed package found capabilities that deserve review.",
            "warning",
            "6.0",
        ),
    };
    Rule {
        id: kind_code(kind).to_owned(),
        name: name.to_owned(),
        short_description: Message {
            text: short.to_owned(),
        },
        full_description: Message {
            text: full.to_owned(),
        },
        default_configuration: Configuration { level },
        properties: RuleProperties {
            tags: vec!["security", "supply-chain"],
            security_severity: severity.to_owned(),
        },
    }
}

fn policy_rule(check: &str, description: &str, level: PolicyLevel) -> Rule {
    let name: String = check
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let (level, severity) = match level {
        PolicyLevel::Deny => ("error", "7.5"),
        PolicyLevel::Warn => ("warning", "4.0"),
    };
    Rule {
        id: check.to_owned(),
        name,
        short_description: Message {
            text: format!("Policy: {check}"),
        },
        full_description: Message {
            text: description.to_owned(),
        },
        default_configuration: Configuration { level },
        properties: RuleProperties {
            tags: vec!["security", "supply-chain", "policy"],
            security_severity: severity.to_owned(),
        },
    }
}

fn finding_result<'a>(finding: &'a Finding, rule_id: &str, rule_index: usize) -> SarifResult<'a> {
    let level = match finding.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None => "note",
    };
    let package = format!("{}@{}", finding.package.name, finding.package.version);
    let mut text = format!("{package}: {} ({})", finding.summary, finding.id);
    if let Some(fixed) = &finding.fixed {
        text.push_str(&format!("; fixed in {fixed}"));
    }
    let related_locations = finding
        .code
        .iter()
        .enumerate()
        .map(|(index, code)| {
            let base = finding
                .install_path
                .as_deref()
                .unwrap_or_else(|| Path::new(""));
            Location {
                id: Some(index),
                physical_location: physical(&base.join(&code.file), code.line),
                message: Some(Message {
                    text: format!("{} ({}): {}", code.rule_id, code.severity, code.message),
                }),
            }
        })
        .collect();
    SarifResult {
        rule_id: rule_id.to_owned(),
        rule_index,
        level,
        message: Message { text },
        locations: vec![location(&finding.location)],
        related_locations,
        partial_fingerprints: fingerprint(&[
            rule_id,
            &package,
            &finding.id,
            &finding.location.file.to_string_lossy(),
        ]),
        properties: ResultProperties {
            package: Some(package.clone()),
            advisory: Some(&finding.id),
            aliases: &finding.aliases,
            dependency_paths: finding.paths.iter().map(|path| path.join(" > ")).collect(),
        },
    }
}

fn violation_result(violation: &PolicyViolation, rule_index: usize) -> SarifResult<'_> {
    let package = violation
        .package
        .as_ref()
        .map(|p| format!("{}@{}", p.name, p.version));
    let file = violation
        .location
        .as_ref()
        .map(|l| l.file.to_string_lossy().into_owned())
        .unwrap_or_default();
    let locations = violation.location.iter().map(location).collect();
    SarifResult {
        rule_id: violation.check.clone(),
        rule_index,
        level: match violation.level {
            PolicyLevel::Deny => "error",
            PolicyLevel::Warn => "warning",
        },
        message: Message {
            text: violation.message.clone(),
        },
        locations,
        related_locations: Vec::new(),
        partial_fingerprints: fingerprint(&[
            &violation.check,
            package.as_deref().unwrap_or(""),
            &file,
            if package.is_none() {
                &violation.message
            } else {
                ""
            },
        ]),
        properties: ResultProperties {
            package,
            advisory: None,
            aliases: &[],
            dependency_paths: Vec::new(),
        },
    }
}

fn location(entry: &LocationEntry) -> Location {
    Location {
        id: None,
        physical_location: physical(&entry.file, entry.line),
        message: None,
    }
}

fn physical(file: &Path, line: u32) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri(file),
            uri_base_id: "%SRCROOT%",
        },
        region: (line > 0).then_some(Region { start_line: line }),
    }
}

/// A relative URI reference for a path: `/` separators, everything outside the unreserved
/// set percent-encoded.
fn uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/@+!$&'()*,;=:".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A stable fingerprint of the parts (FNV-1a 64, hex), independent of line numbers.
fn fingerprint(parts: &[&str]) -> BTreeMap<&'static str, String> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    BTreeMap::from([("bulwark/v1", format!("{hash:016x}"))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri(Path::new("package-lock.json")), "package-lock.json");
        assert_eq!(uri(Path::new("./a b/yarn.lock")), "a%20b/yarn.lock");
        assert_eq!(
            uri(Path::new("node_modules/@scope/pkg/index.js")),
            "node_modules/@scope/pkg/index.js"
        );
        assert_eq!(uri(Path::new("100%/x#y")), "100%25/x%23y");
    }

    #[test]
    fn fingerprints_ignore_nothing_but_are_stable() {
        let a = fingerprint(&["rule", "a@1"]);
        assert_eq!(a, fingerprint(&["rule", "a@1"]));
        assert_ne!(a, fingerprint(&["rule", "a@2"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}
