//! Renders bulwark's results. Reporters never analyse: they take a finished [`ScanReport`]
//! and write it as human text ([`human`]), JSON ([`json`], whose structs are the documented
//! schema), CycloneDX 1.6 ([`cyclonedx`]), SARIF 2.1.0 ([`sarif`]) or GitHub Actions
//! annotations ([`github`]).
#![warn(missing_docs)]

pub mod cyclonedx;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

pub use json::{
    AnalysisNote, AnalysisSummary, CodeEvidence, Finding, FindingKind, FindingPackage,
    LocationEntry, PolicyLevel, PolicySection, PolicySummary, PolicyViolation, SCHEMA_VERSION,
    ScanReport, Severity,
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
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…` annotations).
    Github,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "human" | "text" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            "cyclonedx" | "cdx" => Ok(Self::CycloneDx),
            "sarif" => Ok(Self::Sarif),
            "github" => Ok(Self::Github),
            other => Err(format!(
                "unknown format `{other}` (expected human, json, cyclonedx, sarif or github)"
            )),
        }
    }
}
