//! Matching 20,000 inventory packages against 200,000 synthetic advisories (target: under
//! 100 ms). Run with
//! `cargo bench -p bulwark-advisory --bench matching`.
//!
//! The synthetic set mirrors OSV's npm data: mostly malicious-package reports (exact
//! `versions` lists, whole-package catch-alls, narrow ranges) over many distinct names, plus
//! vulnerabilities with `introduced`/`fixed` ranges, several per popular name. The inventory
//! draws half of its names from the advisory set, so the ranges really are evaluated.

use std::sync::LazyLock;

use bulwark_advisory::osv::OsvRecord;
use bulwark_advisory::{Matcher, PackageRef};
use divan::Bencher;

const ADVISORIES: usize = 200_000;
const PACKAGES: usize = 20_000;
const NAMES: u64 = 100_000;

/// Deterministic xorshift, so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn version(&mut self) -> String {
        format!("{}.{}.{}", self.below(5), self.below(20), self.below(30))
    }
}

fn synthetic_record(index: usize, rng: &mut Rng) -> OsvRecord {
    let name = format!("pkg-{}", rng.below(NAMES));
    let affected = match index % 10 {
        // Exact versions (most MAL reports).
        0..=4 => format!(r#""versions":["{}","{}"]"#, rng.version(), rng.version()),
        // Whole package malicious.
        5 => r#""ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]"#.to_owned(),
        // Stale catch-all next to a narrow range.
        6 => format!(
            r#""ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}}]}},
            {{"type":"SEMVER","events":[{{"introduced":"{}"}},{{"last_affected":"{}"}}]}}]"#,
            rng.version(),
            rng.version()
        ),
        // Vulnerabilities with introduced/fixed, sometimes two intervals.
        _ => format!(
            r#""ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}},
            {{"introduced":"{}"}},{{"fixed":"{}"}}]}}]"#,
            rng.version(),
            rng.version(),
            rng.version()
        ),
    };
    let id = if index % 10 < 7 {
        format!("MAL-2025-{index}")
    } else {
        format!("GHSA-synth-{index}")
    };
    let json = format!(
        r#"{{"id":"{id}","modified":"2025-01-01T00:00:00Z","summary":"synthetic",
        "severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
        "affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},{affected}}}]}}"#
    );
    OsvRecord::from_json(json.as_bytes()).expect("synthetic record is valid")
}

static FIXTURE: LazyLock<(Matcher, Vec<PackageRef>)> = LazyLock::new(|| {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut matcher = Matcher::builtin();
    for index in 0..ADVISORIES {
        matcher.add_record(&synthetic_record(index, &mut rng));
    }
    let packages = (0..PACKAGES)
        .map(|i| {
            let name = if i % 2 == 0 {
                format!("pkg-{}", rng.below(NAMES))
            } else {
                format!("other-{i}")
            };
            PackageRef::new(name, rng.version())
        })
        .collect();
    (matcher, packages)
});

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn match_20k_packages_against_200k_advisories(bencher: Bencher<'_, '_>) {
    let (matcher, packages) = &*FIXTURE;
    assert!(matcher.advisory_count() >= ADVISORIES);
    bencher.bench(|| matcher.match_packages(divan::black_box(packages)).len());
}

/// OSV JSON of `count` synthetic records, zipped like OSV's `all.zip`.
fn synthetic_zip(count: usize) -> Vec<u8> {
    use std::io::Write;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for index in 0..count {
        let record = synthetic_record(index, &mut rng);
        let json = serde_json::to_vec(&record).expect("serialise");
        writer
            .start_file(format!("{}.json", record.id), options)
            .expect("start");
        writer.write_all(&json).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

static ZIP_20K: LazyLock<(tempfile::TempDir, std::path::PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("all.zip");
    std::fs::write(&path, synthetic_zip(20_000)).expect("write zip");
    (dir, path)
});

/// Import throughput: 20,000 records from a zip into a fresh on-disk store (one
/// transaction).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn import_20k_records_from_zip(bencher: Bencher<'_, '_>) {
    let (_dir, zip) = &*ZIP_20K;
    bencher
        .with_inputs(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let store =
                bulwark_advisory::Store::open(&dir.path().join("db.sqlite3")).expect("open");
            (dir, store)
        })
        .bench_local_values(|(dir, mut store)| {
            let report = store.import_path(zip).expect("import");
            assert_eq!(report.imported, 20_000);
            drop(dir);
        });
}

/// Building the matcher from a store holding 20,000 advisories.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn matcher_from_store_20k(bencher: Bencher<'_, '_>) {
    let (_dir, zip) = &*ZIP_20K;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = bulwark_advisory::Store::open(&dir.path().join("db.sqlite3")).expect("open");
    store.import_path(zip).expect("import");
    bencher.bench_local(|| {
        Matcher::from_store(&store)
            .expect("matcher")
            .advisory_count()
    });
}
