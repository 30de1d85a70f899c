//! A mounted server's catalog as our own tools, prompts and resources, under a prefix.
//!
//! Tool and prompt names get the prefix in front (`count` under `demo_` is `demo_count`);
//! so do resource URIs and templates (`test://static-text` under `demo_` is
//! `demo_test://static-text`): the prefix is taken off again before anything is forwarded.
//! With the prefix `""`, everything keeps its name.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_core::prompt::Prompt;
use mcp_core::protocol::{
    CallToolResult, GetPromptResult, PromptDefinition, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ToolDefinition,
};
use mcp_core::tool::BoxFuture;
use mcp_core::{Context, JsonObject, ResourceProvider, RpcError, Tool};

use crate::remote::Remote;

/// A mounted server under a prefix: builds the tools, prompts and resources that forward to it.
#[derive(Debug, Clone)]
pub struct Mounted {
    remote: Remote,
    prefix: Arc<str>,
}

impl Mounted {
    /// `remote`'s catalog under `prefix`.
    pub fn new(remote: Remote, prefix: impl Into<String>) -> Mounted {
        Mounted {
            remote,
            prefix: prefix.into().into(),
        }
    }

    /// The mounted server.
    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A tool for each tool of the server's current catalog.
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.remote
            .catalog()
            .tools
            .iter()
            .map(|definition| {
                Arc::new(RemoteTool {
                    remote: self.remote.clone(),
                    name: definition.name.clone(),
                    definition: self.tool_definition(definition),
                }) as Arc<dyn Tool>
            })
            .collect()
    }

    /// A prompt for each prompt of the server's current catalog.
    pub fn prompts(&self) -> Vec<impl Prompt + use<>> {
        self.remote
            .catalog()
            .prompts
            .iter()
            .map(|definition| {
                let mut ours = definition.clone();
                ours.name = format!("{}{}", self.prefix, definition.name);
                RemotePrompt {
                    remote: self.remote.clone(),
                    name: definition.name.clone(),
                    definition: ours,
                }
            })
            .collect()
    }

    /// The server's resources and templates, as listed at each moment.
    pub fn resources(&self) -> RemoteResources {
        RemoteResources {
            mounted: self.clone(),
        }
    }

    /// A tool definition of the server as ours.
    pub fn tool_definition(&self, definition: &ToolDefinition) -> ToolDefinition {
        let mut ours = definition.clone();
        ours.name = format!("{}{}", self.prefix, definition.name);
        ours
    }

    /// A URI of the server as ours.
    pub fn our_uri(&self, uri: &str) -> String {
        format!("{}{uri}", self.prefix)
    }

    /// One of our URIs as the server's, if it is one of the server's.
    pub fn their_uri<'a>(&self, uri: &'a str) -> Option<&'a str> {
        uri.strip_prefix(&*self.prefix)
    }
}

/// A tool of a mounted server.
struct RemoteTool {
    remote: Remote,
    /// Its name on the server.
    name: String,
    /// Its definition here.
    definition: ToolDefinition,
}

impl Tool for RemoteTool {
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call(&self, ctx: Context, arguments: JsonObject) -> BoxFuture<CallToolResult> {
        let future = self.call_or_error(ctx, arguments);
        Box::pin(async move {
            future
                .await
                .unwrap_or_else(|e| CallToolResult::error(e.message))
        })
    }

    fn call_or_error(
        &self,
        ctx: Context,
        arguments: JsonObject,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        let remote = self.remote.clone();
        let name = self.name.clone();
        Box::pin(async move { remote.call_tool(&ctx, &name, arguments).await })
    }
}

/// A prompt of a mounted server.
struct RemotePrompt {
    remote: Remote,
    name: String,
    definition: PromptDefinition,
}

impl Prompt for RemotePrompt {
    fn definition(&self) -> PromptDefinition {
        self.definition.clone()
    }

    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>> {
        let remote = self.remote.clone();
        let name = self.name.clone();
        Box::pin(async move { remote.get_prompt(&ctx, &name, arguments).await })
    }
}

/// The resources and templates of a mounted server, as it lists them at each moment.
#[derive(Debug, Clone)]
pub struct RemoteResources {
    mounted: Mounted,
}

impl RemoteResources {
    /// Whether `uri` (the server's) is one of its resources or fits one of its templates.
    fn offers(&self, uri: &str) -> bool {
        let catalog = self.mounted.remote.catalog();
        catalog.resources.iter().any(|r| r.uri == uri)
            || catalog.templates.iter().any(|t| {
                let literal = t.uri_template.split('{').next().unwrap_or_default();
                !literal.is_empty() && uri.starts_with(literal)
            })
    }
}

impl ResourceProvider for RemoteResources {
    fn resources(&self) -> Vec<Resource> {
        let catalog = self.mounted.remote.catalog();
        catalog
            .resources
            .iter()
            .map(|r| {
                let mut ours = r.clone();
                ours.uri = self.mounted.our_uri(&r.uri);
                ours
            })
            .collect()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        let catalog = self.mounted.remote.catalog();
        catalog
            .templates
            .iter()
            .map(|t| {
                let mut ours = t.clone();
                ours.uri_template = self.mounted.our_uri(&t.uri_template);
                ours
            })
            .collect()
    }

    fn read(
        &self,
        ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        let theirs = self.mounted.their_uri(uri)?;
        if !self.offers(theirs) {
            return None;
        }
        let theirs = theirs.to_owned();
        let mounted = self.mounted.clone();
        Some(Box::pin(async move {
            let mut result = mounted.remote.read_resource(&ctx, &theirs).await?;
            for contents in &mut result.contents {
                let uri = match contents {
                    ResourceContents::Text(t) => &mut t.uri,
                    ResourceContents::Blob(b) => &mut b.uri,
                };
                *uri = mounted.our_uri(uri);
            }
            Ok(result)
        }))
    }
}
