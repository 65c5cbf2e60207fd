//! bulwark's supply-chain policy: one `bulwark.toml` applied to every lockfile format, in CI
//! (`bulwark scan`) and in the registry gate (`bulwark serve`).
//!
//! * [`config`]: the file, parsed with spans and validated in a second step so every mistake
//!   is a [`Diagnostic`] at its line and column; [`diagnostic::render`] draws code frames.
//! * [`checks`]: one module per check, each a pure function over
//!   [`bulwark_lockfile::Project`]s (plus the `package.json` files they read), returning
//!   [`Violation`]s. Checks never print.
//! * [`Config::check_version`]: the per-version decision (allow/deny lists, minimum release
//!   age) that needs no inventory, for the registry gate.
//! * [`packument`]: publication times from packuments through a caller-supplied
//!   [`PackumentSource`], cached on disk (atomic writes) so `--offline` works.
#![warn(missing_docs)]

pub mod checks;
pub mod config;
pub mod date;
pub mod diagnostic;
mod level;
mod manager_builds;
mod manifest;
pub mod packument;
mod pattern;
mod violation;

pub use config::{Config, ConfigError, Entry, FILE_NAME, Serve, Upstream};
pub use diagnostic::{Diagnostic, Severity};
pub use level::Level;
pub use packument::{PackumentSource, PublishTimes, TimeCache};
pub use pattern::NamePattern;
pub use violation::{Check, PackageVersion, Place, Violation};

/// The commented starter policy that `bulwark init` writes.
pub const STARTER_CONFIG: &str = include_str!("starter.toml");
