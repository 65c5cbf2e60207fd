//! CycloneDX 1.6 JSON bills of materials (<https://cyclonedx.org/docs/1.6/json/>; schema
//! `http://cyclonedx.org/schema/bom-1.6.schema.json`).
//!
//! One BOM covers the whole scan. Components are deduplicated by purl; every project becomes an
//! `application` component whose `dependsOn` lists its direct dependencies, and every package
//! lists its resolved dependencies, so the dependency graph survives. Dev-only packages get
//! scope `excluded` and the `cdx:npm:package:development` property of the CycloneDX npm
//! taxonomy; optional-only packages get scope `optional`.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use bulwark_lockfile::{InventoryPackage, Project};
use bulwark_types::npm_purl;
use serde::Serialize;

/// The top-level BOM document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    /// Always `CycloneDX`.
    pub bom_format: &'static str,
    /// Always `1.6`.
    pub spec_version: &'static str,
    /// `urn:uuid:…`, unique per document.
    pub serial_number: String,
    /// Version of this BOM (1).
    pub version: u32,
    /// Who made it and about what.
    pub metadata: Metadata,
    /// The packages.
    pub components: Vec<Component>,
    /// The dependency graph.
    pub dependencies: Vec<DependencyEntry>,
}

/// BOM metadata.
#[derive(Debug, Serialize)]
pub struct Metadata {
    /// RFC 3339 time of creation.
    pub timestamp: String,
    /// The tool that made the BOM.
    pub tools: Tools,
    /// The scanned root.
    pub component: Component,
}

/// `metadata.tools` in the 1.5+ object form.
#[derive(Debug, Serialize)]
pub struct Tools {
    /// Tools as components.
    pub components: Vec<Component>,
}

/// A CycloneDX component.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// `library` or `application`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Unique reference within the BOM.
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// npm scope (`@babel`) for scoped packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Name without the scope.
    pub name: String,
    /// Version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `required`, `optional` or `excluded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    /// Hashes from the lockfile's integrity.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash_>,
    /// Package URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Where the package was downloaded from.
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    /// Name/value properties (CycloneDX npm and bulwark taxonomies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// A hash of a component.
#[derive(Debug, Clone, Serialize)]
pub struct Hash_ {
    /// `SHA-512`, `SHA-1`, …
    pub alg: &'static str,
    /// Lowercase hex digest.
    pub content: String,
}

/// An external reference.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalReference {
    /// `distribution` or `vcs`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The URL.
    pub url: String,
}

/// A name/value property.
#[derive(Debug, Clone, Serialize)]
pub struct Property {
    /// Property name.
    pub name: String,
    /// Property value.
    pub value: String,
}

/// One node of the dependency graph.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyEntry {
    /// The component's `bom-ref`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// `bom-ref`s it depends on.
    pub depends_on: Vec<String>,
}

