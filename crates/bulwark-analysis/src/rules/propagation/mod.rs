//! Worm-style self-propagation.
pub(crate) mod npm_self_publish;
