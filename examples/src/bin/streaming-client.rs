//! Run with: cargo run -p examples --bin streaming-client
//!
//! Starts the `streaming-demo` server over stdio (or, with `--url`, connects to one over
//! HTTP), calls its `count` tool, and prints each progress event the moment it arrives, then
//! the result.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use mcp_core::{CallEvent, Client};
use mcp_transport::http_client::HttpClientOptions;
use mcp_transport::stdio::{StdioClient, StdioClientOptions};
use serde_json::json;
use tokio::process::Command;

/// Calls `count` on a streaming-demo server and prints its progress as it streams in.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server program (default: the `streaming-demo` next to this program).
    server: Option<PathBuf>,
    /// How far to count.
    #[arg(long, default_value_t = 5)]
    to: u64,
    /// How long each step takes, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// Connect over HTTP instead, such as `http://127.0.0.1:8000/mcp` (streamable HTTP, with
    /// a fallback to legacy HTTP+SSE) or `http://127.0.0.1:8000/sse`.
    #[arg(long, conflicts_with = "server")]
    url: Option<String>,
}

/// How to start the server: the program given, else the `streaming-demo` built beside this
/// program, else (under `cargo run`, before it was ever built) `cargo run` of it.
fn server_command(program: Option<PathBuf>) -> std::io::Result<Command> {
    let program = match program {
        Some(program) => program,
        None => {
            let me = std::env::current_exe()?;
            let sibling =
                me.with_file_name(format!("streaming-demo{}", std::env::consts::EXE_SUFFIX));
            match std::env::var_os("CARGO") {
                Some(cargo) if !sibling.exists() => {
                    let mut command = Command::new(cargo);
                    command.args(["run", "--quiet", "--package", "examples"]);
                    command.args(["--bin", "streaming-demo", "--", "--transport", "stdio"]);
                    return Ok(command);
                }
                _ => sibling,
            }
        }
    };
    let mut command = Command::new(program);
    command.args(["--transport", "stdio"]);
    Ok(command)
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::init_logging();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("streaming-client: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: connect
    // Over HTTP the client is all there is; over stdio it also owns the server's process.
    let (server, child): (Client, Option<StdioClient>) = match &args.url {
        Some(url) => {
            let options = HttpClientOptions::default();
            (
                mcp_transport::http_client::connect(url, options).await?,
                None,
            )
        }
        None => {
            let command = server_command(args.server.clone())?;
            let options = StdioClientOptions {
                // Generous: under `cargo run` the server may first have to be built.
                connect_timeout: Duration::from_secs(300),
                ..Default::default()
            };
            let child = mcp_transport::stdio::connect_with(command, options).await?;
            (child.client().clone(), Some(child))
        }
    };
    // ANCHOR_END: connect
    let info = &server.server().server_info;
    println!("connected to {} {}", info.name, info.version);

    // ANCHOR: client
    let started = Instant::now();
    let mut call = server
        .call_tool_streaming("count", json!({"to": args.to, "delay_ms": args.delay_ms}))
        .await?;
    while let Some(event) = call.next_event().await {
        let ms = started.elapsed().as_millis();
        match event {
            CallEvent::Progress(p) => {
                let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
                let message = p.message.unwrap_or_default();
                println!("[{ms:>6} ms] progress {}{total}: {message}", p.progress);
            }
            CallEvent::Done(result) => {
                let result = result?;
                println!("[{ms:>6} ms] result: {}", result.text());
            }
        }
    }
    // ANCHOR_END: client

    if let Some(child) = child {
        child.shutdown(Duration::from_secs(5)).await?;
    }
    Ok(())
}
