//! Hostile inputs never panic: pseudo-random strings through every parser.

use bulwark_advisory::osv::OsvRecord;
use bulwark_advisory::osv::severity::score;
use bulwark_advisory::{Range, Version};

/// Deterministic xorshift so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.next() % items.len() as u64).unwrap_or(0)]
    }

    fn text(&mut self, alphabet: &[&str], max: u64) -> String {
        let len = self.next() % max;
        (0..len).map(|_| self.pick(alphabet)).collect()
    }
}

const SEMVER_ALPHABET: &[&str] = &[
    "0",
    "1",
    "2",
    "9",
    "01",
    ".",
    "-",
    "+",
    "x",
    "X",
    "*",
    "^",
    "~",
    ">",
    "<",
    "=",
    " ",
    "||",
    "v",
    "a",
    "Z",
    "9007199254740993",
    "\u{e9}",
    "\t",
];

#[test]
fn versions_and_ranges_never_panic_and_ranges_round_trip() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut parsed = 0;
    for _ in 0..50_000 {
        let input = rng.text(SEMVER_ALPHABET, 24);
        let _ = Version::parse(&input);
        if let Ok(range) = Range::parse(&input) {
            parsed += 1;
            let shown = range.to_string();
            let again =
                Range::parse(&shown).unwrap_or_else(|e| panic!("{input:?} -> {shown:?}: {e}"));
            assert_eq!(again, range, "{input:?} -> {shown:?}");
        }
    }
    assert!(
        parsed > 1_000,
        "the generator exercises valid ranges too ({parsed})"
    );
}

#[test]
fn cvss_vectors_never_panic() {
    let metrics = [
        "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA", "S", "C", "I", "A", "E",
        "MAV", "CR", "S", "AU", "R", "V", "RE", "U",
    ];
    let values = [
        "N", "L", "H", "P", "A", "X", "R", "U", "C", "S", "Q", "", "NN",
    ];
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for _ in 0..20_000 {
        let prefix = rng.pick(&["CVSS:4.0", "CVSS:3.1", "CVSS:3.0", "CVSS:4.1", ""]);
        let count = rng.next() % 16;
        let mut vector = prefix.to_owned();
        for _ in 0..count {
            vector.push('/');
            vector.push_str(rng.pick(&metrics));
            vector.push(':');
            vector.push_str(rng.pick(&values));
        }
        for kind in ["CVSS_V3", "CVSS_V4", "X"] {
            if let Ok(value) = score(kind, &vector) {
                assert!((0.0..=10.0).contains(&value), "{vector}: {value}");
            }
        }
    }
}

#[test]
fn osv_records_never_panic() {
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"id\"",
        "\"modified\"",
        "\"affected\"",
        "\"ranges\"",
        "\"events\"",
        "\"introduced\"",
        "\"fixed\"",
        "\"0\"",
        "\"1.0.0\"",
        "null",
        "\"x\"",
        "\"package\"",
        "\"versions\"",
        "\"type\"",
        "\"SEMVER\"",
        "1e999",
        "-0",
        "\"\\u0000\"",
    ];
    let mut rng = Rng(0x0BAD_F00D_0BAD_F00D);
    for _ in 0..50_000 {
        let input = rng.text(&pieces, 40);
        let _ = OsvRecord::from_json(input.as_bytes());
    }
    // Deep nesting is refused by the JSON parser's recursion limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(OsvRecord::from_json(deep.as_bytes()).is_err());
}
