//! Run with: cargo run -p mcp-stata --example mount
//!
//! A server of your own that mounts the Stata tools beside a tool of its own, over stdio.
//! It finds Stata as `mcp-stata` does (`STATA_PATH`, the usual installs, `PATH`) and still
//! starts without it: the Stata tools then explain how to set `STATA_PATH`.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::{Server, tool};
use mcp_stata::tools::INSTRUCTIONS;
use mcp_stata::{StataTools, ToolsConfig};

// ANCHOR: own_tool
/// Counts the words of a text (a tool of the host server, next to Stata's).
#[tool(read_only)]
async fn word_count(
    /// The text to count.
    text: String,
) -> String {
    format!("{} words", text.split_whitespace().count())
}
// ANCHOR_END: own_tool

// ANCHOR: mount
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Where Stata is and how long a call may run; relative paths start in the project.
    let config = ToolsConfig::locate()
        .working_dir(std::env::current_dir()?)
        .timeout(Duration::from_secs(30 * 60));
    // Shared, so that the sessions can be closed when the server stops.
    let stata = Arc::new(StataTools::new(config));
    let server = Server::builder("my-research-server", "1.0")
        .instructions(INSTRUCTIONS)
        .tool(word_count)
        .tools_shared(Arc::clone(&stata))
        .build()?;
    mcp_transport::stdio::serve(&server).await?;
    stata.close_all_sessions().await;
    Ok(())
}
// ANCHOR_END: mount
