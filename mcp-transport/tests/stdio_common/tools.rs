//! In-process test tools, each signalling the test through tokio primitives.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, IntoCallToolResult, Progress, Server};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

/// What the tools share with the test.
#[derive(Clone)]
pub struct Signals {
    /// `lockstep` waits for one permit after each step.
    pub release: Arc<Semaphore>,
    /// `hang` notifies once it is running.
    pub started: Arc<Notify>,
    /// `hang`'s guard notifies when the tool's future is dropped.
    pub dropped: Arc<Notify>,
    /// How many progress reports `flood` has sent so far.
    pub flooded: Arc<AtomicUsize>,
}

impl Signals {
    /// Fresh signals; the semaphore starts with no permits.
    pub fn new() -> Self {
        Signals {
            release: Arc::new(Semaphore::new(0)),
            started: Arc::default(),
            dropped: Arc::default(),
            flooded: Arc::default(),
        }
    }
}

/// Notifies when dropped: proof that a tool's future was dropped.
struct DropGuard(Arc<Notify>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

fn def(name: &str, description: &str) -> ToolDef {
    serde_json::from_value(json!({
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .expect("a valid tool definition")
}

fn arg_u64(args: &mcp_core::JsonObject, name: &str, default: u64) -> u64 {
    args.get(name).and_then(|v| v.as_u64()).unwrap_or(default)
}

/// A server with the tools `lockstep`, `hang`, `panic`, `echo` and `flood`.
pub fn server(signals: &Signals, outbox_capacity: usize) -> Server {
    let s = signals.clone();
    let lockstep = FnTool::new(
        def(
            "lockstep",
            "Yields `step i`, then waits for the test's release.",
        ),
        move |ctx, args| {
            let release = s.release.clone();
            async move {
                let steps = arg_u64(&args, "steps", 5);
                for i in 1..=steps {
                    ctx.progress(Progress::step(i, steps, format!("step {i}")))
                        .await;
                    release.acquire().await.expect("never closed").forget();
                }
                "done".into_call_tool_result()
            }
        },
    );
    let s = signals.clone();
    let hang = FnTool::new(
        def("hang", "Yields `started`, then waits forever."),
        move |ctx, _args| {
            let started = s.started.clone();
            let guard = DropGuard(s.dropped.clone());
            async move {
                let _guard = guard;
                ctx.progress("started").await;
                started.notify_one();
                std::future::pending::<CallToolResult>().await
            }
        },
    );
    let panic = FnTool::new(def("panic", "Panics."), |_ctx, _args| async move {
        panic!("the panic tool panicked on purpose")
    });
    let echo = FnTool::new(
        def("echo", "Returns its `text`."),
        |_ctx, args| async move {
            let text = args.get("text").and_then(|v| v.as_str()).unwrap_or("");
            text.to_owned().into_call_tool_result()
        },
    );
    let s = signals.clone();
    let flood = FnTool::new(
        def("flood", "Reports `count` progress steps as fast as it may."),
        move |ctx, args| {
            let flooded = s.flooded.clone();
            async move {
                let count = arg_u64(&args, "count", 1000);
                for i in 1..=count {
                    ctx.progress(format!("item {i}")).await;
                    flooded.fetch_add(1, Ordering::SeqCst);
                }
                "flooded".into_call_tool_result()
            }
        },
    );
    Server::builder("stdio-test-server", "0.0.1")
        .outbox_capacity(outbox_capacity)
        .tool(lockstep)
        .tool(hang)
        .tool(panic)
        .tool(echo)
        .tool(flood)
        .build()
        .expect("a valid server")
}
