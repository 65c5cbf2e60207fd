//! Store, import, update and matching, end to end through the public API.

use std::io::Write;
use std::path::{Path, PathBuf};

use bulwark_advisory::osv::AdvisoryKind;
use bulwark_advisory::{
    Error, ErrorKind, IndicatorFeed, Limits, Matcher, PackageRef, SourceKind, Store,
};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpora/osv-samples"
);

fn record(id: &str, name: &str, introduced: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2025-01-01T00:00:00Z","summary":"{id} summary",
        "affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},
        "ranges":[{{"type":"SEMVER","events":[{{"introduced":"{introduced}"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("start");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

/// Source rows without their age, which changes with the clock.
fn sources(store: &Store) -> Vec<(String, SourceKind, i64, u64, u64)> {
    store
        .status()
        .expect("status")
        .sources
        .into_iter()
        .map(|s| (s.source, s.kind, s.imported_at, s.records, s.failed))
        .collect()
}

fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested").join("advisories.sqlite3");
    let store = Store::open(&path).expect("open");
    (dir, path, store)
}

fn advisory_ids(store: &Store) -> Vec<String> {
    let matcher = Matcher::from_store(store).expect("matcher");
    let mut ids: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .flat_map(|name| matcher.match_packages(&[PackageRef::new(*name, "1.0.0")]))
        .map(|m| m.advisory_id.0)
        .collect();
    ids.sort();
    ids
}

#[test]
fn open_creates_migrates_uses_wal_and_loads_the_builtin_feed() {
    let (_dir, path, store) = temp_store();
    assert!(path.exists());
    assert_eq!(store.schema_version().expect("version"), 1);
    let status = store.status().expect("status");
    let feed = IndicatorFeed::builtin();
    assert_eq!(status.compromised_versions, feed.versions.len() as u64);
    assert_eq!(status.payload_hashes, feed.hashes.len() as u64);
    assert_eq!(status.indicator_strings, feed.strings.len() as u64);
    assert_eq!(status.advisories, 0);
    assert_eq!(status.osv_age_seconds, None);
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].kind, SourceKind::Builtin);
    drop(store);
    // WAL files appear next to the database.
    let reopened = Store::open(&path).expect("reopen");
    let again = reopened.status().expect("status");
    assert_eq!(
        again.sources[0].imported_at, status.sources[0].imported_at,
        "not reloaded"
    );
    assert_eq!(
        reopened.payload_hashes().expect("hashes").len(),
        feed.hashes.len()
    );
    assert!(
        reopened
            .indicator_strings()
            .expect("strings")
            .iter()
            .any(|s| s.kind == "domain")
    );
    let mode: String = rusqlite::Connection::open(&path)
        .and_then(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}

#[test]
fn corrupt_or_newer_databases_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, vec![0x42; 8192]).expect("write");
    let error = Store::open(&garbage).expect_err("garbage is not a database");
    assert_eq!(error.kind(), ErrorKind::Database);
    assert!(error.to_string().contains("garbage.sqlite3"), "{error}");

    let newer = dir.path().join("newer.sqlite3");
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.pragma_update(None, "user_version", 99))
        .expect("prepare");
    let error = Store::open(&newer).expect_err("newer schema");
    assert!(
        error.to_string().contains("newer than this bulwark"),
        "{error}"
    );
}

#[test]
fn default_path_is_in_the_data_dir() {
    if let Some(path) = Store::default_path() {
        assert!(
            path.ends_with("bulwark/advisories.sqlite3"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn imports_the_real_samples_directory_and_reports_the_bad_one_by_name() {
    let (_dir, _path, mut store) = temp_store();
    let report = store.import_path(Path::new(SAMPLES)).expect("import");
    assert_eq!(report.imported, 3);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .name
            .ends_with("npm__02-echo__MAL-0000-amazon-inspector-4304d63d618938cc.json"),
        "{:?}",
        report.failed
    );
    let status = store.status().expect("status");
    assert_eq!(status.advisories, 3);
    assert_eq!(status.malicious, 3);
    assert!(status.osv_age_seconds.is_some());
    let raw = store
        .advisory_json("MAL-2025-47141")
        .expect("query")
        .expect("stored");
    assert!(
        raw.contains("malicious-packages-origins"),
        "raw JSON is kept"
    );

    let matcher = Matcher::from_store(&store).expect("matcher");
    let osv_only = |name: &str, version: &str| -> Vec<String> {
        matcher
            .match_packages(&[PackageRef::new(name, version)])
            .into_iter()
            .filter(|m| m.kind == AdvisoryKind::Malicious)
            .map(|m| m.advisory_id.0)
            .collect()
    };
    // Benign versions of the hijacked package are not flagged; the bad ones are.
    for benign in ["4.1.0", "4.1.3", "3.4.1", "4.0.0"] {
        assert!(osv_only("@ctrl/tinycolor", benign).is_empty(), "{benign}");
    }
    assert_eq!(osv_only("@ctrl/tinycolor", "4.1.2"), ["MAL-2025-47141"]);
    assert_eq!(osv_only("02-echo", "0.0.7"), ["MAL-2025-191025"]);
    assert!(osv_only("02-echo", "0.0.6").is_empty());
    assert_eq!(osv_only("--hiljson", "9.9.9"), ["MAL-2022-2"]);
    // The built-in feed adds its compromised-version row for 4.1.1 too.
    let all = matcher.match_packages(&[PackageRef::new("@ctrl/tinycolor", "4.1.1")]);
    let kinds: Vec<AdvisoryKind> = all.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [AdvisoryKind::Malicious, AdvisoryKind::CompromisedVersion]
    );
}

#[test]
fn imports_single_files_and_zips_with_bad_entries() {
    let (dir, _path, mut store) = temp_store();
    let file = dir.path().join("one.json");
    std::fs::write(&file, record("GHSA-a", "a", "0", "2.0.0")).expect("write");
    assert_eq!(store.import_path(&file).expect("file").imported, 1);

    let zip = dir.path().join("all.zip");
    let b = record("GHSA-b", "b", "0.5.0", "1.0.1");
    let c = record("MAL-c", "c", "0", "9.0.0");
    std::fs::write(
        &zip,
        zip_of(
            &[
                ("GHSA-b.json", b.as_bytes()),
                ("broken.json", b"{ nope"),
                ("MAL-c.json", c.as_bytes()),
            ],
            zip::CompressionMethod::Deflated,
        ),
    )
    .expect("write zip");
    let report = store.import_path(&zip).expect("zip");
    assert_eq!(report.imported, 2);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .name
            .to_string_lossy()
            .ends_with("all.zip!broken.json")
    );
    assert_eq!(advisory_ids(&store), ["GHSA-a", "GHSA-b", "MAL-c"]);

    let missing = store
        .import_path(&dir.path().join("missing.json"))
        .expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::Io);
    let not_zip = dir.path().join("fake.zip");
    std::fs::write(&not_zip, b"not a zip at all").expect("write");
    assert_eq!(
        store.import_path(&not_zip).expect_err("bad zip").kind(),
        ErrorKind::Archive
    );
}

/// An import that fails part-way leaves the previous data exactly as it was.
#[test]
fn interrupted_import_leaves_previous_data_intact() {
    let (dir, path, store) = temp_store();
    let mut store = store.with_limits(Limits {
        max_total_bytes: 4_000,
        ..Limits::default()
    });
    let first = dir.path().join("first.json");
    std::fs::write(&first, record("GHSA-a", "a", "0", "2.0.0")).expect("write");
    store.import_path(&first).expect("first import");
    let before = store.status().expect("status");
    let before_sources = sources(&store);

    // Two valid records, then an entry that blows the archive's byte budget: fatal.
    let b = record("GHSA-b", "b", "0", "2.0.0");
    let c = record("GHSA-c", "c", "0", "2.0.0");
    let filler = format!(
        "{{\"id\":\"X\",\"modified\":\"x\",\"details\":\"{}\"}}",
        "x".repeat(5_000)
    );
    let zip = dir.path().join("bomb.zip");
    std::fs::write(
        &zip,
        zip_of(
            &[
                ("b.json", b.as_bytes()),
                ("c.json", c.as_bytes()),
                ("huge.json", filler.as_bytes()),
            ],
            zip::CompressionMethod::Deflated,
        ),
    )
    .expect("write");
    let error = store
        .import_path(&zip)
        .expect_err("cap exceeded mid-import");
    assert_eq!(error.kind(), ErrorKind::Archive);
    assert_eq!(advisory_ids(&store), ["GHSA-a"], "b and c were rolled back");
    let after = store.status().expect("status");
    assert_eq!(after.advisories, before.advisories);
    assert_eq!(sources(&store), before_sources);
    drop(store);
    // And the file on disk agrees.
    let reopened = Store::open(&path).expect("reopen");
    assert_eq!(advisory_ids(&reopened), ["GHSA-a"]);
}

#[test]
fn concurrent_readers_see_committed_data() {
    let (dir, path, mut writer) = temp_store();
    let reader = Store::open(&path).expect("second handle");
    let matcher_before = Matcher::from_store(&reader).expect("reader matcher");
    let file = dir.path().join("a.json");
    std::fs::write(&file, record("GHSA-a", "a", "0", "2.0.0")).expect("write");
    writer
        .import_path(&file)
        .expect("import while a reader is open");
    assert_eq!(
        matcher_before
            .match_packages(&[PackageRef::new("a", "1.0.0")])
            .len(),
        0
    );
    assert_eq!(advisory_ids(&reader), ["GHSA-a"]);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = Store::open(&path).expect("open in thread");
                store.status().expect("status").advisories
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().expect("join"), 1);
    }
}

