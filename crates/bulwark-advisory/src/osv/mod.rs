//! The OSV model: wire schema, version-range evaluation and severity scoring.
//!
//! Kept apart from the store so the rules that decide what is affected live in one place
//! and can be tested against real records without a database.

pub mod range;
pub mod schema;
pub mod severity;

pub use range::{CompiledAffected, EventRange, RangeHit, StoredAffected};
pub use schema::{AdvisoryId, AdvisoryKind, OsvRecord};
pub use severity::SeverityLevel;
