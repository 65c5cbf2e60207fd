use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// Fragments of address-matching regular expressions, one group per chain.
const ADDRESS_PATTERNS: &[(&str, &[&str])] = &[
    (
        "Ethereum",
        &[
            "0x[a-fA-F0-9]{40}",
            "0x[0-9a-fA-F]{40}",
            "0x[a-f0-9]{40}",
            "0x[0-9a-f]{40}",
        ],
    ),
    (
        "Bitcoin",
        &[
            "[13][a-km-zA-HJ-NP-Z1-9]{25,34}",
            "bc1[a-z0-9]{39,59}",
            "(bc1|[13])",
            "bc1q[a-z0-9]",
        ],
    ),
    ("Tron", &["T[1-9A-HJ-NP-Za-km-z]{33}", "T[A-Za-z1-9]{33}"]),
    (
        "Solana",
        &["[1-9A-HJ-NP-Za-km-z]{32,44}", "[1-9A-HJ-NP-Za-km-z]{43,44}"],
    ),
    (
        "Litecoin",
        &["[LM3][a-km-zA-HJ-NP-Z1-9]{26,33}", "ltc1[a-z0-9]"],
    ),
    ("Bitcoin Cash", &["bitcoincash:", "[qp][a-z0-9]{41}"]),
];

/// Every address fragment, and the index in [`ADDRESS_PATTERNS`] of its chain.
static FRAGMENTS: std::sync::LazyLock<(Vec<usize>, Option<aho_corasick::AhoCorasick>)> =
    std::sync::LazyLock::new(|| {
        let (chains, fragments): (Vec<usize>, Vec<&str>) = ADDRESS_PATTERNS
            .iter()
            .enumerate()
            .flat_map(|(index, (_, fragments))| {
                fragments.iter().map(move |fragment| (index, *fragment))
            })
            .unzip();
        (chains, aho_corasick::AhoCorasick::new(fragments).ok())
    });

/// Every address fragment contains one of these (the end of a character class with its count,
/// or a literal prefix), so a text without them names no chain; they are found far faster than
/// the fragments themselves.
const FRAGMENT_GATE: &[&str] = &[
    "]{40}",
    "]{25,34}",
    "]{39,59}",
    "]{33}",
    "]{32,44}",
    "]{43,44}",
    "]{26,33}",
    "]{41}",
    "bc1",
    "ltc1",
    "bitcoincash:",
];

static FRAGMENT_GATE_MATCHER: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(FRAGMENT_GATE)
            .ok()
    });

/// The chains (in [`ADDRESS_PATTERNS`] order) one of whose address fragments occurs in `text`,
/// found in one pass over the text.
fn chains_named(text: &str) -> Vec<&'static str> {
    if FRAGMENT_GATE_MATCHER
        .as_ref()
        .is_some_and(|gate| !gate.is_match(text))
    {
        return Vec::new();
    }
    let (chain_of, automaton) = &*FRAGMENTS;
    let mut present = vec![false; ADDRESS_PATTERNS.len()];
    if let Some(automaton) = automaton {
        for found in automaton.find_overlapping_iter(text) {
            if let Some(&chain) = chain_of.get(found.pattern().as_usize()) {
                present[chain] = true;
            }
            if present.iter().all(|seen| *seen) {
                break;
            }
        }
    }
    ADDRESS_PATTERNS
        .iter()
        .zip(present)
        .filter(|(_, present)| *present)
        .map(|((chain, _), _)| *chain)
        .collect()
}

fn is_eth_address(text: &str) -> bool {
    text.len() == 42
        && text.starts_with("0x")
        && text[2..].bytes().all(|byte| byte.is_ascii_hexdigit())
}

declare_rule! {
    /// ### What it does
    /// Finds browser crypto-drainer shapes: hooking `window.ethereum` (assignment, `Proxy`,
    /// `Object.defineProperty`), monkey-patching `fetch`/`XMLHttpRequest.prototype.open|send`,
    /// address-replacement machinery (regular expressions for several chains' addresses, long
    /// lists of wallet address literals, Levenshtein-nearest address picking). Hook plus
    /// addresses is critical; a wallet hook alone is high; a network patch alone is low.
    ///
    /// ### Why is this bad?
    /// The September 2025 chalk/debug compromise and the lottie-player drainer rewrote
    /// transaction recipients in the browser by intercepting wallet and network calls and
    /// swapping every address for the nearest-looking attacker address.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// const o = window.fetch; window.fetch = async (...a) => swapAddresses(await o(...a));
    /// ```
    /// Correct:
    /// ```js
    /// const isAddress = (a) => /^0x[0-9a-fA-F]{40}$/.test(a);
    /// ```
    CryptoDrainer, "crypto-drainer", Drainer,
    tokens = &["ethereum", "window[", "fetch", "XMLHttpRequest"]
}

