//! Human output of `bulwark scan`: one line per project, totals by source, then the files that
//! could not be read. Readable without colour; colour only when the caller allows it.

use std::io::{self, Write};

use owo_colors::{OwoColorize, Style};

use crate::ScanReport;

/// Colour styles, all plain when colour is off.
struct Palette {
    heading: Style,
    dim: Style,
    error: Style,
    warning: Style,
    count: Style,
}

impl Palette {
    fn new(color: bool) -> Self {
        if color {
            Self {
                heading: Style::new().bold(),
                dim: Style::new().dimmed(),
                error: Style::new().red().bold(),
                warning: Style::new().yellow(),
                count: Style::new().cyan(),
            }
        } else {
            let plain = Style::new();
            Self {
                heading: plain,
                dim: plain,
                error: plain,
                warning: plain,
                count: plain,
            }
        }
    }
}

/// Writes the human summary of `report`.
///
/// # Errors
/// Returns write errors of `out`.
pub fn write(report: &ScanReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let palette = Palette::new(color);
    let summary = &report.summary;
    writeln!(
        out,
        "{} {}",
        "bulwark scan".style(palette.heading),
        report.root.display().style(palette.dim)
    )?;
    writeln!(
        out,
        "{} {}, {} {} ({} distinct)",
        summary.projects.style(palette.count),
        plural(summary.projects, "project", "projects"),
        summary.packages.style(palette.count),
        plural(summary.packages, "package", "packages"),
        summary.distinct_packages
    )?;
    if !report.projects.is_empty() {
        writeln!(out)?;
        let width = report
            .projects
            .iter()
            .map(|p| p.file.display().to_string().len())
            .max()
            .unwrap_or(0);
        for project in &report.projects {
            let packages = report.packages.iter().filter(|p| p.project == project.id);
            let (mut dev, mut optional) = (0, 0);
            for package in packages {
                dev += usize::from(package.dev);
                optional += usize::from(package.optional);
            }
            let format = format!("{} v{}", project.format, project.format_version);
            writeln!(
                out,
                "  {:width$}  {:32} {:>6} packages  {}",
                project.file.display(),
                format.style(palette.dim),
                project.package_count.style(palette.count),
                format!("dev {dev}, optional {optional}").style(palette.dim),
            )?;
            if project.importers.len() > 1 {
                writeln!(
                    out,
                    "  {:width$}  {} workspace members",
                    "",
                    project.importers.len() - 1
                )?;
            }
            for warning in &project.warnings {
                writeln!(
                    out,
                    "  {:width$}  {}: {warning}",
                    "",
                    "warning".style(palette.warning)
                )?;
            }
        }
    }
    if !summary.by_source.is_empty() {
        let sources: Vec<String> = summary
            .by_source
            .iter()
            .map(|(source, count)| format!("{} {count}", serde_label(source)))
            .collect();
        writeln!(out)?;
        writeln!(
            out,
            "{} {}",
            "Sources:".style(palette.heading),
            sources.join(", ")
        )?;
    }
    if let Some(analysis) = &summary.analysis {
        writeln!(
            out,
            "{} {} analysed, {} cached, {} failed: {} malicious, {} suspicious",
            "Analysis:".style(palette.heading),
            analysis.analysed,
            analysis.cached,
            analysis.failed,
            analysis.malicious,
            analysis.suspicious
        )?;
    }
    write_findings(report, &palette, out)?;
    write_policy(report, &palette, out)?;
    for note in &report.analysis_notes {
        writeln!(
            out,
            "{}: {}@{} ({}): {}",
            "note".style(palette.dim),
            note.package.name,
            note.package.version,
            note.install_path.display(),
            note.message
        )?;
    }
    for ignored in &report.ignored {
        writeln!(
            out,
            "{}: {} ({})",
            "note".style(palette.dim),
            ignored.file.display(),
            ignored.reason
        )?;
    }
    if !report.errors.is_empty() {
        writeln!(out)?;
        for error in &report.errors {
            let place = match error.line {
                Some(line) => format!("{}:{line}", error.file.display()),
                None => error.file.display().to_string(),
            };
            writeln!(
                out,
                "{}: {place}: {}",
                "error".style(palette.error),
                error.message
            )?;
        }
        writeln!(
            out,
            "{} {} could not be read; the rest was scanned",
            summary.errors,
            plural(summary.errors, "file", "files")
        )?;
    }
    if report.policy.is_none() && !report.findings.is_empty() {
        let mut by_severity: Vec<(crate::Severity, usize)> = Vec::new();
        for finding in &report.findings {
            match by_severity.iter_mut().find(|(s, _)| *s == finding.severity) {
                Some((_, count)) => *count += 1,
                None => by_severity.push((finding.severity, 1)),
            }
        }
        let parts: Vec<String> = by_severity
            .iter()
            .map(|(severity, count)| format!("{count} {}", serde_label(severity)))
            .collect();
        writeln!(out)?;
        writeln!(
            out,
            "{} {} ({})",
            "Findings:".style(palette.heading),
            report.findings.len(),
            parts.join(", ")
        )?;
    }
    if let Some(policy) = &report.policy {
        writeln!(out)?;
        let verdict = if policy.summary.deny > 0 {
            "denied".style(palette.error).to_string()
        } else {
            "passed".to_owned()
        };
        writeln!(
            out,
            "{} {verdict}: {} denied, {} {}, {} {}",
            "Policy".style(palette.heading),
            policy.summary.deny,
            policy.summary.warn,
            plural(policy.summary.warn, "warning", "warnings"),
            report.findings.len(),
            plural(report.findings.len(), "finding", "findings"),
        )?;
    }
    Ok(())
}

