//! Orchestration: classify files, collect facts once per script (isolated per file), work out
//! which files run at install time, run every rule, then derive the verdict.
//!
//! Isolation: each file's fact collection and rule run happens under `catch_unwind`; big or
//! deeply nested scripts are parsed on a watchdog thread with a large stack and a time budget, so
//! a parser panic, a pathological file or a timeout becomes a [`FileNote`] and the rest goes on.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;
use std::sync::mpsc;
use std::time::Instant;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use crate::context::{FileContext, FileKind, PackageContext};
use crate::js::{JsFacts, collect_facts};
use crate::manifest::Manifest;
use crate::options::Options;
use crate::package::PackageFiles;
use crate::report::{FileNote, Finding, NoteKind, PackageId, Report};
use crate::rules::RULES;
use crate::verdict;

/// Scripts without any token that a rule declares (see [`crate::RuleMeta::tokens`]) cannot give
/// any rule a fact or string value to report; they skip the parse (text-level checks still run).
static PREFILTER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(crate::rules::prefilter_tokens()).ok());

/// Whether a script may skip the parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Parse only when the prefilter finds a rule token (unless [`Options::prefilter`] is off).
    Prefilter,
    /// Always parse (install-time entries, whose `require`s matter).
    Always,
}

/// Scripts bigger than this, or nested deeper than [`BIG_STACK_DEPTH`], are parsed on a watchdog
/// thread.
const WATCHDOG_SIZE: usize = 256 * 1024;
/// Bracket nesting that needs a bigger stack than rayon's workers have.
const BIG_STACK_DEPTH: usize = 400;
/// Bracket nesting beyond which a file is not parsed at all.
const MAX_NESTING: usize = 20_000;
/// Stack of the watchdog thread.
const WATCHDOG_STACK: usize = 256 * 1024 * 1024;

/// A prepared file and the notes its preparation produced.
type PreparedFile<'a> = (Prepared<'a>, Vec<FileNote>);

/// One file after the expensive phase.
struct Prepared<'a> {
    uninteresting: bool,
    /// The text, validated once: borrowed from the bytes when they are valid UTF-8, a lossy copy
    /// otherwise, empty for binaries and other files no rule reads as text.
    text: Cow<'a, str>,
    kind: FileKind,
    facts: Option<JsFacts>,
}

/// Analyses an in-memory package.
///
/// Files are analysed one at a time (or in parallel with [`Options::parallel`]): each is
/// classified, parsed when the prefilter admits it, checked by every rule, and its facts are
/// dropped before the next file, so at most one AST and one set of facts per thread are alive.
/// Only the install-time entry files are prepared first, because whether a file runs at install
/// time depends on what those entries `require`.
pub(crate) fn analyze(package: &PackageFiles, options: &Options) -> Report {
    let manifest = package
        .get("package.json")
        .map(|file| Manifest::parse(&file.bytes));
    let mut notes: Vec<FileNote> = package.notes.clone();

    let (install_entries, early) = install_entries(package, manifest.as_ref(), options);

    let run_file = |(index, file): (usize, &crate::package::PackageFile)| {
        let fresh;
        let (prepared, prepare_notes) = match early.get(&index) {
            Some(prepared) => (&prepared.0, prepared.1.clone()),
            None => {
                fresh = prepare_file(&file.path, &file.bytes, options);
                (&fresh.0, fresh.1)
            }
        };
        let (findings, rule_note) = run_rules(
            file,
            prepared,
            install_entries.contains(&file.path),
            manifest.as_ref(),
        );
        (findings, prepare_notes, rule_note)
    };
    let per_file: Vec<(Vec<Finding>, Vec<FileNote>, Option<FileNote>)> = if options.parallel {
        package.files.par_iter().enumerate().map(run_file).collect()
    } else {
        package.files.iter().enumerate().map(run_file).collect()
    };
    drop(early);

    let mut findings = Vec::new();
    for (file_findings, prepare_notes, rule_note) in per_file {
        findings.extend(file_findings);
        notes.extend(prepare_notes);
        notes.extend(rule_note);
    }
    let package_context = PackageContext {
        manifest: manifest.as_ref(),
    };
    for rule in RULES {
        if catch_unwind(AssertUnwindSafe(|| {
            rule.run_package(&package_context, &mut findings)
        }))
        .is_err()
        {
            notes.push(note(
                "package.json",
                NoteKind::Panicked,
                format!("rule `{}` panicked", rule.meta().name),
            ));
        }
    }

    findings.sort_by(|left, right| {
        right
            .severity
            .cmp(&left.severity)
            .then_with(|| left.file.cmp(&right.file))
            .then_with(|| left.line.cmp(&right.line))
            .then_with(|| left.column.cmp(&right.column))
            .then_with(|| left.rule_id.cmp(right.rule_id))
    });
    findings.dedup_by(|later, earlier| {
        later.rule_id == earlier.rule_id
            && later.file == earlier.file
            && later.line == earlier.line
            && later.message == earlier.message
    });
    cap_per_rule_and_file(&mut findings);
    cap_test_files(&mut findings, &install_entries);
    let (verdict, score) = verdict::decide(&findings, &install_entries);
    let package_id = manifest.map_or_else(PackageId::default, |manifest| PackageId {
        name: manifest.name,
        version: manifest.version,
    });
    Report {
        package: package_id,
        verdict,
        score,
        findings,
        notes,
    }
}

