//! Lockstep over stdio framing, in process: the tool yields step i, then waits for a permit
//! that the test grants only after its client has received step i. Any buffering between the
//! tool and the client deadlocks the test, which then fails by timeout instead of hanging.

mod stdio_common;

use mcp_core::{CallEvent, Client};
use mcp_transport::stdio::{client_channel, serve_io};
use serde_json::json;
use stdio_common::raw::{RawPeer, within};
use stdio_common::tools::{Signals, server};

const STEPS: u64 = 6;

#[cfg(unix)]
#[tokio::test]
async fn lockstep_over_os_pipes_with_the_client() {
    use tokio::net::unix::pipe;

    let signals = Signals::new();
    let server = server(&signals, 64);
    let (to_server, server_input) = pipe::pipe().expect("a pipe");
    let (server_output, from_server) = pipe::pipe().expect("a pipe");
    let serving = tokio::spawn(async move { serve_io(&server, server_input, server_output).await });

    within("lockstep through the client", async {
        let client = Client::connect(client_channel(from_server, to_server))
            .await
            .expect("initialize");
        let mut call = client
            .call_tool_streaming("lockstep", json!({"steps": STEPS}))
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
            // Only now may the tool continue past step i.
            signals.release.add_permits(1);
        }
        match call.next_event().await {
            Some(CallEvent::Done(Ok(result))) => assert_eq!(result.text(), "done"),
            other => panic!("expected the result, got {other:?}"),
        }
        drop(call);
        drop(client);
        serving
            .await
            .expect("the server task")
            .expect("serve_io ends cleanly");
    })
    .await;
}

#[tokio::test]
async fn lockstep_over_a_duplex_with_raw_lines() {
    let signals = Signals::new();
    let server = server(&signals, 64);
    let (peer_out, server_in) = tokio::io::duplex(4096);
    let (server_out, peer_in) = tokio::io::duplex(4096);
    let serving = tokio::spawn(async move { serve_io(&server, server_in, server_out).await });
    let mut peer = RawPeer::new(peer_in, peer_out);

    within("lockstep over raw lines", async {
        peer.initialize().await;
        peer.send_call(7, "lockstep", json!({"steps": STEPS})).await;
        for i in 1..=STEPS {
            let progress = peer.progress(7).await;
            assert_eq!(progress["message"], format!("step {i}"));
            assert_eq!(progress["progress"], i as f64);
            assert!(
                peer.responses_to(7).is_empty(),
                "the result came before step {i}'s ack"
            );
            signals.release.add_permits(1);
        }
        let response = peer.response(7).await;
        assert_eq!(response["result"]["content"][0]["text"], "done");
        peer.close_input().await;
        peer.read_to_end().await;
        serving
            .await
            .expect("the server task")
            .expect("serve_io ends cleanly");
    })
    .await;
}
