//! `bulwark inspect <dir | file.tgz | name@version>`: deep static analysis of one package.
//!
//! `name@version` downloads the tarball from the configured registry and verifies it against
//! the packument's `dist.integrity` before anything reads it. Nothing is ever executed.

use std::io::{Read as _, Write};
use std::path::Path;

use anyhow::{Context as _, bail};
use bulwark_analysis::{Options, Report, Severity, Verdict};
use bulwark_report::OutputFormat;
use bulwark_types::{Algorithm, Integrity};
use owo_colors::{OwoColorize as _, Style};
use sha2::Digest as _;

use crate::Outcome;
use crate::cli::{ColorChoice, InspectArgs, VerdictLevel};

/// Largest tarball `inspect` downloads or reads.
const MAX_TARBALL_BYTES: u64 = 256 * 1024 * 1024;
/// Largest packument `inspect` downloads.
const MAX_PACKUMENT_BYTES: u64 = 128 * 1024 * 1024;

pub(crate) fn run(args: &InspectArgs, color: ColorChoice) -> anyhow::Result<Outcome> {
    let options = Options::default();
    let target = Path::new(&args.target);
    let report = if target.is_dir() {
        bulwark_analysis::analyze_dir(target, &options)
            .with_context(|| format!("cannot analyse `{}`", target.display()))?
    } else if target.is_file() {
        let bytes = read_bounded(target)?;
        bulwark_analysis::analyze_tarball(&bytes, &options)
            .with_context(|| format!("cannot analyse `{}`", target.display()))?
    } else if let Some((name, version)) = split_spec(&args.target) {
        let bytes = fetch_tarball(&args.registry, name, version)?;
        bulwark_analysis::analyze_tarball(&bytes, &options)
            .with_context(|| format!("cannot analyse `{name}@{version}`"))?
    } else {
        bail!(
            "`{}` is neither a directory, a tarball nor `name@version`",
            args.target
        );
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        _ => write_human(&report, super::use_color(color, true), &mut out)?,
    }
    let failing = match args.fail_on {
        VerdictLevel::Never => false,
        VerdictLevel::Malicious => report.verdict == Verdict::Malicious,
        VerdictLevel::Suspicious => report.verdict >= Verdict::Suspicious,
    };
    Ok(if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

pub(crate) fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_TARBALL_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if bytes.len() as u64 > MAX_TARBALL_BYTES {
        bail!(
            "`{}` is larger than {} MiB",
            path.display(),
            MAX_TARBALL_BYTES >> 20
        );
    }
    Ok(bytes)
}

/// Splits `name@version` (`@scope/name@version` too).
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.rfind('@')? + 1;
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    let valid_name = !name.is_empty()
        && name.len() <= 214
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@/._-~".contains(c))
        && name.matches('/').count() <= usize::from(name.starts_with('@'));
    (valid_name && !version.is_empty()).then_some((name, version))
}

/// Downloads `name@version` from `registry`, verifying the bytes against the packument.
pub(crate) fn fetch_tarball(registry: &str, name: &str, version: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!(
        "{}/{}",
        registry.trim_end_matches('/'),
        name.replace('/', "%2f")
    );
    let packument = crate::http::get(&url, MAX_PACKUMENT_BYTES)?;
    let packument: serde_json::Value = serde_json::from_slice(&packument)
        .with_context(|| format!("the packument at `{url}` is not JSON"))?;
    let dist = packument
        .get("versions")
        .and_then(|versions| versions.get(version))
        .and_then(|manifest| manifest.get("dist"))
        .with_context(|| format!("`{name}@{version}` is not in the registry's packument"))?;
    let tarball = dist
        .get("tarball")
        .and_then(|v| v.as_str())
        .context("the packument has no `dist.tarball`")?;
    let expected = match dist.get("integrity").and_then(|v| v.as_str()) {
        Some(sri) => {
            Integrity::parse_sri(sri).with_context(|| format!("bad `dist.integrity` `{sri}`"))?
        }
        None => {
            let shasum = dist
                .get("shasum")
                .and_then(|v| v.as_str())
                .context("the packument has no integrity")?;
            Integrity::from_hex(Algorithm::Sha1, shasum)
                .with_context(|| format!("bad `dist.shasum` `{shasum}`"))?
        }
    };
    let bytes = crate::http::get(tarball, MAX_TARBALL_BYTES)?;
    verify(&bytes, &expected)
        .with_context(|| format!("`{tarball}` does not match the packument"))?;
    Ok(bytes)
}

