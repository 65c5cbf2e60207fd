//! Integrity of npm packages after the fact: the bytes of cached tarballs against their SRI
//! value, installed files against their tarball, the lockfile against the registry, registry
//! signatures and Sigstore provenance.

pub mod caches;
pub mod certificate;
pub mod crypto;
pub mod keys;
pub mod provenance;
pub mod registry;
pub mod rekor;
pub mod signatures;
pub mod sri;
pub mod tamper;
pub mod tarball;
pub mod trust;
pub mod trusted_root;
pub mod verify;

/// Reads at most `limit` bytes of `path`; more is an error.
pub(crate) fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("`{}` is larger than {} MiB", path.display(), limit >> 20),
        ));
    }
    Ok(bytes)
}
