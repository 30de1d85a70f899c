//! The [`ResourceProvider`] trait: data a server exposes by URI.
//!
//! Most resources are written with `#[resource("scheme://path/{var}")]` (see
//! [`macro@crate::resource`]); this module is what the macro expands to ([`UriTemplate`],
//! [`ResourceBody`]), and what a hand-written provider implements.

mod body;
mod template;

pub use body::ResourceBody;
pub use template::{TemplatePart, UriTemplate};

use crate::context::Context;
use crate::error::RpcError;
use crate::protocol::{
    Completion, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
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
    ///
    /// The future is boxed and pinned: `Some(Box::pin(async move { ... }))`.
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

/// A function returning a provider is a provider: `#[resource("..")] async fn readme()`
/// becomes `fn readme() -> impl ResourceProvider`, so a server registers it as
/// `.resource(readme)`.
impl<F, R> ResourceProvider for F
where
    F: Fn() -> R + Send + Sync + 'static,
    R: ResourceProvider,
{
    fn resources(&self) -> Vec<Resource> {
        self().resources()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        self().templates()
    }

    fn read(
        &self,
        ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        self().read(ctx, uri)
    }

    fn complete(&self, template: &str, argument: &str, value: &str) -> Option<Completion> {
        self().complete(template, argument, value)
    }
}

/// The value of the template variable `name` among `variables` (from
/// [`UriTemplate::matches`]), parsed with `parse` (such as
/// [`from_str`](crate::prompt::from_str)); `-32002` for `uri` when it does not parse (no
/// resource has that URI), with the reason.
pub fn variable<T>(
    uri: &str,
    variables: &[(&str, String)],
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, RpcError> {
    let text = variables
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| RpcError::resource_not_found(uri))?;
    parse(text).map_err(|e| {
        let mut error = RpcError::resource_not_found(uri);
        error.message = format!("{} (`{name}`: {e})", error.message);
        error
    })
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
        let contents = with_mime(ResourceContents::text(&resource.uri, text), &resource);
        StaticResource { resource, contents }
    }

    /// A binary resource, given as base64.
    pub fn blob(resource: Resource, base64: impl Into<String>) -> Self {
        let contents = with_mime(ResourceContents::blob(&resource.uri, base64), &resource);
        StaticResource { resource, contents }
    }
}

fn with_mime(contents: ResourceContents, resource: &Resource) -> ResourceContents {
    match &resource.mime_type {
        Some(mime) => contents.mime_type(mime),
        None => contents,
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
        let result = ReadResourceResult::from(self.contents.clone());
        Some(Box::pin(async move { Ok(result) }))
    }
}
