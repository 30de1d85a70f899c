//! `mcp-probe` against a server that holds every event back until the end, as the buffering
//! stack that started this project did: verdict "buffered", and `--require-live` exits 4.
//!
//! The server is this project's own `McpService` behind a hyper service that collects each
//! POST's whole response body before sending any of it.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::{event_lines, probe, stdout};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use mcp_core::{Progress, Server, tool};
use mcp_transport::http::{HttpConfig, McpBody, McpService};

/// Counts to `to`, one step every 60 ms, reporting each step.
#[tool]
async fn count(to: u64) -> String {
    for i in 1..=to {
        tokio::time::sleep(Duration::from_millis(60)).await;
        yield_!(Progress::step(i, to, format!("step {i} of {to}")));
    }
    format!("counted to {to}")
}

/// Answers with the MCP service, but a POST's response only once it is complete.
async fn buffered(
    mcp: McpService,
    request: Request<Incoming>,
) -> Result<Response<Either<McpBody, Full<Bytes>>>, Infallible> {
    let is_post = request.method() == Method::POST;
    let response = mcp.handle(request).await;
    if !is_post {
        return Ok(response.map(Either::Left));
    }
    let (mut parts, body) = response.into_parts();
    let whole = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    Ok(Response::from_parts(parts, Either::Right(Full::new(whole))))
}

/// Serves the buffering server on a free loopback port; returns its `/mcp` URL.
async fn start_buffering_server() -> String {
    let server = Server::builder("buffering", "1")
        .tool(count)
        .build()
        .unwrap();
    let mcp = McpService::new(&server, HttpConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let mcp = mcp.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| buffered(mcp.clone(), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/mcp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_progress_is_judged_buffered() {
    let url = start_buffering_server().await;
    // A 2026-07-28 request is a POST of its own; a 2025-11-25 call is a POST in a session:
    // the buffering holds both back.
    for (era, protocol) in [("auto", "2026-07-28"), ("stateful", "2025-11-25")] {
        let output = probe(&["call", "count", "-a", "to=5", "--era", era, "--url", &url]).await;
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{text}");
        assert!(text.contains(&format!("(protocol {protocol})")), "{text}");
        // Every event still arrives, in order: only late.
        assert_eq!(event_lines(&text).len(), 5, "{text}");
        assert!(text.contains("verdict: buffered"), "{text}");
    }

    let output = probe(&[
        "call",
        "count",
        "-a",
        "to=5",
        "--require-live",
        "--url",
        &url,
    ])
    .await;
    assert_eq!(output.status.code(), Some(4), "{}", stdout(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did not arrive live (buffered)"),
        "{stderr}"
    );

    let output = probe(&["call", "count", "-a", "to=3", "--json", "--url", &url]).await;
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["verdict"], "buffered");
    assert_eq!(document["events"].as_array().map(Vec::len), Some(3));
}