#[test]
fn withdrawn_advisories_are_stored_but_never_match() {
    let (dir, _path, mut store) = temp_store();
    let file = dir.path().join("w.json");
    std::fs::write(
        &file,
        r#"{"id":"GHSA-w","modified":"x","withdrawn":"2024-02-02T00:00:00Z",
        "affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]}"#,
    )
    .expect("write");
    let report = store.import_path(&file).expect("import");
    assert_eq!((report.imported, report.withdrawn), (1, 1));
    assert_eq!(store.status().expect("status").withdrawn, 1);
    assert!(advisory_ids(&store).is_empty());
}

#[test]
fn user_ioc_lists_are_imported_and_matched() {
    let (dir, _path, mut store) = temp_store();
    let list = dir.path().join("incident.csv");
    std::fs::write(
        &list,
        "package,version,campaign\nevil,1.0.0,2026-11 test wave\n@acme/evil@2.0.0\nbad line here\n",
    )
    .expect("write");
    let report = store.import_iocs_csv(&list).expect("import");
    assert_eq!(report.imported, 2);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .name
            .to_string_lossy()
            .ends_with("incident.csv:4")
    );
    let matcher = Matcher::from_store(&store).expect("matcher");
    let found = matcher.match_packages(&[
        PackageRef::new("evil", "1.0.0"),
        PackageRef::new("@acme/evil", "2.0.0"),
        PackageRef::new("@acme/evil", "2.0.1"),
    ]);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].campaign.as_deref(), Some("2026-11 test wave"));
    assert_eq!(found[1].package.name, "@acme/evil");
    assert!(
        found[1]
            .source
            .as_deref()
            .is_some_and(|s| s.ends_with("incident.csv"))
    );
    // Re-importing the same list replaces it instead of duplicating.
    std::fs::write(&list, "evil@1.0.0\n").expect("rewrite");
    store.import_iocs_csv(&list).expect("again");
    let found = Matcher::from_store(&store)
        .expect("matcher")
        .match_packages(&[
            PackageRef::new("@acme/evil", "2.0.0"),
            PackageRef::new("evil", "1.0.0"),
        ]);
    assert_eq!(found.len(), 1);
    let mut store = store.with_limits(Limits {
        max_list_bytes: 8,
        ..Limits::default()
    });
    let error = store.import_iocs_csv(&list).expect_err("over the cap");
    assert_eq!(error.kind(), ErrorKind::Indicators);
    assert!(error.to_string().contains("cap"), "{error}");
    assert_eq!(
        store
            .import_iocs_text("x@1.0.0", "builtin")
            .expect_err("reserved")
            .kind(),
        ErrorKind::Indicators
    );
}

