//! A mounted server as a [`Plugin`]: its catalog as our tools, prompts and resources, kept
//! current while the server runs.
//!
//! Mount it with [`ServerBuilder::plugin_prefixed`](mcp_core::ServerBuilder::plugin_prefixed):
//! the server puts the prefix on every name (`count` under `demo` is `demo_count`; a resource
//! `test://static-text` is `test://demo/static-text`) and takes it off again before a request
//! reaches the plugin. With the prefix `""` everything keeps its name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcp_core::plugin::{Catalog, Plugin, PluginCapabilities, PluginError, PluginHandle};
use mcp_core::prompt::Prompt;
use mcp_core::protocol::{
    CallToolResult, GetPromptResult, PromptDefinition, ReadResourceResult, Resource,
    ResourceTemplate, TaskSupport, ToolDefinition, ToolExecution,
};
use mcp_core::task::TASKS_EXTENSION;
use mcp_core::tool::{BoxFuture, errors_as_results};
use mcp_core::{Context, Payload, ResourceProvider, RpcError, Tool};

use crate::remote::{self, Remote};
use crate::task::offers_tasks;

/// A mounted server as a plugin: what it offers appears as the plugin's catalog; a
/// `list_changed` from it replaces that catalog (and the server tells its own clients);
/// its resource updates reach our subscribers; shutting the plugin down stops the server.
#[derive(Debug, Clone)]
pub struct RemotePlugin {
    remote: Remote,
    /// The server's catalog as last handed to the server we are mounted on.
    handed: Arc<Mutex<Arc<remote::Catalog>>>,
}

impl RemotePlugin {
    /// `remote` as a plugin.
    pub fn new(remote: Remote) -> RemotePlugin {
        RemotePlugin {
            remote,
            handed: Arc::default(),
        }
    }

    /// The mounted server.
    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// The plugin catalog of a remote catalog: one forwarding tool, prompt and resource
    /// source per entry, under the server's own names.
    fn catalog_of(&self, listed: &remote::Catalog) -> Catalog {
        let mut catalog = Catalog::new();
        // A 2026-07-28 server says per call, not per tool, whether a call becomes a task:
        // each of its tools may, and the server decides.
        let tasks_per_call = listed
            .capabilities
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key(TASKS_EXTENSION));
        for definition in &listed.tools {
            let mut definition = definition.clone();
            if tasks_per_call && definition.execution.is_none() {
                definition.execution = Some(ToolExecution {
                    task_support: Some(TaskSupport::Optional),
                });
            }
            catalog = catalog.tool(RemoteTool {
                remote: self.remote.clone(),
                definition,
            });
        }
        for definition in &listed.prompts {
            catalog = catalog.prompt(RemotePrompt {
                remote: self.remote.clone(),
                definition: definition.clone(),
            });
        }
        if !listed.resources.is_empty() || !listed.templates.is_empty() {
            catalog = catalog.resources(RemoteResources {
                remote: self.remote.clone(),
                resources: listed.resources.clone(),
                templates: listed.templates.clone(),
            });
        }
        catalog
    }
}

impl Plugin for RemotePlugin {
    fn name(&self) -> String {
        self.remote.name().to_owned()
    }

    fn catalog(&self) -> Catalog {
        let listed = self.remote.catalog();
        *self.handed.lock().unwrap_or_else(|e| e.into_inner()) = listed.clone();
        self.catalog_of(&listed)
    }

    fn instructions(&self) -> Option<String> {
        self.remote.catalog().instructions.clone()
    }

    fn capabilities(&self) -> PluginCapabilities {
        let mut capabilities = PluginCapabilities::none().with_list_changed();
        let listed = self.remote.catalog();
        let offered = &listed.capabilities;
        // Not up yet: it may offer anything once it is.
        let unknown = !self.remote.is_up();
        if unknown || offered.prompts.is_some() {
            capabilities = capabilities.with_prompts();
        }
        if unknown || offered.resources.is_some() {
            capabilities = capabilities.with_resource_subscriptions();
        }
        if unknown || offers_tasks(offered) {
            capabilities = capabilities.with_tasks();
        }
        capabilities
    }

    fn start(self: Arc<Self>, handle: PluginHandle) -> BoxFuture<Result<(), PluginError>> {
        tokio::spawn(follow(self.clone(), handle));
        Box::pin(std::future::ready(Ok(())))
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        Box::pin(async move { self.remote.shutdown().await })
    }
}

/// Relays the server's new catalogs and resource updates to the server it is mounted on,
/// until either goes.
async fn follow(plugin: Arc<RemotePlugin>, handle: PluginHandle) {
    let mut catalogs = plugin.remote.catalog_changes();
    let mut updates = plugin.remote.resource_updates();
    loop {
        let now = catalogs.borrow_and_update().clone();
        // What the server was built with may already be stale: compare with what it has.
        let last = plugin
            .handed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if now != last {
            *plugin.handed.lock().unwrap_or_else(|e| e.into_inner()) = now.clone();
            if let Err(e) = handle.set_catalog(plugin.catalog_of(&now)).await {
                tracing::error!(server = %plugin.remote.name(), "its new catalog is refused: {e}");
            }
            handle.set_instructions(now.instructions.clone());
        }
        tokio::select! {
            changed = catalogs.changed() => if changed.is_err() { return },
            update = updates.recv() => match update {
                Ok(uri) => handle.notify_resource_updated(&uri).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(server = %plugin.remote.name(), "{n} resource updates lost");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// A tool of a mounted server.
struct RemoteTool {
    remote: Remote,
    definition: ToolDefinition,
}

impl Tool for RemoteTool {
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult> {
        errors_as_results(self.call_or_error(ctx, arguments))
    }

    fn call_or_error(
        &self,
        ctx: Context,
        arguments: Payload,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        let remote = self.remote.clone();
        let name = self.definition.name.clone();
        let arguments = arguments.into_object();
        Box::pin(async move {
            // A call our caller made a task (or that may become one) goes down as a task.
            match ctx.hold_task() {
                Some(hold) => remote.call_tool_task(&ctx, &name, arguments, hold).await,
                None => remote.call_tool(&ctx, &name, arguments).await,
            }
        })
    }
}

/// A prompt of a mounted server.
struct RemotePrompt {
    remote: Remote,
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
        let name = self.definition.name.clone();
        Box::pin(async move { remote.get_prompt(&ctx, &name, arguments).await })
    }
}

/// The resources and templates of a mounted server, as listed.
struct RemoteResources {
    remote: Remote,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
}

impl RemoteResources {
    /// Whether `uri` is one of the resources or fits one of the templates (by the literal
    /// part before its first variable).
    fn offers(&self, uri: &str) -> bool {
        self.resources.iter().any(|r| r.uri == uri)
            || self.templates.iter().any(|t| {
                let literal = t.uri_template.split('{').next().unwrap_or_default();
                !literal.is_empty() && uri.starts_with(literal)
            })
    }
}

impl ResourceProvider for RemoteResources {
    fn resources(&self) -> Vec<Resource> {
        self.resources.clone()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        self.templates.clone()
    }

    fn read(
        &self,
        ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        if !self.offers(uri) {
            return None;
        }
        let remote = self.remote.clone();
        let uri = uri.to_owned();
        Some(Box::pin(
            async move { remote.read_resource(&ctx, &uri).await },
        ))
    }
}
