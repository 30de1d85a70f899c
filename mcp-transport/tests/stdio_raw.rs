//! The stdio server driven with raw lines, in process: bad input, cancellation, concurrency
//! and end of input. Every line the server writes is checked against the official schema.

mod stdio_common;

use std::time::Duration;

use mcp_transport::stdio::{StdioError, StdioServer};
use serde_json::{Value, json};
use stdio_common::raw::{RawPeer, error_code, within};
use stdio_common::schema::is_valid;
use stdio_common::tools::{Signals, server};
use tokio::task::JoinHandle;

/// A server on two in-memory pipes, with a raw peer on the other ends.
fn start(
    signals: &Signals,
    max_line_bytes: usize,
) -> (RawPeer, JoinHandle<Result<(), StdioError>>) {
    start_with(
        signals,
        max_line_bytes,
        mcp_transport::stdio::DEFAULT_SHUTDOWN_GRACE,
    )
}

fn start_with(
    signals: &Signals,
    max_line_bytes: usize,
    grace: Duration,
) -> (RawPeer, JoinHandle<Result<(), StdioError>>) {
    let server = server(signals, 64);
    let (peer_out, server_in) = tokio::io::duplex(64 * 1024);
    let (server_out, peer_in) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(async move {
        StdioServer::new(&server)
            .max_line_bytes(max_line_bytes)
            .shutdown_grace(grace)
            .serve_io(server_in, server_out)
            .await
    });
    (RawPeer::new(peer_in, peer_out), serving)
}

/// Closes the input and checks the server ends cleanly, having written everything it had.
async fn finish(mut peer: RawPeer, serving: JoinHandle<Result<(), StdioError>>) -> RawPeer {
    peer.close_input().await;
    peer.read_to_end().await;
    serving
        .await
        .expect("the server task")
        .expect("a clean end");
    peer
}

/// Stateless requests on stdio (2026-07-28): every line the server writes for them matches
/// the 2026-07-28 schema; progress flows on the request's stream; `notifications/cancelled`
/// cancels (stdio has no per-request stream to close); a session opened on the same
/// connection afterwards is unaffected.
#[tokio::test]
async fn stateless_requests_match_the_2026_07_28_schema() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1024 * 1024);
    peer.schema = stdio_common::schema::STATELESS_SCHEMA_VERSION;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
    });
    within("the stateless scenario", async {
        let r = peer
            .request(1, "server/discover", json!({"_meta": meta}))
            .await;
        assert_eq!(r["result"]["resultType"], "complete", "{r}");
        let r = peer.request(2, "tools/list", json!({"_meta": meta})).await;
        assert!(r["result"]["ttlMs"].is_u64(), "{r}");
        let mut with_token = meta.clone();
        with_token["progressToken"] = json!(3);
        let r = peer
            .request(
                3,
                "tools/call",
                json!({"name": "flood", "arguments": {"count": 3}, "_meta": with_token}),
            )
            .await;
        assert_eq!(r["result"]["resultType"], "complete", "{r}");
        let progress = peer
            .received
            .iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count();
        assert_eq!(progress, 3);
        peer.send_request(
            4,
            "tools/call",
            json!({"name": "hang", "_meta": with_token}),
        )
        .await;
        peer.recv_until("the hang tool's start", |m| {
            m["method"] == "notifications/progress"
        })
        .await;
        peer.send_cancel(4).await;
        let r = peer.request(5, "tools/list", json!({"_meta": meta})).await;
        assert!(r["result"]["tools"].is_array());
        assert!(
            peer.responses_to(4).is_empty(),
            "a cancelled request gets no answer"
        );
        // The stateful era on the same connection.
        peer.schema = stdio_common::schema::SCHEMA_VERSION;
        peer.initialize().await;
        let r = peer.request(6, "ping", json!({})).await;
        assert_eq!(r["result"], json!({}));
    })
    .await;
    finish(peer, serving).await;
}

#[test]
fn the_schema_validator_rejects_what_the_schema_forbids() {
    assert!(is_valid(&json!({"jsonrpc": "2.0", "id": 1, "result": {}})));
    assert!(!is_valid(
        &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "x"}})
    ));
    assert!(!is_valid(&json!({"jsonrpc": "1.0", "id": 1, "result": {}})));
    assert!(!is_valid(&json!({"jsonrpc": "2.0", "id": 1})));
}

