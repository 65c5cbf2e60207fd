//! A fast reader for the plain subset of YAML that pnpm writes, used before `serde_norway`.
//!
//! `serde_norway` (a libyaml port) reads about 25 MB/s, so a 10,000-package lockfile (3 MB)
//! takes over 100 ms to parse, twice the budget of a whole scan. pnpm writes a small, regular
//! subset of YAML: block mappings indented by spaces, `- item` sequences, single-quoted and
//! plain scalars, and one-line flow collections such as `{integrity: sha512-…}`. This module
//! reads exactly that subset into a tree and deserialises the same wire structs from it.
//!
//! It is strict rather than clever: anything outside the subset (anchors, aliases, tags,
//! block scalars, multi-line scalars, tabs, several documents, escapes, deep nesting, a plain
//! scalar that could be a number where the type matters, any type mismatch) makes it give up
//! with [`Unsupported`], and the caller parses the file again with `serde_norway`, which then
//! decides, and reports any error with its line. So the fast path never changes what a file
//! means; it only skips libyaml for files pnpm wrote.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Nesting deeper than this is left to `serde_norway` (which bounds it too).
const MAX_DEPTH: usize = 48;

/// The input is outside the subset this module reads, or did not fit the wire structs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the YAML subset of the fast reader")
    }
}

impl std::error::Error for Unsupported {}

impl de::Error for Unsupported {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Unsupported
    }
}

/// A parsed YAML node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node<'a> {
    /// An empty value (`key:` with nothing nested).
    Empty,
    /// A scalar; `plain` if it was not quoted (so it may be `null`, a boolean or a number).
    Scalar { text: Cow<'a, str>, plain: bool },
    /// A mapping, entries in file order (keys are scalars).
    Map(Vec<(Node<'a>, Node<'a>)>),
    /// A sequence.
    Seq(Vec<Node<'a>>),
}

/// The keys of the `packages:` and `snapshots:` mappings, each with its 1-based line, in
/// file order.
#[derive(Debug, Default)]
pub(super) struct KeyLines<'a> {
    /// Keys of `packages:`.
    pub(super) packages: Vec<(Cow<'a, str>, u32)>,
    /// Keys of `snapshots:`.
    pub(super) snapshots: Vec<(Cow<'a, str>, u32)>,
}

/// Reads `text`, a single YAML document in pnpm's subset whose root is a mapping, into a
/// tree, with the lines of the package keys ([`deserialize`] reads without the tree).
#[cfg(test)]
pub(super) fn parse(text: &str) -> Result<(Node<'_>, KeyLines<'_>), Unsupported> {
    if !plain_characters(text) {
        return Err(Unsupported);
    }
    let mut parser = Parser {
        text,
        offset: 0,
        line: 1,
        peeked: None,
        key_lines: KeyLines::default(),
    };
    let root = match parser.peek()? {
        Some(line) if line.indent == 0 => parser.block_mapping(0, 0, Record::Root)?,
        _ => return Err(Unsupported),
    };
    match parser.peek()? {
        None => Ok((root, parser.key_lines)),
        Some(_) => Err(Unsupported),
    }
}

/// True if `text` has no character that YAML treats specially and this reader does not: tabs,
/// carriage returns other than in CRLF, the YAML 1.1 line breaks NEL/LS/PS, control
/// characters, and byte-order marks (which libyaml rejects or reads differently).
fn plain_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Almost every lockfile is printable ASCII and LF: one pass decides, written without
    // early exits inside a chunk so that it vectorises.
    let printable = bytes.chunks(64).all(|chunk| {
        chunk.iter().fold(true, |ok, &b| {
            ok & ((b.wrapping_sub(0x20) < 0x5f) | (b == b'\n'))
        })
    });
    if printable {
        return true;
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let refused = match c {
            '\n' | ' '..='~' => false,
            '\r' => chars.peek() != Some(&'\n'),
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => true,
            c => c.is_control(),
        };
        if refused {
            return false;
        }
    }
    true
}

/// Whose keys a mapping's entries are recorded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// The root mapping: its `packages` and `snapshots` values are recorded.
    Root,
    /// The entries of `packages:`.
    Packages,
    /// The entries of `snapshots:`.
    Snapshots,
    /// Nothing.
    Nothing,
}

/// One line with content: its indentation and the text after it (without line break).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    content: &'a str,
    next: usize,
    number: u32,
}

