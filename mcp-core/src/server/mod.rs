//! The server: its tools and identity ([`Server`]), and one connection's state
//! ([`ServerSession`]).

mod caller;
mod catalog;
mod eras;
mod finish;
mod headers;
mod preread;
mod running;
mod session;
mod state;
mod subscriptions;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use caller::{Caller, Era, RequestMeta, is_stateless};
pub use eras::{Eras, UnknownEras};
pub(crate) use headers::header_params;
pub use headers::{HeaderParam, HeaderParamType};
pub use session::{Reclaimed, ServerSession};
pub(crate) use state::SessionState;
pub use subscriptions::ListChanged;

use crate::error::RpcError;
use crate::input::{DEFAULT_STATE_TTL, StateKey};
use crate::jsonrpc::{JsonObject, Notification};
use crate::middleware::{Deferred, Middleware};
use crate::plugin::registry::{Registry, Slot, Snapshot};
use crate::plugin::{Catalog, Plugin, PluginCapabilities, Prefix, StartError};
use crate::prompt::Prompt;
use crate::protocol::{
    CacheHint, Implementation, ProtocolVersion, ResourceUriParams, ServerCapabilities, methods,
};
use crate::resource::ResourceProvider;
use crate::sync::lock;
use crate::task::{MemoryTaskStore, TaskConfig, TaskEngine, TaskStore};
use crate::tool::{Tool, ToolBox};

mod plugins;
use crate::transport::DEFAULT_OUTBOX_CAPACITY;

/// A server definition: identity, instructions and tools. Cheap to clone; every session of a
/// transport shares one.
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<ServerInner>,
    /// The eras served: fixed by the builder, replaceable by [`Server::with_eras`].
    pub(crate) eras: Eras,
    /// The key that signs `requestState`: from the builder, replaceable by
    /// [`Server::with_request_state_key`].
    pub(crate) state_key: StateKey,
    /// The layers around calls: from the builder, wrapped by [`Server::with_layer`].
    pub(crate) middleware: Middleware,
    /// The tasks (store, configuration, runner name): from the builder, replaceable by
    /// [`Server::with_task_store`].
    pub(crate) tasks: Arc<TaskEngine>,
}

/// A server that does not keep its tools alive: what a request's [`Context`](crate::Context)
/// holds to reach the server it runs on (the server holds its sessions, and they the contexts).
#[derive(Debug, Clone)]
pub(crate) struct WeakServer {
    inner: Weak<ServerInner>,
    eras: Eras,
    state_key: StateKey,
    middleware: Middleware,
    tasks: Arc<TaskEngine>,
}

impl WeakServer {
    /// The server, while it exists.
    pub(crate) fn upgrade(&self) -> Option<Server> {
        Some(Server {
            inner: self.inner.upgrade()?,
            eras: self.eras,
            state_key: self.state_key.clone(),
            middleware: self.middleware.clone(),
            tasks: self.tasks.clone(),
        })
    }
}

