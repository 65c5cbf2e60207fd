//! npm version ranges (`^1.2.3`, `~1.2`, `1.x`, `1.2.3 - 2.3.4`, `>=1 <2 || 3`).
//!
//! A [`Range`] is a union (`||`) of comparator sets; a set is an intersection of primitive
//! comparators (`<`, `<=`, `>`, `>=`, `=`). Sugar is desugared the way npm documents it, with
//! npm's `-0` exclusive upper bounds (`^1.2.3` → `>=1.2.3 <2.0.0-0`). The pre-release rule
//! is npm's: a pre-release version satisfies a set only when some comparator of that set has
//! a pre-release on the same `major.minor.patch` (`>=1.2.3-alpha.3` admits `1.2.3-alpha.7`
//! but not `3.4.5-alpha.9`).
//!
//! OSV matching does not use this type (convention 6: OSV events, not `VersionReq`); it is
//! for user input such as policy allow-lists and for displaying affected ranges.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};
use crate::version::{Version, parse_number, parse_prerelease};

/// npm's `MAX_LENGTH` applies to ranges too.
pub const MAX_RANGE_LENGTH: usize = 256;

/// A primitive comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `<`
    Less,
    /// `<=`
    LessEq,
    /// `>`
    Greater,
    /// `>=`
    GreaterEq,
    /// `=` (exact)
    Exact,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Self::Less => "<",
            Self::LessEq => "<=",
            Self::Greater => ">",
            Self::GreaterEq => ">=",
            Self::Exact => "",
        }
    }
}

/// One primitive comparator: `op version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comparator {
    /// How to compare.
    pub op: Op,
    /// What to compare with.
    pub version: Version,
}

impl Comparator {
    fn new(op: Op, version: Version) -> Self {
        Self { op, version }
    }

    /// True when `version` satisfies this comparator alone (no pre-release rule).
    pub fn matches(&self, version: &Version) -> bool {
        match self.op {
            Op::Less => version < &self.version,
            Op::LessEq => version <= &self.version,
            Op::Greater => version > &self.version,
            Op::GreaterEq => version >= &self.version,
            Op::Exact => version == &self.version,
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.op.as_str(), self.version)
    }
}

/// A set of comparators that must all hold. An empty set is `*` (any release).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ComparatorSet {
    /// The comparators, in source order.
    pub comparators: Vec<Comparator>,
}

impl ComparatorSet {
    /// npm's `testSet`: every comparator holds, and a pre-release version needs a
    /// comparator with a pre-release on the same `major.minor.patch`.
    pub fn matches(&self, version: &Version) -> bool {
        if !self.comparators.iter().all(|c| c.matches(version)) {
            return false;
        }
        if !version.is_prerelease() {
            return true;
        }
        self.comparators
            .iter()
            .any(|c| c.version.is_prerelease() && c.version.same_core(version))
    }
}

impl fmt::Display for ComparatorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.comparators.is_empty() {
            return f.write_str("*");
        }
        for (i, c) in self.comparators.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// An npm range: a union of comparator sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    /// The alternatives separated by `||`.
    pub sets: Vec<ComparatorSet>,
}

impl Range {
    /// Parse npm range syntax.
    ///
    /// # Errors
    /// [`ErrorKind::Range`] for anything npm would reject (`>=1.2.3 <`, `1.2.3.4`, `^a`).
    pub fn parse(input: &str) -> Result<Self, Error> {
        if input.len() > MAX_RANGE_LENGTH {
            return Err(invalid(input, "longer than 256 bytes"));
        }
        let sets = input
            .split("||")
            .map(|part| parse_set(part).map_err(|why| invalid(input, why)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { sets })
    }

    /// True when `version` satisfies any alternative (npm `satisfies`, pre-release rule
    /// included).
    pub fn matches(&self, version: &Version) -> bool {
        self.sets.iter().any(|set| set.matches(version))
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, set) in self.sets.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            write!(f, "{set}")?;
        }
        Ok(())
    }
}

