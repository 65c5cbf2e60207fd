use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{ValueNeedles, matcher, values, values_may_contain};

/// (needle, severity, what) — the needle is matched case-insensitively inside string values.
const TARGETS: &[(&str, Severity, &str)] = &[
    (".ssh/id_", Severity::High, "SSH private keys"),
    (".ssh/", Severity::Medium, "the SSH directory"),
    ("id_rsa", Severity::High, "SSH private keys"),
    ("id_ed25519", Severity::High, "SSH private keys"),
    (".npmrc", Severity::Medium, "npm credentials (.npmrc)"),
    (".aws/credentials", Severity::Medium, "AWS credentials"),
    (".kube/config", Severity::Medium, "Kubernetes credentials"),
    (
        ".docker/config.json",
        Severity::Medium,
        "Docker registry credentials",
    ),
    (".git-credentials", Severity::High, "git credentials"),
    (".config/gh/hosts.yml", Severity::High, "GitHub CLI tokens"),
    ("gh auth token", Severity::High, "the GitHub CLI token"),
    (
        "trufflehog",
        Severity::High,
        "the TruffleHog secret scanner",
    ),
    ("gitleaks", Severity::Medium, "the gitleaks secret scanner"),
    (
        "169.254.169.254",
        Severity::Medium,
        "the cloud metadata service",
    ),
    (
        "metadata.google.internal",
        Severity::Medium,
        "the cloud metadata service",
    ),
    (
        "/proc/self/environ",
        Severity::High,
        "process environments in /proc",
    ),
    (
        "/environ",
        Severity::Medium,
        "process environments in /proc",
    ),
    ("/etc/shadow", Severity::High, "system password hashes"),
    ("/etc/passwd", Severity::Medium, "the system user list"),
    (
        "nkbihfbeogaeaoehlefnkodbefgpgknn",
        Severity::High,
        "the MetaMask wallet store",
    ),
    (
        "bfnaelmomeimhlpmgjnjophhpkkoljpa",
        Severity::High,
        "the Phantom wallet store",
    ),
    (
        "local extension settings",
        Severity::High,
        "browser extension (wallet) stores",
    ),
    ("exodus/exodus.wallet", Severity::High, "the Exodus wallet"),
    ("electrum/wallets", Severity::High, "Electrum wallets"),
    (
        ".config/solana/id.json",
        Severity::High,
        "the Solana CLI keypair",
    ),
    ("solana/id.json", Severity::High, "the Solana CLI keypair"),
    ("wallet.dat", Severity::High, "Bitcoin Core wallets"),
    ("login data", Severity::High, "browser saved passwords"),
    ("logins.json", Severity::High, "Firefox saved passwords"),
    ("key4.db", Severity::High, "Firefox key store"),
    ("cookies.sqlite", Severity::High, "Firefox cookies"),
    (
        "discord/local storage/leveldb",
        Severity::High,
        "Discord tokens",
    ),
    ("discordcanary", Severity::Medium, "Discord tokens"),
    ("keychain-db", Severity::High, "the macOS keychain"),
    (".bash_history", Severity::Medium, "shell history"),
    (".zsh_history", Severity::Medium, "shell history"),
    ("/proc/self/mem", Severity::High, "process memory in /proc"),
    ("/mem", Severity::Low, "process memory in /proc"),
    (
        "fromsecretkey(",
        Severity::High,
        "wallet secret keys written in source files",
    ),
    (
        "privatekey=",
        Severity::High,
        "private keys written in source files",
    ),
];

/// The needles of [`TARGETS`].
pub(crate) fn target_needles() -> Vec<&'static str> {
    TARGETS.iter().map(|(needle, _, _)| *needle).collect()
}

static TARGET_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(&target_needles()));

declare_rule! {
    /// ### What it does
    /// Finds references, in string values (so not comments), to credential stores: `.npmrc`,
    /// `~/.ssh`, `~/.aws/credentials`, `~/.kube/config`, `~/.docker/config.json`,
    /// `.git-credentials`, browser password and wallet-extension stores, `/proc/*/environ` and
    /// `/proc/*/mem`, the cloud metadata address `169.254.169.254`, `gh auth token` and secret
    /// scanners such as TruffleHog.
    ///
    /// ### Why is this bad?
    /// These files are what stealers collect; a library has little reason to name them, and the
    /// verdict treats such reads at install time, or together with exfiltration, as malicious.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa'));
    /// ```
    /// Correct:
    /// ```js
    /// fs.readFileSync(path.join(__dirname, 'config.json'));
    /// ```
    SensitiveFileAccess, "sensitive-file-access", Credentials,
    tokens = &["readFile", "writeFile", "homedir", "process", "os."]
}

impl Rule for SensitiveFileAccess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike) {
            return;
        }
        let Some(automaton) = TARGET_MATCHER.as_ref() else {
            return;
        };
        // Values are searched with `\` turned into `/`: none holds a target when no spelling of
        // one is in their haystack.
        if !values_may_contain(file, ValueNeedles::SensitiveFiles) {
            return;
        }
        for value in values(file) {
            if value.text.len() > 2000 && !value.decoded {
                continue;
            }
            let normalized: std::borrow::Cow<'_, str> =
                if memchr::memchr(b'\\', value.text.as_bytes()).is_some() {
                    value.text.replace('\\', "/").into()
                } else {
                    value.text.into()
                };
            for found in automaton.find_iter(normalized.as_ref()) {
                let Some((needle, severity, what)) = TARGETS.get(found.pattern().as_usize()) else {
                    continue;
                };
                if (*needle == "/environ" || *needle == "/mem") && !normalized.contains("/proc/") {
                    continue;
                }
                if *needle == ".ssh/" && normalized.contains("known_hosts") {
                    continue;
                }
                out.push(file.finding(
                    &Self::META,
                    *severity,
                    Confidence::Medium,
                    Some(value.offset),
                    format!("references {what}"),
                    None,
                ));
                break;
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
            "// reads ~/.ssh/id_rsa in the docs only\nconst x = 1;".into(),
            "fs.readFileSync(path.join(__dirname, 'config.json'));".into(),
        ];
        let fail = vec![
            "const fs = require('fs'); fs.readFileSync(require('path').join(require('os').homedir(), '.ssh', 'id_rsa'));".into(),
            "const t = fs.readFileSync(process.env.HOME + '/.npmrc', 'utf8');".into(),
            "require('http').get('http://169.254.169.254/latest/meta-data/iam/security-credentials/');".into(),
            "require('child_process').execSync('gh auth token');".into(),
            "const fs = require('fs'); const p = `${home}/Library/Application Support/Google/Chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn`; fs.readdirSync(p);".into(),
        ];
        test_rule(SensitiveFileAccess::META.name, pass, fail);
    }
}
