//! Phase one of loading `bulwark.toml`: the TOML document deserialised into structs whose
//! every value keeps its byte span, and unknown keys rejected (cargo-deny's model). Nothing
//! here interprets values; [`super::validate`] does that and reports at the spans.

use toml_span::de_helpers::TableHelper;
use toml_span::value::Value;
use toml_span::{DeserError, Deserialize, Span, Spanned};

/// A string value with its span.
pub(crate) type Text = Spanned<String>;

/// The whole file.
#[derive(Default)]
pub(crate) struct RawConfig {
    pub(crate) registries: Option<RawRegistries>,
    pub(crate) sources: Option<RawSources>,
    pub(crate) integrity: Option<RawIntegrity>,
    pub(crate) resolved_url: Option<RawLevelOnly>,
    pub(crate) pinning: Option<RawPinning>,
    pub(crate) packages: Option<RawPackages>,
    pub(crate) install_scripts: Option<RawInstallScripts>,
    pub(crate) release_age: Option<RawReleaseAge>,
    pub(crate) drift: Option<RawLevelOnly>,
    pub(crate) findings: Option<RawFindings>,
    pub(crate) serve: Option<RawServe>,
}

/// `[registries]`.
pub(crate) struct RawRegistries {
    pub(crate) level: Option<Text>,
    pub(crate) allow: Option<Spanned<Vec<Text>>>,
    pub(crate) schemes: Option<Spanned<Vec<Text>>>,
}

/// `[sources]`.
pub(crate) struct RawSources {
    pub(crate) git: Option<Text>,
    pub(crate) remote_tarball: Option<Text>,
    pub(crate) file: Option<Text>,
    pub(crate) link: Option<Text>,
    pub(crate) allow: Vec<RawEntry>,
}

/// `[integrity]`.
pub(crate) struct RawIntegrity {
    pub(crate) missing: Option<Text>,
    pub(crate) weak: Option<Text>,
    pub(crate) ignore: Vec<RawEntry>,
}

/// A section with only a `level` (`[resolved-url]`, `[drift]`).
pub(crate) struct RawLevelOnly {
    pub(crate) level: Option<Text>,
}

/// `[pinning]`.
pub(crate) struct RawPinning {
    pub(crate) dependencies: Option<Text>,
    pub(crate) dev_dependencies: Option<Text>,
    pub(crate) optional_dependencies: Option<Text>,
    pub(crate) peer_dependencies: Option<Text>,
    pub(crate) ignore: Vec<RawEntry>,
}

/// `[packages]`.
pub(crate) struct RawPackages {
    pub(crate) level: Option<Text>,
    pub(crate) approved_only: Option<Spanned<bool>>,
    pub(crate) allow: Vec<RawEntry>,
    pub(crate) deny: Vec<RawEntry>,
}

/// `[install-scripts]`.
pub(crate) struct RawInstallScripts {
    pub(crate) level: Option<Text>,
    pub(crate) allow: Vec<RawEntry>,
}

/// `[release-age]`.
pub(crate) struct RawReleaseAge {
    pub(crate) level: Option<Text>,
    pub(crate) minimum: Option<Text>,
    pub(crate) unknown: Option<Text>,
    pub(crate) ignore: Vec<RawEntry>,
}

/// `[findings]`.
pub(crate) struct RawFindings {
    pub(crate) malicious: Option<Text>,
    pub(crate) suspicious: Option<Text>,
    pub(crate) vulnerability: Option<Text>,
    pub(crate) ignore: Vec<RawEntry>,
}

/// `[serve]`.
pub(crate) struct RawServe {
    pub(crate) listen: Option<Text>,
    pub(crate) cache_dir: Option<Text>,
    pub(crate) audit_log: Option<Text>,
    pub(crate) upstream: Vec<RawUpstream>,
}

/// `[[serve.upstream]]`.
pub(crate) struct RawUpstream {
    pub(crate) span: Span,
    pub(crate) url: Option<Text>,
    pub(crate) scope: Option<Text>,
    pub(crate) token_env: Option<Text>,
}

/// One allow, deny or ignore entry.
pub(crate) struct RawEntry {
    pub(crate) span: Span,
    pub(crate) name: Option<Text>,
    pub(crate) id: Option<Text>,
    pub(crate) version: Option<Text>,
    pub(crate) reason: Option<Text>,
    pub(crate) expires: Option<Text>,
}

impl<'de> Deserialize<'de> for RawConfig {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let config = Self {
            registries: table.optional("registries"),
            sources: table.optional("sources"),
            integrity: table.optional("integrity"),
            resolved_url: table.optional("resolved-url"),
            pinning: table.optional("pinning"),
            packages: table.optional("packages"),
            install_scripts: table.optional("install-scripts"),
            release_age: table.optional("release-age"),
            drift: table.optional("drift"),
            findings: table.optional("findings"),
            serve: table.optional("serve"),
        };
        table.finalize(None)?;
        Ok(config)
    }
}

impl<'de> Deserialize<'de> for RawRegistries {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            level: table.optional_s("level"),
            allow: table.optional_s("allow"),
            schemes: table.optional_s("schemes"),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawSources {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            git: table.optional_s("git"),
            remote_tarball: table.optional_s("remote-tarball"),
            file: table.optional_s("file"),
            link: table.optional_s("link"),
            allow: table.optional("allow").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawIntegrity {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            missing: table.optional_s("missing"),
            weak: table.optional_s("weak"),
            ignore: table.optional("ignore").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawLevelOnly {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            level: table.optional_s("level"),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawPinning {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            dependencies: table.optional_s("dependencies"),
            dev_dependencies: table.optional_s("dev-dependencies"),
            optional_dependencies: table.optional_s("optional-dependencies"),
            peer_dependencies: table.optional_s("peer-dependencies"),
            ignore: table.optional("ignore").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawPackages {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            level: table.optional_s("level"),
            approved_only: table.optional_s("approved-only"),
            allow: table.optional("allow").unwrap_or_default(),
            deny: table.optional("deny").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawInstallScripts {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            level: table.optional_s("level"),
            allow: table.optional("allow").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawReleaseAge {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            level: table.optional_s("level"),
            minimum: table.optional_s("minimum"),
            unknown: table.optional_s("unknown"),
            ignore: table.optional("ignore").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawFindings {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            malicious: table.optional_s("malicious"),
            suspicious: table.optional_s("suspicious"),
            vulnerability: table.optional_s("vulnerability"),
            ignore: table.optional("ignore").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawServe {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut table = TableHelper::new(value)?;
        let section = Self {
            listen: table.optional_s("listen"),
            cache_dir: table.optional_s("cache-dir"),
            audit_log: table.optional_s("audit-log"),
            upstream: table.optional("upstream").unwrap_or_default(),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawUpstream {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let mut table = TableHelper::new(value)?;
        let section = Self {
            span,
            url: table.optional_s("url"),
            scope: table.optional_s("scope"),
            token_env: table.optional_s("token-env"),
        };
        table.finalize(None)?;
        Ok(section)
    }
}

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let mut table = TableHelper::new(value)?;
        let entry = Self {
            span,
            name: table.optional_s("name"),
            id: table.optional_s("id"),
            version: table.optional_s("version"),
            reason: table.optional_s("reason"),
            expires: table.optional_s("expires"),
        };
        table.finalize(None)?;
        Ok(entry)
    }
}
