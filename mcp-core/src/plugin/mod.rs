//! Plugins: one value that contributes tools, prompts, resources and instructions to a server,
//! declares what it may offer, and has async start and shutdown hooks.
//!
//! A server mounts plugins with [`ServerBuilder::plugin`](crate::ServerBuilder::plugin), or
//! under a prefix with [`ServerBuilder::plugin_prefixed`](crate::ServerBuilder::plugin_prefixed)
//! (tool and prompt `name` become `prefix_name`, a resource `scheme://path` becomes
//! `scheme://prefix/path`). Two plugins offering the same name fail to build, with a
//! [`BuildError::Clash`] naming both.
//!
//! A plugin's catalog may change while the server runs: the plugin keeps the [`PluginHandle`]
//! its [`start`](Plugin::start) hook receives and calls [`PluginHandle::set_catalog`] whenever
//! what it offers changes (a proxy learns its upstream's tools in `start`, and again on each
//! upstream `list_changed`). The server then sends `notifications/*/list_changed` to its own
//! clients, provided the plugin declared [`PluginCapabilities::list_changed`].
//!
//! Any `#[tools]` type is a plugin through [`toolbox`] (or [`ToolBoxPlugin::shared`]).
//!
//! The serving call (`mcp_transport::serve`) runs every plugin's `start` before it serves and
//! every plugin's `shutdown` once when serving ends (gracefully, or by a signal); a program that
//! serves by other means calls [`Server::start_plugins`](crate::Server::start_plugins) and
//! [`Server::shutdown_plugins`](crate::Server::shutdown_plugins) itself.

mod prefix;
pub(crate) mod registry;

use std::sync::Arc;

pub(crate) use prefix::Prefix;

use crate::prompt::Prompt;
use crate::resource::ResourceProvider;
use crate::server::{BuildError, WeakServer};
use crate::tool::{BoxFuture, Tool, ToolBox};

/// What a plugin offers at one moment: tools, prompts and resources, named as the plugin
/// names them (the server applies the plugin's prefix).
#[derive(Clone, Default)]
pub struct Catalog {
    /// The tools.
    pub tools: Vec<Arc<dyn Tool>>,
    /// The prompts.
    pub prompts: Vec<Arc<dyn Prompt>>,
    /// The resources and resource templates.
    pub resources: Vec<Arc<dyn ResourceProvider>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field(
                "tools",
                &self
                    .tools
                    .iter()
                    .map(|t| t.definition().name)
                    .collect::<Vec<_>>(),
            )
            .field(
                "prompts",
                &self
                    .prompts
                    .iter()
                    .map(|p| p.definition().name)
                    .collect::<Vec<_>>(),
            )
            .field("resources", &self.resources.len())
            .finish()
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every tool, prompt and resource of a shared `#[tools]` value.
    pub fn from_toolbox<T: ToolBox>(toolbox: &Arc<T>) -> Self {
        Catalog {
            tools: T::tools(toolbox),
            prompts: T::prompts(toolbox),
            resources: T::resources(toolbox),
        }
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, prompt: impl Prompt) -> Self {
        self.prompts.push(Arc::new(prompt));
        self
    }

    /// Adds a source of resources.
    pub fn resources(mut self, provider: impl ResourceProvider) -> Self {
        self.resources.push(Arc::new(provider));
        self
    }

    /// Whether it offers nothing.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty() && self.prompts.is_empty() && self.resources.is_empty()
    }
}

/// What a plugin may offer beyond what its catalog holds when the server is built: the server
/// announces the union of its plugins' declarations in `initialize` and `server/discover`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginCapabilities {
    /// It may offer prompts (even if its first catalog has none).
    pub prompts: bool,
    /// It may offer resources (even if its first catalog has none).
    pub resources: bool,
    /// Its resources can be subscribed to (it calls
    /// [`PluginHandle::notify_resource_updated`]).
    pub resource_subscriptions: bool,
    /// Its catalog changes at run time ([`PluginHandle::set_catalog`]): the server announces
    /// `listChanged` and tells its clients of each change.
    pub list_changed: bool,
    /// It may offer tools that run as tasks (even if its first catalog has none): the server
    /// offers tasks.
    pub tasks: bool,
}

impl PluginCapabilities {
    /// Nothing beyond the catalog (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// With prompts declared.
    pub fn with_prompts(mut self) -> Self {
        self.prompts = true;
        self
    }

    /// With resources declared.
    pub fn with_resources(mut self) -> Self {
        self.resources = true;
        self
    }

    /// With resource subscriptions declared (implies resources).
    pub fn with_resource_subscriptions(mut self) -> Self {
        self.resources = true;
        self.resource_subscriptions = true;
        self
    }

    /// With a catalog that changes at run time.
    pub fn with_list_changed(mut self) -> Self {
        self.list_changed = true;
        self
    }

    /// With tools that may run as tasks.
    pub fn with_tasks(mut self) -> Self {
        self.tasks = true;
        self
    }
}

/// Why a plugin's start hook failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PluginError(Box<dyn std::error::Error + Send + Sync>);

impl PluginError {
    /// A failure with its cause (any error, or a message).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        PluginError(cause.into())
    }
}

