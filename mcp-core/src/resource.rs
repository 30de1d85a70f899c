//! The [`ResourceProvider`] trait: data a server exposes by URI.

use crate::context::Context;
use crate::error::RpcError;
use crate::protocol::{
    BlobResourceContents, Completion, ReadResourceResult, Resource, ResourceContents,
    ResourceTemplate, TextResourceContents,
};
use crate::tool::BoxFuture;

/// A source of resources. A server may have several; `resources/read` asks each in turn.
pub trait ResourceProvider: Send + Sync + 'static {
    /// The resources listed by `resources/list`.
    fn resources(&self) -> Vec<Resource>;

    /// The templates listed by `resources/templates/list`. None by default.
    fn templates(&self) -> Vec<ResourceTemplate> {
        Vec::new()
    }

    /// Reads `uri`, or returns `None` when the URI is not this provider's.
    fn read(
        &self,
        ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>>;

    /// Suggestions for a template variable being typed. `None` when the template is not
    /// this provider's.
    fn complete(&self, template: &str, argument: &str, value: &str) -> Option<Completion> {
        let _ = (template, argument, value);
        None
    }
}

/// One resource with fixed contents.
#[derive(Debug, Clone)]
pub struct StaticResource {
    resource: Resource,
    contents: ResourceContents,
}

impl StaticResource {
    /// A text resource.
    pub fn text(resource: Resource, text: impl Into<String>) -> Self {
        let contents = ResourceContents::Text(TextResourceContents {
            uri: resource.uri.clone(),
            mime_type: resource.mime_type.clone(),
            text: text.into(),
            meta: None,
        });
        StaticResource { resource, contents }
    }

    /// A binary resource, given as base64.
    pub fn blob(resource: Resource, base64: impl Into<String>) -> Self {
        let contents = ResourceContents::Blob(BlobResourceContents {
            uri: resource.uri.clone(),
            mime_type: resource.mime_type.clone(),
            blob: base64.into(),
            meta: None,
        });
        StaticResource { resource, contents }
    }
}

impl ResourceProvider for StaticResource {
    fn resources(&self) -> Vec<Resource> {
        vec![self.resource.clone()]
    }

    fn read(
        &self,
        _ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        if uri != self.resource.uri {
            return None;
        }
        let result = ReadResourceResult {
            contents: vec![self.contents.clone()],
            meta: None,
        };
        Some(Box::pin(async move { Ok(result) }))
    }
}
