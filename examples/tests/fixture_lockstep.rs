//! Lockstep against the real `fixture-server` binary: the tool reports step i, then waits
//! for the file `ack-<i>`, which the test writes only after its client received step i.
//! Buffering anywhere between the tool and the test (the server's stdout, the pipe, the
//! client) deadlocks the test, which then fails by timeout.

mod common;

use common::stdio_common::raw::within;
use common::{FIXTURE, TempDir, spawn_fixture};
use mcp_core::CallEvent;
use serde_json::json;
use std::time::Duration;
use tokio::process::Command;

const STEPS: u64 = 6;

#[tokio::test]
async fn lockstep_through_the_stdio_client() {
    let dir = TempDir::new("lockstep-client");
    within("lockstep through the client", async {
        let server = mcp_transport::stdio::connect(Command::new(FIXTURE))
            .await
            .expect("connect to the fixture");
        let mut call = server
            .call_tool_streaming("lockstep", json!({"steps": STEPS, "dir": dir.arg()}))
            .await
            .expect("the call is sent");
        for i in 1..=STEPS {
            match call.next_event().await {
                Some(CallEvent::Progress(p)) => {
                    assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()));
                    assert_eq!(p.progress, i as f64);
                    assert_eq!(p.total, Some(STEPS as f64));
                }
                other => panic!("expected progress {i}, got {other:?}"),
            }
            std::fs::write(dir.join(&format!("ack-{i}")), b"ack").expect("write the ack");
        }
        match call.next_event().await {
            Some(CallEvent::Done(Ok(result))) => assert_eq!(result.text(), "done"),
            other => panic!("expected the result, got {other:?}"),
        }
        drop(call);
        let status = server
            .shutdown(Duration::from_secs(20))
            .await
            .expect("the server exits");
        assert!(status.success(), "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn lockstep_over_raw_lines() {
    let dir = TempDir::new("lockstep-raw");
    let (mut peer, mut child) = spawn_fixture();
    within("lockstep over raw lines", async {
        peer.initialize().await;
        peer.send_call(1, "lockstep", json!({"steps": STEPS, "dir": dir.arg()}))
            .await;
        for i in 1..=STEPS {
            let progress = peer.progress(1).await;
            assert_eq!(progress["message"], format!("step {i}"));
            assert!(peer.responses_to(1).is_empty());
            std::fs::write(dir.join(&format!("ack-{i}")), b"ack").expect("write the ack");
        }
        let response = peer.response(1).await;
        assert_eq!(response["result"]["content"][0]["text"], "done");
        peer.close_input().await;
        peer.read_to_end().await;
        let status = child.wait().await.expect("the fixture exits");
        assert!(status.success(), "{status:?}");
    })
    .await;
}