/// A plugin that failed to start, named.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}` failed to start: {source}")]
pub struct StartError {
    /// The plugin's name.
    pub plugin: String,
    /// What it reported.
    #[source]
    pub source: PluginError,
}

/// A plugin: tools, prompts, resources and instructions as one value, with a lifecycle.
///
/// Every method but [`name`](Self::name) and [`catalog`](Self::catalog) has a default. The
/// hooks take the plugin as an `Arc`, so their `'static` futures can keep it
/// (`Box::pin(async move { self.field... })`).
pub trait Plugin: Send + Sync + 'static {
    /// The plugin's name: the heading of its instructions and what a clash names.
    fn name(&self) -> String;

    /// What it offers when the server is built (its catalog may change later through the
    /// [`PluginHandle`] given to [`start`](Self::start)).
    fn catalog(&self) -> Catalog;

    /// Instructions for the model, merged into the server's under the plugin's name.
    fn instructions(&self) -> Option<String> {
        None
    }

    /// What it may offer beyond its first catalog (default: nothing).
    fn capabilities(&self) -> PluginCapabilities {
        PluginCapabilities::default()
    }

    /// Runs once before the server serves. `handle` lets the plugin change its catalog and
    /// instructions and notify resource updates for as long as the server lives; keep it.
    fn start(self: Arc<Self>, handle: PluginHandle) -> BoxFuture<Result<(), PluginError>> {
        let _ = handle;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Runs once when the server stops serving (gracefully or by a signal): release what
    /// the plugin holds (processes, connections).
    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        Box::pin(std::future::ready(()))
    }
}

impl<P: Plugin + ?Sized> Plugin for Arc<P> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn catalog(&self) -> Catalog {
        (**self).catalog()
    }
    fn instructions(&self) -> Option<String> {
        (**self).instructions()
    }
    fn capabilities(&self) -> PluginCapabilities {
        (**self).capabilities()
    }
    fn start(self: Arc<Self>, handle: PluginHandle) -> BoxFuture<Result<(), PluginError>> {
        P::start(Arc::clone(&*self), handle)
    }
    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        P::shutdown(Arc::clone(&*self))
    }
}

/// A plugin's way back to the server it is mounted on: given to [`Plugin::start`]. It does not
/// keep the server alive; once the server is gone its calls do nothing.
#[derive(Debug, Clone)]
pub struct PluginHandle {
    pub(crate) server: WeakServer,
    pub(crate) slot: usize,
    pub(crate) prefix: Prefix,
}

impl PluginHandle {
    /// Replaces what the plugin offers, checked as the builder checks (a clash with another
    /// plugin is refused and nothing changes). Then every client is told, for each kind the
    /// plugin offered before or offers now, that the list changed (when the plugin declared
    /// [`PluginCapabilities::list_changed`]).
    pub async fn set_catalog(&self, catalog: Catalog) -> Result<(), BuildError> {
        let Some(server) = self.server.upgrade() else {
            return Ok(());
        };
        let changed = server.inner.registry.replace(self.slot, catalog)?;
        for list in changed {
            server.notify_list_changed(list).await;
        }
        Ok(())
    }

    /// Replaces the plugin's instructions (seen by clients that initialize from now on).
    pub fn set_instructions(&self, instructions: Option<String>) {
        if let Some(server) = self.server.upgrade() {
            server
                .inner
                .registry
                .set_instructions(self.slot, instructions);
        }
    }

    /// Tells subscribed clients that the plugin's resource `uri` (as the plugin names it)
    /// changed; the server applies the plugin's prefix.
    pub async fn notify_resource_updated(&self, uri: &str) {
        if let Some(server) = self.server.upgrade() {
            server
                .notify_resource_updated(&self.prefix.resource_uri(uri))
                .await;
        }
    }

    /// The prefix the plugin is mounted under (empty for none).
    pub fn prefix(&self) -> &str {
        self.prefix.as_str()
    }
}

/// A `#[tools]` value as a plugin: its tools, prompts and resources under a name, with
/// optional instructions and no hooks.
pub struct ToolBoxPlugin<T> {
    name: String,
    toolbox: Arc<T>,
    instructions: Option<String>,
}

impl<T> std::fmt::Debug for ToolBoxPlugin<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolBoxPlugin")
            .field("name", &self.name)
            .finish()
    }
}

/// A `#[tools]` value as a plugin named `name`.
pub fn toolbox<T: ToolBox>(name: impl Into<String>, value: T) -> ToolBoxPlugin<T> {
    ToolBoxPlugin::shared(name, Arc::new(value))
}

impl<T: ToolBox> ToolBoxPlugin<T> {
    /// A shared `#[tools]` value as a plugin named `name`.
    pub fn shared(name: impl Into<String>, toolbox: Arc<T>) -> Self {
        ToolBoxPlugin {
            name: name.into(),
            toolbox,
            instructions: None,
        }
    }

    /// With instructions for the model.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }
}

impl<T: ToolBox> Plugin for ToolBoxPlugin<T> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn catalog(&self) -> Catalog {
        Catalog::from_toolbox(&self.toolbox)
    }

    fn instructions(&self) -> Option<String> {
        self.instructions.clone()
    }
}
