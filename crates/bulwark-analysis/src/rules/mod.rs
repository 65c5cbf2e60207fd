//! Every rule, one file each under `rules/<category>/<rule_name>.rs`, registered in [`RULES`].
//! This module also holds the small helpers rules share (string values of a file, multi-pattern
//! search, URL host parsing).

pub(crate) mod credentials;
pub(crate) mod destructive;
pub(crate) mod download;
pub(crate) mod drainer;
pub(crate) mod dynamic_code;
pub(crate) mod indicator;
pub(crate) mod install;
pub(crate) mod metadata;
pub(crate) mod network;
pub(crate) mod obfuscation;
pub(crate) mod persistence;
pub(crate) mod process;
pub(crate) mod propagation;

use std::sync::LazyLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, MatchKind};

use crate::context::{FileContext, FileKind};
use crate::rule::{Category, Rule};

/// All rules, in the order their findings are produced.
pub(crate) static RULES: &[&dyn Rule] = &[
    &install::lifecycle_script::LifecycleScript,
    &install::binding_gyp_command::BindingGypCommand,
    &install::remote_dependency::RemoteDependency,
    &process::process_execution::ProcessExecution,
    &process::lolbin_usage::LolbinUsage,
    &dynamic_code::decoded_code_execution::DecodedCodeExecution,
    &obfuscation::obfuscator_signature::ObfuscatorSignature,
    &obfuscation::encoded_blob::EncodedBlob,
    &credentials::env_harvesting::EnvHarvesting,
    &credentials::sensitive_file_access::SensitiveFileAccess,
    &credentials::host_fingerprinting::HostFingerprinting,
    &credentials::wallet_secret_exfiltration::WalletSecretExfiltration,
    &network::exfiltration_endpoint::ExfiltrationEndpoint,
    &network::github_api_write::GithubApiWrite,
    &propagation::npm_self_publish::NpmSelfPublish,
    &persistence::persistence_write::PersistenceWrite,
    &download::download_execute::DownloadExecute,
    &download::shipped_binary::ShippedBinary,
    &drainer::crypto_drainer::CryptoDrainer,
    &destructive::geo_gated_destructive::GeoGatedDestructive,
    &metadata::typosquatting::Typosquatting,
    &metadata::dependency_confusion::DependencyConfusion,
    &indicator::known_indicator::KnownIndicator,
    &indicator::payload_hash::PayloadHash,
];

/// Tokens through which any API name a rule looks for can be reached without being spelled
/// out: module loading (`require`, `import`, `Module`, global and computed access) and
/// decoding (`Buffer`, `atob`, char codes, `_0x` string tables). Part of the parse prefilter
/// whenever some rule reads facts.
pub(crate) const REACH_TOKENS: &[&str] = &[
    "require",
    "import",
    "Module",
    "global",
    "window[",
    "constructor",
    "Buffer",
    "atob",
    "fromCharCode",
    "unescape",
    "decodeURI",
    "_0x",
];

/// The parse prefilter's tokens: every rule's declared tokens plus [`REACH_TOKENS`], each once.
pub(crate) fn prefilter_tokens() -> Vec<&'static str> {
    let mut tokens: Vec<&'static str> = Vec::new();
    let declared = RULES
        .iter()
        .flat_map(|rule| rule.meta().tokens.iter().copied());
    let reach = REACH_TOKENS
        .iter()
        .copied()
        .filter(|_| RULES.iter().any(|rule| !rule.meta().tokens.is_empty()));
    for token in declared.chain(reach) {
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    tokens
}

/// The category of the rule with id `rule_id`.
pub(crate) fn category_of(rule_id: &str) -> Option<Category> {
    RULES
        .iter()
        .map(|rule| rule.meta())
        .find(|meta| meta.name == rule_id)
        .map(|meta| meta.category)
}

