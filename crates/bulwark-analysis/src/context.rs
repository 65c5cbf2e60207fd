//! What a rule sees: one file ([`FileContext`]) or the whole package ([`PackageContext`]),
//! plus the helpers that turn byte offsets into findings with line, column and evidence.

use std::cell::OnceCell;
use std::sync::OnceLock;

use crate::js::{CallFact, JsFacts};
use crate::manifest::Manifest;
use crate::report::{Confidence, Finding, Severity, evidence};
use crate::rule::RuleMeta;
use crate::rules::Value;

/// Executable formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryFormat {
    /// Linux/BSD executables and shared objects.
    Elf,
    /// Windows executables and DLLs.
    Pe,
    /// macOS executables (thin or fat).
    MachO,
}

/// What a file is, from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `.js .cjs .mjs .jsx .ts .tsx .mts .cts` (not `.d.ts`).
    Script,
    /// The package's root `package.json`.
    Manifest,
    /// `binding.gyp` (node-gyp runs its `<!(...)` expansions at install time).
    BindingGyp,
    /// Shell, PowerShell, batch or Python scripts.
    ShellLike,
    /// ELF/PE/Mach-O executables.
    Binary(BinaryFormat),
    /// Anything else (JSON, Markdown, maps, data).
    Other,
}

impl FileKind {
    /// Classifies a package file.
    pub(crate) fn classify(path: &str, bytes: &[u8]) -> Self {
        if let Some(format) = binary_format(bytes) {
            return Self::Binary(format);
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        if path == "package.json" {
            return Self::Manifest;
        }
        if name == "binding.gyp" {
            return Self::BindingGyp;
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".d.ts") || lower.ends_with(".d.mts") || lower.ends_with(".d.cts") {
            return Self::Other;
        }
        let extension = lower
            .rsplit_once('.')
            .map(|(_, extension)| extension)
            .unwrap_or_default();
        match extension {
            "js" | "cjs" | "mjs" | "jsx" | "ts" | "tsx" | "mts" | "cts" => Self::Script,
            "sh" | "bash" | "zsh" | "ps1" | "psm1" | "bat" | "cmd" | "py" | "vbs" => {
                Self::ShellLike
            }
            "" if bytes.starts_with(b"#!") => Self::ShellLike,
            _ => Self::Other,
        }
    }
}

fn binary_format(bytes: &[u8]) -> Option<BinaryFormat> {
    match bytes.get(..4)? {
        [0x7f, b'E', b'L', b'F'] => Some(BinaryFormat::Elf),
        [b'M', b'Z', ..] if bytes.len() > 0x40 => Some(BinaryFormat::Pe),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
        | [0xca, 0xfe, 0xba, 0xbe] => Some(BinaryFormat::MachO),
        _ => None,
    }
}

/// One file as a rule sees it.
#[derive(Debug)]
pub(crate) struct FileContext<'a> {
    /// Package-relative path.
    pub(crate) path: &'a str,
    /// Raw bytes.
    pub(crate) bytes: &'a [u8],
    /// Text (lossy UTF-8); empty for binaries.
    pub(crate) text: &'a str,
    /// Classification.
    pub(crate) kind: FileKind,
    /// Facts of the single AST walk, when the file is a parsed script.
    pub(crate) js: Option<&'a JsFacts>,
    /// The file runs at install time (a lifecycle script runs it, directly or through requires).
    pub(crate) install_time: bool,
    /// The package's manifest, when it has one.
    pub(crate) manifest: Option<&'a Manifest>,
    /// A script that skipped parsing because it has none of the tokens any AST rule needs.
    pub(crate) uninteresting: bool,
    line_starts: OnceLock<Vec<usize>>,
    /// Which calls are network and process calls, worked out once for all the rules that ask.
    call_kinds: OnceCell<CallKinds>,
    /// [`crate::rules::value_needle_lists`] of the file's values, worked out once.
    value_needles: OnceCell<u8>,
    /// [`crate::rules::values`], built once for all the rules that read them.
    values: OnceCell<Vec<Value<'a>>>,
}

/// Indices in [`JsFacts::calls`] of the calls of two kinds several rules look for.
#[derive(Debug, Default)]
struct CallKinds {
    /// [`crate::rules::is_network_call`].
    network: Vec<usize>,
    /// [`crate::rules::is_process_call`].
    process: Vec<usize>,
}

impl<'a> FileContext<'a> {
    /// Builds the context of one file.
    pub(crate) fn new(
        path: &'a str,
        bytes: &'a [u8],
        text: &'a str,
        kind: FileKind,
        js: Option<&'a JsFacts>,
        install_time: bool,
        manifest: Option<&'a Manifest>,
    ) -> Self {
        Self {
            path,
            bytes,
            text,
            kind,
            js,
            install_time,
            manifest,
            uninteresting: false,
            line_starts: OnceLock::new(),
            call_kinds: OnceCell::new(),
            value_needles: OnceCell::new(),
            values: OnceCell::new(),
        }
    }