fn package_component(package: &InventoryPackage, bom_ref: &str) -> Component {
    let (group, name) = match package
        .name
        .strip_prefix('@')
        .and_then(|rest| rest.split_once('/'))
    {
        Some((scope, name)) => (Some(format!("@{scope}")), name.to_owned()),
        None => (None, package.name.clone()),
    };
    let scope = if package.dev {
        "excluded"
    } else if package.optional {
        "optional"
    } else {
        "required"
    };
    let mut properties = Vec::new();
    if package.dev {
        properties.push(Property {
            name: "cdx:npm:package:development".into(),
            value: "true".into(),
        });
    }
    if let Some(alias) = &package.alias {
        properties.push(Property {
            name: "bulwark:alias".into(),
            value: alias.clone(),
        });
    }
    properties.push(Property {
        name: "bulwark:source".into(),
        value: serde_json::to_value(package.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    });
    let external_references = package
        .resolved
        .iter()
        .filter(|url| url.contains("://"))
        .map(|url| ExternalReference {
            kind: if package.source == bulwark_types::SourceKind::Git {
                "vcs"
            } else {
                "distribution"
            },
            url: url.clone(),
        })
        .collect();
    Component {
        kind: "library",
        bom_ref: Some(bom_ref.to_owned()),
        group,
        name,
        version: Some(package.version.clone()),
        scope: Some(scope),
        hashes: package
            .integrity
            .iter()
            .map(|integrity| Hash_ {
                alg: integrity.algorithm.cyclonedx_name(),
                content: integrity.hex_digest(),
            })
            .collect(),
        purl: Some(npm_purl(&package.name, &package.version)),
        external_references,
        properties,
    }
}

/// Builds the BOM of a scan of `root`.
#[must_use]
pub fn build(root: &Path, projects: &[Project]) -> Bom {
    // Components keyed by bom-ref (the purl); a package seen in several projects appears once
    // and keeps the union of its dependencies. It is dev-only only if it is so everywhere.
    let mut components: BTreeMap<String, Component> = BTreeMap::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let root_ref = "root".to_owned();
    let mut project_refs = BTreeSet::new();
    for (index, project) in projects.iter().enumerate() {
        let refs: Vec<String> = project
            .packages
            .iter()
            .map(|p| npm_purl(&p.name, &p.version))
            .collect();
        for (package, bom_ref) in project.packages.iter().zip(&refs) {
            let component = package_component(package, bom_ref);
            components
                .entry(bom_ref.clone())
                .and_modify(|existing| {
                    if existing.scope != component.scope {
                        existing.scope = Some("required");
                        existing
                            .properties
                            .retain(|p| p.name != "cdx:npm:package:development");
                    }
                })
                .or_insert(component);
            let depends = graph.entry(bom_ref.clone()).or_default();
            depends.extend(
                package
                    .dependencies
                    .iter()
                    .filter_map(|&i| refs.get(i).cloned()),
            );
        }
        let project_ref = format!("project:{index}:{}", display_relative(root, &project.file));
        let direct: BTreeSet<String> = project
            .direct
            .iter()
            .filter_map(|&i| refs.get(i).cloned())
            .collect();
        let name = display_relative(root, &project.file);
        components.insert(
            project_ref.clone(),
            Component {
                kind: "application",
                bom_ref: Some(project_ref.clone()),
                group: None,
                name,
                version: None,
                scope: None,
                hashes: Vec::new(),
                purl: None,
                external_references: Vec::new(),
                properties: vec![Property {
                    name: "bulwark:format".into(),
                    value: project.format.into(),
                }],
            },
        );
        graph.insert(project_ref.clone(), direct);
        project_refs.insert(project_ref);
    }
    graph.insert(root_ref.clone(), project_refs);
    for dependencies in graph.values_mut() {
        dependencies.retain(|r| components.contains_key(r));
    }
    let root_name = root
        .file_name()
        .and_then(|n| n.to_str())
        .map_or_else(|| root.display().to_string(), str::to_owned);
    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: serial_number(root, components.len()),
        version: 1,
        metadata: Metadata {
            timestamp: bulwark_types::time::format_rfc3339(SystemTime::now()),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    bom_ref: None,
                    group: None,
                    name: "bulwark".into(),
                    version: Some(env!("CARGO_PKG_VERSION").into()),
                    scope: None,
                    hashes: Vec::new(),
                    purl: None,
                    external_references: Vec::new(),
                    properties: Vec::new(),
                }],
            },
            component: Component {
                kind: "application",
                bom_ref: Some(root_ref),
                group: None,
                name: root_name,
                version: None,
                scope: None,
                hashes: Vec::new(),
                purl: None,
                external_references: Vec::new(),
                properties: Vec::new(),
            },
        },
        components: components.into_values().collect(),
        dependencies: graph
            .into_iter()
            .map(|(reference, depends)| DependencyEntry {
                reference,
                depends_on: depends.into_iter().collect(),
            })
            .collect(),
    }
}

/// Writes the BOM of a scan as pretty JSON.
///
/// # Errors
/// Returns write errors of `out`.
pub fn write(root: &Path, projects: &[Project], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(root, projects))?;
    out.write_all(b"\n")
}

fn display_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A version-4-shaped UUID URN derived from the time, the process and the content.
fn serial_number(root: &Path, count: usize) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    count.hash(&mut hasher);
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    let high = hasher.finish();
    high.rotate_left(17).hash(&mut hasher);
    let low = hasher.finish();
    let bytes: Vec<u8> = high
        .to_be_bytes()
        .into_iter()
        .chain(low.to_be_bytes())
        .collect();
    let hex: String = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| match i {
            6 => format!("{:02x}", (b & 0x0f) | 0x40),
            8 => format!("{:02x}", (b & 0x3f) | 0x80),
            _ => format!("{b:02x}"),
        })
        .collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_uuid_v4_shaped() {
        let serial = serial_number(Path::new("/x"), 3);
        let uuid = serial.strip_prefix("urn:uuid:").unwrap();
        let parts: Vec<_> = uuid.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
    }
}
