//! Process execution.
pub(crate) mod process_execution;
