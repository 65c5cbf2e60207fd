//! The fixture registry's tarballs get the verdicts the end-to-end tests rely on, and match
//! their packuments' integrity.

use std::path::Path;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/registry"
    ))
}

fn verdict(file: &str) -> bulwark_analysis::Verdict {
    let bytes = std::fs::read(fixtures().join("tarballs").join(file)).unwrap();
    bulwark_analysis::analyze_tarball(&bytes, &bulwark_analysis::Options::default())
        .unwrap()
        .verdict
}

/// The written-for-the-test stealer is malicious; everything else is not.
#[test]
fn only_the_stealer_is_malicious() {
    use bulwark_analysis::Verdict::Malicious;
    assert_eq!(
        verdict("bulwark-evil-fixture__bulwark-evil-fixture-1.0.1.tgz"),
        Malicious
    );
    for file in std::fs::read_dir(fixtures().join("tarballs")).unwrap() {
        let name = file.unwrap().file_name().into_string().unwrap();
        if !name.ends_with("-1.0.1.tgz") {
            assert_ne!(verdict(&name), Malicious, "{name}");
        }
    }
}

/// Every tarball matches the integrity its packument gives.
#[test]
fn tarballs_match_their_packuments() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = doc["name"].as_str().unwrap().replace('/', "%2f");
        for manifest in doc["versions"].as_object().unwrap().values() {
            let url = manifest["dist"]["tarball"].as_str().unwrap();
            let file = url.rsplit('/').next().unwrap();
            let bytes =
                std::fs::read(fixtures().join("tarballs").join(format!("{name}__{file}"))).unwrap();
            let integrity = bulwark_proxy::integrity::of_dist(&manifest["dist"]).unwrap();
            assert!(
                bulwark_proxy::integrity::matches(&integrity, &bytes),
                "{url}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}