impl FromStr for Range {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn invalid(input: &str, why: &str) -> Error {
    let shown: String = input.chars().take(64).collect();
    Error::new(ErrorKind::Range, format!("invalid range `{shown}`: {why}"))
}

/// A version with optional (wildcard) parts: `1`, `1.2`, `1.x`, `*`, `1.2.3-beta`.
#[derive(Debug, Clone, Default)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    prerelease: Vec<crate::version::Identifier>,
}

impl Partial {
    fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        if text.is_empty() {
            return Ok(Self::default());
        }
        let text = text.split_once('+').map_or(text, |(rest, _build)| rest);
        let (core, prerelease) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let mut parts = core.split('.');
        let mut numbers = [None; 3];
        let mut wildcard_seen = false;
        for slot in &mut numbers {
            let Some(part) = parts.next() else { break };
            if matches!(part, "x" | "X" | "*") {
                wildcard_seen = true;
                continue;
            }
            if wildcard_seen {
                // `1.x.3`: npm treats anything after a wildcard as a wildcard.
                if parse_number(part).is_none() {
                    return Err("bad version part");
                }
                continue;
            }
            *slot = Some(parse_number(part).ok_or("bad version part")?);
        }
        if parts.next().is_some() {
            return Err("too many version parts");
        }
        let [major, minor, patch] = numbers;
        let mut partial = Self {
            major,
            minor,
            patch,
            prerelease: Vec::new(),
        };
        if let Some(pre) = prerelease {
            if patch.is_none() {
                return Err("pre-release on a partial version");
            }
            partial.prerelease = parse_prerelease(pre).ok_or("bad pre-release identifier")?;
        }
        Ok(partial)
    }

    fn full(&self) -> Option<Version> {
        Some(Version {
            prerelease: self.prerelease.clone(),
            ..Version::new(self.major?, self.minor?, self.patch?)
        })
    }

    /// The lowest version the partial covers (`1.2` → `1.2.0`).
    fn lower(&self) -> Version {
        Version {
            prerelease: self.prerelease.clone(),
            ..Version::new(
                self.major.unwrap_or(0),
                self.minor.unwrap_or(0),
                self.patch.unwrap_or(0),
            )
        }
    }

    /// The exclusive upper bound of an incomplete partial (`1` → `2.0.0-0`, `1.2` →
    /// `1.3.0-0`); `None` for a full version or `*`.
    fn next_floor(&self) -> Option<Version> {
        match (self.major, self.minor, self.patch) {
            (Some(major), None, _) => Some(Version::floor(major.checked_add(1)?, 0, 0)),
            (Some(major), Some(minor), None) => {
                Some(Version::floor(major, minor.checked_add(1)?, 0))
            }
            _ => None,
        }
    }
}

/// `<0.0.0-0`: matches nothing (npm's desugaring of `>*` and `<*`).
fn nothing() -> Vec<Comparator> {
    vec![Comparator::new(Op::Less, Version::lowest())]
}

fn parse_set(text: &str) -> Result<ComparatorSet, &'static str> {
    let tokens = tokenize(text)?;
    // Hyphen range: `A - B`.
    if tokens.len() == 3 && tokens[1] == "-" {
        return hyphen(&tokens[0], &tokens[2]).map(|comparators| ComparatorSet { comparators });
    }
    if tokens.iter().any(|t| t == "-") {
        return Err("misplaced hyphen");
    }
    let mut comparators = Vec::new();
    for token in &tokens {
        comparators.extend(desugar(token)?);
    }
    Ok(ComparatorSet { comparators })
}

