//! `yield_!` in a tool's body: each item is a progress notification, sent at once.
//!
//! The lockstep tests prove "at once" without timing: the tool waits after each yield for a
//! permit that the test grants only after its client received that progress event. Any
//! buffering between the body and the client deadlocks them, and `within` fails the test.
//! `yield_!` needs no import: `#[tool]` rewrites it before name resolution.

mod common;

use common::{connect, within};
use mcp_core::{CallEvent, Context, Progress, Server, ToolCall, tool};
use serde_json::json;
use tokio::sync::Semaphore;

static LOCKSTEP_GATE: Semaphore = Semaphore::const_new(0);

/// Counts to `to`, waiting for the test after each step.
#[tool]
async fn lockstep(
    /// How far to count.
    to: u32,
) -> String {
    for i in 1..=to {
        yield_!(format!("step {i} of {to}"));
        LOCKSTEP_GATE.acquire().await.expect("open").forget();
    }
    format!("counted to {to}")
}

/// Yields in every position the rewrite handles, mixed with `ctx.progress`.
#[tool]
async fn positions(ctx: &Context, flag: bool) -> String {
    yield_!("statement");
    let () = yield_!(String::from("expression"));
    if flag {
        mcp_core::yield_! { "braces, full path" }
    }
    match flag {
        true => yield_![Progress::new().message("bracket, in a match arm")],
        false => {}
    }
    ctx.progress("by hand").await;
    let mut i = 0;
    while i < 2 {
        yield_!(Progress::step(i + 5, 10, format!("explicit {i}")),);
        i += 1;
    }
    {
        yield_!("in a block");
    }
    "done".to_owned()
}

/// Reports how many steps it took, even when nobody listens.
#[tool]
async fn quiet(steps: u32) -> Result<String, String> {
    for i in 0..steps {
        yield_!(format!("{i}"));
    }
    if steps == 0 {
        return Err("nothing to do".into());
    }
    Ok(format!("{steps} steps"))
}

fn server() -> Server {
    Server::builder("progress", "1")
        .tool(lockstep)
        .tool(positions)
        .tool(quiet)
        .build()
        .expect("server builds")
}

async fn next(call: &mut ToolCall) -> CallEvent {
    within(call.next_event()).await.expect("an event")
}

#[tokio::test]
async fn each_yield_arrives_before_the_body_continues() {
    let client = connect(&server()).await;
    let mut call = within(client.call_tool_streaming("lockstep", json!({"to": 3})))
        .await
        .expect("call sent");
    for i in 1..=3 {
        match next(&mut call).await {
            CallEvent::Progress(p) => {
                assert_eq!(p.progress, f64::from(i));
                assert_eq!(
                    p.message.as_deref(),
                    Some(format!("step {i} of 3").as_str())
                );
                assert_eq!(p.total, None);
            }
            CallEvent::Done(r) => panic!("result before progress {i}: {r:?}"),
        }
        LOCKSTEP_GATE.add_permits(1);
    }
    match next(&mut call).await {
        CallEvent::Done(result) => assert_eq!(result.expect("result").text(), "counted to 3"),
        CallEvent::Progress(p) => panic!("unexpected progress {p:?}"),
    }
}

#[tokio::test]
async fn every_position_reports_in_order_with_increasing_progress() {
    let client = connect(&server()).await;
    let mut call = within(client.call_tool_streaming("positions", json!({"flag": true})))
        .await
        .expect("call sent");
    let mut seen = Vec::new();
    let result = loop {
        match next(&mut call).await {
            CallEvent::Progress(p) => seen.push(p),
            CallEvent::Done(result) => break result.expect("result"),
        }
    };
    assert_eq!(result.text(), "done");
    let messages: Vec<_> = seen
        .iter()
        .map(|p| p.message.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        [
            "statement",
            "expression",
            "braces, full path",
            "bracket, in a match arm",
            "by hand",
            "explicit 0",
            "explicit 1",
            "in a block"
        ]
    );
    let values: Vec<f64> = seen.iter().map(|p| p.progress).collect();
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0]);
    assert_eq!(seen[5].total, Some(10.0));
    assert_eq!(seen[7].total, Some(10.0), "the total carries over");
}

#[tokio::test]
async fn without_a_progress_token_yield_is_a_no_op() {
    let client = connect(&server()).await;
    let result = within(client.call_tool("quiet", json!({"steps": 4})))
        .await
        .expect("result");
    assert_eq!(result.text(), "4 steps");
    let failed = within(client.call_tool("quiet", json!({"steps": 0})))
        .await
        .expect("result");
    assert!(failed.is_error());
    assert_eq!(failed.text(), "nothing to do");

    // The same tool streams when asked to.
    let mut call = within(client.call_tool_streaming("quiet", json!({"steps": 2})))
        .await
        .expect("call sent");
    let mut progress = 0;
    loop {
        match next(&mut call).await {
            CallEvent::Progress(_) => progress += 1,
            CallEvent::Done(r) => {
                assert_eq!(r.expect("result").text(), "2 steps");
                break;
            }
        }
    }
    assert_eq!(progress, 2);
}
