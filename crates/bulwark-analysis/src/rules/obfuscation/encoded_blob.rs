use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// Shortest literal considered an encoded blob.
const MIN_BLOB: usize = 2000;

declare_rule! {
    /// ### What it does
    /// Finds long high-entropy base64/hex literals (not `data:` URIs), reports files that are
    /// mostly one such literal, and code hidden behind long runs of whitespace on one line.
    ///
    /// ### Why is this bad?
    /// A payload stored as an encoded blob cannot be reviewed; loaders that are a few lines of
    /// code around a megabyte of base64 are a classic stage-one shape, and code pushed hundreds
    /// of columns to the right hides from editors and diffs.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// const p = "aGVsbG8gd29ybGQ...(100 KB)..."; run(p);
    /// ```
    /// Correct:
    /// ```js
    /// const icon = "data:image/png;base64,iVBORw0KGgo...";
    /// ```
    EncodedBlob, "encoded-blob", Obfuscation
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(text: &str) -> f64 {
    let mut counts = [0usize; 256];
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "lengths far below 2^52")]
    let length = text.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            #[expect(clippy::cast_precision_loss, reason = "lengths far below 2^52")]
            let probability = *count as f64 / length;
            -probability * probability.log2()
        })
        .sum()
}

/// Base64 alphabet (with URL-safe `-`/`_` excluded: they are common in identifiers).
const fn encoded_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut index = 0;
    while index < 256 {
        let byte = index as u8;
        table[index] = byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/' || byte == b'=';
        index += 1;
    }
    table
}
static ENCODED: [bool; 256] = encoded_table();

/// One pass over the bytes: the longest base64 run (start, length), the bytes covered by runs of
/// 1,000+ characters that are not `data:…;base64,` URIs (inline source maps), and where the first
/// such run starts.
/// Runs shorter than this are never reported (only `longest` beyond [`MIN_BLOB`] and runs of at
/// least this length are used), so the scan probes one byte in this many and expands around the
/// encoded ones: every run this long contains a probed position.
const MIN_RUN: usize = 1000;

