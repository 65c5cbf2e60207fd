//! The single AST walk. [`FactCollector`] tracks just enough scope-free state (module aliases,
//! constant strings, string tables, tainted variables) to resolve callee paths such as
//! `child_process.exec` however they are spelled, and to tell whether a value was decoded or
//! fetched before it reaches a sink.

use std::borrow::Cow;
use std::cell::RefCell;

use compact_str::CompactString;
use oxc_ast::ast::{
    Argument, ArrayExpressionElement, AssignmentExpression, AssignmentTarget, BinaryExpression,
    BindingPattern, CallExpression, ChainElement, Expression, IdentifierReference,
    ImportDeclaration, ImportDeclarationSpecifier, ModuleExportName, NewExpression,
    StaticMemberExpression, StringLiteral, TemplateLiteral, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_syntax::operator::{AssignmentOperator, BinaryOperator};

use super::names::NameMap;
use super::resolve::{self, MAX_RESOLVED, Resolved};
use super::{
    Arguments, AssignFact, CallFact, JsFacts, MAX_ARGUMENTS, MAX_STRING_KEEP, MemberFact,
    StringFact, ValueInfo,
};

/// Member path recorded when the whole `process.env` is embedded in a serialised object.
pub(crate) const SERIALIZED_ENV: &str = "process.env(serialized)";
/// Most facts of each kind kept per file; beyond that the file is marked truncated.
const MAX_FACTS: usize = 200_000;
/// Recursion bound of the resolver and the taint scan.
const MAX_DEPTH: u32 = 12;
/// Longest callee path kept.
const MAX_PATH: usize = 200;
/// Roots whose member accesses are recorded as [`MemberFact`]s.
const MEMBER_ROOTS: &[&str] = &[
    "process",
    "ethereum",
    "navigator",
    "os",
    "Intl",
    "document",
    "solana",
    "localStorage",
];
/// Roots of network APIs: a call on one of them yields remote data.
const NETWORK_ROOTS: &[&str] = &[
    "http",
    "https",
    "http2",
    "net",
    "tls",
    "dgram",
    "axios",
    "node-fetch",
    "got",
    "request",
    "needle",
    "superagent",
    "undici",
    "fetch",
    "XMLHttpRequest",
    "WebSocket",
    "ws",
    "cross-fetch",
    "isomorphic-fetch",
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Taint {
    decoded: bool,
    remote: bool,
    from_file: bool,
}

impl Taint {
    fn any(self) -> bool {
        self.decoded || self.remote || self.from_file
    }

    fn union(self, other: Self) -> Self {
        Self {
            decoded: self.decoded || other.decoded,
            remote: self.remote || other.remote,
            from_file: self.from_file || other.from_file,
        }
    }
}

/// Collects [`JsFacts`] in one walk. Identifiers are keyed by the names in the parsed source
/// (`'a`, the arena), so tracking a variable costs no allocation.
#[derive(Debug, Default)]
pub(crate) struct FactCollector<'a> {
    facts: JsFacts,
    /// Identifier → module or member path it stands for (`cp` → `child_process`).
    aliases: NameMap<'a, String>,
    /// Identifier → constant string.
    constants: NameMap<'a, Resolved>,
    /// Identifier → array of constant strings (string tables).
    arrays: NameMap<'a, Vec<Option<CompactString>>>,
    /// Identifier → where its value came from.
    tainted: NameMap<'a, Taint>,
    /// Callback parameters just tainted by their call; shadowing must not clear them.
    protected_params: NameMap<'a, ()>,
    /// Depth of `JSON.stringify(...)`/`Buffer.from(...)`/`btoa(...)` arguments being walked.
    serializing: u32,
    /// Spare path buffers lent by [`Self::with_scratch`]: a pool rather than one buffer because
    /// path building nests (a computed member resolves its key, which may need a path).
    scratch: RefCell<Vec<String>>,
}

impl<'a> FactCollector<'a> {
    /// A collector for a source of `source_length` bytes, with room for the facts such a file
    /// typically has (about one call and one string per 200 bytes, string text about 7% of the
    /// source), so the fact lists seldom grow by copying.
    pub(crate) fn for_source(source_length: usize) -> Self {
        let mut collector = Self::default();
        let facts = &mut collector.facts;
        facts.calls.reserve(source_length / 256);
        facts.strings.reserve(source_length / 256);
        facts.string_data.reserve(source_length / 16);
        collector
    }

    /// Returns the facts collected so far.
    pub(crate) fn finish(self) -> JsFacts {
        self.facts
    }

    fn full(&mut self, length: usize) -> bool {
        if length >= MAX_FACTS {
            self.facts.truncated = true;
            true
        } else {
            false
        }
    }

    fn push_string(&mut self, value: &str, decoded: bool, offset: u32) {
        if self.full(self.facts.strings.len()) {
            return;
        }
        let mut end = value.len().min(MAX_STRING_KEEP);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let start = self.facts.string_data.len();
        self.facts.string_data.push_str(&value[..end]);
        self.facts.strings.push(StringFact {
            range: start..self.facts.string_data.len(),
            length: value.len(),
            decoded,
            offset,
        });
    }

    // ----- callee paths -------------------------------------------------------------------

    /// The normalised path of an expression used as a callee or object.
    fn path_of(&self, expression: &Expression<'_>, depth: u32) -> Option<String> {
        self.with_path(expression, depth, str::to_owned)
    }

    /// Runs `read` on the normalised path of `expression` (see [`Self::path_of`]) built in a
    /// reused buffer, so that paths which are only compared cost no allocation.
    fn with_path<R>(
        &self,
        expression: &Expression<'_>,
        depth: u32,
        read: impl FnOnce(&str) -> R,
    ) -> Option<R> {
        self.with_scratch(|buffer| {
            self.write_path(expression, depth, buffer)
                .then(|| read(buffer))
        })
    }

    /// Lends `use_buffer` an empty buffer from the pool and takes it back afterwards.
    fn with_scratch<R>(&self, use_buffer: impl FnOnce(&mut String) -> R) -> R {
        let mut buffer = self.scratch.borrow_mut().pop().unwrap_or_default();
        let result = use_buffer(&mut buffer);
        buffer.clear();
        self.scratch.borrow_mut().push(buffer);
        result
    }

    /// Appends the normalised path of `expression` to `out` (built in one buffer rather than
    /// one string per member level); `false`, with `out` unchanged, when it has none. Every
    /// level is bounded by [`MAX_PATH`] and loses its global prefix, as [`Self::path_of`] says.
    fn write_path(&self, expression: &Expression<'_>, depth: u32, out: &mut String) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let start = out.len();
        let written = match expression {
            Expression::Identifier(identifier) => {
                let name = identifier.name.as_str();
                out.push_str(self.aliases.get(name).map_or(name, String::as_str));
                true
            }
            Expression::ThisExpression(_) => {
                out.push_str("this");
                true
            }
            Expression::StaticMemberExpression(member) => {
                self.write_object(&member.object, depth + 1, out);
                out.push('.');
                out.push_str(member.property.name.as_str());
                true
            }
            Expression::ComputedMemberExpression(member) => {
                self.write_object(&member.object, depth + 1, out);
                out.push('.');
                match self.resolve(&member.expression, depth + 1) {
                    Some(resolved) => out.push_str(&resolved.value),
                    None => out.push_str("[]"),
                }
                true
            }
            Expression::CallExpression(call) => {
                // `f.bind(thisArg)(...)` calls `f`.
                if let Expression::StaticMemberExpression(member) = &call.callee
                    && member.property.name.as_str() == "bind"
                {
                    return self.write_path(&member.object, depth + 1, out);
                }
                self.with_required_module(call, depth, |module| out.push_str(module))
                    .is_some()
            }
            Expression::ImportExpression(import) => match self.resolve(&import.source, depth + 1) {
                Some(resolved) => {
                    out.push_str(normalized_module(&resolved.value));
                    true
                }
                None => false,
            },
            Expression::ParenthesizedExpression(inner) => {
                self.write_path(&inner.expression, depth + 1, out)
            }
            Expression::SequenceExpression(sequence) => sequence
                .expressions
                .last()
                .is_some_and(|last| self.write_path(last, depth + 1, out)),
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::StaticMemberExpression(member) => {
                    self.write_object(&member.object, depth + 1, out);
                    out.push('.');
                    out.push_str(member.property.name.as_str());
                    true
                }
                _ => false,
            },
            Expression::AwaitExpression(inner) => self.write_path(&inner.argument, depth + 1, out),
            Expression::TSAsExpression(inner) => self.write_path(&inner.expression, depth + 1, out),
            Expression::TSNonNullExpression(inner) => {
                self.write_path(&inner.expression, depth + 1, out)
            }
            Expression::NewExpression(new) => {
                out.push_str("new:");
                self.write_path(&new.callee, depth + 1, out)
            }
            _ => false,
        };
        if !written || out.len() - start > MAX_PATH {
            out.truncate(start);
            return false;
        }
        let segment = &out[start..];
        let prefix = segment.len() - strip_global_prefix(segment).len();
        if prefix > 0 {
            out.replace_range(start..start + prefix, "");
        }
        true
    }

    /// Whether `expression` has the normalised path `expected`.
    fn path_is(&self, expression: &Expression<'_>, depth: u32, expected: &str) -> bool {
        let last = last_segment(expected);
        may_end_with(expression, &[last])
            && self.with_path(expression, depth, |path| path == expected) == Some(true)
    }

    /// The object of a member expression: its path, or `?` when it has none.
    fn write_object(&self, object: &Expression<'_>, depth: u32, out: &mut String) {
        if !self.write_path(object, depth, out) {
            out.push('?');
        }
    }

    /// Runs `read` on the module a `require` call loads (`require('x')`, `module.require('x')`,
    /// `process.mainModule.require('x')` → `x`), without copying it: a literal specifier is read
    /// in place.
    fn with_required_module<R>(
        &self,
        call: &CallExpression<'_>,
        depth: u32,
        read: impl FnOnce(&str) -> R,
    ) -> Option<R> {
        if !may_end_with(&call.callee, &["require"]) {
            return None;
        }
        let is_require = self.with_path(&call.callee, depth + 1, |callee| {
            callee == "require" || callee.ends_with(".require")
        })?;
        if !is_require {
            return None;
        }
        let first = call.arguments.first()?.as_expression()?;
        match first {
            // What `resolve` gives for a literal within its depth bound, without the copy.
            Expression::StringLiteral(literal) if depth < MAX_DEPTH => {
                Some(read(normalized_module(literal.value.as_str())))
            }
            _ => self
                .resolve(first, depth + 1)
                .map(|resolved| read(normalized_module(&resolved.value))),
        }
    }

    // ----- constant resolver ----------------------------------------------------------------

    /// Folds an expression to a constant string when cheap rules allow it.
    fn resolve(&self, expression: &Expression<'_>, depth: u32) -> Option<Resolved> {
        if depth > MAX_DEPTH {
            return None;
        }
        match expression {
            Expression::StringLiteral(literal) => Some(Resolved::plain(literal.value.as_str())),
            Expression::NumericLiteral(number) => {
                resolve::number_to_string(number.value).map(Resolved::plain)
            }
            Expression::TemplateLiteral(template) => self.resolve_template_at(template, depth),
            Expression::BinaryExpression(binary) => self.resolve_binary(binary, depth),
            Expression::Identifier(identifier) => {
                self.constants.get(identifier.name.as_str()).cloned()
            }
            Expression::StaticMemberExpression(member) => {
                // The property is checked first: most members are not `HOME`, and their object
                // path need not be built.
                let property = member.property.name.as_str();
                let is_home = matches!(property, "HOME" | "USERPROFILE")
                    && self
                        .with_path(&member.object, depth + 1, |object| object == "process.env")?;
                is_home.then(|| Resolved::plain("~"))
            }
            Expression::ParenthesizedExpression(inner) => {
                self.resolve(&inner.expression, depth + 1)
            }
            Expression::ComputedMemberExpression(member) => {
                let Expression::Identifier(table) = &member.object else {
                    return None;
                };
                let index = match &member.expression {
                    Expression::NumericLiteral(number) => number.value,
                    other => self.resolve(other, depth + 1)?.value.parse::<f64>().ok()?,
                };
                if index < 0.0 || index.fract() != 0.0 || index > 1e9 {
                    return None;
                }
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked range"
                )]
                let slot = index as usize;
                let value = self.arrays.get(table.name.as_str())?.get(slot)?.clone()?;
                Some(Resolved::plain(value))
            }
            Expression::CallExpression(call) => self.resolve_call(call, depth),
            Expression::NewExpression(new) => {
                // `new Buffer(x, 'base64')` behaves like `Buffer.from`.
                if self.path_is(&new.callee, depth + 1, "Buffer") {
                    self.resolve_buffer(&new.arguments, depth)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A cheap test that [`Self::resolve`] may fold `expression`: `false` only where it certainly
    /// gives `None` (a name never bound to a constant, a shape it does not fold), so that folding
    /// a concatenation or template gives up before building partial strings.
    fn may_resolve(&self, expression: &Expression<'_>) -> bool {
        match expression {
            Expression::StringLiteral(_)
            | Expression::NumericLiteral(_)
            | Expression::TemplateLiteral(_)
            | Expression::ParenthesizedExpression(_)
            | Expression::CallExpression(_)
            | Expression::NewExpression(_) => true,
            Expression::BinaryExpression(binary) => binary.operator == BinaryOperator::Addition,
            Expression::Identifier(identifier) => {
                self.constants.may_contain(identifier.name.as_str())
            }
            Expression::StaticMemberExpression(member) => {
                matches!(member.property.name.as_str(), "HOME" | "USERPROFILE")
            }
            Expression::ComputedMemberExpression(member) => matches!(
                &member.object,
                Expression::Identifier(table) if self.arrays.may_contain(table.name.as_str())
            ),
            _ => false,
        }
    }

    fn resolve_template(&self, template: &TemplateLiteral<'_>) -> Option<Resolved> {
        self.resolve_template_at(template, 0)
    }

    fn resolve_template_at(&self, template: &TemplateLiteral<'_>, depth: u32) -> Option<Resolved> {
        if !template
            .expressions
            .iter()
            .all(|inner| self.may_resolve(inner))
        {
            return None;
        }
        let mut value = CompactString::default();
        let mut decoded = false;
        for (index, quasi) in template.quasis.iter().enumerate() {
            value.push_str(quasi.value.cooked.as_ref()?.as_str());
            if let Some(inner) = template.expressions.get(index) {
                let part = self.resolve(inner, depth + 1)?;
                decoded |= part.decoded;
                value.push_str(&part.value);
            }
            if value.len() > MAX_RESOLVED {
                return None;
            }
        }
        Some(Resolved { value, decoded })
    }

    fn resolve_binary(&self, binary: &BinaryExpression<'_>, depth: u32) -> Option<Resolved> {
        if binary.operator != BinaryOperator::Addition
            || !self.may_resolve(&binary.left)
            || !self.may_resolve(&binary.right)
        {
            return None;
        }
        let left = self.resolve(&binary.left, depth + 1)?;
        let right = self.resolve(&binary.right, depth + 1)?;
        if left.value.len() + right.value.len() > MAX_RESOLVED {
            return None;
        }
        Some(Resolved {
            value: left.value + &right.value,
            decoded: left.decoded || right.decoded,
        })
    }

    fn resolve_call(&self, call: &CallExpression<'_>, depth: u32) -> Option<Resolved> {
        // `x.toString(...)`, `x.join('')`, `x.reverse()`, `x.split('')` on resolvable receivers.
        if let Expression::StaticMemberExpression(member) = &call.callee {
            let method = member.property.name.as_str();
            match method {
                "toString" | "valueOf" | "trim" => {
                    let base = &member.object;
                    if let Some(buffer) = self.buffer_call(base, depth) {
                        return Some(buffer);
                    }
                    return self.resolve(base, depth + 1);
                }
                "join" => {
                    // An array's `join`; otherwise (`path.join(...)`) the path folding below.
                    let separator = match call.arguments.first().and_then(Argument::as_expression) {
                        Some(expression) => self.resolve(expression, depth + 1).map(|r| r.value),
                        None => Some(CompactString::const_new(",")),
                    };
                    if let Some(separator) = separator
                        && let Some(joined) = self.resolve_join(&member.object, &separator, depth)
                    {
                        return Some(joined);
                    }
                }
                "fromCharCode" => {
                    let mut codes = Vec::with_capacity(call.arguments.len());
                    for argument in &call.arguments {
                        let Some(Expression::NumericLiteral(number)) = argument.as_expression()
                        else {
                            return None;
                        };
                        codes.push(number.value);
                    }
                    return resolve::from_char_codes(&codes).map(|value| Resolved {
                        value: value.into(),
                        decoded: true,
                    });
                }
                "concat" => {
                    let mut base = self.resolve(&member.object, depth + 1)?;
                    for argument in &call.arguments {
                        let part = self.resolve(argument.as_expression()?, depth + 1)?;
                        base.value.push_str(&part.value);
                        base.decoded |= part.decoded;
                        if base.value.len() > MAX_RESOLVED {
                            return None;
                        }
                    }
                    return Some(base);
                }
                _ => {}
            }
        }
        if !may_end_with(&call.callee, &["homedir", "join", "resolve", "atob"]) {
            return None;
        }
        self.with_path(&call.callee, depth + 1, |callee| match callee {
            "os.homedir" => Some(Resolved::plain("~")),
            "path.join" | "path.resolve" | "path.posix.join" | "path.win32.join" => {
                let mut parts = Vec::with_capacity(call.arguments.len());
                let mut decoded = false;
                for argument in call.arguments.iter().take(32) {
                    let part = self.resolve(argument.as_expression()?, depth + 1)?;
                    decoded |= part.decoded;
                    parts.push(part.value.trim_end_matches('/').to_owned());
                }
                Some(Resolved {
                    value: parts.join("/").into(),
                    decoded,
                })
            }
            "atob" => {
                let argument = self.resolve(call.arguments.first()?.as_expression()?, depth + 1)?;
                resolve::decode_base64(&argument.value).map(|value| Resolved {
                    value: value.into(),
                    decoded: true,
                })
            }
            _ => None,
        })?
    }

    /// `Buffer.from(x, 'base64'|'hex')` (the receiver of `.toString()`).
    fn buffer_call(&self, expression: &Expression<'_>, depth: u32) -> Option<Resolved> {
        match expression {
            Expression::CallExpression(call)
                if self.path_is(&call.callee, depth + 1, "Buffer.from") =>
            {
                self.resolve_buffer(&call.arguments, depth)
            }
            Expression::NewExpression(new) if self.path_is(&new.callee, depth + 1, "Buffer") => {
                self.resolve_buffer(&new.arguments, depth)
            }
            _ => None,
        }
    }

    fn resolve_buffer(&self, arguments: &[Argument<'_>], depth: u32) -> Option<Resolved> {
        let data = self.resolve(arguments.first()?.as_expression()?, depth + 1)?;
        let encoding = match arguments.get(1).and_then(Argument::as_expression) {
            Some(expression) => self
                .resolve(expression, depth + 1)?
                .value
                .to_ascii_lowercase(),
            None => CompactString::const_new("utf8"),
        };
        match encoding.as_str() {
            "base64" | "base64url" => resolve::decode_base64(&data.value).map(|value| Resolved {
                value: value.into(),
                decoded: true,
            }),
            "hex" => resolve::decode_hex(&data.value).map(|value| Resolved {
                value: value.into(),
                decoded: true,
            }),
            _ => Some(data),
        }
    }

    fn resolve_join(
        &self,
        receiver: &Expression<'_>,
        separator: &str,
        depth: u32,
    ) -> Option<Resolved> {
        let parts: Vec<CompactString> = match receiver {
            Expression::ArrayExpression(array) => {
                let mut parts = Vec::with_capacity(array.elements.len());
                for element in &array.elements {
                    parts.push(self.resolve(element.as_expression()?, depth + 1)?.value);
                }
                parts
            }
            Expression::CallExpression(call) => {
                // `'abc'.split('').reverse()`.
                let Expression::StaticMemberExpression(member) = &call.callee else {
                    return None;
                };
                if member.property.name.as_str() != "reverse" {
                    return None;
                }
                let Expression::CallExpression(split) = &member.object else {
                    return None;
                };
                let Expression::StaticMemberExpression(split_member) = &split.callee else {
                    return None;
                };
                if split_member.property.name.as_str() != "split" {
                    return None;
                }
                let text = self.resolve(&split_member.object, depth + 1)?.value;
                return Some(Resolved::plain(text.chars().rev().collect::<String>()));
            }
            Expression::Identifier(identifier) => self
                .arrays
                .get(identifier.name.as_str())?
                .iter()
                .cloned()
                .collect::<Option<Vec<CompactString>>>()?,
            _ => return None,
        };
        let value = parts.join(separator);
        (value.len() <= MAX_RESOLVED).then(|| Resolved::plain(value))
    }

    // ----- taint ----------------------------------------------------------------------------

    fn taint_of(&self, expression: &Expression<'_>, depth: u32) -> Taint {
        if depth > MAX_DEPTH {
            return Taint::default();
        }
        match expression {
            Expression::Identifier(identifier) => self
                .tainted
                .get(identifier.name.as_str())
                .copied()
                .unwrap_or_default(),
            Expression::CallExpression(call) => {
                let mut taint = Taint::default();
                if let Some(callee_taint) = self.with_path(&call.callee, depth + 1, |callee| {
                    call_taint(callee, call, self, depth)
                }) {
                    taint = taint.union(callee_taint);
                }
                if let Some(member) = call.callee.get_member_expr() {
                    taint = taint.union(self.taint_of(member.object(), depth + 1));
                }
                for argument in call.arguments.iter().take(4) {
                    if let Some(expression) = argument.as_expression() {
                        taint = taint.union(self.taint_of(expression, depth + 1));
                    }
                }
                taint
            }
            Expression::NewExpression(new) => {
                let mut taint = Taint::default();
                for argument in new.arguments.iter().take(4) {
                    if let Some(expression) = argument.as_expression() {
                        taint = taint.union(self.taint_of(expression, depth + 1));
                    }
                }
                taint
            }
            Expression::StaticMemberExpression(member) => {
                let mut taint = self.taint_of(&member.object, depth + 1);
                if matches!(member.property.name.as_str(), "responseText" | "body") && !taint.remote
                {
                    taint.remote = matches!(&member.object, Expression::Identifier(name) if is_response_name(name));
                }
                taint
            }
            Expression::ComputedMemberExpression(member) => {
                self.taint_of(&member.object, depth + 1)
            }
            Expression::AwaitExpression(inner) => self.taint_of(&inner.argument, depth + 1),
            Expression::ParenthesizedExpression(inner) => {
                self.taint_of(&inner.expression, depth + 1)
            }
            Expression::BinaryExpression(binary) => self
                .taint_of(&binary.left, depth + 1)
                .union(self.taint_of(&binary.right, depth + 1)),
            Expression::LogicalExpression(logical) => self
                .taint_of(&logical.left, depth + 1)
                .union(self.taint_of(&logical.right, depth + 1)),
            Expression::ConditionalExpression(conditional) => self
                .taint_of(&conditional.consequent, depth + 1)
                .union(self.taint_of(&conditional.alternate, depth + 1)),
            Expression::TemplateLiteral(template) => template
                .expressions
                .iter()
                .take(16)
                .fold(Taint::default(), |taint, inner| {
                    taint.union(self.taint_of(inner, depth + 1))
                }),
            Expression::SequenceExpression(sequence) => sequence
                .expressions
                .last()
                .map(|last| self.taint_of(last, depth + 1))
                .unwrap_or_default(),
            Expression::TSAsExpression(inner) => self.taint_of(&inner.expression, depth + 1),
            _ => Taint::default(),
        }
    }

    fn value_info(&self, expression: &Expression<'_>) -> ValueInfo {
        let resolved = self.resolve(expression, 0);
        let taint = self.taint_of(expression, 0);
        let decoded = taint.decoded || resolved.as_ref().is_some_and(|resolved| resolved.decoded);
        ValueInfo {
            constant: resolved.map(|resolved| {
                let mut value = resolved.value;
                if value.len() > MAX_STRING_KEEP {
                    let mut end = MAX_STRING_KEEP;
                    while !value.is_char_boundary(end) {
                        end -= 1;
                    }
                    value.truncate(end);
                }
                value
            }),
            decoded,
            remote: taint.remote,
            from_file: taint.from_file,
            path: match expression.get_inner_expression() {
                Expression::Identifier(_)
                | Expression::StaticMemberExpression(_)
                | Expression::ComputedMemberExpression(_) => self.with_path(expression, 0, compact),
                _ => None,
            },
        }
    }

    /// What the first [`MAX_ARGUMENTS`] arguments of a call are made of.
    fn arguments_info(&self, arguments: &[Argument<'_>]) -> Arguments {
        let mut infos = Arguments::default();
        for argument in arguments.iter().take(MAX_ARGUMENTS) {
            infos.push(
                argument
                    .as_expression()
                    .map(|expression| self.value_info(expression))
                    .unwrap_or_default(),
            );
        }
        infos
    }

    fn bind(&mut self, name: &'a str, init: &Expression<'_>) {
        if self.aliases.len() >= MAX_FACTS {
            return;
        }
        match init.get_inner_expression() {
            Expression::ArrayExpression(array) if !array.elements.is_empty() => {
                let values: Vec<Option<CompactString>> = array
                    .elements
                    .iter()
                    .take(100_000)
                    .map(|element| match element {
                        ArrayExpressionElement::StringLiteral(literal) => {
                            Some(CompactString::from(literal.value.as_str()))
                        }
                        other => other
                            .as_expression()
                            .and_then(|inner| self.resolve(inner, 0))
                            .map(|resolved| resolved.value),
                    })
                    .collect();
                if values.iter().any(Option::is_some) {
                    self.arrays.insert(name, values);
                }
            }
            Expression::Identifier(_)
            | Expression::StaticMemberExpression(_)
            | Expression::ComputedMemberExpression(_)
            | Expression::CallExpression(_)
                if self.is_aliasable(init) =>
            {
                if let Some(path) = self.path_of(init, 0) {
                    self.aliases.insert(name, path);
                }
            }
            _ => {}
        }
        if let Some(resolved) = self.resolve(init, 0) {
            if resolved.decoded {
                self.push_string(&resolved.value, true, 0);
            }
            self.constants.insert(name, resolved);
        } else {
            self.constants.remove(name);
        }
        let taint = self.taint_of(init, 0);
        if taint.any() {
            self.tainted.insert(name, taint);
        } else {
            self.tainted.remove(name);
        }
    }

    /// Only names and member chains (not arbitrary calls) become aliases, plus `require()`.
    fn is_aliasable(&self, init: &Expression<'_>) -> bool {
        match init.get_inner_expression() {
            Expression::CallExpression(call) => {
                self.with_required_module(call, 0, |_| ()).is_some()
            }
            Expression::StaticMemberExpression(member) => {
                !matches!(member.object.get_inner_expression(), Expression::CallExpression(call) if self.with_required_module(call, 0, |_| ()).is_none())
            }
            _ => true,
        }
    }

    fn mark_callback_params(&mut self, arguments: &[Argument<'a>], taint: Taint) {
        for argument in arguments {
            let params = match argument {
                Argument::ArrowFunctionExpression(function) => &function.params,
                Argument::FunctionExpression(function) => &function.params,
                _ => continue,
            };
            for param in &params.items {
                if let BindingPattern::BindingIdentifier(identifier) = &param.pattern {
                    self.tainted.insert(identifier.name.as_str(), taint);
                    self.protected_params.insert(identifier.name.as_str(), ());
                }
            }
        }
    }

    /// Whether the path of `object` can start with one of [`MEMBER_ROOTS`]: `false` only when
    /// its leftmost part is `this` or a plain name (no alias, no global prefix such as `window`)
    /// outside them, whose path starts with that name (or is `?`).
    fn may_have_member_root(&self, object: &Expression<'_>) -> bool {
        let mut current = object;
        loop {
            current = match current {
                Expression::StaticMemberExpression(member) => &member.object,
                Expression::ComputedMemberExpression(member) => &member.object,
                Expression::ParenthesizedExpression(inner) => &inner.expression,
                Expression::ThisExpression(_) => return false,
                Expression::Identifier(identifier) => {
                    let name = identifier.name.as_str();
                    return MEMBER_ROOTS.contains(&name)
                        || self.aliases.contains_key(name)
                        || matches!(
                            name,
                            "window" | "globalThis" | "global" | "self" | "top" | "parent"
                        );
                }
                _ => return true,
            };
        }
    }

    fn count_identifier(&mut self, name: &str) {
        self.facts.identifier_count += 1;
        if let Some(rest) = name.strip_prefix("_0x")
            && rest.len() >= 3
            && rest.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            self.facts.hex_identifier_count += 1;
        }
    }
}

/// A fact string: inline when short, one allocation otherwise.
fn compact(text: &str) -> CompactString {
    CompactString::new(text)
}

/// The part of `path` before its first `.` (all of it without one), as
/// `path.split('.').next()` but with a plain byte scan, cheaper on these short paths.
fn first_segment(path: &str) -> &str {
    match path.bytes().position(|byte| byte == b'.') {
        Some(dot) => &path[..dot],
        None => path,
    }
}

/// The part of `path` after its last `.` (all of it without one), as `path.rsplit('.').next()`.
fn last_segment(path: &str) -> &str {
    match path.bytes().rposition(|byte| byte == b'.') {
        Some(dot) => &path[dot + 1..],
        None => path,
    }
}

/// Whether the normalised path of `expression` may end with one of `names` (its last `.`
/// segment, or all of it): `false` only for a static member whose property is none of them,
/// since such a path always ends with its property. Lets comparisons skip building the path.
fn may_end_with(expression: &Expression<'_>, names: &[&str]) -> bool {
    match expression {
        Expression::StaticMemberExpression(member) => {
            names.contains(&member.property.name.as_str())
        }
        _ => true,
    }
}

/// The callee reaches its function through a computed member (`cp['sp' + 'awn']`), possibly
/// wrapped in `.call`/`.apply`/`.bind`.
fn callee_is_computed(callee: &Expression<'_>) -> bool {
    match callee {
        Expression::ComputedMemberExpression(_) => true,
        Expression::StaticMemberExpression(member)
            if matches!(member.property.name.as_str(), "call" | "apply" | "bind") =>
        {
            callee_is_computed(&member.object)
        }
        Expression::CallExpression(call) => match &call.callee {
            Expression::StaticMemberExpression(member)
                if member.property.name.as_str() == "bind" =>
            {
                callee_is_computed(&member.object)
            }
            _ => false,
        },
        Expression::ParenthesizedExpression(inner) => callee_is_computed(&inner.expression),
        _ => false,
    }
}

fn is_response_name(identifier: &IdentifierReference<'_>) -> bool {
    matches!(
        identifier.name.as_str(),
        "res" | "response" | "resp" | "xhr" | "req" | "request"
    )
}

/// Where a call's result comes from, by callee.
fn call_taint(
    callee: &str,
    call: &CallExpression<'_>,
    collector: &FactCollector,
    depth: u32,
) -> Taint {
    let root = first_segment(callee);
    let method = last_segment(callee);
    let mut taint = Taint::default();
    if NETWORK_ROOTS.contains(&root) {
        taint.remote = true;
    }
    if matches!(
        method,
        "fromCharCode" | "atob" | "unescape" | "decodeURIComponent"
    ) || contains_ignore_ascii_case(method, "decipher")
    {
        taint.decoded = true;
    }
    if callee == "Buffer.from" {
        let encoding = call
            .arguments
            .get(1)
            .and_then(Argument::as_expression)
            .and_then(|encoding| collector.resolve(encoding, depth + 1));
        if encoding.is_some_and(|encoding| {
            matches!(encoding.value.as_str(), "base64" | "hex" | "base64url")
        }) {
            taint.decoded = true;
        }
    }
    if callee.starts_with("fs.read") || callee.starts_with("fs/promises.read") {
        taint.from_file = true;
    }
    if matches!(method, "json" | "text" | "arrayBuffer" | "blob") && root != "JSON" {
        // `await (await fetch(u)).text()`: the object taint carries `remote` already.
    }
    taint
}

/// `node:child_process` → `child_process`, `fs/promises` → `fs`.
pub(crate) fn normalize_module(specifier: &str) -> String {
    normalized_module(specifier).to_owned()
}

/// [`normalize_module`] without the copy.
fn normalized_module(specifier: &str) -> &str {
    let trimmed = specifier.trim();
    let without_scheme = trimmed.strip_prefix("node:").unwrap_or(trimmed);
    match without_scheme {
        "fs/promises" => "fs",
        "dns/promises" => "dns",
        "child_process/" => "child_process",
        other => other,
    }
}

/// Whether `text` contains `needle` (ASCII) in any letter case, without lowercasing a copy.
fn contains_ignore_ascii_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

fn strip_global_prefix(path: &str) -> &str {
    // Every global prefix starts with one of these letters: most paths are done in one test.
    if !matches!(
        path.as_bytes().first(),
        Some(b'w' | b'g' | b's' | b't' | b'p')
    ) {
        return path;
    }
    let mut current = path;
    loop {
        let next = [
            "window.",
            "globalThis.",
            "global.",
            "self.",
            "top.",
            "parent.",
        ]
        .iter()
        .find_map(|prefix| current.strip_prefix(prefix));
        match next {
            Some(rest) if !rest.is_empty() => current = rest,
            _ => return current,
        }
    }
}

impl<'a> Visit<'a> for FactCollector<'a> {
    fn visit_variable_declarator(&mut self, declarator: &VariableDeclarator<'a>) {
        if let Some(init) = &declarator.init {
            match &declarator.id {
                BindingPattern::BindingIdentifier(identifier) => {
                    self.bind(identifier.name.as_str(), init)
                }
                BindingPattern::ObjectPattern(pattern) => {
                    if let Some(base) = self.path_of(init, 0) {
                        let taint = self.taint_of(init, 0);
                        for property in &pattern.properties {
                            let (Some(key), BindingPattern::BindingIdentifier(local)) =
                                (property.key.static_name(), &property.value)
                            else {
                                continue;
                            };
                            self.aliases
                                .insert(local.name.as_str(), format!("{base}.{key}"));
                            if taint.any() {
                                self.tainted.insert(local.name.as_str(), taint);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        walk::walk_variable_declarator(self, declarator);
    }

    fn visit_assignment_expression(&mut self, assignment: &AssignmentExpression<'a>) {
        match &assignment.left {
            AssignmentTarget::AssignmentTargetIdentifier(identifier) => {
                let name = identifier.name.as_str();
                if assignment.operator == AssignmentOperator::Assign {
                    self.bind(name, &assignment.right);
                } else {
                    let taint = self.taint_of(&assignment.right, 0);
                    if taint.any() {
                        let merged = self
                            .tainted
                            .get(name)
                            .copied()
                            .unwrap_or_default()
                            .union(taint);
                        self.tainted.insert(name, merged);
                    }
                }
            }
            target => {
                if let Some(member) = target.as_member_expression() {
                    let property = match member {
                        oxc_ast::ast::MemberExpression::StaticMemberExpression(member) => {
                            Some(Cow::Borrowed(member.property.name.as_str()))
                        }
                        oxc_ast::ast::MemberExpression::ComputedMemberExpression(member) => self
                            .resolve(&member.expression, 0)
                            .map(|resolved| Cow::Owned(resolved.value.into_string())),
                        oxc_ast::ast::MemberExpression::PrivateFieldExpression(_) => None,
                    };
                    if let Some(property) = property
                        && !self.full(self.facts.assignments.len())
                    {
                        let target = self.with_scratch(|target| {
                            self.write_object(member.object(), 0, target);
                            target.push('.');
                            target.push_str(&property);
                            (target.len() <= MAX_PATH)
                                .then(|| CompactString::from(strip_global_prefix(target)))
                        });
                        if let Some(target) = target {
                            let offset = assignment.span.start;
                            self.facts.assignments.push(AssignFact { target, offset });
                        }
                    }
                }
            }
        }
        walk::walk_assignment_expression(self, assignment);
    }

    fn visit_import_declaration(&mut self, declaration: &ImportDeclaration<'a>) {
        let module = normalize_module(declaration.source.value.as_str());
        if !self.full(self.facts.modules.len()) {
            self.facts
                .modules
                .push((CompactString::from(module.as_str()), declaration.span.start));
        }
        if let Some(specifiers) = &declaration.specifiers {
            for specifier in specifiers {
                match specifier {
                    ImportDeclarationSpecifier::ImportSpecifier(named) => {
                        let imported = match &named.imported {
                            ModuleExportName::IdentifierName(name) => name.name.as_str().to_owned(),
                            ModuleExportName::IdentifierReference(name) => {
                                name.name.as_str().to_owned()
                            }
                            ModuleExportName::StringLiteral(name) => name.value.as_str().to_owned(),
                        };
                        self.aliases
                            .insert(named.local.name.as_str(), format!("{module}.{imported}"));
                    }
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(default) => {
                        self.aliases
                            .insert(default.local.name.as_str(), module.clone());
                    }
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(namespace) => {
                        self.aliases
                            .insert(namespace.local.name.as_str(), module.clone());
                    }
                }
            }
        }
        walk::walk_import_declaration(self, declaration);
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        let callee = self
            .with_path(&call.callee, 0, compact)
            .unwrap_or_else(|| CompactString::const_new("?"));
        let method = last_segment(&callee);
        // `with_required_module` resolves the same callee one level deeper, which gives the same
        // path or none: only a `require` callee can name a module.
        if (callee == "require" || callee.ends_with(".require"))
            && let Some(module) = self.with_required_module(call, 0, compact)
            && !self.full(self.facts.modules.len())
        {
            self.facts.modules.push((module, call.span.start));
        }
        let arguments = self.arguments_info(&call.arguments);
        // Decoded constants become strings that the string rules can see.
        if matches!(method, "toString" | "fromCharCode" | "atob" | "join")
            && let Some(resolved) = self.resolve_call(call, 0)
            && resolved.decoded
        {
            self.push_string(&resolved.value, true, call.span.start);
        }
        // Callbacks of network calls receive remote data.
        let root = first_segment(&callee);
        // The receiver's taint is only looked at (and so only computed) for listener methods.
        let remote_receiver = || {
            call.callee
                .get_member_expr()
                .is_some_and(|member| self.taint_of(member.object(), 0).remote)
        };
        if NETWORK_ROOTS.contains(&root)
            || (matches!(method, "on" | "then" | "once") && remote_receiver())
        {
            self.mark_callback_params(
                &call.arguments,
                Taint {
                    remote: true,
                    ..Taint::default()
                },
            );
        }
        let serializer = matches!(
            callee.as_str(),
            "JSON.stringify" | "Buffer.from" | "btoa" | "querystring.stringify"
        );
        if !self.full(self.facts.calls.len()) {
            let computed = callee_is_computed(&call.callee);
            self.facts.calls.push(CallFact {
                callee,
                is_new: false,
                computed,
                arguments,
                offset: call.span.start,
            });
        }
        self.serializing += u32::from(serializer);
        walk::walk_call_expression(self, call);
        self.serializing -= u32::from(serializer);
    }

    fn visit_new_expression(&mut self, new: &NewExpression<'a>) {
        let callee = self
            .with_path(&new.callee, 0, compact)
            .unwrap_or_else(|| CompactString::const_new("?"));
        let arguments = self.arguments_info(&new.arguments);
        if !self.full(self.facts.calls.len()) {
            let computed = callee_is_computed(&new.callee);
            self.facts.calls.push(CallFact {
                callee,
                is_new: true,
                computed,
                arguments,
                offset: new.span.start,
            });
        }
        walk::walk_new_expression(self, new);
    }

    fn visit_static_member_expression(&mut self, member: &StaticMemberExpression<'a>) {
        if self.may_have_member_root(&member.object)
            && let Some(path) = self.with_scratch(|path| {
                let recorded = self.write_path(&member.object, 0, path)
                    && MEMBER_ROOTS.contains(&first_segment(path));
                recorded.then(|| {
                    path.push('.');
                    path.push_str(member.property.name.as_str());
                    CompactString::from(path.as_str())
                })
            })
            && !self.full(self.facts.members.len())
        {
            self.facts.members.push(MemberFact {
                path,
                offset: member.span.start,
            });
        }
        walk::walk_static_member_expression(self, member);
    }

    fn visit_binary_expression(&mut self, binary: &BinaryExpression<'a>) {
        if binary.operator == BinaryOperator::Addition
            && let Some(resolved) = self.resolve_binary(binary, 0)
        {
            self.push_string(&resolved.value, resolved.decoded, binary.span.start);
            return;
        }
        walk::walk_binary_expression(self, binary);
    }

    fn visit_object_property(&mut self, property: &oxc_ast::ast::ObjectProperty<'a>) {
        if self.serializing > 0 && self.path_is(&property.value, 0, "process.env") {
            self.facts.members.push(MemberFact {
                path: CompactString::const_new(SERIALIZED_ENV),
                offset: property.span.start,
            });
        }
        // Quoted keys (`{"ngrok.io": true}` in public-suffix tables) are names, not values.
        if !property.computed && matches!(property.key, oxc_ast::ast::PropertyKey::StringLiteral(_))
        {
            self.visit_expression(&property.value);
            return;
        }
        walk::walk_object_property(self, property);
    }

    fn visit_spread_element(&mut self, spread: &oxc_ast::ast::SpreadElement<'a>) {
        if self.serializing > 0 && self.path_is(&spread.argument, 0, "process.env") {
            self.facts.members.push(MemberFact {
                path: CompactString::const_new(SERIALIZED_ENV),
                offset: spread.span.start,
            });
        }
        walk::walk_spread_element(self, spread);
    }

    fn visit_string_literal(&mut self, literal: &StringLiteral<'a>) {
        self.push_string(literal.value.as_str(), false, literal.span.start);
    }

    fn visit_template_literal(&mut self, template: &TemplateLiteral<'a>) {
        if template.expressions.is_empty()
            && let Some(quasi) = template.quasis.first()
            && let Some(cooked) = &quasi.value.cooked
        {
            self.push_string(cooked.as_str(), false, template.span.start);
        } else if let Some(resolved) = self.resolve_template(template) {
            self.push_string(&resolved.value, resolved.decoded, template.span.start);
        } else {
            for quasi in &template.quasis {
                if let Some(cooked) = &quasi.value.cooked
                    && !cooked.is_empty()
                {
                    self.push_string(cooked.as_str(), false, quasi.span.start);
                }
            }
        }
        walk::walk_template_literal(self, template);
    }

    fn visit_formal_parameter(&mut self, parameter: &oxc_ast::ast::FormalParameter<'a>) {
        // A parameter shadows any outer variable of the same name (scope-free approximation).
        if let BindingPattern::BindingIdentifier(identifier) = &parameter.pattern {
            let name = identifier.name.as_str();
            if self.protected_params.remove(name).is_none() {
                self.tainted.remove(name);
                self.constants.remove(name);
            }
        }
        walk::walk_formal_parameter(self, parameter);
    }

    fn visit_identifier_reference(&mut self, identifier: &IdentifierReference<'a>) {
        self.count_identifier(identifier.name.as_str());
    }

    fn visit_binding_identifier(&mut self, identifier: &oxc_ast::ast::BindingIdentifier<'a>) {
        self.count_identifier(identifier.name.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_match_split() {
        for path in [
            "",
            ".",
            "fetch",
            "child_process.exec",
            "a..b",
            "process.env.",
            ".x",
            "é.ü",
        ] {
            assert_eq!(
                first_segment(path),
                path.split('.').next().unwrap_or_default()
            );
            assert_eq!(
                last_segment(path),
                path.rsplit('.').next().unwrap_or_default()
            );
        }
    }

    /// The constant of the first argument of the call to `callee` in `source`.
    fn first_argument_of(source: &str, callee: &str) -> Option<String> {
        let facts = crate::js::collect_facts("index.js", source);
        let call = facts.calls.iter().find(|call| call.callee == callee)?;
        call.arguments
            .first()?
            .constant
            .as_deref()
            .map(str::to_owned)
    }

    #[test]
    fn path_join_folds_as_a_member_call_and_array_join_still_folds() {
        let member = "const path = require('path'); const os = require('os');\n\
                      fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa'));";
        assert_eq!(
            first_argument_of(member, "fs.readFileSync").as_deref(),
            Some("~/.ssh/id_rsa")
        );
        let array = "const fs = require('fs'); fs.readFileSync(['~', '.npmrc'].join('/'));";
        assert_eq!(
            first_argument_of(array, "fs.readFileSync").as_deref(),
            Some("~/.npmrc")
        );
        // An array join that cannot fold does not turn into a path join.
        let opaque = "const fs = require('fs'); fs.readFileSync(parts.join('/'));";
        assert_eq!(first_argument_of(opaque, "fs.readFileSync"), None);
    }

    #[test]
    fn global_prefixes_are_stripped() {
        assert_eq!(strip_global_prefix("window.fetch"), "fetch");
        assert_eq!(strip_global_prefix("globalThis.window.eval"), "eval");
        assert_eq!(strip_global_prefix("window"), "window");
        assert_eq!(strip_global_prefix("window."), "window.");
        assert_eq!(strip_global_prefix("process.env"), "process.env");
        assert_eq!(strip_global_prefix("topology.x"), "topology.x");
    }

    #[test]
    fn module_specifiers_are_normalised() {
        assert_eq!(normalized_module(" node:child_process "), "child_process");
        assert_eq!(normalized_module("node:fs/promises"), "fs");
        assert_eq!(normalized_module("dns/promises"), "dns");
        assert_eq!(normalized_module("child_process/"), "child_process");
        assert_eq!(normalize_module("axios"), "axios");
    }

    #[test]
    fn decipher_in_any_case() {
        assert!(contains_ignore_ascii_case("createDecipheriv", "decipher"));
        assert!(contains_ignore_ascii_case("DECIPHER", "decipher"));
        assert!(!contains_ignore_ascii_case("decip", "decipher"));
        assert!(!contains_ignore_ascii_case("", "decipher"));
    }
}