/// Split on whitespace, gluing an operator to the version that follows (`>= 1.2.3`).
fn tokenize(text: &str) -> Result<Vec<String>, &'static str> {
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_operator: Option<&str> = None;
    for word in text.split_whitespace() {
        if matches!(word, "<" | "<=" | ">" | ">=" | "=" | "~" | "~>" | "^") {
            if pending_operator.is_some() {
                return Err("two operators in a row");
            }
            pending_operator = Some(word);
            continue;
        }
        match pending_operator.take() {
            Some(op) => tokens.push(format!("{op}{word}")),
            None => tokens.push(word.to_owned()),
        }
    }
    if let Some(op) = pending_operator {
        // A lone `~` or `^` means `*` to npm; a dangling `<` is an error.
        if matches!(op, "~" | "^" | "~>") {
            tokens.push(String::new());
        } else {
            return Err("operator without a version");
        }
    }
    Ok(tokens)
}

fn hyphen(from: &str, to: &str) -> Result<Vec<Comparator>, &'static str> {
    let from = Partial::parse(from)?;
    let to = Partial::parse(to)?;
    let mut comparators = Vec::new();
    if from.major.is_some() {
        comparators.push(Comparator::new(Op::GreaterEq, from.lower()));
    }
    if let Some(full) = to.full() {
        comparators.push(Comparator::new(Op::LessEq, full));
    } else if let Some(bound) = to.next_floor() {
        comparators.push(Comparator::new(Op::Less, bound));
    }
    Ok(comparators)
}

fn desugar(token: &str) -> Result<Vec<Comparator>, &'static str> {
    if let Some(rest) = token.strip_prefix("~>").or_else(|| token.strip_prefix('~')) {
        return tilde(&Partial::parse(rest)?);
    }
    if let Some(rest) = token.strip_prefix('^') {
        return caret(&Partial::parse(rest)?);
    }
    let (op, rest) = if let Some(rest) = token.strip_prefix(">=") {
        (Op::GreaterEq, rest)
    } else if let Some(rest) = token.strip_prefix("<=") {
        (Op::LessEq, rest)
    } else if let Some(rest) = token.strip_prefix('>') {
        (Op::Greater, rest)
    } else if let Some(rest) = token.strip_prefix('<') {
        (Op::Less, rest)
    } else if let Some(rest) = token.strip_prefix('=') {
        (Op::Exact, rest)
    } else {
        (Op::Exact, token)
    };
    if rest.is_empty() && op != Op::Exact {
        return Err("operator without a version");
    }
    let partial = Partial::parse(rest)?;
    if let Some(full) = partial.full() {
        return Ok(vec![Comparator::new(op, full)]);
    }
    x_range(op, &partial)
}

/// Comparators over an incomplete partial (`>1.2`, `<=1`, `1.x`, `*`).
fn x_range(op: Op, partial: &Partial) -> Result<Vec<Comparator>, &'static str> {
    let Some(major) = partial.major else {
        // `*`, `>=*`, `<=*` match any release; `>*` and `<*` match nothing.
        return Ok(match op {
            Op::Greater | Op::Less => nothing(),
            _ => Vec::new(),
        });
    };
    let lower = partial.lower();
    let next = partial.next_floor().ok_or("version part out of range")?;
    Ok(match op {
        Op::Exact => vec![
            Comparator::new(Op::GreaterEq, lower),
            Comparator::new(Op::Less, next),
        ],
        Op::GreaterEq => vec![Comparator::new(Op::GreaterEq, lower)],
        // `>1.2` → `>=1.3.0`, `>1` → `>=2.0.0`.
        Op::Greater => {
            let bound = match partial.minor {
                None => Version::new(major.checked_add(1).ok_or("out of range")?, 0, 0),
                Some(minor) => Version::new(major, minor.checked_add(1).ok_or("out of range")?, 0),
            };
            vec![Comparator::new(Op::GreaterEq, bound)]
        }
        // `<=1.2` → `<1.3.0-0`.
        Op::LessEq => vec![Comparator::new(Op::Less, next)],
        // `<1.2` → `<1.2.0-0`.
        Op::Less => vec![Comparator::new(
            Op::Less,
            Version::floor(major, lower.minor, 0),
        )],
    })
}

