//! npm attestations (`/-/npm/v1/attestations/<name>@<version>`): Sigstore bundles (v0.1, v0.2,
//! v0.3) wrapping DSSE envelopes of in-toto statements. The publish attestation is signed by an
//! npm key; SLSA provenance by a Fulcio certificate. Every check runs on its own and every
//! failure is kept as a typed [`Check`], so a tampered bundle says exactly what broke.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bulwark_types::{Algorithm, Integrity};
use serde::{Deserialize, Serialize};

use crate::certificate::{self, Identity};
use crate::crypto::{HashAlgorithm, PublicKey, hex};
use crate::keys::{KeyUsage, RegistryKeys};
use crate::rekor::{self, TlogEntry};
use crate::trusted_root::{RawBytes, TrustedRoot};

/// The only DSSE payload type an attestation may have.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The npm publish attestation's predicate type.
pub const PUBLISH_PREDICATE: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v0.1",
    "https://in-toto.io/Statement/v1",
];
/// Largest attestation response read.
pub const MAX_ATTESTATIONS_BYTES: usize = 8 << 20;

/// One check of an attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The bundle is not well formed (missing envelope, certificate, log entry, bad base64).
    BundleFormat,
    /// The DSSE signature over PAE(type, payload) with the certificate or npm key.
    DsseSig,
    /// The Rekor body records sha256(payload) and the envelope signature.
    BodyBinds,
    /// payloadType is in-toto, `_type` is an in-toto Statement, and its predicateType equals the
    /// response entry's.
    StmtPredicateMatch,
    /// The npm key named by the publish bundle exists and was valid at the integrated time.
    PublishKey,
    /// The Fulcio certificate chains to a trusted CA and was valid at the integrated time.
    CertChain,
    /// The certificate's embedded SCT verifies against a CT log key.
    Sct,
    /// The Rekor signed entry timestamp verifies.
    TlogSet,
    /// The Rekor inclusion proof and checkpoint verify (bundle v0.2+).
    InclusionProof,
    /// The subject names `pkg:npm/<name>@<version>`.
    SubjectName,
    /// The subject's sha512 equals the package's integrity.
    SubjectDigest,
}

impl Check {
    /// The stable snake_case code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::BundleFormat => "bundle_format",
            Self::DsseSig => "dsse_sig",
            Self::BodyBinds => "body_binds",
            Self::StmtPredicateMatch => "stmt_predicate_match",
            Self::PublishKey => "publish_key",
            Self::CertChain => "cert_chain",
            Self::Sct => "sct",
            Self::TlogSet => "tlog_set",
            Self::InclusionProof => "inclusion_proof",
            Self::SubjectName => "subject_name",
            Self::SubjectDigest => "subject_digest",
        }
    }
}

/// A failed check with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Which check.
    pub check: Check,
    /// Why.
    pub detail: String,
}

/// What signed an attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signer {
    /// An npm registry key (`publicKey.hint`): the publish attestation.
    NpmKey,
    /// A Fulcio certificate: provenance built on CI.
    Certificate,
    /// Neither could be read.
    Unknown,
}

/// The result of checking one attestation.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationReport {
    /// The response entry's predicateType.
    pub predicate_type: String,
    /// What signed it.
    pub signer: Signer,
    /// Rekor's integrated time (Unix seconds).
    pub integrated_time: Option<i64>,
    /// Failed checks; empty means verified.
    pub failures: Vec<Failure>,
    /// Certificate identity (provenance only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The statement's subject sha512 digest (hex), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_sha512: Option<String>,
    /// The statement's predicate (for provenance facts).
    #[serde(skip)]
    pub predicate: Option<serde_json::Value>,
}

impl AttestationReport {
    /// Whether every check passed.
    #[must_use]
    pub fn is_verified(&self) -> bool {
        self.failures.is_empty()
    }

    /// Whether `check` failed.
    #[must_use]
    pub fn failed(&self, check: Check) -> bool {
        self.failures.iter().any(|failure| failure.check == check)
    }

    fn fail(&mut self, check: Check, detail: impl ToString) {
        self.failures.push(Failure {
            check,
            detail: detail.to_string(),
        });
    }
}

