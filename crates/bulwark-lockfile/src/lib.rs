//! The dependency inventory: which package versions a project resolves, where they came from
//! and why they are there.
//!
//! Every lockfile format has its own module implementing [`Extractor`], registered in
//! [`EXTRACTORS`]; each turns its wire format into the one shared [`Lockfile`] graph model.
//! [`Lockfile::into_inventory`] then derives what every format needs alike: dev/optional flags
//! where the manager does not record them, and the dependency paths from the project root.
//! Installed `node_modules` trees are read by [`installed`], and [`discover`] finds both under a
//! directory. Extractors never print and never execute anything: every input is hostile.
#![warn(missing_docs)]

pub mod bun_lock;
pub mod discover;
mod error;
mod glob;
pub mod installed;
mod location;
mod model;
pub mod npm_lock;
pub mod pnpm_lock;
mod registry;
pub mod yarn_lock;

pub use error::ExtractError;
pub use location::LineIndex;
pub use model::{
    Dependency, DependencyKind, Flags, Importer, InventoryPackage, Location, Lockfile,
    MAX_PATHS_PER_PACKAGE, Package, PackageId, Project,
};
pub use registry::{EXTRACTORS, Extractor, Input, MAX_LOCKFILE_BYTES, extract_file, extractor_for};