struct Parser<'a> {
    text: &'a str,
    offset: usize,
    /// The 1-based line number at `offset`.
    line: u32,
    /// Lines of the package keys, filled while parsing.
    key_lines: KeyLines<'a>,
    /// The last [`Parser::peek`] result and the offset it was read at.
    peeked: Option<(usize, Option<Line<'a>>)>,
}

impl<'a> Parser<'a> {
    /// The next line with content, skipping blank and comment lines (not consumed).
    fn peek(&mut self) -> Result<Option<Line<'a>>, Unsupported> {
        if let Some((offset, line)) = self.peeked
            && offset == self.offset
        {
            return Ok(line);
        }
        // The scan moves past blank and comment lines, so they are never read twice.
        let line = self.scan()?;
        self.peeked = Some((self.offset, line));
        Ok(line)
    }

    fn scan(&mut self) -> Result<Option<Line<'a>>, Unsupported> {
        loop {
            if self.offset >= self.text.len() {
                return Ok(None);
            }
            let rest = &self.text[self.offset..];
            let (raw, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(newline) => (&rest[..newline], self.offset + newline + 1),
                None => (rest, self.text.len()),
            };
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            // Byte loops: spaces are ASCII, and `trim_matches` is slower on this hot path.
            let bytes = raw.as_bytes();
            let indent = bytes.iter().take_while(|&&b| b == b' ').count();
            let end = bytes.len()
                - bytes[indent..]
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b' ')
                    .count();
            let trimmed = &raw[indent..end];
            if trimmed.is_empty() || trimmed.starts_with('#') {
                self.offset = next;
                self.line = self.line.saturating_add(1);
                continue;
            }
            if indent == 0
                && (trimmed.starts_with("---")
                    || trimmed.starts_with("...")
                    || trimmed.starts_with('%'))
            {
                return Err(Unsupported);
            }
            return Ok(Some(Line {
                indent,
                content: trimmed,
                next,
                number: self.line,
            }));
        }
    }

    /// The value of a key at `parent_indent` whose line ended after the colon.
    fn nested(
        &mut self,
        parent_indent: usize,
        depth: usize,
        record: Record,
    ) -> Result<Node<'a>, Unsupported> {
        match self.peek()? {
            Some(line) if line.indent > parent_indent => {
                if depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                if is_sequence_item(line.content) {
                    self.block_sequence(line.indent, depth + 1)
                } else {
                    self.block_mapping(line.indent, depth + 1, record)
                }
            }
            _ => Ok(Node::Empty),
        }
    }

    fn consume(&mut self, line: Line<'a>) {
        self.offset = line.next;
        self.line = line.number.saturating_add(1);
    }

    fn block_mapping(
        &mut self,
        indent: usize,
        depth: usize,
        record: Record,
    ) -> Result<Node<'a>, Unsupported> {
        let mut entries = Vec::new();
        while let Some((key, rest, child)) = self.map_entry(indent, record)? {
            let value = if rest.is_empty() {
                self.nested(indent, depth, child)?
            } else {
                self.inline(rest, indent)?
            };
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    /// The next entry of a block mapping at `indent`: its key, the rest of its line (empty if
    /// the value is nested) and how to record the value's entries; `None` at its end.
    fn map_entry(
        &mut self,
        indent: usize,
        record: Record,
    ) -> Result<Option<(Node<'a>, &'a str, Record)>, Unsupported> {
        let Some(line) = self.peek()? else {
            return Ok(None);
        };
        if line.indent < indent {
            return Ok(None);
        }
        if line.indent > indent || is_sequence_item(line.content) {
            return Err(Unsupported);
        }
        self.consume(line);
        let (key, rest) = block_key(line.content)?;
        let Node::Scalar { text, .. } = &key else {
            return Err(Unsupported);
        };
        let child = match record {
            Record::Root if text == "packages" => Record::Packages,
            Record::Root if text == "snapshots" => Record::Snapshots,
            Record::Packages => {
                self.key_lines.packages.push((text.clone(), line.number));
                Record::Nothing
            }
            Record::Snapshots => {
                self.key_lines.snapshots.push((text.clone(), line.number));
                Record::Nothing
            }
            Record::Root | Record::Nothing => Record::Nothing,
        };
        Ok(Some((key, rest, child)))
    }

    /// A value written on its key's line (or, for `|`, below it).
    fn inline(&mut self, rest: &'a str, indent: usize) -> Result<Node<'a>, Unsupported> {
        let value = if rest.starts_with('|') {
            self.literal_block(rest, indent)?
        } else {
            inline_value(rest)?
        };
        self.no_continuation(indent)?;
        Ok(value)
    }

    /// A literal block scalar (`|`, `|-`, `|+`), as pnpm writes multi-line `deprecated`
    /// messages: the lines indented deeper than the key, joined by line breaks, with the
    /// trailing line breaks chomped as the indicator says. Explicit indentation indicators,
    /// leading blank lines and blank lines carrying extra spaces are left to `serde_norway`.
    fn literal_block(
        &mut self,
        header: &str,
        parent_indent: usize,
    ) -> Result<Node<'a>, Unsupported> {
        #[derive(PartialEq)]
        enum Chomp {
            Strip,
            Clip,
            Keep,
        }
        let chomp = match header {
            "|" => Chomp::Clip,
            "|-" => Chomp::Strip,
            "|+" => Chomp::Keep,
            _ => return Err(Unsupported),
        };
        // Lines are read raw from here on: blank lines are content.
        self.peeked = None;
        let mut value = String::new();
        let mut content_indent: Option<usize> = None;
        let mut blank_lines = 0usize;
        while self.offset < self.text.len() {
            let rest = &self.text[self.offset..];
            // A last line without a line break chomps differently; left to `serde_norway`.
            let newline = memchr::memchr(b'\n', rest.as_bytes()).ok_or(Unsupported)?;
            let (raw, next) = (&rest[..newline], self.offset + newline + 1);
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let spaces = raw.bytes().take_while(|&b| b == b' ').count();
            if spaces == raw.len() {
                match content_indent {
                    Some(indent) if spaces <= indent => blank_lines += 1,
                    _ => return Err(Unsupported),
                }
            } else {
                let indent = match content_indent {
                    None if spaces > parent_indent => *content_indent.insert(spaces),
                    Some(indent) if spaces >= indent => indent,
                    _ => break,
                };
                for _ in 0..blank_lines {
                    value.push('\n');
                }
                blank_lines = 0;
                value.push_str(&raw[indent..]);
                value.push('\n');
            }
            self.offset = next;
            self.line = self.line.saturating_add(1);
        }
        if content_indent.is_none() {
            return Err(Unsupported);
        }
        match chomp {
            Chomp::Strip => {
                value.pop();
            }
            Chomp::Clip => {}
            Chomp::Keep => {
                for _ in 0..blank_lines {
                    value.push('\n');
                }
            }
        }
        Ok(Node::Scalar {
            text: Cow::Owned(value),
            plain: false,
        })
    }

    fn block_sequence(&mut self, indent: usize, depth: usize) -> Result<Node<'a>, Unsupported> {
        let mut items = Vec::new();
        while let Some(item) = self.sequence_item(indent, depth)? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    /// The next item of a block sequence at `indent`; `None` at its end.
    fn sequence_item(
        &mut self,
        indent: usize,
        depth: usize,
    ) -> Result<Option<Node<'a>>, Unsupported> {
        let Some(line) = self.peek()? else {
            return Ok(None);
        };
        if line.indent < indent {
            return Ok(None);
        }
        if line.indent > indent || !is_sequence_item(line.content) {
            return Err(Unsupported);
        }
        self.consume(line);
        let item = line
            .content
            .get(2..)
            .unwrap_or_default()
            .trim_start_matches(' ');
        if item.is_empty() || depth >= MAX_DEPTH {
            return Err(Unsupported);
        }
        // `- key: value` (a mapping in a sequence) is outside the subset.
        let value = inline_value(item)?;
        if let Node::Scalar { plain: true, text } = &value
            && text.contains(':')
        {
            return Err(Unsupported);
        }
        self.no_continuation(indent)?;
        Ok(Some(value))
    }

    /// A scalar or flow value must not continue on a more indented line.
    fn no_continuation(&mut self, indent: usize) -> Result<(), Unsupported> {
        match self.peek()? {
            Some(line) if line.indent > indent => Err(Unsupported),
            _ => Ok(()),
        }
    }
}

