//! The HTTP client transports against the HTTP server: streaming in lockstep over streamable
//! HTTP and legacy SSE, the fallback between them, resumption after a dropped stream, and
//! both transports through real reverse proxies (nginx, HAProxy, Caddy, Apache httpd), each
//! with the configuration the guide's proxy chapter shows.

mod support;

use std::sync::Arc;

use mcp_core::client::ClientEra;
use mcp_core::server::Era;
use mcp_transport::http::{HttpConfig, ResponseMode, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use serde_json::json;
use support::{LIMIT, Proxy, ProxyKind, cutting_relay, drive_lockstep, lockstep_server};
use tokio::sync::Semaphore;

/// The lockstep server on a free loopback port, and the semaphore that releases its steps.
async fn start() -> (Arc<Semaphore>, RunningServer) {
    let release = Arc::new(Semaphore::new(0));
    let server = lockstep_server(release.clone());
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    let running = serve(addr, &server, HttpConfig::default()).await.unwrap();
    (release, running)
}

fn options(mode: HttpMode) -> HttpClientOptions {
    HttpClientOptions {
        mode,
        ..HttpClientOptions::default()
    }
}

/// The eras a streamable HTTP test runs in: 2026-07-28 (each request a POST of its own), and
/// a 2025-11-25 session.
const ERAS: [ClientEra; 2] = [ClientEra::Auto, ClientEra::Stateful];

async fn lockstep_over(url: &str, mode: HttpMode, era: ClientEra, release: &Arc<Semaphore>) {
    let mut chosen = options(mode);
    chosen.client.era = era;
    let client = tokio::time::timeout(LIMIT, http_client::connect(url, chosen))
        .await
        .expect("connects in time")
        .expect("connects");
    // Legacy HTTP+SSE (at /sse) is a transport of the stateful era.
    let stateless = era == ClientEra::Auto && !url.ends_with("/sse");
    assert_eq!(client.era() == Era::Stateless, stateless, "{url} {era:?}");
    let call = client
        .call_tool_streaming("steps", json!({"n": 5}))
        .await
        .expect("call sent");
    assert_eq!(drive_lockstep(call, 5, release).await, "finished 5 steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_over_streamable_http() {
    let (release, running) = start().await;
    let url = format!("http://{}/mcp", running.local_addr());
    for era in ERAS {
        lockstep_over(&url, HttpMode::Streamable, era, &release).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_over_legacy_sse() {
    let (release, running) = start().await;
    let url = format!("http://{}/sse", running.local_addr());
    lockstep_over(&url, HttpMode::Legacy, ClientEra::Auto, &release).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mode_falls_back_to_legacy_sse() {
    let (release, running) = start().await;
    // POST /sse is refused (the path serves GET only), so the client falls back to GET /sse.
    let url = format!("http://{}/sse", running.local_addr());
    lockstep_over(&url, HttpMode::Auto, ClientEra::Auto, &release).await;
    // And at /mcp the same mode speaks streamable HTTP.
    let url = format!("http://{}/mcp", running.local_addr());
    lockstep_over(&url, HttpMode::Auto, ClientEra::Auto, &release).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_is_resumed_without_losing_an_event() {
    let (release, running) = start().await;
    // The relay cuts the connection right after the bytes of step 2 pass through it.
    let relay = cutting_relay(running.local_addr(), &["step 2 of 5"]).await;
    let url = format!("http://{relay}/mcp");
    // Resumption belongs to the stateful era (2026-07-28 has none: a broken stream loses the
    // request).
    let mut stateful = options(HttpMode::Streamable);
    stateful.client.era = ClientEra::Stateful;
    let client = http_client::connect(&url, stateful).await.unwrap();
    let call = client
        .call_tool_streaming("steps", json!({"n": 5}))
        .await
        .unwrap();
    // Every step arrives exactly once and in order, then the result: nothing lost, nothing
    // repeated, although the first response stream died after step 2.
    assert_eq!(drive_lockstep(call, 5, &release).await, "finished 5 steps");
    client.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_every_response_mode() {
    for mode in [ResponseMode::Auto, ResponseMode::Sse, ResponseMode::Json] {
        let release = Arc::new(Semaphore::new(0));
        let server = lockstep_server(release.clone());
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
        let config = HttpConfig::default().response_mode(mode);
        let running = serve(addr, &server, config).await.unwrap();
        let url = format!("http://{}/mcp", running.local_addr());
        for era in ERAS {
            let mut chosen = options(HttpMode::Streamable);
            chosen.client.era = era;
            let client = http_client::connect(&url, chosen).await.unwrap();
            // Answered at once: one JSON body in auto and JSON modes, a stream in SSE mode.
            assert_eq!(client.list_tools().await.unwrap().len(), 1, "{mode:?}");
            let done = client.call_tool("steps", json!({"n": 0})).await.unwrap();
            assert_eq!(
                done.content[0].as_text(),
                Some("finished 0 steps"),
                "{mode:?} {era:?}"
            );
            // JSON mode drops progress; the others stream it.
            if mode != ResponseMode::Json {
                let call = client
                    .call_tool_streaming("steps", json!({"n": 3}))
                    .await
                    .unwrap();
                assert_eq!(drive_lockstep(call, 3, &release).await, "finished 3 steps");
            }
        }
        running.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_the_handshake_instead_of_hanging() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/mcp");
    let result = tokio::time::timeout(LIMIT, http_client::connect(&url, options(HttpMode::Auto)))
        .await
        .expect("fails in time");
    assert!(result.is_err());
    assert!(
        http_client::connect("ftp://x/mcp", HttpClientOptions::default())
            .await
            .is_err()
    );
}

/// Streams in lockstep through `kind` over streamable HTTP (in both eras) and legacy SSE: a
/// proxy that held any event back would deadlock the test.
async fn lockstep_through(kind: ProxyKind) {
    let (release, running) = start().await;
    let proxy = Proxy::start(kind, running.local_addr());
    let base = format!("http://{}", proxy.addr);
    for era in ERAS {
        lockstep_over(&format!("{base}/mcp"), HttpMode::Streamable, era, &release).await;
    }
    lockstep_over(
        &format!("{base}/sse"),
        HttpMode::Legacy,
        ClientEra::Auto,
        &release,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_through_nginx_with_default_buffering() {
    lockstep_through(ProxyKind::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_through_haproxy_with_http_no_delay() {
    lockstep_through(ProxyKind::Haproxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_through_caddy() {
    lockstep_through(ProxyKind::Caddy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_through_apache_httpd() {
    lockstep_through(ProxyKind::Apache).await;
}

/// A memo whose changes are announced.
#[mcp_core::resource("memo://{name}")]
async fn memo(name: String) -> String {
    format!("memo {name}")
}

/// Announces that memo `name` changed.
#[mcp_core::tool]
async fn touch(ctx: mcp_core::Context, name: String) -> String {
    ctx.notify_resource_updated(&format!("memo://{name}")).await;
    format!("touched {name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_updates_reach_a_subscribed_client_in_both_eras() {
    let server = mcp_core::Server::builder("memos", "1")
        .resource(memo)
        .tool(touch)
        .resource_subscriptions(true)
        .build()
        .unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    let running = serve(addr, &server, HttpConfig::default()).await.unwrap();
    let url = format!("http://{}/mcp", running.local_addr());
    // A session subscribes with resources/subscribe; a 2026-07-28 client holds a
    // subscriptions/listen stream open, reopened with every resource when it follows one more.
    for (era, expected) in [
        (ClientEra::Stateful, Era::Stateful),
        (ClientEra::Auto, Era::Stateless),
    ] {
        let mut chosen = options(HttpMode::Streamable);
        chosen.client.era = era;
        let client = http_client::connect(&url, chosen).await.unwrap();
        assert_eq!(client.era(), expected);
        let mut updates = client.notifications();
        for name in ["a", "b"] {
            let uri = format!("memo://{name}");
            tokio::time::timeout(LIMIT, client.subscribe_resource(&uri))
                .await
                .expect("subscribed in time")
                .unwrap();
        }
        for name in ["a", "b"] {
            let r = client
                .call_tool("touch", json!({ "name": name }))
                .await
                .unwrap();
            assert_eq!(r.text(), format!("touched {name}"));
            let note = tokio::time::timeout(LIMIT, updates.recv())
                .await
                .expect("the update in time")
                .expect("an update");
            assert_eq!(note.method, "notifications/resources/updated");
            assert_eq!(
                note.params.unwrap()["uri"],
                format!("memo://{name}"),
                "{expected:?}"
            );
        }
    }
    // Shutting down ends the open listen stream with its completion result.
    tokio::time::timeout(LIMIT, running.shutdown())
        .await
        .expect("shuts down in time");
}
