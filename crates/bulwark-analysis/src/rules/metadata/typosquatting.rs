use std::collections::HashSet;
use std::sync::LazyLock;

use crate::context::PackageContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// The most-downloaded npm names (see `data/NOTICE.md` for the source).
static POPULAR: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/popular-npm-names.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});
static POPULAR_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| POPULAR.iter().copied().collect());

/// A popular name prepared once for comparison with every package's name.
struct PopularName {
    /// The full name (`@scope/name` or `name`).
    name: &'static str,
    /// The name without its scope.
    bare: &'static str,
    /// [`fold`] of [`Self::bare`].
    folded: String,
    /// [`Self::bare`] as characters, for [`edit_distance_within`].
    characters: Vec<char>,
    /// [`histogram`] of [`Self::characters`].
    histogram: Histogram,
}

/// [`POPULAR`] with the names' bare, folded and character forms, in the same order.
static POPULAR_PREPARED: LazyLock<Vec<PopularName>> = LazyLock::new(|| {
    POPULAR
        .iter()
        .map(|name| {
            let bare = name.rsplit('/').next().unwrap_or(name);
            PopularName {
                name,
                bare,
                folded: fold(bare),
                characters: bare.chars().collect(),
                histogram: histogram(bare),
            }
        })
        .collect()
});

/// Whether `name` is one of the shipped popular names.
pub(crate) fn is_popular(name: &str) -> bool {
    POPULAR_SET.contains(name)
}

/// Optimal-string-alignment distance (edits plus adjacent transpositions), bounded by `limit`:
/// exact up to `limit`, some larger number beyond.
#[cfg(test)]
pub(crate) fn edit_distance(left: &str, right: &str, limit: usize) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    edit_distance_within(&left, &right, limit)
}

