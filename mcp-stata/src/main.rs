//! `mcp-stata`: an MCP server whose tools run Stata and stream its log while it runs.
//!
//! Run with: `cargo run -p mcp-stata -- --transport stdio` (the default) or
//! `--transport http --bind 127.0.0.1:8000` (streamable HTTP at `/mcp`, legacy HTTP+SSE at
//! `/sse`). Every option can also come from the environment; see `mcp-stata --help`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mcp_core::Server;
use mcp_stata::tools::INSTRUCTIONS;
use mcp_stata::{StataArgs, StataTools, ToolsConfig};
use mcp_transport::http::{HttpConfig, serve as serve_http};

/// How clients reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// Newline-delimited JSON-RPC on stdin and stdout (clients start the server themselves).
    Stdio,
    /// HTTP on `--bind`: streamable HTTP at `/mcp`, and legacy HTTP+SSE at `/sse`.
    Http,
    /// The same HTTP listener, announced by its legacy HTTP+SSE address (`/sse`).
    Sse,
}

/// An MCP server that runs Stata: do-files and code in batch runs (on this machine or a Slurm
/// cluster) or persistent sessions, with the log streamed as progress while Stata writes it.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The transport to serve on.
    #[arg(long, value_enum, default_value_t = Transport::Stdio, env = "MCP_STATA_TRANSPORT")]
    transport: Transport,
    /// The address HTTP listens on (with `--transport http` or `sse`).
    #[arg(long, default_value = "127.0.0.1:8000", env = "MCP_STATA_BIND")]
    bind: SocketAddr,
    /// Stata, where runs go, and limits (checked at start-up).
    #[command(flatten)]
    stata: StataArgs,
}

/// Logs go to stderr (stdout carries the protocol on stdio), filtered by `RUST_LOG`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn serve(server: &Server, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    match args.transport {
        Transport::Stdio => {
            tokio::select! {
                served = mcp_transport::stdio::serve(server) => served?,
                () = stop_signal() => tracing::info!("stopping"),
            }
        }
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
                stop_signal().await;
                tracing::info!("shutting down");
                stop.trigger();
            });
            running.wait().await;
        }
    }
    Ok(())
}

async fn run(args: Args, config: ToolsConfig) -> Result<(), Box<dyn std::error::Error>> {
    let tools = std::sync::Arc::new(StataTools::new(config));
    let server = Server::builder("mcp-stata", env!("CARGO_PKG_VERSION"))
        .title("Stata")
        .instructions(INSTRUCTIONS)
        .tools_shared(std::sync::Arc::clone(&tools))
        .build()?;
    let served = serve(&server, &args).await;
    // Sessions end cleanly; batch runs still going are killed (with their process groups)
    // when the runtime drops them.
    tools.close_all_sessions().await;
    served
}

fn main() -> ExitCode {
    init_logging();
    let args = Args::parse();
    // Settings that cannot work stop the server at once, saying which and why.
    let config = match args.stata.tools_config() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("mcp-stata: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args, config));
    // Dropping the tasks kills what is left of any Stata run. The stdio reader may sit in a
    // read of stdin that never returns (after SIGTERM, the client still holds the pipe): do
    // not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
