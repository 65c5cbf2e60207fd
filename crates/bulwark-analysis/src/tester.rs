//! Test helper in the style of oxc's `Tester`: a rule's `pass` cases (true negatives) must not
//! produce a finding of that rule, its `fail` cases (true positives) must. A case is either a JS
//! snippet (analysed as `index.js` of a package without a manifest) or a list of files.

use crate::options::Options;
use crate::package::PackageFiles;
use crate::report::Report;

/// One test input.
pub(crate) enum Case {
    /// A JavaScript snippet, analysed as `index.js`.
    Js(&'static str),
    /// A whole package: (path, contents) pairs.
    Files(Vec<(&'static str, &'static str)>),
}

impl From<&'static str> for Case {
    fn from(snippet: &'static str) -> Self {
        Self::Js(snippet)
    }
}

impl From<Vec<(&'static str, &'static str)>> for Case {
    fn from(files: Vec<(&'static str, &'static str)>) -> Self {
        Self::Files(files)
    }
}

/// Runs the whole engine on a case (single-threaded, default limits).
pub(crate) fn run(case: &Case) -> Report {
    run_with(case, true)
}

/// Runs the whole engine on a case, with or without the parse prefilter.
pub(crate) fn run_with(case: &Case, prefilter: bool) -> Report {
    let package = match case {
        Case::Js(snippet) => PackageFiles::from_memory([("index.js", snippet.as_bytes().to_vec())]),
        Case::Files(files) => PackageFiles::from_memory(
            files
                .iter()
                .map(|(path, text)| (*path, text.as_bytes().to_vec())),
        ),
    };
    crate::analyze_package(
        &package,
        &Options {
            parallel: false,
            prefilter,
            ..Options::default()
        },
    )
}

/// Asserts the rule `name` stays silent on every `pass` case and fires on every `fail` case.
pub(crate) fn test_rule(name: &str, pass: Vec<Case>, fail: Vec<Case>) {
    for (index, case) in pass.iter().enumerate() {
        let report = run(case);
        let hits: Vec<_> = report
            .findings
            .iter()
            .filter(|finding| finding.rule_id == name)
            .collect();
        assert!(
            hits.is_empty(),
            "{name}: pass case #{index} produced findings: {hits:#?}"
        );
    }
    for (index, case) in fail.iter().enumerate() {
        let report = run(case);
        assert!(
            report
                .findings
                .iter()
                .any(|finding| finding.rule_id == name),
            "{name}: fail case #{index} produced no finding; got {:#?}",
            report.findings
        );
        // The parse prefilter must admit every true positive: parsing every script instead
        // gives exactly the same findings of this rule.
        let unfiltered = run_with(case, false);
        let of_rule = |report: &Report| -> Vec<crate::report::Finding> {
            report
                .findings
                .iter()
                .filter(|finding| finding.rule_id == name)
                .cloned()
                .collect()
        };
        assert_eq!(
            of_rule(&report),
            of_rule(&unfiltered),
            "{name}: fail case #{index} loses findings to the parse prefilter"
        );
    }
}
