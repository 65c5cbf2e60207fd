//! Fuzzes the reader of installed `package.json` files (`node_modules/<name>/package.json`):
//! any bytes must give a manifest or an error, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bulwark_lockfile::installed::parse_package_json(data);
});
