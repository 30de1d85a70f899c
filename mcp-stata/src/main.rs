//! `mcp-stata`: an MCP server whose tools run Stata and stream its log while it runs.
//!
//! Run with: `cargo run -p mcp-stata -- --transport stdio` (the default) or
//! `--transport http --bind 127.0.0.1:8000` (streamable HTTP at `/mcp`, legacy HTTP+SSE at
//! `/sse`). Every option can also come from the environment; see `mcp-stata --help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mcp_core::Server;
use mcp_stata::tools::INSTRUCTIONS;
use mcp_stata::{Locator, StataConfig, StataTools, ToolsConfig};
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

// ANCHOR: args
/// An MCP server that runs Stata: do-files and code in batch runs or persistent sessions,
/// with the log streamed as progress while Stata writes it.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The transport to serve on.
    #[arg(long, value_enum, default_value_t = Transport::Stdio, env = "MCP_STATA_TRANSPORT")]
    transport: Transport,
    /// The address HTTP listens on (with `--transport http` or `sse`).
    #[arg(long, default_value = "127.0.0.1:8000", env = "MCP_STATA_BIND")]
    bind: SocketAddr,
    /// The Stata executable (`stata-mp`, `stata-se`, `stata`, `StataMP-64.exe`, ...), or its
    /// directory. Default: the usual install locations, then `PATH`.
    #[arg(long, env = "STATA_PATH")]
    stata: Option<PathBuf>,
    /// Where code runs and sessions start, and what relative paths are relative to.
    /// Default: the current directory.
    #[arg(long, env = "MCP_STATA_WORKDIR")]
    workdir: Option<PathBuf>,
    /// Stop any call after this many seconds, unless the call sets its own timeout.
    #[arg(long, env = "MCP_STATA_TIMEOUT", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Where each run gets its own directory (with its log). Default: `mcp-stata` in the
    /// temporary directory.
    #[arg(long, env = "MCP_STATA_JOBS_DIR")]
    jobs_dir: Option<PathBuf>,
}
// ANCHOR_END: args

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if seconds <= 0.0 {
        return Err("the timeout must be positive".to_owned());
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
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

/// The tools' settings: Stata from `--stata` (or `STATA_PATH`) or the usual places.
fn tools_config(args: &Args) -> ToolsConfig {
    let mut locator = Locator::from_env();
    if let Some(path) = &args.stata {
        locator.stata_path = Some(path.clone().into_os_string());
    }
    let mut config = match locator.locate() {
        Ok(executable) => {
            tracing::info!(path = %executable.path.display(), edition = %executable.edition, "found Stata");
            let mut stata = StataConfig::new(executable);
            if let Some(dir) = &args.jobs_dir {
                stata.jobs_dir = dir.clone();
            }
            ToolsConfig::new(stata)
        }
        Err(error) => {
            tracing::warn!("{error}");
            tracing::warn!("serving anyway: every tool call will answer with this error");
            ToolsConfig::unavailable(error)
        }
    };
    config.working_dir = args.workdir.clone();
    config.timeout = args.timeout;
    config
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

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let tools = std::sync::Arc::new(StataTools::new(tools_config(&args)));
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args));
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