    /// The file's values: built by `build` the first time, then shared.
    pub(crate) fn values_with(&self, build: impl FnOnce() -> Vec<Value<'a>>) -> &[Value<'a>] {
        self.values.get_or_init(build)
    }

    /// The [`crate::rules::ValueNeedles`] lists (bits) with a needle in some value of the file
    /// (or in their haystack).
    pub(crate) fn value_needles(&self) -> u8 {
        *self
            .value_needles
            .get_or_init(|| crate::rules::value_needle_lists(crate::rules::values_haystack(self)))
    }

    fn call_kinds(&self) -> &CallKinds {
        self.call_kinds.get_or_init(|| {
            let mut kinds = CallKinds::default();
            for (index, call) in self
                .js
                .iter()
                .flat_map(|facts| facts.calls.iter())
                .enumerate()
            {
                if crate::rules::is_network_call(&call.callee) {
                    kinds.network.push(index);
                }
                if crate::rules::is_process_call(&call.callee) {
                    kinds.process.push(index);
                }
            }
            kinds
        })
    }

    /// The calls of the file's facts that [`crate::rules::is_network_call`] accepts, in order.
    pub(crate) fn network_calls(&self) -> impl Iterator<Item = &'a CallFact> + '_ {
        self.calls_at(&self.call_kinds().network)
    }

    /// The calls of the file's facts that [`crate::rules::is_process_call`] accepts, in order.
    pub(crate) fn process_calls(&self) -> impl Iterator<Item = &'a CallFact> + '_ {
        self.calls_at(&self.call_kinds().process)
    }

    fn calls_at<'s>(&'s self, indices: &'s [usize]) -> impl Iterator<Item = &'a CallFact> + 's {
        let calls: &'a [CallFact] = self.js.map_or(&[], |facts| facts.calls.as_slice());
        indices.iter().filter_map(move |index| calls.get(*index))
    }

    /// 1-based (line, column in characters) of a byte offset.
    pub(crate) fn line_column(&self, offset: usize) -> (u32, u32) {
        let starts = self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|position| position + 1),
            );
            starts
        });
        let offset = offset.min(self.text.len());
        let line_index = starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1);
        let line_start = starts.get(line_index).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |prefix| prefix.chars().count());
        (
            u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            u32::try_from(column + 1).unwrap_or(u32::MAX),
        )
    }

    /// The source around `offset`: its line, or a window of it when the line is long.
    pub(crate) fn snippet(&self, offset: usize) -> String {
        let text = self.text;
        let offset = offset.min(text.len());
        let line_start =
            memchr::memrchr(b'\n', &text.as_bytes()[..offset]).map_or(0, |position| position + 1);
        let line_end = memchr::memchr(b'\n', &text.as_bytes()[offset..])
            .map_or(text.len(), |position| offset + position);
        let mut start = if offset - line_start > 40 {
            offset - 40
        } else {
            line_start
        };
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = line_end.min(start + 400);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        evidence(&text[start..end])
    }

    /// A finding at a byte offset of this file (or about the whole file when `offset` is `None`).
    pub(crate) fn finding(
        &self,
        meta: &RuleMeta,
        severity: Severity,
        confidence: Confidence,
        offset: Option<usize>,
        message: String,
        evidence_text: Option<&str>,
    ) -> Finding {
        let (line, column) = offset.map_or((0, 0), |offset| self.line_column(offset));
        let evidence_value = match (evidence_text, offset) {
            (Some(text), _) => evidence(text),
            (None, Some(offset)) => self.snippet(offset),
            (None, None) => String::new(),
        };
        Finding {
            rule_id: meta.name,
            severity,
            confidence,
            message,
            file: self.path.to_owned(),
            line,
            column,
            evidence: evidence_value,
        }
    }
}

/// The whole package as a rule sees it.
#[derive(Debug)]
pub(crate) struct PackageContext<'a> {
    /// The root `package.json`, when present.
    pub(crate) manifest: Option<&'a Manifest>,
}

impl PackageContext<'_> {
    /// A finding about the manifest (or another file) located by byte offset in its text.
    pub(crate) fn manifest_finding(
        &self,
        meta: &RuleMeta,
        severity: Severity,
        confidence: Confidence,
        needle: &str,
        message: String,
        evidence_text: &str,
    ) -> Finding {
        let raw = self.manifest.map_or("", |manifest| manifest.raw.as_str());
        let context = FileContext::new(
            "package.json",
            raw.as_bytes(),
            raw,
            FileKind::Manifest,
            None,
            true,
            self.manifest,
        );
        let offset = if needle.is_empty() {
            None
        } else {
            raw.find(needle)
        };
        context.finding(
            meta,
            severity,
            confidence,
            offset,
            message,
            Some(evidence_text),
        )
    }
}
