use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ### What it does
    /// Recognises javascript-obfuscator (obfuscator.io) output: many `_0x`-hex identifiers,
    /// the rotated string table (`_0x…['push'](_0x…['shift']())` inside a `while (!![])` loop)
    /// and dense `\x` escape sequences in the source.
    ///
    /// ### Why is this bad?
    /// Published npm libraries have no reason to be obfuscated (minifiers do not produce these
    /// shapes); the chalk/debug drainer, Shai-Hulud's `bun_environment.js` and most stealers are.
    /// Obfuscation alone only makes a package suspicious (see `docs/verdict.md`).
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// var _0x1a2b=['log'];(function(_0x3c4d,_0x5e6f){while(!![]){_0x3c4d['push'](_0x3c4d['shift']());}})(_0x1a2b,0x1);
    /// ```
    /// Correct:
    /// ```js
    /// var a=['log'];console[a[0]]('hi');
    /// ```
    ObfuscatorSignature, "obfuscator-signature", Obfuscation,
    tokens = &["_0x"]
}

impl Rule for ObfuscatorSignature {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if file.kind != FileKind::Script {
            return;
        }
        let text = file.text;
        let contains =
            |needle: &str| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some();
        // Each text scan below runs only when the branch before it did not decide.
        let rotation = || {
            (contains("['push'](") && contains("['shift']()"))
                || (contains("[\"push\"](") && contains("[\"shift\"]()"))
                || contains("while(!![])")
                || contains("while (!![])")
        };
        let hex_identifiers = file.js.map_or_else(
            || count_hex_identifiers(text),
            |facts| facts.hex_identifier_count,
        );
        let escapes = || memchr::memmem::find_iter(text.as_bytes(), b"\\x").count();
        let first = || text.find("_0x").unwrap_or(0);
        if hex_identifiers >= 20 && rotation() {
            let first = first();
            out.push(file.finding(&Self::META, Severity::High, Confidence::High, Some(first), format!("obfuscator.io output: {hex_identifiers} `_0x` identifiers and a rotated string table"), None));
        } else if hex_identifiers >= 100 {
            let first = first();
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(first),
                format!("{hex_identifiers} obfuscator-style `_0x` identifiers"),
                None,
            ));
        } else if let Some((count, position)) = dense_hex_literals(text) {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(position),
                format!("{count} hex number literals, a dense index-shuffling obfuscation"),
                None,
            ));
        } else if let Some((count, position)) = junk_identifiers(text) {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(position),
                format!("{count} random 40+ letter names (generated obfuscation)"),
                None,
            ));
        } else if hex_identifiers >= 30 {
            let first = first();
            out.push(file.finding(
                &Self::META,
                Severity::Medium,
                Confidence::Medium,
                Some(first),
                format!("{hex_identifiers} obfuscator-style `_0x` identifiers"),
                None,
            ));
        } else if let escapes = escapes()
            && escapes >= 200
            && escapes * 4 * 10 > text.len()
        {
            let position = text.find("\\x").unwrap_or(0);
            out.push(file.finding(
                &Self::META,
                Severity::Medium,
                Confidence::Medium,
                Some(position),
                format!("{escapes} `\\x` escapes make up most of the file"),
                None,
            ));
        }
    }
}

/// At least 150 hex number literals (`0x4a`) and one per 100 bytes: js-confuser/JScrambler index
/// arithmetic. Minified code and crypto tables are far sparser.
/// Hex number literals used as operands (`_0x4f(0x1a2)`, `a[0x3]`, `-0x1*0x5+0x9`), at least 150
/// and one per 100 bytes. Elements of literal tables (`[0x63, 0x7c, …]`: between `[`/`,` and
/// `,`/`]`) do not count: crypto and encoding libraries ship S-boxes and CRC tables as such.
fn dense_hex_literals(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut first = None;
    for position in memchr::memmem::find_iter(bytes, b"0x") {
        let before = position.checked_sub(1).and_then(|index| bytes.get(index));
        let after = bytes.get(position + 2);
        if before.is_some_and(|byte| byte.is_ascii_alphanumeric() || *byte == b'_' || *byte == b'$')
            || !after.is_some_and(u8::is_ascii_hexdigit)
            || is_table_element(bytes, position)
        {
            continue;
        }
        count += 1;
        first.get_or_insert(position);
    }
    (count >= 150 && count * 100 >= text.len()).then(|| (count, first.unwrap_or(0)))
}

/// The hex literal at `position` sits in a list: `[` or `,` before it, `,` or `]` after it.
fn is_table_element(bytes: &[u8], position: usize) -> bool {
    let previous = bytes[..position]
        .iter()
        .rev()
        .take(64)
        .find(|byte| !byte.is_ascii_whitespace());
    let literal_end = bytes[position + 2..]
        .iter()
        .position(|byte| !(byte.is_ascii_hexdigit() || *byte == b'_' || *byte == b'n'))
        .map_or(bytes.len(), |offset| position + 2 + offset);
    let next = bytes[literal_end..]
        .iter()
        .take(64)
        .find(|byte| !byte.is_ascii_whitespace());
    matches!(previous, Some(b'[' | b',')) && matches!(next, Some(b',' | b']'))
}

/// Length of a lowercase run that counts as a generated name.
const JUNK_NAME: usize = 40;

/// Distance between probed 8-byte words. A run of [`JUNK_NAME`] letters holds at least four
/// whole words that start at multiples of 8, so it holds one that starts at a multiple of 32.
const JUNK_PROBE: usize = 32;