/// Where a package's provenance says it was built: what trust comparisons look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProvenanceFacts {
    /// Source repository URI.
    pub repository: Option<String>,
    /// Source commit.
    pub commit: Option<String>,
    /// Workflow file path (`.github/workflows/release.yml`).
    pub workflow: Option<String>,
    /// Builder id from the SLSA predicate (`https://github.com/actions/runner…`).
    pub builder: Option<String>,
    /// The certificate SAN.
    pub san: Option<String>,
    /// OIDC issuer.
    pub issuer: Option<String>,
}

/// Every attestation of a package version, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Attestations {
    /// One report per response entry.
    pub entries: Vec<AttestationReport>,
    /// Facts from a verified provenance attestation, if any.
    pub provenance: Option<ProvenanceFacts>,
}

impl Attestations {
    /// Whether every entry verified and there is a verified provenance.
    #[must_use]
    pub fn provenance_verified(&self) -> bool {
        self.provenance.is_some()
    }

    /// Whether every entry verified.
    #[must_use]
    pub fn all_verified(&self) -> bool {
        !self.entries.is_empty() && self.entries.iter().all(AttestationReport::is_verified)
    }
}

/// What the attestations are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// Package name.
    pub name: &'a str,
    /// Version.
    pub version: &'a str,
    /// The package's integrity (registry `dist.integrity` or the tarball's digest), when known.
    pub integrity: Option<&'a Integrity>,
}

/// Why an attestations response could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum AttestationsError {
    /// Too large.
    #[error("attestations response larger than {} MiB", MAX_ATTESTATIONS_BYTES >> 20)]
    TooLarge,
    /// Not JSON of the `{"attestations": […]}` shape.
    #[error("malformed attestations response: {0}")]
    Json(serde_json::Error),
}

// The message above already quotes the cause, so it is not also a `source` (an error chain
// would print it twice).
impl From<serde_json::Error> for AttestationsError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

