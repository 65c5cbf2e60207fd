//! The HTTP/1.1 front: requests to [`crate::protocol::Route`]s, responses with `ETag`,
//! `If-None-Match`, gzip, `HEAD`, and JSON errors that npm prints.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::metrics::RouteKind;
use crate::protocol::{Route, route};
use crate::service::{Gate, Refusal, client_label};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// Serves `gate` on `listener` until `shutdown` completes.
///
/// # Errors
/// Never in practice: accept errors (such as running out of file descriptors) are retried.
pub async fn serve(
    gate: Arc<Gate>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let fallback_host = listener.local_addr()?.to_string();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let gate = Arc::clone(&gate);
        let fallback_host = fallback_host.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let gate = Arc::clone(&gate);
                let fallback_host = fallback_host.clone();
                async move { Ok::<_, Infallible>(handle(&gate, &request, peer, &fallback_host).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    gate.flush();
    Ok(())
}

async fn handle(
    gate: &Arc<Gate>,
    request: &Request<Incoming>,
    peer: SocketAddr,
    fallback_host: &str,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let route = route(request.uri().path_and_query().map_or("/", |p| p.as_str()));
    let kind = match route {
        Route::Packument { .. } => RouteKind::Packument,
        Route::Tarball { .. } => RouteKind::Tarball,
        Route::Health | Route::Metrics | Route::Ping => RouteKind::Internal,
        Route::NotFound => RouteKind::Other,
    };
    let response = if request.method() == Method::GET || request.method() == Method::HEAD {
        respond(gate, request, route, peer, fallback_host).await
    } else {
        let mut response = error(405, "bulwark: the gate is read-only");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    };
    gate.metrics().request(kind, started.elapsed());
    response
}

async fn respond(
    gate: &Arc<Gate>,
    request: &Request<Incoming>,
    route: Route,
    peer: SocketAddr,
    fallback_host: &str,
) -> Response<Full<Bytes>> {
    let headers = request.headers();
    let client = client_label(peer);
    match route {
        Route::Health => json(200, Bytes::from_static(b"{\"status\":\"ok\"}")),
        Route::Ping => json(200, Bytes::from_static(b"{}")),
        Route::Metrics => {
            let mut response = Response::new(Full::new(Bytes::from(gate.metrics().render())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        Route::NotFound => error(404, "not found"),
        Route::Packument { name } => {
            let abbreviated = accepts(headers, header::ACCEPT, ABBREVIATED);
            let origin = format!("http://{}", host(headers).unwrap_or(fallback_host));
            match gate.packument(&name, &origin, abbreviated, &client).await {
                Err(refusal) => refused(&refusal),
                Ok(rendered) => {
                    let content_type = if abbreviated {
                        "application/vnd.npm.install-v1+json; charset=utf-8"
                    } else {
                        "application/json; charset=utf-8"
                    };
                    let gzip = accepts(headers, header::ACCEPT_ENCODING, "gzip");
                    let body = if gzip {
                        rendered.gzip.clone()
                    } else {
                        rendered.body.clone()
                    };
                    let mut response = cacheable(headers, &rendered.etag, body, content_type);
                    let out = response.headers_mut();
                    out.insert(
                        header::VARY,
                        HeaderValue::from_static("Accept, Accept-Encoding"),
                    );
                    if gzip && response.status() == StatusCode::OK {
                        response
                            .headers_mut()
                            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    }
                    response
                }
            }
        }
        Route::Tarball { name, file } => match gate.tarball(&name, &file, &client).await {
            Err(refusal) => refused(&refusal),
            Ok((bytes, integrity)) => {
                let etag = format!(
                    "\"{}\"",
                    &integrity.hex_digest()[..32.min(integrity.digest.len() * 2)]
                );
                cacheable(headers, &etag, bytes, "application/octet-stream")
            }
        },
    }
}

/// 200 with `body`, or 304 when `If-None-Match` names `etag`.
fn cacheable(
    headers: &HeaderMap,
    etag: &str,
    body: Bytes,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/") == etag
            })
        });
    let mut response = if matches {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(Full::new(body));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn accepts(headers: &HeaderMap, name: header::HeaderName, wanted: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|item| {
                let mut parts = item.split(';');
                let token = parts.next().unwrap_or_default().trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                token.eq_ignore_ascii_case(wanted) && !refused
            })
        })
}

/// The `Host` header when it is a plausible host[:port] (it ends up in tarball URLs).
fn host(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::HOST)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(value)
}

fn refused(refusal: &Refusal) -> Response<Full<Bytes>> {
    let mut response = error(refusal.status, &refusal.message);
    if let Some(phrase) = &refusal.phrase
        && let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(phrase.clone())
    {
        response.extensions_mut().insert(phrase);
    }
    response
}

fn error(status: u16, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(&serde_json::json!({ "error": message })).unwrap_or_default();
    json(status, body.into())
}

fn json(status: u16, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
            ),
        );
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, deflate"),
        );
        assert!(accepts(&headers, header::ACCEPT, ABBREVIATED));
        assert!(!accepts(&headers, header::ACCEPT_ENCODING, "gzip"));
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:4873"));
        assert_eq!(host(&headers), Some("127.0.0.1:4873"));
        headers.insert(header::HOST, HeaderValue::from_static("evil/path"));
        assert_eq!(host(&headers), None);
    }
}
