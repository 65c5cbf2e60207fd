//! Prints the JSON report of each package given on the command line (a directory, a `.tgz`, or
//! a single file, which is analysed as a one-file package). Used by `scripts/accuracy/`.
//!
//! ```text
//! cargo run --release -p bulwark-analysis --example analyze -- path/to/pkg path/to/x.tgz
//! ```
//! Output: one JSON object per line, `{"input": …, "report": …}` or `{"input": …, "error": …}`.

use std::io::Write as _;
use std::path::Path;

use bulwark_analysis::{Options, PackageFiles, analyze_dir, analyze_package, analyze_tarball};

fn main() {
    let options = Options::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for input in std::env::args().skip(1) {
        let path = Path::new(&input);
        let result = if path.is_dir() {
            analyze_dir(path, &options).map_err(|error| error.to_string())
        } else {
            match std::fs::read(path) {
                Ok(bytes) if input.ends_with(".tgz") || input.ends_with(".tar.gz") => {
                    analyze_tarball(&bytes, &options).map_err(|error| error.to_string())
                }
                Ok(bytes) => {
                    let name = path.file_name().map_or_else(
                        || "file".to_owned(),
                        |name| name.to_string_lossy().into_owned(),
                    );
                    Ok(analyze_package(
                        &PackageFiles::from_memory([(name, bytes)]),
                        &options,
                    ))
                }
                Err(error) => Err(error.to_string()),
            }
        };
        let line = match result {
            Ok(report) => serde_json::json!({ "input": input, "report": report }),
            Err(error) => serde_json::json!({ "input": input, "error": error }),
        };
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}