fn getter(bytes: Vec<u8>) -> impl Fn(&str) -> bulwark_advisory::Result<Vec<u8>> {
    move |_url| Ok(bytes.clone())
}

#[test]
fn update_swaps_in_a_verified_archive_and_records_url_and_time() {
    let (_dir, _path, mut store) = temp_store();
    let url = "https://user:s3cret@mirror.example.invalid/npm/all.zip";
    let a = record("GHSA-a", "a", "0", "2.0.0");
    let b = record("GHSA-b", "b", "0", "2.0.0");
    let first = zip_of(
        &[("GHSA-a.json", a.as_bytes()), ("GHSA-b.json", b.as_bytes())],
        zip::CompressionMethod::Deflated,
    );
    let report = store.update_from_url(url, getter(first)).expect("update");
    assert_eq!(report.imported, 2);
    assert_eq!(
        report.source,
        "https://***@mirror.example.invalid/npm/all.zip"
    );
    let status = store.status().expect("status");
    let source = status
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::OsvDownload)
        .expect("recorded");
    assert_eq!(source.source, report.source);
    assert!(!source.source.contains("s3cret"));
    assert!(source.imported_at > 1_700_000_000);
    assert!(
        store
            .status_at(source.imported_at + 3_600)
            .expect("later")
            .osv_age_seconds
            == Some(3_600)
    );
    assert_eq!(advisory_ids(&store), ["GHSA-a", "GHSA-b"]);

    // The next update replaces that URL's data: GHSA-b is gone upstream.
    let c = record("GHSA-c", "c", "0", "2.0.0");
    let second = zip_of(
        &[("GHSA-a.json", a.as_bytes()), ("GHSA-c.json", c.as_bytes())],
        zip::CompressionMethod::Deflated,
    );
    store
        .update_from_url(url, getter(second))
        .expect("second update");
    assert_eq!(advisory_ids(&store), ["GHSA-a", "GHSA-c"]);
}

