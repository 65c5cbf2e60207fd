//! Orchestration: classify files, collect facts once per script (isolated per file), work out
//! which files run at install time, run every rule, then derive the verdict.
//!
//! Isolation: each file's fact collection and rule run happens under `catch_unwind`; big or
//! deeply nested scripts are parsed on a watchdog thread with a large stack and a time budget, so
//! a parser panic, a pathological file or a timeout becomes a [`FileNote`] and the rest goes on.

use std::collections::BTreeSet;
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

/// Scripts without any of these tokens cannot do anything the AST rules look for; they skip the
/// parse (text-level rules still run on them).
const INTERESTING_TOKENS: &[&str] = &[
    "child_process",
    "eval",
    "Function",
    "exec",
    "spawn",
    "fork",
    "vm",
    "require",
    "import",
    "http",
    "fetch",
    "XMLHttpRequest",
    "WebSocket",
    "net",
    "dgram",
    "dns",
    "process",
    "Buffer",
    "atob",
    "fromCharCode",
    "_0x",
    "ethereum",
    "homedir",
    "readFile",
    "writeFile",
    "Module",
    "global",
    "window[",
    "constructor",
    "os.",
    "unescape",
    "decodeURI",
    "ActiveX",
    "WScript",
    "GetObject",
    "rundll",
    "regsvr",
    "mshta",
    "LD_PRELOAD",
    "DYLD_",
    "powershell",
    "curl",
    "wget",
];

static PREFILTER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(INTERESTING_TOKENS).ok());

/// Scripts bigger than this, or nested deeper than [`BIG_STACK_DEPTH`], are parsed on a watchdog
/// thread.
const WATCHDOG_SIZE: usize = 256 * 1024;
/// Bracket nesting that needs a bigger stack than rayon's workers have.
const BIG_STACK_DEPTH: usize = 400;
/// Bracket nesting beyond which a file is not parsed at all.
const MAX_NESTING: usize = 20_000;
/// Stack of the watchdog thread.
const WATCHDOG_STACK: usize = 256 * 1024 * 1024;

/// One file after the expensive phase.
struct Prepared {
    uninteresting: bool,
    /// Lossy text when the bytes are not valid UTF-8 (or empty for binaries); `None` means the
    /// bytes themselves are the text, so valid files are not copied.
    text: Option<String>,
    kind: FileKind,
    facts: Option<JsFacts>,
}

/// Analyses an in-memory package.
pub(crate) fn analyze(package: &PackageFiles, options: &Options) -> Report {
    let manifest = package
        .get("package.json")
        .map(|file| Manifest::parse(&file.bytes));
    let mut notes: Vec<FileNote> = package.notes.clone();

    let prepare = |file: &crate::package::PackageFile| -> (Prepared, Vec<FileNote>) {
        prepare_file(&file.path, &file.bytes, options)
    };
    let prepared: Vec<(Prepared, Vec<FileNote>)> = if options.parallel {
        package.files.par_iter().map(prepare).collect()
    } else {
        package.files.iter().map(prepare).collect()
    };

    let install_entries = install_entries(package, manifest.as_ref(), &prepared);

    let run_file = |(file, (prepared, _)): (
        &crate::package::PackageFile,
        &(Prepared, Vec<FileNote>),
    )|
     -> (Vec<Finding>, Option<FileNote>) {
        let mut context = FileContext::new(
            &file.path,
            &file.bytes,
            text_of(prepared.text.as_ref(), &file.bytes),
            prepared.kind,
            prepared.facts.as_ref(),
            install_entries.contains(&file.path),
            manifest.as_ref(),
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
    };
    let per_file: Vec<(Vec<Finding>, Option<FileNote>)> = if options.parallel {
        package
            .files
            .par_iter()
            .zip(prepared.par_iter())
            .map(run_file)
            .collect()
    } else {
        package
            .files
            .iter()
            .zip(prepared.iter())
            .map(run_file)
            .collect()
    };

    let mut findings = Vec::new();
    for ((file_findings, file_note), (_, prepare_notes)) in
        per_file.into_iter().zip(prepared.iter())
    {
        findings.extend(file_findings);
        notes.extend(prepare_notes.iter().cloned());
        notes.extend(file_note);
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

/// The text of a file: its lossy copy when it has one, else its bytes (valid UTF-8).
fn text_of<'a>(owned: Option<&'a String>, bytes: &'a [u8]) -> &'a str {
    owned.map_or_else(
        || std::str::from_utf8(bytes).unwrap_or_default(),
        String::as_str,
    )
}

fn prepare_file(path: &str, bytes: &[u8], options: &Options) -> (Prepared, Vec<FileNote>) {
    let kind = FileKind::classify(path, bytes);
    let owned_text = match kind {
        FileKind::Binary(_) => Some(String::new()),
        _ => match String::from_utf8_lossy(bytes) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(lossy) => Some(lossy),
        },
    };
    let text = text_of(owned_text.as_ref(), bytes);
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
        } else if is_interesting(bytes) {
            facts = facts_isolated(path, text, options, &mut notes);
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
            text: owned_text,
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
}

/// Largest bracket nesting, a cheap proxy for parser recursion depth.
fn max_nesting(bytes: &[u8]) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    for byte in bytes {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
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
fn install_entries(
    package: &PackageFiles,
    manifest: Option<&Manifest>,
    prepared: &[(Prepared, Vec<FileNote>)],
) -> BTreeSet<String> {
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
            let Some((
                Prepared {
                    facts: Some(facts), ..
                },
                _,
            )) = prepared.get(index)
            else {
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
    entries
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