#[derive(Deserialize)]
struct Response {
    attestations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    predicate_type: String,
    bundle: Bundle,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    verification_material: VerificationMaterial,
    dsse_envelope: Envelope,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerificationMaterial {
    public_key: Option<PublicKeyHint>,
    x509_certificate_chain: Option<CertificateChain>,
    certificate: Option<RawBytes>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntry>,
}

#[derive(Deserialize)]
struct PublicKeyHint {
    hint: String,
}

#[derive(Deserialize)]
struct CertificateChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

/// DSSE pre-authentication encoding.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// `pkg:npm/<percent-encoded name>@<version>` as npm writes subjects.
#[must_use]
pub fn subject_name(name: &str, version: &str) -> String {
    format!("pkg:npm/{}@{version}", name.replace('@', "%40"))
}

/// Checks an attestations response (the body of `/-/npm/v1/attestations/<name>@<version>`).
///
/// # Errors
/// [`AttestationsError`] when the response itself is unreadable; per-bundle defects are
/// [`Failure`]s.
pub fn verify_attestations(
    response: &[u8],
    expected: Expected<'_>,
    root: &TrustedRoot,
    npm_keys: &RegistryKeys,
) -> Result<Attestations, AttestationsError> {
    if response.len() > MAX_ATTESTATIONS_BYTES {
        return Err(AttestationsError::TooLarge);
    }
    let response: Response = serde_json::from_slice(response)?;
    let mut entries = Vec::with_capacity(response.attestations.len());
    for value in response.attestations {
        let predicate_type = value["predicateType"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let report = match serde_json::from_value::<Entry>(value) {
            Ok(entry) => verify_entry(&entry, expected, root, npm_keys),
            Err(error) => AttestationReport {
                predicate_type,
                signer: Signer::Unknown,
                integrated_time: None,
                failures: vec![Failure {
                    check: Check::BundleFormat,
                    detail: error.to_string(),
                }],
                identity: None,
                subject_sha512: None,
                predicate: None,
            },
        };
        entries.push(report);
    }
    let provenance = entries
        .iter()
        .find(|report| report.signer == Signer::Certificate && report.is_verified())
        .map(provenance_facts);
    Ok(Attestations {
        entries,
        provenance,
    })
}

fn verify_entry(
    entry: &Entry,
    expected: Expected<'_>,
    root: &TrustedRoot,
    npm_keys: &RegistryKeys,
) -> AttestationReport {
    let material = &entry.bundle.verification_material;
    let envelope = &entry.bundle.dsse_envelope;
    let mut report = AttestationReport {
        predicate_type: entry.predicate_type.clone(),
        signer: Signer::Unknown,
        integrated_time: None,
        failures: Vec::new(),
        identity: None,
        subject_sha512: None,
        predicate: None,
    };
    let Ok(payload) = STANDARD.decode(envelope.payload.trim()) else {
        report.fail(Check::BundleFormat, "payload is not base64");
        return report;
    };
    let Some(signature) = envelope.signatures.first() else {
        report.fail(Check::BundleFormat, "envelope has no signature");
        return report;
    };
    let Some(tlog) = material.tlog_entries.first() else {
        report.fail(Check::BundleFormat, "bundle has no transparency log entry");
        return report;
    };
    let time = tlog.integrated_time.0;
    report.integrated_time = Some(time);

    // Transparency log.
    if let Err(error) = rekor::verify_set(tlog, root) {
        report.fail(Check::TlogSet, error);
    }
    if let Err(error) = rekor::verify_inclusion(tlog, root) {
        report.fail(Check::InclusionProof, error);
    }
    if let Err(error) = rekor::verify_body_binding(tlog, &payload, &signature.sig) {
        report.fail(Check::BodyBinds, error);
    }

    // The signing key: an npm key, or a Fulcio certificate chained to the trusted root.
    let signing_key = if let Some(hint) = &material.public_key {
        report.signer = Signer::NpmKey;
        match npm_keys.find(&hint.hint, KeyUsage::Attestations) {
            None => {
                report.fail(
                    Check::PublishKey,
                    format!("no npm attestation key `{}`", hint.hint),
                );
                None
            }
            Some(key) => {
                if key.valid_from.is_some_and(|start| time < start)
                    || key.expires.is_some_and(|end| time >= end)
                {
                    report.fail(
                        Check::PublishKey,
                        format!("npm key `{}` was not valid at {time}", hint.hint),
                    );
                }
                Some(PublicKey::P256(key.key))
            }
        }
    } else {
        let leaf = material.certificate.as_ref().or_else(|| {
            material
                .x509_certificate_chain
                .as_ref()
                .and_then(|chain| chain.certificates.first())
        });
        report.signer = Signer::Certificate;
        match leaf.map(|raw| STANDARD.decode(&raw.raw_bytes)) {
            None => {
                report.signer = Signer::Unknown;
                report.fail(
                    Check::BundleFormat,
                    "bundle has neither a public key hint nor a certificate",
                );
                None
            }
            Some(Err(_)) => {
                report.fail(Check::BundleFormat, "certificate is not base64");
                None
            }
            Some(Ok(der)) => check_certificate(&der, time, root, &mut report),
        }
    };

    // DSSE signature over the exact payload bytes.
    if let Some(key) = signing_key {
        let signed = pae(&envelope.payload_type, &payload);
        let verified = STANDARD
            .decode(signature.sig.trim())
            .is_ok_and(|der| key.verify(HashAlgorithm::Sha256, &signed, &der));
        if !verified {
            report.fail(Check::DsseSig, "envelope signature does not verify");
        }
    } else if !report.failed(Check::BundleFormat) && !report.failed(Check::PublishKey) {
        report.fail(Check::DsseSig, "no key to verify the envelope with");
    }

    check_statement(
        &payload,
        &envelope.payload_type,
        entry,
        expected,
        &mut report,
    );
    report
}

fn check_certificate(
    der: &[u8],
    time: i64,
    root: &TrustedRoot,
    report: &mut AttestationReport,
) -> Option<PublicKey> {
    let leaf = match certificate::parse(der) {
        Ok(leaf) => leaf,
        Err(error) => {
            report.fail(Check::BundleFormat, error);
            return None;
        }
    };
    report.identity = Some(certificate::identity(&leaf));
    match certificate::verify_chain(&leaf, root, time) {
        Ok(authority) => {
            let issuer = &root.certificate_authorities[authority].chain[0];
            if let Err(error) = certificate::verify_embedded_sct(&leaf, issuer, root) {
                report.fail(Check::Sct, error);
            }
        }
        Err(error) => report.fail(Check::CertChain, error),
    }
    let key = certificate::public_key(&leaf);
    if key.is_none() {
        report.fail(
            Check::BundleFormat,
            "certificate key is not ECDSA P-256/P-384",
        );
    }
    key
}

fn check_statement(
    payload: &[u8],
    payload_type: &str,
    entry: &Entry,
    expected: Expected<'_>,
    report: &mut AttestationReport,
) {
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        report.fail(
            Check::StmtPredicateMatch,
            format!("payloadType is `{payload_type}`"),
        );
    }
    let statement: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(statement) => statement,
        Err(error) => {
            report.fail(
                Check::StmtPredicateMatch,
                format!("statement is not JSON: {error}"),
            );
            return;
        }
    };
    let statement_type = statement["_type"].as_str().unwrap_or_default();
    if !STATEMENT_TYPES.contains(&statement_type) {
        report.fail(
            Check::StmtPredicateMatch,
            format!("statement _type is `{statement_type}`"),
        );
    }
    let predicate_type = statement["predicateType"].as_str().unwrap_or_default();
    if predicate_type != entry.predicate_type {
        report.fail(
            Check::StmtPredicateMatch,
            format!(
                "statement predicateType `{predicate_type}` is not the entry's `{}`",
                entry.predicate_type
            ),
        );
    }
    report.predicate = statement.get("predicate").cloned();
    let subjects = statement["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let wanted_name = subject_name(expected.name, expected.version);
    let Some(subject) = subjects
        .iter()
        .find(|subject| subject["name"].as_str() == Some(&wanted_name))
    else {
        report.fail(
            Check::SubjectName,
            format!("no subject named `{wanted_name}`"),
        );
        return;
    };
    let digest = subject["digest"]["sha512"]
        .as_str()
        .map(str::to_ascii_lowercase);
    report.subject_sha512.clone_from(&digest);
    let Some(digest) = digest else {
        report.fail(Check::SubjectDigest, "subject has no sha512 digest");
        return;
    };
    if let Some(integrity) = expected.integrity {
        if integrity.algorithm != Algorithm::Sha512 {
            report.fail(
                Check::SubjectDigest,
                format!(
                    "package integrity is {}, not sha512",
                    integrity.algorithm.as_str()
                ),
            );
        } else if hex(&integrity.digest) != digest {
            report.fail(
                Check::SubjectDigest,
                "subject sha512 differs from the package integrity",
            );
        }
    }
}

fn provenance_facts(report: &AttestationReport) -> ProvenanceFacts {
    let identity = report.identity.clone().unwrap_or_default();
    let predicate = report.predicate.clone().unwrap_or_default();
    // SLSA v1: buildDefinition.externalParameters.workflow, runDetails.builder.id.
    // SLSA v0.2: invocation.configSource {uri, digest.sha1, entryPoint}, builder.id.
    let workflow_v1 = &predicate["buildDefinition"]["externalParameters"]["workflow"];
    let config_source = &predicate["invocation"]["configSource"];
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    let builder = text(&predicate["runDetails"]["builder"]["id"])
        .or_else(|| text(&predicate["builder"]["id"]));
    let workflow = text(&workflow_v1["path"])
        .or_else(|| text(&config_source["entryPoint"]))
        .map(|path| workflow_path_of_uri(&path).unwrap_or(path))
        .or_else(|| {
            identity
                .build_config
                .as_deref()
                .and_then(workflow_path_of_uri)
        })
        .or_else(|| identity.san.as_deref().and_then(workflow_path_of_uri));
    let repository = identity
        .source_repository
        .clone()
        .or_else(|| text(&workflow_v1["repository"]))
        .or_else(|| {
            text(&config_source["uri"]).map(|uri| {
                uri.trim_start_matches("git+")
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        });
    let commit = identity
        .source_commit
        .clone()
        .or_else(|| text(&config_source["digest"]["sha1"]))
        .or_else(|| {
            text(&predicate["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"])
        });
    ProvenanceFacts {
        repository,
        commit,
        workflow,
        builder,
        san: identity.san,
        issuer: identity.issuer,
    }
}

/// `.github/workflows/x.yml` from `https://github.com/o/r/.github/workflows/x.yml@refs/…`.
fn workflow_path_of_uri(uri: &str) -> Option<String> {
    let without_ref = uri.split('@').next()?;
    let start = without_ref.find(".github/workflows/")?;
    Some(without_ref[start..].to_owned())
}
