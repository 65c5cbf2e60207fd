//! A static npm registry for the gate's tests: serves the committed packuments and tarballs
//! of `crates/bulwark-proxy/tests/fixtures/registry/` on a loopback port, with optional
//! faults per tarball (truncated, stalled, wrong bytes). One thread per connection, std only.

#![allow(dead_code, reason = "each test binary uses a part of the helpers")]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a tarball request gets instead of the right bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Announces the full length, sends half, closes.
    Truncate,
    /// Sends the headers, then nothing for this long.
    Stall(Duration),
    /// Sends other bytes of the same length.
    WrongBytes,
    /// Sends the headers and half the body, then nothing for this long.
    HalfThenStall(Duration),
}

struct State {
    dir: PathBuf,
    origin: String,
    /// `(name, version)` whose `time` is served as the moment the registry started.
    too_new: Vec<(String, String)>,
    started: String,
    faults: Mutex<HashMap<String, Fault>>,
    requests: Mutex<Vec<String>>,
}

/// The running fixture registry (it lives as long as the test process).
pub(crate) struct FixtureRegistry {
    pub(crate) address: SocketAddr,
    state: Arc<State>,
}

impl FixtureRegistry {
    /// Starts the registry; `too_new` versions get "now" as their publish time.
    pub(crate) fn start(too_new: &[(&str, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(State {
            dir: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../bulwark-proxy/tests/fixtures/registry"
            )),
            origin: format!("http://{address}"),
            too_new: too_new
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            started: rfc3339(SystemTime::now()),
            faults: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
        });
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(&state, stream);
                });
            }
        });
        Self { address, state }
    }

    /// The registry's base URL.
    pub(crate) fn url(&self) -> String {
        self.state.origin.clone()
    }

    /// Makes requests for tarball `file` fail with `fault`.
    pub(crate) fn fault(&self, file: &str, fault: Fault) {
        self.state
            .faults
            .lock()
            .unwrap()
            .insert(file.to_owned(), fault);
    }

    /// Serves `file` correctly again.
    pub(crate) fn heal(&self, file: &str) {
        self.state.faults.lock().unwrap().remove(file);
    }

    /// Paths requested so far.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The integrity the fixture packument gives `name@version`.
    pub(crate) fn integrity(&self, name: &str, version: &str) -> String {
        let doc = self.packument(name);
        doc["versions"][version]["dist"]["integrity"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn packument(&self, name: &str) -> serde_json::Value {
        let path = self
            .state
            .dir
            .join(format!("{}.json", name.replace('/', "%2f")));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }
}

fn serve(state: &State, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    state.requests.lock().unwrap().push(path.clone());
    let path = path
        .split('?')
        .next()
        .unwrap_or_default()
        .replace("%2f", "/")
        .replace("%2F", "/");
    let mut out = stream;
    let name_end = path.find("/-/");
    match name_end {
        None => {
            let name = path.trim_start_matches('/');
            let file = state.dir.join(format!("{}.json", name.replace('/', "%2f")));
            let Ok(text) = std::fs::read_to_string(file) else {
                return respond(&mut out, 404, b"{\"error\":\"not found\"}");
            };
            let mut doc: serde_json::Value =
                serde_json::from_str(&text.replace("{{REGISTRY}}", &state.origin)).unwrap();
            for (too_new_name, version) in &state.too_new {
                if too_new_name == name {
                    doc["time"][version] = serde_json::Value::String(state.started.clone());
                    doc["time"]["modified"] = serde_json::Value::String(state.started.clone());
                    doc["dist-tags"]["latest"] = serde_json::Value::String(version.clone());
                }
            }
            respond(&mut out, 200, &serde_json::to_vec(&doc).unwrap())
        }
        Some(at) => {
            let name = &path[1..at];
            let file = &path[at + 3..];
            let tarball = state
                .dir
                .join("tarballs")
                .join(format!("{}__{file}", name.replace('/', "%2f")));
            let Ok(bytes) = std::fs::read(tarball) else {
                return respond(&mut out, 404, b"{\"error\":\"not found\"}");
            };
            let fault = state.faults.lock().unwrap().get(file).copied();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            match fault {
                None => respond(&mut out, 200, &bytes),
                Some(Fault::Truncate) => {
                    out.write_all(head.as_bytes())?;
                    out.write_all(&bytes[..bytes.len() / 2])?;
                    out.flush()
                }
                Some(Fault::Stall(time)) => {
                    out.write_all(head.as_bytes())?;
                    out.flush()?;
                    std::thread::sleep(time);
                    Ok(())
                }
                Some(Fault::HalfThenStall(time)) => {
                    out.write_all(head.as_bytes())?;
                    out.write_all(&bytes[..bytes.len() / 2])?;
                    out.flush()?;
                    std::thread::sleep(time);
                    Ok(())
                }
                Some(Fault::WrongBytes) => {
                    let mut wrong = bytes.clone();
                    let last = wrong.len() - 1;
                    wrong[last] ^= 0xff;
                    respond(&mut out, 200, &wrong)
                }
            }
        }
    }
}

fn respond(out: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let content_type = if status == 200 && body.first() == Some(&b'{') {
        "application/json"
    } else {
        "application/octet-stream"
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`.
fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let days = i64::try_from(seconds / 86_400).unwrap();
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
