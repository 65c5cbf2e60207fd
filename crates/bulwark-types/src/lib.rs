//! Small value types shared by every bulwark crate.
//!
//! They sit at the bottom of the crate graph: lockfile extractors produce them, the report
//! crate renders them, and later checks (integrity, policy, advisories) consume them.
#![warn(missing_docs)]

mod hex;
mod integrity;
mod purl;
mod source;
mod tarball_path;
pub mod time;

pub use hex::hex;
pub use integrity::{Algorithm, Integrity, IntegrityError};
pub use purl::npm_purl;
pub use source::SourceKind;
pub use tarball_path::package_tarball_path;