/// The longest encoded run `(start, length)` when it is at least [`MIN_RUN`] long (else some
/// shorter run or `(0, 0)`), the bytes covered by runs of at least [`MIN_RUN`] that are not
/// `data:` URIs, and the start of the first such run.
fn scan_runs(bytes: &[u8]) -> ((usize, usize), usize, usize) {
    let mut longest = (0, 0);
    let mut covered = 0;
    let mut first = None;
    let mut probe = 0;
    while probe < bytes.len() {
        if !ENCODED[usize::from(bytes[probe])] {
            probe += MIN_RUN;
            continue;
        }
        let mut start = probe;
        while start > 0 && ENCODED[usize::from(bytes[start - 1])] {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < bytes.len() && ENCODED[usize::from(bytes[end])] {
            end += 1;
        }
        let length = end - start;
        if length > longest.1 {
            longest = (start, length);
        }
        if length >= MIN_RUN {
            let data_uri = bytes
                .get(start.saturating_sub(40)..start)
                .is_some_and(|before| memchr::memmem::find(before, b"base64,").is_some());
            if !data_uri {
                covered += length;
                first.get_or_insert(start);
            }
        }
        // `end` is not encoded (or the end): the next run starts after it.
        probe = (end + 1).next_multiple_of(MIN_RUN);
    }
    (longest, covered, first.unwrap_or(0))
}

/// Spaces in a row that can hide code to the right of the screen.
const HIDING_SPACES: usize = 150;

/// Where the first run of at least [`HIDING_SPACES`] spaces starts. Probes one byte in
/// [`HIDING_SPACES`] (every such run contains a probed position, and an earlier run an earlier
/// one) and expands around spaces, instead of searching for a needle of spaces, which stops at
/// every space of the file.
fn first_space_run(bytes: &[u8]) -> Option<usize> {
    let mut probe = HIDING_SPACES - 1;
    while probe < bytes.len() {
        if bytes[probe] != b' ' {
            probe += HIDING_SPACES;
            continue;
        }
        let mut start = probe;
        while start > 0 && bytes[start - 1] == b' ' {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < bytes.len() && bytes[end] == b' ' {
            end += 1;
        }
        if end - start >= HIDING_SPACES {
            return Some(start);
        }
        // `end` is not a space (or the end): the next run starts after it.
        probe = end + 1;
        probe += (HIDING_SPACES - 1 - probe % HIDING_SPACES) % HIDING_SPACES;
    }
    None
}

fn is_encoded_charset(text: &str) -> bool {
    text.bytes().all(|byte| {
        byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'-' | b'_')
    })
}

impl Rule for EncodedBlob {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Long encoded literals are reported from the parsed strings: parse files with such a run.
    fn wants_parse(&self, bytes: &[u8]) -> bool {
        scan_runs(bytes).0.1 >= MIN_BLOB
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike) {
            return;
        }
        let runs = scan_runs(file.text.as_bytes());
        if let Some(facts) = file.js {
            for (fact, value) in facts.string_values() {
                if fact.length < MIN_BLOB
                    || fact.decoded
                    || !is_encoded_charset(value)
                    || entropy(value) < 3.5
                {
                    continue;
                }
                let preceding = file
                    .text
                    .get((fact.offset as usize).saturating_sub(40)..fact.offset as usize)
                    .unwrap_or_default();
                if preceding.contains("base64,") || preceding.contains("wasm") {
                    continue;
                }
                let share = fact.length * 100 / file.text.len().max(1);
                let (severity, message) = if share >= 50 && fact.length >= 10_000 {
                    (
                        Severity::Medium,
                        format!(
                            "the file is {share}% one encoded literal ({} bytes)",
                            fact.length
                        ),
                    )
                } else {
                    (
                        Severity::Low,
                        format!("encoded high-entropy literal of {} bytes", fact.length),
                    )
                };
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::Medium,
                    Some(fact.offset as usize),
                    message,
                    None,
                ));
            }
        }
        {
            if let ((start, length), _, _) = runs
                && length >= MIN_BLOB
                && entropy(file.text.get(start..start + length).unwrap_or_default()) >= 3.5
                && !file
                    .text
                    .get(start.saturating_sub(40)..start)
                    .unwrap_or_default()
                    .contains("base64,")
            {
                let share = length * 100 / file.text.len().max(1);
                let severity = if share >= 50 && length >= 10_000 {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::Low,
                    Some(start),
                    format!("encoded run of {length} bytes ({share}% of the file)"),
                    None,
                ));
            }
        }
        // Files that are mostly encoded data outside string literals (payload containers).
        let (_, coverage, first_run) = runs;
        let in_strings: usize = file.js.map_or(0, |facts| {
            facts
                .strings
                .iter()
                .filter(|fact| fact.length >= 1000)
                .map(|fact| fact.length)
                .sum()
        });
        if file.text.len() >= 50_000
            && coverage * 100 >= file.text.len() * 60
            && in_strings * 2 < coverage
        {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(first_run),
                format!(
                    "{}% of the file is encoded data outside string literals",
                    coverage * 100 / file.text.len()
                ),
                None,
            ));
        }
        // Code hidden after a long run of spaces on one line.
        if let Some(position) = first_space_run(file.text.as_bytes()) {
            let rest = &file.text[position..];
            let code_start = rest.find(|character: char| character != ' ').unwrap_or(0);
            let after = &rest[code_start..];
            let line_end = after.find('\n').unwrap_or(after.len());
            let hidden = &after[..line_end];
            let before_start = file.text[..position]
                .rfind('\n')
                .map_or(0, |newline| newline + 1);
            let before = file.text[before_start..position].trim();
            if code_start > 0
                && !before.is_empty()
                && !before.starts_with("//")
                && !before.starts_with('*')
                && hidden.len() > 10
                && (hidden.contains('(') || hidden.contains('='))
            {
                out.push(file.finding(
                    &Self::META,
                    Severity::Medium,
                    Confidence::Medium,
                    Some(position + code_start),
                    "code hidden after a long run of whitespace".to_owned(),
                    Some(hidden),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    fn blob_file() -> Case {
        let blob: String = (0..12_000u32)
            .map(|index| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                        [((index * 7919) % 64) as usize],
                )
            })
            .collect();
        let code: &'static str =
            Box::leak(format!("const p = \"{blob}\"; run(p);").into_boxed_str());
        Case::Js(code)
    }

    /// The probing search finds the same first run as a plain search for the spaces.
    #[test]
    fn first_space_run_is_the_first_needle_of_spaces() {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for before in [0, 1, 148, 149, 150, 151, 299, 300, 450] {
            for run in [149, 150, 151, 299, 300, 301] {
                for short_first in [false, true] {
                    let mut text = vec![b'x'; before];
                    if short_first && before > 140 {
                        text[..140].fill(b' ');
                    }
                    text.extend(std::iter::repeat_n(b' ', run));
                    text.extend(b"x = 1;");
                    texts.push(text);
                }
            }
        }
        for text in texts {
            assert_eq!(
                first_space_run(&text),
                memchr::memmem::find(&text, &[b' '; HIDING_SPACES]),
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn test() {
        let icon: String = (0..3000u32)
            .map(|index| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                        [((index * 31) % 64) as usize],
                )
            })
            .collect();
        let icon_code: &'static str =
            Box::leak(format!("const icon = \"data:image/png;base64,{icon}\";").into_boxed_str());
        let pass = vec![
            Case::Js(icon_code),
            "const s = 'hello world';\n// a comment".into(),
        ];
        let spaced: &'static str =
            Box::leak(format!("const a = 1;{}eval(atob(x));\n", " ".repeat(300)).into_boxed_str());
        let container: &'static str = Box::leak(
            (0..30)
                .map(|line| format!("var H4sI{line}{} = 1;\n", icon.replace('+', "A")))
                .collect::<String>()
                .into_boxed_str(),
        );
        let fail = vec![blob_file(), Case::Js(spaced), Case::Js(container)];
        test_rule(EncodedBlob::META.name, pass, fail);
        assert!(entropy("aaaa") < 0.1);
    }
}
