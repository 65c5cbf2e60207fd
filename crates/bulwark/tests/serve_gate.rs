//! `bulwark serve` over HTTP against the fixture registry: the npm read protocol
//! (abbreviated and full packuments, scoped names, tarballs, `HEAD`, `ETag`/`If-None-Match`,
//! gzip), the gate's decisions and their 403s, the audit log, health and metrics, `--offline`
//! and `bulwark.toml`.

#[path = "serve/fixture_registry.rs"]
mod fixture_registry;
#[path = "serve/gate.rs"]
mod gate;

use std::io::{Read as _, Write as _};
use std::path::Path;

use fixture_registry::FixtureRegistry;
use gate::{ServeProcess, get};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

fn fixture_tarball(name: &str, file: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bulwark-proxy/tests/fixtures/registry/tarballs");
    std::fs::read(dir.join(format!("{}__{file}", name.replace('/', "%2f")))).unwrap()
}

/// A GET with `Accept-Encoding: gzip` over a raw socket: status line, headers, raw body.
fn raw_gzip_get(url: &str, path: &str) -> (String, String, Vec<u8>) {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: {ABBREVIATED}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.lines().next().unwrap().to_owned();
    (
        status,
        head.to_ascii_lowercase(),
        response[split + 4..].to_vec(),
    )
}

fn audit(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn metric(url: &str, line_prefix: &str) -> u64 {
    let (_, _, body) = get(&format!("{url}/-/bulwark/metrics"), &[]);
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix(line_prefix)
                .map(|rest| rest.trim().parse().unwrap())
        })
        .unwrap_or(0)
}

