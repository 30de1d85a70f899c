//! `mcp-stata`: an MCP server whose tools run Stata and stream its log while it runs.
//!
//! Run with: `cargo run -p mcp-stata -- --transport stdio` (the default) or
//! `--transport http --bind 127.0.0.1:8000` (streamable HTTP at `/mcp`, legacy HTTP+SSE at
//! `/sse`). Every option can also come from the environment; see `mcp-stata --help`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mcp_core::Server;
use mcp_stata::{StataArgs, StataPlugin, ToolsConfig};
use mcp_transport::ServeArgs;

/// An MCP server that runs Stata: do-files and code in batch runs (on this machine or a Slurm
/// cluster) or persistent sessions, with the log streamed as progress while Stata writes it.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Stata, where runs go, and limits (checked at start-up).
    #[command(flatten)]
    stata: StataArgs,
    /// Transport, address, limits and logging: the flags every server of mcp-streaming
    /// shares (see the guide's configuration reference).
    #[command(flatten)]
    serve: ServeArgs,
}

async fn run(args: Args, config: ToolsConfig) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder("mcp-stata", env!("CARGO_PKG_VERSION"))
        .title("Stata")
        .plugin(StataPlugin::new(config))
        .build()?;
    // stdio, or HTTP on --bind; a graceful stop on SIGINT or SIGTERM. The plugin's shutdown
    // hook then ends the sessions cleanly; batch runs still going are killed (with their
    // process groups) when the runtime drops them.
    Ok(args.serve.run(&server).await?)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = args.serve.init_logging() {
        eprintln!("mcp-stata: {e}");
        return ExitCode::from(2);
    }
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
    // Dropping the tasks kills what is left of any Stata run; do not wait long for tasks
    // that are slow to let go.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