fn is_sequence_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// Splits `key: rest` / `key:`; `rest` is empty if the value is nested (or a comment).
fn block_key(content: &str) -> Result<(Node<'_>, &str), Unsupported> {
    let (key, after) = match content.as_bytes().first() {
        Some(b'\'') => {
            let (text, after) = single_quoted(content)?;
            (Node::Scalar { text, plain: false }, after)
        }
        Some(b'"') => {
            let (text, after) = double_quoted(content)?;
            (Node::Scalar { text, plain: false }, after)
        }
        _ => {
            check_plain_start(content)?;
            let end = find_pair(content, b':', b' ')
                .or_else(|| content.strip_suffix(':').map(str::len))
                .ok_or(Unsupported)?;
            let key = content[..end].trim_end_matches(' ');
            if key.is_empty() || find_pair(key, b' ', b'#').is_some() || key == "<<" {
                return Err(Unsupported);
            }
            (
                Node::Scalar {
                    text: Cow::Borrowed(key),
                    plain: true,
                },
                &content[end..],
            )
        }
    };
    let after = after.strip_prefix(':').ok_or(Unsupported)?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return Err(Unsupported);
    }
    let rest = after.trim_start_matches(' ');
    let rest = if rest.starts_with('#') { "" } else { rest };
    Ok((key, rest))
}

