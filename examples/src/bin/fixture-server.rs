//! Run with: cargo run -p examples --bin fixture-server
//!
//! A server (stdio by default; `--transport http --bind ADDR` for HTTP) whose tools exist to
//! be tested: they let a test outside the process see
//! and steer what a tool does, through files in a directory the test chooses.
//!
//! - `lockstep {steps, dir}`: for each step i, reports progress "step i", then waits until
//!   the file `<dir>/ack-<i>` exists; returns "done". A test writes `ack-<i>` only once its
//!   client has received step i, so any buffering on the way deadlocks the test. It may run
//!   as a task (`task = "optional"`): the same steps then become the task's status messages.
//! - `hang {dir}`: reports "started", creates `<dir>/started`, then waits forever. It holds a
//!   guard whose drop writes `<dir>/dropped`: proof that cancelling dropped the tool. It may
//!   run as a task too (proof that cancelling the task dropped it).
//! - `ask {}`: reports "asking", asks the client for a `name` (elicitation), returns
//!   `hello, <name>`. It may run as a task (the question is then the task's input request).
//! - `panic {}`: panics (the server answers -32603 and keeps serving).
//! - `echo {text}`: returns `text`.
//!
//! With `--hook-log FILE`, a plugin whose start and shutdown hooks append `start` and
//! `shutdown` to FILE, one line each time they run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use mcp_core::plugin::PluginError;
use mcp_core::tool::BoxFuture;
use mcp_core::{Catalog, Context, Plugin, PluginHandle, Progress, RequestError, Server, tool};
use mcp_transport::ServeArgs;

/// How often `lockstep` looks for its acknowledgement file.
const POLL: Duration = Duration::from_millis(2);

/// Reports `step i`, then waits for `<dir>/ack-<i>`, for each step.
#[tool(task = "optional")]
async fn lockstep(
    /// How many steps to take.
    steps: u64,
    /// Where the test writes `ack-<i>`.
    dir: PathBuf,
) -> &'static str {
    for i in 1..=steps {
        yield_!(Progress::step(i, steps, format!("step {i}")));
        let ack = dir.join(format!("ack-{i}"));
        while !ack.exists() {
            tokio::time::sleep(POLL).await;
        }
    }
    "done"
}

/// Writes `<dir>/dropped` when dropped.
struct DropGuard(PathBuf);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Err(error) = write_marker(&self.0, "dropped") {
            tracing::error!(%error, "could not write the drop marker");
        }
    }
}

fn write_marker(dir: &Path, name: &str) -> std::io::Result<()> {
    std::fs::write(dir.join(name), format!("{name}\n"))
}

/// Reports `started`, writes `<dir>/started`, then waits forever (until cancelled).
#[tool(task = "optional")]
async fn hang(
    /// Where the tool writes `started` and, when dropped, `dropped`.
    dir: PathBuf,
) -> Result<String, String> {
    let _guard = DropGuard(dir.clone());
    yield_!("started");
    write_marker(&dir, "started").map_err(|e| format!("could not write the start marker: {e}"))?;
    std::future::pending().await
}

/// Reports `asking`, asks the client for a name (elicitation), returns `hello, <name>`.
#[tool(task = "optional")]
async fn ask(ctx: Context) -> Result<String, RequestError> {
    yield_!("asking");
    let schema = serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let schema = schema.as_object().cloned().unwrap_or_default();
    let answer = ctx.elicit("Who?", schema).await?;
    let name = answer
        .content
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("nobody")
        .to_owned();
    Ok(format!("hello, {name}"))
}

/// Panics.
#[tool]
async fn panic() -> String {
    panic!("the panic tool panicked on purpose")
}

/// Returns `text`.
#[tool]
async fn echo(
    /// The text to return.
    text: String,
) -> String {
    text
}

/// A plugin that offers nothing and writes a line to its file each time a hook runs.
struct HookLog(PathBuf);

impl HookLog {
    fn append(&self, line: &str) {
        use std::io::Write;
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(error) = written {
            tracing::error!(%error, "could not write the hook log");
        }
    }
}

impl Plugin for HookLog {
    fn name(&self) -> String {
        "hook-log".into()
    }
    fn catalog(&self) -> Catalog {
        Catalog::new()
    }
    fn start(self: Arc<Self>, _: PluginHandle) -> BoxFuture<Result<(), PluginError>> {
        self.append("start");
        Box::pin(std::future::ready(Ok(())))
    }
    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        self.append("shutdown");
        Box::pin(std::future::ready(()))
    }
}

/// A server whose tools exist to be tested: lockstep, hang, ask, panic and echo.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Mount a plugin that logs its start and shutdown hooks to this file.
    #[arg(long)]
    hook_log: Option<PathBuf>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut builder = Server::builder("fixture-server", env!("CARGO_PKG_VERSION"))
        .tool(lockstep)
        .tool(hang)
        .tool(ask)
        .tool(panic)
        .tool(echo);
    if let Some(path) = args.hook_log.clone() {
        builder = builder.plugin(HookLog(path));
    }
    let server = builder.build()?;
    args.serve.run(&server).await?;
    Ok(())
}
