//! The real `fixture-server` binary driven with raw stdio lines: bad input, cancellation,
//! concurrency and end of input. Every line it writes is checked against the official
//! schema (`JSONRPCMessage`, revision 2025-11-25) as it is read.

mod common;

use common::stdio_common::raw::{error_code, within};
use common::{TempDir, spawn_fixture, wait_for_file};
use serde_json::json;

#[tokio::test]
async fn bad_input_gets_the_right_errors_and_the_server_keeps_serving() {
    let (mut peer, mut child) = spawn_fixture();
    within("the bad-input scenario", async {
        // Before initialize: the 2026 discovery probe and any other request get errors.
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
        let r = peer.request(2, "tools/call", json!({"name": "echo"})).await;
        assert_eq!(error_code(&r), -32600, "{r}");

        peer.initialize().await;

        peer.send_line(b"this is not JSON").await;
        let r = peer.recv().await.expect("an answer to the malformed line");
        assert_eq!(error_code(&r), -32700, "{r}");
        assert!(r.get("id").is_none(), "the schema allows no null id: {r}");

        let r = peer.request(3, "resources/unknown", json!({})).await;
        assert_eq!(error_code(&r), -32601, "{r}");

        let r = peer.request(4, "tools/list", json!({"cursor": 17})).await;
        assert_eq!(error_code(&r), -32602, "{r}");
        let r = peer
            .request(5, "tools/call", json!({"arguments": {}}))
            .await;
        assert_eq!(error_code(&r), -32602, "{r}");

        peer.send_call(6, "panic", json!({})).await;
        let r = peer.response(6).await;
        assert_eq!(error_code(&r), -32603, "{r}");
        let r = peer.request(7, "ping", json!({})).await;
        assert_eq!(
            r["result"],
            json!({}),
            "the server stopped serving after a panic"
        );

        // Over the default 4 MiB line limit.
        let padding = "x".repeat(5 * 1024 * 1024);
        peer.send(json!({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"pad": padding}}))
            .await;
        let r = peer.recv().await.expect("an answer to the long line");
        assert_eq!(error_code(&r), -32600, "{r}");
        assert!(r.get("id").is_none(), "{r}");
        peer.send_call(9, "echo", json!({"text": "still serving"}))
            .await;
        let r = peer.response(9).await;
        assert_eq!(r["result"]["content"][0]["text"], "still serving", "{r}");

        peer.close_input().await;
        peer.read_to_end().await;
        assert!(peer.responses_to(8).is_empty());
        let status = child.wait().await.expect("the fixture exits");
        assert_eq!(status.code(), Some(0), "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn cancelling_hang_drops_it_and_no_response_follows() {
    let dir = TempDir::new("cancel");
    let (mut peer, mut child) = spawn_fixture();
    within("the cancellation scenario", async {
        peer.initialize().await;
        peer.send_call(2, "hang", json!({"dir": dir.arg()})).await;
        assert_eq!(peer.progress(2).await["message"], "started");
        wait_for_file(&dir.join("started")).await;
        assert!(!dir.join("dropped").exists());

        peer.send_cancel(2).await;
        // The guard inside the tool's future wrote this as the future was dropped.
        wait_for_file(&dir.join("dropped")).await;

        let pong = peer.request(3, "ping", json!({})).await;
        assert_eq!(pong["result"], json!({}));
        assert!(peer.responses_to(2).is_empty(), "{:#?}", peer.received);

        peer.close_input().await;
        peer.read_to_end().await;
        assert!(
            peer.responses_to(2).is_empty(),
            "a response to the cancelled call arrived: {:#?}",
            peer.received
        );
        let status = child.wait().await.expect("the fixture exits");
        assert!(status.success(), "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn ping_and_another_call_are_answered_while_hang_runs() {
    let dir = TempDir::new("concurrent");
    let (mut peer, mut child) = spawn_fixture();
    within("the concurrency scenario", async {
        peer.initialize().await;
        peer.send_call(2, "hang", json!({"dir": dir.arg()})).await;
        peer.progress(2).await;

        let pong = peer.request(3, "ping", json!({})).await;
        assert_eq!(pong["result"], json!({}));
        peer.send_call(4, "echo", json!({"text": "meanwhile"}))
            .await;
        let r = peer.response(4).await;
        assert_eq!(r["result"]["content"][0]["text"], "meanwhile");
        let listed = peer.request(5, "tools/list", json!({})).await;
        let names: Vec<&str> = listed["result"]["tools"]
            .as_array()
            .expect("a tool list")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, ["lockstep", "hang", "ask", "panic", "echo"]);
        assert!(peer.responses_to(2).is_empty());
        assert!(!dir.join("dropped").exists());

        peer.close_input().await;
        peer.read_to_end().await;
        let status = child.wait().await.expect("the fixture exits");
        assert!(status.success(), "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn end_of_input_cancels_running_calls_and_exits_zero() {
    let dir = TempDir::new("eof");
    let (mut peer, mut child) = spawn_fixture();
    within("end of input", async {
        peer.initialize().await;
        peer.send_call(2, "hang", json!({"dir": dir.arg()})).await;
        peer.progress(2).await;
        wait_for_file(&dir.join("started")).await;

        peer.close_input().await;
        let status = child.wait().await.expect("the fixture exits");
        assert_eq!(status.code(), Some(0), "{status:?}");
        // The running call was cancelled (its future dropped), not left behind.
        assert!(dir.join("dropped").exists());
        peer.read_to_end().await;
        assert!(peer.responses_to(2).is_empty());
    })
    .await;
}