#[test]
fn failed_updates_keep_the_current_data() {
    let (_dir, _path, mut store) = temp_store();
    let url = "https://example.invalid/all.zip";
    let a = record("GHSA-a", "a", "0", "2.0.0");
    store
        .update_from_url(
            url,
            getter(zip_of(
                &[("a.json", a.as_bytes())],
                zip::CompressionMethod::Deflated,
            )),
        )
        .expect("seed");
    let before_sources = sources(&store);

    // The getter fails.
    let error = store
        .update_from_url(url, |_: &str| {
            Err(Error::new(ErrorKind::Download, "connection refused"))
        })
        .expect_err("download fails");
    assert_eq!(error.kind(), ErrorKind::Download);

    // A truncated download.
    let d = record("GHSA-d", "d", "0", "2.0.0");
    let good = zip_of(
        &[("d.json", d.as_bytes())],
        zip::CompressionMethod::Deflated,
    );
    let truncated = good[..good.len() / 2].to_vec();
    assert_eq!(
        store
            .update_from_url(url, getter(truncated))
            .expect_err("truncated")
            .kind(),
        ErrorKind::Archive
    );

    // A damaged entry (CRC mismatch) after a valid one: strict mode rolls everything back.
    let b = record("GHSA-b", "b", "0", "2.0.0");
    let mut damaged = zip_of(
        &[("b.json", b.as_bytes()), ("d.json", d.as_bytes())],
        zip::CompressionMethod::Stored,
    );
    let needle = b"GHSA-d";
    let at = damaged
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("entry data");
    damaged[at] = b'X';
    assert_eq!(
        store
            .update_from_url(url, getter(damaged))
            .expect_err("crc")
            .kind(),
        ErrorKind::Archive
    );

    // An archive without one valid record.
    let junk = zip_of(
        &[("x.json", b"[]"), ("y.json", b"{")],
        zip::CompressionMethod::Deflated,
    );
    let error = store
        .update_from_url(url, getter(junk))
        .expect_err("no records");
    assert!(error.to_string().contains("no valid OSV record"), "{error}");

    assert_eq!(advisory_ids(&store), ["GHSA-a"]);
    assert_eq!(sources(&store), before_sources);
}

