//! Diagnostics about `bulwark.toml` itself: a message, the byte span it is about, optional
//! secondary labels (an entry's `reason`) and notes. [`render`] writes them with the file,
//! line and column and a code frame, the way rustc and cargo-deny do; it writes to a
//! caller-supplied writer and never prints on its own.

use std::io::{self, Write};
use std::ops::Range;

/// How bad a config diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The entry still works but deserves attention (an expired allow entry).
    Warning,
    /// The config is invalid and nothing is checked.
    Error,
}

/// A label: a span and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Byte range in the config text.
    pub span: Range<usize>,
    /// The text next to the carets.
    pub message: String,
}

/// One diagnostic about the config text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line.
    pub message: String,
    /// Where it is.
    pub primary: Label,
    /// Related places (the `reason` of an entry).
    pub secondary: Vec<Label>,
    /// Extra lines (`expected one of …`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    #[must_use]
    pub fn error(message: impl Into<String>, span: Range<usize>, label: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                message: label.into(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    #[must_use]
    pub fn warning(
        message: impl Into<String>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message, span, label)
        }
    }

    /// Adds a note line.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_secondary(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// The 1-based line and column of the primary span in `source`.
    #[must_use]
    pub fn line_column(&self, source: &str) -> (usize, usize) {
        line_column(source, self.primary.span.start)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
#[must_use]
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Writes `diagnostics` about the file `name` whose text is `source`:
///
/// ```text
/// error: unknown key `levl`
///   --> bulwark.toml:3:1
///    |
///  3 | levl = "deny"
///    | ^^^^ not a key of `[packages]`
///    = note: expected one of `level`, `approved-only`, `allow`, `deny`
/// ```
///
/// # Errors
/// Write errors of `out`.
pub fn render(
    name: &str,
    source: &str,
    diagnostics: &[Diagnostic],
    out: &mut dyn Write,
) -> io::Result<()> {
    for diagnostic in diagnostics {
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(out, "{severity}: {}", diagnostic.message)?;
        let (line, column) = diagnostic.line_column(source);
        let mut labels = vec![(&diagnostic.primary, '^')];
        labels.extend(diagnostic.secondary.iter().map(|label| (label, '-')));
        let width = labels
            .iter()
            .map(|(label, _)| line_column(source, label.span.start).0)
            .max()
            .unwrap_or(line)
            .to_string()
            .len();
        writeln!(out, "{:width$}--> {name}:{line}:{column}", "")?;
        writeln!(out, "{:width$} |", "")?;
        for (label, marker) in labels {
            let (line, column) = line_column(source, label.span.start);
            let text = source.lines().nth(line - 1).unwrap_or("");
            let (end_line, end_column) = line_column(source, label.span.end);
            let line_chars = text.chars().count();
            let length = if end_line == line {
                end_column.saturating_sub(column).max(1)
            } else {
                line_chars.saturating_sub(column - 1).max(1)
            };
            writeln!(out, "{line:>width$} | {text}")?;
            let markers: String = std::iter::repeat_n(marker, length).collect();
            if label.message.is_empty() {
                writeln!(
                    out,
                    "{:width$} | {:pad$}{markers}",
                    "",
                    "",
                    pad = column - 1
                )?;
            } else {
                writeln!(
                    out,
                    "{:width$} | {:pad$}{markers} {}",
                    "",
                    "",
                    label.message,
                    pad = column - 1
                )?;
            }
        }
        for note in &diagnostic.notes {
            writeln!(out, "{:width$} = note: {note}", "")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let source = "a = 1\n[packages]\nlevl = \"deny\"\n";
        assert_eq!(line_column(source, 0), (1, 1));
        assert_eq!(line_column(source, 6), (2, 1));
        let offset = source.find("levl").unwrap();
        assert_eq!(line_column(source, offset), (3, 1));
        assert_eq!(line_column(source, offset + 8), (3, 9));
        assert_eq!(line_column(source, 10_000).0, 4);
    }

    #[test]
    fn renders_a_code_frame() {
        let source = "[packages]\nlevl = \"deny\"\n";
        let start = source.find("levl").unwrap();
        let diagnostic = Diagnostic::error("unknown key `levl`", start..start + 4, "unknown key")
            .with_note("expected one of `level`, `allow`");
        let mut out = Vec::new();
        render("bulwark.toml", source, &[diagnostic], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "error: unknown key `levl`\n --> bulwark.toml:2:1\n  |\n2 | levl = \"deny\"\n  | ^^^^ unknown key\n  = note: expected one of `level`, `allow`\n\n"
        );
    }
}
