//! TLS trust shared by bulwark's HTTP clients (the CLI's downloads and the registry gate's
//! upstream client).
//!
//! When the system has a CA bundle (`SSL_CERT_FILE`, or the Debian/Red Hat bundle files, the
//! file npm's `cafile` usually names) its certificates are the roots, so registries behind a
//! corporate TLS-inspecting proxy work as they do for npm; otherwise Mozilla's roots built
//! into the binary are used.
#![warn(missing_docs)]

use std::path::PathBuf;

/// CA bundles looked for, in order, after `SSL_CERT_FILE`.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The TLS configuration of every bulwark HTTP client: the system's roots when there are
/// any, else the built-in ones.
#[must_use]
pub fn tls_config() -> ureq::tls::TlsConfig {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(roots) = system_roots() {
        tls = tls.root_certs(roots);
    }
    tls.build()
}

/// The certificates of the first readable CA bundle that holds any.
fn system_roots() -> Option<ureq::tls::RootCerts> {
    let explicit = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let candidates = explicit
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from));
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
