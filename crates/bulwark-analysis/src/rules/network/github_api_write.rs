use crate::context::{FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{text_contains, values, values_haystack};

/// Write endpoints of the GitHub API that worms use (route templates with `{owner}` are skipped).
const WRITE_ROUTES: &[(&str, &str)] = &[
    ("/user/repos", "creates repositories"),
    (
        "/actions/runners/registration-token",
        "registers self-hosted runners",
    ),
    ("/actions/secrets", "reads Actions secrets"),
    ("/contents/", "writes files through the Contents API"),
    ("/actions/workflows", "touches workflows"),
    ("/git/refs", "creates branches"),
    ("/git/trees", "writes git trees"),
    ("/forks", "forks repositories"),
];

declare_rule! {
    /// ### What it does
    /// Finds hard-coded GitHub API write routes (creating repositories, the Contents API,
    /// workflows, self-hosted runner registration, Actions secrets) in a file that also names a
    /// GitHub token (`GITHUB_TOKEN`, `ghp_`/`gho_` prefixes, `gh auth token`). Generic route
    /// tables with `{owner}` placeholders (Octokit) are ignored.
    ///
    /// ### Why is this bad?
    /// Shai-Hulud used stolen tokens to create public repositories full of secrets, push
    /// workflows that dump Actions secrets and register victims as self-hosted runners.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// fetch('https://api.github.com/user/repos', { method: 'POST', headers: { Authorization: `token ${process.env.GITHUB_TOKEN}` } });
    /// ```
    /// Correct:
    /// ```js
    /// octokit.request('POST /repos/{owner}/{repo}/issues', { owner, repo, title });
    /// ```
    GithubApiWrite, "github-api-write", Network,
    tokens = &["http", "fetch", "process"]
}

impl Rule for GithubApiWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        if !matches!(file.kind, FileKind::Script | FileKind::ShellLike)
            || !text_contains(file.text, "github")
        {
            return;
        }
        let file_values = values(file);
        let names_token_text = |text: &str| {
            text_contains(text, "GITHUB_TOKEN")
                || text_contains(text, "ghp_")
                || text_contains(text, "gho_")
                || text_contains(text, "gh auth token")
        };
        // No value names a token when their haystack does not.
        let names_token = names_token_text(values_haystack(file))
            && file_values.iter().any(|value| names_token_text(value.text))
            || file.js.is_some_and(|facts| {
                facts.members.iter().any(|member| {
                    member.path == "process.env.GITHUB_TOKEN"
                        || member.path == "process.env.GH_TOKEN"
                })
            });
        if !names_token {
            return;
        }
        for value in file_values {
            if value.text.len() > 1000 || value.text.contains('{') || value.text.contains(":owner")
            {
                continue;
            }
            if let Some((route, what)) = WRITE_ROUTES
                .iter()
                .find(|(route, _)| value.text.contains(route))
                && (value.text.contains("api.github.com")
                    || value.text.starts_with('/')
                    || value.text.starts_with("POST")
                    || value.text.starts_with("PUT"))
            {
                let severity = if matches!(
                    *route,
                    "/user/repos" | "/actions/runners/registration-token"
                ) {
                    Severity::High
                } else {
                    Severity::Medium
                };
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::Medium,
                    Some(value.offset),
                    format!("uses a GitHub token and {what} (`{route}`)"),
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
            "octokit.request('POST /repos/{owner}/{repo}/contents/{path}', { owner, repo });"
                .into(),
            "fetch('https://api.github.com/user/repos');".into(),
        ];
        let fail = vec![
            "const t = process.env.GITHUB_TOKEN; fetch('https://api.github.com/user/repos', { method: 'POST', headers: { Authorization: 'token ' + t } });".into(),
            "const token = execSync('gh auth token'); fetch('https://api.github.com/repos/' + owner + '/' + repo + '/actions/runners/registration-token', {method: 'POST'});".into(),
        ];
        test_rule(GithubApiWrite::META.name, pass, fail);
    }
}
