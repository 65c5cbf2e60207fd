//! Known indicators of compromise.
pub(crate) mod known_indicator;
pub(crate) mod payload_hash;
