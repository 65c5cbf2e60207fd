//! The CLI's HTTP client: bounded downloads over HTTPS.
//!
//! Trust comes from `bulwark-http` (the system CA bundle when there is one, as npm uses).
//! Every stage has a timeout, so a stalled registry ends in an error naming the URL instead
//! of a hung command.

use std::io::Read as _;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// How long name resolution and the TCP/TLS connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to start answering once the request is sent.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one body may take to arrive (OSV's npm `all.zip` is the largest download).
const BODY_TIMEOUT: Duration = Duration::from_secs(600);

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .tls_config(bulwark_http::tls_config())
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_recv_body(Some(BODY_TIMEOUT))
            .build()
            .into()
    })
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
