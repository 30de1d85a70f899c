//! MCP transports: stdio, streamable HTTP and legacy HTTP+SSE, server and client side, and the
//! serving call every binary uses ([`serve`], [`ServeArgs`]).

pub mod cli;
pub mod http;
pub mod http_client;
mod idle_poll;
pub mod metrics;
pub mod stdio;
mod sync;

pub use cli::{ServeArgs, serve};
