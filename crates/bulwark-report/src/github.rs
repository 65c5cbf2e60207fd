//! GitHub Actions annotations (`bulwark scan --format github`): one workflow command per
//! finding and policy violation, `::error file=…,line=…,title=…::message`, which GitHub shows
//! on the pull request's changed files and in the run summary. Deny-level violations and
//! high or critical findings are errors, the rest warnings; a last plain line sums up.
//! Escaping follows the runner's rules: `%`, CR and LF in data, also `:` and `,` in
//! properties.

use std::io::{self, Write};

use crate::Severity;
use crate::json::{LocationEntry, PolicyLevel, ScanReport};

/// Writes the annotations of `report`.
///
/// # Errors
/// Write errors of `out`.
pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let mut errors = 0;
    let mut warnings = 0;
    for finding in &report.findings {
        let command = if finding.severity >= Severity::High {
            errors += 1;
            "error"
        } else {
            warnings += 1;
            "warning"
        };
        let title = format!(
            "bulwark: {} {}@{}",
            serde_json::to_value(finding.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            finding.package.name,
            finding.package.version
        );
        let message = format!("{} ({})", finding.summary, finding.id);
        annotation(out, command, Some(&finding.location), &title, &message)?;
    }
    if let Some(policy) = &report.policy {
        for violation in &policy.violations {
            let command = match violation.level {
                PolicyLevel::Deny => {
                    errors += 1;
                    "error"
                }
                PolicyLevel::Warn => {
                    warnings += 1;
                    "warning"
                }
            };
            let title = match &violation.package {
                Some(package) => format!(
                    "bulwark policy: {} {}@{}",
                    violation.check, package.name, package.version
                ),
                None => format!("bulwark policy: {}", violation.check),
            };
            annotation(
                out,
                command,
                violation.location.as_ref(),
                &title,
                &violation.message,
            )?;
        }
    }
    let projects = report.summary.projects;
    writeln!(
        out,
        "bulwark: {errors} errors, {warnings} warnings ({} packages in {projects} {})",
        report.summary.packages,
        if projects == 1 { "project" } else { "projects" }
    )
}

fn annotation(
    out: &mut dyn Write,
    command: &str,
    location: Option<&LocationEntry>,
    title: &str,
    message: &str,
) -> io::Result<()> {
    let mut properties = Vec::new();
    if let Some(location) = location {
        let file = location.file.to_string_lossy().replace('\\', "/");
        properties.push(format!("file={}", escape_property(&file)));
        if location.line > 0 {
            properties.push(format!("line={}", location.line));
        }
    }
    properties.push(format!("title={}", escape_property(title)));
    writeln!(
        out,
        "::{command} {}::{}",
        properties.join(","),
        escape_data(message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn one_annotation() {
        let mut out = Vec::new();
        let location = LocationEntry {
            file: "package-lock.json".into(),
            line: 12,
        };
        annotation(
            &mut out,
            "error",
            Some(&location),
            "bulwark: x",
            "bad, really: yes",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::error file=package-lock.json,line=12,title=bulwark%3A x::bad, really: yes\n"
        );
    }
}