/// One string value of a file with its byte offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Value<'a> {
    /// Byte offset in the file.
    pub(crate) offset: usize,
    /// The (possibly truncated) value.
    pub(crate) text: &'a str,
    /// Produced by decoding.
    pub(crate) decoded: bool,
}

/// The string values a rule should look at: the literal/folded/decoded strings of a parsed
/// script (so comments do not count), or the lines of other text files (shell scripts, scripts
/// too large to parse or without interesting tokens).
pub(crate) fn values<'file, 'a>(file: &'file FileContext<'a>) -> &'file [Value<'a>] {
    file.values_with(|| build_values(file))
}

fn build_values<'a>(file: &FileContext<'a>) -> Vec<Value<'a>> {
    if let Some(facts) = file.js {
        return facts
            .string_values()
            .map(|(fact, value)| Value {
                offset: fact.offset as usize,
                text: value,
                decoded: fact.decoded,
            })
            .collect();
    }
    if file.uninteresting {
        return Vec::new();
    }
    match file.kind {
        FileKind::Script | FileKind::ShellLike | FileKind::BindingGyp => {
            let mut offset = 0;
            file.text
                .split_inclusive('\n')
                .filter_map(|line| {
                    let value = Value {
                        offset,
                        text: line,
                        decoded: false,
                    };
                    offset += line.len();
                    let trimmed = line.trim_start();
                    let comment = file.kind == FileKind::ShellLike
                        && (trimmed.starts_with('#')
                            || trimmed.starts_with("::")
                            || trimmed.to_ascii_lowercase().starts_with("rem "));
                    (!comment).then_some(value)
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A text holding every value of [`values`] as a substring: the string data of a parsed script,
/// the text of the other files whose lines are values, or nothing when there are no values. A
/// needle absent from it is absent from every value, so one search here can stand in for one
/// search per value.
pub(crate) fn values_haystack<'a>(file: &FileContext<'a>) -> &'a str {
    if let Some(facts) = file.js {
        return facts.string_data.as_str();
    }
    if file.uninteresting {
        return "";
    }
    match file.kind {
        FileKind::Script | FileKind::ShellLike | FileKind::BindingGyp => file.text,
        _ => "",
    }
}

/// Needle lists that rules search for case-insensitively in string values. Whether a file's
/// [`values_haystack`] holds any needle of each list is found in one pass for all of them
/// ([`FileContext::value_needles`]); a list absent from it is absent from every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueNeedles {
    /// `persistence-write` targets.
    PersistenceTargets,
    /// `sensitive-file-access` targets.
    SensitiveFiles,
    /// `lolbin-usage` tokens.
    Lolbins,
    /// `exfiltration-endpoint` endpoints.
    Endpoints,
}

impl ValueNeedles {
    const ALL: [Self; 4] = [
        Self::PersistenceTargets,
        Self::SensitiveFiles,
        Self::Lolbins,
        Self::Endpoints,
    ];

    fn needles(self) -> Vec<&'static str> {
        match self {
            Self::PersistenceTargets => persistence::persistence_write::target_needles(),
            Self::SensitiveFiles => credentials::sensitive_file_access::target_needles(),
            Self::Lolbins => process::lolbin_usage::token_needles(),
            Self::Endpoints => network::exfiltration_endpoint::ENDPOINTS.to_vec(),
        }
    }

    /// The needles as searched: the rules that turn `\` into `/` in a value before searching
    /// it find a needle there exactly when the value holds the needle with any of its `/`
    /// written `/` or `\`, so those lists are searched in every such spelling.
    fn spellings(self) -> Vec<String> {
        let needles = self.needles();
        match self {
            Self::PersistenceTargets | Self::SensitiveFiles => {
                needles.into_iter().flat_map(separator_spellings).collect()
            }
            Self::Lolbins | Self::Endpoints => needles.into_iter().map(str::to_owned).collect(),
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// `needle` with each `/` written as `/` or as `\`, every combination.
fn separator_spellings(needle: &str) -> Vec<String> {
    let mut spellings = vec![String::new()];
    for character in needle.chars() {
        if character == '/' {
            spellings = spellings
                .into_iter()
                .flat_map(|spelling| [format!("{spelling}/"), format!("{spelling}\\")])
                .collect();
        } else {
            for spelling in &mut spellings {
                spelling.push(character);
            }
        }
    }
    spellings
}

/// Every needle spelling of every [`ValueNeedles`] list once, and the lists each belongs to
/// (bits).
fn value_needles() -> (Vec<String>, Vec<u8>) {
    let mut needles: Vec<String> = Vec::new();
    let mut lists: Vec<u8> = Vec::new();
    for list in ValueNeedles::ALL {
        for needle in list.spellings() {
            let lower = needle.to_ascii_lowercase();
            match needles
                .iter()
                .position(|known| known.to_ascii_lowercase() == lower)
            {
                Some(index) => lists[index] |= list.bit(),
                None => {
                    needles.push(needle);
                    lists.push(list.bit());
                }
            }
        }
    }
    (needles, lists)
}

/// [`value_needles`]: the lists of each needle, and a DFA over the needles with standard
/// semantics, whose states report every needle ending at a position (so no needle of one list
/// can hide a needle of another).
static VALUE_NEEDLES: LazyLock<(Vec<u8>, Option<DFA>)> = LazyLock::new(|| {
    let (needles, lists) = value_needles();
    let automaton = DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(&needles)
        .ok();
    (lists, automaton)
});

/// The [`ValueNeedles`] lists (bits) with a needle in `haystack`, in one pass.
///
/// A DFA walk is one table load per byte that depends on the previous one; two walks in
/// lockstep, over the two halves of the haystack, overlap their latencies. The first half runs
/// on over the second's first bytes (one short of the longest needle), so every occurrence
/// lies wholly inside one of them.
pub(crate) fn value_needle_lists(haystack: &str) -> u8 {
    let (lists, automaton) = &*VALUE_NEEDLES;
    let Some((automaton, start)) = automaton
        .as_ref()
        .and_then(|automaton| Some((automaton, automaton.start_state(Anchored::No).ok()?)))
    else {
        // Without the automaton, nothing may be skipped.
        return u8::MAX;
    };
    let mut found = 0;
    let mut note = |state: StateID| {
        if automaton.is_match(state) {
            for index in 0..automaton.match_len(state) {
                found |= lists
                    .get(automaton.match_pattern(state, index).as_usize())
                    .copied()
                    .unwrap_or(u8::MAX);
            }
        }
    };
    let bytes = haystack.as_bytes();
    let middle = bytes.len() / 2;
    let overlap = automaton.max_pattern_len().saturating_sub(1);
    let first = &bytes[..(middle + overlap).min(bytes.len())];
    let second = &bytes[middle..];
    let common = first.len().min(second.len());
    let (mut first_state, mut second_state) = (start, start);
    for (first_byte, second_byte) in first[..common].iter().zip(&second[..common]) {
        first_state = automaton.next_state(Anchored::No, first_state, *first_byte);
        second_state = automaton.next_state(Anchored::No, second_state, *second_byte);
        if automaton.is_special(first_state) {
            note(first_state);
        }
        if automaton.is_special(second_state) {
            note(second_state);
        }
    }
    for (state, rest) in [
        (&mut first_state, &first[common..]),
        (&mut second_state, &second[common..]),
    ] {
        for byte in rest {
            *state = automaton.next_state(Anchored::No, *state, *byte);
            if automaton.is_special(*state) {
                note(*state);
            }
        }
    }
    found
}

/// Whether some value of `file` may hold a needle of `list` (case-insensitively): false only
/// when none does.
pub(crate) fn values_may_contain(file: &FileContext<'_>, list: ValueNeedles) -> bool {
    file.value_needles() & list.bit() != 0
}

/// Whether `needle` occurs in `text`: `str::contains` with the vectorised `memmem` search, for
/// whole-file texts.
pub(crate) fn text_contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Case-insensitive multi-pattern matcher over `needles` (leftmost-longest).
pub(crate) fn matcher(needles: &[&str]) -> Option<AhoCorasick> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(needles)
        .ok()
}

/// Index of the first needle found in `text`.
pub(crate) fn first_match(automaton: Option<&AhoCorasick>, text: &str) -> Option<usize> {
    automaton?
        .find(text)
        .map(|found| found.pattern().as_usize())
}

/// The host of an `http(s)://`, `ws(s)://` or `ftp://` URL inside `text`.
pub(crate) fn url_host(text: &str) -> Option<&str> {
    /// The schemes, without their `://`.
    const SCHEMES: [&[u8]; 5] = [b"https", b"http", b"wss", b"ws", b"ftp"];
    static SEPARATOR: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"://"));
    // The URL whose `scheme://` ends first: the first `://` preceded by a scheme.
    let bytes = text.as_bytes();
    let lower_start = SEPARATOR.find_iter(bytes).find(|position| {
        SCHEMES
            .iter()
            .any(|scheme| bytes[..*position].ends_with(scheme))
    })? + 3;
    let rest = &text[lower_start..];
    let end = rest
        .find(|character: char| {
            matches!(character, '/' | '?' | '#' | '"' | '\'' | ' ' | '`' | '\\')
        })
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A dotted IPv4 address that is neither private, loopback, link-local nor unspecified.
pub(crate) fn is_public_ipv4(host: &str) -> bool {
    let Ok(address) = host.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    !(address.is_private()
        || address.is_loopback()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_documentation()
        || address.octets()[0] == 0)
}

/// Hosts that packages legitimately download from (registries, code hosts, vendors' CDNs).
pub(crate) fn is_well_known_host(host: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "npmjs.org",
        "npmjs.com",
        "yarnpkg.com",
        "github.com",
        "githubusercontent.com",
        "nodejs.org",
        "googleapis.com",
        "google.com",
        "amazonaws.com",
        "microsoft.com",
        "azureedge.net",
        "mozilla.org",
        "electronjs.org",
        "unpkg.com",
        "jsdelivr.net",
        "cloudflare.com",
        "sentry.io",
        "chromium.org",
        "gitlab.com",
        "bitbucket.org",
        "python.org",
        "cdn.azul.com",
        "visualstudio.com",
        "apple.com",
        "nodesource.com",
        "mongodb.org",
        "mongodb.com",
        "prisma.sh",
        "sass-lang.com",
        "w3.org",
        "localhost",
        "example.com",
        "example.org",
        "sentry-cdn.com",
        "cypress.io",
        "playwright.azureedge.net",
    ];
    let host = host.to_ascii_lowercase();
    SUFFIXES
        .iter()
        .any(|suffix| host == *suffix || host.ends_with(&format!(".{suffix}")))
}

