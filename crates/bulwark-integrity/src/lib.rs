//! Integrity of npm packages after the fact: the bytes of cached tarballs against their SRI
//! value, installed files against their tarball, the lockfile against the registry, registry
//! signatures and Sigstore provenance.

pub mod certificate;
pub mod crypto;
pub mod keys;
pub mod provenance;
pub mod rekor;
pub mod signatures;
pub mod sri;
pub mod time;
pub mod trusted_root;
