//! Runnable examples for the guide, and a fixture server for the tests.
//!
//! The binaries in `src/bin/` are the guide's code: the book includes their marked regions
//! (`// ANCHOR: name`), so what the guide shows is what compiles and what the tests run.
//!
//! - `streaming-demo`: a server with one streaming tool, `count`.
//! - `streaming-client`: starts `streaming-demo` and prints each progress event as it arrives.
//! - `fixture-server`: tools whose only purpose is to be tested (lockstep, hang, panic, echo).
//! - `mount-hyper`: an existing hyper application with the MCP server mounted beside its routes.
//! - `conformance-server`: the [`conformance`] server, for the official conformance suite.
//! - [`tour`]: the tools of the guide's chapter on writing tools.

pub mod conformance;
pub mod tour;

/// Sends logs to stderr, filtered by `RUST_LOG` (default `info`).
///
/// A stdio server must never log to stdout: stdout carries the protocol.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

use std::net::SocketAddr;

use mcp_core::Server;
use mcp_transport::http::{HttpConfig, serve as serve_http};

/// How clients reach a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// Newline-delimited JSON-RPC on stdin and stdout.
    Stdio,
    /// HTTP on `--bind`: streamable HTTP at `/mcp` and, for older clients, HTTP+SSE at `/sse`.
    Http,
    /// The same HTTP listener, announced by its legacy HTTP+SSE address (`/sse`).
    Sse,
}

/// Command-line options shared by the example servers.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The transport to serve on.
    #[arg(long, value_enum, default_value_t = Transport::Stdio, env = "MCP_TRANSPORT")]
    pub transport: Transport,
    /// The address HTTP listens on (with `--transport http` or `sse`).
    #[arg(long, default_value = "127.0.0.1:8000", env = "MCP_BIND")]
    pub bind: SocketAddr,
}

// ANCHOR: serve
/// Serves `server` as `args` say, until stdin ends (stdio) or Ctrl-C (HTTP, which then
/// shuts down gracefully: open streams get a moment to finish).
pub async fn serve(server: &Server, args: &ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    match args.transport {
        Transport::Stdio => mcp_transport::stdio::serve(server).await?,
        Transport::Http | Transport::Sse => {
            let running = serve_http(args.bind, server, HttpConfig::default()).await?;
            let addr = running.local_addr();
            match args.transport {
                Transport::Sse => tracing::info!("serving legacy HTTP+SSE at http://{addr}/sse"),
                _ => tracing::info!(
                    "serving streamable HTTP at http://{addr}/mcp (legacy HTTP+SSE at /sse)"
                ),
            }
            let stop = running.shutdown_handle();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::info!("shutting down");
                    stop.trigger();
                }
            });
            running.wait().await;
        }
    }
    Ok(())
}
// ANCHOR_END: serve