pub(crate) struct ServerInner {
    pub(crate) info: Implementation,
    /// `info` as JSON text, written into every stateless result.
    pub(crate) info_json: Box<serde_json::value::RawValue>,
    /// Tools, prompts, resources and instructions: the server's own and its plugins'.
    pub(crate) registry: Registry,
    pub(crate) subscriptions: bool,
    pub(crate) page_size: usize,
    pub(crate) outbox_capacity: usize,
    pub(crate) max_calls_in_flight: usize,
    /// Live sessions, for server-wide notifications (resource updates).
    pub(crate) sessions: Mutex<Vec<Weak<SessionState>>>,
    pub(crate) list_cache: CacheHint,
    pub(crate) resource_cache: CacheHint,
    pub(crate) list_changed: bool,
    pub(crate) listeners: subscriptions::Listeners,
    /// Whether some tool may run as a task: the server then announces tasks.
    pub(crate) task_tools: bool,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.inner.info)
            .field(
                "tools",
                &self
                    .catalog()
                    .tool_index
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Server {
    /// Starts building a server with the given name and version.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: Implementation::new(name, version),
            instructions: None,
            tools: Vec::new(),
            prompts: Vec::new(),
            resources: Vec::new(),
            plugins: Vec::new(),
            layers: Vec::new(),
            subscriptions: false,
            page_size: 100,
            outbox_capacity: DEFAULT_OUTBOX_CAPACITY,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            eras: Eras::Both,
            state_key: None,
            state_ttl: DEFAULT_STATE_TTL,
            list_cache: CacheHint::public(300_000),
            resource_cache: CacheHint::private(0),
            list_changed: false,
            task_store: None,
            task_config: TaskConfig::default(),
        }
    }

    /// Whether some tool may run as a task (`execution.taskSupport` of `optional` or
    /// `required`, or a plugin declaring [`PluginCapabilities::tasks`]): the server then
    /// offers tasks (the `tasks` capability in 2025-11-25, the
    /// `io.modelcontextprotocol/tasks` extension in 2026-07-28).
    pub fn has_task_tools(&self) -> bool {
        self.inner.task_tools
    }

    /// The eras this server serves.
    pub fn eras(&self) -> Eras {
        self.eras
    }

    /// Whether this server serves `era`.
    pub fn serves(&self, era: Era) -> bool {
        self.eras.serves(era)
    }

    /// This server serving `eras` instead of what its builder said: the same tools, prompts,
    /// resources and sessions (a notification sent through either reaches the clients of
    /// both). For a serving call that reads the eras from its configuration once the server
    /// is built, such as `mcp_transport::serve`; sessions opened earlier keep their eras.
    pub fn with_eras(&self, eras: Eras) -> Server {
        Server {
            eras,
            ..self.clone()
        }
    }

    /// This server signing `requestState` with `secret` instead of the key its builder gave
    /// it (see [`ServerBuilder::request_state_key`]; the lifetime of a state stays as built).
    /// Everything else is shared, as with [`with_eras`](Self::with_eras).
    pub fn with_request_state_key(&self, secret: impl AsRef<[u8]>) -> Server {
        Server {
            state_key: StateKey::new(secret, self.state_key.ttl()),
            ..self.clone()
        }
    }

    /// This server keeping its tasks in `store`, with the same task configuration (a new
    /// runner name): how a deployment of several replicas shares them (every replica must use
    /// the same store). Tasks already in the old store stay there. Everything else is shared,
    /// as with [`with_eras`](Self::with_eras).
    pub fn with_task_store(&self, store: Arc<dyn TaskStore>) -> Server {
        Server {
            tasks: Arc::new(TaskEngine::new(store, self.tasks.config().clone())),
            ..self.clone()
        }
    }

    /// This server running tasks as `config` says, with the same task store.
    pub fn with_task_config(&self, config: TaskConfig) -> Server {
        Server {
            tasks: Arc::new(TaskEngine::new(self.tasks.store(), config)),
            ..self.clone()
        }
    }

    /// How this server runs tasks.
    pub fn task_config(&self) -> &TaskConfig {
        self.tasks.config()
    }

    /// Sweeps the task store once: deletes the tasks whose time to live passed and fails
    /// those whose runner's lease lapsed (their replica died). A server sweeps lazily when
    /// tasks are asked about; a replica sharing its store with others also calls this on a
    /// timer (every third of the lease), so that an orphan fails without anyone asking.
    pub async fn sweep_tasks(&self) {
        self.tasks.sweep_now().await;
    }

    /// What a request's context keeps of its server.
    pub(crate) fn downgrade(&self) -> WeakServer {
        WeakServer {
            inner: Arc::downgrade(&self.inner),
            eras: self.eras,
            state_key: self.state_key.clone(),
            middleware: self.middleware.clone(),
            tasks: self.tasks.clone(),
        }
    }

    /// The protocol versions served, newest first: what `server/discover` lists and what an
    /// unsupported-version error names.
    pub fn supported_versions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.serves(Era::Stateless) {
            out.extend(ProtocolVersion::MODERN.iter().rev().map(|v| v.as_str()));
        }
        if self.serves(Era::Stateful) {
            out.extend(ProtocolVersion::ALL.iter().rev().map(|v| v.as_str()));
        }
        out
    }

    /// Checks the protocol version a stateless request declares: `-32022` (naming the
    /// versions served) unless it is a stateless revision this server serves.
    pub fn check_version(&self, requested: &str) -> Result<ProtocolVersion, RpcError> {
        requested
            .parse::<ProtocolVersion>()
            .ok()
            .filter(|v| v.is_modern() && self.serves(Era::Stateless))
            .ok_or_else(|| RpcError::unsupported_version(requested, &self.supported_versions()))
    }

    /// The parameters of tool `name` that clients mirror into `Mcp-Param-*` headers.
    pub fn header_params(&self, tool: &str) -> Vec<HeaderParam> {
        self.catalog()
            .header_params
            .get(tool)
            .cloned()
            .unwrap_or_default()
    }

    /// What requests see now: every tool, prompt and resource, plugins' included.
    pub(crate) fn catalog(&self) -> Arc<Snapshot> {
        self.inner.registry.snapshot()
    }

    /// The tool called `name` and how it may run as a task, in one look at the catalog.
    pub(crate) fn tool_to_call(
        &self,
        name: &str,
    ) -> Option<(Arc<dyn Tool>, crate::protocol::TaskSupport)> {
        self.inner.registry.tool_to_call(name)
    }

    /// The instructions: the server's own, then each plugin's under its name (one source
    /// alone: its text as it is).
    pub fn instructions(&self) -> Option<String> {
        self.inner.registry.instructions()
    }

    /// Runs every plugin's [`start`](Plugin::start) hook, once, in the order they were
    /// added; a plugin that fails stops the start (those already started are shut down). The
    /// serving call of `mcp-transport` does this before it serves.
    pub async fn start_plugins(&self) -> Result<(), StartError> {
        self.inner.registry.start(self).await
    }

    /// Runs every plugin's [`shutdown`](Plugin::shutdown) hook, the last added first. Only
    /// the first call runs them; the serving call of `mcp-transport` makes it when serving
    /// ends, gracefully or by a signal.
    pub async fn shutdown_plugins(&self) {
        self.inner.registry.shutdown().await;
    }

    /// Whether clients may subscribe to resource updates.
    pub(crate) fn resource_subscriptions(&self) -> bool {
        self.inner.subscriptions || self.inner.registry.declared().resource_subscriptions
    }

    /// Who the server is.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The capabilities announced in the `initialize` result.
    pub fn capabilities(&self) -> ServerCapabilities {
        let inner = &self.inner;
        let catalog = self.catalog();
        let declared = inner.registry.declared();
        let has_prompts = declared.prompts || !catalog.prompts.is_empty();
        let has_resources = declared.resources || !catalog.resources.is_empty();
        let resources = has_resources.then(|| {
            let mut o = JsonObject::new();
            o.insert("subscribe".into(), self.resource_subscriptions().into());
            o
        });
        let completable = has_prompts || has_resources;
        let listed = |present: bool| {
            present.then(|| {
                let mut o = JsonObject::new();
                if inner.list_changed {
                    o.insert("listChanged".into(), true.into());
                }
                o
            })
        };
        let resources = resources.map(|mut o| {
            if inner.list_changed {
                o.insert("listChanged".into(), true.into());
            }
            o
        });
        ServerCapabilities {
            tools: listed(true),
            logging: Some(Default::default()),
            prompts: listed(has_prompts),
            resources,
            completions: completable.then(Default::default),
            ..Default::default()
        }
    }

    /// Tells every session subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated` on each session's stream of unrelated messages).
    pub async fn notify_resource_updated(&self, uri: &str) {
        let sessions: Vec<Arc<SessionState>> = {
            let mut list = lock(&self.inner.sessions);
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        let params = ResourceUriParams {
            uri: uri.to_owned(),
            meta: None,
        };
        let params = match serde_json::to_value(&params) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => return,
        };
        for session in sessions {
            if session.is_subscribed(uri) {
                let note = Notification::new(methods::RESOURCES_UPDATED, Some(params.clone()));
                session.notify(note).await;
            }
        }
        self.inner.listeners.resource_updated(uri, &params).await;
    }

    /// Tells clients that a list changed (`notifications/{tools,prompts,resources}/list_changed`):
    /// every stateful session on its stream of unrelated messages, and every
    /// `subscriptions/listen` stream that opted in. Only servers built with
    /// [`ServerBuilder::list_changed`] announce (and send) these.
    pub async fn notify_list_changed(&self, list: ListChanged) {
        if !self.inner.list_changed {
            return;
        }
        let sessions: Vec<Arc<SessionState>> = {
            let mut guard = lock(&self.inner.sessions);
            guard.retain(|w| w.strong_count() > 0);
            guard.iter().filter_map(Weak::upgrade).collect()
        };
        for session in sessions {
            if session.protocol_version().is_some() {
                session.notify(Notification::new(list.method(), None)).await;
            }
        }
        self.inner.listeners.list_changed(list).await;
    }

    /// Ends every `subscriptions/listen` stream gracefully (each gets its completion result),
    /// as a server shutting down should; streams opened later end at once.
    pub fn close_subscriptions(&self) {
        self.inner.listeners.close();
    }

    pub(crate) fn register_session(&self, state: &Arc<SessionState>) {
        let mut list = lock(&self.inner.sessions);
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(state));
    }

    /// A tool by name (as clients call it: a plugin's prefix applied).
    pub fn tool(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.catalog().tool(name)
    }

    /// The capacity of the per-request queues a transport should create for this server.
    pub fn outbox_capacity(&self) -> usize {
        self.inner.outbox_capacity
    }

    /// How many requests one session may have running at once (see
    /// [`ServerBuilder::max_calls_in_flight`]).
    pub fn max_calls_in_flight(&self) -> usize {
        self.inner.max_calls_in_flight
    }
}

