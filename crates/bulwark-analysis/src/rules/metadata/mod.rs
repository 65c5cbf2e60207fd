//! Package metadata signals.
pub(crate) mod dependency_confusion;
pub(crate) mod typosquatting;
