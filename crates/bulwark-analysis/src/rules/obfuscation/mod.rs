//! Hiding what the code does.
pub(crate) mod encoded_blob;
pub(crate) mod obfuscator_signature;
