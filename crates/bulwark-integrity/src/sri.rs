//! Recomputing SRI digests over bytes or streams.

use std::io::Read;

use bulwark_types::{Algorithm, Integrity};
use sha2::Digest as _;

/// A running digest of one of the SRI algorithms.
pub enum Hasher {
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher for `algorithm`.
    #[must_use]
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(bytes),
            Self::Sha256(h) => h.update(bytes),
            Self::Sha384(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest as an [`Integrity`].
    #[must_use]
    pub fn finish(self) -> Integrity {
        let (algorithm, digest) = match self {
            Self::Sha1(h) => (Algorithm::Sha1, h.finalize().to_vec()),
            Self::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            Self::Sha384(h) => (Algorithm::Sha384, h.finalize().to_vec()),
            Self::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        Integrity { algorithm, digest }
    }
}

/// The digest of `bytes` under `algorithm`.
#[must_use]
pub fn digest(algorithm: Algorithm, bytes: &[u8]) -> Integrity {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(bytes);
    hasher.finish()
}

/// The digest of everything `reader` yields, read in 64 KiB blocks; at most `limit` bytes are
/// read (more is an error), so a hostile file cannot keep us hashing forever.
///
/// # Errors
/// The reader's error, or [`std::io::ErrorKind::FileTooLarge`] past `limit`.
pub fn digest_reader(
    algorithm: Algorithm,
    reader: impl Read,
    limit: u64,
) -> std::io::Result<Integrity> {
    let mut hasher = Hasher::new(algorithm);
    let mut reader = reader.take(limit + 1);
    let mut buffer = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        total += read as u64;
        if total > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("larger than the {} MiB limit", limit >> 20),
            ));
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finish())
}

/// Whether `algorithm` is too weak to trust (sha1: collisions are practical).
#[must_use]
pub fn is_weak(algorithm: Algorithm) -> bool {
    algorithm == Algorithm::Sha1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        let sri = digest(Algorithm::Sha512, b"abc").to_string();
        assert_eq!(
            sri,
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
        );
        assert_eq!(
            digest(Algorithm::Sha1, b"abc").hex_digest(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let streamed = digest_reader(Algorithm::Sha256, &b"abc"[..], 10).unwrap();
        assert_eq!(streamed, digest(Algorithm::Sha256, b"abc"));
        assert!(digest_reader(Algorithm::Sha256, &b"abcdef"[..], 3).is_err());
    }
}
