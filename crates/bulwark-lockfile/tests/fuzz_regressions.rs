//! Inputs that once crashed a parser under `cargo fuzz` (see `fuzz/`). Each folder under
//! `tests/fixtures/fuzz-regressions/` is named after the lockfile its inputs are read as; every
//! input must give an inventory or an error naming the file, never a panic or an abort.

use std::path::Path;

use bulwark_lockfile::{Input, extractor_for};

#[test]
fn crash_inputs_no_longer_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    let mut checked = 0;
    for folder in std::fs::read_dir(&root).unwrap() {
        let folder = folder.unwrap().path();
        let lockfile_name = folder.file_name().unwrap().to_str().unwrap().to_owned();
        let as_path = Path::new("fuzz").join(&lockfile_name);
        let extractor =
            extractor_for(&as_path).unwrap_or_else(|| panic!("no extractor for {lockfile_name}"));
        for input in std::fs::read_dir(&folder).unwrap() {
            let input = input.unwrap().path();
            let contents = std::fs::read(&input).unwrap();
            match extractor.extract(&Input {
                path: &input,
                contents: &contents,
            }) {
                Ok(lockfile) => drop(lockfile.into_inventory()),
                Err(error) => assert_eq!(error.file, input, "the error names the input"),
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 1,
        "no regression inputs found under {}",
        root.display()
    );
}
