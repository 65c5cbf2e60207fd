//! Persistence beyond the install.
pub(crate) mod persistence_write;