impl Rule for CryptoDrainer {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if file.kind != FileKind::Script {
            return;
        }
        let text = file.text;
        let chains = chains_named(text);
        let Some(facts) = file.js else {
            if chains.len() >= 3 {
                out.push(file.finding(
                    &Self::META,
                    Severity::Medium,
                    Confidence::Low,
                    None,
                    format!("address patterns for {}", chains.join(", ")),
                    None,
                ));
            }
            return;
        };
        let mut addresses: Vec<&str> = facts
            .string_values()
            .map(|(_, value)| value)
            .filter(|value| is_eth_address(value))
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        let wallet_hook = facts
            .assignments
            .iter()
            .find(|assignment| {
                assignment.target.starts_with("ethereum.") || assignment.target == "ethereum"
            })
            .map(|assignment| assignment.offset)
            .or_else(|| {
                facts
                    .calls
                    .iter()
                    .find(|call| {
                        (call.callee == "new:Proxy" || call.callee == "Proxy")
                            && call
                                .arguments
                                .first()
                                .and_then(|argument| argument.path.as_deref())
                                .is_some_and(|path| path.starts_with("ethereum"))
                            || call.callee == "Object.defineProperty" && {
                                let target = call
                                    .arguments
                                    .first()
                                    .and_then(|argument| argument.path.as_deref())
                                    .unwrap_or_default();
                                let name = call
                                    .arguments
                                    .get(1)
                                    .and_then(|argument| argument.constant.as_deref())
                                    .unwrap_or_default();
                                matches!(target, "window" | "globalThis" | "self" | "global")
                                    && name == "ethereum"
                                    || target.starts_with("ethereum")
                                        && matches!(name, "request" | "send" | "sendAsync")
                            }
                    })
                    .map(|call| call.offset)
            });
        let network_patch = facts.assignments.iter().find(|assignment| {
            matches!(
                assignment.target.as_str(),
                "fetch" | "XMLHttpRequest.prototype.open" | "XMLHttpRequest.prototype.send"
            )
        });
        let levenshtein = || {
            crate::rules::text_contains(text, "levenshtein")
                || crate::rules::text_contains(text, "Levenshtein")
        };
        let replacement = chains.len() >= 3
            || addresses.len() >= 10
            || (chains.len() >= 2 || addresses.len() >= 3) && levenshtein();
        let hook_offset = wallet_hook.or(network_patch.map(|assignment| assignment.offset));
        if let Some(offset) = hook_offset
            && replacement
        {
            out.push(file.finding(&Self::META, Severity::Critical, Confidence::High, Some(offset as usize), format!("intercepts wallet/network calls and carries address-replacement logic ({} chains, {} address literals)", chains.len(), addresses.len()), None));
            return;
        }
        if let Some(offset) = wallet_hook {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(offset as usize),
                "hooks `window.ethereum`".to_owned(),
                None,
            ));
        } else if let Some(patch) = network_patch {
            out.push(file.finding(
                &Self::META,
                Severity::Low,
                Confidence::Low,
                Some(patch.offset as usize),
                format!("monkey-patches `{}`", patch.target),
                None,
            ));
        }
        if replacement {
            out.push(file.finding(
                &Self::META,
                Severity::Medium,
                Confidence::Low,
                None,
                format!(
                    "address patterns for {} chains and {} address literals",
                    chains.len(),
                    addresses.len()
                ),
                None,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        let pass = vec![
            "const isAddress = (a) => /^0x[0-9a-fA-F]{40}$/.test(a);".into(),
            "const provider = window.ethereum; provider.request({ method: 'eth_accounts' });"
                .into(),
        ];
        let fail = vec![
            "const o = window.fetch; window.fetch = async (...a) => o(...a); const re = [/0x[a-fA-F0-9]{40}/g, /(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}/g, /T[1-9A-HJ-NP-Za-km-z]{33}/g, /[1-9A-HJ-NP-Za-km-z]{32,44}/g];".into(),
            "window.ethereum.request = async function (args) { return orig(args); };".into(),
            "Object.defineProperty(window, 'ethereum', { get() { return proxy; } });".into(),
        ];
        test_rule(CryptoDrainer::META.name, pass, fail);
    }

    /// The gate may only skip texts that name no chain: every fragment holds a gate needle.
    #[test]
    fn every_fragment_passes_the_gate() {
        for (chain, fragments) in ADDRESS_PATTERNS {
            for fragment in *fragments {
                assert!(
                    FRAGMENT_GATE.iter().any(|needle| fragment.contains(needle)),
                    "{chain}: `{fragment}`"
                );
                assert!(chains_named(fragment).contains(chain), "{fragment}");
            }
        }
    }
}