/// The default bound on requests running at once in one session.
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 1024;

/// Why a server definition was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two tools share a name.
    #[error("two tools are named `{0}`: tool names must be unique")]
    DuplicateTool(String),
    /// A tool name breaks the spec's rules (1 to 128 of `A-Z a-z 0-9 _ - .`).
    #[error("invalid tool name `{0}`: use 1 to 128 of A-Z, a-z, 0-9, `_`, `-` and `.`")]
    InvalidToolName(String),
    /// Two prompts share a name.
    #[error("two prompts are named `{0}`: prompt names must be unique")]
    DuplicatePrompt(String),
    /// Two resources share a URI, or two resource templates share a template.
    #[error("two resources are at `{0}`: resource URIs and templates must be unique")]
    DuplicateResource(String),
    /// Two sources (the server's own tools and a plugin, or two plugins) offer the same tool
    /// or prompt name or resource URI: mount one of them under a prefix.
    #[error(
        "{first} and {second} both offer the {kind} `{name}`: mount one of them under a prefix \
         (ServerBuilder::plugin_prefixed)"
    )]
    Clash {
        /// `tool`, `prompt` or `resource`.
        kind: &'static str,
        /// The name (or URI) both offer.
        name: String,
        /// The source added first.
        first: String,
        /// The source added second.
        second: String,
    },
    /// A page size of zero.
    #[error("the page size must be at least 1")]
    ZeroPageSize,
    /// A tool's `x-mcp-header` annotations break the revision's rules.
    #[error("tool `{tool}`: {why}")]
    InvalidHeaderAnnotation {
        /// The tool.
        tool: String,
        /// What is wrong.
        why: String,
    },
}

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<Arc<dyn Tool>>,
    prompts: Vec<Arc<dyn Prompt>>,
    resources: Vec<Arc<dyn ResourceProvider>>,
    plugins: Vec<(Prefix, Arc<dyn Plugin>)>,
    layers: Vec<Deferred>,
    subscriptions: bool,
    page_size: usize,
    outbox_capacity: usize,
    max_calls_in_flight: usize,
    eras: Eras,
    state_key: Option<Vec<u8>>,
    state_ttl: Duration,
    list_cache: CacheHint,
    resource_cache: CacheHint,
    list_changed: bool,
    task_store: Option<Arc<dyn TaskStore>>,
    task_config: TaskConfig,
}

