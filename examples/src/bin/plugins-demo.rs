//! Run with: cargo run -p examples --bin plugins-demo -- --transport http --metrics
//!
//! Serves `examples::plugins::server()`: a tool of its own, the notes as a plugin under the
//! prefix `notes`, and three layers around every call (see the guide's chapter "Plugins and
//! middleware"). With `--metrics`, `/metrics` serves the Prometheus text format.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = examples::plugins::server()?;
    mcp_transport::serve(&server).await?;
    Ok(())
}