/// Whether any call in the file has a callee among `callees` (exact) or ending in `.method`.
pub(crate) fn has_call(file: &FileContext<'_>, predicate: impl Fn(&str) -> bool) -> bool {
    file.js
        .is_some_and(|facts| facts.calls.iter().any(|call| predicate(&call.callee)))
}

/// `child_process` functions that run commands.
pub(crate) fn is_process_call(callee: &str) -> bool {
    // Every name below starts with one of these byte pairs (most callees do not).
    if !matches!(
        callee.as_bytes(),
        [b'c', b'h' | b'r', ..]
            | [b'e', b'x', ..]
            | [b's', b'h', ..]
            | [b'B', b'u', ..]
            | [b'D', b'e', ..]
    ) {
        return false;
    }
    let callee = callee
        .strip_suffix(".call")
        .or_else(|| callee.strip_suffix(".apply"))
        .or_else(|| callee.strip_suffix(".bind"))
        .unwrap_or(callee);
    let Some(rest) = callee.strip_prefix("child_process.") else {
        return matches!(
            callee,
            "execa"
                | "execa.command"
                | "shelljs.exec"
                | "cross-spawn"
                | "execa.sync"
                | "Bun.spawn"
                | "Bun.spawnSync"
                | "Deno.run"
        );
    };
    matches!(
        rest,
        "exec" | "execSync" | "spawn" | "spawnSync" | "execFile" | "execFileSync" | "fork"
    )
}