/// Runs every rule on one prepared file; a panicking rule becomes a note.
fn run_rules(
    file: &crate::package::PackageFile,
    prepared: &Prepared<'_>,
    install_time: bool,
    manifest: Option<&Manifest>,
) -> (Vec<Finding>, Option<FileNote>) {
    let mut context = FileContext::new(
        &file.path,
        &file.bytes,
        &prepared.text,
        prepared.kind,
        prepared.facts.as_ref(),
        install_time,
        manifest,
    );
    context.uninteresting = prepared.uninteresting;
    let mut findings = Vec::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for rule in RULES {
            rule.run_file(&context, &mut findings);
        }
    }));
    match outcome {
        Ok(()) => (findings, None),
        Err(_) => (
            findings,
            Some(note(
                &file.path,
                NoteKind::Panicked,
                "a rule panicked on this file".to_owned(),
            )),
        ),
    }
}

/// Keeps at most a few findings per (rule, file) so one noisy file cannot drown the report.
fn cap_per_rule_and_file(findings: &mut Vec<Finding>) {
    const PER_RULE_AND_FILE: usize = 5;
    let mut counts: std::collections::HashMap<(&'static str, String), usize> =
        std::collections::HashMap::new();
    findings.retain(|finding| {
        let count = counts
            .entry((finding.rule_id, finding.file.clone()))
            .or_insert(0);
        *count += 1;
        *count <= PER_RULE_AND_FILE
    });
}

/// Findings in tests, examples and fixtures (not run at install time) are capped at medium:
/// test suites legitimately serialise the environment, spawn shells and hold malware fixtures.
fn cap_test_files(findings: &mut [Finding], install_entries: &BTreeSet<String>) {
    for finding in findings.iter_mut() {
        if finding.severity > crate::report::Severity::Medium
            && finding.severity < crate::report::Severity::Critical
            && !install_entries.contains(&finding.file)
            && is_test_path(&finding.file)
        {
            finding.severity = crate::report::Severity::Medium;
        }
    }
}

/// `test/`, `tests/`, `__tests__/`, `spec/`, `example(s)/`, `fixtures/`, `benchmark(s)/`,
/// `*.test.*`, `*.spec.*`.
pub(crate) fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.split('/').any(|segment| {
        matches!(
            segment,
            "test"
                | "tests"
                | "__tests__"
                | "spec"
                | "specs"
                | "example"
                | "examples"
                | "fixtures"
                | "__fixtures__"
                | "benchmark"
                | "benchmarks"
                | "__mocks__"
        )
    }) || lower.contains(".test.")
        || lower.contains(".spec.")
}

fn note(file: &str, kind: NoteKind, message: String) -> FileNote {
    FileNote {
        file: file.to_owned(),
        kind,
        message,
    }
}

fn prepare_file<'a>(path: &str, bytes: &'a [u8], options: &Options) -> PreparedFile<'a> {
    prepare_file_with(path, bytes, options, Admission::Prefilter)
}

