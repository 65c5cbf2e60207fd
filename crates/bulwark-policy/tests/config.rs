//! `bulwark.toml` loading: every kind of mistake becomes a diagnostic at its exact line and
//! column, nothing is silently ignored, and `[serve]` is parsed for the registry gate.

use std::time::{Duration, SystemTime};

use bulwark_policy::date::{Date, from_unix_seconds};
use bulwark_policy::{Check, Config, ConfigError, Diagnostic, Level, Severity};

fn today() -> Date {
    Date::parse("2026-06-01").unwrap()
}

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match Config::from_str_at(text, today()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(ConfigError::Invalid { diagnostics, .. }) => diagnostics,
        Err(other) => panic!("{other}"),
    }
}

/// (message, line, column) of each diagnostic.
fn places(text: &str) -> Vec<(String, usize, usize)> {
    diagnostics(text)
        .iter()
        .map(|d| {
            let (line, column) = d.line_column(text);
            (d.message.clone(), line, column)
        })
        .collect()
}

#[test]
fn empty_and_starter_configs_are_valid() {
    let empty = Config::from_str_at("", today()).unwrap();
    assert_eq!(empty.findings.malicious, Level::Deny);
    assert_eq!(empty.registries.schemes, ["https"]);
    assert!(empty.release_age.minimum.is_none());
    let starter = include_str!("../src/starter.toml");
    let config = Config::from_str_at(starter, today()).unwrap();
    assert!(config.warnings.is_empty());
}

#[test]
fn unknown_keys_point_at_the_key() {
    let text = "[packages]\nlevel = \"deny\"\nlevl = \"warn\"\n\n[typo-section]\nx = 1\n";
    let found = places(text);
    assert_eq!(
        found,
        [
            ("unknown key `levl`".to_owned(), 3, 1),
            ("unknown key `typo-section`".to_owned(), 5, 2)
        ]
    );
    let notes = &diagnostics(text)[0].notes;
    assert!(notes[0].contains("`approved-only`"), "{notes:?}");
}

#[test]
fn unknown_keys_inside_entries() {
    let text = "[packages]\nallow = [\n  { name = \"a\", reason = \"r\", verison = \"1\" },\n]\n";
    assert_eq!(places(text), [("unknown key `verison`".to_owned(), 3, 31)]);
}

#[test]
fn wrong_types() {
    let text = "[packages]\napproved-only = \"yes\"\n[release-age]\nminimum = 7\n";
    let found = places(text);
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].1, found[0].2), (2, 18));
    assert!(
        found[0].0.contains("expected a bool, found string"),
        "{}",
        found[0].0
    );
    assert_eq!((found[1].1, found[1].2), (4, 11));
    assert!(found[1].0.contains("found integer"), "{}", found[1].0);
}

#[test]
fn invalid_levels_ranges_globs_dates_and_durations() {
    let text = r#"[packages]
level = "error"
allow = [
  { name = "chalk", version = "^^4", reason = "r" },
  { name = "a[bc]", reason = "r" },
  { name = "b", reason = "r", expires = "2026-02-30" },
]
[release-age]
minimum = "7 fortnights"
"#;
    let found = places(text);
    let summary: Vec<(usize, usize)> = found.iter().map(|(_, l, c)| (*l, *c)).collect();
    assert_eq!(
        summary,
        [(2, 10), (4, 32), (5, 13), (6, 42), (9, 12)],
        "{found:?}"
    );
    assert!(found[0].0.contains("unknown level `error`"));
    assert!(found[1].0.contains("invalid range `^^4`"));
    assert!(found[2].0.contains("invalid glob `a[bc]`"));
    assert!(found[3].0.contains("invalid date `2026-02-30`"));
    assert!(found[4].0.contains("invalid duration `7 fortnights`"));
}

#[test]
fn entries_need_reasons() {
    let text = "[install-scripts]\nallow = [{ name = \"esbuild\", version = \"0.20.2\" }]\n";
    let found = places(text);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].0,
        "a `install-scripts.allow` entry needs a `reason`"
    );
    assert_eq!((found[0].1, found[0].2), (2, 20));
    let text = "[pinning]\nignore = [{ name = \"x\", reason = \"  \" }]\n";
    assert_eq!(places(text)[0].0, "`reason` is empty");
}

#[test]
fn bare_dates_get_a_hint() {
    let text = "[packages]\nallow = [{ name = \"x\", reason = \"r\", expires = 2026-12-31 }]\n";
    let found = diagnostics(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line_column(text).0, 2);
    assert!(
        found[0].notes[0].contains("dates are strings"),
        "{:?}",
        found[0]
    );
}

#[test]
fn toml_syntax_errors_have_places() {
    let text = "[packages]\nlevel = \"deny\n";
    let found = places(text);
    assert_eq!(found.len(), 1);
    assert!(found[0].0.starts_with("invalid TOML"), "{}", found[0].0);
    assert_eq!(found[0].1, 2);
}

