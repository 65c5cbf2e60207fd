//! Destructive and protestware actions.
pub(crate) mod geo_gated_destructive;