#[tokio::test]
async fn bad_input_gets_the_right_errors_and_the_server_keeps_serving() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1024);
    within("the bad-input scenario", async {
        // Before initialize: a modern client's discovery probe must get an error, not silence.
        // The 2026-07-28 discovery probe is served statelessly, before or without
        // `initialize`: without its `_meta` it is malformed, with it the server describes
        // itself, both eras included.
        let r = peer.request(1, "server/discover", json!({})).await;
        assert_eq!(error_code(&r), -32602, "{r}");
        let meta = json!({"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        }});
        let r = peer.request(1, "server/discover", meta).await;
        let versions = &r["result"]["supportedVersions"];
        assert_eq!(versions[0], "2026-07-28", "{r}");
        assert!(
            versions.as_array().unwrap().contains(&json!("2025-11-25")),
            "{r}"
        );
        let r = peer.request(2, "tools/list", json!({})).await;
        assert_eq!(error_code(&r), -32600, "{r}");

        peer.initialize().await;

        // Malformed JSON: -32700, and no id at all (the schema forbids a null id).
        peer.send_line(b"{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": ")
            .await;
        let r = peer.recv().await.expect("an answer to the malformed line");
        assert_eq!(error_code(&r), -32700, "{r}");
        assert!(r.get("id").is_none(), "{r}");

        // Valid JSON that is no JSON-RPC message: -32600.
        peer.send_line(b"[1, 2, 3]").await;
        let r = peer.recv().await.expect("an answer to the batch");
        assert_eq!(error_code(&r), -32600, "{r}");

        let r = peer.request(4, "no/such/method", json!({})).await;
        assert_eq!(error_code(&r), -32601, "{r}");

        let r = peer.request(5, "tools/call", json!({"name": 5})).await;
        assert_eq!(error_code(&r), -32602, "{r}");
        let r = peer
            .request(6, "tools/call", json!({"name": "no-such-tool"}))
            .await;
        assert_eq!(error_code(&r), -32602, "{r}");

        peer.send_call(7, "panic", json!({})).await;
        let r = peer.response(7).await;
        assert_eq!(error_code(&r), -32603, "{r}");
        let r = peer.request(8, "ping", json!({})).await;
        assert_eq!(
            r["result"],
            json!({}),
            "the server stopped serving after a panic"
        );

        // Over the 1 KiB limit: -32600 without an id, then business as usual.
        let padding = "x".repeat(4096);
        let long = json!({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {"pad": padding}});
        peer.send(long).await;
        let r = peer.recv().await.expect("an answer to the long line");
        assert_eq!(error_code(&r), -32600, "{r}");
        assert!(r.get("id").is_none(), "{r}");
        let r = peer
            .request(
                10,
                "tools/call",
                json!({"name": "echo", "arguments": {"text": "still here"}}),
            )
            .await;
        assert_eq!(r["result"]["content"][0]["text"], "still here", "{r}");

        let peer = finish(peer, serving).await;
        assert!(
            peer.responses_to(9).is_empty(),
            "the over-long request was answered by id"
        );
    })
    .await;
}

#[tokio::test]
async fn cancellation_drops_the_tool_and_no_response_follows() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1 << 20);
    within("the cancellation scenario", async {
        peer.initialize().await;
        peer.send_call(3, "hang", json!({})).await;
        let progress = peer.progress(3).await;
        assert_eq!(progress["message"], "started");
        signals.started.notified().await;

        peer.send_cancel(3).await;
        // The tool's future is dropped: its guard says so.
        signals.dropped.notified().await;
        // The connection still works, and nothing answered the cancelled call.
        let pong = peer.request(4, "ping", json!({})).await;
        assert_eq!(pong["result"], json!({}));
        assert!(peer.responses_to(3).is_empty(), "{:#?}", peer.received);

        let peer = finish(peer, serving).await;
        assert!(
            peer.responses_to(3).is_empty(),
            "a response to the cancelled call arrived: {:#?}",
            peer.received
        );
    })
    .await;
}

#[tokio::test]
async fn a_running_call_does_not_block_others() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1 << 20);
    within("the concurrency scenario", async {
        peer.initialize().await;
        peer.send_call(3, "hang", json!({})).await;
        peer.progress(3).await;

        let pong = peer.request(4, "ping", json!({})).await;
        assert_eq!(pong["result"], json!({}));
        peer.send_call(5, "echo", json!({"text": "alongside"}))
            .await;
        let r = peer.response(5).await;
        assert_eq!(r["result"]["content"][0]["text"], "alongside");
        let listed = peer.request(6, "tools/list", json!({})).await;
        assert_eq!(listed["result"]["tools"].as_array().map(Vec::len), Some(5));
        assert!(peer.responses_to(3).is_empty());

        // End of input cancels the call that still runs, and the server returns.
        let peer = finish(peer, serving).await;
        signals.dropped.notified().await;
        assert!(peer.responses_to(3).is_empty());
    })
    .await;
}

#[tokio::test]
async fn end_of_input_cancels_running_calls_and_returns() {
    let signals = Signals::new();
    // With an endless grace, serve_io returns only if the cancelled calls really let go of
    // the output: otherwise this test times out.
    let (mut peer, serving) = start_with(&signals, 1 << 20, Duration::from_secs(24 * 3600));
    within("end of input", async {
        peer.initialize().await;
        for id in 1..=3 {
            peer.send_call(id, "hang", json!({})).await;
            peer.progress(id).await;
        }
        let peer = finish(peer, serving).await;
        for id in 1..=3 {
            assert!(peer.responses_to(id).is_empty());
        }
    })
    .await;
}

