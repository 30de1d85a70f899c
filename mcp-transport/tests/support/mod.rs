//! Shared by the HTTP client and proxy tests: a lockstep fixture server, a connection-cutting
//! TCP relay, and real reverse proxies.

#![allow(dead_code, unreachable_pub)]

mod ports;
mod proxy_proc;
mod relay;

use std::sync::Arc;
use std::time::Duration;

pub use proxy_proc::{Proxy, ProxyKind};
pub use relay::cutting_relay;

use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallEvent, IntoCallToolResult, Progress, Server, ToolCall};
use serde_json::json;
use tokio::sync::Semaphore;

/// The overall limit of one wait: generous, so that only a deadlock reaches it.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A server with a `steps` tool: it yields `step i of n`, then waits for one permit of
/// `release` before the next step. The test adds a permit only after its client received
/// step i, so any buffering between them deadlocks.
pub fn lockstep_server(release: Arc<Semaphore>) -> Server {
    let def: ToolDef = serde_json::from_value(json!({
        "name": "steps",
        "description": "Yields `n` steps, each after the test acknowledges the previous one.",
        "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
    }))
    .expect("valid definition");
    Server::builder("lockstep", "1")
        .tool(FnTool::new(def, move |ctx, args| {
            let release = release.clone();
            async move {
                let n = args.get("n").and_then(|v| v.as_u64()).unwrap_or(5);
                for i in 1..=n {
                    ctx.progress(Progress::step(i, n, format!("step {i} of {n}")))
                        .await;
                    release.acquire().await.expect("open semaphore").forget();
                }
                format!("finished {n} steps").into_call_tool_result()
            }
        }))
        .build()
        .expect("valid server")
}

/// Reads a lockstep call to the end: each progress event must be the next step; only then
/// is the tool released. Returns the result's text.
pub async fn drive_lockstep(mut call: ToolCall, n: u64, release: &Semaphore) -> String {
    for i in 1..=n {
        let event = tokio::time::timeout(LIMIT, call.next_event())
            .await
            .unwrap_or_else(|_| panic!("progress {i} never arrived: something buffered"));
        match event {
            Some(CallEvent::Progress(p)) => {
                assert_eq!(p.progress, i as f64, "progress arrives in order, once each");
                assert_eq!(p.total, Some(n as f64));
                assert_eq!(
                    p.message.as_deref(),
                    Some(format!("step {i} of {n}").as_str())
                );
            }
            other => panic!("expected progress {i}, got {other:?}"),
        }
        release.add_permits(1);
    }
    match tokio::time::timeout(LIMIT, call.next_event()).await {
        Ok(Some(CallEvent::Done(Ok(result)))) => result.text(),
        other => panic!("expected the result, got {other:?}"),
    }
}
