//! One client connection: dispatch, in-flight requests and cancellation, for both eras.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::task::AbortHandle;

use super::caller::{Caller, Era, RequestMeta};
use super::catalog::{self, Answer, paginate, to_payload};
use super::finish::{Cacheable, stateless_result};
use super::preread::{Preread, ToolCall};
use super::running::Running;
use super::{Server, SessionState, subscriptions};
use crate::context::Context;
use crate::error::{ErrorCode, RpcError};
use crate::input::{InputRound, Suspendable};
use crate::jsonrpc::{
    ErrorResponse, JsonObject, Message, Notification, Payload, Request, RequestId, Response,
};
use crate::middleware::McpCall;
use crate::protocol::{
    CallToolParams, CancelledParams, DiscoverResult, InitializeParams, InitializeResult,
    ListToolsResult, PaginatedParams, ProtocolVersion, ResourceUriParams, SetLevelParams, methods,
};
use crate::sync::lock;
use crate::task::{self, TASKS_EXTENSION};
use crate::transport::{Outbound, Outbox};

/// The state of one client connection (a stdio process, an HTTP session, or a single
/// stateless HTTP request).
///
/// A transport hands it every inbound message with [`receive`](Self::receive), together with
/// the [`Outbox`] where messages related to that message go. Requests that may take long
/// (`tools/call`) run inside `receive` until they first wait, then as tasks of their own, so a
/// long call never blocks `ping` or a second call while it waits, and one that answers at
/// once costs no task; the others are answered before `receive` returns. (A tool should
/// therefore not compute for long before its first `.await`: until then it holds up the
/// transport's next message, as it would hold up a worker thread anyway.)
///
/// Both eras share one connection: `initialize` opens the stateful session, and a request
/// whose `_meta` names a 2026-07-28 protocol version is served statelessly from that `_meta`
/// alone, whatever the session's state (see [`Caller`]).
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
    /// Whether stateless requests are served here (not on a transport of the stateful era
    /// only, such as legacy HTTP+SSE).
    stateless: bool,
    /// Who the client is, as its transport authenticated it: tasks are scoped to it.
    principal: std::sync::OnceLock<Arc<str>>,
}

struct InFlight {
    abort: AbortHandle,
    /// The call's context: stopping the call cancels it (see [`Context::cancel`]).
    ctx: Context,
    /// Where the call's answer goes: [`ServerSession::fail_all`] ends the call with an error
    /// there.
    reply: Outbox,
    /// Whether the call is meant to outlive its stream (a call run as a task): such a call is
    /// never reclaimed by [`ServerSession::cancel_unreachable`].
    outlives_stream: bool,
}