impl ServerBuilder {
    /// Where tasks live (default: a [`MemoryTaskStore`] of this server's own). Replicas
    /// that share tasks share a store.
    pub fn task_store(mut self, store: impl TaskStore) -> Self {
        self.task_store = Some(Arc::new(store));
        self
    }

    /// Where tasks live: an already shared store.
    pub fn task_store_arc(mut self, store: Arc<dyn TaskStore>) -> Self {
        self.task_store = Some(store);
        self
    }

    /// How tasks run: time to live, poll interval, lease (see [`TaskConfig`]).
    pub fn task_config(mut self, config: TaskConfig) -> Self {
        self.task_config = config;
        self
    }

    /// Which protocol eras to serve (default [`Eras::Both`]).
    pub fn eras(mut self, eras: Eras) -> Self {
        self.eras = eras;
        self
    }

    /// The secret that signs `requestState` in multi round-trip requests (2026-07-28).
    ///
    /// Replicas behind one balancer must share it, so that a retry reaching another replica
    /// verifies. Without it, the server makes a random key when built (right for a single
    /// process; a retry after a restart then gets a clear error and the client starts over).
    pub fn request_state_key(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.state_key = Some(secret.as_ref().to_vec());
        self
    }

    /// How long a `requestState` stays valid (default one hour).
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// The caching hint (`ttlMs`, `cacheScope`) of `server/discover`, `tools/list`,
    /// `prompts/list` and `resources/templates/list` results in the stateless era (default:
    /// public, five minutes: a built server's tools and prompts do not change).
    pub fn list_cache(mut self, hint: CacheHint) -> Self {
        self.list_cache = hint;
        self
    }

