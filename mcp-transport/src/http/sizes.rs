//! The sizes of what each connection holds: printed, and bounded so that growing one shows.
//!
//! A connection's long-lived blocks (its task, hyper's boxed response body) and the boxed
//! future of each request are allocated per connection; an idle session's resident memory
//! depends on them fitting the holes that closed connections left (see BENCHMARKS.md,
//! "Idle connections").

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mcp_core::Server;

use super::body::McpBody;
use super::config::HttpConfig;
use super::peer::ClientKey;
use super::service::McpService;
use super::sse::SseBody;
use super::streamable;

/// The sizes of the futures a request of each kind makes, for hyper's real request body.
#[derive(Debug, Default, Clone, Copy)]
struct FutureSizes {
    post: usize,
    get: usize,
}

/// Sends one request through a real hyper connection and measures, for its [`Incoming`]
/// body, the futures the endpoints would box.
async fn future_sizes() -> FutureSizes {
    let server = Server::builder("t", "1").build().unwrap();
    let service = McpService::new(&server, HttpConfig::default()).unwrap();
    let sizes = Arc::new(Mutex::new(FutureSizes::default()));
    let (near, far) = tokio::io::duplex(64 * 1024);
    let seen = sizes.clone();
    let serving = tokio::spawn(async move {
        let measure = hyper::service::service_fn(move |request: Request<Incoming>| {
            let shared = service.shared().clone();
            let (parts, body) = request.into_parts();
            let post = streamable::post(
                &shared,
                Request::from_parts(parts.clone(), body),
                streamable::PostHead::unchecked(),
                ClientKey::Unknown,
            );
            let post_size = std::mem::size_of_val(&post);
            drop(post);
            let get = streamable::get(&shared, Request::from_parts(parts, ()));
            *seen.lock().unwrap() = FutureSizes {
                post: post_size,
                get: std::mem::size_of_val(&get),
            };
            async { Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new())) }
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(far), measure)
            .await
    });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(near))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::post("/mcp").body(Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    response.into_body().collect().await.unwrap();
    drop(sender);
    let _ = serving.await;
    *sizes.lock().unwrap()
}

#[test]
fn a_response_body_fits_the_box_hyper_keeps_per_connection() {
    // hyper keeps `Box<Option<McpBody>>` for each connection's life: 56 bytes is a 64-byte
    // block of glibc's malloc (an 80-byte one from 64 bytes on).
    assert!(size_of::<McpBody>() <= 48, "{}", size_of::<McpBody>());
    assert!(size_of::<Option<McpBody>>() <= 56);
    // Boxed once per event stream (an idle GET stream's included).
    assert!(size_of::<SseBody>() <= 160, "{}", size_of::<SseBody>());
}

#[tokio::test]
async fn the_futures_of_a_post_and_a_get_stay_small() {
    let sizes = future_sizes().await;
    // Boxed for as long as the request is answered; debug builds' sizes, which release
    // builds' do not exceed.
    assert!(sizes.post <= POST_FUTURE_MAX, "{sizes:?}");
    assert!(sizes.get <= 1024, "{sizes:?}");
}

/// The most a POST's future may take (see BENCHMARKS.md, "Idle connections").
const POST_FUTURE_MAX: usize = 1264;
