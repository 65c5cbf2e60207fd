//! Faults of the upstream and of the gate itself: a truncated, stalled or tampered tarball
//! is an error for the client and leaves no cache entry; a gate killed with SIGKILL in the
//! middle of a download restarts on a consistent cache.

#[path = "serve/fixture_registry.rs"]
mod fixture_registry;
#[path = "serve/gate.rs"]
mod gate;

use std::path::Path;
use std::time::Duration;

use fixture_registry::{Fault, FixtureRegistry};
use gate::{ServeProcess, get};

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Tarballs in the cache, and files half-written.
fn cache_state(cache: &Path) -> (usize, usize) {
    (
        files(&cache.join("blobs")).len(),
        files(&cache.join("tmp")).len(),
    )
}

#[test]
fn a_bad_download_is_an_error_and_leaves_the_cache_clean() {
    let registry = FixtureRegistry::start(&[]);
    let sandbox = tempfile::tempdir().unwrap();
    let cache = sandbox.path().join("cache");
    let serve = ServeProcess::start(&[
        "--upstream",
        &registry.url(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--upstream-timeout",
        "2s",
    ]);
    let file = "is-number-7.0.0.tgz";
    let url = format!("{}/is-number/-/{file}", serve.url);
    for (fault, statuses) in [
        (Fault::Truncate, &[502][..]),
        (Fault::Stall(Duration::from_secs(30)), &[502, 504][..]),
        (Fault::WrongBytes, &[502][..]),
    ] {
        registry.fault(file, fault);
        let (status, _, body) = get(&url, &[]);
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(statuses.contains(&status), "{fault:?}: {status} {error}");
        assert!(
            error["error"].as_str().unwrap().starts_with("bulwark:"),
            "{error}"
        );
        assert_eq!(
            cache_state(&cache),
            (0, 0),
            "{fault:?} left something in the cache"
        );
    }
    let (status, _, body) = get(&url, &[]);
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("does not match the integrity"),
        "the last fault is still on: {error}"
    );
    registry.heal(file);
    let (status_after, _, bytes) = get(&url, &[]);
    assert_ne!(status, 200);
    assert_eq!(status_after, 200);
    assert_eq!(cache_state(&cache), (1, 0));
    let stored = &files(&cache.join("blobs"))[0];
    assert_eq!(std::fs::read(stored).unwrap(), bytes);
}

#[test]
fn a_gate_killed_mid_download_restarts_consistent() {
    let registry = FixtureRegistry::start(&[]);
    let sandbox = tempfile::tempdir().unwrap();
    let cache = sandbox.path().join("cache");
    let cache_arg = cache.to_str().unwrap().to_owned();
    let file = "is-number-7.0.0.tgz";
    registry.fault(file, Fault::HalfThenStall(Duration::from_secs(120)));
    let mut serve =
        ServeProcess::start(&["--upstream", &registry.url(), "--cache-dir", &cache_arg]);
    // Something cached before the crash must survive it.
    assert_eq!(get(&format!("{}/ms/-/ms-2.1.2.tgz", serve.url), &[]).0, 200);
    let url = format!("{}/is-number/-/{file}", serve.url);
    let client = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        agent.get(&url).call().map(|r| r.status().as_u16()).ok()
    });
    // Wait until the gate is in the middle of the download, then kill -9 it.
    while !registry.requests().iter().any(|p| p.ends_with(file)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    serve.kill();
    assert_ne!(
        client.join().unwrap(),
        Some(200),
        "the client must not get the tarball"
    );

    registry.heal(file);
    let serve = ServeProcess::start(&["--upstream", &registry.url(), "--cache-dir", &cache_arg]);
    assert_eq!(
        cache_state(&cache),
        (1, 0),
        "only the finished download is cached"
    );
    let (status, _, bytes) = get(&format!("{}/ms/-/ms-2.1.2.tgz", serve.url), &[]);
    assert_eq!(status, 200);
    assert!(!bytes.is_empty());
    let (status, _, _) = get(&format!("{}/is-number/-/{file}", serve.url), &[]);
    assert_eq!(status, 200);
    assert_eq!(cache_state(&cache), (2, 0));
}