#[test]
fn directory_import_recurses_skips_non_json_and_does_not_follow_symlinks() {
    let (dir, _path, store) = temp_store();
    let mut store = store.with_limits(Limits {
        max_entry_bytes: 10_000,
        ..Limits::default()
    });
    let root = dir.path().join("osv");
    std::fs::create_dir_all(root.join("npm").join("deep")).expect("mkdir");
    std::fs::write(
        root.join("npm").join("a.json"),
        record("GHSA-a", "a", "0", "2.0.0"),
    )
    .expect("write");
    std::fs::write(
        root.join("npm").join("deep").join("b.json"),
        record("GHSA-b", "b", "0", "2.0.0"),
    )
    .expect("write");
    std::fs::write(root.join("README.md"), "not a record").expect("write");
    let oversized = format!(
        "{{\"id\":\"GHSA-big\",\"modified\":\"x\",\"details\":\"{}\"}}",
        "x".repeat(20_000)
    );
    std::fs::write(root.join("big.json"), oversized).expect("write");
    // A symlinked directory outside the root is not followed.
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("c.json"), record("GHSA-c", "c", "0", "2.0.0")).expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, root.join("link")).expect("symlink");

    let report = store.import_path(&root).expect("import");
    assert_eq!(report.imported, 2);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].name.ends_with("big.json"));
    assert!(
        report.failed[0].reason.contains("cap"),
        "{}",
        report.failed[0].reason
    );
    assert_eq!(advisory_ids(&store), ["GHSA-a", "GHSA-b"]);
}

#[test]
fn findings_from_the_store_carry_scores_aliases_ranges_and_fixes() {
    let (dir, _path, mut store) = temp_store();
    let file = dir.path().join("v.json");
    std::fs::write(
        &file,
        r#"{"id":"GHSA-xxxx-yyyy-zzzz","modified":"2025-01-01T00:00:00Z","aliases":["CVE-2025-1"],
        "summary":"Prototype pollution in lib",
        "severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
        "affected":[{"package":{"ecosystem":"npm","name":"lib","purl":"pkg:npm/lib"},
          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0.0-rc.1"},{"fixed":"2.3.1"}]}]}]}"#,
    )
    .expect("write");
    store.import_path(&file).expect("import");
    let matcher = Matcher::from_store(&store).expect("matcher");
    let found = matcher.match_packages(&[
        PackageRef::new("lib", "2.0.0-rc.2"),
        PackageRef::new("lib", "2.3.1"),
        PackageRef::new("lib", "1.9.9"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    let hit = &found[0];
    assert_eq!(hit.package_index, 0);
    assert_eq!(hit.kind, AdvisoryKind::Vulnerability);
    assert_eq!(hit.aliases[0].0, "CVE-2025-1");
    assert!((hit.score.expect("score") - 9.3).abs() < 1e-9);
    assert_eq!(
        hit.severity,
        Some(bulwark_advisory::osv::SeverityLevel::Critical)
    );
    assert_eq!(hit.affected_range, ">=2.0.0-rc.1 <2.3.1");
    assert_eq!(hit.fixed.as_deref(), Some("2.3.1"));
    assert_eq!(hit.summary.as_deref(), Some("Prototype pollution in lib"));
}

#[test]
fn read_only_databases_match_but_refuse_writes() {
    let (dir, path, mut store) = temp_store();
    let file = dir.path().join("a.json");
    std::fs::write(&file, record("GHSA-a", "a", "0", "2.0.0")).expect("write");
    store.import_path(&file).expect("import");
    drop(store);

    let mut read_only = Store::open_read_only(&path).expect("read-only open");
    assert_eq!(advisory_ids(&read_only), ["GHSA-a"]);
    let matcher = Matcher::from_store(&read_only).expect("matcher");
    assert_eq!(
        matcher
            .match_packages(&[PackageRef::new("@ctrl/tinycolor", "4.1.1")])
            .len(),
        1,
        "the built-in feed is there"
    );
    let error = read_only.import_path(&file).expect_err("read-only");
    assert_eq!(error.kind(), ErrorKind::Database);

    let missing = Store::open_read_only(&dir.path().join("missing.sqlite3")).expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::Database);
    let old = dir.path().join("old.sqlite3");
    rusqlite::Connection::open(&old)
        .and_then(|c| c.execute_batch("CREATE TABLE t(x)"))
        .expect("prepare");
    let error = Store::open_read_only(&old).expect_err("schema 0");
    assert!(
        error.to_string().contains("read-write to migrate"),
        "{error}"
    );
}