fn prepare_file_with<'a>(
    path: &str,
    bytes: &'a [u8],
    options: &Options,
    admission: Admission,
) -> PreparedFile<'a> {
    let kind = FileKind::classify(path, bytes);
    let text = match kind {
        // No rule reads the text of binaries or of other files (JSON data, maps, Markdown,
        // `.d.ts`): only their bytes (hashes) and names, so they are not decoded.
        FileKind::Binary(_) | FileKind::Other => Cow::Borrowed(""),
        _ => String::from_utf8_lossy(bytes),
    };
    let mut notes = Vec::new();
    let mut facts = None;
    let mut uninteresting = false;
    if kind == FileKind::Script {
        if bytes.len() as u64 > options.max_parse_size {
            notes.push(note(
                path,
                NoteKind::TooLarge,
                format!("{} bytes, not parsed (text checks only)", bytes.len()),
            ));
        } else if admission == Admission::Always || !options.prefilter || is_interesting(bytes) {
            facts = facts_isolated(path, &text, options, &mut notes);
        } else {
            uninteresting = true;
        }
    }
    if let Some(facts) = &facts
        && facts.parse_errors > 0
    {
        notes.push(note(
            path,
            NoteKind::ParseErrors,
            format!(
                "{} parse error(s); analysed the recovered AST",
                facts.parse_errors
            ),
        ));
    }
    (
        Prepared {
            uninteresting,
            text,
            kind,
            facts,
        },
        notes,
    )
}

fn is_interesting(bytes: &[u8]) -> bool {
    PREFILTER
        .as_ref()
        .is_none_or(|automaton| automaton.is_match(bytes))
        || RULES.iter().any(|rule| rule.wants_parse(bytes))
}

/// +1 for an opening bracket, -1 for a closing one, 0 otherwise.
const BRACKET_DELTA: [i8; 256] = {
    let mut table = [0i8; 256];
    table[b'(' as usize] = 1;
    table[b'[' as usize] = 1;
    table[b'{' as usize] = 1;
    table[b')' as usize] = -1;
    table[b']' as usize] = -1;
    table[b'}' as usize] = -1;
    table
};

/// Largest bracket nesting, a cheap proxy for parser recursion depth (branch-free table walk).
fn max_nesting(bytes: &[u8]) -> usize {
    let mut depth: i64 = 0;
    let mut deepest: i64 = 0;
    for byte in bytes {
        depth = (depth + i64::from(BRACKET_DELTA[usize::from(*byte)])).max(0);
        deepest = deepest.max(depth);
    }
    usize::try_from(deepest).unwrap_or(0)
}

fn facts_isolated(
    path: &str,
    text: &str,
    options: &Options,
    notes: &mut Vec<FileNote>,
) -> Option<JsFacts> {
    let nesting = max_nesting(text.as_bytes());
    if nesting > MAX_NESTING {
        notes.push(note(
            path,
            NoteKind::TooLarge,
            format!("bracket nesting {nesting} too deep, not parsed"),
        ));
        return None;
    }
    if text.len() < WATCHDOG_SIZE && nesting < BIG_STACK_DEPTH {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| collect_facts(path, text)));
        if started.elapsed() > options.file_time_budget {
            notes.push(note(
                path,
                NoteKind::TimedOut,
                format!("analysis took {:?}", started.elapsed()),
            ));
        }
        return match result {
            Ok(facts) => Some(facts),
            Err(_) => {
                notes.push(note(
                    path,
                    NoteKind::Panicked,
                    "the parser panicked on this file".to_owned(),
                ));
                None
            }
        };
    }
    let (sender, receiver) = mpsc::sync_channel(1);
    let owned_path = path.to_owned();
    let owned_text = text.to_owned();
    let spawned = std::thread::Builder::new()
        .name("bulwark-parse".to_owned())
        .stack_size(WATCHDOG_STACK)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| collect_facts(&owned_path, &owned_text)));
            // The receiver may have given up (timeout); nothing to do then.
            let _ = sender.send(result);
        });
    if spawned.is_err() {
        notes.push(note(
            path,
            NoteKind::Unreadable,
            "could not start the parse thread".to_owned(),
        ));
        return None;
    }
    match receiver.recv_timeout(options.file_time_budget) {
        Ok(Ok(facts)) => Some(facts),
        Ok(Err(_)) => {
            notes.push(note(
                path,
                NoteKind::Panicked,
                "the parser panicked on this file".to_owned(),
            ));
            None
        }
        Err(_) => {
            notes.push(note(
                path,
                NoteKind::TimedOut,
                format!("over the {:?} budget, skipped", options.file_time_budget),
            ));
            None
        }
    }
}

