//! The baseline of `scripts/bench-serve.sh`: a plain static file server on the same HTTP
//! stack as the gate (tokio + hyper, HTTP/1.1 keep-alive), with no gating, no policy and no
//! cache bookkeeping. `GET /<path>` answers the file `<dir>/<path>` read from disk, with `/`
//! in the path mapped to `__` (so `/ms/-/ms-2.1.2.tgz` is `ms__-__ms-2.1.2.tgz`).
//!
//! Usage: `cargo run --release -p bulwark-proxy --example static_files -- DIR ADDR`

#![allow(clippy::print_stderr, reason = "an example program")]

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = Arc::new(PathBuf::from(args.next().unwrap_or_else(|| ".".into())));
    let address = args.next().unwrap_or_else(|| "127.0.0.1:4874".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("static_files: http://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let dir = Arc::clone(&dir);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let dir = Arc::clone(&dir);
                async move {
                    let name = request
                        .uri()
                        .path()
                        .trim_start_matches('/')
                        .replace('/', "__");
                    let path = dir.join(name);
                    let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
                    let response = match read {
                        Ok(Ok(bytes)) => Response::new(Full::new(Bytes::from(bytes))),
                        _ => {
                            let mut response = Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = StatusCode::NOT_FOUND;
                            response
                        }
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
