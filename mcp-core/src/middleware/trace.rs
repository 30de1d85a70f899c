//! A tracing span per call.

use std::task::{Context as TaskContext, Poll};

use tower::{Layer, Service};
use tracing::Instrument;

use super::McpCall;
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::tool::BoxFuture;

/// Runs every call inside a span `mcp.call` (fields `method`, `name`, `id`, `identity`), and
/// logs its end at debug level (with `error` when it failed).
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl TraceLayer {
    /// The layer.
    pub fn new() -> Self {
        TraceLayer
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace { inner }
    }
}

/// The service of [`TraceLayer`].
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
}

impl<S> Service<McpCall> for Trace<S>
where
    S: Service<McpCall, Response = Payload, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Payload;
    type Error = RpcError;
    type Future = BoxFuture<Result<Payload, RpcError>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: McpCall) -> Self::Future {
        let span = tracing::info_span!(
            "mcp.call",
            method = call.method(),
            name = call.name(),
            id = %call.context().request_id(),
            identity = call.identity().unwrap_or("-"),
        );
        let future = span.in_scope(|| self.inner.call(call));
        Box::pin(
            async move {
                let answer = future.await;
                match &answer {
                    Ok(_) => tracing::debug!("call ended"),
                    Err(error) => tracing::debug!(%error, "call failed"),
                }
                answer
            }
            .instrument(span),
        )
    }
}
