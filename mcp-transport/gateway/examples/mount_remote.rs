//! Run with: cargo run -p mcp-gateway --example mount_remote -- --transport http
//!
//! A server with a tool of its own and, beside it, another MCP server mounted under a prefix:
//! `streaming-demo` (found on `PATH`), started over stdio, whose `count` becomes `demo_count`.

// ANCHOR: all
use std::time::Duration;

use mcp_core::{Server, tool};
use mcp_gateway::{Remote, RemoteOptions, RemotePlugin, Upstream};

/// Says hello.
#[tool]
async fn hello(name: String) -> String {
    format!("Hello, {name}!")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Remote::start(
        "demo",
        Upstream::command("streaming-demo", ["--transport", "stdio"]),
        RemoteOptions::default(),
    );
    // Its first catalog becomes the plugin's; later changes follow by themselves.
    demo.ready(Duration::from_secs(30)).await?;
    let server = Server::builder("mine", "1.0")
        .tool(hello)
        .plugin_prefixed("demo", RemotePlugin::new(demo))
        .build()?;
    // Starts the plugin (it follows the demo from now on); stopping the server stops the demo.
    mcp_transport::serve(&server).await?;
    Ok(())
}
// ANCHOR_END: all
