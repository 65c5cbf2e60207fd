//! A small RFC 4180 CSV reader for the indicator lists.
//!
//! The feeds are tiny and simple (quoted fields with commas, `""` escapes), so a
//! forty-line state machine is preferable to another dependency. Records are returned with
//! the line number they start on so that bad rows can be reported by position.

/// Longest field accepted; longer ones make the row fail.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// One parsed row: the 1-based line it starts on and its fields, or why it is malformed.
pub(crate) type Row = (usize, Result<Vec<String>, &'static str>);

/// Split `text` into rows. Blank lines are skipped.
pub(crate) fn rows(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut row_start = 1;
    let mut error: Option<&'static str> = None;
    let mut chars = text.chars().peekable();
    let mut row_has_content = false;
    while let Some(c) = chars.next() {
        if field.len() > MAX_FIELD_BYTES {
            error = Some("field too long");
        }
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                row_has_content = true;
            }
            '"' => error = error.or(Some("quote inside an unquoted field")),
            ',' => {
                fields.push(std::mem::take(&mut field));
                row_has_content = true;
            }
            '\r' => {}
            '\n' => {
                if row_has_content || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field));
                    rows.push((
                        row_start,
                        error.take().map_or(Ok(std::mem::take(&mut fields)), Err),
                    ));
                }
                fields.clear();
                field.clear();
                row_has_content = false;
                line += 1;
                row_start = line;
            }
            _ => {
                field.push(c);
                row_has_content = true;
            }
        }
    }
    if in_quotes {
        error = Some("unterminated quoted field");
    }
    if row_has_content || !field.trim().is_empty() {
        fields.push(field);
        rows.push((row_start, error.map_or(Ok(fields), Err)));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_escapes() {
        let rows = rows("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",z\r\n\n1,,3\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], (1, Ok(vec!["a".into(), "b".into(), "c".into()])));
        assert_eq!(
            rows[1],
            (2, Ok(vec!["x, y".into(), "say \"hi\"".into(), "z".into()]))
        );
        assert_eq!(
            rows[2],
            (4, Ok(vec!["1".into(), String::new(), "3".into()]))
        );
    }

    #[test]
    fn malformed_rows_are_reported_with_their_line() {
        let rows = rows("ok,1\nba\"d,2\n\"open,3\n");
        assert_eq!(rows[0].1, Ok(vec!["ok".into(), "1".into()]));
        assert_eq!(rows[1], (2, Err("quote inside an unquoted field")));
        assert_eq!(rows[2], (3, Err("unterminated quoted field")));
        let long = format!("{},x\nnext,1\n", "a".repeat(MAX_FIELD_BYTES + 10));
        let rows = super::rows(&long);
        assert_eq!(rows[0].1, Err("field too long"));
        assert_eq!(rows[1].1, Ok(vec!["next".into(), "1".into()]));
    }
}