/// [`edit_distance`] of two names already split into characters.
fn edit_distance_within(left: &[char], right: &[char], limit: usize) -> usize {
    if left.len().abs_diff(right.len()) > limit {
        return limit + 1;
    }
    let width = right.len() + 1;
    let mut previous_previous = vec![0usize; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current = vec![0usize; width];
    for index in 1..=left.len() {
        current[0] = index;
        for other in 1..width {
            let cost = usize::from(left[index - 1] != right[other - 1]);
            let mut best = (previous[other] + 1)
                .min(current[other - 1] + 1)
                .min(previous[other - 1] + cost);
            if index > 1
                && other > 1
                && left[index - 1] == right[other - 2]
                && left[index - 2] == right[other - 1]
            {
                best = best.min(previous_previous[other - 2] + 1);
            }
            current[other] = best;
        }
        // Once two rows in a row exceed the limit, every later one does (each entry comes
        // from the two rows above or its left neighbour, plus at least nothing): stop.
        if current.iter().all(|distance| *distance > limit)
            && previous.iter().all(|distance| *distance > limit)
        {
            return limit + 1;
        }
        std::mem::swap(&mut previous_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[right.len()]
}

/// Character counts by [`HISTOGRAM_BUCKETS`] buckets (saturating).
type Histogram = [u8; HISTOGRAM_BUCKETS];

/// Buckets of a [`Histogram`]: characters are counted by their code modulo this.
const HISTOGRAM_BUCKETS: usize = 64;

fn histogram(name: &str) -> Histogram {
    let mut counts = [0u8; HISTOGRAM_BUCKETS];
    for character in name.chars() {
        let bucket = &mut counts[character as usize % HISTOGRAM_BUCKETS];
        *bucket = bucket.saturating_add(1);
    }
    counts
}

/// Half of this bounds [`edit_distance`] from below: an insertion or a deletion changes the
/// histograms' difference by one, a substitution by at most two, a transposition not at all
/// (and merging characters into buckets, or saturating, only lowers it). So names whose
/// difference exceeds twice a limit are farther apart than the limit.
fn histogram_difference(left: &Histogram, right: &Histogram) -> usize {
    left.iter()
        .zip(right)
        .map(|(left, right)| usize::from(left.abs_diff(*right)))
        .sum()
}

/// Folds look-alike characters and separators: `l0dash` → `lodash`, `cross_env` → `crossenv`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|character| !matches!(character, '-' | '_' | '.'))
        .map(|character| match character {
            '0' => 'o',
            '1' => 'l',
            '3' => 'e',
            '5' => 's',
            other => other.to_ascii_lowercase(),
        })
        .collect::<String>()
        .replace("rn", "m")
}

/// The popular name `name` imitates, if any.
pub(crate) fn imitated(name: &str) -> Option<&'static str> {
    if name.is_empty() || is_popular(name) {
        return None;
    }
    let bare = name.rsplit('/').next().unwrap_or(name);
    let folded = fold(bare);
    let characters: Vec<char> = bare.chars().collect();
    let name_histogram = histogram(bare);
    for popular in POPULAR_PREPARED.iter() {
        let popular_bare = popular.bare;
        if popular_bare.len() < 5
            || name.starts_with('@') && popular.name.starts_with('@') && bare == popular_bare
        {
            continue;
        }
        if folded == popular.folded && bare != popular_bare {
            return Some(popular.name);
        }
        if name.starts_with('@') {
            continue;
        }
        let limit = if popular_bare.len() >= 9 { 2 } else { 1 };
        // Names whose lengths differ by more than `limit` are farther apart than `limit`.
        if characters.len().abs_diff(popular.characters.len()) <= limit
            && bare != popular_bare
            && histogram_difference(&name_histogram, &popular.histogram) <= 2 * limit
            && edit_distance_within(&characters, &popular.characters, limit) <= limit
        {
            return Some(popular.name);
        }
    }
    None
}

declare_rule! {
    /// ### What it does
    /// Compares the package name with the 1,000 most-downloaded npm names (shipped in
    /// `data/popular-npm-names.txt`): one edit away (two for names of nine characters or more,
    /// transpositions count as one), or equal after folding look-alikes (`0`→`o`, `1`→`l`,
    /// `rn`→`m`) and separators (`-`, `_`, `.`).
    ///
    /// ### Why is this bad?
    /// Typosquats (`ndoe-fethc`, `crossenv`, `discord.dll`) catch mistyped installs and AI
    /// hallucinated names; most 2018-2024 npm malware was published under such names.
    ///
    /// ### Examples
    /// Incorrect: a package named `lodahs` or `cross_env`.
    /// Correct: `lodash`, or an unrelated name such as `left-padder-pro`.
    Typosquatting, "typosquatting", Metadata
}

impl Rule for Typosquatting {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_package(&self, package: &PackageContext<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest else {
            return;
        };
        if let Some(popular) = imitated(&manifest.name) {
            let needle = format!("\"{}\"", manifest.name);
            out.push(package.manifest_finding(
                &Self::META,
                Severity::Medium,
                Confidence::Medium,
                &needle,
                format!(
                    "name `{}` imitates the popular package `{popular}`",
                    manifest.name
                ),
                &needle,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    #[test]
    fn test() {
        let pass = vec![
            Case::Files(vec![("package.json", r#"{"name":"lodash"}"#)]),
            Case::Files(vec![("package.json", r#"{"name":"left-padder-pro"}"#)]),
            Case::Files(vec![("package.json", r#"{"name":"@myorg/utils"}"#)]),
        ];
        let fail = vec![
            Case::Files(vec![("package.json", r#"{"name":"lodahs"}"#)]),
            Case::Files(vec![("package.json", r#"{"name":"ndoe-fethc"}"#)]),
            Case::Files(vec![("package.json", r#"{"name":"c0mmander"}"#)]),
        ];
        test_rule(Typosquatting::META.name, pass, fail);
        assert_eq!(edit_distance("node-fetch", "ndoe-fethc", 3), 2);
        assert_eq!(edit_distance("kitten", "sitting", 5), 3);
    }

    /// Plain optimal-string-alignment distance, without a limit.
    fn full_distance(left: &str, right: &str) -> usize {
        let left: Vec<char> = left.chars().collect();
        let right: Vec<char> = right.chars().collect();
        let mut table = vec![vec![0usize; right.len() + 1]; left.len() + 1];
        for (index, row) in table.iter_mut().enumerate() {
            row[0] = index;
        }
        for (other, cell) in table[0].iter_mut().enumerate() {
            *cell = other;
        }
        for index in 1..=left.len() {
            for other in 1..=right.len() {
                let cost = usize::from(left[index - 1] != right[other - 1]);
                let mut best = (table[index - 1][other] + 1)
                    .min(table[index][other - 1] + 1)
                    .min(table[index - 1][other - 1] + cost);
                if index > 1
                    && other > 1
                    && left[index - 1] == right[other - 2]
                    && left[index - 2] == right[other - 1]
                {
                    best = best.min(table[index - 2][other - 2] + 1);
                }
                table[index][other] = best;
            }
        }
        table[left.len()][right.len()]
    }

    /// The bounded distance decides `<= limit` as the full one does, exact up to the limit, and
    /// the histogram difference never exceeds twice the distance.
    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        let mut names: Vec<&str> = POPULAR.iter().take(150).copied().collect();
        names.extend([
            "lodahs",
            "ndoe-fethc",
            "c0mmander",
            "expres",
            "reactt",
            "ab",
            "",
        ]);
        for left in &names {
            for right in &names {
                let full = full_distance(left, right);
                let difference = histogram_difference(&histogram(left), &histogram(right));
                assert!(difference <= 2 * full, "{left} {right}");
                for limit in 0..=3 {
                    let bounded = edit_distance(left, right, limit);
                    if full <= limit {
                        assert_eq!(bounded, full, "{left} {right} {limit}");
                    } else {
                        assert!(bounded > limit, "{left} {right} {limit}");
                    }
                }
            }
        }
    }
}
