//! Run with: cargo run -p examples --bin streaming-demo
//!
//! An MCP server with one tool, `count`, that reports every step as progress while it runs.
//! It speaks stdio by default: start it from an MCP client (or `streaming-client`), or type
//! JSON-RPC lines at it by hand.

use std::time::Duration;

use clap::{Parser, ValueEnum};
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

/// How clients reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// Newline-delimited JSON-RPC on stdin and stdout.
    Stdio,
}

/// A streaming MCP server with one tool, `count`.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The transport to serve on.
    #[arg(long, value_enum, default_value_t = Transport::Stdio)]
    transport: Transport,
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
    match args.transport {
        Transport::Stdio => mcp_transport::stdio::serve(&server).await?,
    }
    Ok(())
}
// ANCHOR_END: main
