//! Credential and secret harvesting.
pub(crate) mod env_harvesting;
pub(crate) mod host_fingerprinting;
pub(crate) mod sensitive_file_access;
pub(crate) mod wallet_secret_exfiltration;
