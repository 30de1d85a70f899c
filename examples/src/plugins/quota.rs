//! A middleware layer written from scratch: a quota of tool calls per caller.

// ANCHOR: all
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use mcp_core::middleware::{McpCall, refusal};
use mcp_core::tool::BoxFuture;
use mcp_core::{Payload, RpcError};
use tower::{Layer, Service};

/// Lets each caller make at most `limit` tool calls; later ones are refused (`-32000`,
/// `data.reason = "quota"`) before they reach the tool.
#[derive(Clone)]
pub struct QuotaLayer {
    limit: u64,
    used: Arc<Mutex<HashMap<String, u64>>>,
}

impl QuotaLayer {
    /// At most `limit` tool calls per caller.
    pub fn new(limit: u64) -> Self {
        QuotaLayer {
            limit,
            used: Arc::default(),
        }
    }
}

impl<S> Layer<S> for QuotaLayer {
    type Service = Quota<S>;

    fn layer(&self, inner: S) -> Quota<S> {
        Quota {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`QuotaLayer`]: what wraps each call.
#[derive(Clone)]
pub struct Quota<S> {
    inner: S,
    layer: QuotaLayer,
}

impl<S> Service<McpCall> for Quota<S>
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
        // Prompts and resources pass; tool calls count against their caller.
        if call.tool().is_some() {
            let caller = call.identity().unwrap_or("anonymous").to_owned();
            let mut used = self.layer.used.lock().unwrap_or_else(|e| e.into_inner());
            let count = used.entry(caller.clone()).or_default();
            if *count >= self.layer.limit {
                let error = refusal(
                    "quota",
                    format!("{caller} has used its {} tool calls", self.layer.limit),
                );
                // Not calling `inner` is what keeps the tool from running.
                return Box::pin(std::future::ready(Err(error)));
            }
            *count += 1;
        }
        // Progress and cancellation need nothing here: the tool reports through its
        // context, and a cancelled call drops this future with the tool's inside it.
        Box::pin(self.inner.call(call))
    }
}
// ANCHOR_END: all
