//! Credential and secret harvesting.
pub(crate) mod env_harvesting;
pub(crate) mod sensitive_file_access;