    /// The caching hint of `resources/list` and `resources/read` results in the stateless era
    /// (default: private, immediately stale: resources may change and may depend on the
    /// caller).
    pub fn resource_cache(mut self, hint: CacheHint) -> Self {
        self.resource_cache = hint;
        self
    }

    /// Announces `listChanged` for tools, prompts and resources, so that
    /// [`Server::notify_list_changed`] reaches clients (default off).
    pub fn list_changed(mut self, enabled: bool) -> Self {
        self.list_changed = enabled;
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, prompt: impl Prompt) -> Self {
        self.prompts.push(Arc::new(prompt));
        self
    }

    /// Adds a resource or a resource template: a `#[resource]` function's name.
    pub fn resource(self, resource: impl ResourceProvider) -> Self {
        self.resources(resource)
    }

    /// Adds a source of resources: any [`ResourceProvider`].
    pub fn resources(mut self, provider: impl ResourceProvider) -> Self {
        self.resources.push(Arc::new(provider));
        self
    }

    /// Lets clients subscribe to resource updates (see [`Server::notify_resource_updated`]).
    pub fn resource_subscriptions(mut self, enabled: bool) -> Self {
        self.subscriptions = enabled;
        self
    }

    /// A display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Instructions for the model on how to use this server.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Adds a tool: a `#[tool]` function's name, or any [`Tool`].
    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds every tool, prompt and resource of a type whose `impl` block carries `#[tools]`.
    pub fn tools<T: ToolBox>(self, toolbox: T) -> Self {
        self.tools_shared(Arc::new(toolbox))
    }

