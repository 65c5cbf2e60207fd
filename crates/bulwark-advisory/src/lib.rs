//! Known-bad knowledge for bulwark: advisories and indicators, stored and matched.
//!
//! This crate answers one question for `scan` and `hunt`: *is this `package@version` known
//! to be malicious, vulnerable or compromised?* It holds OSV advisories (vulnerabilities and
//! `MAL-*` malicious-package reports) and indicator feeds (compromised versions of past
//! incidents, payload hashes, indicator strings) in a local SQLite database, and matches
//! inventories against them with npm semver semantics. It never prints and never touches
//! the network itself.
//!
//! # API at a glance
//!
//! ```no_run
//! use bulwark_advisory::{Matcher, PackageRef, Query, Store, osv::AdvisoryKind};
//! # fn main() -> bulwark_advisory::Result<()> {
//! // Open (or create) the database; `--db` / `BULWARK_DB` override the default path.
//! let path = Store::default_path().expect("a data directory");
//! let mut store = Store::open(&path)?;
//! // (`Store::open_read_only` for databases the user cannot write.)
//!
//! // `bulwark db import <file.json | dir | all.zip>`: bad files are reported, not fatal.
//! let report = store.import_path("all.zip".as_ref())?;
//! for failure in &report.failed {
//!     eprintln!("skipped {}: {}", failure.name.display(), failure.reason);
//! }
//! // `bulwark db import --iocs list.csv` (`package,version[,campaign]` or `name@version`).
//! store.import_iocs_csv("list.csv".as_ref())?;
//!
//! // `bulwark db update`: the HTTP client is the caller's.
//! let get = |url: &str| -> bulwark_advisory::Result<Vec<u8>> { todo!("ureq GET {url}") };
//! store.update_from_url(bulwark_advisory::DEFAULT_OSV_NPM_URL, get)?;
//!
//! // `bulwark db status`.
//! let status = store.status()?;
//!
//! // Matching: build once, query many times.
//! let matcher = Matcher::from_store(&store)?;
//! let packages = [PackageRef::new("@ctrl/tinycolor", "4.1.1")];
//! for found in matcher.match_packages(&packages) {
//!     // advisory id, aliases, kind, campaign/source, severity, score, range, fixed, summary
//! }
//! let malware = matcher.query(&packages, &Query::new().kind(AdvisoryKind::Malicious));
//!
//! // Offline, without any database: the built-in feed alone.
//! let offline = Matcher::builtin();
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! * [`version`], [`range`]: npm semver versions and ranges, pre-release rules included.
//! * [`osv`]: the OSV schema, range evaluation (with the rule for malicious reports that
//!   list every version next to a narrow range, see [`osv::range`]) and CVSS scores.
//! * [`store`]: the SQLite database (migrations, WAL, transactional imports, status).
//! * [`feed`]: the built-in indicator feed and the user list format.
//! * [`matcher`]: the in-memory index and the [`Query`] builder.
//! * [`update`]: downloading an OSV archive through a caller-supplied getter.
//! * [`import`]: reading files, directories and zips under size caps.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod csv;
pub mod error;
pub mod feed;
pub mod import;
pub mod matcher;
pub mod osv;
pub mod range;
pub mod store;
pub mod update;
pub mod version;

pub use error::{Error, ErrorKind, ImportFailure, Result};
pub use feed::{CompromisedVersion, IndicatorFeed, IndicatorString, PayloadHash};
pub use import::Limits;
pub use matcher::{Match, Matcher, PackageRef, Query};
pub use range::Range;
pub use store::{DB_PATH_ENV, ImportReport, SourceKind, SourceStatus, Status, Store, format_age};
pub use update::{DEFAULT_OSV_NPM_URL, redact_url};
pub use version::Version;
