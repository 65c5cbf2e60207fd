//! Real-world lockfiles from `../shared/fixtures/lockfiles-real`: bulwark's distinct
//! `name@version` set (local and workspace packages excluded) must equal the independently
//! computed `reference-packages.txt` of each.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_lockfile::{extract_file, extractor_for};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/lockfiles-real")
}

/// Extracts the one lockfile in `folder` and compares it with the reference set.
fn check(folder: &str, lockfile: &str) {
    let dir = fixtures().join(folder);
    let path = dir.join(lockfile);
    let extractor = extractor_for(&path).unwrap_or_else(|| panic!("no extractor for {path:?}"));
    let project = extract_file(extractor, &path)
        .unwrap_or_else(|error| panic!("{error}"))
        .into_inventory();
    let ours: BTreeSet<String> = project
        .packages
        .iter()
        .filter(|package| !package.source.is_local())
        .map(|package| package.id())
        .collect();
    let reference_text = std::fs::read_to_string(dir.join("reference-packages.txt")).unwrap();
    let reference: BTreeSet<String> = reference_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let missing: Vec<_> = reference.difference(&ours).take(20).collect();
    let extra: Vec<_> = ours.difference(&reference).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{folder}: {} ours vs {} reference\nmissing (first 20): {missing:#?}\nextra (first 20): {extra:#?}",
        ours.len(),
        reference.len()
    );
    for package in &project.packages {
        assert!(
            package.location.line >= 1,
            "{folder}: {} has no line",
            package.id()
        );
    }
}

#[test]
fn npm_v1_npm_cli() {
    check("npm-v1/npm-cli", "package-lock.json");
}

#[test]
fn npm_v2_axios() {
    check("npm-v2/axios", "package-lock.json");
}

#[test]
fn npm_v3_npm_cli() {
    check("npm-v3/npm-cli", "package-lock.json");
}

#[test]
fn npm_shrinkwrap_firebase_tools() {
    check("npm-shrinkwrap/firebase-tools", "npm-shrinkwrap.json");
}

#[test]
fn yarn_v1_vue_core() {
    check("yarn-v1/vue-core", "yarn.lock");
}

#[test]
fn yarn_berry_babel_m8() {
    check("yarn-berry/babel-m8", "yarn.lock");
}

#[test]
fn yarn_berry_jest_m6() {
    check("yarn-berry/jest-m6", "yarn.lock");
}

#[test]
fn pnpm_v5_vue_core_5_3() {
    check("pnpm-v5/vue-core-5.3", "pnpm-lock.yaml");
}

#[test]
fn pnpm_v5_vite_5_4() {
    check("pnpm-v5/vite-5.4", "pnpm-lock.yaml");
}

#[test]
fn pnpm_v6_vue_core() {
    check("pnpm-v6/vue-core", "pnpm-lock.yaml");
}

#[test]
fn pnpm_v7_pnpm() {
    check("pnpm-v7/pnpm", "pnpm-lock.yaml");
}

#[test]
fn pnpm_v9_vue_core() {
    check("pnpm-v9/vue-core", "pnpm-lock.yaml");
}

#[test]
fn bun_lock_hono_v1() {
    check("bun-lock/hono-v1", "bun.lock");
}

#[test]
fn bun_lockb_hono() {
    check("bun-lockb/hono", "bun.lockb");
}
