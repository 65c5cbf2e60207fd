//! Runtime download and execution, shipped binaries.
pub(crate) mod download_execute;
pub(crate) mod shipped_binary;
