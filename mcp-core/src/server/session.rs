//! One client connection: dispatch, in-flight requests and cancellation.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::catalog::{self, Answer, paginate, to_object};
use super::{Server, SessionState};
use crate::context::Context;
use crate::error::{ErrorCode, RpcError};
use crate::jsonrpc::{
    ErrorResponse, JsonObject, Message, Notification, Request, RequestId, Response,
};
use crate::protocol::{
    CallToolParams, CancelledParams, InitializeParams, InitializeResult, ListToolsResult,
    PaginatedParams, ProtocolVersion, ResourceUriParams, SetLevelParams, methods,
};
use crate::transport::{Outbound, Outbox};

/// The state of one client connection (a stdio process, an HTTP session).
///
/// A transport hands it every inbound message with [`receive`](Self::receive), together with
/// the [`Outbox`] where messages related to that message go. Requests that may take long
/// (`tools/call`) run as tasks of their own, so a long call never blocks `ping` or a second
/// call; the others are answered before `receive` returns.
///
/// Dropping the session (or calling [`close`](Self::close)) cancels every call still running.
#[derive(Clone)]
pub struct ServerSession {
    inner: Arc<Inner>,
}

struct Inner {
    server: Server,
    state: Arc<SessionState>,
    in_flight: Mutex<HashMap<RequestId, InFlight>>,
    notify: Outbox,
}

struct InFlight {
    abort: AbortHandle,
    cancel: CancellationToken,
    /// Where the call's answer goes: [`ServerSession::fail_all`] ends the call with an error
    /// there.
    reply: Outbox,
    /// Whether the call is meant to outlive its stream (a call run as a task): such a call is
    /// never reclaimed by [`ServerSession::cancel_unreachable`].
    outlives_stream: bool,
}

impl InFlight {
    fn stop(&self) {
        self.cancel.cancel();
        self.abort.abort();
    }
}

/// What [`ServerSession::cancel_unreachable`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reclaimed {
    /// The call was cancelled: its future is dropped and it sends nothing more.
    Cancelled,
    /// The call outlives its stream by design (it runs as a task): left running.
    Exempt,
    /// No such call is running (it ended, or was cancelled already).
    NotRunning,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let map = self.in_flight.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, call) in map.drain() {
            call.stop();
        }
    }
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("server", &self.inner.server.inner.info.name)
            .field("protocol_version", &self.inner.state.protocol_version())
            .finish()
    }
}

fn parse_params<T: DeserializeOwned>(params: Option<JsonObject>) -> Result<T, RpcError> {
    serde_json::from_value(Value::Object(params.unwrap_or_default()))
        .map_err(RpcError::invalid_params)
}

/// Methods a server may answer; anything else is `-32601`.
const KNOWN_METHODS: [&str; 14] = [
    methods::INITIALIZE,
    methods::PING,
    methods::TOOLS_LIST,
    methods::TOOLS_CALL,
    methods::LOGGING_SET_LEVEL,
    methods::PROMPTS_LIST,
    methods::PROMPTS_GET,
    methods::RESOURCES_LIST,
    methods::RESOURCES_TEMPLATES_LIST,
    methods::RESOURCES_READ,
    methods::RESOURCES_SUBSCRIBE,
    methods::RESOURCES_UNSUBSCRIBE,
    methods::COMPLETE,
    // Listed so that it is not answered as unknown: the notification is handled below.
    methods::CANCELLED,
];

impl ServerSession {
    /// A new session of `server`. Messages that belong to no request (such as list-changed
    /// notifications) go to `notify`.
    pub fn new(server: &Server, notify: Outbox) -> Self {
        let state = Arc::new(SessionState::with_notify(notify.clone()));
        server.register_session(&state);
        ServerSession {
            inner: Arc::new(Inner {
                server: server.clone(),
                state,
                in_flight: Mutex::new(HashMap::new()),
                notify,
            }),
        }
    }

    /// The server this session serves.
    pub fn server(&self) -> &Server {
        &self.inner.server
    }

