//! Composing MCP servers: mount another MCP server (a command spoken to over stdio, or a URL
//! over streamable HTTP or legacy HTTP+SSE) behind ours, with its tools, prompts and resources
//! under a prefix, and the `mcp-gateway` binary that serves several from a config file behind
//! one endpoint.
//!
//! A call to a mounted tool is forwarded as it comes: each progress event the server sends
//! becomes our caller's progress the moment it arrives (nothing is buffered in between), the
//! caller cancelling drops the downstream call (which sends `notifications/cancelled` on), and
//! a server that dies fails the calls in flight with a JSON-RPC error at once. A stdio server
//! that dies is started again with back-off; a server saying `list_changed` is listed again.
//!
//! A call our caller makes a task runs as a task of ours that follows the server's own task
//! (created, read, answered and cancelled downstream on its behalf): task ids are ours, scoped
//! to our caller, so ids of two servers never meet.
//!
//! ```no_run
//! use std::time::Duration;
//! use mcp_gateway::{Remote, RemoteOptions, RemotePlugin, Upstream};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let demo = Remote::start(
//!     "demo",
//!     Upstream::command("streaming-demo", ["--transport", "stdio"]),
//!     RemoteOptions::default(),
//! );
//! demo.ready(Duration::from_secs(30)).await?;
//! let server = mcp_core::Server::builder("mine", "1.0")
//!     .plugin_prefixed("demo", RemotePlugin::new(demo)) // its `count` is `demo_count`
//!     .build()?;
//! mcp_transport::serve(&server).await?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod gateway;
mod mount;
mod relay;
mod remote;
mod task;
mod upstream;

pub use config::{ConfigError, GatewayConfig, Mount};
pub use gateway::Gateway;
pub use mount::RemotePlugin;
pub use remote::{Catalog, Remote, RemoteError, RemoteOptions};
pub use upstream::{HttpTransport, Upstream, UpstreamError};
