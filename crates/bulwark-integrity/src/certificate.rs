//! Fulcio signing certificates: the chain to a trusted CA at the signing time, the embedded
//! signed certificate timestamp (RFC 6962 §3.2, checked against the CT log keys), and the
//! identity Fulcio records (SAN, OIDC issuer, source repository, commit, workflow).

use der::asn1::ObjectIdentifier;
use der::{Decode as _, Encode as _};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::crypto::{HashAlgorithm, PublicKey, sha256};
use crate::trusted_root::TrustedRoot;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EMBEDDED_SCT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
const FULCIO_PREFIX: &str = "1.3.6.1.4.1.57264.1.";

/// Why a certificate check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Not DER X.509.
    #[error("malformed certificate")]
    Malformed,
    /// No trusted CA valid at the signing time issued it.
    #[error("certificate does not chain to a trusted Fulcio CA valid at {0}")]
    Untrusted(i64),
    /// The signing time is outside the certificate's own validity.
    #[error("signing time {0} is outside the certificate's validity")]
    Expired(i64),
    /// No embedded SCT.
    #[error("certificate has no embedded SCT")]
    NoSct,
    /// The SCT does not verify under any CT log key.
    #[error("embedded SCT does not verify: {0}")]
    BadSct(&'static str),
}

/// Signing identity recorded by Fulcio in the leaf certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The SAN URI (for GitHub Actions, the workflow file at a ref).
    pub san: Option<String>,
    /// OIDC issuer (`.1.8`, or the deprecated `.1.1`).
    pub issuer: Option<String>,
    /// Source repository URI (`.1.12`, or `https://github.com/` + `.1.5`).
    pub source_repository: Option<String>,
    /// Source commit (`.1.13`, or `.1.3`).
    pub source_commit: Option<String>,
    /// Source ref (`.1.14`, or `.1.6`).
    pub source_ref: Option<String>,
    /// Build signer URI (`.1.9`): the workflow that signed.
    pub build_signer: Option<String>,
    /// Build config URI (`.1.18`): the top-level workflow.
    pub build_config: Option<String>,
    /// Trigger (`.1.20`, or `.1.2`).
    pub trigger: Option<String>,
    /// Runner environment (`.1.11`): `github-hosted` or `self-hosted`.
    pub runner: Option<String>,
}

/// Parses base64-decoded DER certificate bytes.
///
/// # Errors
/// [`CertificateError::Malformed`].
pub fn parse(der: &[u8]) -> Result<Certificate, CertificateError> {
    Certificate::from_der(der).map_err(|_| CertificateError::Malformed)
}

/// The certificate's public key.
#[must_use]
pub fn public_key(certificate: &Certificate) -> Option<PublicKey> {
    let der = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()?;
    PublicKey::from_spki_der(&der)
}

fn not_before(certificate: &Certificate) -> i64 {
    i64::try_from(
        certificate
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs(),
    )
    .unwrap_or(i64::MAX)
}

fn not_after(certificate: &Certificate) -> i64 {
    i64::try_from(
        certificate
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs(),
    )
    .unwrap_or(0)
}

fn valid_at(certificate: &Certificate, time: i64) -> bool {
    not_before(certificate) <= time && time <= not_after(certificate)
}

/// Whether `issuer` signed `subject`.
fn signed_by(subject: &Certificate, issuer: &Certificate) -> bool {
    let hash = match subject.signature_algorithm.oid {
        ECDSA_WITH_SHA256 => HashAlgorithm::Sha256,
        ECDSA_WITH_SHA384 => HashAlgorithm::Sha384,
        _ => return false,
    };
    let (Ok(tbs), Some(key), Some(signature)) = (
        subject.tbs_certificate.to_der(),
        public_key(issuer),
        subject.signature.as_bytes(),
    ) else {
        return false;
    };
    subject.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && key.verify(hash, &tbs, signature)
}

/// Checks that `leaf` chains to a CA of `root` valid at `time`, and that `leaf` itself is valid
/// then. Returns the index of the issuing CA.
///
/// # Errors
/// [`CertificateError::Expired`] or [`CertificateError::Untrusted`].
pub fn verify_chain(
    leaf: &Certificate,
    root: &TrustedRoot,
    time: i64,
) -> Result<usize, CertificateError> {
    if !valid_at(leaf, time) {
        return Err(CertificateError::Expired(time));
    }
    for (index, authority) in root.certificate_authorities.iter().enumerate() {
        if !authority.validity.covers(time) || authority.chain.is_empty() {
            continue;
        }
        let mut subject = leaf;
        let mut chained = true;
        for issuer in &authority.chain {
            if !valid_at(issuer, time) || !signed_by(subject, issuer) {
                chained = false;
                break;
            }
            subject = issuer;
        }
        if chained {
            return Ok(index);
        }
    }
    Err(CertificateError::Untrusted(time))
}

