//! Browser crypto drainers.
pub(crate) mod crypto_drainer;