/// A value on the rest of a line: quoted, flow collection or plain, plus an optional comment.
fn inline_value(text: &str) -> Result<Node<'_>, Unsupported> {
    let (node, after) = match text.as_bytes().first() {
        Some(b'\'') => {
            let (text, after) = single_quoted(text)?;
            (Node::Scalar { text, plain: false }, after)
        }
        Some(b'"') => {
            let (text, after) = double_quoted(text)?;
            (Node::Scalar { text, plain: false }, after)
        }
        Some(b'{' | b'[') => {
            let mut flow = Flow { text, at: 0 };
            let node = flow.value(0)?;
            (node, &text[flow.at..])
        }
        _ => {
            check_plain_start(text)?;
            let end = find_pair(text, b' ', b'#').unwrap_or(text.len());
            let plain = text[..end].trim_end_matches(' ');
            if find_pair(plain, b':', b' ').is_some() || plain.ends_with(':') {
                return Err(Unsupported);
            }
            (
                Node::Scalar {
                    text: Cow::Borrowed(plain),
                    plain: true,
                },
                &text[end..],
            )
        }
    };
    let trimmed = after.trim_start_matches(' ');
    if trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len()) {
        Ok(node)
    } else {
        Err(Unsupported)
    }
}

/// The offset of the first `first` immediately followed by `second`.
fn find_pair(text: &str, first: u8, second: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(first, bytes).find(|&at| bytes.get(at + 1) == Some(&second))
}

/// Plain scalars may not start with an indicator (or `-`, `?`, `:` before a space).
fn check_plain_start(text: &str) -> Result<(), Unsupported> {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => Err(Unsupported),
        Some(b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>')
        | Some(b'\'' | b'"' | b'%' | b'@' | b'`') => Err(Unsupported),
        Some(b'-' | b'?' | b':') if bytes.get(1).is_none_or(|b| *b == b' ') => Err(Unsupported),
        Some(_) => Ok(()),
    }
}

/// `'it''s'` at the start of `text`: the unquoted value and what follows.
fn single_quoted(text: &str) -> Result<(Cow<'_, str>, &str), Unsupported> {
    let body = &text[1..];
    let mut owned: Option<String> = None;
    let mut start = 0;
    loop {
        let quote = start + body[start..].find('\'').ok_or(Unsupported)?;
        if body[quote + 1..].starts_with('\'') {
            owned
                .get_or_insert_with(String::new)
                .push_str(&body[start..=quote]);
            start = quote + 2;
            continue;
        }
        let value = match owned {
            Some(mut owned) => {
                owned.push_str(&body[start..quote]);
                Cow::Owned(owned)
            }
            None => Cow::Borrowed(&body[..quote]),
        };
        return Ok((value, &body[quote + 1..]));
    }
}

/// `"text"` without escapes at the start of `text` (escapes are left to `serde_norway`).
fn double_quoted(text: &str) -> Result<(Cow<'_, str>, &str), Unsupported> {
    let body = &text[1..];
    let quote = body.find(['"', '\\']).ok_or(Unsupported)?;
    if body.as_bytes()[quote] == b'\\' {
        return Err(Unsupported);
    }
    Ok((Cow::Borrowed(&body[..quote]), &body[quote + 1..]))
}

