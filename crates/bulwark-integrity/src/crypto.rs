//! Public keys of the Sigstore trust material (P-256 and P-384 ECDSA) and DER signature checks.

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::Digest as _;

/// A public key that can check signatures.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::VerifyingKey),
}

/// Hash function a signature was made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlgorithm {
    /// The digest of `message`.
    #[must_use]
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(message).to_vec(),
        }
    }
}

impl PublicKey {
    /// Decodes a DER SubjectPublicKeyInfo; `None` for other key types (Ed25519, RSA) or garbage.
    #[must_use]
    pub fn from_spki_der(der: &[u8]) -> Option<Self> {
        use p256::pkcs8::DecodePublicKey as _;
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(Self::P256(key));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der)
            .ok()
            .map(Self::P384)
    }

    /// Verifies a DER ECDSA signature over `message` hashed with `hash`; malformed is `false`.
    #[must_use]
    pub fn verify(&self, hash: HashAlgorithm, message: &[u8], der_signature: &[u8]) -> bool {
        let digest = hash.digest(message);
        match self {
            Self::P256(key) => p256::ecdsa::Signature::from_der(der_signature)
                .is_ok_and(|signature| key.verify_prehash(&digest, &signature).is_ok()),
            Self::P384(key) => p384::ecdsa::Signature::from_der(der_signature)
                .is_ok_and(|signature| key.verify_prehash(&digest, &signature).is_ok()),
        }
    }
}

/// SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// Lowercase hex (the shared encoder of `bulwark-types`).
pub use bulwark_types::hex;
