//! Run with: cargo run --release -p examples --bin streaming-client
//! (after `cargo build --release -p examples`, which builds the server it starts)
//!
//! A client of `streaming-demo`, written with the client library: it starts the server over
//! stdio (or, with `--url`, connects to one over HTTP), calls its `count` tool and prints each
//! progress event the moment it arrives, then the result. For any other server and tool, use
//! `mcp-probe`.

// ANCHOR: all
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use mcp_core::{CallEvent, Client};
use mcp_transport::http_client::{self, HttpClientOptions};
use mcp_transport::stdio::{self, StdioClient};
use serde_json::json;
use tokio::process::Command;

/// Calls `count` on a streaming-demo server and prints its progress as it streams in.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The server program (default: the `streaming-demo` next to this program).
    server: Option<PathBuf>,
    /// Connect over HTTP instead: `http://127.0.0.1:8000/mcp` (streamable HTTP) or
    /// `http://127.0.0.1:8000/sse` (legacy HTTP+SSE).
    #[arg(long, conflicts_with = "server")]
    url: Option<String>,
    /// How far to count.
    #[arg(long, default_value_t = 5)]
    to: u64,
    /// How long each step takes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Over HTTP the client is all there is; over stdio it also owns the server's process.
    let (client, child): (Client, Option<StdioClient>) = match &args.url {
        Some(url) => {
            let client = http_client::connect(url, HttpClientOptions::default()).await?;
            (client, None)
        }
        None => {
            let program = match args.server {
                Some(program) => program,
                None => std::env::current_exe()?.with_file_name("streaming-demo"),
            };
            let child = stdio::connect(Command::new(program)).await?;
            (child.client().clone(), Some(child))
        }
    };
    let info = &client.server().server_info;
    println!("connected to {} {}", info.name, info.version);

    let started = Instant::now();
    let arguments = json!({"to": args.to, "delay_ms": args.delay_ms});
    let mut call = client.call_tool_streaming("count", arguments).await?;
    while let Some(event) = call.next_event().await {
        let ms = started.elapsed().as_millis();
        match event {
            CallEvent::Progress(p) => {
                let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
                let message = p.message.unwrap_or_default();
                println!("[{ms:>6} ms] progress {}{total}: {message}", p.progress);
            }
            CallEvent::Done(result) => println!("[{ms:>6} ms] result: {}", result?.text()),
        }
    }

    if let Some(child) = child {
        child.shutdown(Duration::from_secs(5)).await?;
    }
    Ok(())
}
// ANCHOR_END: all
