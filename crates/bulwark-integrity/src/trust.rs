//! Trust downgrade and provenance change between two versions of a package: a version that
//! lacks the registry signature or provenance its predecessor had, or whose provenance names a
//! different repository, workflow file or builder. Provenance is a signal, not a verdict: a
//! valid attestation from a workflow added the day before is exactly what this flags.

use serde::Serialize;

use crate::provenance::ProvenanceFacts;

/// What one version's trust rests on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustFacts {
    /// The version.
    pub version: String,
    /// It carries registry signatures.
    pub signed: bool,
    /// It has provenance (verified facts when they could be read).
    pub has_provenance: bool,
    /// Facts of the verified provenance, when available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceFacts>,
}

/// One way a version is less trustworthy than the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum TrustChange {
    /// The previous version was signed by the registry, this one is not.
    SignatureDropped {
        /// The previous version.
        previous: String,
    },
    /// The previous version had provenance, this one has none.
    ProvenanceDropped {
        /// The previous version.
        previous: String,
    },
    /// Provenance names another source repository.
    RepositoryChanged {
        /// The previous version.
        previous: String,
        /// Before.
        from: String,
        /// Now.
        to: String,
    },
    /// Provenance names another workflow file.
    WorkflowChanged {
        /// The previous version.
        previous: String,
        /// Before.
        from: String,
        /// Now.
        to: String,
    },
    /// Provenance names another builder.
    BuilderChanged {
        /// The previous version.
        previous: String,
        /// Before.
        from: String,
        /// Now.
        to: String,
    },
}

impl TrustChange {
    /// A one-line description.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::SignatureDropped { previous } => {
                format!("no registry signature, {previous} had one")
            }
            Self::ProvenanceDropped { previous } => format!("no provenance, {previous} had it"),
            Self::RepositoryChanged { previous, from, to } => {
                format!("provenance repository changed from {from} ({previous}) to {to}")
            }
            Self::WorkflowChanged { previous, from, to } => {
                format!("provenance workflow changed from {from} ({previous}) to {to}")
            }
            Self::BuilderChanged { previous, from, to } => {
                format!("provenance builder changed from {from} ({previous}) to {to}")
            }
        }
    }
}

/// How `current` falls short of `previous`.
#[must_use]
pub fn compare(previous: &TrustFacts, current: &TrustFacts) -> Vec<TrustChange> {
    let mut changes = Vec::new();
    let name = previous.version.clone();
    if previous.signed && !current.signed {
        changes.push(TrustChange::SignatureDropped {
            previous: name.clone(),
        });
    }
    if previous.has_provenance && !current.has_provenance {
        changes.push(TrustChange::ProvenanceDropped {
            previous: name.clone(),
        });
    }
    if let (Some(before), Some(now)) = (&previous.provenance, &current.provenance) {
        let differs = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) if a != b => Some((a.clone(), b.clone())),
            _ => None,
        };
        if let Some((from, to)) = differs(&before.repository, &now.repository) {
            changes.push(TrustChange::RepositoryChanged {
                previous: name.clone(),
                from,
                to,
            });
        }
        if let Some((from, to)) = differs(&before.workflow, &now.workflow) {
            changes.push(TrustChange::WorkflowChanged {
                previous: name.clone(),
                from,
                to,
            });
        }
        if let Some((from, to)) = differs(&before.builder, &now.builder) {
            changes.push(TrustChange::BuilderChanged {
                previous: name,
                from,
                to,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(version: &str, signed: bool, workflow: Option<&str>) -> TrustFacts {
        TrustFacts {
            version: version.to_owned(),
            signed,
            has_provenance: workflow.is_some(),
            provenance: workflow.map(|workflow| ProvenanceFacts {
                repository: Some("https://github.com/o/r".into()),
                workflow: Some(workflow.into()),
                builder: Some("https://github.com/actions/runner".into()),
                ..ProvenanceFacts::default()
            }),
        }
    }

    #[test]
    fn downgrades_and_changes() {
        let before = facts("1.0.0", true, Some(".github/workflows/release.yml"));
        assert!(
            compare(
                &before,
                &facts("1.0.1", true, Some(".github/workflows/release.yml"))
            )
            .is_empty()
        );
        assert_eq!(
            compare(&before, &facts("1.0.1", false, None)),
            vec![
                TrustChange::SignatureDropped {
                    previous: "1.0.0".into()
                },
                TrustChange::ProvenanceDropped {
                    previous: "1.0.0".into()
                }
            ]
        );
        let changed = compare(
            &before,
            &facts("1.0.1", true, Some(".github/workflows/orphan.yml")),
        );
        assert!(
            matches!(&changed[..], [TrustChange::WorkflowChanged { to, .. }] if to == ".github/workflows/orphan.yml")
        );
        // Gaining trust is not a finding.
        assert!(compare(&facts("1.0.0", false, None), &before).is_empty());
    }
}
