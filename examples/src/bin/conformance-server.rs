//! Run with: cargo run -p examples --bin conformance-server -- --transport http --bind 127.0.0.1:3001
//!
//! The fixture server of the official MCP conformance suite (see `examples::conformance`).
//! `scripts/conformance.sh` starts it on a free loopback port and runs the suite against
//! `http://127.0.0.1:PORT/mcp`.

/// The fixture server of the MCP conformance suite.
#[derive(Debug, clap::Parser)]
struct Args {
    #[command(flatten)]
    serve: examples::ServeArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    examples::init_logging();
    let args = <Args as clap::Parser>::parse();
    let server = examples::conformance::server()?;
    examples::serve(&server, &args.serve).await
}
