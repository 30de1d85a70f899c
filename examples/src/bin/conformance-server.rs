//! Run with: cargo run -p examples --bin conformance-server -- --transport http --bind 127.0.0.1:3001
//!
//! The fixture server of the official MCP conformance suite (see `examples::conformance`).
//! `scripts/conformance.sh` starts it on a free loopback port and runs the suite against
//! `http://127.0.0.1:PORT/mcp`.

use clap::Parser;
use mcp_transport::ServeArgs;

/// The "everything" server that the official MCP conformance suite tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let server = examples::conformance::server()?;
    args.serve.run(&server).await?;
    Ok(())
}
