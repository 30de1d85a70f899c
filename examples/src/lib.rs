//! Runnable examples for the guide, and fixture servers for the tests.
//!
//! The binaries in `src/bin/` are the guide's code: the book includes them (whole, or from an
//! anchor placed before their `use` lines), so what the guide shows is what compiles and what
//! the tests run. Every server serves through `mcp_transport::serve` or
//! `mcp_transport::ServeArgs`: transport, flags, logging and shutdown live in the library.
//!
//! - `streaming-demo`: a server with one streaming tool, `count`.
//! - `streaming-client`: a client of `streaming-demo` that prints each progress event as it
//!   arrives (for any other server, use `mcp-probe`).
//! - `notes-server`: prompts and resources written with `#[prompt]` and `#[resource]`.
//! - `fixture-server`: tools whose only purpose is to be tested (lockstep, hang, ask, panic, echo).
//! - `plugins-demo`: a tool of its own, the notes mounted as a plugin under a prefix, and a
//!   stack of middleware layers ([`plugins`]), including one written from scratch.
//! - `mount-hyper`: an existing hyper application with the MCP server mounted beside its routes.
//! - `conformance-server`: the [`conformance`] server, for the official conformance suite.
//! - [`tour`]: the tools of the guide's chapter on writing tools.
//! - [`replay`]: choosing how long finished HTTP responses stay replayable.
//! - [`response_mode`]: choosing how streamable HTTP answers requests.
//! - [`stdio_options`]: serving stdio without the idle poll.
//! - [`http_options`]: an HTTP configuration without the idle poll.

pub mod conformance;
pub mod http_options;
pub mod notes;
pub mod plugins;
pub mod replay;
pub mod response_mode;
pub mod stdio_options;
pub mod tour;
