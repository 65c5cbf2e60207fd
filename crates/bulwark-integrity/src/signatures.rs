//! npm registry signatures: ECDSA P-256 / SHA-256 over `${name}@${version}:${integrity}`, base64
//! DER, from a packument's `dist.signatures`, checked against the registry keys as npm does
//! (pacote `lib/registry.js`): the key is found by `keyid`, and a key with an expiry counts only
//! for versions published before it (the publish time, not the current time, is compared).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyUsage, RegistryKeys};

/// One entry of `dist.signatures`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RegistrySignature {
    /// `SHA256:<base64>` id of the signing key.
    pub keyid: String,
    /// base64 DER ECDSA signature.
    pub sig: String,
}

/// The outcome of checking one version's registry signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum SignatureOutcome {
    /// A signature verified under key `keyid`.
    Valid {
        /// The key that verified it.
        keyid: String,
    },
    /// The registry has keys but the version carries no signature.
    MissingSignature,
    /// No key in the set has the signature's keyid.
    NoMatchingKey {
        /// The keyid named by the signature.
        keyid: String,
    },
    /// The key expired before the version was published (or the publish time is unknown).
    ExpiredKey {
        /// The key.
        keyid: String,
        /// Its expiry, as written.
        expires: String,
    },
    /// The signature does not verify (malformed, or over another message).
    InvalidSignature {
        /// The key it was checked with.
        keyid: String,
    },
    /// The key set is empty: nothing to check against (a registry that does not sign).
    Unsigned,
}

impl SignatureOutcome {
    /// The stable kebab-case code (`valid`, `invalid-signature`, …).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Valid { .. } => "valid",
            Self::MissingSignature => "missing-signature",
            Self::NoMatchingKey { .. } => "no-matching-key",
            Self::ExpiredKey { .. } => "expired-key",
            Self::InvalidSignature { .. } => "invalid-signature",
            Self::Unsigned => "unsigned",
        }
    }

    /// Whether this is a verified signature.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}

/// Checks a version's registry signatures. `published` is the version's publish time in Unix
/// seconds (`packument.time[version]`); `None` makes any key with an expiry count as expired,
/// as in npm. Every signature must verify (npm fails on the first bad one); the outcome of the
/// first failing signature is returned, else the first valid one.
#[must_use]
pub fn verify_registry_signatures(
    name: &str,
    version: &str,
    integrity: &str,
    signatures: Option<&[RegistrySignature]>,
    published: Option<i64>,
    keys: &RegistryKeys,
) -> SignatureOutcome {
    if keys.is_empty() {
        return SignatureOutcome::Unsigned;
    }
    let signatures = match signatures {
        Some(signatures) if !signatures.is_empty() => signatures,
        _ => return SignatureOutcome::MissingSignature,
    };
    let message = format!("{name}@{version}:{integrity}");
    let mut first_valid = None;
    for signature in signatures {
        let Some(key) = keys.find(&signature.keyid, KeyUsage::Signatures) else {
            return SignatureOutcome::NoMatchingKey {
                keyid: signature.keyid.clone(),
            };
        };
        if let Some(expires) = key.expires
            && published.is_none_or(|published| published >= expires)
        {
            return SignatureOutcome::ExpiredKey {
                keyid: key.keyid.clone(),
                expires: key.expires_text.clone().unwrap_or_default(),
            };
        }
        if !verify_p256_der(&key.key, message.as_bytes(), &signature.sig) {
            return SignatureOutcome::InvalidSignature {
                keyid: key.keyid.clone(),
            };
        }
        first_valid.get_or_insert_with(|| key.keyid.clone());
    }
    first_valid.map_or(SignatureOutcome::MissingSignature, |keyid| {
        SignatureOutcome::Valid { keyid }
    })
}

/// Verifies a base64 DER ECDSA P-256/SHA-256 signature; anything malformed is `false`.
#[must_use]
pub fn verify_p256_der(
    key: &p256::ecdsa::VerifyingKey,
    message: &[u8],
    signature_base64: &str,
) -> bool {
    let Ok(der) = STANDARD.decode(signature_base64.trim()) else {
        return false;
    };
    verify_p256_der_bytes(key, message, &der)
}

/// Verifies DER ECDSA P-256/SHA-256 signature bytes; anything malformed is `false`.
#[must_use]
pub fn verify_p256_der_bytes(key: &p256::ecdsa::VerifyingKey, message: &[u8], der: &[u8]) -> bool {
    p256::ecdsa::DerSignature::from_bytes(der)
        .is_ok_and(|signature| key.verify(message, &signature).is_ok())
}
