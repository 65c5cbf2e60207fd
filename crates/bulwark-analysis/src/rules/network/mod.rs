//! Exfiltration and command-and-control.
pub(crate) mod exfiltration_endpoint;
pub(crate) mod github_api_write;
