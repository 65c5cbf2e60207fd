//! `bulwark diff NAME OLD NEW` and `bulwark diff OLD_PATH NEW_PATH`: what the new version of
//! a package can do that the old one could not (see `bulwark-diff` and `docs/diff.md`).
//!
//! Registry versions are downloaded and verified against the packument exactly as `inspect`
//! does; local inputs are directories or `.tgz` files read in memory. Nothing is executed.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use bulwark_analysis::{Options, PackageFiles, Verdict};
use bulwark_diff::{Bump, Change, Diff, Level};
use bulwark_integrity::keys::RegistryKeys;
use bulwark_integrity::provenance;
use bulwark_integrity::registry::Packument;
use bulwark_integrity::trust::TrustFacts;
use bulwark_integrity::trusted_root::TrustedRoot;
use bulwark_report::OutputFormat;
use bulwark_types::Integrity;
use owo_colors::{OwoColorize as _, Style};

use super::inspect::{fetch_tarball, read_bounded};
use crate::Outcome;
use crate::cli::{ColorChoice, DiffArgs, VerdictLevel};

pub(crate) fn run(args: &DiffArgs, color: ColorChoice) -> anyhow::Result<Outcome> {
    let options = Options::default();
    let (old, new) = match args.targets.as_slice() {
        [name, old, new] => (
            from_registry(&args.registry, name, old, &options)?,
            from_registry(&args.registry, name, new, &options)?,
        ),
        [old, new] => (from_path(old, &options)?, from_path(new, &options)?),
        _ => bail!("expected `NAME OLD NEW` or `OLD_PATH NEW_PATH`"),
    };
    let mut diff = bulwark_diff::diff_packages(&old, &new, &options);
    if let [name, old, new] = args.targets.as_slice() {
        let (old_trust, new_trust) = (
            trust_facts(&args.registry, name, old)?,
            trust_facts(&args.registry, name, new)?,
        );
        if old_trust.signed
            || old_trust.has_provenance
            || new_trust.signed
            || new_trust.has_provenance
        {
            diff.add_trust(old_trust, new_trust);
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &diff)?;
            writeln!(out)?;
        }
        _ => write_human(&diff, super::use_color(color, true), &mut out)?,
    }
    out.flush()?;
    let failing = match (args.fail_on, diff.level) {
        (VerdictLevel::Never, _) | (_, None) => false,
        (VerdictLevel::Malicious, Some(level)) => level >= Level::Malicious,
        (VerdictLevel::Suspicious, Some(level)) => level >= Level::Suspicious,
    };
    Ok(if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn from_registry(
    registry: &str,
    name: &str,
    version: &str,
    options: &Options,
) -> anyhow::Result<PackageFiles> {
    let bytes = fetch_tarball(registry, name, version)?;
    PackageFiles::from_tarball(&bytes, options)
        .with_context(|| format!("cannot read `{name}@{version}`"))
}

/// Registry signatures and verified provenance of `name@version` (the shipped Sigstore root
/// and npm keys). Attestations that do not verify count as provenance without facts.
fn trust_facts(registry: &str, name: &str, version: &str) -> anyhow::Result<TrustFacts> {
    let base = registry.trim_end_matches('/');
    let encoded = name.replace('/', "%2f");
    let url = format!("{base}/{encoded}");
    let bytes = crate::http::get(
        &url,
        bulwark_integrity::registry::MAX_PACKUMENT_BYTES as u64,
    )?;
    let packument =
        Packument::parse(&bytes).with_context(|| format!("the packument at `{url}`"))?;
    let entry = packument
        .version(version)
        .with_context(|| format!("`{name}@{version}` is not in the registry's packument"))?;
    let mut facts = TrustFacts {
        version: version.to_owned(),
        signed: entry.signatures.as_ref().is_some_and(|s| !s.is_empty()),
        has_provenance: entry.has_attestations,
        provenance: None,
    };
    if entry.has_attestations {
        let url = format!("{base}/-/npm/v1/attestations/{encoded}@{version}");
        let response = crate::http::get(
            &url,
            bulwark_integrity::provenance::MAX_ATTESTATIONS_BYTES as u64,
        )?;
        let integrity = entry
            .integrity
            .as_deref()
            .and_then(|sri| Integrity::parse_sri(sri).ok());
        let expected = provenance::Expected {
            name,
            version,
            integrity: integrity.as_ref(),
        };
        if let Ok(attestations) = provenance::verify_attestations(
            &response,
            expected,
            &TrustedRoot::shipped(),
            &RegistryKeys::shipped(),
        ) {
            facts.provenance = attestations.provenance;
        }
    }
    Ok(facts)
}

fn from_path(target: &str, options: &Options) -> anyhow::Result<PackageFiles> {
    let path = Path::new(target);
    if path.is_dir() {
        PackageFiles::from_dir(path, options)
            .with_context(|| format!("cannot read `{}`", path.display()))
    } else if path.is_file() {
        let bytes = read_bounded(path)?;
        PackageFiles::from_tarball(&bytes, options)
            .with_context(|| format!("cannot read `{}`", path.display()))
    } else {
        bail!("`{target}` is neither a directory nor a tarball")
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Suspicious => "suspicious",
        Level::Malicious => "malicious",
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Clean => "clean",
        Verdict::Suspicious => "suspicious",
        Verdict::Malicious => "malicious",
    }
}

fn group_title(change: &Change) -> &'static str {
    use bulwark_diff::ChangeKind as Kind;
    match change.kind {
        Kind::Verdict => "Verdict",
        Kind::LifecycleScript | Kind::InstallTrigger => "Install-time code",
        Kind::EntryPrepend | Kind::EntryPoint => "Entry points",
        Kind::Capability => "Capabilities",
        Kind::ObfuscatedFile | Kind::Binary | Kind::LargeFile => "Files",
        Kind::Dependency => "Dependencies",
        Kind::Trust => "Trust",
    }
}

