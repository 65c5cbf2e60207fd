//! The rule contract. A rule is a unit struct declared with [`declare_rule!`] (which carries its
//! documentation, kebab-case name and category) and implements [`Rule`]: `run_file` is called once
//! per file with that file's context and facts, `run_package` once per package. Both default to
//! doing nothing, so each rule picks the granularity it needs. Rules never print and never fail:
//! they only push [`Finding`]s.

use crate::context::{FileContext, PackageContext};
use crate::report::Finding;

/// What kind of behaviour a rule looks for; the verdict logic reasons in these terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Code that runs when the package is installed (lifecycle scripts, `binding.gyp`).
    Install,
    /// Spawning processes and shells.
    Process,
    /// Evaluating code built at run time.
    DynamicCode,
    /// Hiding what the code does.
    Obfuscation,
    /// Reading secrets and credentials.
    Credentials,
    /// Talking to hosts, especially exfiltration endpoints.
    Network,
    /// Publishing or infecting other packages.
    Propagation,
    /// Surviving past the install: workflows, rc files, cron, editor/agent configs.
    Persistence,
    /// Downloading and running code or binaries.
    Download,
    /// Browser wallet and crypto-address theft.
    Drainer,
    /// Wiping or damaging files, usually gated on geography or locale.
    Destructive,
    /// Package metadata: names, versions, dependency sources.
    Metadata,
    /// Known indicators of compromise.
    Indicator,
}

/// Static description of a rule, produced by [`declare_rule!`].
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable kebab-case id, the `rule_id` of its findings.
    pub name: &'static str,
    /// What kind of behaviour it detects.
    pub category: Category,
    /// The rule's documentation (`### What it does` / `### Why is this bad?` / `### Examples`).
    pub documentation: &'static str,
    /// Byte strings of which a script must contain at least one for this rule to find anything
    /// in its parsed facts or string values (API and module names the rule looks for). The
    /// union over all rules, plus the module-loading and decoding tokens through which any API
    /// name can be reached, is the parse prefilter: a script containing none of them is not
    /// parsed. Empty for rules that never read facts or string values of scripts.
    pub tokens: &'static [&'static str],
}

/// A detection rule.
pub(crate) trait Rule: Sync + Send {
    /// The rule's static description.
    fn meta(&self) -> &'static RuleMeta;

    /// Called once per file.
    fn run_file(&self, _file: &FileContext<'_>, _out: &mut Vec<Finding>) {}

    /// A cheap byte-level reason to parse a script that contains none of the rule's tokens
    /// (for rules keyed on the shape of the text rather than on names). Part of the prefilter.
    fn wants_parse(&self, _bytes: &[u8]) -> bool {
        false
    }

    /// Called once per package.
    fn run_package(&self, _package: &PackageContext<'_>, _out: &mut Vec<Finding>) {}
}

/// Declares a rule's unit struct and its [`RuleMeta`] from its doc comment.
macro_rules! declare_rule {
    ($(#[doc = $doc:expr])* $name:ident, $id:literal, $category:ident $(, tokens = $tokens:expr)?) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub(crate) struct $name;

        impl $name {
            /// The rule's static description.
            pub(crate) const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                name: $id,
                category: $crate::rule::Category::$category,
                documentation: concat!($($doc, "\n"),*),
                tokens: $crate::rule::tokens_or_none(&[$($tokens)?]),
            };
        }
    };
}
pub(crate) use declare_rule;

/// The tokens given to [`declare_rule!`], or none.
pub(crate) const fn tokens_or_none(given: &[&'static [&'static str]]) -> &'static [&'static str] {
    match given.first() {
        Some(tokens) => tokens,
        None => &[],
    }
}
