//! JSON-RPC batches: accepted on sessions that negotiated 2025-03-26 (the revision that
//! defines them), refused with a clear error on any other.

mod http_support;

use std::net::SocketAddr;

use http::{Method, StatusCode};
use http_support::*;
use mcp_transport::http::{HttpConfig, ResponseMode};
use serde_json::{Value, json};
use tokio::time::timeout;

/// A session negotiated at `version`.
async fn session_at(addr: SocketAddr, version: &str) -> String {
    let init = json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "batch-test", "version": "0"}}
    });
    let x = send(addr, post(addr, None, &init)).await;
    let session = x.session().expect("a session");
    let _ = x.bytes().await;
    session
}

fn batch_post(
    addr: SocketAddr,
    session: &str,
    version: &str,
    batch: &Value,
) -> http::Request<ReqBody> {
    builder(addr, Method::POST, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", version)
        .body(full(batch.to_string()))
        .unwrap()
}

fn batch() -> Value {
    json!([
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "quick", "arguments": {}, "_meta": {"progressToken": "q"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {}},
        17
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_03_26_session_gets_one_stream_answering_the_whole_batch() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let session = session_at(addr, "2025-03-26").await;
        let x = send(addr, batch_post(addr, &session, "2025-03-26", &batch())).await;
        assert_eq!(x.status, StatusCode::OK);
        let mut events = x.sse();
        let mut messages = Vec::new();
        while let Some(event) = events.next().await {
            messages.push(event.message());
        }
        let answer = |id: i64| {
            messages
                .iter()
                .filter(|m| m["id"] == id)
                .collect::<Vec<_>>()
        };
        assert_eq!(answer(1)[0]["result"], json!({}));
        assert_eq!(answer(2)[0]["result"]["content"][0]["text"], "quick done");
        assert!(answer(3)[0]["result"]["tools"].is_array());
        assert_eq!(
            answer(4)[0]["error"]["code"],
            -32600,
            "initialize is never batched"
        );
        let invalid: Vec<_> = messages
            .iter()
            .filter(|m| m.get("id").is_none() && m.get("error").is_some())
            .collect();
        assert_eq!(
            invalid.len(),
            1,
            "the element that is no message: {messages:#?}"
        );
        // Progress of the call inside the batch streams too, before its response.
        let progress_at = messages
            .iter()
            .position(|m| m["method"] == "notifications/progress")
            .expect("progress on the batch's stream");
        let result_at = messages.iter().position(|m| m["id"] == 2).unwrap();
        assert!(progress_at < result_at);
        for id in 1..=4 {
            assert_eq!(answer(id).len(), 1, "one answer for request {id}");
        }
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_json_mode_a_batch_is_answered_with_an_array() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let config = HttpConfig::default().response_mode(ResponseMode::Json);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let session = session_at(addr, "2025-03-26").await;
        let x = send(addr, batch_post(addr, &session, "2025-03-26", &batch())).await;
        assert_eq!(x.status, StatusCode::OK);
        assert_eq!(x.header("content-type"), Some("application/json"));
        let body: Value = serde_json::from_slice(&x.bytes().await).unwrap();
        let replies = body.as_array().expect("an array of responses");
        assert_eq!(replies.len(), 5, "{body:#}");
        let mut ids: Vec<_> = replies.iter().filter_map(|r| r["id"].as_i64()).collect();
        ids.sort();
        assert_eq!(ids, [1, 2, 3, 4]);
        // Notifications and responses alone get 202.
        let only_notes = json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]);
        let x = send(addr, batch_post(addr, &session, "2025-03-26", &only_notes)).await;
        assert_eq!(x.status, StatusCode::ACCEPTED);
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn other_revisions_refuse_batches_with_a_clear_error() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        for version in ["2025-06-18", "2025-11-25"] {
            let session = session_at(addr, version).await;
            let x = send(addr, batch_post(addr, &session, version, &batch())).await;
            assert_eq!(x.status, StatusCode::BAD_REQUEST);
            let body = x.message().await;
            assert_eq!(body["error"]["code"], -32600);
            let why = body["error"]["message"].as_str().unwrap();
            assert!(why.contains("2025-03-26") && why.contains(version), "{why}");
        }
    })
    .await
    .expect("timed out");
}
