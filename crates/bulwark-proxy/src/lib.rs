//! bulwark's registry gate: an npm registry proxy that applies bulwark's known-bad database,
//! a version policy and static code analysis to every version before a package manager can
//! install it.
//!
//! [`Gate`] holds the decisions and the caches; [`serve`] speaks the npm registry read
//! protocol over HTTP/1.1. State lives behind the [`BlobStore`], [`PackumentStore`],
//! [`VerdictStore`] and [`AuditSink`] traits; the defaults are [`LocalDisk`],
//! [`SqliteVerdicts`] and [`JsonLinesAudit`] (see `docs/scaling.md` for shared deployments).
//! Nothing from a package is ever executed.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod audit;
mod clock;
mod config;
mod disk;
mod gate;
pub mod integrity;
mod metrics;
mod packument;
pub mod protocol;
mod server;
mod service;
mod store;
mod upstream;
mod verdicts;

pub use audit::JsonLinesAudit;
pub use config::{ConfigError, DEFAULT_LISTEN, DEFAULT_UPSTREAM, ProxyConfig, UpstreamConfig};
pub use disk::LocalDisk;
pub use gate::{BlockReason, BuiltinPolicy, Decision, VersionPolicy, known_bad};
pub use metrics::Metrics;
pub use packument::PackumentError;
pub use server::serve;
pub use service::{BlockedVersion, Gate, Stores};
pub use store::{
    AuditRecord, AuditSink, BlobStore, NoAudit, PackumentStore, StoreError, StoredPackument,
    StoredVerdict, VerdictStore,
};
pub use upstream::UpstreamError;
pub use verdicts::{SqliteVerdicts, engine_version};
