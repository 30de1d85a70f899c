//! MCP transports.

pub mod http;
pub mod http_client;
pub mod stdio;