/// Files that run at install time: targets of `node <file>` in install hooks, plus the files they
/// `require` relatively (one level: deeper closures pull whole CLIs such as nx into "install
/// time" and make their ordinary capabilities look like install-time behaviour).
///
/// Returns the entries and the prepared (parsed) root entry files by index, so that they are not
/// parsed twice. Root entries are parsed whatever the prefilter says: their `require`s decide
/// what else runs at install time.
fn install_entries<'a>(
    package: &'a PackageFiles,
    manifest: Option<&Manifest>,
    options: &Options,
) -> (BTreeSet<String>, HashMap<usize, PreparedFile<'a>>) {
    let mut early = HashMap::new();
    let mut entries = BTreeSet::new();
    for (_, script) in manifest
        .iter()
        .flat_map(|manifest| manifest.install_scripts())
    {
        for target in crate::rules::install::lifecycle_script::script_targets(script) {
            if let Some(path) = resolve_relative(package, "", &target) {
                entries.insert(path);
            }
        }
    }
    // node-gyp runs `<!(...)` expansions of a root `binding.gyp` during install.
    if let Some(gyp) = package.get("binding.gyp") {
        let text = String::from_utf8_lossy(&gyp.bytes);
        for command in text.split("<!").skip(1).take(100) {
            let command = command.split(")\"").next().unwrap_or_default();
            for target in crate::rules::install::lifecycle_script::script_targets(command) {
                if let Some(path) = resolve_relative(package, "", &target) {
                    entries.insert(path);
                }
            }
        }
    }
    let mut frontier: Vec<String> = entries.iter().cloned().collect();
    for _ in 0..1 {
        let mut next = Vec::new();
        for entry in &frontier {
            let Ok(index) = package
                .files
                .binary_search_by(|file| file.path.as_str().cmp(entry))
            else {
                continue;
            };
            let Some(file) = package.files.get(index) else {
                continue;
            };
            let prepared = early.entry(index).or_insert_with(|| {
                prepare_file_with(&file.path, &file.bytes, options, Admission::Always)
            });
            let Some(facts) = &prepared.0.facts else {
                continue;
            };
            let directory = entry
                .rsplit_once('/')
                .map_or("", |(directory, _)| directory);
            for (module, _) in facts.modules.iter().take(200) {
                if (module.starts_with("./") || module.starts_with("../"))
                    && let Some(path) = resolve_relative(package, directory, module)
                    && entries.insert(path.clone())
                {
                    next.push(path);
                }
            }
        }
        frontier = next;
    }
    (entries, early)
}

/// Resolves `target` (relative to `directory`) to a package file, trying JS extensions.
pub(crate) fn resolve_relative(
    package: &PackageFiles,
    directory: &str,
    target: &str,
) -> Option<String> {
    let mut parts: Vec<&str> = if directory.is_empty() {
        Vec::new()
    } else {
        directory.split('/').collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    ["", ".js", ".cjs", ".mjs", ".ts", "/index.js"]
        .iter()
        .map(|suffix| format!("{joined}{suffix}"))
        .find(|candidate| package.get(candidate).is_some())
}

#[cfg(test)]
mod tests {
    use super::{Admission, Options, max_nesting, prepare_file_with};
    use crate::rules::{RULES, prefilter_tokens};

    /// Every token a rule declares is in the prefilter, and each one alone gets a script parsed.
    #[test]
    fn prefilter_is_the_union_of_rule_tokens() {
        let tokens = prefilter_tokens();
        for rule in RULES {
            for token in rule.meta().tokens {
                assert!(tokens.contains(token), "{}: `{token}`", rule.meta().name);
                let script = format!("var a = 1; // {token}\n");
                let (prepared, _) = prepare_file_with(
                    "index.js",
                    script.as_bytes(),
                    &Options::default(),
                    Admission::Prefilter,
                );
                assert!(prepared.facts.is_some(), "`{token}` did not admit the file");
            }
        }
    }

    /// A script with no rule token is not parsed, unless it runs at install time.
    #[test]
    fn scripts_without_tokens_skip_the_parse() {
        let data = b"module.exports = [1, 2, 3];";
        let options = Options::default();
        let (skipped, _) = prepare_file_with("data.js", data, &options, Admission::Prefilter);
        assert!(skipped.uninteresting && skipped.facts.is_none());
        let (parsed, _) = prepare_file_with("data.js", data, &options, Admission::Always);
        assert!(parsed.facts.is_some());
    }

    #[test]
    fn nesting_counts_brackets_and_ignores_stray_closers() {
        assert_eq!(max_nesting(b"(([{}]))"), 4);
        assert_eq!(max_nesting(b")))(("), 2);
        assert_eq!(max_nesting(b"a(b)c[d]{e}"), 1);
        assert_eq!(max_nesting(b""), 0);
    }
}
