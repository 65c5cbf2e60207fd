//! Registry signatures of `../shared/fixtures/npm-trust/registry-signatures`: every valid entry
//! verifies, every invalid one fails with the expected reason.

use std::path::{Path, PathBuf};

use bulwark_integrity::keys::{KeyUsage, RegistryKeys};
use bulwark_integrity::signatures::{
    RegistrySignature, SignatureOutcome, verify_registry_signatures,
};
use bulwark_types::time::parse_rfc3339;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/npm-trust")
}

fn load(path: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn keys(relative_to_signatures: &str) -> RegistryKeys {
    let path = fixtures()
        .join("registry-signatures")
        .join(relative_to_signatures);
    RegistryKeys::parse(&std::fs::read(&path).unwrap()).unwrap()
}

fn signatures(entry: &Value) -> Option<Vec<RegistrySignature>> {
    entry["dist"]
        .get("signatures")
        .map(|value| serde_json::from_value(value.clone()).unwrap())
}

/// Verifies a fixture entry's signatures as published at `published` (RFC 3339).
fn verify_entry(entry: &Value, published: Option<&str>, keys: &RegistryKeys) -> SignatureOutcome {
    verify_registry_signatures(
        entry["name"].as_str().unwrap(),
        entry["version"].as_str().unwrap(),
        entry["dist"]["integrity"].as_str().unwrap(),
        signatures(entry).as_deref(),
        published.and_then(parse_rfc3339),
        keys,
    )
}

/// Asserts that a fixture entry's signatures are valid as published at `published`.
fn assert_verifies(entry: &Value, published: &str, keys: &RegistryKeys) {
    let outcome = verify_entry(entry, Some(published), keys);
    assert!(
        outcome.is_valid(),
        "{}@{}: {outcome:?}",
        entry["name"],
        entry["version"]
    );
}

/// The npm/cli entries carry no publish date in the fixture; the README states they were all
/// published before the old key's expiry (2025-01-29): npm/cli recorded them in its tests in
/// 2022-2023. One day before that expiry stands in for their `time[version]`.
const BEFORE_OLD_KEY_EXPIRY: &str = "2025-01-28T00:00:00Z";

/// All 13 valid signatures verify under the published keys, judged at their publish time.
#[test]
fn every_valid_signature_verifies() {
    let document = load(&fixtures().join("registry-signatures/valid.json"));
    let keys = keys("../registry-keys/npm-v1-keys.json");
    let entries = document["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 13);
    for entry in entries {
        let published = entry["published_approx"]
            .as_str()
            .map(|day| format!("{day}T00:00:00Z"))
            .unwrap_or_else(|| BEFORE_OLD_KEY_EXPIRY.to_owned());
        assert_verifies(entry, &published, &keys);
    }
}

/// The same signatures under the TUF-shaped key set (keys selected by `npm:signatures`).
#[test]
fn tuf_shaped_keys_verify_the_same_signatures() {
    let keys = keys("../registry-keys/sigstore-tuf-registry.npmjs.org-keys.json");
    assert!(
        keys.find(
            "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
            KeyUsage::Attestations
        )
        .is_some()
    );
    let document = load(&fixtures().join("registry-signatures/valid.json"));
    for entry in document["entries"].as_array().unwrap() {
        assert_verifies(entry, "2025-01-20T00:00:00Z", &keys);
    }
}

/// Comparing the expiry with "now" would fail every old-key signature: the rule is publish time.
#[test]
fn expiry_compares_publish_time_not_now() {
    let keys = keys("../registry-keys/npm-v1-keys.json");
    let document = load(&fixtures().join("registry-signatures/valid.json"));
    let entry = &document["entries"][0];
    let check = |published: Option<&str>| verify_entry(entry, published, &keys);
    assert!(check(Some("2023-01-01T00:00:00Z")).is_valid());
    assert_eq!(
        check(Some("2025-01-29T00:00:00.000Z")).code(),
        "expired-key"
    );
    assert_eq!(check(Some("2026-01-01T00:00:00Z")).code(), "expired-key");
    // npm: an unknown publish time is not before the expiry.
    assert_eq!(check(None).code(), "expired-key");
}

/// Each invalid case fails with the reason `invalid.json` states.
#[test]
fn every_invalid_signature_fails_with_its_reason() {
    let document = load(&fixtures().join("registry-signatures/invalid.json"));
    let entries = document["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 10);
    for entry in entries {
        let expected = entry["expected"].as_str().unwrap();
        // The expired-key case needs a publish time after the key's 2021-01-11 expiry; the
        // others are judged before any expiry so that only their own defect shows.
        let published = if expected == "expired-key" {
            "2022-06-01T00:00:00Z"
        } else {
            "2020-06-01T00:00:00Z"
        };
        let outcome = verify_entry(
            entry,
            Some(published),
            &keys(entry["keys"].as_str().unwrap()),
        );
        assert_eq!(outcome.code(), expected, "{}: {outcome:?}", entry["why"]);
    }
}

/// An empty key set means a registry that does not sign: nothing is claimed verified.
#[test]
fn no_keys_means_unsigned() {
    let outcome = verify_registry_signatures(
        "a",
        "1.0.0",
        "sha512-x",
        None,
        None,
        &RegistryKeys::default(),
    );
    assert_eq!(outcome, SignatureOutcome::Unsigned);
}
