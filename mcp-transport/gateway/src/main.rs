//! Run with: cargo run --release -p mcp-gateway -- --config gateway.toml --transport http
//!
//! `mcp-gateway`: serves several MCP servers behind one endpoint, each mounted under a prefix,
//! as a config file says (see `mcp_gateway::config`). It serves through the library's serving
//! call, so every transport and protocol era and every flag of the project's servers apply.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mcp_gateway::{Gateway, GatewayConfig, RemoteOptions};
use mcp_transport::ServeArgs;

/// Serves several MCP servers (commands over stdio, URLs over HTTP) behind one endpoint, each
/// under a prefix, with progress relayed live.
#[derive(Debug, Parser)]
#[command(name = "mcp-gateway", version)]
struct Args {
    /// The config file (TOML): a `[servers.NAME]` table per server, with `command` or `url`.
    #[arg(long, env = "MCP_GATEWAY_CONFIG")]
    config: PathBuf,

    /// How long to wait at start-up for each server to list its tools; a server not up by then
    /// is mounted when it comes up.
    #[arg(
        long,
        env = "MCP_GATEWAY_READY_TIMEOUT",
        default_value = "30",
        value_name = "SECONDS"
    )]
    ready_timeout: u64,

    /// Transport, address, limits and logging: the flags every server shares.
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match GatewayConfig::load(&args.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mcp-gateway: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = args.serve.init_logging() {
        eprintln!("mcp-gateway: {e}");
        return ExitCode::from(2);
    }
    let ready = Duration::from_secs(args.ready_timeout);
    let gateway = Gateway::start(&config, &RemoteOptions::default(), ready).await;
    let server = match gateway.server() {
        Ok(server) => server,
        Err(e) => {
            eprintln!(
                "mcp-gateway: {e}\nmcp-gateway: in {}, give one of the two servers a `prefix` of its own",
                args.config.display()
            );
            gateway.shutdown().await;
            return ExitCode::from(2);
        }
    };
    // Runs the mounts' start hooks (they follow their servers from then on) and, when
    // serving ends, their shutdown hooks (which stop the servers).
    let served = args.serve.run(&server).await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