fn write_human(diff: &Diff, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let style = |s: Style| if color { s } else { Style::new() };
    let level_style = |level: Level| match level {
        Level::Malicious => style(Style::new().red().bold()),
        Level::Suspicious => style(Style::new().yellow().bold()),
        Level::Info => style(Style::new().dimmed()),
    };
    let name = if diff.new.name.is_empty() {
        &diff.old.name
    } else {
        &diff.new.name
    };
    writeln!(
        out,
        "{} {} {} → {} ({} bump)",
        "bulwark diff".style(style(Style::new().bold())),
        name,
        diff.old.version,
        diff.new.version,
        bump_name(diff.bump),
    )?;
    writeln!(
        out,
        "verdict {} → {}; files +{} -{} ~{} ({} unchanged)",
        verdict_name(diff.old.verdict),
        verdict_name(diff.new.verdict),
        diff.files.added,
        diff.files.removed,
        diff.files.changed,
        diff.files.unchanged,
    )?;
    if let Some(trust) = &diff.trust {
        let describe = |facts: &TrustFacts| {
            let provenance = match (&facts.provenance, facts.has_provenance) {
                (Some(p), _) => format!(
                    "provenance {} {}",
                    p.repository.as_deref().unwrap_or("?"),
                    p.workflow.as_deref().unwrap_or("?")
                ),
                (None, true) => "provenance not verified".to_owned(),
                (None, false) => "no provenance".to_owned(),
            };
            format!(
                "{}, {provenance}",
                if facts.signed { "signed" } else { "unsigned" }
            )
        };
        writeln!(out, "trust {}: {}", trust.old.version, describe(&trust.old))?;
        writeln!(out, "trust {}: {}", trust.new.version, describe(&trust.new))?;
    }
    let mut groups: Vec<(&'static str, Vec<&Change>)> = Vec::new();
    for change in &diff.changes {
        let title = group_title(change);
        match groups.iter_mut().find(|(t, _)| *t == title) {
            Some((_, members)) => members.push(change),
            None => groups.push((title, vec![change])),
        }
    }
    for (title, changes) in groups {
        writeln!(out)?;
        writeln!(out, "{}", title.style(style(Style::new().bold())))?;
        for change in changes {
            writeln!(
                out,
                "  {:10} {}",
                level_name(change.level)
                    .to_uppercase()
                    .style(level_style(change.level)),
                change.message
            )?;
            match (&change.before, &change.after) {
                (Some(before), Some(after)) => {
                    writeln!(out, "             - {before}")?;
                    writeln!(out, "             + {after}")?;
                }
                (None, Some(after)) => writeln!(out, "             + {after}")?,
                _ => {}
            }
            for evidence in &change.evidence {
                writeln!(
                    out,
                    "             {} {}:{} {}: {}",
                    "-->".style(style(Style::new().blue())),
                    evidence.file,
                    evidence.line,
                    evidence.rule_id,
                    evidence.message
                )?;
                if !evidence.evidence.is_empty() {
                    writeln!(out, "                 | {}", evidence.evidence)?;
                }
            }
        }
    }
    writeln!(out)?;
    match diff.level {
        Some(level) => writeln!(
            out,
            "{} {} ({} changes)",
            "result:".style(style(Style::new().bold())),
            level_name(level).style(level_style(level)),
            diff.changes.len()
        )?,
        None => writeln!(out, "no new capability")?,
    }
    for note in &diff.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::Major => "major",
        Bump::Minor => "minor",
        Bump::Patch => "patch",
        Bump::Prerelease => "pre-release",
        Bump::Same => "no",
        Bump::Downgrade => "downgrade",
        Bump::Unknown => "unknown",
    }
}
