//! How a POST's request is answered in each [`ResponseMode`]: by default (`Auto`) a response
//! ready at once is one `application/json` body and nothing is stored for it, while a request
//! that sends anything first streams (and is stored); `Sse` streams every answer.

mod http_support;

use std::sync::Arc;

use http::StatusCode;
use http_support::*;
use mcp_transport::http::{HttpConfig, ResponseMode, RunningServer};
use serde_json::{Value, json};
use tokio::time::timeout;

/// The fixture server in `mode`, on a store that records what it stores.
async fn serving(mode: ResponseMode) -> (Gate, Arc<Recording>, RunningServer) {
    let gate = Gate::new();
    let store = Recording::new();
    let config = HttpConfig::default()
        .response_mode(mode)
        .event_store(store.clone());
    let running = start(&fixture_server(&gate), config).await;
    (gate, store, running)
}

/// `quick` (two progress items when the caller gives a progress token, else nothing before
/// its response), as request `id`.
fn quick(id: i64, token: Option<&str>) -> Value {
    let mut params = json!({"name": "quick", "arguments": {}});
    if let Some(token) = token {
        params["_meta"] = json!({"progressToken": token});
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

/// Asserts that `x` is a JSON answer with its length and no stream headers, and returns its
/// message.
async fn json_body(x: Exchange) -> Value {
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(x.header("content-type"), Some("application/json"));
    let length: usize = x
        .header("content-length")
        .expect("a Content-Length")
        .parse()
        .unwrap();
    assert_eq!(x.header("cache-control"), None, "no stream headers");
    assert_eq!(x.header("transfer-encoding"), None, "not chunked");
    let bytes = x.bytes().await;
    assert_eq!(bytes.len(), length);
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    assert_valid(&value);
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_ready_at_once_is_one_json_body_and_nothing_is_stored() {
    timeout(LIMIT, async {
        let (_gate, store, running) = serving(ResponseMode::Auto).await;
        let addr = running.local_addr();

        // `initialize`: JSON, with the new session's id.
        let x = send(addr, post(addr, None, &initialize_message(0))).await;
        let session = x
            .session()
            .expect("Mcp-Session-Id on the initialize response");
        let reply = json_body(x).await;
        assert_eq!(reply["result"]["protocolVersion"], VERSION);
        let x = send(addr, post(addr, Some(&session), &initialized_message())).await;
        assert_eq!(x.status, StatusCode::ACCEPTED);

        for id in [1, 2] {
            let x = send(addr, post(addr, Some(&session), &quick(id, None))).await;
            // Only `initialize` names the session in its response.
            assert_eq!(x.session(), None);
            let reply = json_body(x).await;
            assert_eq!(reply["id"], id);
            assert_eq!(reply["result"]["content"][0]["text"], "quick done");
        }
        let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
        let x = send(addr, post(addr, Some(&session), &ping)).await;
        assert_eq!(json_body(x).await["id"], 3);

        assert_eq!(store.appended(), 0, "nothing stored");
        let stats = running.service().stats();
        assert_eq!((stats.open_streams, stats.connections), (0, 0));
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_sends_before_its_answer_streams_and_is_stored() {
    timeout(LIMIT, async {
        let (_gate, store, running) = serving(ResponseMode::Auto).await;
        let addr = running.local_addr();
        let session = initialize(addr).await;

        // Progress before the response, all before the tool first waits: still a stream.
        let x = send(addr, post(addr, Some(&session), &quick(1, Some("t")))).await;
        assert_eq!(x.status, StatusCode::OK);
        let mut events = x.sse();
        let priming = events.next().await.expect("the priming event");
        assert_eq!(priming.data, "");
        let stream = priming.id.unwrap().split_once(':').unwrap().0.to_owned();
        for step in ["one", "two"] {
            let progress = events.next_message().await.expect("progress");
            assert_eq!(progress_of(&progress).1, step);
        }
        let event = events.next().await.expect("the response");
        assert_eq!(
            event.message()["result"]["content"][0]["text"],
            "quick done"
        );
        assert!(events.next().await.is_none(), "the stream ends with it");
        // Stored, and resumable: two progress items, then the response.
        assert_eq!(store.appended(), 3);
        let x = send(addr, get(addr, &session, Some(&format!("{stream}:2")))).await;
        let mut again = x.sse();
        assert_eq!(again.next().await.expect("the stored response"), event);
        assert!(again.next().await.is_none());
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_mode_streams_every_answer_and_stores_it() {
    timeout(LIMIT, async {
        let (_gate, store, running) = serving(ResponseMode::Sse).await;
        let addr = running.local_addr();

        let x = send(addr, post(addr, None, &initialize_message(0))).await;
        let session = x.session().expect("Mcp-Session-Id");
        let mut events = x.sse();
        assert_eq!(events.next_message().await.expect("the response")["id"], 0);
        assert!(events.next().await.is_none());
        let x = send(addr, post(addr, Some(&session), &initialized_message())).await;
        assert_eq!(x.status, StatusCode::ACCEPTED);

        let x = send(addr, post(addr, Some(&session), &quick(1, None))).await;
        assert_eq!(x.header("x-accel-buffering"), Some("no"));
        let mut events = x.sse();
        assert_eq!(events.next().await.expect("the priming event").data, "");
        assert_eq!(events.next_message().await.expect("the response")["id"], 1);
        assert!(events.next().await.is_none());
        // The response, kept for a client that resumes.
        assert_eq!(store.appended(), 1);
    })
    .await
    .expect("timed out");
}