/// Network API calls.
pub(crate) fn is_network_call(callee: &str) -> bool {
    let bytes = callee.as_bytes();
    // Every root below starts with one of these byte pairs (most callees do not).
    if !matches!(
        bytes,
        [b'h', b't', ..]
            | [b'n', b'e' | b'o', ..]
            | [b't', b'l', ..]
            | [b'd', b'g' | b'n', ..]
            | [b'f', b'e', ..]
            | [b'c', b'r', ..]
            | [b'u', b'n', ..]
            | [b'g', b'o', ..]
            | [b'r', b'e', ..]
            | [b's', b'u', ..]
            | [b'X', b'M', ..]
            | [b'W', b'e', ..]
            | [b'w', b's', ..]
            | [b'a', b'x', ..]
    ) {
        return false;
    }
    // Before the first `.` and after the last one (the whole callee when it has none).
    let root = bytes
        .iter()
        .position(|byte| *byte == b'.')
        .map_or(callee, |dot| &callee[..dot]);
    let method = || {
        bytes
            .iter()
            .rposition(|byte| *byte == b'.')
            .map_or(callee, |dot| &callee[dot + 1..])
    };
    match root {
        "http" | "https" | "http2" => matches!(method(), "get" | "request" | "connect"),
        "net" | "tls" => matches!(method(), "connect" | "createConnection" | "Socket"),
        "dgram" => matches!(method(), "createSocket" | "send"),
        "dns" => {
            let method = method();
            method.starts_with("resolve") || method == "lookup"
        }
        "fetch" | "node-fetch" | "cross-fetch" | "undici" | "got" | "request" | "needle"
        | "superagent" | "XMLHttpRequest" | "WebSocket" | "ws" => true,
        "axios" => true,
        "new:XMLHttpRequest" | "new:WebSocket" => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{
        RULES, ValueNeedles, is_network_call, is_process_call, url_host, value_needle_lists,
        value_needles,
    };

    /// Each needle of each list, in any case and inside other text, marks its list.
    #[test]
    fn value_needle_lists_mark_every_needle() {
        for list in ValueNeedles::ALL {
            for needle in list.needles() {
                let haystack = format!("x{}y", needle.to_ascii_uppercase());
                assert_ne!(value_needle_lists(&haystack) & list.bit(), 0, "{needle}");
            }
        }
        assert_eq!(value_needle_lists("module.exports = {}"), 0);
        let windows = value_needle_lists("C:\\Users\\me\\.SSH\\id_rsa");
        assert_ne!(windows & ValueNeedles::SensitiveFiles.bit(), 0);
        let windows = value_needle_lists("x\\.github\\workflows\\a.yml");
        assert_ne!(windows & ValueNeedles::PersistenceTargets.bit(), 0);
        assert_eq!(windows & ValueNeedles::Endpoints.bit(), 0);
    }

    /// The two-walk search marks the lists of every needle occurrence, wherever it sits
    /// relative to the middle of the haystack, as a plain overlapping search does.
    #[test]
    fn value_needle_lists_match_an_overlapping_search() {
        let (needles, lists) = value_needles();
        let reference = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&needles)
            .expect("needles build");
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap_or(0)
        };
        for _ in 0..3_000 {
            let mut haystack = String::new();
            for _ in 0..next() % 4 {
                haystack.push_str(&"x/ ".repeat(next() % 40));
                let needle = &needles[next() % needles.len()];
                haystack.push_str(&needle.to_ascii_uppercase()[..needle.len() - next() % 2]);
            }
            haystack.push_str(&"y".repeat(next() % 40));
            let expected = reference
                .find_overlapping_iter(&haystack)
                .fold(0, |bits, found| bits | lists[found.pattern().as_usize()]);
            assert_eq!(value_needle_lists(&haystack), expected, "{haystack}");
        }
    }

    /// The byte-pair gates of the call classifiers let every name they accept through.
    #[test]
    fn call_classifiers_accept_their_names() {
        for root in [
            "http",
            "https",
            "http2",
            "net",
            "tls",
            "dgram",
            "dns",
            "fetch",
            "node-fetch",
            "cross-fetch",
            "undici",
            "got",
            "request",
            "needle",
            "superagent",
            "XMLHttpRequest",
            "WebSocket",
            "ws",
            "axios",
            "new:XMLHttpRequest",
            "new:WebSocket",
        ] {
            let method = match root {
                "net" | "tls" => ".connect",
                "dgram" => ".send",
                "dns" => ".lookup",
                _ => ".get",
            };
            assert!(is_network_call(&format!("{root}{method}")), "{root}");
        }
        assert!(is_network_call("fetch") && is_network_call("dns.resolve4"));
        assert!(!is_network_call("console.log") && !is_network_call("n.get"));
        for name in [
            "execa",
            "execa.command",
            "shelljs.exec",
            "cross-spawn",
            "execa.sync",
            "Bun.spawn",
            "Bun.spawnSync",
            "Deno.run",
            "child_process.exec",
            "child_process.spawn.call",
            "child_process.fork",
        ] {
            assert!(is_process_call(name), "{name}");
        }
        assert!(!is_process_call("console.log") && !is_process_call("c"));
    }

    /// The earliest-ending scheme wins, whatever the order of the schemes in the text.
    #[test]
    fn url_host_takes_the_url_whose_scheme_ends_first() {
        let cases = [
            ("https://a.example/x", Some("a.example")),
            (
                "see http://b.example:8080/p and https://c.example",
                Some("b.example"),
            ),
            ("wss://user@d.example?q", Some("d.example")),
            ("ftp://e.example ws://f.example", Some("e.example")),
            ("xws://g.example", Some("g.example")),
            (
                "file:///etc/passwd then https://h.example",
                Some("h.example"),
            ),
            ("https://", None),
            ("://i.example", None),
            ("no url here", None),
        ];
        for (text, host) in cases {
            assert_eq!(url_host(text), host, "{text}");
        }
    }

    /// Rule ids are a public contract: unique, kebab-case, documented with the three sections.
    #[test]
    fn rule_ids_are_unique_kebab_case_and_documented() {
        let mut names: Vec<&str> = RULES.iter().map(|rule| rule.meta().name).collect();
        for rule in RULES {
            let meta = rule.meta();
            assert!(
                meta.name
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'-'),
                "{}",
                meta.name
            );
            for section in ["### What it does", "### Why is this bad?", "### Examples"] {
                assert!(
                    meta.documentation.contains(section),
                    "{} lacks `{section}`",
                    meta.name
                );
            }
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate rule ids");
        assert_eq!(
            names,
            [
                "binding-gyp-command",
                "crypto-drainer",
                "decoded-code-execution",
                "dependency-confusion",
                "download-execute",
                "encoded-blob",
                "env-harvesting",
                "exfiltration-endpoint",
                "geo-gated-destructive",
                "github-api-write",
                "host-fingerprinting",
                "known-indicator",
                "lifecycle-script",
                "lolbin-usage",
                "npm-self-publish",
                "obfuscator-signature",
                "payload-hash",
                "persistence-write",
                "process-execution",
                "remote-dependency",
                "sensitive-file-access",
                "shipped-binary",
                "typosquatting",
                "wallet-secret-exfiltration",
            ]
        );
    }
}
