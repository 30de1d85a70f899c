//! Run with: cargo run -p mcp-stata --example mount
//!
//! A server of your own that mounts the Stata plugin beside a tool of its own (stdio by
//! default; `-- --transport http --bind 127.0.0.1:8000` for HTTP: every flag of the serving
//! call works).
//! It finds Stata as `mcp-stata` does (`STATA_PATH`, the usual installs, `PATH`) and still
//! starts without it: the Stata tools then explain how to set `STATA_PATH`.

use std::time::Duration;

use mcp_core::{Server, tool};
use mcp_stata::{StataPlugin, ToolsConfig};

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
    let server = Server::builder("my-research-server", "1.0")
        .tool(word_count)
        // The Stata tools, their instructions, and their sessions closed at shutdown.
        .plugin(StataPlugin::new(config))
        .build()?;
    // stdio by default; the plugin's start and shutdown hooks run here.
    mcp_transport::serve(&server).await?;
    Ok(())
}
// ANCHOR_END: mount
