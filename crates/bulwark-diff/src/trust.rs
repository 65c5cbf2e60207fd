//! The trust section of a diff: registry signatures and provenance of both versions, and how
//! the new one falls short of the old (see `bulwark_integrity::trust`). Filled in by callers
//! that have registry data; a diff of two local paths has none.

use bulwark_integrity::trust::{TrustChange, TrustFacts, compare};
use serde::Serialize;

use crate::{Change, ChangeKind, Diff, Level};

/// Trust facts of both versions and the downgrades between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trust {
    /// The old version.
    pub old: TrustFacts,
    /// The new version.
    pub new: TrustFacts,
    /// How the new version falls short.
    pub changes: Vec<TrustChange>,
}

impl Diff {
    /// Adds the trust section; each downgrade also becomes a [`ChangeKind::Trust`] change at
    /// [`Level::Suspicious`] (provenance is a signal, not a verdict).
    pub fn add_trust(&mut self, old: TrustFacts, new: TrustFacts) {
        let changes = compare(&old, &new);
        for change in &changes {
            let (before, after) = match change {
                TrustChange::RepositoryChanged { from, to, .. }
                | TrustChange::WorkflowChanged { from, to, .. }
                | TrustChange::BuilderChanged { from, to, .. } => {
                    (Some(from.clone()), Some(to.clone()))
                }
                TrustChange::SignatureDropped { .. } | TrustChange::ProvenanceDropped { .. } => {
                    (None, None)
                }
            };
            self.changes.push(Change {
                kind: ChangeKind::Trust,
                level: Level::Suspicious,
                capability: None,
                message: change.describe(),
                file: None,
                before,
                after,
                evidence: Vec::new(),
            });
        }
        self.changes.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a.file.cmp(&b.file))
        });
        self.level = self.changes.iter().map(|change| change.level).max();
        self.trust = Some(Trust { old, new, changes });
    }
}
