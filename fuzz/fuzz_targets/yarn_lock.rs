//! Fuzzes the extractor for `yarn.lock`: any bytes must give an inventory or an error, never a
//! panic, a hang or unbounded memory.
#![no_main]

use std::path::Path;

use bulwark_lockfile::{Input, extractor_for};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/yarn.lock");
    let extractor = extractor_for(path).expect("an extractor for yarn.lock");
    if let Ok(lockfile) = extractor.extract(&Input { path, contents: data }) {
        let _ = lockfile.into_inventory();
    }
});
