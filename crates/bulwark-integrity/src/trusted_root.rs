//! The Sigstore trusted root (`trustedroot+json;version=0.1`): Fulcio certificate authorities,
//! Rekor transparency log keys and CT log keys, each with the time range it is valid for.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode as _;
use serde::Deserialize;
use x509_cert::Certificate;

use crate::crypto::PublicKey;
use crate::keys::ValidFor;
use bulwark_types::time::parse_rfc3339;

/// The Sigstore public-good trusted root shipped with bulwark (see `keys/NOTICE.md`).
pub const SHIPPED_TRUSTED_ROOT: &str = include_str!("../keys/trusted_root.json");

/// A time range in Unix seconds; open ends are `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validity {
    /// Start.
    pub start: Option<i64>,
    /// End.
    pub end: Option<i64>,
}

impl Validity {
    fn parse(valid_for: Option<&ValidFor>) -> Self {
        let valid_for = valid_for.cloned().unwrap_or_default();
        Self {
            start: valid_for.start.as_deref().and_then(parse_rfc3339),
            end: valid_for.end.as_deref().and_then(parse_rfc3339),
        }
    }

    /// Whether `time` is inside the range.
    #[must_use]
    pub fn covers(&self, time: i64) -> bool {
        self.start.is_none_or(|start| start <= time) && self.end.is_none_or(|end| time <= end)
    }
}

/// A transparency or CT log key.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log id (SHA-256 of the key's DER SubjectPublicKeyInfo).
    pub log_id: Vec<u8>,
    /// The key; `None` for key types bulwark does not check (Ed25519 logs).
    pub key: Option<PublicKey>,
    /// When it may be used.
    pub validity: Validity,
}

/// A Fulcio certificate authority: its chain, issuing certificate first, root last.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// The chain.
    pub chain: Vec<Certificate>,
    /// When it may issue.
    pub validity: Validity,
}

/// Trust material for Sigstore bundles.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Rekor keys.
    pub tlogs: Vec<LogKey>,
    /// Fulcio CAs.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// CT log keys.
    pub ctlogs: Vec<LogKey>,
}

/// Why a trusted root was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustedRootError {
    /// Not JSON of the expected shape.
    #[error("not a Sigstore trusted root: {0}")]
    Json(serde_json::Error),
    /// A certificate or key is not valid base64 DER.
    #[error("trusted root holds a malformed {what}")]
    Malformed {
        /// What.
        what: &'static str,
    },
}

// The message above already quotes the cause, so it is not also a `source` (an error chain
// would print it twice).
impl From<serde_json::Error> for TrustedRootError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    tlogs: Vec<LogDocument>,
    #[serde(default)]
    certificate_authorities: Vec<CaDocument>,
    #[serde(default)]
    ctlogs: Vec<LogDocument>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogDocument {
    public_key: KeyDocument,
    log_id: LogIdDocument,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDocument {
    raw_bytes: String,
    valid_for: Option<ValidFor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdDocument {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaDocument {
    cert_chain: ChainDocument,
    valid_for: Option<ValidFor>,
}

#[derive(Deserialize)]
struct ChainDocument {
    certificates: Vec<RawBytes>,
}

/// `{"rawBytes": "<base64>"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// base64 DER.
    pub raw_bytes: String,
}

fn log_key(document: LogDocument) -> Result<LogKey, TrustedRootError> {
    let der = STANDARD
        .decode(&document.public_key.raw_bytes)
        .map_err(|_| TrustedRootError::Malformed { what: "log key" })?;
    let log_id = STANDARD
        .decode(&document.log_id.key_id)
        .map_err(|_| TrustedRootError::Malformed { what: "log id" })?;
    Ok(LogKey {
        log_id,
        key: PublicKey::from_spki_der(&der),
        validity: Validity::parse(document.public_key.valid_for.as_ref()),
    })
}

impl TrustedRoot {
    /// The shipped Sigstore public-good root.
    #[must_use]
    pub fn shipped() -> Self {
        Self::parse(SHIPPED_TRUSTED_ROOT.as_bytes()).unwrap_or_default()
    }

    /// Parses a `trusted_root.json`.
    ///
    /// # Errors
    /// [`TrustedRootError`] when it is malformed.
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustedRootError> {
        let document: Document = serde_json::from_slice(bytes)?;
        let mut root = Self::default();
        for log in document.tlogs {
            root.tlogs.push(log_key(log)?);
        }
        for log in document.ctlogs {
            root.ctlogs.push(log_key(log)?);
        }
        for ca in document.certificate_authorities {
            let mut chain = Vec::new();
            for certificate in ca.cert_chain.certificates {
                let der = STANDARD.decode(&certificate.raw_bytes).map_err(|_| {
                    TrustedRootError::Malformed {
                        what: "certificate",
                    }
                })?;
                chain.push(Certificate::from_der(&der).map_err(|_| {
                    TrustedRootError::Malformed {
                        what: "certificate",
                    }
                })?);
            }
            root.certificate_authorities.push(CertificateAuthority {
                chain,
                validity: Validity::parse(ca.valid_for.as_ref()),
            });
        }
        Ok(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_root_parses() {
        let root = TrustedRoot::parse(SHIPPED_TRUSTED_ROOT.as_bytes()).unwrap();
        assert_eq!(root.tlogs.len(), 2);
        assert!(root.tlogs[0].key.is_some(), "the Rekor v1 key is P-256");
        assert!(
            root.tlogs[1].key.is_none(),
            "the Rekor v2 shard is Ed25519, not checked"
        );
        assert_eq!(root.certificate_authorities.len(), 2);
        assert_eq!(root.ctlogs.len(), 2);
    }
}
