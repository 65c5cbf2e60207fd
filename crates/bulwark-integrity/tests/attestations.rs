//! Provenance attestations of `../shared/fixtures/npm-trust/attestations`: every valid response
//! verifies completely, and every tampered one fails exactly the checks `expectations.json`
//! lists for it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_integrity::keys::RegistryKeys;
use bulwark_integrity::provenance::{Attestations, Check, Expected, Signer, verify_attestations};
use bulwark_integrity::sri;
use bulwark_integrity::trusted_root::TrustedRoot;
use bulwark_types::{Algorithm, Integrity};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/npm-trust")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn trust() -> (TrustedRoot, RegistryKeys) {
    let root =
        TrustedRoot::parse(&read(&fixtures().join("sigstore-trust/trusted_root.json"))).unwrap();
    let keys = RegistryKeys::parse(&read(
        &fixtures().join("registry-keys/sigstore-tuf-registry.npmjs.org-keys.json"),
    ))
    .unwrap();
    (root, keys)
}

/// The integrity the subject must match: the tarball's sha512, or for the packages without a
/// tarball here the registry `dist.integrity` recorded in `registry-signatures/valid.json`.
fn integrity_of(entry: &Value) -> Option<Integrity> {
    if let Some(tarball) = entry["tarball"].as_str() {
        return Some(sri::digest(
            Algorithm::Sha512,
            &read(&fixtures().join("attestations").join(tarball)),
        ));
    }
    let signatures: Value =
        serde_json::from_slice(&read(&fixtures().join("registry-signatures/valid.json"))).unwrap();
    signatures["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|signed| {
            (signed["name"] == entry["package"] && signed["version"] == entry["version"]).then(
                || Integrity::parse_sri(signed["dist"]["integrity"].as_str().unwrap()).unwrap(),
            )
        })
}

fn expectations() -> Vec<Value> {
    let document: Value =
        serde_json::from_slice(&read(&fixtures().join("attestations/expectations.json"))).unwrap();
    document["entries"].as_array().unwrap().clone()
}

/// The `expectations.json` entries whose `expected` is `kind` (`valid` or `invalid`).
fn expectations_of(kind: &str) -> Vec<Value> {
    expectations()
        .into_iter()
        .filter(|entry| entry["expected"] == kind)
        .collect()
}

/// Verifies the attestations file of an `expectations.json` entry against the entry's package,
/// version and integrity; returns the file's path (for messages) and the result.
fn verify_entry(entry: &Value, root: &TrustedRoot, keys: &RegistryKeys) -> (PathBuf, Attestations) {
    let path = fixtures()
        .join("attestations")
        .join(entry["file"].as_str().unwrap());
    let integrity = integrity_of(entry);
    let expected = Expected {
        name: entry["package"].as_str().unwrap(),
        version: entry["version"].as_str().unwrap(),
        integrity: integrity.as_ref(),
    };
    let result = verify_attestations(&read(&path), expected, root, keys).unwrap();
    (path, result)
}

/// `publish/v0.1` from the full predicate type, as `expectations.json` keys its failing checks.
fn short_predicate(predicate_type: &str) -> String {
    let parts: Vec<&str> = predicate_type.rsplitn(3, '/').collect();
    format!("{}/{}", parts[1], parts[0])
}

/// The checks `expectations.json` reports on (its `checks_legend`).
const LEGEND: [Check; 3] = [Check::DsseSig, Check::BodyBinds, Check::StmtPredicateMatch];

