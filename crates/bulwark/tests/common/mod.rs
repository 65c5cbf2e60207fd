//! Helpers shared by the CLI integration tests: running the binary, reading its JSON,
//! locating fixtures, writing trees and tarballs, SRI strings and a loopback file server.

// Each test binary compiles this module and uses only a subset of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use base64::Engine as _;
use sha2::Digest as _;

/// The workspace root (fixtures under `crates/*/tests`, `examples/`, `.tools/`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An official JSON schema installed by `scripts/setup-tests.sh` under `.tools/schemas`
/// (`relative` is the path inside its `node_modules`); a missing one fails the test.
pub(crate) fn official_schema(relative: &str) -> PathBuf {
    let schema = repo_root()
        .join(".tools/schemas/node_modules")
        .join(relative);
    assert!(
        schema.exists(),
        "{} is missing: run scripts/setup-tests.sh",
        schema.display()
    );
    schema
}

/// The SARIF 2.1.0 schema from `@microsoft/jest-sarif`.
pub(crate) fn sarif_schema() -> PathBuf {
    official_schema("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json")
}

/// Asserts that the JSON `document` validates against `schema`
/// (`scripts/validate-json-schema.py`, which resolves the schema's sibling references offline).
pub(crate) fn assert_validates(schema: &Path, document: &Path, what: &str) {
    let validation = Command::new("python3")
        .arg(repo_root().join("scripts/validate-json-schema.py"))
        .arg(schema)
        .arg(document)
        .output()
        .expect("run python3");
    assert!(
        validation.status.success(),
        "{what} does not validate against {}:\n{}{}",
        schema.display(),
        String::from_utf8_lossy(&validation.stdout),
        String::from_utf8_lossy(&validation.stderr)
    );
}

/// The recorded npm trust material under `../shared/fixtures/npm-trust` (tarballs,
/// attestation responses, registry keys, Sigstore trusted root).
pub(crate) fn npm_trust_fixtures() -> PathBuf {
    repo_root().join("../shared/fixtures/npm-trust")
}

/// The bytes of `path`; panics naming it.
pub(crate) fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The bulwark binary with colour off; callers add their own environment.
pub(crate) fn bulwark_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    command.env("NO_COLOR", "1");
    command
}

/// Runs `command` to completion.
pub(crate) fn run(command: &mut Command) -> Output {
    command.output().expect("run bulwark")
}

/// Runs the bulwark binary with `args` and colour off.
pub(crate) fn bulwark(args: &[&str]) -> Output {
    run(bulwark_command().args(args))
}

/// The command's stdout as JSON; panics showing stdout and stderr otherwise.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Writes `contents` to `path`, creating its parent directories.
pub(crate) fn write(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// Packs `dir` into the gzipped tarball `out` with everything under `package/`, as npm does.
pub(crate) fn pack(dir: &Path, out: &Path) {
    let status = Command::new("python3")
        .arg("-c")
        .arg("import sys, tarfile\nwith tarfile.open(sys.argv[2], 'w:gz') as t: t.add(sys.argv[1], arcname='package')")
        .arg(dir)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The `sha512-<base64>` SRI string of `bytes`.
pub(crate) fn sri_sha512(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

/// A loopback HTTP server answering GETs from a map of URL paths (scoped names may arrive
/// percent-encoded); anything else is a 404.
pub(crate) fn serve(files: HashMap<String, Vec<u8>>, listener: TcpListener) {
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let files = Arc::clone(&files);
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let path = path
                    .replace("%2f", "/")
                    .replace("%2F", "/")
                    .replace("%40", "@");
                let (status, body) = match files.get(&path) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"{\"error\":\"not found\"}".to_vec()),
                };
                let header = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
}

/// A package manager installed by `scripts/install-tools.sh` into `.tools/bin`, or `None`
/// (saying so on stderr) when it is missing so the caller can skip.
#[allow(clippy::print_stderr, reason = "a skipped test says why in its output")]
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    let path = repo_root().join(".tools/bin").join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping {name}: not installed (run scripts/install-tools.sh)");
        None
    }
}
