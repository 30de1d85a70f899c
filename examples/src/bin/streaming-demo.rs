//! Run with: cargo run --release -p examples --bin streaming-demo -- --transport http
//!
//! An MCP server with one tool, `count`, that reports every step as progress while it runs.
//! It speaks stdio by default: start it from an MCP client (or `mcp-probe`), or type JSON-RPC
//! lines at it by hand. With `--transport http` it listens on `--bind` (default
//! `127.0.0.1:8000`): streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse`.

// ANCHOR: all
use std::time::Duration;

use clap::Parser;
use mcp_core::{Progress, Server, tool};
use mcp_transport::ServeArgs;

/// Counts to `to`, reporting each step as progress while it runs.
#[tool]
async fn count(
    /// How far to count.
    to: u64,
    /// How long each step takes, in milliseconds.
    #[arg(default = 100, max = 60_000)]
    delay_ms: u64,
) -> String {
    for i in 1..=to {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        // Sent to the client at once, as "step i of N" with total N.
        yield_!(Progress::step(i, to, format!("step {i} of {to}")));
    }
    format!("counted to {to}")
}

/// A streaming MCP server with one tool, `count`, that reports each step as progress while
/// it runs.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Transport, address, limits and logging: the flags every server shares.
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let server = Server::builder("streaming-demo", env!("CARGO_PKG_VERSION"))
        .tool(count)
        .build()?;
    // stdio, or HTTP (streamable at /mcp, legacy SSE at /sse) on --bind; logs on stderr;
    // a graceful stop on SIGINT or SIGTERM.
    args.serve.run(&server).await?;
    Ok(())
}
// ANCHOR_END: all