#[test]
fn expired_entries_stop_applying_and_are_reported() {
    let text = r#"[packages]
approved-only = true
allow = [
  { name = "chalk", reason = "approved", expires = "2026-05-31" },
  { name = "debug", reason = "approved", expires = "2026-06-01" },
]
"#;
    let config = Config::from_str_at(text, today()).unwrap();
    assert_eq!(
        config.packages.allow.len(),
        1,
        "the expired chalk entry is dropped"
    );
    assert_eq!(config.warnings.len(), 1);
    let warning = &config.warnings[0];
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(warning.line_column(text), (4, 53));
    assert!(warning.message.contains("expired on 2026-05-31"));
    assert_eq!(
        warning.secondary.len(),
        1,
        "the reason is a secondary label"
    );
    let now = SystemTime::now();
    let decision = config.check_version("chalk", "4.1.2", None, now);
    assert_eq!(decision[0].check, Check::PackageNotApproved);
    assert!(config.check_version("debug", "4.3.4", None, now).is_empty());
    let expired = bulwark_policy::checks::expired(&config);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].check, Check::ExpiredEntry);
    assert_eq!(expired[0].place.as_ref().unwrap().line, 4);
}

#[test]
fn rendered_diagnostics_show_file_line_column_and_frame() {
    let text = "[packages]\nlevl = \"deny\"\n";
    let mut out = Vec::new();
    bulwark_policy::diagnostic::render("bulwark.toml", text, &diagnostics(text), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with("error: unknown key `levl`\n --> bulwark.toml:2:1\n"),
        "{out}"
    );
    assert!(
        out.contains("2 | levl = \"deny\"\n  | ^^^^ unknown key\n"),
        "{out}"
    );
}

#[test]
fn check_version_for_the_registry_gate() {
    let text = r#"
[packages]
deny = [{ name = "event-stream", version = "3.3.6", reason = "backdoor" }]
[release-age]
level = "deny"
minimum = "7d"
"#;
    let config = Config::from_str_at(text, today()).unwrap();
    let now = from_unix_seconds(1_000 * 86_400);
    let fresh = from_unix_seconds(999 * 86_400);
    let old = from_unix_seconds(900 * 86_400);
    let checks = |name, version, published| -> Vec<Check> {
        config
            .check_version(name, version, published, now)
            .iter()
            .map(|v| v.check)
            .collect()
    };
    assert_eq!(
        checks("event-stream", "3.3.6", Some(fresh)),
        [Check::PackageDenied, Check::ReleaseTooRecent]
    );
    assert_eq!(
        checks("chalk", "5.0.0", Some(fresh)),
        [Check::ReleaseTooRecent]
    );
    assert!(checks("chalk", "5.0.0", Some(old)).is_empty());
    assert_eq!(checks("chalk", "5.0.0", None), [Check::ReleaseAgeUnknown]);
    assert_eq!(
        config.release_age.minimum,
        Some(Duration::from_secs(7 * 86_400))
    );
}

#[test]
fn serve_section() {
    let text = r#"
[serve]
listen = "127.0.0.1:9000"
cache-dir = ".bulwark/cache"
audit-log = ".bulwark/audit.jsonl"

[[serve.upstream]]
url = "https://registry.npmjs.org/"

[[serve.upstream]]
scope = "@corp"
url = "https://npm.corp.example/repo"
token-env = "CORP_NPM_TOKEN"
"#;
    let config = Config::from_str_at(text, today()).unwrap();
    let serve = config.serve.unwrap();
    assert_eq!(serve.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(serve.upstreams.len(), 2);
    assert_eq!(serve.upstreams[0].url, "https://registry.npmjs.org");
    assert_eq!(
        serve
            .upstream_for("@corp/lib")
            .unwrap()
            .token_env
            .as_deref(),
        Some("CORP_NPM_TOKEN")
    );
    assert_eq!(
        serve.upstream_for("chalk").unwrap().url,
        "https://registry.npmjs.org"
    );
    assert_eq!(
        serve.upstream_for("@other/x").unwrap().url,
        "https://registry.npmjs.org"
    );
}

#[test]
fn serve_mistakes() {
    let text = r#"[serve]
listen = "localhost"

[[serve.upstream]]
url = "https://registry.npmjs.org"
token = "npm_secret"

[[serve.upstream]]
url = "ftp://x"

[[serve.upstream]]
url = "https://a.example"
scope = "corp"
token-env = "npm_abc-123"
"#;
    let found = places(text);
    let summary: Vec<(usize, usize)> = found.iter().map(|(_, l, c)| (*l, *c)).collect();
    assert_eq!(summary, [(6, 1)], "unknown keys stop validation: {found:?}");
    let without_token = text.replace("token = \"npm_secret\"\n", "");
    let found = places(&without_token);
    let messages: Vec<&str> = found.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "invalid listen address `localhost`",
            "invalid upstream URL `ftp://x`",
            "invalid scope `corp`"
        ]
    );
    let found = places(
        "[[serve.upstream]]\nurl = \"https://a\"\n[[serve.upstream]]\nurl = \"https://b\"\n",
    );
    assert_eq!(found[0].0, "two default upstreams (without `scope`)");
    assert_eq!(found[0].1, 3);
    let found = places("[[serve.upstream]]\nurl = \"https://a\"\ntoken-env = \"npm_abc-123\"\n");
    assert!(found[0].0.contains("not an environment variable name"));
}
