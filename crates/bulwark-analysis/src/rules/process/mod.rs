//! Process execution.
pub(crate) mod lolbin_usage;
pub(crate) mod process_execution;