/// Policy violations grouped by level (deny first), each with its place.
fn write_policy(report: &ScanReport, palette: &Palette, out: &mut dyn Write) -> io::Result<()> {
    let Some(policy) = &report.policy else {
        return Ok(());
    };
    writeln!(out)?;
    writeln!(
        out,
        "{} {} ({} denied, {} {})",
        "Policy".style(palette.heading),
        policy.config.display().style(palette.dim),
        policy.summary.deny,
        policy.summary.warn,
        plural(policy.summary.warn, "warning", "warnings"),
    )?;
    for (level, label, style) in [
        (crate::PolicyLevel::Deny, "DENY", palette.error),
        (crate::PolicyLevel::Warn, "WARN", palette.warning),
    ] {
        let group: Vec<_> = policy
            .violations
            .iter()
            .filter(|v| v.level == level)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "  {} ({})", label.style(style), group.len())?;
        // Undated packages are listed once in the note below; one line stands for them.
        let undated = group
            .iter()
            .filter(|v| v.check == "release-age-unknown")
            .count();
        let collapse = undated > 3;
        if collapse {
            writeln!(
                out,
                "    {}  {undated} packages could not be dated (see the note below)",
                "release-age-unknown".style(palette.dim)
            )?;
        }
        for violation in group {
            if collapse && violation.check == "release-age-unknown" {
                continue;
            }
            writeln!(
                out,
                "    {}  {}",
                violation.check.style(palette.dim),
                violation.message
            )?;
            if let Some(location) = &violation.location {
                writeln!(out, "      {}:{}", location.file.display(), location.line)?;
            }
        }
    }
    if !policy.undated.is_empty() {
        let names: Vec<&str> = policy.undated.keys().map(String::as_str).take(10).collect();
        let more = policy.undated.len().saturating_sub(names.len());
        writeln!(
            out,
            "  {}: could not date {} {} for the minimum release age: {}{}",
            "note".style(palette.dim),
            policy.undated.len(),
            plural(policy.undated.len(), "package", "packages"),
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}

fn write_findings(report: &ScanReport, palette: &Palette, out: &mut dyn Write) -> io::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} ({})",
        "Findings".style(palette.heading),
        report.findings.len()
    )?;
    for finding in &report.findings {
        let severity = serde_label(&finding.severity).to_uppercase();
        let style = if finding.severity >= crate::Severity::High {
            palette.error
        } else {
            palette.warning
        };
        writeln!(
            out,
            "  {:9} {} {}@{}  {}",
            severity.style(style),
            serde_label(&finding.kind),
            finding.package.name,
            finding.package.version,
            finding.id.style(palette.dim),
        )?;
        writeln!(out, "            {}", finding.summary)?;
        writeln!(
            out,
            "            {}:{}{}",
            finding.location.file.display(),
            finding.location.line,
            finding
                .paths
                .first()
                .map(|path| format!("  via {}", path.join(" > ")))
                .unwrap_or_default()
        )?;
        if let Some(fixed) = &finding.fixed {
            writeln!(out, "            fixed in {fixed}")?;
        }
        if let Some(source) = &finding.source {
            writeln!(out, "            {}", source.style(palette.dim))?;
        }
        if let Some(install_path) = &finding.install_path {
            writeln!(out, "            in {}", install_path.display())?;
        }
        for code in &finding.code {
            writeln!(
                out,
                "            --> {}:{} {} ({}): {}",
                code.file, code.line, code.rule_id, code.severity, code.message
            )?;
            if !code.evidence.is_empty() {
                writeln!(
                    out,
                    "                | {}",
                    code.evidence.style(palette.dim)
                )?;
            }
        }
    }
    Ok(())
}

fn serde_label<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}
