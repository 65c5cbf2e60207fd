//! Renders bulwark's results. Reporters never analyse: they take a finished [`ScanReport`]
//! and write it as human text ([`human`]), JSON ([`json`], whose structs are the documented
//! schema) or CycloneDX 1.6 ([`cyclonedx`]).
#![warn(missing_docs)]

pub mod cyclonedx;
pub mod human;
pub mod json;

pub use json::{
    AnalysisNote, AnalysisSummary, CodeEvidence, Finding, FindingKind, FindingPackage,
    LocationEntry, SCHEMA_VERSION, ScanReport, Severity,
};

/// The output formats of `bulwark scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Text for people, with colour when the terminal allows.
    Human,
    /// JSON following `docs/json-schema.md`.
    Json,
    /// A CycloneDX 1.6 JSON bill of materials.
    CycloneDx,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "human" | "text" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            "cyclonedx" | "cdx" => Ok(Self::CycloneDx),
            other => Err(format!(
                "unknown format `{other}` (expected human, json or cyclonedx)"
            )),
        }
    }
}
