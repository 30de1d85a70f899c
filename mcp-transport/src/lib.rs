//! MCP transports.
