//! Subresource Integrity values (`sha512-<base64>`), as npm, pnpm, yarn classic and bun record
//! them, plus the hex `sha1` shasums of old npm lockfiles and yarn berry's `checksum:` field.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Serialize, Serializer};

/// A hash algorithm named by an integrity value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// SHA-1 (weak; old lockfiles and yarn classic `#sha1` fragments).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512 (what the npm registry publishes today).
    Sha512,
}

impl Algorithm {
    /// The name used in SRI strings, e.g. `sha512`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes.
    #[must_use]
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The CycloneDX `hashes[].alg` name, e.g. `SHA-512`.
    #[must_use]
    pub fn cyclonedx_name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// Why an integrity string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// The string was empty or held no hash.
    #[error("empty integrity value")]
    Empty,
    /// The algorithm prefix is not one of sha1/sha256/sha384/sha512.
    #[error("unknown integrity algorithm `{0}`")]
    UnknownAlgorithm(String),
    /// The digest is not valid base64 or hex.
    #[error("integrity digest `{0}` is not valid base64")]
    BadDigest(String),
    /// The digest has the wrong length for its algorithm.
    #[error("integrity digest for `{algorithm}` has {actual} bytes, expected {expected}")]
    WrongLength {
        /// The algorithm named.
        algorithm: &'static str,
        /// Bytes decoded.
        actual: usize,
        /// Bytes the algorithm produces.
        expected: usize,
    },
}

/// One parsed integrity value: an algorithm and its raw digest.
///
/// An SRI string may hold several space-separated hashes; [`Integrity::parse_sri`] keeps the
/// strongest, which is the one a verifier should check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integrity {
    /// The hash algorithm.
    pub algorithm: Algorithm,
    /// The raw digest bytes.
    pub digest: Vec<u8>,
}

impl Integrity {
    /// Parses an SRI string such as `sha512-AbC…==` (several hashes allowed, the strongest is
    /// kept; `?options` suffixes are ignored, as the SRI spec allows).
    ///
    /// # Errors
    /// Returns an error if no hash in the string can be decoded.
    pub fn parse_sri(value: &str) -> Result<Self, IntegrityError> {
        let mut best: Option<Self> = None;
        let mut first_error = None;
        for token in value.split_ascii_whitespace() {
            match Self::parse_one(token) {
                Ok(parsed) => {
                    if best.as_ref().is_none_or(|b| parsed.algorithm > b.algorithm) {
                        best = Some(parsed);
                    }
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        best.ok_or_else(|| first_error.unwrap_or(IntegrityError::Empty))
    }

    fn parse_one(token: &str) -> Result<Self, IntegrityError> {
        let (name, rest) = token
            .split_once('-')
            .ok_or_else(|| IntegrityError::UnknownAlgorithm(token.to_owned()))?;
        let algorithm = Algorithm::from_name(&name.to_ascii_lowercase())
            .ok_or_else(|| IntegrityError::UnknownAlgorithm(name.to_owned()))?;
        let encoded = rest.split('?').next().unwrap_or_default();
        let digest = STANDARD
            .decode(encoded)
            .map_err(|_| IntegrityError::BadDigest(encoded.to_owned()))?;
        Self::new(algorithm, digest)
    }

    /// Parses a hex digest of a known algorithm (npm v1 `shasum`, yarn `#<sha1>` fragments).
    ///
    /// # Errors
    /// Returns an error if the value is not hex of the algorithm's length.
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Result<Self, IntegrityError> {
        let hex = hex.trim();
        if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IntegrityError::BadDigest(hex.to_owned()));
        }
        let digest = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| IntegrityError::BadDigest(hex.to_owned()))?;
        Self::new(algorithm, digest)
    }

    fn new(algorithm: Algorithm, digest: Vec<u8>) -> Result<Self, IntegrityError> {
        if digest.len() == algorithm.digest_len() {
            Ok(Self { algorithm, digest })
        } else {
            Err(IntegrityError::WrongLength {
                algorithm: algorithm.as_str(),
                actual: digest.len(),
                expected: algorithm.digest_len(),
            })
        }
    }

    /// The digest as lowercase hex (CycloneDX `hashes[].content`).
    #[must_use]
    pub fn hex_digest(&self) -> String {
        crate::hex(&self.digest)
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.algorithm.as_str(),
            STANDARD.encode(&self.digest)
        )
    }
}

impl FromStr for Integrity {
    type Err = IntegrityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_sri(s)
    }
}

impl Serialize for Integrity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";

    #[test]
    fn parses_sha512_and_round_trips() {
        let parsed = Integrity::parse_sri(SHA512).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Sha512);
        assert_eq!(parsed.digest.len(), 64);
        assert_eq!(parsed.to_string(), SHA512);
    }

    #[test]
    fn keeps_strongest_of_several() {
        let sha1 = "sha1-2aa9Jb6R+0ExTsXHXYHVRU5HI6U=";
        let parsed = Integrity::parse_sri(&format!("{sha1} {SHA512}")).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Sha512);
        let only_sha1 = Integrity::parse_sri(sha1).unwrap();
        assert_eq!(only_sha1.algorithm, Algorithm::Sha1);
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(Integrity::parse_sri(""), Err(IntegrityError::Empty));
        assert!(matches!(
            Integrity::parse_sri("md5-abc"),
            Err(IntegrityError::UnknownAlgorithm(_))
        ));
        assert!(matches!(
            Integrity::parse_sri("sha512-!!!"),
            Err(IntegrityError::BadDigest(_))
        ));
        assert!(matches!(
            Integrity::parse_sri("sha512-AAAA"),
            Err(IntegrityError::WrongLength { .. })
        ));
    }

    #[test]
    fn parses_hex_sha1() {
        let parsed =
            Integrity::from_hex(Algorithm::Sha1, "d9a6bd25be91fb41314ec5c75d81d5454e4723a5")
                .unwrap();
        assert_eq!(
            parsed.hex_digest(),
            "d9a6bd25be91fb41314ec5c75d81d5454e4723a5"
        );
        assert!(Integrity::from_hex(Algorithm::Sha1, "zz").is_err());
    }
}