/// Checks `bytes` against an integrity value.
pub(crate) fn verify(bytes: &[u8], expected: &Integrity) -> anyhow::Result<()> {
    let actual: Vec<u8> = match expected.algorithm {
        Algorithm::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        Algorithm::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        Algorithm::Sha1 => bail!("only a sha1 checksum is published, which bulwark does not trust"),
    };
    if actual != expected.digest {
        bail!("integrity mismatch: expected {expected}");
    }
    Ok(())
}

fn write_human(report: &Report, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let style = |s: Style| if color { s } else { Style::new() };
    let verdict_style = match report.verdict {
        Verdict::Malicious => style(Style::new().red().bold()),
        Verdict::Suspicious => style(Style::new().yellow().bold()),
        Verdict::Clean => style(Style::new().green().bold()),
    };
    let verdict = format!("{:?}", report.verdict).to_uppercase();
    writeln!(
        out,
        "{}@{}: {} (score {})",
        report.package.name,
        report.package.version,
        verdict.style(verdict_style),
        report.score
    )?;
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
    });
    for finding in findings {
        let severity_style = if finding.severity >= Severity::High {
            style(Style::new().red())
        } else {
            style(Style::new().yellow())
        };
        writeln!(out)?;
        writeln!(
            out,
            "{} {}: {}",
            format!("{:?}", finding.severity)
                .to_lowercase()
                .style(severity_style),
            finding.rule_id.style(style(Style::new().bold())),
            finding.message
        )?;
        writeln!(
            out,
            "  {} {}:{}:{} (confidence {:?})",
            "-->".style(style(Style::new().blue())),
            finding.file,
            finding.line,
            finding.column,
            finding.confidence
        )?;
        if !finding.evidence.is_empty() {
            let gutter = finding.line.to_string();
            writeln!(out, "  {} |", " ".repeat(gutter.len()))?;
            writeln!(
                out,
                "  {} | {}",
                gutter.style(style(Style::new().blue())),
                finding.evidence
            )?;
            writeln!(
                out,
                "  {} | {}",
                " ".repeat(gutter.len()),
                "^".style(severity_style)
            )?;
        }
    }
    for note in &report.notes {
        writeln!(out, "note: {}: {}", note.file, note.message)?;
    }
    if report.findings.is_empty() {
        writeln!(out, "no findings")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_specs() {
        assert_eq!(split_spec("lodash@4.17.21"), Some(("lodash", "4.17.21")));
        assert_eq!(
            split_spec("@babel/core@7.0.0"),
            Some(("@babel/core", "7.0.0"))
        );
        assert_eq!(split_spec("lodash"), None);
        assert_eq!(split_spec("@babel/core"), None);
        assert_eq!(split_spec("../../etc@1"), None);
        assert_eq!(split_spec("a/b/c@1"), None);
        assert_eq!(split_spec("x@"), None);
    }

    #[test]
    fn verifies_integrity() {
        let bytes = b"hello";
        let good = Integrity::parse_sri(&format!(
            "sha512-{}",
            base64_of(&sha2::Sha512::digest(bytes))
        ))
        .unwrap();
        assert!(verify(bytes, &good).is_ok());
        assert!(verify(b"hellO", &good).is_err());
        let sha1 = Integrity::from_hex(Algorithm::Sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
            .unwrap();
        assert!(verify(bytes, &sha1).is_err(), "sha1 alone is not trusted");
    }

    fn base64_of(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
