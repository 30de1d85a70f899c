//! The guide's chapter "Testing your tools": a tool tested through an in-memory client, with
//! assertions on each progress event, on the result, and on a bad argument.

// ANCHOR: all
use std::time::Duration;

use mcp_core::{CallEvent, Progress, Server, memory, tool};
use serde_json::json;

/// Counts down from `from`, reporting each number.
#[tool]
async fn countdown(
    /// Where to start, from 1 to 100.
    #[arg(min = 1, max = 100)]
    from: u64,
) -> String {
    for n in (1..=from).rev() {
        yield_!(Progress::step(from - n + 1, from, format!("{n}...")));
    }
    "liftoff".to_owned()
}

#[tokio::test]
async fn countdown_reports_each_number_then_lifts_off() {
    let server = Server::builder("test", "1")
        .tool(countdown)
        .build()
        .unwrap();
    // A client connected to a session of the server in memory: no process, no socket.
    let client = memory::connect(&server).await.unwrap();

    let mut call = client
        .call_tool_streaming("countdown", json!({"from": 3}))
        .await
        .unwrap();
    let mut messages = Vec::new();
    let result = loop {
        // A bound on every wait: a tool that hangs fails the test instead of hanging it.
        let event = tokio::time::timeout(Duration::from_secs(10), call.next_event())
            .await
            .expect("the next event in time")
            .expect("events until the result");
        match event {
            CallEvent::Progress(p) => {
                assert_eq!(p.total, Some(3.0));
                messages.push(p.message.unwrap_or_default());
            }
            CallEvent::Done(result) => break result.unwrap(),
        }
    };
    assert_eq!(messages, ["3...", "2...", "1..."]);
    assert_eq!(result.text(), "liftoff");
    assert!(!result.is_error());
}

#[tokio::test]
async fn a_bad_argument_is_a_result_the_model_can_read() {
    let server = Server::builder("test", "1")
        .tool(countdown)
        .build()
        .unwrap();
    let client = memory::connect(&server).await.unwrap();
    let result = client
        .call_tool("countdown", json!({"from": 0}))
        .await
        .unwrap();
    assert!(result.is_error());
    assert_eq!(
        result.text(),
        "Invalid arguments for tool `countdown`: `from` must be at least 1 (got 0)"
    );
}
// ANCHOR_END: all
