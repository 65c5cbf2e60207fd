//! The analysis result as data: a [`Report`] is a pure serde struct, so it *is* the JSON output
//! format, and every name in it is a stable `snake_case` (fields) or kebab-case (rule ids) public
//! contract.

use serde::Serialize;

/// Name and version of the analysed package, as read from its `package.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageId {
    /// The `name` field, empty when the manifest is missing or unreadable.
    pub name: String,
    /// The `version` field, empty when the manifest is missing or unreadable.
    pub version: String,
}

/// The overall judgement on a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No finding that matters.
    Clean,
    /// Capabilities or signals worth a human look, but no malicious combination.
    Suspicious,
    /// A strong indicator or a malicious combination of capabilities (see `docs/verdict.md`).
    Malicious,
}

/// How bad a finding is if it is what it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context only (for example "this file runs at install time").
    Info,
    /// A capability that many benign packages have.
    Low,
    /// A capability that is unusual for a library.
    Medium,
    /// Behaviour that is rarely benign.
    High,
    /// A known-bad indicator or an unambiguous attack pattern.
    Critical,
}

/// How sure the rule is that the finding is what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Heuristic match that often has benign explanations.
    Low,
    /// Structural match (AST or resolved string), benign uses exist.
    Medium,
    /// Exact or known-bad match.
    High,
}

/// One piece of evidence produced by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule name, e.g. `lifecycle-script`.
    pub rule_id: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// One human sentence, no trailing period.
    pub message: String,
    /// Package-relative path with `/` separators (`package.json`, `lib/index.js`).
    pub file: String,
    /// 1-based line, 0 when the finding is about the whole file.
    pub line: u32,
    /// 1-based column in characters, 0 when the finding is about the whole file.
    pub column: u32,
    /// A short excerpt (at most [`MAX_EVIDENCE_CHARS`] characters) showing why.
    pub evidence: String,
}

/// Longest evidence snippet kept in a [`Finding`].
pub const MAX_EVIDENCE_CHARS: usize = 160;

/// Why a file was not (fully) analysed, or was refused when reading the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileNote {
    /// Package-relative path (as found in the tarball/directory, possibly hostile).
    pub file: String,
    /// What happened.
    pub kind: NoteKind,
    /// Details for humans.
    pub message: String,
}

/// The kinds of [`FileNote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The file is larger than the per-file limit and was skipped or truncated.
    TooLarge,
    /// The analysis of the file panicked; the rest of the package was analysed.
    Panicked,
    /// The analysis of the file ran over its time budget.
    TimedOut,
    /// The JavaScript/TypeScript parser reported errors; analysis used what it recovered.
    ParseErrors,
    /// A tar entry with `..` or an absolute path was refused.
    PathTraversal,
    /// A symlink or hardlink entry was refused.
    Link,
    /// A limit on the whole package (entries, total size) was reached; later files were skipped.
    LimitReached,
    /// The file could not be read.
    Unreadable,
}

/// The result of analysing one package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Name and version from `package.json`.
    pub package: PackageId,
    /// The overall judgement.
    pub verdict: Verdict,
    /// 0-100, higher is worse; a summary for sorting, the verdict is what counts.
    pub score: u32,
    /// Evidence, sorted by severity (worst first), then file, line.
    pub findings: Vec<Finding>,
    /// Files that were refused, skipped or only partly analysed.
    pub notes: Vec<FileNote>,
}

/// Cuts `text` to at most [`MAX_EVIDENCE_CHARS`] characters on one line.
pub(crate) fn evidence(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_EVIDENCE_CHARS + 3));
    for (count, character) in text.chars().enumerate() {
        if count == MAX_EVIDENCE_CHARS {
            out.push('…');
            break;
        }
        out.push(if character.is_control() {
            ' '
        } else {
            character
        });
    }
    out.trim().to_owned()
}