    /// Adds every tool, prompt and resource of a shared value whose type's `impl` block
    /// carries `#[tools]`.
    pub fn tools_shared<T: ToolBox>(mut self, toolbox: Arc<T>) -> Self {
        self.tools.extend(T::tools(&toolbox));
        self.prompts.extend(T::prompts(&toolbox));
        self.resources.extend(T::resources(&toolbox));
        self
    }

    /// Adds an already shared tool.
    pub fn tool_arc(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    /// How many tools one `tools/list` page holds (default 100).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n;
        self
    }

    /// The capacity of each outbound queue (default 64): how far a tool may run ahead of a
    /// slow client before `yield_!` waits.
    pub fn outbox_capacity(mut self, n: usize) -> Self {
        self.outbox_capacity = n.max(1);
        self
    }

    /// How many requests that run as tasks of their own (`tools/call`, `prompts/get`,
    /// `resources/read`) one session may have running at once (default
    /// [`DEFAULT_MAX_CALLS_IN_FLIGHT`], at least 1). A request past the bound is answered at
    /// once with error `-32000` ("too many requests in flight"), so one client cannot pile up
    /// work without limit.
    pub fn max_calls_in_flight(mut self, n: usize) -> Self {
        self.max_calls_in_flight = n.max(1);
        self
    }

    /// Checks the definition and builds the server.
    pub fn build(self) -> Result<Server, BuildError> {
        if self.page_size == 0 {
            return Err(BuildError::ZeroPageSize);
        }
        let own = Slot {
            plugin: None,
            name: self.info.name.clone(),
            prefix: Prefix::default(),
            capabilities: PluginCapabilities::default(),
        };
        let mut slots = vec![own];
        let mut catalogs = vec![Catalog {
            tools: self.tools,
            prompts: self.prompts,
            resources: self.resources,
        }];
        let mut instructions = vec![self.instructions];
        for (prefix, plugin) in self.plugins {
            catalogs.push(plugin.catalog());
            instructions.push(plugin.instructions());
            slots.push(Slot {
                name: plugin.name(),
                prefix,
                capabilities: plugin.capabilities(),
                plugin: Some(plugin),
            });
        }
        let registry = Registry::new(slots, catalogs, instructions)?;
        let list_changed = self.list_changed || registry.declared().list_changed;
        // Announced from the catalogs and the plugins' declarations at build time.
        let task_tools = !registry.snapshot().task_support.is_empty() || registry.declared().tasks;
        Ok(Server {
            inner: Arc::new(ServerInner {
                // Encoding a struct of strings and options of them does not fail.
                info_json: serde_json::value::to_raw_value(&self.info).unwrap_or_else(|_| {
                    serde_json::value::to_raw_value(&()).expect("null encodes")
                }),
                info: self.info,
                registry,
                subscriptions: self.subscriptions,
                page_size: self.page_size,
                outbox_capacity: self.outbox_capacity,
                max_calls_in_flight: self.max_calls_in_flight,
                sessions: Mutex::new(Vec::new()),
                list_cache: self.list_cache,
                resource_cache: self.resource_cache,
                list_changed,
                listeners: subscriptions::Listeners::default(),
                task_tools,
            }),
            tasks: Arc::new(TaskEngine::new(
                self.task_store
                    .unwrap_or_else(|| Arc::new(MemoryTaskStore::new())),
                self.task_config,
            )),
            eras: self.eras,
            middleware: Middleware::build(self.layers),
            state_key: match self.state_key {
                Some(secret) => StateKey::new(secret, self.state_ttl),
                None => StateKey::random(self.state_ttl),
            },
        })
    }
}