/// Requests that arrive together, in one write, are answered without waiting for more input
/// (blank lines and notifications among them included), each answer after the messages its
/// call sent before it, and in the order the calls completed.
#[tokio::test]
async fn requests_read_together_are_answered_in_order_without_more_input() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1 << 20);
    within("requests read together", async {
        peer.initialize().await;
        let line = |message: Value| format!("{message}\n");
        let call = |id: i64, tool: &str, arguments: Value| {
            line(
                json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
                "name": tool, "arguments": arguments, "_meta": {"progressToken": id}}}),
            )
        };
        let mut together = String::new();
        together += &line(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
        together += "\n";
        together += &call(2, "flood", json!({"count": 5}));
        together += &call(3, "echo", json!({"text": "third"}));
        together += &line(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        together += "  \n\n";
        // The input stays open: every answer must come without more of it.
        peer.send_raw(together.as_bytes()).await;
        let mut order = Vec::new();
        while order.len() < 8 {
            let m = peer.recv().await.expect("a message");
            order.push(if m["method"] == "notifications/progress" {
                format!("progress {}", m["params"]["message"].as_str().unwrap_or(""))
            } else {
                format!("answer {}", m["id"])
            });
        }
        let mut expected = vec!["answer 1".to_owned()];
        expected.extend((1..=5).map(|i| format!("progress item {i}")));
        expected.extend(["answer 2".to_owned(), "answer 3".to_owned()]);
        assert_eq!(order, expected);
        finish(peer, serving).await;
    })
    .await;
}

#[tokio::test]
async fn a_last_line_without_newline_is_still_served() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1 << 20);
    within("an unterminated last line", async {
        peer.initialize().await;
        // Sent without its newline, then the input ends.
        peer.send_raw(br#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#)
            .await;
        let peer = finish(peer, serving).await;
        assert_eq!(peer.responses_to(5).len(), 1, "{:#?}", peer.received);
    })
    .await;
}

#[tokio::test]
async fn a_2025_03_26_session_may_send_batches_and_others_may_not() {
    let signals = Signals::new();
    let (mut peer, serving) = start(&signals, 1024 * 1024);
    within("batches over stdio", async {
        let init = json!({"protocolVersion": "2025-03-26", "capabilities": {},
            "clientInfo": {"name": "batch", "version": "0"}});
        let r = peer.request(0, "initialize", init).await;
        assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
        let batch = json!([
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
             "params": {"name": "echo", "arguments": {"text": "from a batch"}}},
            {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {}},
            "not a message"
        ]);
        peer.send_line(batch.to_string().as_bytes()).await;
        // Four answers, each on its own line, in the order they are ready.
        let before = peer.received.len();
        while peer.received.len() < before + 4 {
            peer.recv().await.expect("the batch's answers");
        }
        assert_eq!(peer.responses_to(1)[0]["result"], json!({}));
        let r = peer.responses_to(2)[0];
        assert_eq!(r["result"]["content"][0]["text"], "from a batch");
        assert_eq!(error_code(peer.responses_to(3)[0]), -32600);
        let invalid: Vec<_> = peer.received[before..]
            .iter()
            .filter(|m| m.get("id").is_none())
            .collect();
        assert_eq!(invalid.len(), 1, "the element that is no message");
        assert_eq!(error_code(invalid[0]), -32600);
    })
    .await;
    finish(peer, serving).await;

    let (mut peer, serving) = start(&signals, 1024 * 1024);
    within("a batch on 2025-11-25", async {
        peer.initialize().await;
        let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]);
        peer.send_line(batch.to_string().as_bytes()).await;
        let r = peer.recv().await.expect("an answer to the batch");
        assert_eq!(error_code(&r), -32600, "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("2025-03-26")
        );
        assert!(peer.responses_to(1).is_empty(), "the batch was not run");
    })
    .await;
    finish(peer, serving).await;
}

#[tokio::test]
async fn a_stop_lets_calls_finish_then_answers_the_rest_with_an_error() {
    let signals = Signals::new();
    let server = server(&signals, 64);
    let (peer_out, server_in) = tokio::io::duplex(64 * 1024);
    let (server_out, peer_in) = tokio::io::duplex(64 * 1024);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        StdioServer::new(&server)
            .shutdown_timeout(Duration::from_millis(300))
            .serve_io_until(server_in, server_out, async {
                let _ = stop_rx.await;
            })
            .await
    });
    let mut peer = RawPeer::new(peer_in, peer_out);
    within("a stop with calls running", async {
        peer.initialize().await;
        peer.send_call(1, "lockstep", json!({"steps": 1})).await;
        peer.progress(1).await;
        peer.send_call(2, "hang", json!({})).await;
        peer.progress(2).await;
        let dropped = signals.dropped.notified();
        stop_tx.send(()).unwrap();
        // Within the grace, the lockstep call finishes normally ...
        signals.release.add_permits(1);
        let done = peer.response(1).await;
        assert_eq!(done["result"]["content"][0]["text"], "done");
        // ... the hanging one is answered with the error, its future dropped.
        let ended = peer.response(2).await;
        assert_eq!(error_code(&ended), -32000);
        assert_eq!(ended["error"]["data"]["reason"], "shutdown");
        dropped.await;
        peer.read_to_end().await;
        serving.await.unwrap().expect("a clean stop");
        assert_eq!(peer.responses_to(2).len(), 1);
    })
    .await;
}
