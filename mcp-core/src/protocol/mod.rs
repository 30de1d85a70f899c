//! MCP message types (serde), one spec area per file.
//!
//! Field names follow the wire (camelCase); optional fields are skipped when absent so every
//! message the server emits validates against the official schema of its revision.

/// Chained setters for a protocol struct's optional fields: `value.title("..")` sets
/// `title: Some(..)`. The doc comment names what the field holds.
macro_rules! setters {
    ($ty:ty { $($(#[$doc:meta])* $field:ident: $value:ty),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $field(mut self, value: impl Into<$value>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*
        }
    };
}

mod completion;
mod content;
mod elicitation;
mod initialize;
mod logging;
pub mod methods;
mod modern;
mod notifications;
mod prompts;
mod resources;
mod sampling;
mod tools;
mod version;

pub use completion::{
    CompleteParams, CompleteResult, Completion, CompletionArgument, CompletionContext,
    CompletionRef,
};
pub use content::{
    Annotations, AudioContent, BlobResourceContents, Content, EmbeddedResource, ImageContent,
    ResourceContents, ResourceLink, Role, TextContent, TextResourceContents,
};
pub use elicitation::{ElicitAction, ElicitParams, ElicitResult};
pub use initialize::{
    ClientCapabilities, Implementation, InitializeParams, InitializeResult, ServerCapabilities,
};
pub use logging::{LoggingLevel, LoggingMessageParams, SetLevelParams};
pub use modern::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, CacheHint, CacheScope, DiscoverResult, InputRequest,
    InputRequiredResult, LOG_LEVEL_KEY, ListRootsResult, ListenParams, PROTOCOL_VERSION_KEY,
    RESULT_COMPLETE, RESULT_INPUT_REQUIRED, Root, SERVER_INFO_KEY, SUBSCRIPTION_ID_KEY,
    SubscriptionFilter,
};
pub use notifications::{CancelledParams, ProgressParams, ProgressToken};
pub use prompts::{
    GetPromptParams, GetPromptResult, ListPromptsResult, PromptArgument, PromptDefinition,
    PromptMessage,
};
pub use resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceTemplate, ResourceUriParams,
};
pub use sampling::{
    CreateMessageParams, CreateMessageResult, ModelHint, ModelPreferences, SamplingContent,
    SamplingMessage,
};
pub use tools::{
    CallToolParams, CallToolResult, ListToolsResult, PaginatedParams, TaskSupport, ToolAnnotations,
    ToolDefinition, ToolExecution,
};
pub use version::{ProtocolVersion, UnsupportedVersion};

/// The `_meta` member found on params and results.
pub type Meta = crate::jsonrpc::JsonObject;
