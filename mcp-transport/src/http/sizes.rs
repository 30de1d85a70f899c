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

/// The most a POST's future may take (see BENCHMARKS.md, "Idle connections"): 680 bytes in
/// a debug build since an answer that waits is boxed on its own (1016 before); the whole
/// future is copied into its box per request.
const POST_FUTURE_MAX: usize = 768;

/// The size of a connection's future as `accept_loop` spawns it (the same function, the same
/// types): the future its task holds for as long as the connection is open.
async fn connection_future_size() -> usize {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (stream, peer) = listener.accept().await.unwrap();
    let server = Server::builder("t", "1").build().unwrap();
    let config = HttpConfig::default();
    let limits = super::serve::Limits::of(&config);
    let service = McpService::new(&server, config).unwrap();
    let future = super::serve::connection(
        stream,
        peer,
        service,
        Arc::new(hyper::server::conn::http1::Builder::new()),
        Arc::default(),
        limits,
        Arc::default(),
    );
    size_of_val(&future)
}

/// What tokio (1.54, x86-64) adds to a future to make its task: the header (32 bytes), the
/// scheduler's handle and the task's id (16), the stage's tag (8), the trailer (48). A task is
/// allocated 128-byte aligned, so its size is that sum rounded up to 128: a future of 1560
/// bytes makes a task of 1664 (13 lines), one of 1568 a task of 1792 (checked on a release
/// build, spawning futures of known sizes and watching `posix_memalign`).
const TOKIO_TASK_OVERHEAD: usize = 104;

/// The lines of 128 bytes a connection's task takes in a release build.
const CONNECTION_TASK_LINES: usize = 11;

/// The largest connection future whose release build's task fits [`CONNECTION_TASK_LINES`].
const CONNECTION_FUTURE_MAX: usize = CONNECTION_TASK_LINES * 128 - TOKIO_TASK_OVERHEAD;

/// How much larger a debug build lays this future out than a release build: 16 bytes, at
/// main a970bbc (1568 against 1552) as at its parent (1584 against 1568), and since the
/// connection is held once (1248 against 1232).
const DEBUG_EXCESS: usize = 16;

/// A connection's task stays within its 11 lines of 128 bytes: a task one line larger costs
/// 128 bytes per open connection, an idle session's included (BENCHMARKS.md, "Ninth stop":
/// 13.7-13.9 -> 13.9-14.0 KiB per idle session when it went from 13 to 14 lines, the target
/// being under 14).
///
/// What counts is the release build's layout (1232 bytes since the connection is held once;
/// 1552 before, 13 lines). In a release build
/// (`cargo test --release -p mcp-transport --lib connection_task`) the bound is exact; in a
/// debug build (what CI runs) it is the release bound plus [`DEBUG_EXCESS`], the difference
/// between the two layouts of this future, which held across the change that crossed a
/// line last time. A failure in a debug build alone means that difference moved (a new
/// compiler, a debug-only field): the release run says whether the task grew.
#[tokio::test]
async fn a_connection_task_fits_its_eleven_lines() {
    let size = connection_future_size().await;
    let (max, lines, otherwise) = match cfg!(debug_assertions) {
        true => (
            CONNECTION_FUTURE_MAX + DEBUG_EXCESS,
            (size - DEBUG_EXCESS + TOKIO_TASK_OVERHEAD).div_ceil(128),
            "; or, if `cargo test --release -p mcp-transport --lib connection_task` passes, \
             the debug layout alone grew: measure both and set DEBUG_EXCESS anew",
        ),
        false => (
            CONNECTION_FUTURE_MAX,
            (size + TOKIO_TASK_OVERHEAD).div_ceil(128),
            "",
        ),
    };
    assert!(
        size <= max,
        "a connection's future is {size} bytes, over {max} (debug build: {}): in a release \
         build its tokio task would take {lines} lines of 128 bytes instead of \
         {CONNECTION_TASK_LINES}, 128 bytes more per open connection and idle session. Make \
         what the connection holds smaller{otherwise}",
        cfg!(debug_assertions),
    );
}
