//! Run with: cargo run -p examples --bin notes-server -- --transport http
//!
//! Serves `examples::notes`: a tool, prompts and resources (see the guide's chapter
//! "Prompts and resources"). Try it with `mcp-probe list -- target/debug/notes-server`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = examples::notes::server()?;
    mcp_transport::serve(&server).await?;
    Ok(())
}
