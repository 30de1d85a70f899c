//! A time limit per call: past it, the call's future is dropped (the tool is cancelled as a
//! client's cancellation would) and the client gets an error.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use tower::{Layer, Service};

use super::{McpCall, refusal};
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::tool::BoxFuture;

/// Bounds every call in time (`tools/call`, `prompts/get`, `resources/read`), with limits of
/// their own for named tools. A call past its limit is dropped and answered with `-32000`,
/// `data.reason = "timeout"`.
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    limits: Arc<Limits>,
}

#[derive(Debug, Clone)]
struct Limits {
    default: Option<Duration>,
    tools: HashMap<String, Duration>,
}

impl TimeoutLayer {
    /// Every call gets at most `limit`.
    pub fn new(limit: Duration) -> Self {
        TimeoutLayer {
            limits: Arc::new(Limits {
                default: Some(limit),
                tools: HashMap::new(),
            }),
        }
    }

    /// Only the tools named with [`tool`](Self::tool) are bounded.
    pub fn per_tool() -> Self {
        TimeoutLayer {
            limits: Arc::new(Limits {
                default: None,
                tools: HashMap::new(),
            }),
        }
    }

    /// Tool `name` gets at most `limit` (instead of the default).
    pub fn tool(mut self, name: impl Into<String>, limit: Duration) -> Self {
        Arc::make_mut(&mut self.limits)
            .tools
            .insert(name.into(), limit);
        self
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<McpCall> for Timeout<S>
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
        let limit = call
            .tool()
            .and_then(|t| self.limits.tools.get(t).copied())
            .or(self.limits.default);
        let what = format!("{} `{}`", kind(call.method()), call.name());
        let future = self.inner.call(call);
        let Some(limit) = limit else {
            return Box::pin(future);
        };
        Box::pin(async move {
            match tokio::time::timeout(limit, future).await {
                Ok(answer) => answer,
                Err(_) => Err(refusal(
                    "timeout",
                    format!("{what} took longer than its limit of {limit:?} and was stopped"),
                )),
            }
        })
    }
}

fn kind(method: &str) -> &'static str {
    match method {
        crate::protocol::methods::TOOLS_CALL => "tool",
        crate::protocol::methods::PROMPTS_GET => "prompt",
        _ => "resource",
    }
}
