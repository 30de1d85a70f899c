//! A mounted server: one supervised connection to it, its catalog kept current, and the calls
//! forwarded to it.
//!
//! A [`Remote`] connects in a task of its own. It lists the server's tools, prompts, resources
//! and templates (every page), keeps that [`Catalog`] current when the server says a list
//! changed, and watches the connection: when a stdio server exits, every call in flight gets a
//! JSON-RPC error at once, and the server is started again after a back-off that doubles up to
//! [`RemoteOptions::max_backoff`] (and starts over once a run lasted
//! [`RemoteOptions::stable_after`]). Calls that arrive while it is down wait up to
//! [`RemoteOptions::unavailable_wait`] for it, then get an error: never a hang.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_core::client::ClientOptions;
use mcp_core::jsonrpc::{JsonObject, Notification};
use mcp_core::protocol::{
    ClientCapabilities, Implementation, LoggingLevel, PromptDefinition, Resource, ResourceTemplate,
    ServerCapabilities, ToolDefinition, methods,
};
use mcp_core::{Client, ErrorCode, RpcError};
use mcp_transport::stdio::ChildProcess;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::relay::InFlight;
use crate::upstream::{self, Connection, Upstream};

/// How a [`Remote`] connects, retries and waits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// Who the gateway says it is to the server.
    pub info: Implementation,
    /// How long connecting (the handshake) may take (default 30 s).
    pub connect_timeout: Duration,
    /// The first wait before reconnecting (default 100 ms); it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest wait before reconnecting (default 30 s).
    pub max_backoff: Duration,
    /// A run at least this long resets the back-off (default 10 s).
    pub stable_after: Duration,
    /// How long a call waits for a server that is (re)connecting before it fails
    /// (default 5 s).
    pub unavailable_wait: Duration,
    /// How long a stdio server gets to exit after its stdin closes, at shutdown (default 2 s).
    pub shutdown_grace: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            info: Implementation::new("mcp-gateway", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            stable_after: Duration::from_secs(10),
            unavailable_wait: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// What a mounted server offers, as it last listed it.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Catalog {
    /// Its tools.
    pub tools: Vec<ToolDefinition>,
    /// Its prompts.
    pub prompts: Vec<PromptDefinition>,
    /// Its resources.
    pub resources: Vec<Resource>,
    /// Its resource templates.
    pub templates: Vec<ResourceTemplate>,
    /// Its instructions.
    pub instructions: Option<String>,
    /// Its capabilities.
    pub capabilities: ServerCapabilities,
}

/// Where the connection stands.
#[derive(Debug, Clone)]
pub(crate) enum Status {
    /// Connecting (at start, or after the server died).
    Connecting,
    /// Connected.
    Up(Link),
    /// Down, waiting to reconnect: why.
    Down(String),
    /// Shut down for good.
    Stopped,
}

/// One live connection, shared by the calls that use it.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) client: Client,
    /// Cancelled when this connection is gone.
    pub(crate) gone: CancellationToken,
    /// Counts connections: 1 for the first.
    pub(crate) generation: u64,
    /// The stdio server's process id.
    pub(crate) process_id: Option<u32>,
}

/// A mounted server. Cheap to clone; the connection lives until [`shutdown`](Self::shutdown)
/// or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Remote {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) upstream: Upstream,
    pub(crate) options: RemoteOptions,
    pub(crate) status: watch::Sender<Status>,
    catalog: watch::Sender<Arc<Catalog>>,
    updates: broadcast::Sender<String>,
    /// The server's task notifications (2025-11-25 `notifications/tasks/status`, 2026-07-28
    /// `notifications/tasks` on a listen request), each the task as it is now: a task the
    /// gateway follows is read from them as they come (see `task.rs`).
    pub(crate) task_news: broadcast::Sender<Arc<JsonObject>>,
    pub(crate) calls: Arc<InFlight>,
    stop: CancellationToken,
    connections: AtomicU64,
    /// The waits before reconnecting so far (the last [`WAITS_KEPT`]).
    waits: std::sync::Mutex<std::collections::VecDeque<Duration>>,
}

