//! MCP message types (serde), one spec area per file.
//!
//! Field names follow the wire (camelCase); optional fields are skipped when absent so every
//! message the server emits validates against the official schema of its revision.

mod content;
mod initialize;
mod logging;
pub mod methods;
mod notifications;
mod tools;
mod version;

pub use content::{
    Annotations, AudioContent, BlobResourceContents, Content, EmbeddedResource, ImageContent,
    ResourceContents, ResourceLink, Role, TextContent, TextResourceContents,
};
pub use initialize::{
    ClientCapabilities, Implementation, InitializeParams, InitializeResult, ServerCapabilities,
};
pub use logging::{LoggingLevel, LoggingMessageParams, SetLevelParams};
pub use notifications::{CancelledParams, ProgressParams, ProgressToken};
pub use tools::{
    CallToolParams, CallToolResult, ListToolsResult, PaginatedParams, Tool, ToolAnnotations,
};
pub use version::{ProtocolVersion, UnsupportedVersion};

/// The `_meta` member found on params and results.
pub type Meta = crate::jsonrpc::JsonObject;
