//! JavaScript/TypeScript facts: each file is parsed once with oxc and walked once by
//! [`visitor::FactCollector`]; rules then read the resulting [`JsFacts`] instead of walking the AST
//! again. The facts are plain owned data, so the arena is dropped before any rule runs.

pub(crate) mod names;
pub(crate) mod resolve;
pub(crate) mod visitor;

use std::cell::RefCell;

use compact_str::CompactString;
use oxc_allocator::Allocator;
use oxc_parser::{ParseOptions, Parser};
use oxc_span::SourceType;

/// What a call argument (or any expression) is made of, as far as cheap analysis can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ValueInfo {
    /// The resolved constant string, when the expression folds to one (truncated).
    pub(crate) constant: Option<CompactString>,
    /// The value comes out of a decoder (`Buffer.from(x,'base64')`, `atob`, `fromCharCode`, a
    /// decipher, zlib) or is bound to a variable that does.
    pub(crate) decoded: bool,
    /// The value comes from the network (a response body) or from a variable that does.
    pub(crate) remote: bool,
    /// The value is read from a file (`fs.readFileSync`) or a variable that is.
    pub(crate) from_file: bool,
    /// The member path of the expression when it is a name or member chain (`process.env`).
    pub(crate) path: Option<CompactString>,
}

/// A call or `new` expression with its resolved callee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallFact {
    /// Normalised callee path: `child_process.exec`, `eval`, `fetch`, `fs.readFileSync`,
    /// `https.request`; global prefixes (`window.`, `globalThis.`, `global.`) are removed.
    pub(crate) callee: CompactString,
    /// `new X(...)` rather than `X(...)`.
    pub(crate) is_new: bool,
    /// The function is reached through a computed member (`cp['sp' + 'awn']`).
    pub(crate) computed: bool,
    /// One entry per argument, up to [`MAX_ARGUMENTS`] (spread arguments are opaque).
    pub(crate) arguments: Arguments,
    /// Byte offset of the call in the file.
    pub(crate) offset: u32,
}

/// Most arguments recorded per call.
pub(crate) const MAX_ARGUMENTS: usize = 4;

/// Arguments kept inline in [`Arguments`]; most calls have no more.
const INLINE_ARGUMENTS: usize = 2;

/// The first [`MAX_ARGUMENTS`] arguments of a call: the first [`INLINE_ARGUMENTS`] inline, so
/// most calls allocate nothing for them, the others in a small spill vector. Read with the
/// slice-like [`Self::first`], [`Self::get`], [`Self::last`] and [`Self::iter`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Arguments {
    inline: [ValueInfo; INLINE_ARGUMENTS],
    spilled: Vec<ValueInfo>,
    len: usize,
}

impl Arguments {
    /// Appends `value`; ignored once [`MAX_ARGUMENTS`] are kept.
    pub(crate) fn push(&mut self, value: ValueInfo) {
        if self.len >= MAX_ARGUMENTS {
            return;
        }
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = value,
            None => {
                self.spilled.reserve_exact(MAX_ARGUMENTS - INLINE_ARGUMENTS);
                self.spilled.push(value);
            }
        }
        self.len += 1;
    }

    /// The argument at `index`, if the call has it (and it is among the kept ones).
    pub(crate) fn get(&self, index: usize) -> Option<&ValueInfo> {
        if index >= self.len {
            None
        } else if index < INLINE_ARGUMENTS {
            self.inline.get(index)
        } else {
            self.spilled.get(index - INLINE_ARGUMENTS)
        }
    }

    /// The first argument.
    pub(crate) fn first(&self) -> Option<&ValueInfo> {
        self.get(0)
    }

    /// The last kept argument.
    pub(crate) fn last(&self) -> Option<&ValueInfo> {
        self.get(self.len.checked_sub(1)?)
    }

    /// The kept arguments in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ValueInfo> {
        self.inline
            .iter()
            .take(self.len.min(INLINE_ARGUMENTS))
            .chain(&self.spilled)
    }
}

/// A string value found in the file: a literal, a folded concatenation or a decoded constant.
/// Its text lives in [`JsFacts::string_data`] (one buffer per file rather than one allocation
/// per literal): read it with [`JsFacts::value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringFact {
    /// Where the value (truncated to [`MAX_STRING_KEEP`] bytes) is in [`JsFacts::string_data`].
    pub(crate) range: std::ops::Range<usize>,
    /// Length in bytes of the full value.
    pub(crate) length: usize,
    /// The value was produced by decoding (base64, hex, char codes).
    pub(crate) decoded: bool,
    /// Byte offset in the file.
    pub(crate) offset: u32,
}

/// An assignment to a member path, e.g. `window.fetch = ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssignFact {
    /// Normalised target path (`fetch`, `XMLHttpRequest.prototype.open`).
    pub(crate) target: CompactString,
    /// Byte offset in the file.
    pub(crate) offset: u32,
}

/// A member access on an interesting root (`process.env`, `window.ethereum`, `os.homedir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberFact {
    /// Normalised path.
    pub(crate) path: CompactString,
    /// Byte offset in the file.
    pub(crate) offset: u32,
}

