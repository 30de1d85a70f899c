//! The client session: initialize, list and call tools, receive progress as it arrives, cancel.
//!
//! A transport gives the client a [`ClientChannel`]: a sender for outgoing messages and a
//! receiver of incoming ones. The client runs one task that reads the receiver and routes each
//! message: responses to the request waiting for them, progress to the call whose token it
//! carries, requests from the server to the handler.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::{RequestError, RpcError};
use crate::jsonrpc::{JsonObject, Message, Notification, Payload, Request, RequestId};
use crate::peer::{Pending, Reply};
use crate::sync::lock;

mod call;
mod listen;
mod router;
mod stateless;
mod tasks;
use crate::protocol::{
    CallToolParams, CallToolResult, ClientCapabilities, CompleteParams, CompleteResult, Completion,
    CompletionArgument, CompletionRef, GetPromptParams, GetPromptResult, Implementation,
    InitializeParams, InitializeResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, LoggingMessageParams, PaginatedParams,
    ProgressParams, ProgressToken, PromptDefinition, ProtocolVersion, ReadResourceResult, Resource,
    ResourceTemplate, ResourceUriParams, SetLevelParams, ToolDefinition, methods,
};
pub use call::{CallEvent, StartedEvent, ToolCall};
pub use listen::TaskFollow;
pub use stateless::ClientEra;
use stateless::{Probe, StatelessMode};
pub use tasks::{Started, TaskInfo};

/// The two ends a client transport provides.
#[derive(Debug)]
pub struct ClientChannel {
    /// Messages the client sends.
    pub outgoing: mpsc::Sender<Message>,
    /// Messages the client receives; the transport closes it when the connection ends.
    pub incoming: mpsc::Receiver<Message>,
}

/// A handler for requests the server sends to the client (sampling, elicitation, roots).
pub type RequestHandler = Arc<
    dyn Fn(
            Request,
        )
            -> Pin<Box<dyn std::future::Future<Output = Result<JsonObject, RpcError>> + Send>>
        + Send
        + Sync,
>;

/// A handler for every input request of one `input_required` round at once (2026-07-28):
/// given the requests (each with its input key as a string id), it returns one answer per
/// request, in order. A client that relays the questions elsewhere (a gateway asking its own
/// caller) needs them together, to ask them together.
pub type InputRoundHandler = Arc<
    dyn Fn(
            Vec<Request>,
        )
            -> Pin<Box<dyn std::future::Future<Output = Vec<Result<JsonObject, RpcError>>> + Send>>
        + Send
        + Sync,
>;

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The `initialize` request failed.
    #[error("initialize failed: {0}")]
    Initialize(#[from] RequestError),
    /// The server chose a revision this client does not speak.
    #[error("the server answered with unsupported protocol version {0:?}")]
    UnsupportedVersion(String),
}

/// Options for [`Client::connect`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Who the client is.
    pub info: Implementation,
    /// What it can do.
    pub capabilities: ClientCapabilities,
    /// The revision it asks for.
    pub protocol_version: ProtocolVersion,
    /// Handles server-to-client requests other than `ping`; `-32601` when absent. In the
    /// stateless era it also answers the input requests of `input_required` results, one at a
    /// time, unless `on_input_round` is set.
    pub on_request: Option<RequestHandler>,
    /// Answers all the input requests of an `input_required` round at once (stateless era);
    /// when absent, `on_request` answers them one by one.
    pub on_input_round: Option<InputRoundHandler>,
    /// How many progress events a call may buffer before the client stops reading the
    /// connection (back-pressure that reaches the server's tool).
    pub call_buffer: usize,
    /// Which protocol era to speak (default [`ClientEra::Auto`]: 2026-07-28 if the server
    /// offers it, `initialize` otherwise).
    pub era: ClientEra,
    /// How long the `server/discover` probe may go unanswered before the client takes the
    /// server for one of the stateful era (default 10 s; such servers may stay silent).
    pub probe_timeout: std::time::Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            info: Implementation::new("mcp-core-client", env!("CARGO_PKG_VERSION")),
            capabilities: ClientCapabilities::default(),
            protocol_version: ProtocolVersion::LATEST,
            on_request: None,
            on_input_round: None,
            call_buffer: 64,
            era: ClientEra::Auto,
            probe_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("info", &self.info)
            .field("protocol_version", &self.protocol_version)
            .field("era", &self.era)
            .finish()
    }
}

