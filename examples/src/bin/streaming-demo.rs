//! Run with: cargo run -p examples --bin streaming-demo
//!
//! An MCP server with one tool, `count`, that reports every step as progress while it runs.
//! It speaks stdio by default: start it from an MCP client (or `streaming-client`), or type
//! JSON-RPC lines at it by hand. With `--transport http` it listens on `--bind`
//! (default `127.0.0.1:8000`): streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse`.

use std::time::Duration;

use clap::Parser;
use examples::ServeArgs;
use mcp_core::{Progress, Server, tool};

// ANCHOR: tool
/// Counts to `to`, reporting each step as progress while it runs.
#[tool]
async fn count(
    /// How far to count.
    to: u64,
    /// How long each step takes, in milliseconds.
    #[arg(default = 100)]
    delay_ms: u64,
) -> String {
    for i in 1..=to {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        // Sent to the client at once, as "step i of N" with total N.
        yield_!(Progress::step(i, to, format!("step {i} of {to}")));
    }
    format!("counted to {to}")
}
// ANCHOR_END: tool

/// A streaming MCP server with one tool, `count`.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

// ANCHOR: main
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: on stdio, stdout carries the protocol.
    examples::init_logging();
    let args = Args::parse();
    let server = Server::builder("streaming-demo", env!("CARGO_PKG_VERSION"))
        .tool(count)
        .build()?;
    // stdio, or HTTP (streamable at /mcp, legacy SSE at /sse) on --bind.
    examples::serve(&server, &args.serve).await
}
// ANCHOR_END: main
