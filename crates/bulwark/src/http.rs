//! The CLI's HTTP client: bounded downloads over HTTPS.
//!
//! Trust: when the system has a CA bundle (`SSL_CERT_FILE`, or Debian's
//! `/etc/ssl/certs/ca-certificates.crt`, the file npm's `cafile` usually names) its
//! certificates are the roots, so registries behind a corporate TLS proxy work as they do for
//! npm; otherwise Mozilla's roots built into the binary are used. Every stage has a timeout,
//! so a stalled registry ends in an error naming the URL instead of a hung command.

use std::io::Read as _;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// CA bundles looked for, in order, after `SSL_CERT_FILE`.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// How long name resolution and the TCP/TLS connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to start answering once the request is sent.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one body may take to arrive (OSV's npm `all.zip` is the largest download).
const BODY_TIMEOUT: Duration = Duration::from_secs(600);

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(roots) = system_roots() {
            tls = tls.root_certs(roots);
        }
        ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_recv_body(Some(BODY_TIMEOUT))
            .build()
            .into()
    })
}

fn system_roots() -> Option<ureq::tls::RootCerts> {
    let explicit = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    let candidates = explicit
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from));
    for path in candidates {
        let Ok(pem) = std::fs::read(&path) else {
            continue;
        };
        let certificates: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                _ => None,
            })
            .collect();
        if !certificates.is_empty() {
            return Some(ureq::tls::RootCerts::new_with_certs(&certificates));
        }
    }
    None
}

/// Downloads `url`, refusing bodies larger than `limit` bytes.
pub(crate) fn get(url: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    let response = agent()
        .get(url)
        .call()
        .with_context(|| format!("cannot download `{url}`"))?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot download `{url}`"))?;
    if bytes.len() as u64 > limit {
        bail!("`{url}` is larger than {} MiB", limit >> 20);
    }
    Ok(bytes)
}
