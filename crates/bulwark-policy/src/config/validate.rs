//! Phase two of loading `bulwark.toml`: interprets the spanned raw values and reports every
//! mistake at its place. All diagnostics of a file are collected before giving up, so one run
//! shows them all.

use std::time::Duration;

use bulwark_advisory::Range;
use toml_span::{ErrorKind, Span};

use super::raw::{RawConfig, RawEntry, Text};
use super::serve::{DEFAULT_LISTEN, Serve, Upstream, is_env_name};
use super::{
    Config, Entry, ExpiredEntry, Findings, InstallScripts, IntegrityRules, Packages, Pinning,
    Registries, ReleaseAge, Sources,
};
use crate::date::{Date, parse_duration};
use crate::diagnostic::{Diagnostic, Severity};
use crate::level::Level;
use crate::pattern::NamePattern;

/// Default allowed registry hosts: npm's and yarn's aliases of it.
const DEFAULT_REGISTRIES: &[&str] = &["registry.npmjs.org", "registry.yarnpkg.com"];

/// Everything needed while validating.
struct Validator<'a> {
    text: &'a str,
    today: Date,
    diagnostics: Vec<Diagnostic>,
    expired: Vec<ExpiredEntry>,
}

/// Parses and validates `text`; `Err` carries every diagnostic (errors and warnings).
pub(super) fn parse(text: &str, today: Date) -> Result<Config, Vec<Diagnostic>> {
    let raw = match toml_span::parse(text) {
        Ok(mut value) => {
            if value.as_table().is_none() && text.trim().is_empty() {
                RawConfig::default()
            } else {
                match <RawConfig as toml_span::Deserialize>::deserialize(&mut value) {
                    Ok(raw) => raw,
                    Err(errors) => {
                        return Err(errors
                            .errors
                            .iter()
                            .flat_map(|error| toml_diagnostics(text, error))
                            .collect());
                    }
                }
            }
        }
        Err(error) => return Err(toml_diagnostics(text, &error)),
    };
    let mut validator = Validator {
        text,
        today,
        diagnostics: Vec::new(),
        expired: Vec::new(),
    };
    let config = validator.config(raw);
    if validator
        .diagnostics
        .iter()
        .any(|diagnostic| diagnostic.severity == Severity::Error)
    {
        return Err(validator.diagnostics);
    }
    Ok(Config {
        expired: validator.expired,
        warnings: validator.diagnostics,
        source_text: text.to_owned(),
        ..config
    })
}

/// Turns a toml-span error into diagnostics with readable messages.
fn toml_diagnostics(text: &str, error: &toml_span::Error) -> Vec<Diagnostic> {
    let span = range(error.span);
    match &error.kind {
        ErrorKind::UnexpectedKeys { keys, expected } => {
            let expected: Vec<String> = expected.iter().map(|key| format!("`{key}`")).collect();
            keys.iter()
                .map(|(key, span)| {
                    let mut diagnostic = Diagnostic::error(
                        format!("unknown key `{key}`"),
                        range(*span),
                        "unknown key",
                    );
                    if !expected.is_empty() {
                        diagnostic = diagnostic
                            .with_note(format!("expected one of {}", expected.join(", ")));
                    }
                    diagnostic
                })
                .collect()
        }
        ErrorKind::Wanted { expected, found } => vec![Diagnostic::error(
            format!("wrong type: expected {expected}, found {found}"),
            span,
            format!("expected {expected}"),
        )],
        ErrorKind::MissingField(field) => vec![Diagnostic::error(
            format!("missing key `{field}`"),
            span,
            format!("this table needs `{field}`"),
        )],
        ErrorKind::DuplicateKey { key, first } => vec![
            Diagnostic::error(format!("duplicate key `{key}`"), span, "duplicate key")
                .with_secondary(range(*first), "first defined here"),
        ],
        ErrorKind::DuplicateTable { name, first } => vec![
            Diagnostic::error(
                format!("table `{name}` defined twice"),
                span,
                "duplicate table",
            )
            .with_secondary(range(*first), "first defined here"),
        ],
        _ => {
            let start = span.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let before = text[line_start..start].trim_end();
            let mut diagnostic = Diagnostic::error(format!("invalid TOML: {error}"), span, "here");
            if before.trim_end_matches('=').trim_end().ends_with("expires") {
                diagnostic = diagnostic
                    .with_note("dates are strings in bulwark.toml: `expires = \"2026-12-31\"`");
            }
            vec![diagnostic]
        }
    }
}

fn range(span: Span) -> std::ops::Range<usize> {
    span.start..span.end.max(span.start)
}

