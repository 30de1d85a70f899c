//! A reader that stops reading the server's output holds the tool back: the outbox and the
//! pipe are bounded, so the tool's progress reports wait instead of piling up in memory.

mod stdio_common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use mcp_transport::stdio::serve_io;
use serde_json::json;
use stdio_common::raw::{RawPeer, within};
use stdio_common::tools::{Signals, server};

const ITEMS: usize = 2000;

// Paused time advances only when every task is blocked, so the sleep below returns exactly
// when the tool can go no further: no race with the tool's speed.
#[tokio::test(start_paused = true)]
async fn a_slow_reader_holds_the_tool_back() {
    let signals = Signals::new();
    let server = server(&signals, 4);
    let (peer_out, server_in) = tokio::io::duplex(64 * 1024);
    // A small output pipe: about eight progress lines fit.
    let (server_out, peer_in) = tokio::io::duplex(1024);
    let serving = tokio::spawn(async move { serve_io(&server, server_in, server_out).await });
    let mut peer = RawPeer::new(peer_in, peer_out);

    within("the back-pressure scenario", async {
        peer.initialize().await;
        peer.send_call(1, "flood", json!({"count": ITEMS})).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let sent = signals.flooded.load(Ordering::SeqCst);
        assert!(sent > 0, "the tool never ran");
        assert!(
            sent < 64,
            "the tool sent {sent} reports to a reader that read none: something buffers"
        );

        let mut seen = 0;
        loop {
            let message = peer.recv().await.expect("the output stays open");
            if message["method"] == "notifications/progress" {
                seen += 1;
                assert_eq!(message["params"]["message"], format!("item {seen}"));
            } else if message["id"] == 1 {
                assert_eq!(message["result"]["content"][0]["text"], "flooded");
                break;
            }
        }
        assert_eq!(seen, ITEMS);
        peer.close_input().await;
        peer.read_to_end().await;
        serving
            .await
            .expect("the server task")
            .expect("a clean end");
    })
    .await;
}