    /// The negotiated protocol revision, once `initialize` has been answered.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.state.protocol_version()
    }

    /// Whether the client has sent `initialize`.
    pub fn is_initialized(&self) -> bool {
        self.protocol_version().is_some()
    }

    /// How many requests are running.
    pub fn in_flight(&self) -> usize {
        self.lock_in_flight().len()
    }

    /// Sends a notification that belongs to no request.
    pub async fn notify(&self, notification: Notification) -> Result<(), crate::transport::Closed> {
        self.inner.notify.send(notification.into(), None).await
    }

    /// Cancels every running request: their futures are dropped and no responses are sent.
    pub fn close(&self) {
        let calls: Vec<InFlight> = self.lock_in_flight().drain().map(|(_, c)| c).collect();
        for call in calls {
            call.stop();
        }
        self.inner.state.pending.close_all();
    }

    /// Cancels request `id` because nobody can receive its answer any more (its stream is
    /// gone and no client resumed it), unless it is meant to outlive its stream. A cancelled
    /// call's future is dropped and it sends nothing more.
    pub fn cancel_unreachable(&self, id: &RequestId) -> Reclaimed {
        let mut in_flight = self.lock_in_flight();
        match in_flight.get(id) {
            None => Reclaimed::NotRunning,
            Some(call) if call.outlives_stream => Reclaimed::Exempt,
            Some(_) => {
                if let Some(call) = in_flight.remove(id) {
                    drop(in_flight);
                    tracing::debug!(%id, "request cancelled: nobody can receive its answer");
                    call.stop();
                }
                Reclaimed::Cancelled
            }
        }
    }

    /// Ends every running request with `error`: each is cancelled (its future dropped) and
    /// answered with `error` where its response would have gone. For a shutdown that must not
    /// leave a caller without an answer. Returns how many requests were ended.
    pub async fn fail_all(&self, error: RpcError) -> usize {
        let calls: Vec<(RequestId, InFlight)> = self.lock_in_flight().drain().collect();
        for (_, call) in &calls {
            call.stop();
        }
        for (id, call) in &calls {
            let message = Message::Error(ErrorResponse::new(Some(id.clone()), error.clone()));
            let _ = call.reply.send(message, Some(id.clone())).await;
        }
        calls.len()
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, InFlight>> {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one inbound message. Messages related to it (its response, and for a tool call
    /// its progress, logs and requests to the client) go to `reply`, tagged with its id.
    ///
    /// Must run inside a tokio runtime: tool calls are spawned onto it.
    pub async fn receive(&self, message: Message, reply: &Outbox) {
        // Everything but sending the answer is synchronous: the future stays small.
        let answer = match message {
            Message::Request(request) => self.on_request(request, reply),
            Message::Notification(n) => {
                self.on_notification(n);
                None
            }
            Message::Response(r) => {
                self.inner.state.pending.resolve(&r.id, Ok(r.result));
                None
            }
            Message::Error(e) => {
                match e.id {
                    Some(id) => {
                        self.inner.state.pending.resolve(&id, Err(e.error.into()));
                    }
                    None => {
                        tracing::warn!(error = ?e.error, "the client sent an error without an id")
                    }
                }
                None
            }
        };
        if let Some(answer) = answer {
            let _ = reply.send_outbound(answer).await;
        }
    }

    /// Routes a request; returns its answer unless it runs as a task of its own.
    fn on_request(&self, request: Request, reply: &Outbox) -> Option<Outbound> {
        let id = request.id.clone();
        let answer = match self.route(request, reply) {
            Routed::Answer(answer) => answer,
            Routed::Spawned => return None,
        };
        let message = match answer {
            Ok(result) => Message::Response(Response::new(id.clone(), result)),
            Err(error) => Message::Error(ErrorResponse::new(Some(id.clone()), error)),
        };
        Some(Outbound {
            message: Box::new(message),
            related: Some(id),
        })
    }

    fn route(&self, request: Request, reply: &Outbox) -> Routed {
        let method = request.method.as_str();
        if !KNOWN_METHODS.contains(&method) {
            return Routed::Answer(Err(RpcError::method_not_found(method)));
        }
        if method == methods::CANCELLED {
            return Routed::Answer(Err(RpcError::invalid_request(
                "notifications/cancelled is a notification: send it without an id",
            )));
        }
        if method == methods::INITIALIZE {
            return Routed::Answer(self.initialize(request.params));
        }
        if method == methods::PING {
            return Routed::Answer(Ok(JsonObject::new()));
        }
        if !self.is_initialized() {
            return Routed::Answer(Err(RpcError::invalid_request(format!(
                "`{method}` before `initialize`: send `initialize` first"
            ))));
        }
        let offered = self.inner.server.capabilities();
        let params = request.params;
        let cursor = || -> Result<Option<String>, RpcError> {
            Ok(parse_params::<PaginatedParams>(params.clone())?.cursor)
        };
        let answer = match method {
            methods::TOOLS_LIST => cursor().and_then(|c| self.list_tools(c.as_deref())),
            methods::LOGGING_SET_LEVEL => parse_params::<SetLevelParams>(params).map(|p| {
                self.inner.state.set_log_level(p.level);
                JsonObject::new()
            }),
            methods::TOOLS_CALL => {
                return self.spawn_with(request.id, params, reply, |server, ctx, params| {
                    let params: CallToolParams = parse_params(params)?;
                    let tool = server.tool(&params.name).ok_or_else(|| {
                        RpcError::invalid_params(format!("unknown tool `{}`", params.name))
                    })?;
                    let future = tool.call(ctx, params.arguments.unwrap_or_default());
                    Ok(Box::pin(async move { Ok(to_object(&future.await)) }) as Answer)
                });
            }
            methods::PROMPTS_LIST | methods::PROMPTS_GET if offered.prompts.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::PROMPTS_LIST => {
                cursor().and_then(|c| catalog::list_prompts(&self.inner.server, c.as_deref()))
            }
            methods::PROMPTS_GET => {
                return self.spawn_with(request.id, params, reply, |server, ctx, params| {
                    catalog::get_prompt(server, ctx, parse_params(params)?)
                });
            }
            methods::COMPLETE if offered.completions.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::COMPLETE => {
                parse_params(params).and_then(|p| catalog::complete(&self.inner.server, p))
            }
            _ if method.starts_with("resources/") && offered.resources.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::RESOURCES_LIST => {
                cursor().and_then(|c| catalog::list_resources(&self.inner.server, c.as_deref()))
            }
            methods::RESOURCES_TEMPLATES_LIST => {
                cursor().and_then(|c| catalog::list_templates(&self.inner.server, c.as_deref()))
            }
            methods::RESOURCES_READ => {
                return self.spawn_with(request.id, params, reply, |server, ctx, params| {
                    catalog::read_resource(server, ctx, parse_params(params)?)
                });
            }
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE
                if !self.inner.server.inner.subscriptions =>
            {
                Err(RpcError::method_not_found(method))
            }
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
                parse_params::<ResourceUriParams>(params).map(|p| {
                    let on = method == methods::RESOURCES_SUBSCRIBE;
                    self.inner.state.subscribe(p.uri, on);
                    JsonObject::new()
                })
            }
            other => Err(RpcError::method_not_found(other)),
        };
        Routed::Answer(answer)
    }

    fn initialize(&self, params: Option<JsonObject>) -> Result<JsonObject, RpcError> {
        let params: InitializeParams = parse_params(params)?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        if !self.inner.state.initialize(version, params) {
            return Err(RpcError::invalid_request(
                "the session is already initialized",
            ));
        }
        let server = &self.inner.server;
        Ok(to_object(&InitializeResult {
            protocol_version: version.as_str().to_owned(),
            capabilities: server.capabilities(),
            server_info: server.inner.info.clone(),
            instructions: server.inner.instructions.clone(),
            meta: None,
        }))
    }

    fn list_tools(&self, cursor: Option<&str>) -> Result<JsonObject, RpcError> {
        let with_output = self
            .protocol_version()
            .is_some_and(ProtocolVersion::has_structured_output);
        let all = self
            .inner
            .server
            .inner
            .tools
            .iter()
            .map(|t| {
                let mut d = t.definition();
                if !with_output {
                    d.output_schema = None;
                }
                d
            })
            .collect();
        let (tools, next_cursor) = paginate(all, cursor, self.inner.server.inner.page_size)?;
        Ok(to_object(&ListToolsResult {
            tools,
            next_cursor,
            meta: None,
        }))
    }

    /// Builds a request's future with `make` and runs it as a task of its own: cancellable by
    /// `notifications/cancelled`, with a panic turned into `-32603`.
    fn spawn_with(
        &self,
        id: RequestId,
        params: Option<JsonObject>,
        reply: &Outbox,
        make: impl FnOnce(&Server, Context, Option<JsonObject>) -> Result<Answer, RpcError>,
    ) -> Routed {
        let meta = params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.as_object())
            .cloned();
        let cancel = CancellationToken::new();
        let ctx = Context::new(
            id.clone(),
            meta,
            reply.clone(),
            self.inner.state.clone(),
            cancel.clone(),
        );
        let future = match make(&self.inner.server, ctx, params) {
            Ok(f) => f,
            Err(e) => return Routed::Answer(Err(e)),
        };
        let mut in_flight = self.lock_in_flight();
        if in_flight.contains_key(&id) {
            return Routed::Answer(Err(RpcError::invalid_request(format!(
                "request id {id} is already in use by a running request"
            ))));
        }
        let limit = self.inner.server.inner.max_calls_in_flight;
        if in_flight.len() >= limit {
            return Routed::Answer(Err(RpcError::new(
                ErrorCode::SERVER_ERROR,
                format!(
                    "too many requests in flight: this session may run {limit} at once; \
                     wait for one to finish, or cancel one"
                ),
            )
            .with_data(serde_json::json!({"reason": "too_many_requests", "limit": limit}))));
        }
        let session = Arc::downgrade(&self.inner);
        let reply_for_failure = reply.clone();
        let reply = reply.clone();
        let task_id = id.clone();
        let handle = tokio::spawn(async move {
            let outcome = AssertUnwindSafe(future).catch_unwind().await;
            let answer = outcome.unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                tracing::error!(id = %task_id, %why, "a request handler panicked");
                Err(RpcError::internal(format!("the handler panicked: {why}")))
            });
            // Answer only a call still registered: one taken out of the table was cancelled,
            // or already answered by `fail_all`.
            if let Some(session) = session.upgrade() {
                let owned = session
                    .in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&task_id)
                    .is_some();
                if !owned {
                    return;
                }
            }
            let message = match answer {
                Ok(result) => Message::Response(Response::new(task_id.clone(), result)),
                Err(e) => Message::Error(ErrorResponse::new(Some(task_id.clone()), e)),
            };
            let _ = reply.send(message, Some(task_id)).await;
        });
        in_flight.insert(
            id,
            InFlight {
                abort: handle.abort_handle(),
                cancel,
                reply: reply_for_failure,
                // The hook for calls run as tasks (MCP tasks): they exist to outlive their
                // stream, so a task-augmented call is registered with `true` and never
                // reclaimed as unreachable. Every request routed today answers on its stream.
                outlives_stream: false,
            },
        );
        Routed::Spawned
    }

    fn on_notification(&self, n: Notification) {
        match n.method.as_str() {
            methods::CANCELLED => match parse_params::<CancelledParams>(n.params) {
                Ok(p) => {
                    let call = self.lock_in_flight().remove(&p.request_id);
                    if let Some(call) = call {
                        tracing::debug!(id = %p.request_id, reason = ?p.reason, "request cancelled");
                        call.stop();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a malformed cancellation"),
            },
            methods::INITIALIZED => {}
            other => tracing::debug!(method = other, "ignoring notification"),
        }
    }

    /// The client's `initialize` params, once received.
    pub fn client_info(&self) -> Option<InitializeParams> {
        self.inner.state.client().cloned()
    }
}

enum Routed {
    Answer(Result<JsonObject, RpcError>),
    Spawned,
}
