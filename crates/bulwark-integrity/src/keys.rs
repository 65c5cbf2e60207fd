//! npm registry public keys: the `/-/npm/v1/keys` document (`{"keys":[{keyid, key, expires}]}`)
//! and Sigstore's TUF-shaped `registry.npmjs.org/keys.json` (`keyId`, `keyUsage`,
//! `publicKey {rawBytes, validFor}`). Both parse into [`RegistryKeys`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use bulwark_types::time::parse_rfc3339;

/// The keys npm publishes today (`/-/npm/v1/keys`), shipped so signatures verify offline.
/// Source: nodejs/corepack `config.json` (MIT); see `keys/NOTICE.md`.
pub const SHIPPED_NPM_KEYS: &str = include_str!("../keys/npm-v1-keys.json");

/// What a key may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// Registry signatures over `name@version:integrity` (`npm:signatures`).
    Signatures,
    /// npm publish attestations (`npm:attestations`).
    Attestations,
    /// Not stated (the `/-/npm/v1/keys` shape): any use.
    Any,
}

/// One registry key.
#[derive(Debug, Clone)]
pub struct RegistryKey {
    /// `SHA256:<base64>` key id.
    pub keyid: String,
    /// The P-256 public key.
    pub key: p256::ecdsa::VerifyingKey,
    /// Usage the document assigns.
    pub usage: KeyUsage,
    /// Start of validity (Unix seconds), when stated.
    pub valid_from: Option<i64>,
    /// Expiry (Unix seconds), when stated: signatures on versions published at or after it do
    /// not count.
    pub expires: Option<i64>,
    /// Expiry as written in the document, for messages.
    pub expires_text: Option<String>,
}

/// A set of registry keys.
#[derive(Debug, Clone, Default)]
pub struct RegistryKeys {
    /// The keys, in document order.
    pub keys: Vec<RegistryKey>,
}

/// Why a keys document was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// Not JSON of either shape.
    #[error("not a registry keys document: {0}")]
    Json(serde_json::Error),
    /// A key is not base64 DER SubjectPublicKeyInfo of a P-256 key.
    #[error("key `{keyid}` is not a P-256 public key")]
    BadKey {
        /// The key id.
        keyid: String,
    },
    /// A date is not RFC 3339.
    #[error("key `{keyid}` has an unreadable date `{value}`")]
    BadDate {
        /// The key id.
        keyid: String,
        /// The text.
        value: String,
    },
}

// The message above already quotes the cause, so it is not also a `source` (an error chain
// would print it twice).
impl From<serde_json::Error> for KeysError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct NpmKey {
    keyid: String,
    key: String,
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TufKey {
    key_id: String,
    key_usage: Option<String>,
    public_key: TufPublicKey,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TufPublicKey {
    raw_bytes: String,
    valid_for: Option<ValidFor>,
}

/// `validFor {start, end}` of Sigstore documents.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ValidFor {
    /// Start, RFC 3339.
    pub start: Option<String>,
    /// End, RFC 3339.
    pub end: Option<String>,
}

/// Decodes a base64 DER SubjectPublicKeyInfo holding a P-256 key.
#[must_use]
pub fn p256_from_spki_base64(text: &str) -> Option<p256::ecdsa::VerifyingKey> {
    use p256::pkcs8::DecodePublicKey as _;
    let der = STANDARD.decode(text.trim()).ok()?;
    p256::ecdsa::VerifyingKey::from_public_key_der(&der).ok()
}

fn date(keyid: &str, value: Option<&String>) -> Result<Option<i64>, KeysError> {
    value
        .map(|text| {
            parse_rfc3339(text).ok_or_else(|| KeysError::BadDate {
                keyid: keyid.to_owned(),
                value: text.clone(),
            })
        })
        .transpose()
}

impl RegistryKeys {
    /// The shipped npm keys.
    ///
    /// # Panics
    /// Never: the shipped document is tested.
    #[must_use]
    pub fn shipped() -> Self {
        Self::parse(SHIPPED_NPM_KEYS.as_bytes()).unwrap_or_default()
    }

    /// Parses either document shape.
    ///
    /// # Errors
    /// [`KeysError`] when the JSON, a key or a date is malformed.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeysError> {
        let document: Document = serde_json::from_slice(bytes)?;
        let mut keys = Vec::with_capacity(document.keys.len());
        for value in document.keys {
            if value.get("keyId").is_some() {
                let tuf: TufKey = serde_json::from_value(value)?;
                let key = p256_from_spki_base64(&tuf.public_key.raw_bytes).ok_or_else(|| {
                    KeysError::BadKey {
                        keyid: tuf.key_id.clone(),
                    }
                })?;
                let valid_for = tuf.public_key.valid_for.unwrap_or_default();
                let usage = match tuf.key_usage.as_deref() {
                    Some("npm:signatures") => KeyUsage::Signatures,
                    Some("npm:attestations") => KeyUsage::Attestations,
                    _ => KeyUsage::Any,
                };
                keys.push(RegistryKey {
                    valid_from: date(&tuf.key_id, valid_for.start.as_ref())?,
                    expires: date(&tuf.key_id, valid_for.end.as_ref())?,
                    expires_text: valid_for.end,
                    keyid: tuf.key_id,
                    key,
                    usage,
                });
            } else {
                let npm: NpmKey = serde_json::from_value(value)?;
                let key = p256_from_spki_base64(&npm.key).ok_or_else(|| KeysError::BadKey {
                    keyid: npm.keyid.clone(),
                })?;
                keys.push(RegistryKey {
                    expires: date(&npm.keyid, npm.expires.as_ref())?,
                    expires_text: npm.expires,
                    keyid: npm.keyid,
                    key,
                    usage: KeyUsage::Any,
                    valid_from: None,
                });
            }
        }
        Ok(Self { keys })
    }

    /// The key with `keyid` usable for `usage`.
    #[must_use]
    pub fn find(&self, keyid: &str, usage: KeyUsage) -> Option<&RegistryKey> {
        self.keys.iter().find(|key| {
            key.keyid == keyid
                && (key.usage == usage || key.usage == KeyUsage::Any || usage == KeyUsage::Any)
        })
    }

    /// Whether the set holds any key (a registry that has keys signs every version).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_keys_parse() {
        let keys = RegistryKeys::parse(SHIPPED_NPM_KEYS.as_bytes()).unwrap();
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(
            keys.keys[0].expires,
            parse_rfc3339("2025-01-29T00:00:00.000Z")
        );
        assert!(keys.keys[1].expires.is_none());
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert!(matches!(
            RegistryKeys::parse(br#"{"keys":[{"keyid":"k","key":"bm90IGEga2V5","expires":null}]}"#),
            Err(KeysError::BadKey { .. })
        ));
        assert!(RegistryKeys::parse(b"[]").is_err());
    }
}
