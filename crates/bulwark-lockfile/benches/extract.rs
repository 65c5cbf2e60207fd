//! Extraction speed over real lockfiles: bytes in memory → finished inventory (flags and
//! dependency paths included), one file at a time. Run with `cargo bench -p bulwark-lockfile`.
//!
//! Target (issue #2): a 10,000-entry package-lock.json or pnpm-lock.yaml in under 50 ms on
//! the 2-core machine. The large fixtures live in `benches/fixtures/` (see its README).

use std::path::{Path, PathBuf};

use bulwark_lockfile::{Input, extractor_for};

fn main() {
    divan::main();
}

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/lockfiles-real")
        .join(relative)
}

fn local(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/fixtures")
        .join(relative)
}

const FILES: &[&str] = &[
    "large/npm-v3/package-lock.json",
    "large/pnpm-v9/pnpm-lock.yaml",
    "npm-v1/npm-cli/package-lock.json",
    "npm-v2/axios/package-lock.json",
    "npm-v3/npm-cli/package-lock.json",
    "pnpm-v5/vite-5.4/pnpm-lock.yaml",
    "pnpm-v9/vue-core/pnpm-lock.yaml",
    "yarn-v1/vue-core/yarn.lock",
    "yarn-berry/jest-m6/yarn.lock",
    "bun-lock/hono-v1/bun.lock",
    "bun-lockb/hono/bun.lockb",
];

#[divan::bench(args = FILES, sample_count = 20)]
fn extract(bencher: divan::Bencher, file: &str) {
    let path = file
        .strip_prefix("large/")
        .map_or_else(|| shared(file), local);
    let Ok(contents) = std::fs::read(&path) else {
        // A missing large fixture is reported rather than silently measured as nothing.
        panic!("benchmark fixture {} is missing", path.display());
    };
    let extractor = extractor_for(&path).expect("an extractor");
    bencher
        .counter(divan::counter::BytesCount::new(contents.len()))
        .bench(|| {
            let lockfile = extractor
                .extract(&Input {
                    path: &path,
                    contents: &contents,
                })
                .expect("extracts");
            divan::black_box(lockfile.into_inventory())
        });
}