/// Verifies the leaf's embedded SCT against the CT log keys of `root`. `issuer` is the CA
/// certificate that issued the leaf (its key hash is part of the signed data).
///
/// # Errors
/// [`CertificateError::NoSct`] or [`CertificateError::BadSct`].
pub fn verify_embedded_sct(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), CertificateError> {
    let extensions = leaf
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let Some(sct_extension) = extensions
        .iter()
        .find(|extension| extension.extn_id == EMBEDDED_SCT)
    else {
        return Err(CertificateError::NoSct);
    };
    // The extension value is a DER OCTET STRING wrapping the TLS-encoded SCT list.
    let list = der::asn1::OctetString::from_der(sct_extension.extn_value.as_bytes())
        .map_err(|_| CertificateError::BadSct("SCT list is not an OCTET STRING"))?;
    let scts =
        parse_sct_list(list.as_bytes()).ok_or(CertificateError::BadSct("malformed SCT list"))?;
    // The precertificate TBS: the leaf's TBS without the SCT extension.
    let mut tbs = leaf.tbs_certificate.clone();
    tbs.extensions = tbs.extensions.map(|list| {
        list.into_iter()
            .filter(|extension| extension.extn_id != EMBEDDED_SCT)
            .collect()
    });
    let tbs_der = tbs
        .to_der()
        .map_err(|_| CertificateError::BadSct("cannot encode the precertificate"))?;
    let issuer_spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| CertificateError::BadSct("issuer key"))?;
    let issuer_key_hash = sha256(&issuer_spki);
    let tbs_length = u32::try_from(tbs_der.len())
        .ok()
        .filter(|length| *length < 1 << 24)
        .ok_or(CertificateError::BadSct("precertificate too large"))?;
    let mut reason = "no CT log key matches the SCT's log id";
    for sct in scts {
        let Some(log) = root.ctlogs.iter().find(|log| log.log_id == sct.log_id) else {
            continue;
        };
        let Some(key) = &log.key else {
            reason = "CT log key type not supported";
            continue;
        };
        if !log
            .validity
            .covers(i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX))
        {
            reason = "SCT made outside the CT log key's validity";
            continue;
        }
        let mut signed = Vec::with_capacity(tbs_der.len() + 64);
        signed.push(0); // version v1
        signed.push(0); // signature_type certificate_timestamp
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_length.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs_der);
        signed.extend_from_slice(
            &u16::try_from(sct.extensions.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        signed.extend_from_slice(sct.extensions);
        if sct.hash_algorithm == 4 && key.verify(HashAlgorithm::Sha256, &signed, sct.signature) {
            return Ok(());
        }
        reason = "SCT signature does not verify";
    }
    Err(CertificateError::BadSct(reason))
}

struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    hash_algorithm: u8,
    signature: &'a [u8],
}

fn take<'a>(bytes: &mut &'a [u8], count: usize) -> Option<&'a [u8]> {
    if bytes.len() < count {
        return None;
    }
    let (head, tail) = bytes.split_at(count);
    *bytes = tail;
    Some(head)
}

fn take_u16_prefixed<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let length = take(bytes, 2)?;
    take(
        bytes,
        usize::from(u16::from_be_bytes([length[0], length[1]])),
    )
}

fn parse_sct_list(bytes: &[u8]) -> Option<Vec<Sct<'_>>> {
    let mut outer = bytes;
    let mut list = take_u16_prefixed(&mut outer)?;
    let mut scts = Vec::new();
    while !list.is_empty() {
        let mut sct = take_u16_prefixed(&mut list)?;
        let version = take(&mut sct, 1)?[0];
        if version != 0 {
            continue;
        }
        let log_id = take(&mut sct, 32)?;
        let timestamp = u64::from_be_bytes(take(&mut sct, 8)?.try_into().ok()?);
        let extensions = take_u16_prefixed(&mut sct)?;
        let algorithms = take(&mut sct, 2)?;
        let signature = take_u16_prefixed(&mut sct)?;
        scts.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash_algorithm: algorithms[0],
            signature,
        });
    }
    Some(scts)
}

/// A Fulcio extension value: DER UTF8String in newer OIDs, raw bytes in the deprecated ones.
fn extension_text(value: &[u8]) -> Option<String> {
    if let Ok(text) = der::asn1::Utf8StringRef::from_der(value) {
        return Some(text.as_str().to_owned());
    }
    std::str::from_utf8(value).ok().map(str::to_owned)
}

/// The identity Fulcio recorded in `leaf`.
#[must_use]
pub fn identity(leaf: &Certificate) -> Identity {
    let mut identity = Identity::default();
    let mut legacy_repository = None;
    let extensions = leaf
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    for extension in extensions {
        let value = extension.extn_value.as_bytes();
        if extension.extn_id == SUBJECT_ALT_NAME {
            if let Ok(names) = SubjectAltName::from_der(value) {
                identity.san = names.0.iter().find_map(|name| match name {
                    GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                    GeneralName::Rfc822Name(email) => Some(email.to_string()),
                    _ => None,
                });
            }
            continue;
        }
        let oid = extension.extn_id.to_string();
        let Some(arc) = oid.strip_prefix(FULCIO_PREFIX) else {
            continue;
        };
        let text = extension_text(value);
        match arc {
            "1" => identity.issuer = identity.issuer.take().or(text),
            "8" => identity.issuer = text.or(identity.issuer.take()),
            "2" => identity.trigger = identity.trigger.take().or(text),
            "20" => identity.trigger = text.or(identity.trigger.take()),
            "3" => identity.source_commit = identity.source_commit.take().or(text),
            "13" => identity.source_commit = text.or(identity.source_commit.take()),
            "5" => legacy_repository = text,
            "12" => identity.source_repository = text,
            "6" => identity.source_ref = identity.source_ref.take().or(text),
            "14" => identity.source_ref = text.or(identity.source_ref.take()),
            "9" => identity.build_signer = text,
            "11" => identity.runner = text,
            "18" => identity.build_config = text,
            _ => {}
        }
    }
    if identity.source_repository.is_none() {
        identity.source_repository =
            legacy_repository.map(|repository| format!("https://github.com/{repository}"));
    }
    identity
}