/// 9 files, 18 attestations: every check passes, and provenance facts are extracted.
#[test]
fn every_valid_attestation_verifies() {
    let (root, keys) = trust();
    let entries = expectations_of("valid");
    for entry in &entries {
        let (path, result) = verify_entry(entry, &root, &keys);
        assert_eq!(result.entries.len(), 2, "{}", path.display());
        for report in &result.entries {
            assert!(
                report.is_verified(),
                "{} {}: {:?}",
                path.display(),
                report.predicate_type,
                report.failures
            );
        }
        let facts = result.provenance.expect("verified provenance");
        assert!(
            facts
                .repository
                .as_deref()
                .is_some_and(|repo| repo.starts_with("https://github.com/")),
            "{facts:?}"
        );
        assert!(
            facts
                .workflow
                .as_deref()
                .is_some_and(|path| path.starts_with(".github/workflows/")),
            "{facts:?}"
        );
        assert!(
            facts.builder.is_some() && facts.commit.is_some(),
            "{facts:?}"
        );
        assert_eq!(
            facts.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
    }
    assert_eq!(entries.len(), 9);
}

/// 22 tampered files: the legend checks that fail are exactly the listed ones, per attestation;
/// the log and certificate checks of the untouched parts still pass.
#[test]
fn every_tampered_attestation_fails_the_listed_checks() {
    let (root, keys) = trust();
    let entries = expectations_of("invalid");
    for entry in &entries {
        let (path, result) = verify_entry(entry, &root, &keys);
        let failing = entry["failing_checks"].as_object().unwrap();
        assert!(!result.all_verified(), "{}", path.display());
        for report in &result.entries {
            let key = short_predicate(&report.predicate_type);
            let expected: BTreeSet<String> = failing
                .get(&key)
                .map(|checks| {
                    checks
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let actual: BTreeSet<String> = report
                .failures
                .iter()
                .filter(|failure| LEGEND.contains(&failure.check))
                .map(|failure| failure.check.code().to_owned())
                .collect();
            assert_eq!(
                actual,
                expected,
                "{} [{key}]: {:?}",
                path.display(),
                report.failures
            );
            for check in [
                Check::CertChain,
                Check::Sct,
                Check::TlogSet,
                Check::InclusionProof,
                Check::PublishKey,
                Check::BundleFormat,
            ] {
                assert!(
                    !report.failed(check),
                    "{} [{key}]: {:?}",
                    path.display(),
                    report.failures
                );
            }
            if expected.is_empty() {
                assert!(
                    report.is_verified(),
                    "{} [{key}]: {:?}",
                    path.display(),
                    report.failures
                );
            }
        }
    }
    assert_eq!(entries.len(), 22);
}

/// Test-level negatives: another package's tarball (digest), another name (subject), one entry
/// removed, and a trusted root without the Fulcio CAs or Rekor keys.
#[test]
fn digest_subject_and_trust_negatives() {
    let (root, keys) = trust();
    let file = read(
        &fixtures()
            .join("attestations/valid/laurentsimon-provenance-npm-test-1.0.5.slsa-v0.2.json"),
    );
    let other = sri::digest(
        Algorithm::Sha512,
        &read(&fixtures().join("tarballs/laurentsimon-provenance-npm-test-1.0.3.tgz")),
    );
    let name = "@laurentsimon/provenance-npm-test";
    let result = verify_attestations(
        &file,
        Expected {
            name,
            version: "1.0.5",
            integrity: Some(&other),
        },
        &root,
        &keys,
    )
    .unwrap();
    assert!(result.entries.iter().all(|report| {
        report.failures.iter().map(|f| f.check).collect::<Vec<_>>() == [Check::SubjectDigest]
    }));
    assert!(result.provenance.is_none());

    let result = verify_attestations(
        &file,
        Expected {
            name,
            version: "1.0.4",
            integrity: None,
        },
        &root,
        &keys,
    )
    .unwrap();
    assert!(
        result
            .entries
            .iter()
            .all(|report| report.failed(Check::SubjectName))
    );

    let mut response: Value = serde_json::from_slice(&file).unwrap();
    response["attestations"]
        .as_array_mut()
        .unwrap()
        .retain(|entry| entry["predicateType"] != "https://slsa.dev/provenance/v0.2");
    let result = verify_attestations(
        &serde_json::to_vec(&response).unwrap(),
        Expected {
            name,
            version: "1.0.5",
            integrity: None,
        },
        &root,
        &keys,
    )
    .unwrap();
    assert!(
        result.all_verified() && result.provenance.is_none(),
        "publish attestation alone is no provenance"
    );

    let mut no_cas = root.clone();
    no_cas.certificate_authorities.clear();
    let result = verify_attestations(
        &file,
        Expected {
            name,
            version: "1.0.5",
            integrity: None,
        },
        &no_cas,
        &keys,
    )
    .unwrap();
    let provenance = result
        .entries
        .iter()
        .find(|report| report.signer == Signer::Certificate)
        .unwrap();
    assert!(provenance.failed(Check::CertChain));

    let mut no_logs = root.clone();
    no_logs.tlogs.clear();
    let result = verify_attestations(
        &file,
        Expected {
            name,
            version: "1.0.5",
            integrity: None,
        },
        &no_logs,
        &keys,
    )
    .unwrap();
    assert!(
        result
            .entries
            .iter()
            .all(|report| report.failed(Check::TlogSet))
    );

    let result = verify_attestations(
        &file,
        Expected {
            name,
            version: "1.0.5",
            integrity: None,
        },
        &root,
        &RegistryKeys::default(),
    )
    .unwrap();
    let publish = result
        .entries
        .iter()
        .find(|report| report.signer == Signer::NpmKey)
        .unwrap();
    assert!(publish.failed(Check::PublishKey));
}

/// Malformed bundles, certificates and signatures are failures for that entry, never panics and
/// never verified.
#[test]
fn malformed_bundles_are_failures() {
    let (root, keys) = trust();
    let expected = Expected {
        name: "a",
        version: "1.0.0",
        integrity: None,
    };
    assert!(verify_attestations(b"not json", expected, &root, &keys).is_err());
    assert!(
        verify_attestations(b"{\"attestations\":[{}]}", expected, &root, &keys)
            .unwrap()
            .entries[0]
            .failed(Check::BundleFormat)
    );
    let file = read(&fixtures().join("attestations/valid/sigstore-2.3.1.json"));
    let original: Value = serde_json::from_slice(&file).unwrap();
    let mutations: [(&str, Value); 5] = [
        (
            "/bundle/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
            Value::from("AAAA"),
        ),
        (
            "/bundle/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
            Value::from("%%%"),
        ),
        ("/bundle/dsseEnvelope/signatures/0/sig", Value::from("MAA=")),
        (
            "/bundle/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
            Value::from("AAAA"),
        ),
        (
            "/bundle/verificationMaterial/tlogEntries/0/canonicalizedBody",
            Value::from("e30="),
        ),
    ];
    for (pointer, replacement) in mutations {
        for index in 0..2 {
            let mut response = original.clone();
            let Some(slot) = response["attestations"][index].pointer_mut(pointer) else {
                continue;
            };
            *slot = replacement.clone();
            let result = verify_attestations(
                &serde_json::to_vec(&response).unwrap(),
                Expected {
                    name: "sigstore",
                    version: "2.3.1",
                    integrity: None,
                },
                &root,
                &keys,
            )
            .unwrap();
            assert!(
                !result.entries[index].is_verified(),
                "{pointer} on entry {index}"
            );
        }
    }
}