impl InFlight {
    fn stop(&self) {
        self.ctx.cancel();
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

/// A request's typed params, decoded from the text they arrived as (absent params read as
/// `{}`).
fn parse_params<T: DeserializeOwned>(params: Option<Payload>) -> Result<T, RpcError> {
    match params {
        Some(params) => params.decode(),
        None => serde_json::from_str("{}"),
    }
    .map_err(RpcError::invalid_params)
}

/// Methods the stateful era answers; anything else is `-32601`.
const STATEFUL_METHODS: [&str; 18] = [
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
    methods::TASKS_GET,
    methods::TASKS_RESULT,
    methods::TASKS_LIST,
    methods::TASKS_CANCEL,
    // Listed so that it is not answered as unknown: the notification is handled below.
    methods::CANCELLED,
];

/// Methods the stateless era answers. `initialize`, `ping`, `logging/setLevel` and
/// `resources/(un)subscribe` are gone from it, and the tasks extension has no `tasks/result`
/// or `tasks/list`: `-32601`.
const STATELESS_METHODS: [&str; 14] = [
    methods::SERVER_DISCOVER,
    methods::SUBSCRIPTIONS_LISTEN,
    methods::TOOLS_LIST,
    methods::TOOLS_CALL,
    methods::PROMPTS_LIST,
    methods::PROMPTS_GET,
    methods::RESOURCES_LIST,
    methods::RESOURCES_TEMPLATES_LIST,
    methods::RESOURCES_READ,
    methods::COMPLETE,
    methods::TASKS_GET,
    methods::TASKS_UPDATE,
    methods::TASKS_CANCEL,
    methods::CANCELLED,
];

/// Turns an answer into the message that carries it, as the caller's era wants it.
#[derive(Clone)]
enum Finish {
    /// Results and errors as they are.
    Stateful,
    /// `resultType`, the server's identity and caching hints on results; the revision's codes
    /// on errors.
    Stateless {
        server: Server,
        cacheable: Cacheable,
    },
}

impl Finish {
    fn for_request(server: &Server, caller: &Caller, method: &str) -> Self {
        match caller.era() {
            Era::Stateful => Finish::Stateful,
            Era::Stateless => Finish::Stateless {
                server: server.clone(),
                cacheable: Cacheable::of(method),
            },
        }
    }

    fn message(&self, id: RequestId, answer: Result<Payload, RpcError>) -> Message {
        match (self, answer) {
            (Finish::Stateful, Ok(result)) => Message::Response(Response::new(id, result)),
            (Finish::Stateful, Err(e)) => Message::Error(ErrorResponse::new(Some(id), e)),
            (Finish::Stateless { server, cacheable }, Ok(result)) => Message::Response(
                Response::new(id, stateless_result(server, *cacheable, result)),
            ),
            (Finish::Stateless { .. }, Err(mut e)) => {
                if e.code == ErrorCode::RESOURCE_NOT_FOUND {
                    // 2026-07-28 retired -32002: a missing resource is invalid params.
                    e.code = ErrorCode::INVALID_PARAMS;
                }
                Message::Error(ErrorResponse::new(Some(id), e))
            }
        }
    }
}

impl ServerSession {
    /// A new session of `server`. Messages that belong to no request (such as list-changed
    /// notifications) go to `notify`.
    pub fn new(server: &Server, notify: Outbox) -> Self {
        Self::with_eras(server, notify, true)
    }

    /// A session on a transport of the stateful era only (legacy HTTP+SSE, protocol
    /// 2024-11-05): every request is served as the session's, whatever its `_meta`.
    pub fn stateful(server: &Server, notify: Outbox) -> Self {
        Self::with_eras(server, notify, false)
    }

    fn with_eras(server: &Server, notify: Outbox, stateless: bool) -> Self {
        let state = Arc::new(SessionState::with_notify(notify.clone()));
        server.register_session(&state);
        ServerSession {
            inner: Arc::new(Inner {
                server: server.clone(),
                state,
                in_flight: Mutex::new(HashMap::new()),
                notify,
                stateless,
                principal: std::sync::OnceLock::new(),
            }),
        }
    }

    /// A session for stateless requests only, such as the one request of a 2026-07-28 HTTP
    /// POST: it is not announced to the server (nothing unrelated to a request reaches it),
    /// and dropping it cancels its requests, as closing the POST's stream must.
    pub fn stateless(server: &Server) -> Self {
        let notify = Outbox::nowhere();
        ServerSession {
            inner: Arc::new(Inner {
                server: server.clone(),
                state: Arc::new(SessionState::default()),
                in_flight: Mutex::new(HashMap::new()),
                notify,
                stateless: true,
                principal: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Records who the client is, as the transport authenticated it (a bearer token's
    /// identity): its tasks are then scoped to that identity instead of this session, so the
    /// same client reaches them from a later session or request, and no other client does.
    /// The first identity set stays.
    pub fn set_principal(&self, principal: Arc<str>) {
        let _ = self.inner.principal.set(principal);
    }

    /// Whose tasks a request may see: the authenticated client's; without authentication,
    /// the session's (2025 era), or anyone holding the unguessable id (a stateless request).
    fn task_owner(&self, caller: &Caller) -> String {
        if let Some(p) = self.inner.principal.get() {
            return format!("principal:{p}");
        }
        match caller.session_state() {
            Some(state) if caller.era() == Era::Stateful => {
                format!("session:{}", state.task_scope())
            }
            _ => String::new(),
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

    /// Cancels one running request, as `notifications/cancelled` would. Returns whether it
    /// was running.
    pub fn cancel(&self, id: &RequestId) -> bool {
        let call = self.lock_in_flight().remove(id);
        match call {
            Some(call) => {
                call.stop();
                true
            }
            None => false,
        }
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, InFlight>> {
        lock(&self.inner.in_flight)
    }

    /// Handles one inbound message. Messages related to it (its response, and for a tool call
    /// its progress, logs and requests to the client) go to `reply`, tagged with its id.
    ///
    /// Must run inside a tokio runtime: tool calls are spawned onto it.
    pub async fn receive(&self, message: Message, reply: &Outbox) {
        // Everything but sending the answer is synchronous: the future stays small.
        if let Some(answer) = self.handle(message, reply) {
            let _ = reply
                .send_outbound(Outbound::answer(Box::new(answer)))
                .await;
        }
    }

    /// Serves a stateless (2026-07-28) request as [`receive`](Self::receive) does, with its
    /// `_meta` as the transport read and checked it already ([`RequestMeta::read`] of the
    /// request's params): the caller is made from `meta` instead of reading `_meta` again.
    pub async fn receive_stateless(&self, request: Request, meta: RequestMeta, reply: &Outbox) {
        if let Some(answer) = self.on_request(request, reply, Some(meta)) {
            let _ = reply
                .send_outbound(Outbound::answer(Box::new(answer)))
                .await;
        }
    }

    /// Handles one inbound message as [`receive`](Self::receive) does, but returns the answer
    /// instead of sending it when one is ready at once: a request answered without waiting
    /// (or refused). The answer carries the request's id, so it belongs to the request (what
    /// [`Outbound::related`](crate::transport::Outbound::related) says of a message sent);
    /// it is not boxed, as a transport that writes it at once needs no `Outbound`. `None`
    /// when there is no answer yet (the call runs as a task and sends its answer to `reply`
    /// when it finishes) or none at all (a notification or a response).
    ///
    /// For a transport that writes a ready answer itself rather than handing it to its writer
    /// through `reply`. The answer must leave after every message already sent to `reply`:
    /// a call that completed at once may have sent progress there first.
    ///
    /// Must run inside a tokio runtime: tool calls that wait are spawned onto it.
    pub fn handle(&self, message: Message, reply: &Outbox) -> Option<Message> {
        match message {
            Message::Request(request) => self.on_request(request, reply, None),
            Message::Notification(n) => {
                self.on_notification(n);
                None
            }
            Message::Response(r) => {
                self.inner
                    .state
                    .pending
                    .resolve(&r.id, Ok(r.result.into_object()));
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
        }
    }

    /// Who sent `request`: the session (stateful era), or the request's own `_meta`
    /// (stateless era), checked; `meta` is that `_meta` when the transport read it already.
    fn caller_for(
        &self,
        request: &Request,
        read: &Preread,
        meta: Option<RequestMeta>,
    ) -> Result<Caller, RpcError> {
        let server = &self.inner.server;
        // A `_meta` the transport read names a protocol version: the request is stateless.
        let stateless = self.inner.stateless
            && server.serves(Era::Stateless)
            && (meta.is_some()
                || read.is_stateless(&request.method)
                || !server.serves(Era::Stateful));
        if !stateless {
            return Ok(Caller::session(self.inner.state.clone()));
        }
        if request.method == methods::INITIALIZE && !server.serves(Era::Stateful) {
            let requested = request
                .params
                .as_ref()
                .and_then(|p| p.get("protocolVersion"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(RpcError::unsupported_version(
                requested,
                &server.supported_versions(),
            ));
        }
        // From the `_meta` read already when there is one; read again only to say what is
        // wrong with it.
        let meta = match (meta, &read.meta) {
            (Some(meta), _) => meta,
            (None, Some(meta)) => RequestMeta::from_meta(meta)?,
            (None, None) => RequestMeta::read(request.params.as_ref())?,
        };
        let version = server.check_version(meta.protocol_version())?;
        Ok(Caller::request(version, meta))
    }

    /// Routes a request; returns its answer unless it runs as a task of its own.
    fn on_request(
        &self,
        request: Request,
        reply: &Outbox,
        meta: Option<RequestMeta>,
    ) -> Option<Message> {
        let id = request.id.clone();
        let mut read = Preread::of(&request);
        match self.caller_for(&request, &read, meta) {
            Err(e) => Some(Message::Error(ErrorResponse::new(Some(id), e))),
            Ok(caller) => {
                let finish = Finish::for_request(&self.inner.server, &caller, &request.method);
                match self.route(request, caller, reply, &finish, &mut read) {
                    Routed::Answer(answer) => Some(finish.message(id, answer)),
                    Routed::Spawned => None,
                }
            }
        }
    }

    fn route(
        &self,
        request: Request,
        caller: Caller,
        reply: &Outbox,
        finish: &Finish,
        read: &mut Preread,
    ) -> Routed {
        let method = request.method.as_str();
        let era = caller.era();
        // The usual request, known in both eras, looked for first.
        if method != methods::TOOLS_CALL {
            let known = match era {
                Era::Stateful => STATEFUL_METHODS.contains(&method),
                Era::Stateless => STATELESS_METHODS.contains(&method),
            };
            if !known {
                return Routed::Answer(Err(RpcError::method_not_found(method)));
            }
            if method == methods::CANCELLED {
                return Routed::Answer(Err(RpcError::invalid_request(
                    "notifications/cancelled is a notification: send it without an id",
                )));
            }
            match method {
                methods::INITIALIZE => return Routed::Answer(self.initialize(request.params)),
                methods::PING => return Routed::Answer(Ok(Payload::new())),
                methods::SERVER_DISCOVER => return Routed::Answer(Ok(self.discover())),
                _ => {}
            }
        }
        if era == Era::Stateful && !self.is_initialized() {
            return Routed::Answer(Err(RpcError::invalid_request(format!(
                "`{method}` before `initialize`: send `initialize` first"
            ))));
        }
        let server = &self.inner.server;
        // Built only for the methods whose presence depends on them, not for every call.
        let offered = || server.capabilities();
        let params = request.params;
        let cursor = || -> Result<Option<String>, RpcError> {
            Ok(parse_params::<PaginatedParams>(params.clone())?.cursor)
        };
        let answer = match method {
            methods::TOOLS_CALL => {
                let task = read.task.take();
                let call = read.call.take();
                return self.spawn_with(
                    method,
                    request.id,
                    params,
                    caller,
                    reply,
                    finish,
                    read.meta.take(),
                    |server, ctx, mut raw| {
                        // `task` is all `task_mode` reads (read with `_meta`, in one pass);
                        // without it, no object to build and drop.
                        let task_member =
                            task.map(|task| JsonObject::from_iter([("task".into(), task)]));
                        // Read with `_meta` in one pass, or decoded from the text here: the
                        // arguments stay text for the tool to decode.
                        let mut call = match call {
                            Some(call) => call,
                            None => {
                                let params: CallToolParams = parse_params(raw.take())?;
                                ToolCall::new(params.name, params.arguments)
                            }
                        };
                        let arguments = call.arguments.take().unwrap_or_default();
                        // Found where it is in the params' text, when it needs no unescaping.
                        let name = call.name(raw.as_ref());
                        // One look at the catalog for the tool and its task support.
                        let (tool, support) = server.tool_to_call(name).ok_or_else(|| {
                            RpcError::invalid_params(format!("unknown tool `{name}`"))
                        })?;
                        let mode =
                            task::task_mode(ctx.caller(), task_member.as_ref(), name, support)?;
                        if let Some(ttl) = mode {
                            // Named only for a call that runs as a task.
                            let owner = self.task_owner(ctx.caller());
                            let tool = tool.clone();
                            return task::call_as_task(server, &ctx, ttl, owner, move |ctx| {
                                tool.call_or_error(ctx, arguments)
                            })
                            .map(|f| Running::Answer(objects(f)));
                        }
                        // The tool is called when the call is first polled, not before: a
                        // middleware layer that refuses it keeps it from running at all.
                        Ok(Running::call(tool, ctx, arguments))
                    },
                );
            }
            methods::TOOLS_LIST => cursor().and_then(|c| self.list_tools(&caller, c.as_deref())),
            methods::LOGGING_SET_LEVEL => parse_params::<SetLevelParams>(params).map(|p| {
                self.inner.state.set_log_level(p.level);
                Payload::new()
            }),
            methods::SUBSCRIPTIONS_LISTEN => {
                let id = request.id.clone();
                // Task notifications only for a caller that declares the tasks extension, and
                // only of its own tasks.
                let tasks = task::declares_extension(&caller).then(|| self.task_owner(&caller));
                return self.spawn_with(
                    method,
                    request.id,
                    params,
                    caller,
                    reply,
                    finish,
                    read.meta.take(),
                    |server, ctx, params| {
                        subscriptions::listen(
                            server,
                            id,
                            params.map(Payload::into_object),
                            ctx.reply(),
                            ctx.cancellation_token(),
                            tasks,
                        )
                        .map(objects)
                    },
                );
            }
            methods::TASKS_GET
            | methods::TASKS_RESULT
            | methods::TASKS_LIST
            | methods::TASKS_CANCEL
            | methods::TASKS_UPDATE => {
                let owner = self.task_owner(&caller);
                return self.spawn_with(
                    method,
                    request.id,
                    params,
                    caller,
                    reply,
                    finish,
                    read.meta.take(),
                    |server, ctx, params| {
                        let params = params.map(Payload::into_object);
                        task::handle(server, &ctx, method, params, owner).map(objects)
                    },
                );
            }
            methods::PROMPTS_LIST | methods::PROMPTS_GET if offered().prompts.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::PROMPTS_LIST => {
                cursor().and_then(|c| catalog::list_prompts(server, c.as_deref()))
            }
            methods::PROMPTS_GET => {
                return self.spawn_with(
                    method,
                    request.id,
                    params,
                    caller,
                    reply,
                    finish,
                    read.meta.take(),
                    |server, ctx, params| catalog::get_prompt(server, ctx, parse_params(params)?),
                );
            }
            methods::COMPLETE if offered().completions.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::COMPLETE => parse_params(params).and_then(|p| catalog::complete(server, p)),
            _ if method.starts_with("resources/") && offered().resources.is_none() => {
                Err(RpcError::method_not_found(method))
            }
            methods::RESOURCES_LIST => {
                cursor().and_then(|c| catalog::list_resources(server, c.as_deref()))
            }
            methods::RESOURCES_TEMPLATES_LIST => {
                cursor().and_then(|c| catalog::list_templates(server, c.as_deref()))
            }
            methods::RESOURCES_READ => {
                return self.spawn_with(
                    method,
                    request.id,
                    params,
                    caller,
                    reply,
                    finish,
                    read.meta.take(),
                    |server, ctx, params| {
                        catalog::read_resource(server, ctx, parse_params(params)?)
                    },
                );
            }
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE
                if !server.resource_subscriptions() =>
            {
                Err(RpcError::method_not_found(method))
            }
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
                parse_params::<ResourceUriParams>(params).map(|p| {
                    let on = method == methods::RESOURCES_SUBSCRIBE;
                    self.inner.state.subscribe(p.uri, on);
                    Payload::new()
                })
            }
            other => Err(RpcError::method_not_found(other)),
        };
        Routed::Answer(answer)
    }

    fn initialize(&self, params: Option<Payload>) -> Result<Payload, RpcError> {
        let params: InitializeParams = parse_params(params)?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        if !self.inner.state.initialize(version, params) {
            return Err(RpcError::invalid_request(
                "the session is already initialized",
            ));
        }
        let server = &self.inner.server;
        let mut capabilities = server.capabilities();
        if server.has_task_tools() && version == ProtocolVersion::V2025_11_25 {
            capabilities.tasks = Some(
                match serde_json::json!({
                    "list": {},
                    "cancel": {},
                    "requests": {"tools": {"call": {}}}
                }) {
                    Value::Object(o) => o,
                    _ => JsonObject::new(),
                },
            );
        }
        Ok(to_payload(&InitializeResult {
            protocol_version: version.as_str().to_owned(),
            capabilities,
            server_info: server.inner.info.clone(),
            instructions: server.instructions(),
            meta: None,
        }))
    }

    /// `server/discover`: versions, capabilities and identity (the identity in `_meta`, added
    /// with every stateless result).
    fn discover(&self) -> Payload {
        let server = &self.inner.server;
        let mut capabilities = server.capabilities();
        if server.has_task_tools() {
            let mut extensions = JsonObject::new();
            extensions.insert(TASKS_EXTENSION.into(), Value::Object(JsonObject::new()));
            capabilities.extensions = Some(extensions);
        }
        to_payload(&DiscoverResult {
            supported_versions: server
                .supported_versions()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            capabilities,
            instructions: server.instructions(),
            meta: None,
        })
    }

    fn list_tools(&self, caller: &Caller, cursor: Option<&str>) -> Result<Payload, RpcError> {
        let with_output = caller
            .protocol_version()
            .is_some_and(ProtocolVersion::has_structured_output);
        // `execution` exists in 2025-11-25 only (the extension needs no per-tool flag).
        let with_execution = caller.protocol_version() == Some(ProtocolVersion::V2025_11_25);
        let all = self
            .inner
            .server
            .catalog()
            .tools
            .iter()
            .map(|t| {
                let mut d = t.definition();
                if !with_output {
                    d.output_schema = None;
                }
                if !with_execution {
                    d.execution = None;
                }
                d
            })
            .collect();
        let (tools, next_cursor) = paginate(all, cursor, self.inner.server.inner.page_size)?;
        Ok(to_payload(&ListToolsResult {
            tools,
            next_cursor,
            meta: None,
        }))
    }

    /// Builds a request's future with `make`, runs it here until it first waits (a call that
    /// completes at once is answered without a task), then as a task of its own: cancellable by
    /// `notifications/cancelled` (or by dropping the session), with a panic turned into
    /// `-32603`. A stateless request that may ask for input runs with its [`InputRound`] and
    /// stops with `input_required` when it waits for answers it does not have.
    #[allow(clippy::too_many_arguments)]
    fn spawn_with<R>(
        &self,
        method: &str,
        id: RequestId,
        params: Option<Payload>,
        caller: Caller,
        reply: &Outbox,
        finish: &Finish,
        meta: Option<Payload>,
        make: impl FnOnce(&Server, Context, Option<Payload>) -> Result<R, RpcError>,
    ) -> Routed
    where
        R: Into<Running>,
    {
        let server = &self.inner.server;
        // The revision lets these three ask for input; nothing else may.
        let may_ask = match method {
            _ if caller.era() != Era::Stateless => None,
            methods::TOOLS_CALL => Some(methods::TOOLS_CALL),
            methods::PROMPTS_GET => Some(methods::PROMPTS_GET),
            methods::RESOURCES_READ => Some(methods::RESOURCES_READ),
            _ => None,
        };
        let input = match may_ask {
            Some(method) => match InputRound::start(&server.state_key, method, params.as_ref()) {
                Ok(round) => Some(Arc::new(round)),
                Err(e) => return Routed::Answer(Err(e)),
            },
            None => None,
        };
        let ctx = Context::new(
            id.clone(),
            meta,
            reply.clone(),
            caller,
            input.clone(),
            Some(server.downgrade()),
        );
        // What the middleware sees, copied out of the params only when there are layers.
        let call = if server.middleware.is_empty() {
            None
        } else {
            McpCall::parts(method, params.as_deref())
        };
        let future: Running = match make(server, ctx.clone(), params) {
            Ok(f) => f.into(),
            Err(e) => return Routed::Answer(Err(e)),
        };
        // The middleware seam: the calls that run as tasks pass through the server's layers.
        let future = match call {
            Some((method, name, arguments)) => {
                let identity = self.inner.principal.get().cloned();
                let answer = future.into_answer();
                let call = McpCall::new(method, name, arguments, identity, ctx.clone(), answer);
                Running::Answer(server.middleware.run(call))
            }
            None => future,
        };
        let mut future = match input {
            Some(round) => Running::Answer(Box::pin(Suspendable::new(future, round, ctx.clone()))),
            None => future,
        };
        // Refused before it runs at all: a call past the bound has no side effects.
        if let Err(refusal) = self.admit(&self.lock_in_flight(), &id) {
            return Routed::Answer(Err(refusal));
        }
        // Run the call here until it first waits: one that completes at once is answered
        // without a task (no spawn, no wake-up of another worker thread, no table entry).
        if let Poll::Ready(outcome) = poll_once(&mut future) {
            // The call is over: its context serves this thread's next call, unless something
            // the call started holds it still.
            drop(future);
            ctx.recycle();
            return Routed::Answer(answer_of(outcome, &id));
        }
        let mut in_flight = self.lock_in_flight();
        // Admitted again: a request with the same id, or enough others to reach the bound,
        // may have arrived meanwhile on another connection. The refused call has started, so
        // whatever it handed to other tasks sees its request cancelled.
        if let Err(refusal) = self.admit(&in_flight, &id) {
            ctx.cancel();
            return Routed::Answer(Err(refusal));
        }
        let session = Arc::downgrade(&self.inner);
        let reply_for_failure = reply.clone();
        let reply = reply.clone();
        let task_id = id.clone();
        let finish = finish.clone();
        let handle = tokio::spawn(async move {
            // Polled again at once with this task's waker, so nothing it waits on is missed.
            let outcome = AssertUnwindSafe(future).catch_unwind().await;
            let answer = answer_of(outcome, &task_id);
            // Answer only a call still registered: one taken out of the table was cancelled,
            // or already answered by `fail_all`.
            if let Some(session) = session.upgrade() {
                let owned = lock(&session.in_flight).remove(&task_id).is_some();
                if !owned {
                    return;
                }
            }
            let message = finish.message(task_id.clone(), answer);
            let _ = reply.send(message, Some(task_id)).await;
        });
        in_flight.insert(
            id,
            InFlight {
                abort: handle.abort_handle(),
                ctx,
                reply: reply_for_failure,
                // The hook for calls run as tasks (MCP tasks): they exist to outlive their
                // stream, so a task-augmented call is registered with `true` and never
                // reclaimed as unreachable. Every request routed today answers on its stream.
                outlives_stream: false,
            },
        );
        Routed::Spawned
    }

    /// Whether a call with `id` may start: its id is not in use and the session runs fewer
    /// than its bound of calls. (Checked again once the call waits, before it is registered.)
    fn admit(
        &self,
        in_flight: &HashMap<RequestId, InFlight>,
        id: &RequestId,
    ) -> Result<(), RpcError> {
        if in_flight.contains_key(id) {
            return Err(in_use(id));
        }
        let limit = self.inner.server.inner.max_calls_in_flight;
        if in_flight.len() >= limit {
            return Err(RpcError::new(
                ErrorCode::SERVER_ERROR,
                format!(
                    "too many requests in flight: this session may run {limit} at once; \
                     wait for one to finish, or cancel one"
                ),
            )
            .with_data(serde_json::json!({"reason": "too_many_requests", "limit": limit})));
        }
        Ok(())
    }

    fn on_notification(&self, n: Notification) {
        match n.method.as_str() {
            methods::CANCELLED => match parse_params::<CancelledParams>(n.params) {
                Ok(p) => {
                    if self.cancel(&p.request_id) {
                        tracing::debug!(id = %p.request_id, reason = ?p.reason, "request cancelled");
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
    Answer(Result<Payload, RpcError>),
    Spawned,
}

fn in_use(id: &RequestId) -> RpcError {
    RpcError::invalid_request(format!(
        "request id {id} is already in use by a running request"
    ))
}

/// Polls a request's future once, on this thread, with a waker that does nothing: if it is
/// not ready, the task that takes it over polls it again before anything else, and that poll
/// registers the real waker. A panic is caught and returned.
fn poll_once(future: &mut Running) -> Poll<std::thread::Result<Result<Payload, RpcError>>> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *future).poll(&mut cx))) {
        Ok(Poll::Ready(answer)) => Poll::Ready(Ok(answer)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic)),
    }
}

/// A request's answer, with a panic turned into `-32603`.
fn answer_of(
    outcome: std::thread::Result<Result<Payload, RpcError>>,
    id: &RequestId,
) -> Result<Payload, RpcError> {
    outcome.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        tracing::error!(%id, %why, "a request handler panicked");
        Err(RpcError::internal(format!("the handler panicked: {why}")))
    })
}

/// An answer built as an object (tasks, subscriptions), as the middleware's [`Payload`].
fn objects(future: crate::tool::BoxFuture<Result<JsonObject, RpcError>>) -> Answer {
    Box::pin(async move { future.await.map(Payload::from) })
}
