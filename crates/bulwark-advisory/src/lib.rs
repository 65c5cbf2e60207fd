//! Known-bad knowledge for bulwark: advisories and indicators, stored and matched.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod osv;
pub mod range;
pub mod version;

pub use error::{Error, ErrorKind, ImportFailure, Result};
pub use range::Range;
pub use version::Version;