/// A one-line flow collection (`{a: b, c: [d]}`).
struct Flow<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Flow<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.rest().as_bytes().first() == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, Unsupported> {
        if depth >= MAX_DEPTH {
            return Err(Unsupported);
        }
        self.skip_spaces();
        match self.rest().as_bytes().first() {
            Some(b'{') => self.mapping(depth),
            Some(b'[') => self.sequence(depth),
            Some(b'\'') => {
                let (text, after) = single_quoted(self.rest())?;
                self.at = self.text.len() - after.len();
                Ok(Node::Scalar { text, plain: false })
            }
            Some(b'"') => {
                let (text, after) = double_quoted(self.rest())?;
                self.at = self.text.len() - after.len();
                Ok(Node::Scalar { text, plain: false })
            }
            Some(b',' | b'}' | b']') => Ok(Node::Empty),
            _ => self.plain(),
        }
    }

    /// A plain scalar in flow context: ends at `,`, `]`, `}` or `: `.
    fn plain(&mut self) -> Result<Node<'a>, Unsupported> {
        let rest = self.rest();
        check_plain_start(rest)?;
        let bytes = rest.as_bytes();
        let mut end = memchr::memchr3(b',', b']', b'}', bytes).unwrap_or(bytes.len());
        if let Some(colon) = memchr::memchr_iter(b':', &bytes[..end])
            .find(|&at| matches!(bytes.get(at + 1), None | Some(b' ' | b',' | b']' | b'}')))
        {
            end = colon;
        }
        let scalar = &bytes[..end];
        if memchr::memchr2(b'[', b'{', scalar).is_some()
            || memchr::memchr_iter(b'#', scalar).any(|at| at > 0 && scalar[at - 1] == b' ')
        {
            return Err(Unsupported);
        }
        let text = rest[..end].trim_end_matches(' ');
        if text.is_empty() {
            return Err(Unsupported);
        }
        self.at += end;
        Ok(Node::Scalar {
            text: Cow::Borrowed(text),
            plain: true,
        })
    }

    fn mapping(&mut self, depth: usize) -> Result<Node<'a>, Unsupported> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_spaces();
            if self.eat(b'}') {
                return Ok(Node::Map(entries));
            }
            let key = match self.value(depth + 1)? {
                key @ Node::Scalar { .. } => key,
                _ => return Err(Unsupported),
            };
            self.skip_spaces();
            if !self.eat(b':') {
                return Err(Unsupported);
            }
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_spaces();
            if !self.eat(b',') {
                self.skip_spaces();
                return if self.eat(b'}') {
                    Ok(Node::Map(entries))
                } else {
                    Err(Unsupported)
                };
            }
        }
    }

    fn sequence(&mut self, depth: usize) -> Result<Node<'a>, Unsupported> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            if self.eat(b']') {
                return Ok(Node::Seq(items));
            }
            let item = self.value(depth + 1)?;
            if matches!(item, Node::Empty) {
                return Err(Unsupported);
            }
            self.skip_spaces();
            if self.rest().starts_with(':') {
                return Err(Unsupported);
            }
            items.push(item);
            if !self.eat(b',') {
                self.skip_spaces();
                return if self.eat(b']') {
                    Ok(Node::Seq(items))
                } else {
                    Err(Unsupported)
                };
            }
        }
    }
}

/// True for plain scalars YAML reads as null.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The booleans `serde_norway` accepts.
fn as_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Plain scalars that YAML might read as a number: left to `serde_norway` wherever the
/// type matters. Deliberately broad (any digits/sign/dot/exponent mix with at most one dot).
fn maybe_number(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    let lower = unsigned.to_ascii_lowercase();
    if lower.starts_with("0x")
        || lower.starts_with("0o")
        || lower.starts_with("0b")
        || matches!(lower.as_str(), ".inf" | ".nan")
    {
        return true;
    }
    unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'e' | b'E' | b'+' | b'-'))
        && unsigned.bytes().filter(|&b| b == b'.').count() <= 1
}

/// Deserialises the wire structs from a [`Node`].
#[derive(Debug, Clone, Copy)]
pub(super) struct NodeDeserializer<'b, 'a>(pub(super) &'b Node<'a>);

impl<'b, 'a> NodeDeserializer<'b, 'a> {
    fn visit_text<V: Visitor<'a>>(
        text: &'b Cow<'a, str>,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        match text {
            Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
            Cow::Owned(text) => visitor.visit_str(text),
        }
    }
}

