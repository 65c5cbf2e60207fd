//! Checking bytes against an integrity value.

use bulwark_types::{Algorithm, Integrity};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// Whether `bytes` hash to `integrity`'s digest.
#[must_use]
pub fn matches(integrity: &Integrity, bytes: &[u8]) -> bool {
    let digest: Vec<u8> = match integrity.algorithm {
        Algorithm::Sha1 => Sha1::digest(bytes).to_vec(),
        Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
        Algorithm::Sha384 => Sha384::digest(bytes).to_vec(),
        Algorithm::Sha512 => Sha512::digest(bytes).to_vec(),
    };
    digest == integrity.digest
}

/// The integrity of a packument version's `dist`: `integrity` (SRI) when present, else the
/// hex `shasum` (SHA-1) of old versions.
#[must_use]
pub fn of_dist(dist: &serde_json::Value) -> Option<Integrity> {
    dist.get("integrity")
        .and_then(serde_json::Value::as_str)
        .and_then(|sri| Integrity::parse_sri(sri).ok())
        .or_else(|| {
            dist.get("shasum")
                .and_then(serde_json::Value::as_str)
                .and_then(|hex| Integrity::from_hex(Algorithm::Sha1, hex).ok())
        })
}

/// A strong `ETag` for a response body.
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", bulwark_types::hex(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_sri_and_shasum() {
        let bytes = b"hello";
        let sri = Integrity::parse_sri(
            "sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw==",
        )
        .unwrap();
        assert!(matches(&sri, bytes));
        assert!(!matches(&sri, b"hellO"));
        let dist = serde_json::json!({"shasum": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"});
        let old = of_dist(&dist).unwrap();
        assert!(matches(&old, bytes));
        let both = serde_json::json!({"shasum": "00", "integrity": sri.to_string()});
        assert_eq!(of_dist(&both), Some(sri));
        assert_eq!(of_dist(&serde_json::json!({})), None);
    }
}
