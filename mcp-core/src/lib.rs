//! # mcp-core
//!
//! The protocol core of a Model Context Protocol framework built for tools that **stream**:
//! typed JSON-RPC messages, version negotiation, the server and client sessions, and the
//! [`Tool`] trait that `#[tool]` implements.
//!
//! ```
//! use mcp_core::{tool, Server};
//!
//! /// Counts to `to`, reporting each step as it happens.
//! #[tool]
//! async fn count(to: u32) -> String {
//!     for i in 1..=to {
//!         mcp_core::yield_!(format!("step {i} of {to}"));
//!     }
//!     format!("counted to {to}")
//! }
//!
//! let server = Server::builder("demo", "1.0").tool(count).build().unwrap();
//! assert!(server.tool("count").is_some());
//! ```
//!
//! This crate moves messages, not bytes: a transport (see `mcp-transport`) feeds a
//! [`ServerSession`] parsed [`Message`]s and writes out the [`Outbound`] messages it produces,
//! each tagged with the request it belongs to.

pub mod client;
mod context;
pub mod error;
mod hex;
mod input;
pub mod jsonrpc;
pub mod memory;
pub mod middleware;
mod peer;
pub mod plugin;
mod progress;
pub mod prompt;
pub mod protocol;
pub mod resource;
pub mod server;
mod sync;
pub mod task;
pub mod tool;
pub mod transport;

pub use client::{CallEvent, Client, ClientChannel, ClientOptions, StartedEvent, ToolCall};
pub use context::{Context, Input};
pub use error::{ErrorCode, RequestError, RpcError};
pub use input::{DEFAULT_STATE_TTL, StateKey};
pub use jsonrpc::{JsonObject, Message, Payload, RequestId};
pub use mcp_macros::{prompt, resource, tool, tools};
pub use plugin::{Catalog, Plugin, PluginCapabilities, PluginHandle};
pub use progress::Progress;
pub use prompt::{FnPrompt, IntoCompletion, IntoGetPromptResult, Prompt};
pub use protocol::{CallToolResult, Content, ProtocolVersion};
pub use resource::{ResourceBody, ResourceProvider, StaticResource};
pub use server::{BuildError, Caller, Era, Eras, Server, ServerBuilder, ServerSession};
pub use tool::{IntoCallToolResult, Json, Tool, ToolBox, ToolOutput};
pub use transport::{Outbound, Outbox};

/// Reports progress from the body of a `#[tool]` function: `yield_!(item)`.
///
/// `#[tool]` rewrites each `yield_!(item)` written directly in the tool's body into
/// `ctx.progress(item).await`, which sends `notifications/progress` for the caller's progress
/// token at once. Where the rewrite cannot reach (inside a closure, an async block or a nested
/// function) this definition is what remains, and it stops the build with an explanation:
/// use `ctx.progress(item).await` there instead.
#[macro_export]
macro_rules! yield_ {
    ($($item:tt)*) => {
        ::core::compile_error!(
            "`yield_!` only works directly in the body of a `#[tool]` function; inside a closure, an async block, a nested fn or another macro's arguments, take a `ctx: Context` parameter and write `ctx.progress(item).await`"
        )
    };
}

#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