impl<'b, 'a> Deserializer<'a> for NodeDeserializer<'b, 'a> {
    type Error = Unsupported;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Empty => visitor.visit_unit(),
            Node::Scalar { text, plain: true } => {
                if is_null(text) {
                    visitor.visit_unit()
                } else if let Some(value) = as_bool(text) {
                    visitor.visit_bool(value)
                } else if maybe_number(text) {
                    Err(Unsupported)
                } else {
                    Self::visit_text(text, visitor)
                }
            }
            Node::Scalar { text, plain: false } => Self::visit_text(text, visitor),
            Node::Map(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
            Node::Seq(items) => visitor.visit_seq(Items(items.iter())),
        }
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Scalar { text, .. } => Self::visit_text(text, visitor),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Scalar { text, plain: true } => {
                visitor.visit_bool(as_bool(text).ok_or(Unsupported)?)
            }
            _ => Err(Unsupported),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Empty => visitor.visit_none(),
            Node::Scalar { text, plain: true } if is_null(text) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Map(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.0 {
            Node::Seq(items) => visitor.visit_seq(Items(items.iter())),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct enum
    }
}

struct Entries<'b, 'a> {
    entries: std::slice::Iter<'b, (Node<'a>, Node<'a>)>,
    value: Option<&'b Node<'a>>,
}