/// A connected, initialized client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    outgoing: mpsc::Sender<Message>,
    pending: Pending,
    /// Each streaming call's queue of progress batches (see [`router`]).
    calls: Mutex<HashMap<ProgressToken, mpsc::Sender<Vec<ProgressParams>>>>,
    logs: Mutex<Option<mpsc::UnboundedSender<LoggingMessageParams>>>,
    other: Mutex<Option<mpsc::UnboundedSender<Notification>>>,
    server: OnceLock<InitializeResult>,
    call_buffer: usize,
    /// Set when the client speaks the stateless era.
    stateless: OnceLock<StatelessMode>,
    /// Answers server-to-client requests, and in the stateless era the input requests of an
    /// `input_required` result.
    on_request: Option<RequestHandler>,
    /// Answers a whole `input_required` round, when set.
    on_input_round: Option<InputRoundHandler>,
    /// Resource subscriptions in the stateless era.
    listening: listen::Listening,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server.get().map(|s| &s.server_info))
            .field("stateless", &self.stateless.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects over `channel` with default options: speaks 2026-07-28 if the server offers
    /// it (`server/discover`), and performs the `initialize` handshake otherwise.
    pub async fn connect(channel: ClientChannel) -> Result<Client, ConnectError> {
        Client::connect_with(channel, ClientOptions::default()).await
    }

    /// Connects with the given options, in the era they ask for (see [`ClientEra`]).
    pub async fn connect_with(
        channel: ClientChannel,
        options: ClientOptions,
    ) -> Result<Client, ConnectError> {
        let client = Client {
            inner: Arc::new(Inner {
                outgoing: channel.outgoing,
                pending: Pending::default(),
                calls: Mutex::new(HashMap::new()),
                logs: Mutex::new(None),
                other: Mutex::new(None),
                server: OnceLock::new(),
                call_buffer: options.call_buffer.max(1),
                stateless: OnceLock::new(),
                on_request: options.on_request.clone(),
                on_input_round: options.on_input_round.clone(),
                listening: listen::Listening::default(),
            }),
        };
        tokio::spawn(router::read_loop(
            Arc::downgrade(&client.inner),
            channel.incoming,
            options.on_request.clone(),
            client.inner.call_buffer,
        ));
        if options.era != ClientEra::Stateful {
            let mode = StatelessMode::new(&options);
            match client.probe(mode, options.probe_timeout).await? {
                Probe::Stateless(described) => {
                    let _ = client.inner.server.set(*described);
                    return Ok(client);
                }
                Probe::Legacy if options.era == ClientEra::Stateless => {
                    return Err(ConnectError::UnsupportedVersion(
                        "the server does not offer 2026-07-28 (server/discover)".into(),
                    ));
                }
                Probe::Legacy => {}
            }
        }
        let params = InitializeParams {
            protocol_version: options.protocol_version.as_str().to_owned(),
            capabilities: options.capabilities,
            client_info: options.info,
            meta: None,
        };
        let result: InitializeResult = client
            .request_typed(methods::INITIALIZE, Some(to_object(&params)))
            .await?;
        if result.protocol_version.parse::<ProtocolVersion>().is_err() {
            return Err(ConnectError::UnsupportedVersion(result.protocol_version));
        }
        let _ = client.inner.server.set(result);
        client.notify(methods::INITIALIZED, None).await?;
        Ok(client)
    }

    /// The era this client speaks with its server.
    pub fn era(&self) -> crate::server::Era {
        if self.inner.stateless.get().is_some() {
            crate::server::Era::Stateless
        } else {
            crate::server::Era::Stateful
        }
    }

    /// The server's `initialize` result (in the stateless era, what `server/discover` said,
    /// in the same shape).
    pub fn server(&self) -> &InitializeResult {
        // Set before `connect` returns.
        self.inner
            .server
            .get()
            .expect("initialized before connect returns")
    }

    /// The negotiated protocol revision.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner
            .server
            .get()
            .and_then(|r| r.protocol_version.parse().ok())
    }

    /// Sends a raw request and waits for its result (in the stateless era, with the
    /// request's `_meta`, answering any `input_required` rounds on the way).
    pub async fn request(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<JsonObject, RequestError> {
        self.exchange(method, params)
            .await
            .map(|(_, result)| result)
    }

    async fn request_typed<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<T, RequestError> {
        let (id, result) = self.exchange(method, params).await?;
        decode(id, Ok(result))
    }

    async fn exchange(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let params = self.outgoing_params(params);
        let (id, rx) = self.inner.pending.register();
        self.send(Request::new(id.clone(), method, params.clone()).into(), &id)
            .await?;
        self.rounds(method, params, (id, rx), None).await
    }

    async fn send(&self, message: Message, id: &RequestId) -> Result<(), RequestError> {
        self.inner.outgoing.send(message).await.map_err(|_| {
            self.inner.pending.forget(id);
            RequestError::Closed(id.clone())
        })
    }

    /// Sends a notification.
    pub async fn notify(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<(), RequestError> {
        self.inner
            .outgoing
            .send(Notification::new(method, params).into())
            .await
            .map_err(|_| RequestError::Closed(RequestId::Number(-1)))
    }

    /// `ping`; in the stateless era, where `ping` is gone, a `server/discover` round trip.
    pub async fn ping(&self) -> Result<(), RequestError> {
        let method = if self.inner.stateless.get().is_some() {
            methods::SERVER_DISCOVER
        } else {
            methods::PING
        };
        self.request(method, None).await.map(drop)
    }

    /// Every item of a paginated list method, following `nextCursor` through all pages.
    async fn list_all<P: DeserializeOwned, T>(
        &self,
        method: &str,
        split: impl Fn(P) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>, RequestError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let params = PaginatedParams { cursor, meta: None };
            let page: P = self.request_typed(method, Some(to_object(&params))).await?;
            let (items, next) = split(page);
            all.extend(items);
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Every tool, following `nextCursor` through all pages.
    pub async fn list_tools(&self) -> Result<Vec<ToolDefinition>, RequestError> {
        self.list_all(methods::TOOLS_LIST, |p: ListToolsResult| {
            (p.tools, p.next_cursor)
        })
        .await
    }

    /// Every prompt, following `nextCursor` through all pages.
    pub async fn list_prompts(&self) -> Result<Vec<PromptDefinition>, RequestError> {
        self.list_all(methods::PROMPTS_LIST, |p: ListPromptsResult| {
            (p.prompts, p.next_cursor)
        })
        .await
    }

    /// Expands a prompt.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: HashMap<String, String>,
    ) -> Result<GetPromptResult, RequestError> {
        let params = GetPromptParams {
            name: name.to_owned(),
            arguments,
            meta: None,
        };
        self.request_typed(methods::PROMPTS_GET, Some(to_object(&params)))
            .await
    }

    /// Every resource, following `nextCursor` through all pages.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, RequestError> {
        self.list_all(methods::RESOURCES_LIST, |p: ListResourcesResult| {
            (p.resources, p.next_cursor)
        })
        .await
    }

    /// Every resource template, following `nextCursor` through all pages.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, RequestError> {
        self.list_all(
            methods::RESOURCES_TEMPLATES_LIST,
            |p: ListResourceTemplatesResult| (p.resource_templates, p.next_cursor),
        )
        .await
    }

    /// Asks for suggestions for an argument of a prompt or a variable of a resource template
    /// (`completion/complete`), given what has been typed so far.
    pub async fn complete(
        &self,
        reference: CompletionRef,
        argument: &str,
        value: &str,
    ) -> Result<Completion, RequestError> {
        let params = CompleteParams {
            reference,
            argument: CompletionArgument {
                name: argument.to_owned(),
                value: value.to_owned(),
            },
            context: None,
            meta: None,
        };
        let result: CompleteResult = self
            .request_typed(methods::COMPLETE, Some(to_object(&params)))
            .await?;
        Ok(result.completion)
    }

    /// Subscribes to updates of a resource (`notifications/resources/updated`, delivered by
    /// [`notifications`](Self::notifications)): `resources/subscribe` in a session; in the
    /// stateless era, a `subscriptions/listen` request naming every resource subscribed to,
    /// open once the server acknowledged it.
    pub async fn subscribe_resource(&self, uri: &str) -> Result<(), RequestError> {
        if self.inner.stateless.get().is_some() {
            return self.listen_for(uri).await;
        }
        let params = ResourceUriParams {
            uri: uri.to_owned(),
            meta: None,
        };
        self.request(methods::RESOURCES_SUBSCRIBE, Some(to_object(&params)))
            .await
            .map(drop)
    }

    /// Asks for `notifications/{tools,prompts,resources}/list_changed` (delivered by
    /// [`notifications`](Self::notifications)): a session gets them anyway; in the stateless
    /// era this opens (or reopens) the `subscriptions/listen` request with the three opted in,
    /// keeping the resources subscribed to, once the server acknowledged it.
    pub async fn follow_list_changes(&self) -> Result<(), RequestError> {
        if self.inner.stateless.get().is_some() {
            return self.listen_for_lists().await;
        }
        Ok(())
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, RequestError> {
        let params = ResourceUriParams {
            uri: uri.to_owned(),
            meta: None,
        };
        self.request_typed(methods::RESOURCES_READ, Some(to_object(&params)))
            .await
    }

    /// Notifications other than progress and log messages (resource updates, list changes),
    /// from now on. A later call replaces the earlier receiver.
    pub fn notifications(&self) -> mpsc::UnboundedReceiver<Notification> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.inner.other) = Some(tx);
        rx
    }

    /// Asks the server to send log messages at `level` and above: `logging/setLevel` in a
    /// session; in the stateless era, the level every later request carries in its `_meta`.
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), RequestError> {
        if let Some(mode) = self.inner.stateless.get() {
            *lock(&mode.log_level) = Some(level);
            return Ok(());
        }
        let params = SetLevelParams { level, meta: None };
        self.request(methods::LOGGING_SET_LEVEL, Some(to_object(&params)))
            .await
            .map(drop)
    }

    /// Log messages the server sends from now on. A later call replaces the earlier receiver.
    pub fn log_messages(&self) -> mpsc::UnboundedReceiver<LoggingMessageParams> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.inner.logs) = Some(tx);
        rx
    }

    /// Calls a tool and waits for its result, without asking for progress.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, RequestError> {
        let params = CallToolParams {
            name: name.to_owned(),
            arguments: as_arguments(arguments),
            meta: None,
        };
        self.request_typed(methods::TOOLS_CALL, Some(to_object(&params)))
            .await
    }

    /// Calls a tool with a progress token and returns at once: the [`ToolCall`] yields each
    /// progress notification as it arrives, then the result.
    pub async fn call_tool_streaming(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<ToolCall, RequestError> {
        self.start_call(name, arguments, None).await
    }

    /// [`call_tool_streaming`](Self::call_tool_streaming) asking to run as a task (as
    /// [`call_tool_as_task`](Self::call_tool_as_task) does): read it with
    /// [`ToolCall::next_started`], whose last event says whether the server made a task of it.
    /// Progress sent before the server decided arrives as with a plain call.
    pub async fn call_tool_streaming_as_task(
        &self,
        name: &str,
        arguments: Value,
        ttl: Option<std::time::Duration>,
    ) -> Result<ToolCall, RequestError> {
        self.start_call(name, arguments, Some(ttl)).await
    }

    /// Sends `tools/call` with a progress token (as a task when `task` is set, with its time
    /// to live) and returns at once.
    async fn start_call(
        &self,
        name: &str,
        arguments: Value,
        task: Option<Option<std::time::Duration>>,
    ) -> Result<ToolCall, RequestError> {
        let (id, rx) = self.inner.pending.register();
        let token = match &id {
            RequestId::Number(n) => ProgressToken::Number(*n),
            RequestId::String(s) => ProgressToken::String(s.to_string()),
        };
        let (tx, progress) = mpsc::channel(router::queue_len(self.inner.call_buffer));
        lock(&self.inner.calls).insert(token.clone(), tx);
        let mut meta = JsonObject::new();
        meta.insert("progressToken".into(), to_value(&token));
        let params = CallToolParams {
            name: name.to_owned(),
            arguments: as_arguments(arguments),
            meta: Some(meta),
        };
        let mut params = to_object(&params);
        if let Some(ttl) = task {
            params = self.as_task_params(params, ttl);
        }
        let params = self.outgoing_params(Some(params));
        self.send(
            Request::new(id.clone(), methods::TOOLS_CALL, params.clone()).into(),
            &id,
        )
        .await?;
        // The rounds of a multi round-trip call keep the progress token: the call's events
        // keep arriving on this `ToolCall` whatever id the current round has.
        let current = Arc::new(Mutex::new(id.clone()));
        let (done, result) = oneshot::channel();
        let client = self.clone();
        let following = current.clone();
        let first = id.clone();
        tokio::spawn(async move {
            let outcome = client
                .rounds(methods::TOOLS_CALL, params, (first, rx), Some(following))
                .await;
            let _ = done.send(outcome);
        });
        Ok(ToolCall::new(
            self.clone(),
            id,
            current,
            token,
            progress,
            result,
        ))
    }
}

fn parse<T: DeserializeOwned>(params: Option<JsonObject>) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::Object(params.unwrap_or_default()))
}

fn decode<T: DeserializeOwned>(id: RequestId, reply: Reply) -> Result<T, RequestError> {
    let object = reply?;
    serde_json::from_value(Value::Object(object))
        .map_err(|source| RequestError::Decode { id, source })
}

fn to_object<T: Serialize>(value: &T) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    }
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn as_arguments(arguments: Value) -> Option<Payload> {
    match arguments {
        Value::Object(o) => Some(o.into()),
        Value::Null => None,
        other => {
            let mut o = JsonObject::new();
            o.insert("value".into(), other);
            Some(o.into())
        }
    }
}