fn tilde(partial: &Partial) -> Result<Vec<Comparator>, &'static str> {
    let Some(major) = partial.major else {
        return Ok(Vec::new());
    };
    let upper = match partial.minor {
        None => Version::floor(major.checked_add(1).ok_or("out of range")?, 0, 0),
        Some(minor) => Version::floor(major, minor.checked_add(1).ok_or("out of range")?, 0),
    };
    Ok(vec![
        Comparator::new(Op::GreaterEq, partial.lower()),
        Comparator::new(Op::Less, upper),
    ])
}

fn caret(partial: &Partial) -> Result<Vec<Comparator>, &'static str> {
    let Some(major) = partial.major else {
        return Ok(Vec::new());
    };
    let bump = |n: u64| n.checked_add(1).ok_or("out of range");
    let upper = match (major, partial.minor, partial.patch) {
        (0, None, _) => Version::floor(1, 0, 0),
        (0, Some(0), None) => Version::floor(0, 1, 0),
        (0, Some(0), Some(patch)) => Version::floor(0, 0, bump(patch)?),
        (0, Some(minor), _) => Version::floor(0, bump(minor)?, 0),
        (major, _, _) => Version::floor(bump(major)?, 0, 0),
    };
    Ok(vec![
        Comparator::new(Op::GreaterEq, partial.lower()),
        Comparator::new(Op::Less, upper),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> Range {
        Range::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn satisfies(r: &str, v: &str) -> bool {
        range(r).matches(&Version::parse(v).unwrap_or_else(|e| panic!("{v}: {e}")))
    }

    /// Desugaring per npm's documented examples (node-semver README).
    #[test]
    fn desugars_like_npm_docs() {
        let cases = [
            ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
            ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
            ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
            ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
            ("* - 2", "<3.0.0-0"),
            ("*", "*"),
            ("", "*"),
            ("x", "*"),
            ("1.x", ">=1.0.0 <2.0.0-0"),
            ("1.2.x", ">=1.2.0 <1.3.0-0"),
            ("1", ">=1.0.0 <2.0.0-0"),
            ("1.2", ">=1.2.0 <1.3.0-0"),
            ("~1.2.3", ">=1.2.3 <1.3.0-0"),
            ("~1.2", ">=1.2.0 <1.3.0-0"),
            ("~1", ">=1.0.0 <2.0.0-0"),
            ("~0.2.3", ">=0.2.3 <0.3.0-0"),
            ("~0.2", ">=0.2.0 <0.3.0-0"),
            ("~0", ">=0.0.0 <1.0.0-0"),
            ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
            ("~>1.2.3", ">=1.2.3 <1.3.0-0"),
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.2.3", ">=0.2.3 <0.3.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
            ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"),
            ("^1.2.x", ">=1.2.0 <2.0.0-0"),
            ("^0.0.x", ">=0.0.0 <0.1.0-0"),
            ("^0.0", ">=0.0.0 <0.1.0-0"),
            ("^1.x", ">=1.0.0 <2.0.0-0"),
            ("^0.x", ">=0.0.0 <1.0.0-0"),
            (">1", ">=2.0.0"),
            (">1.2", ">=1.3.0"),
            ("<=1.2", "<1.3.0-0"),
            ("<1.2", "<1.2.0-0"),
            (">=1", ">=1.0.0"),
            (">*", "<0.0.0-0"),
            (">= 1.2.3 < 2", ">=1.2.3 <2.0.0-0"),
            ("=1.2.3", "1.2.3"),
            ("v1.2.3", "1.2.3"),
            (">=1.2.7 <1.3.0", ">=1.2.7 <1.3.0"),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7 || >=1.2.9 <2.0.0"),
            ("^1 || ^2", ">=1.0.0 <2.0.0-0 || >=2.0.0 <3.0.0-0"),
        ];
        for (input, desugared) in cases {
            assert_eq!(range(input).to_string(), desugared, "{input}");
        }
    }

    /// npm's documented examples of what satisfies and what does not.
    #[test]
    fn satisfies_table() {
        let pass = [
            (">=1.2.7", "1.2.7"),
            (">=1.2.7", "1.2.8"),
            (">=1.2.7", "2.5.3"),
            (">=1.2.7", "1.3.9"),
            (">=1.2.7 <1.3.0", "1.2.8"),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7"),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.4.6"),
            (">1.2.3-alpha.3", "1.2.3-alpha.7"),
            (">1.2.3-alpha.3", "3.4.5"),
            ("^1.2.3", "1.9.9"),
            ("^1.2.3-beta.2", "1.2.3-beta.4"),
            ("^0.0.3-beta", "0.0.3-pr.2"),
            ("~1.2.3-beta.2", "1.2.3-beta.4"),
            ("*", "1.2.3"),
            ("1.2.3 - 2.3.4", "2.3.4"),
            ("1.2.3 - 2.3", "2.3.9"),
            ("1.x", "1.99.0"),
            (">=1.0.0-0", "1.0.0-rc.1"),
            ("1.0.0+build", "1.0.0"),
            ("=1.0.0", "1.0.0+anything"),
        ];
        for (r, v) in pass {
            assert!(satisfies(r, v), "{v} should satisfy {r}");
        }
        let fail = [
            (">=1.2.7", "1.2.6"),
            (">=1.2.7 <1.3.0", "1.2.6"),
            (">=1.2.7 <1.3.0", "1.3.0"),
            (">=1.2.7 <1.3.0", "1.1.0"),
            ("1.2.7 || >=1.2.9 <2.0.0", "1.2.8"),
            ("1.2.7 || >=1.2.9 <2.0.0", "2.0.0"),
            // The pre-release rule.
            (">1.2.3-alpha.3", "3.4.5-alpha.9"),
            ("^1.2.3", "2.0.0-alpha"),
            ("^1.2.3", "1.5.0-beta"),
            ("^1.2.3-beta.2", "1.2.4-beta.2"),
            ("~1.2.3-beta.2", "1.2.4-beta.2"),
            ("*", "1.0.0-rc.1"),
            ("1.x", "1.2.0-beta"),
            ("^1.2.3", "1.2.2"),
            ("^0.2.3", "0.3.0"),
            ("^0.0.3", "0.0.4"),
            ("~1.2.3", "1.3.0"),
            ("1.2.3 - 2.3.4", "2.3.5"),
            ("1.2.3 - 2.3", "2.4.0"),
            (">*", "1.0.0"),
            ("<1.2", "1.2.0"),
        ];
        for (r, v) in fail {
            assert!(!satisfies(r, v), "{v} should not satisfy {r}");
        }
    }

    #[test]
    fn rejects_bad_ranges() {
        let fail = [
            ">=1.2.3 <",
            "1.2.3.4",
            "^a",
            "~1.2.3-",
            ">=>1",
            "1 - 2 - 3",
            "- 1",
            "1.2-beta",
            "01.2.3",
            ">= <= 1",
            "latest",
        ];
        for input in fail {
            let error = Range::parse(input).expect_err(input);
            assert_eq!(error.kind(), ErrorKind::Range, "{input}");
        }
        assert!(Range::parse(&"1".repeat(300)).is_err());
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        assert!(Range::parse("^9007199254740991").is_ok());
        assert!(Range::parse("^9007199254740992").is_err());
    }

    /// A wider table of npm's range behaviour (node-semver's include/exclude cases, strict
    /// mode).
    #[test]
    fn npm_include_exclude_table() {
        let include = [
            ("1.0.0 - 2.0.0", "1.2.3"),
            ("^1.2.3+build", "1.2.3"),
            ("^1.2.3+build", "1.3.0"),
            ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"),
            ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"),
            ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"),
            ("1.2.3+asdf - 2.4.3+asdf", "1.2.3"),
            ("1.0.0", "1.0.0"),
            (">=*", "0.2.4"),
            ("", "1.0.0"),
            ("*", "1.2.3"),
            (">=1.0.0", "1.0.0"),
            (">=1.0.0", "1.0.1"),
            (">=1.0.0", "1.1.0"),
            (">1.0.0", "1.0.1"),
            ("<=2.0.0", "2.0.0"),
            ("<=2.0.0", "1.9999.9999"),
            ("<2.0.0", "0.2.9"),
            (">= 1.0.0", "1.0.0"),
            (">=  1.0.0", "1.0.1"),
            ("<=  2.0.0", "2.0.0"),
            ("<    2.0.0", "1.9999.9999"),
            (">=0.1.97", "0.1.97"),
            ("0.1.20 || 1.2.4", "1.2.4"),
            (">=0.2.3 || <0.0.1", "0.0.0"),
            (">=0.2.3 || <0.0.1", "0.2.3"),
            (">=0.2.3 || <0.0.1", "0.2.4"),
            ("||", "1.3.4"),
            ("2.x.x", "2.1.3"),
            ("1.2.x", "1.2.3"),
            ("1.2.x || 2.x", "2.1.3"),
            ("1.2.x || 2.x", "1.2.3"),
            ("x", "1.2.3"),
            ("2.*.*", "2.1.3"),
            ("1.2.*", "1.2.3"),
            ("2", "2.1.2"),
            ("2.3", "2.3.1"),
            ("~0.0.1", "0.0.1"),
            ("~0.0.1", "0.0.2"),
            ("~x", "0.0.9"),
            ("~2", "2.0.9"),
            ("~2.4", "2.4.0"),
            ("~2.4", "2.4.5"),
            ("~>3.2.1", "3.2.2"),
            ("~1", "1.2.3"),
            ("~>1", "1.2.3"),
            ("~> 1", "1.2.3"),
            ("~1.0", "1.0.2"),
            ("~ 1.0", "1.0.2"),
            ("~ 1.0.3", "1.0.12"),
            (">=1", "1.0.0"),
            (">= 1", "1.0.0"),
            ("<1.2", "1.1.1"),
            ("< 1.2", "1.1.1"),
            ("~v0.5.4-pre", "0.5.5"),
            ("~v0.5.4-pre", "0.5.4"),
            ("=0.7.x", "0.7.2"),
            ("<=0.7.x", "0.7.2"),
            (">=0.7.x", "0.7.2"),
            ("<=0.7.x", "0.6.2"),
            ("~1.2.1 >=1.2.3", "1.2.3"),
            ("~1.2.1 =1.2.3", "1.2.3"),
            ("~1.2.1 1.2.3", "1.2.3"),
            ("~1.2.1 >=1.2.3 1.2.3", "1.2.3"),
            ("~1.2.1 1.2.3 >=1.2.3", "1.2.3"),
            (">=1.2.1 1.2.3", "1.2.3"),
            ("1.2.3 >=1.2.1", "1.2.3"),
            (">=1.2.3 >=1.2.1", "1.2.3"),
            (">=1.2.1 >=1.2.3", "1.2.3"),
            (">=1.2", "1.2.8"),
            ("^1.2.3", "1.8.1"),
            ("^0.1.2", "0.1.2"),
            ("^0.1", "0.1.2"),
            ("^0.0.1", "0.0.1"),
            ("^1.2", "1.4.2"),
            ("^1.2 ^1", "1.4.2"),
            ("^1.2.3-alpha", "1.2.3-pre"),
            ("^1.2.0-alpha", "1.2.0-pre"),
            ("^0.0.1-alpha", "0.0.1-beta"),
            ("^0.0.1-alpha", "0.0.1"),
            ("^0.1.1-alpha", "0.1.1-beta"),
            ("^x", "1.2.3"),
            ("x - 1.0.0", "0.9.7"),
            ("x - 1.x", "0.9.7"),
            ("1.0.0 - x", "1.9.7"),
            ("1.x - x", "1.9.7"),
            ("<=7.x", "7.9.9"),
        ];
        for (r, v) in include {
            assert!(satisfies(r, v), "{v} should satisfy {r}");
        }
        let exclude = [
            ("1.0.0 - 2.0.0", "2.2.3"),
            ("1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"),
            ("1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha"),
            ("^1.2.3+build", "2.0.0"),
            ("^1.2.3+build", "1.2.0"),
            ("^1.2.3", "1.2.3-pre"),
            ("^1.2", "1.2.0-pre"),
            (">1.2", "1.3.0-beta"),
            ("<=1.2.3", "1.2.3-beta"),
            ("^1.2.3", "1.2.3-beta"),
            ("=0.7.x", "0.7.0-asdf"),
            (">=0.7.x", "0.7.0-asdf"),
            ("<=0.7.x", "0.7.0-asdf"),
            ("1.0.0", "1.0.1"),
            (">=1.0.0", "0.0.0"),
            (">=1.0.0", "0.0.1"),
            (">=1.0.0", "0.1.0"),
            (">1.0.0", "0.0.1"),
            (">1.0.0", "0.1.0"),
            ("<=2.0.0", "3.0.0"),
            ("<=2.0.0", "2.9999.9999"),
            ("<=2.0.0", "2.2.9"),
            ("<2.0.0", "2.9999.9999"),
            ("<2.0.0", "2.2.9"),
            (">=0.1.97", "0.1.93"),
            ("0.1.20 || 1.2.4", "1.2.3"),
            (">=0.2.3 || <0.0.1", "0.0.3"),
            (">=0.2.3 || <0.0.1", "0.2.2"),
            ("2.x.x", "1.1.3"),
            ("2.x.x", "3.1.3"),
            ("1.2.x", "1.3.3"),
            ("1.2.x || 2.x", "3.1.3"),
            ("1.2.x || 2.x", "1.1.3"),
            ("2.*.*", "1.1.3"),
            ("2.*.*", "3.1.3"),
            ("1.2.*", "1.3.3"),
            ("2", "1.1.2"),
            ("2.3", "2.4.1"),
            ("~0.0.1", "0.1.0-alpha"),
            ("~0.0.1", "0.1.0"),
            ("~2.4", "2.5.0"),
            ("~2.4", "2.3.9"),
            ("~>3.2.1", "3.3.2"),
            ("~>3.2.1", "3.2.0"),
            ("~1", "0.2.3"),
            ("~>1", "2.2.3"),
            ("~1.0", "1.1.0"),
            ("<1", "1.0.0"),
            (">=1.2", "1.1.1"),
            ("~v0.5.4-beta", "0.5.4-alpha"),
            ("=0.7.x", "0.8.2"),
            (">=0.7.x", "0.6.2"),
            ("<0.7.x", "0.7.2"),
            ("<1.2.3", "1.2.3-beta"),
            ("=1.2.3", "1.2.3-beta"),
            (">1.2", "1.2.8"),
            ("^0.0.1", "0.0.2-alpha"),
            ("^0.0.1", "0.0.2"),
            ("^1.2.3", "2.0.0-alpha"),
            ("^1.2.3", "1.2.2"),
            ("^1.2", "1.1.9"),
            ("*", "v1.2.3-foo"),
            ("^1.0.0", "2.0.0-rc1"),
            ("1 - 2", "2.0.0-pre"),
            ("1 - 2", "1.0.0-pre"),
            ("1.1.x", "1.0.0-a"),
            ("1.1.x", "1.1.0-a"),
            ("1.1.x", "1.2.0-a"),
            ("1.x", "1.0.0-a"),
            ("1.x", "1.1.0-a"),
            ("1.x", "1.2.0-a"),
            (">=1.0.0 <1.1.0", "1.1.0"),
            (">=1.0.0 <1.1.0", "1.1.0-pre"),
            (">=1.0.0 <1.1.0-pre", "1.1.0-pre"),
        ];
        for (r, v) in exclude {
            assert!(!satisfies(r, v), "{v} should not satisfy {r}");
        }
    }
}