/// How many reconnection waits [`Remote::backoffs`] remembers.
const WAITS_KEPT: usize = 32;

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Remote {
    /// Starts connecting to `upstream` in the background; `name` names it in logs and errors.
    /// Wait for the first catalog with [`ready`](Self::ready).
    pub fn start(name: impl Into<String>, upstream: Upstream, options: RemoteOptions) -> Remote {
        let calls = Arc::new(InFlight::default());
        let shared = Arc::new(Shared {
            name: name.into(),
            upstream,
            options,
            status: watch::Sender::new(Status::Connecting),
            catalog: watch::Sender::new(Arc::new(Catalog::default())),
            updates: broadcast::Sender::new(64),
            task_news: broadcast::Sender::new(256),
            calls,
            stop: CancellationToken::new(),
            connections: AtomicU64::new(0),
            waits: Default::default(),
        });
        tokio::spawn(supervise(Arc::downgrade(&shared), shared.stop.clone()));
        Remote { shared }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Where the server is.
    pub fn upstream(&self) -> &Upstream {
        &self.shared.upstream
    }

    /// Waits until the first connection is up and its catalog listed, or `timeout` passes.
    pub async fn ready(&self, timeout: Duration) -> Result<Arc<Catalog>, RemoteError> {
        let mut status = self.shared.status.subscribe();
        let mut last = String::from("still connecting");
        let wait = async {
            loop {
                match &*status.borrow_and_update() {
                    Status::Up(_) => return Ok(self.catalog()),
                    Status::Stopped => return Err(RemoteError::Stopped(self.name().to_owned())),
                    Status::Down(why) => last.clone_from(why),
                    Status::Connecting => {}
                }
                if status.changed().await.is_err() {
                    return Err(RemoteError::Stopped(self.name().to_owned()));
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(outcome) => outcome,
            Err(_) => Err(RemoteError::NotReady {
                server: self.name().to_owned(),
                waited: timeout,
                last,
            }),
        }
    }

    /// What the server offers, as last listed.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared.catalog.borrow().clone()
    }

    /// A receiver that sees every new catalog (after a `list_changed`, or a restart).
    pub fn catalog_changes(&self) -> watch::Receiver<Arc<Catalog>> {
        self.shared.catalog.subscribe()
    }

    /// The URIs of the server's resources that it says were updated, from now on.
    pub fn resource_updates(&self) -> broadcast::Receiver<String> {
        self.shared.updates.subscribe()
    }

    /// How many times a connection was made (1 after the first, 2 after one restart, ...).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Whether a connection is up.
    pub fn is_up(&self) -> bool {
        matches!(*self.shared.status.borrow(), Status::Up(_))
    }

    /// The process id of the stdio server of the connection that is up, if any.
    pub fn process_id(&self) -> Option<u32> {
        match &*self.shared.status.borrow() {
            Status::Up(link) => link.process_id,
            _ => None,
        }
    }

    /// The waits before reconnecting so far, oldest first (the last 32): each doubles the one
    /// before, up to [`RemoteOptions::max_backoff`], unless the connection in between lasted
    /// [`RemoteOptions::stable_after`].
    pub fn backoffs(&self) -> Vec<Duration> {
        let waits = self.shared.waits.lock().unwrap_or_else(|e| e.into_inner());
        waits.iter().copied().collect()
    }

    /// Waits until connection number `n` (counting from 1) or a later one is up, or `timeout`
    /// passes; returns whether it is.
    pub async fn wait_for_connection(&self, n: u64, timeout: Duration) -> bool {
        let mut status = self.shared.status.subscribe();
        let wait = async {
            loop {
                if let Status::Up(link) = &*status.borrow_and_update()
                    && link.generation >= n
                {
                    return true;
                }
                if status.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// Stops: closes the connection (a stdio server gets its stdin closed, then
    /// [`RemoteOptions::shutdown_grace`], then its process group is killed) and fails calls
    /// still in flight. Returns once the server is gone.
    pub async fn shutdown(&self) {
        self.shared.stop.cancel();
        let mut status = self.shared.status.subscribe();
        while !matches!(*status.borrow_and_update(), Status::Stopped) {
            if status.changed().await.is_err() {
                return;
            }
        }
    }

    /// The live connection, waiting up to [`RemoteOptions::unavailable_wait`] for one.
    pub(crate) async fn link(&self) -> Result<Link, RpcError> {
        let mut status = self.shared.status.subscribe();
        let mut last = String::from("it is still connecting");
        let wait = async {
            loop {
                match &*status.borrow_and_update() {
                    Status::Up(link) => return Ok(link.clone()),
                    Status::Stopped => return Err("it was shut down".to_owned()),
                    Status::Down(why) => last = format!("it is restarting after: {why}"),
                    Status::Connecting => {}
                }
                if status.changed().await.is_err() {
                    return Err("it was shut down".to_owned());
                }
            }
        };
        let outcome = tokio::time::timeout(self.shared.options.unavailable_wait, wait).await;
        let why = match outcome {
            Ok(Ok(link)) => return Ok(link),
            Ok(Err(why)) => why,
            Err(_) => last,
        };
        Err(self.unavailable(&why))
    }

    /// The error of a call the server cannot take: `-32000`, naming the server and why.
    pub(crate) fn unavailable(&self, why: &str) -> RpcError {
        RpcError::new(
            ErrorCode::SERVER_ERROR,
            format!("the mounted server `{}` is unavailable: {why}", self.name()),
        )
        .with_data(serde_json::json!({"server": self.name(), "reason": "unavailable"}))
    }
}

/// Why a [`Remote`] is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The first connection did not come up in time.
    #[error("the mounted server `{server}` did not come up within {waited:?}: {last}")]
    NotReady {
        /// The server.
        server: String,
        /// How long was waited.
        waited: Duration,
        /// The last failure.
        last: String,
    },
    /// The remote was shut down.
    #[error("the mounted server `{0}` was shut down")]
    Stopped(String),
}

/// How one connection ended.
enum Ended {
    Stopped,
    Died(String),
}

/// Connects, serves the connection until it ends, and reconnects with back-off.
async fn supervise(shared: std::sync::Weak<Shared>, stop: CancellationToken) {
    let Some(first) = shared.upgrade() else {
        return;
    };
    let options = first.options.clone();
    let name = first.name.clone();
    drop(first);
    let mut backoff = options.initial_backoff;
    loop {
        let Some(this) = shared.upgrade() else {
            break;
        };
        this.status.send_replace(Status::Connecting);
        let started = Instant::now();
        let client_options = client_options(&options, &this.calls);
        let connecting = upstream::connect(&this.upstream, client_options, options.connect_timeout);
        let outcome = tokio::select! {
            outcome = connecting => outcome,
            () = stop.cancelled() => break,
        };
        match outcome {
            Ok(connection) => {
                let n = this.connections.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::info!(server = %name, connection = n, "connected to {}", this.upstream);
                match run(&this, connection, n, &stop).await {
                    Ended::Stopped => break,
                    Ended::Died(why) => {
                        tracing::warn!(server = %name, "connection lost: {why}");
                        this.status.send_replace(Status::Down(why));
                    }
                }
                if started.elapsed() >= options.stable_after {
                    backoff = options.initial_backoff;
                }
            }
            Err(e) => {
                tracing::warn!(server = %name, "cannot connect to {}: {e}", this.upstream);
                this.status.send_replace(Status::Down(e.to_string()));
            }
        }
        {
            let mut waits = this.waits.lock().unwrap_or_else(|e| e.into_inner());
            if waits.len() == WAITS_KEPT {
                waits.pop_front();
            }
            waits.push_back(backoff);
        }
        drop(this);
        tracing::info!(server = %name, "reconnecting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => break,
        }
        backoff = (backoff * 2).min(options.max_backoff);
    }
    if let Some(this) = shared.upgrade() {
        this.status.send_replace(Status::Stopped);
    }
}

/// Serves one connection: lists the catalog, publishes the link, follows list changes, and
/// returns when the server exits or the remote stops.
async fn run(
    shared: &Shared,
    connection: Connection,
    generation: u64,
    stop: &CancellationToken,
) -> Ended {
    let Connection {
        client,
        mut process,
    } = connection;
    let mut notes = client.notifications();
    shared.calls.set_logs(client.log_messages());
    // Relay every log message: each caller's own level filters what it receives.
    let server = client.server();
    let logs = server.capabilities.logging.is_some() || client.era() == mcp_core::Era::Stateless;
    if logs && let Err(e) = client.set_logging_level(LoggingLevel::Debug).await {
        tracing::debug!(server = %shared.name, "logging/setLevel refused: {e}");
    }
    if let Err(e) = client.follow_list_changes().await {
        tracing::debug!(server = %shared.name, "list changes not followed: {e}");
    }
    let catalog = match list(&client).await {
        Ok(catalog) => catalog,
        Err(e) => {
            return stopped(process, shared, Ended::Died(format!("listing failed: {e}"))).await;
        }
    };
    // Updates come only for subscribed resources: subscribe to every one, and relay.
    let subscribable = catalog
        .capabilities
        .resources
        .as_ref()
        .and_then(|r| r.get("subscribe"))
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    if subscribable {
        for resource in &catalog.resources {
            if let Err(e) = client.subscribe_resource(&resource.uri).await {
                tracing::debug!(server = %shared.name, uri = %resource.uri, "subscribing failed: {e}");
            }
        }
    }
    shared.catalog.send_replace(Arc::new(catalog));
    let gone = CancellationToken::new();
    let link = Link {
        client: client.clone(),
        gone: gone.clone(),
        generation,
        process_id: process.as_ref().and_then(ChildProcess::id),
    };
    shared.status.send_replace(Status::Up(link));
    let ended = loop {
        tokio::select! {
            status = exited(&mut process) => break Ended::Died(status),
            note = notes.recv() => match note {
                Some(note) => follow(shared, &client, note).await,
                None => std::future::pending::<()>().await,
            },
            () = stop.cancelled() => break Ended::Stopped,
        }
    };
    // Calls in flight on this connection fail now, whatever the transport does.
    gone.cancel();
    if matches!(ended, Ended::Stopped) {
        shared.status.send_replace(Status::Stopped);
    } else {
        shared
            .status
            .send_replace(Status::Down("the connection ended".into()));
    }
    stopped(process, shared, ended).await
}

/// Ends the process (if any) and passes `ended` on.
async fn stopped(process: Option<ChildProcess>, shared: &Shared, ended: Ended) -> Ended {
    if let Some(process) = process
        && let Err(e) = process.shutdown(shared.options.shutdown_grace).await
    {
        tracing::debug!(server = %shared.name, "ending the server process: {e}");
    }
    ended
}

/// Waits for the stdio server to exit (forever for an HTTP server) and says how it did.
async fn exited(process: &mut Option<ChildProcess>) -> String {
    match process {
        Some(p) => match p.wait().await {
            Ok(status) => format!("the server process exited ({status})"),
            Err(e) => format!("the server process is gone ({e})"),
        },
        None => std::future::pending().await,
    }
}

/// Acts on a notification from the server: relists what changed, relays resource updates.
async fn follow(shared: &Shared, client: &Client, note: Notification) {
    let method = note.method.as_str();
    if method == methods::RESOURCES_UPDATED {
        let uri = note
            .params
            .as_ref()
            .and_then(|p| p.get("uri"))
            .and_then(|u| u.as_str());
        if let Some(uri) = uri {
            let _ = shared.updates.send(uri.to_owned());
        }
        return;
    }
    if method == methods::TASKS_STATUS || method == methods::TASKS_NOTIFICATION {
        if let Some(params) = note.params {
            let _ = shared.task_news.send(Arc::new(params.into()));
        }
        return;
    }
    let mut catalog = (**shared.catalog.borrow()).clone();
    let relisted = match method {
        methods::TOOLS_LIST_CHANGED => client.list_tools().await.map(|t| catalog.tools = t),
        methods::PROMPTS_LIST_CHANGED => client.list_prompts().await.map(|p| catalog.prompts = p),
        methods::RESOURCES_LIST_CHANGED => match client.list_resources().await {
            Ok(r) => {
                catalog.resources = r;
                catalog.templates = client.list_resource_templates().await.unwrap_or_default();
                Ok(())
            }
            Err(e) => Err(e),
        },
        _ => return,
    };
    match relisted {
        Ok(()) => {
            tracing::info!(server = %shared.name, "{method}: catalog relisted");
            shared.catalog.send_replace(Arc::new(catalog));
        }
        Err(e) => tracing::warn!(server = %shared.name, "{method}: relisting failed: {e}"),
    }
}

/// Lists everything the server offers (every page of each list it has).
async fn list(client: &Client) -> Result<Catalog, mcp_core::RequestError> {
    let server = client.server();
    let capabilities = server.capabilities.clone();
    let tools = match capabilities.tools {
        Some(_) => client.list_tools().await?,
        None => Vec::new(),
    };
    let prompts = match capabilities.prompts {
        Some(_) => client.list_prompts().await?,
        None => Vec::new(),
    };
    let (resources, templates) = match capabilities.resources {
        // A server with resources but no templates may not know the method.
        Some(_) => (
            client.list_resources().await?,
            client.list_resource_templates().await.unwrap_or_default(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Catalog {
        tools,
        prompts,
        resources,
        templates,
        instructions: server.instructions.clone(),
        capabilities,
    })
}

/// What the gateway declares to the servers it mounts: it relays sampling, elicitation and
/// roots requests to its own caller, who may or may not answer them.
pub(crate) fn client_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        sampling: Some(Default::default()),
        elicitation: Some(Default::default()),
        roots: Some(Default::default()),
        ..Default::default()
    }
}

/// The client options of a connection whose server-to-client requests go to `calls`.
pub(crate) fn client_options(options: &RemoteOptions, calls: &Arc<InFlight>) -> ClientOptions {
    let relay = calls.clone();
    let round = calls.clone();
    ClientOptions {
        info: options.info.clone(),
        capabilities: client_capabilities(),
        on_request: Some(Arc::new(move |request| {
            let relay = relay.clone();
            Box::pin(async move {
                let mut answers = relay.ask(vec![request]).await;
                answers
                    .pop()
                    .unwrap_or_else(|| Err(RpcError::internal("no answer")))
            })
        })),
        on_input_round: Some(Arc::new(move |requests| {
            let relay = round.clone();
            Box::pin(async move { relay.ask(requests).await })
        })),
        ..ClientOptions::default()
    }
}