/// The read protocol and every decision, then the same cache served `--offline`.
#[test]
fn serves_the_npm_protocol_through_the_gate() {
    let registry = FixtureRegistry::start(&[("ms", "2.1.3")]);
    let sandbox = tempfile::tempdir().unwrap();
    let cache = sandbox.path().join("cache");
    let audit_log = sandbox.path().join("audit.jsonl");
    let cache_arg = cache.to_str().unwrap();
    let serve = ServeProcess::start(&[
        "--upstream",
        &registry.url(),
        "--min-age",
        "3d",
        "--cache-dir",
        cache_arg,
        "--audit-log",
        audit_log.to_str().unwrap(),
    ]);
    let url = serve.url.clone();

    // Abbreviated packument: the too-new version is gone and `latest` moved back.
    let (status, headers, body) = get(&format!("{url}/ms"), &[("accept", ABBREVIATED)]);
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with(ABBREVIATED)
    );
    let corgi = json(&body);
    assert_eq!(corgi["dist-tags"]["latest"], "2.1.2");
    assert_eq!(
        corgi["versions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["2.1.2"]
    );
    assert!(corgi.get("time").is_none() && corgi["versions"]["2.1.2"].get("readme").is_none());
    assert_eq!(
        corgi["versions"]["2.1.2"]["dist"]["tarball"],
        format!("{url}/ms/-/ms-2.1.2.tgz")
    );
    assert_eq!(
        corgi["versions"]["2.1.2"]["dist"]["integrity"],
        registry.integrity("ms", "2.1.2")
    );

    // Full packument: `time` loses the version too.
    let (status, _, body) = get(&format!("{url}/ms"), &[("accept", "application/json")]);
    assert_eq!(status, 200);
    let full = json(&body);
    assert!(full["time"].get("2.1.3").is_none() && full["time"].get("2.1.2").is_some());
    assert!(full["versions"].get("2.1.3").is_none());

    // Conditional requests.
    let etag = header(&headers, "etag").unwrap().to_owned();
    let (status, _, body) = get(
        &format!("{url}/ms"),
        &[("accept", ABBREVIATED), ("if-none-match", &etag)],
    );
    assert_eq!((status, body.len()), (304, 0));

    // gzip.
    let (status_line, head, body) = raw_gzip_get(&url, "/ms");
    assert!(status_line.contains("200"), "{status_line}");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert_eq!(&body[..2], &[0x1f, 0x8b]);

    // Scoped names, both spellings, and their tarballs.
    let (status, _, encoded) = get(&format!("{url}/@types%2fms"), &[("accept", ABBREVIATED)]);
    assert_eq!(status, 200);
    let (_, _, slashed) = get(&format!("{url}/@types/ms"), &[("accept", ABBREVIATED)]);
    assert_eq!(encoded, slashed);
    let tarball = json(&encoded)["versions"]["0.7.34"]["dist"]["tarball"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(tarball, format!("{url}/@types/ms/-/ms-0.7.34.tgz"));
    let (status, headers, bytes) = get(&tarball, &[]);
    assert_eq!(status, 200);
    assert_eq!(bytes, fixture_tarball("@types/ms", "ms-0.7.34.tgz"));
    let tarball_etag = header(&headers, "etag").unwrap().to_owned();
    assert_eq!(get(&tarball, &[("if-none-match", &tarball_etag)]).0, 304);

    // HEAD.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let head = agent
        .head(&format!("{url}/ms/-/ms-2.1.2.tgz"))
        .call()
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.into_body().read_to_vec().unwrap().len(), 0);

    // A tarball served twice comes from the cache the second time.
    let hits = metric(&url, "bulwark_cache_hits_total{kind=\"tarball\"}");
    let (status, _, bytes) = get(&format!("{url}/ms/-/ms-2.1.2.tgz"), &[]);
    assert_eq!(status, 200);
    assert_eq!(bytes, fixture_tarball("ms", "ms-2.1.2.tgz"));
    assert_eq!(
        metric(&url, "bulwark_cache_hits_total{kind=\"tarball\"}"),
        hits + 1
    );

    // The too-new tarball: 403 with the reason.
    let (status, _, body) = get(&format!("{url}/ms/-/ms-2.1.3.tgz"), &[]);
    assert_eq!(status, 403);
    let error = json(&body)["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("ms@2.1.3 is blocked") && error.contains("minimum age of 72h"),
        "{error}"
    );

    // The malicious version is listed until analysed, refused, then left out.
    let (_, _, body) = get(
        &format!("{url}/bulwark-evil-fixture"),
        &[("accept", ABBREVIATED)],
    );
    assert_eq!(json(&body)["dist-tags"]["latest"], "1.0.1");
    let (status, _, body) = get(
        &format!("{url}/bulwark-evil-fixture/-/bulwark-evil-fixture-1.0.1.tgz"),
        &[],
    );
    assert_eq!(status, 403);
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("the code analysis found it malicious")
    );
    let (_, _, body) = get(
        &format!("{url}/bulwark-evil-fixture"),
        &[("accept", ABBREVIATED)],
    );
    let corgi = json(&body);
    assert_eq!(corgi["dist-tags"]["latest"], "1.0.0");
    assert!(corgi["versions"].get("1.0.1").is_none());

    // Unknown packages and paths.
    assert_eq!(get(&format!("{url}/no-such-package"), &[]).0, 404);
    assert_eq!(get(&format!("{url}/ms/-/ms-9.9.9.tgz"), &[]).0, 404);
    assert_eq!(get(&format!("{url}/../etc/passwd"), &[]).0, 404);

    // Packuments are cached within the TTL: one upstream request for `ms`.
    let upstream_ms = registry.requests().iter().filter(|p| *p == "/ms").count();
    assert_eq!(upstream_ms, 1, "{:?}", registry.requests());

    // Health and metrics.
    let (status, _, body) = get(&format!("{url}/-/bulwark/health"), &[]);
    assert_eq!((status, json(&body)["status"].as_str()), (200, Some("ok")));
    // The refused download, and the version left out of the packument built afterwards.
    assert_eq!(
        metric(&url, "bulwark_blocks_total{reason=\"malicious\"}"),
        2
    );
    assert!(metric(&url, "bulwark_blocks_total{reason=\"too-new\"}") >= 2);
    assert!(metric(&url, "bulwark_requests_total{route=\"packument\"}") >= 8);
    assert!(metric(&url, "bulwark_request_duration_seconds_count") >= 15);

    // The audit log has every refusal and the served tarballs.
    drop(serve);
    let records = audit(&audit_log);
    let find = |package: &str, version: &str, request: &str| {
        records
            .iter()
            .find(|r| r["package"] == package && r["version"] == version && r["request"] == request)
    };
    let too_new = find("ms", "2.1.3", "tarball").expect("too-new tarball audited");
    assert_eq!(
        (too_new["decision"].as_str(), too_new["reason"].as_str()),
        (Some("block"), Some("too-new"))
    );
    assert_eq!(too_new["client"], "127.0.0.1");
    assert!(too_new["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        find("bulwark-evil-fixture", "1.0.1", "tarball").unwrap()["reason"],
        "malicious"
    );
    assert_eq!(find("ms", "2.1.2", "tarball").unwrap()["decision"], "allow");
    assert_eq!(
        find("ms", "2.1.3", "packument").unwrap()["decision"],
        "block"
    );

    // Offline: the same cache, an upstream that does not answer.
    let offline = ServeProcess::start(&[
        "--offline",
        "--upstream",
        "http://127.0.0.1:9",
        "--cache-dir",
        cache_arg,
    ]);
    let (status, _, body) = get(&format!("{}/ms", offline.url), &[("accept", ABBREVIATED)]);
    assert_eq!(status, 200);
    assert_eq!(
        json(&body)["versions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["2.1.2"]
    );
    let (status, _, bytes) = get(&format!("{}/ms/-/ms-2.1.2.tgz", offline.url), &[]);
    assert_eq!(status, 200);
    assert_eq!(bytes, fixture_tarball("ms", "ms-2.1.2.tgz"));
    // Cached packument, uncached tarballs: listed out.
    let (_, _, body) = get(
        &format!("{}/bulwark-evil-fixture", offline.url),
        &[("accept", ABBREVIATED)],
    );
    assert_eq!(json(&body)["versions"].as_object().unwrap().len(), 0);
    assert_eq!(get(&format!("{}/is-number", offline.url), &[]).0, 404);
}

/// `bulwark.toml`: `[serve]` supplies the upstream and cache, `[packages] deny` and
/// `[release-age]` at deny level block versions.
#[test]
fn applies_the_policy_file() {
    let registry = FixtureRegistry::start(&[("ms", "2.1.3")]);
    let sandbox = tempfile::tempdir().unwrap();
    let policy = sandbox.path().join("bulwark.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[packages]
level = "deny"
deny = [{{ name = "is-number", version = "7.0.0", reason = "test: a denied version" }}]

[release-age]
level = "deny"
minimum = "3d"

[serve]
cache-dir = "{}"

[[serve.upstream]]
url = "{}"
"#,
            sandbox.path().join("cache").display(),
            registry.url()
        ),
    )
    .unwrap();
    let serve = ServeProcess::start(&["--config", policy.to_str().unwrap()]);
    let (status, _, body) = get(
        &format!("{}/is-number", serve.url),
        &[("accept", ABBREVIATED)],
    );
    assert_eq!(status, 200);
    let corgi = json(&body);
    assert_eq!(corgi["dist-tags"]["latest"], "6.0.0");
    assert!(corgi["versions"].get("7.0.0").is_none());
    let (status, _, body) = get(
        &format!("{}/is-number/-/is-number-7.0.0.tgz", serve.url),
        &[],
    );
    assert_eq!(status, 403);
    let error = json(&body)["error"].as_str().unwrap().to_owned();
    assert!(error.contains("bulwark.toml:"), "{error}");
    let (_, _, body) = get(&format!("{}/ms", serve.url), &[("accept", ABBREVIATED)]);
    assert!(json(&body)["versions"].get("2.1.3").is_none());
    assert!(sandbox.path().join("cache/blobs").is_dir());
}