/// Runs of at least [`JUNK_NAME`] lowercase ASCII letters: probes the 8-byte word at every
/// multiple of [`JUNK_PROBE`] (every such run contains one whole) and expands around the words
/// that are all lowercase, which ordinary code rarely has at a probed offset.
fn junk_identifiers(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut first = None;
    let mut probe = 0;
    while let Some(word) = bytes.get(probe..probe + 8) {
        if !all_lowercase(word) {
            probe += JUNK_PROBE;
            continue;
        }
        let mut start = probe;
        while start > 0 && bytes[start - 1].is_ascii_lowercase() {
            start -= 1;
        }
        let mut end = probe + 8;
        while end < bytes.len() && bytes[end].is_ascii_lowercase() {
            end += 1;
        }
        if end - start >= JUNK_NAME {
            count += 1;
            first.get_or_insert(start);
        }
        // `end` is not lowercase (or the end): the next run starts after it.
        probe = (end + 1).next_multiple_of(JUNK_PROBE);
    }
    (count >= 50).then(|| (count, first.unwrap_or(0)))
}

/// Whether the 8 bytes of `word` are all ASCII lowercase letters, tested on the word at once
/// (no branch per byte).
fn all_lowercase(word: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let Ok(word) = <[u8; 8]>::try_from(word) else {
        return false;
    };
    let word = u64::from_le_bytes(word);
    // Below 0x80 each byte plus (0x80 - b) has its high bit set exactly when it is at least b,
    // and no sum carries into the next byte.
    word & HIGH == 0
        && word.wrapping_add(ONES * (0x80 - u64::from(b'a'))) & HIGH == HIGH
        && word.wrapping_add(ONES * (0x80 - u64::from(b'z') - 1)) & HIGH == 0
}

fn count_hex_identifiers(text: &str) -> usize {
    memchr::memmem::find_iter(text.as_bytes(), b"_0x")
        .filter(|position| {
            let rest = &text.as_bytes()[position + 3..];
            rest.iter()
                .take(4)
                .filter(|byte| byte.is_ascii_hexdigit())
                .count()
                >= 3
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    #[test]
    fn test() {
        let mut pass = vec![
            "var a=['log'];console[a[0]]('hi');".into(),
            "const _0x = 1; const x_0x12 = 2;".into(),
            "!function(e,t){'object'==typeof exports?module.exports=t():e.lib=t()}(this,function(){return 1});".into(),
        ];
        // A CRC/S-box table: hundreds of hex literals, densely packed, but only as list elements.
        let table = format!(
            "var T=[{}];module.exports=function(b){{return T[b&0xff]}};",
            (0..400)
                .map(|i| format!("0x{:02x}", (i * 37) % 256))
                .collect::<Vec<_>>()
                .join(",")
        );
        pass.push(Case::Js(Box::leak(table.into_boxed_str())));
        // Index shuffling: the same density as operands.
        let shuffled = format!(
            "var a=x();{}",
            (0..300)
                .map(|i| format!("a[0x{i:x}]+-0x{:x}*0x2;", i + 1))
                .collect::<String>()
        );
        let fail = vec![
            Case::Js(Box::leak(shuffled.into_boxed_str())),
            "var _0x1a2b=['log','hi'];(function(_0x3c4d,_0x5e6f){var _0x1111=function(_0x2222){while(--_0x2222){_0x3c4d['push'](_0x3c4d['shift']());}};_0x1111(++_0x5e6f);}(_0x1a2b,0x1a3));var _0xab12=function(_0xcd34,_0xef56){_0xcd34=_0xcd34-0x0;var _0x7890=_0x1a2b[_0xcd34];return _0x7890;};console[_0xab12('0x0')](_0xab12('0x1'));var _0xa1=1,_0xa2=2,_0xa3=3,_0xa4=4,_0xa5=5,_0xa6=6,_0xa7=7,_0xa8=8,_0xa9=9;".into(),
        ];
        test_rule(ObfuscatorSignature::META.name, pass, fail);
    }

    /// The probing scan finds exactly the maximal lowercase runs of [`JUNK_NAME`]+ letters that
    /// a byte-by-byte scan finds.
    #[test]
    fn junk_identifiers_match_a_byte_scan() {
        fn byte_scan(text: &str) -> Option<(usize, usize)> {
            let mut runs = Vec::new();
            let mut start = None;
            for (index, byte) in text.bytes().chain([b' ']).enumerate() {
                match (byte.is_ascii_lowercase(), start) {
                    (true, None) => start = Some(index),
                    (false, Some(run_start)) => {
                        if index - run_start >= JUNK_NAME {
                            runs.push(run_start);
                        }
                        start = None;
                    }
                    _ => {}
                }
            }
            (runs.len() >= 50).then(|| (runs.len(), runs[0]))
        }
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        for round in 0..3_000 {
            let lowercase_share = 90 + round % 10;
            let text: String = (0..200 + (round * 7_919) % 12_000)
                .map(|_| {
                    let draw = next();
                    if draw % 100 < lowercase_share {
                        char::from(b'a' + (draw / 100 % 26) as u8)
                    } else {
                        [' ', 'A', '{', '`', 'Z', '0', '\u{e9}'][(draw / 100 % 7) as usize]
                    }
                })
                .collect();
            assert_eq!(junk_identifiers(&text), byte_scan(&text), "{text}");
        }
        assert!(all_lowercase(b"abcdwxyz"));
        assert!(!all_lowercase(b"abcdwxy{"));
        assert!(!all_lowercase(b"`bcdwxyz"));
        assert!(!all_lowercase(b"abcd\xe9xyz"));
    }
}