/// Everything the rules need to know about one JavaScript/TypeScript file. Its short strings
/// (most callee and member paths, module names, argument constants) are [`CompactString`]s kept
/// inline, so collecting and dropping the facts seldom allocates per fact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsFacts {
    /// Calls and `new` expressions.
    pub(crate) calls: Vec<CallFact>,
    /// String values (literals, folded and decoded constants).
    pub(crate) strings: Vec<StringFact>,
    /// The text of every [`StringFact`], one after the other.
    pub(crate) string_data: String,
    /// Assignments to member paths.
    pub(crate) assignments: Vec<AssignFact>,
    /// Member accesses on interesting roots.
    pub(crate) members: Vec<MemberFact>,
    /// Modules loaded with `require`/`import` (normalised, without `node:`), with offsets.
    pub(crate) modules: Vec<(CompactString, u32)>,
    /// Identifiers (bindings and references) seen.
    pub(crate) identifier_count: usize,
    /// Identifiers in the obfuscator.io style `_0x` + hex digits.
    pub(crate) hex_identifier_count: usize,
    /// Parser errors (the AST is still used as far as it was recovered).
    pub(crate) parse_errors: usize,
    /// The walk stopped early because a fact limit was reached.
    pub(crate) truncated: bool,
}

impl JsFacts {
    /// The (possibly truncated) value of a string fact of these facts.
    pub(crate) fn value(&self, fact: &StringFact) -> &str {
        self.string_data.get(fact.range.clone()).unwrap_or_default()
    }

    /// Every string fact with its value.
    pub(crate) fn string_values(&self) -> impl Iterator<Item = (&StringFact, &str)> {
        self.strings.iter().map(|fact| (fact, self.value(fact)))
    }
}

/// Longest string value kept in a [`StringFact`].
pub(crate) const MAX_STRING_KEEP: usize = 4096;

/// An arena grown past this by a big file is dropped after use rather than kept for the next.
const KEEP_ARENA: usize = 32 * 1024 * 1024;

thread_local! {
    /// One arena per thread, reset between files instead of allocated anew for each.
    static ARENA: RefCell<Allocator> = RefCell::new(Allocator::default());
}

/// Parses `source` (its type chosen from `path`) and collects its facts.
pub(crate) fn collect_facts(path: &str, source: &str) -> JsFacts {
    ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut allocator) => {
            allocator.reset();
            let facts = collect_facts_in(&allocator, path, source);
            if allocator.capacity() > KEEP_ARENA {
                *allocator = Allocator::default();
            } else {
                allocator.reset();
            }
            facts
        }
        // Re-entered (not expected): a private arena.
        Err(_) => collect_facts_in(&Allocator::default(), path, source),
    })
}

fn collect_facts_in(allocator: &Allocator, path: &str, source: &str) -> JsFacts {
    let source_type = source_type_for(path);
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    let mut parsed = Parser::new(allocator, source, source_type)
        .with_options(options)
        .parse();
    if parsed.panicked && source_type.is_javascript() {
        // Old sloppy-mode scripts (octal escapes, `with`) fail as modules: retry as a script.
        let fallback = SourceType::cjs();
        let retry = Parser::new(allocator, source, fallback)
            .with_options(options)
            .parse();
        if !retry.panicked {
            parsed = retry;
        }
    }
    let mut collector = visitor::FactCollector::for_source(source.len());
    oxc_ast_visit::Visit::visit_program(&mut collector, &parsed.program);
    let mut facts = collector.finish();
    facts.parse_errors = parsed.diagnostics.len() + usize::from(parsed.panicked);
    facts
}

fn source_type_for(path: &str) -> SourceType {
    let extension = path.rsplit('.').next().unwrap_or_default();
    // Lowercased on the stack: every extension matched below has at most 3 bytes.
    let mut lowered = [0_u8; 3];
    let extension = match lowered.get_mut(..extension.len()) {
        Some(lowered) => {
            lowered.copy_from_slice(extension.as_bytes());
            lowered.make_ascii_lowercase();
            std::str::from_utf8(lowered).unwrap_or_default()
        }
        None => "",
    };
    match extension {
        "ts" | "mts" | "cts" | "tsx" => {
            SourceType::from_extension(extension).unwrap_or_else(|_| SourceType::ts())
        }
        "mjs" => SourceType::mjs(),
        "cjs" => SourceType::cjs(),
        _ => SourceType::unambiguous().with_jsx(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Arguments` reads like the slice of the first `MAX_ARGUMENTS` values pushed.
    #[test]
    fn arguments_read_like_a_slice() {
        for count in 0..=MAX_ARGUMENTS + 1 {
            let values: Vec<ValueInfo> = (0..count)
                .map(|index| ValueInfo {
                    constant: Some(CompactString::new(index.to_string())),
                    ..ValueInfo::default()
                })
                .collect();
            let mut arguments = Arguments::default();
            for value in &values {
                arguments.push(value.clone());
            }
            let kept = &values[..count.min(MAX_ARGUMENTS)];
            assert_eq!(
                arguments.iter().collect::<Vec<_>>(),
                kept.iter().collect::<Vec<_>>()
            );
            assert_eq!(arguments.first(), kept.first());
            assert_eq!(arguments.last(), kept.last());
            for index in 0..=MAX_ARGUMENTS + 1 {
                assert_eq!(arguments.get(index), kept.get(index), "{count} {index}");
            }
        }
    }

    #[test]
    fn source_type_by_extension_in_any_case() {
        assert_eq!(
            source_type_for("src/index.TS"),
            SourceType::from_extension("ts").unwrap_or_default()
        );
        assert_eq!(
            source_type_for("a.tsx"),
            SourceType::from_extension("tsx").unwrap_or_default()
        );
        assert_eq!(source_type_for("lib/x.Mjs"), SourceType::mjs());
        assert_eq!(source_type_for("x.cjs"), SourceType::cjs());
        let script = SourceType::unambiguous().with_jsx(true);
        assert_eq!(source_type_for("index.js"), script);
        assert_eq!(source_type_for("bin/cli"), script);
        assert_eq!(source_type_for("a.json5"), script);
        assert_eq!(source_type_for("é.é"), script);
    }
}
