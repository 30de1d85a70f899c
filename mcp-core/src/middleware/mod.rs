//! Middleware around calls, in the tower model: a [`Layer`] wraps the
//! [`Service`] that runs a call ([`McpCall`] in, the result object out as a [`Payload`],
//! [`RpcError`] for a refusal). A tool's result arrives already encoded: a layer that reads it
//! parses it (it reads as a [`JsonObject`]); one that only passes it on costs nothing.
//!
//! The requests that run as tasks of their own pass through the stack: `tools/call`,
//! `prompts/get` and `resources/read`. A server gets its layers from
//! [`ServerBuilder::layer`](crate::ServerBuilder::layer) (the first added is the outermost, as
//! with tower's `ServiceBuilder`) or, once built, from [`Server::with_layer`](crate::Server::with_layer)
//! (outermost of all). A server without layers runs calls exactly as before.
//!
//! What a layer may do: look at the call (method, name, arguments, the caller's identity and
//! [`Context`]), refuse it with an error (the tool never runs: a tool's body starts only when
//! the innermost service polls it), bound it in time or number (dropping the future cancels
//! the tool, as a client's cancellation does), and time or count it. Progress and cancellation
//! need nothing from a layer: the tool reports progress through its [`Context`], which reaches
//! the client directly, and a cancelled call drops the whole stack's future.
//!
//! Built in: [`TimeoutLayer`], [`ConcurrencyLimitLayer`] (tower's own), [`TraceLayer`],
//! [`AuthorizationLayer`]; `mcp-transport` adds a metrics layer.

mod authorize;
mod timeout;
mod trace;

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

pub use authorize::AuthorizationLayer;
pub use timeout::TimeoutLayer;
pub use tower::limit::ConcurrencyLimitLayer;
pub use trace::TraceLayer;

use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

use crate::context::Context;
use crate::error::RpcError;
use crate::jsonrpc::{JsonObject, Payload};
use crate::protocol::methods;
use crate::tool::BoxFuture;

/// A request's answer once its future completes.
pub(crate) type Answer = BoxFuture<Result<Payload, RpcError>>;

/// One call on its way to its handler: what a middleware layer sees.
pub struct McpCall {
    method: &'static str,
    name: String,
    arguments: Option<JsonObject>,
    identity: Option<Arc<str>>,
    ctx: Context,
    answer: Answer,
}

impl std::fmt::Debug for McpCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpCall")
            .field("method", &self.method)
            .field("name", &self.name)
            .field("identity", &self.identity)
            .field("id", self.ctx.request_id())
            .finish_non_exhaustive()
    }
}

impl McpCall {
    pub(crate) fn new(
        method: &'static str,
        name: String,
        arguments: Option<JsonObject>,
        identity: Option<Arc<str>>,
        ctx: Context,
        answer: Answer,
    ) -> Self {
        McpCall {
            method,
            name,
            arguments,
            identity,
            ctx,
            answer,
        }
    }

    /// What a call of `method` shows the middleware: its method, name and arguments, for
    /// the methods that pass through it.
    pub(crate) fn parts(
        method: &str,
        params: Option<&JsonObject>,
    ) -> Option<(&'static str, String, Option<JsonObject>)> {
        let (method, key) = match method {
            methods::TOOLS_CALL => (methods::TOOLS_CALL, "name"),
            methods::PROMPTS_GET => (methods::PROMPTS_GET, "name"),
            methods::RESOURCES_READ => (methods::RESOURCES_READ, "uri"),
            _ => return None,
        };
        let name = params
            .and_then(|p| p.get(key))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let arguments = params
            .and_then(|p| p.get("arguments"))
            .and_then(serde_json::Value::as_object)
            .cloned();
        Some((method, name, arguments))
    }

    /// `tools/call`, `prompts/get` or `resources/read`.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The tool's or prompt's name, or the resource's URI, as the client sent it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tool's name, for a `tools/call`.
    pub fn tool(&self) -> Option<&str> {
        (self.method == methods::TOOLS_CALL).then_some(self.name.as_str())
    }

    /// The tool's arguments (`tools/call`) or the prompt's (`prompts/get`), as sent.
    pub fn arguments(&self) -> Option<&JsonObject> {
        self.arguments.as_ref()
    }

    /// Who is calling: the identity of the bearer token the client authenticated with (over
    /// HTTP with authentication on), or `None`.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The call's context: its request id, progress token, cancellation, caller.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Runs `observer` each time the call sends a progress notification (for metrics). One
    /// observer per call: a second is ignored.
    pub fn on_progress_sent(&self, observer: impl Fn() + Send + Sync + 'static) {
        self.ctx
            .observe_progress(crate::context::ProgressObserver(Box::new(observer)));
    }
}

/// A boxed stack of layers around the call runner: what a layer wraps.
pub type CallService = BoxCloneSyncService<McpCall, Payload, RpcError>;

/// The innermost service: runs the call's handler.
#[derive(Debug, Clone, Copy)]
struct Run;

impl Service<McpCall> for Run {
    type Response = Payload;
    type Error = RpcError;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: McpCall) -> Answer {
        call.answer
    }
}

/// Wraps `inner` in `layer`, boxed.
pub(crate) fn wrap<L>(layer: &L, inner: CallService) -> CallService
where
    L: Layer<CallService>,
    L::Service:
        Service<McpCall, Response = Payload, Error = RpcError> + Clone + Send + Sync + 'static,
    <L::Service as Service<McpCall>>::Future: Send + 'static,
{
    BoxCloneSyncService::new(layer.layer(inner))
}

/// A layer kept by a builder until the stack is built.
pub(crate) type Deferred = Box<dyn Fn(CallService) -> CallService + Send + Sync>;

/// A server's stack of layers; `None` runs calls directly.
#[derive(Clone, Default)]
pub(crate) struct Middleware {
    stack: Option<CallService>,
}

impl std::fmt::Debug for Middleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.stack.is_some() {
            "Middleware(layers)"
        } else {
            "Middleware(none)"
        })
    }
}

impl Middleware {
    /// The stack of `layers`, the first outermost.
    pub(crate) fn build(layers: Vec<Deferred>) -> Self {
        if layers.is_empty() {
            return Middleware::default();
        }
        let mut stack = BoxCloneSyncService::new(Run);
        for layer in layers.iter().rev() {
            stack = layer(stack);
        }
        Middleware { stack: Some(stack) }
    }

    /// This stack inside `layer`.
    pub(crate) fn outer(&self, layer: Deferred) -> Self {
        let inner = self
            .stack
            .clone()
            .unwrap_or_else(|| BoxCloneSyncService::new(Run));
        Middleware {
            stack: Some(layer(inner)),
        }
    }

    /// Whether there are layers: without any, no [`McpCall`] need be built.
    pub(crate) fn is_empty(&self) -> bool {
        self.stack.is_none()
    }

    /// Runs `call` through the stack.
    pub(crate) fn run(&self, call: McpCall) -> Answer {
        match &self.stack {
            None => call.answer,
            Some(stack) => Box::pin(stack.clone().oneshot(call)),
        }
    }
}

/// A refusal's error: `-32000` with `data.reason` (what metrics count refusals by).
pub fn refusal(reason: &str, message: impl Into<String>) -> RpcError {
    RpcError::new(crate::error::ErrorCode::SERVER_ERROR, message)
        .with_data(serde_json::json!({ "reason": reason }))
}