impl<'b, 'a> MapAccess<'a> for Entries<'b, 'a> {
    type Error = Unsupported;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unsupported> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(NodeDeserializer(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Unsupported> {
        let value = self.value.take().ok_or(Unsupported)?;
        seed.deserialize(NodeDeserializer(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Items<'b, 'a>(std::slice::Iter<'b, Node<'a>>);

impl<'b, 'a> SeqAccess<'a> for Items<'b, 'a> {
    type Error = Unsupported;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unsupported> {
        self.0
            .next()
            .map(|item| seed.deserialize(NodeDeserializer(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Deserialises `T` straight from `text`, a single YAML document in pnpm's subset whose root
/// is a mapping, and returns it with the lines of the package keys. Block mappings and
/// sequences are read as the deserialiser asks for them, so no tree of the document is built;
/// only one-line values (scalars, `{…}`, `[…]`) become small [`Node`]s.
pub(super) fn deserialize<'a, T: de::Deserialize<'a>>(
    text: &'a str,
) -> Result<(T, KeyLines<'a>), Unsupported> {
    if !plain_characters(text) {
        return Err(Unsupported);
    }
    let mut parser = Parser {
        text,
        offset: 0,
        line: 1,
        peeked: None,
        key_lines: KeyLines::default(),
    };
    if !matches!(parser.peek()?, Some(line) if line.indent == 0 && !is_sequence_item(line.content))
    {
        return Err(Unsupported);
    }
    let value = T::deserialize(Block {
        parser: &mut parser,
        parent_indent: None,
        depth: 0,
        record: Record::Root,
    })?;
    match parser.peek()? {
        None => Ok((value, parser.key_lines)),
        Some(_) => Err(Unsupported),
    }
}

/// The value of a key whose line ends after the colon: whatever is nested below it (a block
/// mapping or sequence), or nothing. The root document is one too.
struct Block<'p, 'a> {
    parser: &'p mut Parser<'a>,
    /// The key's indentation; `None` for the root.
    parent_indent: Option<usize>,
    depth: usize,
    record: Record,
}

impl<'a> Block<'_, 'a> {
    /// The first nested line, if any.
    fn first(&mut self) -> Result<Option<Line<'a>>, Unsupported> {
        match self.parser.peek()? {
            Some(line) if self.parent_indent.is_none_or(|parent| line.indent > parent) => {
                if self.depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                Ok(Some(line))
            }
            _ => Ok(None),
        }
    }
}

impl<'a> Deserializer<'a> for Block<'_, 'a> {
    type Error = Unsupported;

    fn deserialize_any<V: Visitor<'a>>(mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.first()? {
            None => visitor.visit_unit(),
            Some(line) if is_sequence_item(line.content) => visitor.visit_seq(SequenceStream {
                parser: self.parser,
                indent: line.indent,
                depth: self.depth + 1,
            }),
            Some(line) => visitor.visit_map(MappingStream {
                parser: self.parser,
                indent: line.indent,
                depth: self.depth + 1,
                record: self.record,
                rest: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.first()? {
            None => visitor.visit_none(),
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_map<V: Visitor<'a>>(mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.first()? {
            Some(line) if !is_sequence_item(line.content) => visitor.visit_map(MappingStream {
                parser: self.parser,
                indent: line.indent,
                depth: self.depth + 1,
                record: self.record,
                rest: None,
            }),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'a>>(mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.first()? {
            Some(line) if is_sequence_item(line.content) => visitor.visit_seq(SequenceStream {
                parser: self.parser,
                indent: line.indent,
                depth: self.depth + 1,
            }),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        // Still read (and check) what is nested, then drop it.
        if let Some(parent) = self.parent_indent {
            self.parser.nested(parent, self.depth, Record::Nothing)?;
        }
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_str<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value, Unsupported> {
        // A key with nothing (or a block) below it is never text; `serde_norway` decides.
        Err(Unsupported)
    }

    fn deserialize_bool<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value, Unsupported> {
        Err(Unsupported)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char string bytes byte_buf unit
        unit_struct tuple tuple_struct enum identifier
    }
}

/// A block mapping read entry by entry.
struct MappingStream<'p, 'a> {
    parser: &'p mut Parser<'a>,
    indent: usize,
    depth: usize,
    record: Record,
    /// The current entry's inline value text (empty if nested) and how to record its entries.
    rest: Option<(&'a str, Record)>,
}

impl<'a> MapAccess<'a> for MappingStream<'_, 'a> {
    type Error = Unsupported;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unsupported> {
        match self.parser.map_entry(self.indent, self.record)? {
            Some((key, rest, child)) => {
                self.rest = Some((rest, child));
                seed.deserialize(NodeDeserializer(&key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Unsupported> {
        let (rest, child) = self.rest.take().ok_or(Unsupported)?;
        if rest.is_empty() {
            seed.deserialize(Block {
                parser: &mut *self.parser,
                parent_indent: Some(self.indent),
                depth: self.depth,
                record: child,
            })
        } else {
            let node = self.parser.inline(rest, self.indent)?;
            seed.deserialize(NodeDeserializer(&node))
        }
    }
}

/// A block sequence read item by item.
struct SequenceStream<'p, 'a> {
    parser: &'p mut Parser<'a>,
    indent: usize,
    depth: usize,
}

impl<'a> SeqAccess<'a> for SequenceStream<'_, 'a> {
    type Error = Unsupported;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unsupported> {
        match self.parser.sequence_item(self.indent, self.depth)? {
            Some(item) => seed.deserialize(NodeDeserializer(&item)).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize as _;
    use serde_norway::Value;

    use super::*;

    /// What both readers make of `text`, through serde's data model (the fast one both from
    /// its tree and streaming, which must agree).
    fn both(text: &str) -> (Result<Value, Unsupported>, Value) {
        let fast = parse(text).and_then(|(tree, _)| Value::deserialize(NodeDeserializer(&tree)));
        let streamed = deserialize::<Value>(text).map(|(value, _)| value);
        assert_eq!(fast, streamed, "{text:?}");
        let slow = serde_norway::from_str(text).unwrap();
        (fast, slow)
    }

    #[test]
    fn reads_pnpm_subset_like_serde_norway() {
        let cases = [
            "lockfileVersion: '9.0'\n",
            "a:\n  b: c\n  d:\n    e: f\n\n  # comment\ng: h # trailing\n",
            "packages:\n\n  '@a/b@1.0.0':\n    resolution: {integrity: sha512-x==, tarball: https://e.com/a.tgz}\n    engines: {node: '>=8', npm: ^1.0.0 || >= 2.0.0}\n",
            "snapshots:\n  a@file:dir: {}\n  b@1.0.0(c@2.0.0):\n    dependencies:\n      c: 2.0.0\n    optional: true\n",
            "x:\n  os: [darwin, linux]\n  cpu: []\n  list:\n    - supports-color\n    - '@types/node'\n",
            "'it''s': 'a ''quoted'' value'\n\"double\": \"plain text\"\n",
            "a: null\nb: ~\nc:\nd: true\ne: False\nf: yes\ng: link:../x\n",
            "a: {b: {c: [d, 'e']}, f: }\n",
            "k: v\r\nl: w\r\n",
            "key with spaces: value with spaces\nurl: git+ssh://git@host/x.git#abc\n",
            "a:\n  deprecated: |-\n    First line.\n      indented # not a comment\n\n    Last: line.\n  next: x\n",
            "a: |\n  clip\n\n\nb: |+\n  keep\n\n\nc: |-\n  strip\n\n",
            "a: |-\n  only\n# comment\nb: c\n",
        ];
        for text in cases {
            let (fast, slow) = both(text);
            assert_eq!(fast, Ok(slow), "{text:?}");
        }
    }

    #[test]
    fn leaves_everything_else_to_serde_norway() {
        let cases = [
            "",
            "# only a comment\n",
            "- a\n- b\n",
            "scalar\n",
            "---\na: b\n",
            "a: b\n---\nc: d\n",
            "a: &anchor b\nc: *anchor\n",
            "a: !tag b\n",
            "a: |2\n  text\n",
            "a: |\n\n  text\n",
            "a: |\n  text\n     \n  more\n",
            "a: |\nb: c\n",
            "a:\n  - |\n    text\n",
            "a: |\n  last line without break",
            "a: >\n  text\n",
            "a: plain\n  continued\n",
            "a:\n\tb: c\n",
            "a: \"esc\\naped\"\n",
            "a: {b: c,\n  d: e}\n",
            "? complex\n: key\n",
            "a:\n- b\n",
            "a:\n  - b: c\n",
            "a: b: c\n",
            "a:  b\n   c: d\n",
            "  a: b\nc: d\n",
            "a: b\n  c: d\n",
            "a: [b, [c, {d: e}]]x\n",
            "a: 'unterminated\n",
            "'a' : b\n",
            "a:b\n",
            "<<: {a: b}\n",
            "@a: b\n",
            "a: @b\n",
            "a: `b`\n",
            "a: {b, c}\n",
            "a: [b: c]\n",
            "a: b #c\n  d: e\n",
            "a: b\rc: d\n",
            "a: b\u{85}c\n",
            "a: b\u{2028}c\n",
            "a: \u{1}\n",
            "a: b\t\n",
            "a: \u{feff}b\n",
        ];
        for text in cases {
            assert_eq!(parse(text).map(|_| ()), Err(Unsupported), "{text:?}");
            assert_eq!(
                deserialize::<Value>(text).map(|_| ()),
                Err(Unsupported),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_what_only_serde_norway_may_decide() {
        // Numbers where the type matters, non-booleans as booleans, maps as strings.
        #[derive(Debug, serde::Deserialize)]
        #[expect(dead_code, reason = "only whether deserialising succeeds matters")]
        struct Probe {
            flag: Option<bool>,
            text: Option<String>,
        }
        for text in [
            "flag: 'true'\n",
            "flag: yes\n",
            "text: {a: b}\n",
            "text: [a]\n",
        ] {
            let (tree, _) = parse(text).unwrap();
            assert!(
                Probe::deserialize(NodeDeserializer(&tree)).is_err(),
                "{text:?}"
            );
        }
        for text in ["a: 1.5\n", "a: 0x1F\n", "a: -3\n", "a: .inf\n", "a: 1e5\n"] {
            let (tree, _) = parse(text).unwrap();
            assert!(
                Value::deserialize(NodeDeserializer(&tree)).is_err(),
                "{text:?}"
            );
        }
        for text in ["a: 1.0.0\n", "a: 10.x\n", "a: 2.0.0-beta.1\n"] {
            let (fast, slow) = both(text);
            assert_eq!(fast, Ok(slow), "{text:?}");
        }
    }

    #[test]
    fn records_package_key_lines() {
        let text = "lockfileVersion: '9.0'\r\n\r\npackages:\r\n\r\n  '@a/b@1.0.0':\r\n    resolution: {integrity: x}\r\n  # note\r\n  c@2.0.0: {}\r\nsnapshots:\r\n  c@2.0.0:\r\n    dependencies:\r\n      d: 1.0.0\r\n  é@1.0.0: {}\r\n";
        let (_, lines) = parse(text).unwrap();
        let packages: Vec<(&str, u32)> = lines
            .packages
            .iter()
            .map(|(k, l)| (k.as_ref(), *l))
            .collect();
        assert_eq!(packages, [("@a/b@1.0.0", 5), ("c@2.0.0", 8)]);
        let snapshots: Vec<(&str, u32)> = lines
            .snapshots
            .iter()
            .map(|(k, l)| (k.as_ref(), *l))
            .collect();
        assert_eq!(snapshots, [("c@2.0.0", 10), ("é@1.0.0", 13)]);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut text = String::from("a:\n");
        for depth in 1..200 {
            text.push_str(&" ".repeat(depth * 2));
            text.push_str("b:\n");
        }
        assert_eq!(parse(&text).map(|_| ()), Err(Unsupported));
        let flow = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(parse(&flow).map(|_| ()), Err(Unsupported));
    }
}