impl Validator<'_> {
    fn error(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(message, range(span), label));
    }

    fn level(&mut self, text: Option<&Text>, default: Level) -> Level {
        let Some(text) = text else { return default };
        match text.value.parse() {
            Ok(level) => level,
            Err(message) => {
                self.error(message, text.span, "expected `allow`, `warn` or `deny`");
                default
            }
        }
    }

    fn config(&mut self, raw: RawConfig) -> Config {
        let registries = raw.registries.map_or_else(
            || Registries {
                level: Level::Warn,
                allow: DEFAULT_REGISTRIES.iter().map(|s| (*s).to_owned()).collect(),
                schemes: vec!["https".to_owned()],
            },
            |section| Registries {
                level: self.level(section.level.as_ref(), Level::Warn),
                allow: match section.allow {
                    Some(list) => list
                        .value
                        .into_iter()
                        .filter_map(|host| self.registry(&host))
                        .collect(),
                    None => DEFAULT_REGISTRIES.iter().map(|s| (*s).to_owned()).collect(),
                },
                schemes: match section.schemes {
                    Some(list) => list
                        .value
                        .into_iter()
                        .filter_map(|scheme| self.scheme(&scheme))
                        .collect(),
                    None => vec!["https".to_owned()],
                },
            },
        );
        let sources = match raw.sources {
            Some(section) => Sources {
                git: self.level(section.git.as_ref(), Level::Warn),
                remote_tarball: self.level(section.remote_tarball.as_ref(), Level::Warn),
                file: self.level(section.file.as_ref(), Level::Warn),
                link: self.level(section.link.as_ref(), Level::Warn),
                allow: self.entries(section.allow, "sources.allow", EntryKind::Package),
            },
            None => Sources {
                git: Level::Warn,
                remote_tarball: Level::Warn,
                file: Level::Warn,
                link: Level::Warn,
                allow: Vec::new(),
            },
        };
        let integrity = match raw.integrity {
            Some(section) => IntegrityRules {
                missing: self.level(section.missing.as_ref(), Level::Warn),
                weak: self.level(section.weak.as_ref(), Level::Warn),
                ignore: self.entries(section.ignore, "integrity.ignore", EntryKind::Package),
            },
            None => IntegrityRules {
                missing: Level::Warn,
                weak: Level::Warn,
                ignore: Vec::new(),
            },
        };
        let resolved_url = match raw.resolved_url {
            Some(section) => self.level(section.level.as_ref(), Level::Deny),
            None => Level::Deny,
        };
        let pinning = match raw.pinning {
            Some(section) => Pinning {
                dependencies: self.level(section.dependencies.as_ref(), Level::Warn),
                dev_dependencies: self.level(section.dev_dependencies.as_ref(), Level::Warn),
                optional_dependencies: self
                    .level(section.optional_dependencies.as_ref(), Level::Warn),
                peer_dependencies: self.level(section.peer_dependencies.as_ref(), Level::Allow),
                ignore: self.entries(section.ignore, "pinning.ignore", EntryKind::Package),
            },
            None => Pinning {
                dependencies: Level::Warn,
                dev_dependencies: Level::Warn,
                optional_dependencies: Level::Warn,
                peer_dependencies: Level::Allow,
                ignore: Vec::new(),
            },
        };
        let packages = match raw.packages {
            Some(section) => Packages {
                level: self.level(section.level.as_ref(), Level::Deny),
                approved_only: section.approved_only.is_some_and(|flag| flag.value),
                allow: self.entries(section.allow, "packages.allow", EntryKind::Package),
                deny: self.entries(section.deny, "packages.deny", EntryKind::Deny),
            },
            None => Packages {
                level: Level::Deny,
                approved_only: false,
                allow: Vec::new(),
                deny: Vec::new(),
            },
        };
        let install_scripts = match raw.install_scripts {
            Some(section) => InstallScripts {
                level: self.level(section.level.as_ref(), Level::Warn),
                allow: self.entries(section.allow, "install-scripts.allow", EntryKind::Pinned),
            },
            None => InstallScripts {
                level: Level::Warn,
                allow: Vec::new(),
            },
        };
        let release_age = match raw.release_age {
            Some(section) => ReleaseAge {
                level: self.level(section.level.as_ref(), Level::Warn),
                minimum: section
                    .minimum
                    .as_ref()
                    .and_then(|text| self.duration(text)),
                unknown: self.level(section.unknown.as_ref(), Level::Warn),
                ignore: self.entries(section.ignore, "release-age.ignore", EntryKind::Package),
            },
            None => ReleaseAge {
                level: Level::Warn,
                minimum: None,
                unknown: Level::Warn,
                ignore: Vec::new(),
            },
        };
        let drift = match raw.drift {
            Some(section) => self.level(section.level.as_ref(), Level::Warn),
            None => Level::Warn,
        };
        let findings = match raw.findings {
            Some(section) => Findings {
                malicious: self.level(section.malicious.as_ref(), Level::Deny),
                suspicious: self.level(section.suspicious.as_ref(), Level::Warn),
                vulnerability: self.level(section.vulnerability.as_ref(), Level::Warn),
                ignore: self.entries(section.ignore, "findings.ignore", EntryKind::Finding),
            },
            None => Findings {
                malicious: Level::Deny,
                suspicious: Level::Warn,
                vulnerability: Level::Warn,
                ignore: Vec::new(),
            },
        };
        let serve = raw.serve.map(|section| self.serve(section));
        Config {
            path: None,
            registries,
            sources,
            integrity,
            resolved_url,
            pinning,
            packages,
            install_scripts,
            release_age,
            drift,
            findings,
            serve,
            expired: Vec::new(),
            warnings: Vec::new(),
            source_text: String::new(),
        }
    }

    fn registry(&mut self, host: &Text) -> Option<String> {
        let value = host.value.trim();
        let valid = if let Some((scheme, rest)) = value.split_once("://") {
            matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.starts_with('/')
        } else {
            !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        };
        if valid {
            Some(value.trim_end_matches('/').to_owned())
        } else {
            self.error(
                format!("invalid registry `{value}`"),
                host.span,
                "expected a host (`registry.npmjs.org`) or a URL prefix (`https://npm.corp/repo`)",
            );
            None
        }
    }

    fn scheme(&mut self, scheme: &Text) -> Option<String> {
        let value = scheme.value.trim().to_ascii_lowercase();
        if matches!(value.as_str(), "https" | "http" | "ssh" | "git") {
            Some(value)
        } else {
            self.error(
                format!("unknown URL scheme `{}`", scheme.value),
                scheme.span,
                "expected `https`, `http`, `ssh` or `git`",
            );
            None
        }
    }

    fn duration(&mut self, text: &Text) -> Option<Duration> {
        match parse_duration(&text.value) {
            Ok(duration) => Some(duration),
            Err(message) => {
                self.error(message, text.span, "expected e.g. `7d` or `72h`");
                None
            }
        }
    }

    fn entries(&mut self, raw: Vec<RawEntry>, list: &str, kind: EntryKind) -> Vec<Entry> {
        raw.into_iter()
            .filter_map(|entry| self.entry(entry, list, kind))
            .collect()
    }

    fn entry(&mut self, raw: RawEntry, list: &str, kind: EntryKind) -> Option<Entry> {
        let mut ok = true;
        let name = match &raw.name {
            Some(text) => match NamePattern::parse(&text.value) {
                Ok(pattern) => Some(pattern),
                Err(message) => {
                    self.error(message, text.span, "not a package name or glob");
                    ok = false;
                    None
                }
            },
            None => None,
        };
        match kind {
            EntryKind::Finding => {
                if raw.name.is_none() && raw.id.is_none() {
                    self.error(
                        format!("a `{list}` entry needs `id` or `name`"),
                        raw.span,
                        "neither `id` nor `name`",
                    );
                    ok = false;
                }
            }
            _ => {
                if raw.name.is_none() {
                    self.error(
                        format!("a `{list}` entry needs `name`"),
                        raw.span,
                        "no `name`",
                    );
                    ok = false;
                }
                if let Some(id) = &raw.id {
                    self.error(
                        format!("`id` is only for `findings.ignore`, not `{list}`"),
                        id.span,
                        "unexpected `id`",
                    );
                    ok = false;
                }
            }
        }
        let version = match &raw.version {
            Some(text) => match Range::parse(&text.value) {
                Ok(range) => Some(range),
                Err(error) => {
                    self.error(error.to_string(), text.span, "not an npm version range");
                    ok = false;
                    None
                }
            },
            None => {
                if kind == EntryKind::Pinned {
                    self.error(
                        format!("a `{list}` entry needs `version` (pin the versions allowed to run scripts)"),
                        raw.name.as_ref().map_or(raw.span, |name| name.span),
                        "no `version`",
                    );
                    ok = false;
                }
                None
            }
        };
        let reason = match &raw.reason {
            Some(text) if !text.value.trim().is_empty() => text.value.clone(),
            Some(text) => {
                self.error("`reason` is empty", text.span, "say why this entry exists");
                ok = false;
                String::new()
            }
            None if kind == EntryKind::Deny => String::new(),
            None => {
                self.error(
                    format!("a `{list}` entry needs a `reason`"),
                    raw.name
                        .as_ref()
                        .or(raw.id.as_ref())
                        .map_or(raw.span, |t| t.span),
                    "no `reason`",
                );
                ok = false;
                String::new()
            }
        };
        let expires = match &raw.expires {
            Some(text) => match Date::parse(&text.value) {
                Ok(date) => Some((date, text.span)),
                Err(message) => {
                    self.error(message, text.span, "not a date");
                    ok = false;
                    None
                }
            },
            None => None,
        };
        if !ok {
            return None;
        }
        let anchor = raw
            .name
            .as_ref()
            .or(raw.id.as_ref())
            .map_or(raw.span, |t| t.span);
        let entry = Entry {
            name,
            id: raw.id.as_ref().map(|id| id.value.clone()),
            version,
            version_text: raw.version.as_ref().map(|v| v.value.clone()),
            reason,
            expires: expires.map(|(date, _)| date),
            line: crate::diagnostic::line_column(self.text, anchor.start).0,
        };
        if let Some((date, span)) = expires
            && date < self.today
        {
            let mut diagnostic = Diagnostic::warning(
                format!(
                    "`{list}` entry `{}` expired on {date}; it no longer applies",
                    entry.label()
                ),
                range(span),
                "expired",
            );
            if let Some(reason) = &raw.reason {
                diagnostic = diagnostic.with_secondary(range(reason.span), "reason given");
            }
            self.diagnostics.push(diagnostic);
            self.expired.push(ExpiredEntry {
                list: list.to_owned(),
                entry,
            });
            return None;
        }
        Some(entry)
    }

    fn serve(&mut self, raw: super::raw::RawServe) -> Serve {
        let listen = match &raw.listen {
            Some(text) => match text.value.parse() {
                Ok(address) => address,
                Err(_) => {
                    self.error(
                        format!("invalid listen address `{}`", text.value),
                        text.span,
                        "expected `host:port`, e.g. `127.0.0.1:4873`",
                    );
                    DEFAULT_LISTEN.parse().unwrap_or_else(|_| unreachable!())
                }
            },
            None => DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| unreachable!("the default address parses")),
        };
        let path = |text: &Option<Text>| text.as_ref().map(|t| std::path::PathBuf::from(&t.value));
        let mut upstreams: Vec<Upstream> = Vec::new();
        let mut seen: Vec<(Option<String>, Span)> = Vec::new();
        for upstream in raw.upstream {
            let Some(url) = &upstream.url else {
                self.error(
                    "a `serve.upstream` entry needs `url`",
                    upstream.span,
                    "no `url`",
                );
                continue;
            };
            let valid_url = url.value.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && !rest.is_empty()
            });
            if !valid_url {
                self.error(
                    format!("invalid upstream URL `{}`", url.value),
                    url.span,
                    "expected an http(s) URL",
                );
                continue;
            }
            if url.value.contains('@')
                && url.value.split_once("://").is_some_and(|(_, rest)| {
                    rest.split('/')
                        .next()
                        .is_some_and(|host| host.contains('@'))
                })
            {
                self.error(
                    "credentials in an upstream URL",
                    url.span,
                    "put the token in an environment variable and name it with `token-env`",
                );
                continue;
            }
            let scope = match &upstream.scope {
                Some(text) => {
                    let valid = text.value.strip_prefix('@').is_some_and(|name| {
                        !name.is_empty() && NamePattern::parse(&format!("@{name}/x")).is_ok()
                    });
                    if !valid {
                        self.error(
                            format!("invalid scope `{}`", text.value),
                            text.span,
                            "expected `@scope`",
                        );
                        continue;
                    }
                    Some(text.value.clone())
                }
                None => None,
            };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == scope) {
                let first = *first;
                self.diagnostics.push(
                    Diagnostic::error(
                        match &scope {
                            Some(scope) => format!("two upstreams for `{scope}`"),
                            None => "two default upstreams (without `scope`)".to_owned(),
                        },
                        range(upstream.span),
                        "second one",
                    )
                    .with_secondary(range(first), "first one"),
                );
                continue;
            }
            seen.push((scope.clone(), upstream.span));
            let token_env = match &upstream.token_env {
                Some(text) if is_env_name(&text.value) => Some(text.value.clone()),
                Some(text) => {
                    self.error(
                        format!("`{}` is not an environment variable name", text.value),
                        text.span,
                        "name the variable that holds the token (`NPM_TOKEN`), never the token",
                    );
                    continue;
                }
                None => None,
            };
            upstreams.push(Upstream {
                url: url.value.trim_end_matches('/').to_owned(),
                scope,
                token_env,
            });
        }
        Serve {
            listen,
            cache_dir: path(&raw.cache_dir),
            audit_log: path(&raw.audit_log),
            upstreams,
        }
    }
}

/// What an entry list requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    /// `name` and `reason` required.
    Package,
    /// `name` required, `reason` optional (deny lists).
    Deny,
    /// `name`, `version` and `reason` required (install-script allowlist).
    Pinned,
    /// `id` or `name`, and `reason`.
    Finding,
}
