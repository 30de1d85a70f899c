//! Per-tool authorization from the caller's identity.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tower::{Layer, Service};

use super::{McpCall, refusal};
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::tool::BoxFuture;

/// Which identity may call which tools. An identity is the name a bearer token stands for
/// (`HttpConfig::bearer_identity` in `mcp-transport`); callers without one (stdio, HTTP
/// without authentication) are "anonymous".
///
/// A refused call never reaches its tool: it is answered at once with `-32000`,
/// `data.reason = "forbidden"`. Only `tools/call` is checked; prompts and resources pass.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationLayer {
    rules: Arc<Rules>,
}

#[derive(Debug, Clone, Default)]
struct Rules {
    /// Identity -> the tools it may call.
    allowed: HashMap<String, HashSet<String>>,
    /// Identities that may call every tool.
    everything: HashSet<String>,
    /// What callers without an identity may call (`None`: nothing).
    anonymous: Option<HashSet<String>>,
}

impl AuthorizationLayer {
    /// Nobody may call anything until allowed.
    pub fn new() -> Self {
        Self::default()
    }

    fn rules(&mut self) -> &mut Rules {
        Arc::make_mut(&mut self.rules)
    }

    /// `identity` may call `tools` (as clients name them: prefixes included).
    pub fn allow<I, T>(mut self, identity: impl Into<String>, tools: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.rules()
            .allowed
            .entry(identity.into())
            .or_default()
            .extend(tools.into_iter().map(Into::into));
        self
    }

    /// `identity` may call every tool.
    pub fn allow_all(mut self, identity: impl Into<String>) -> Self {
        self.rules().everything.insert(identity.into());
        self
    }

    /// Callers without an identity may call `tools`.
    pub fn allow_anonymous<I, T>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.rules()
            .anonymous
            .get_or_insert_with(HashSet::new)
            .extend(tools.into_iter().map(Into::into));
        self
    }

    fn permits(&self, identity: Option<&str>, tool: &str) -> bool {
        let rules = &self.rules;
        match identity {
            Some(id) => {
                rules.everything.contains(id)
                    || rules.allowed.get(id).is_some_and(|t| t.contains(tool))
            }
            None => rules.anonymous.as_ref().is_some_and(|t| t.contains(tool)),
        }
    }
}

impl<S> Layer<S> for AuthorizationLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`AuthorizationLayer`].
#[derive(Debug, Clone)]
pub struct Authorize<S> {
    inner: S,
    layer: AuthorizationLayer,
}

impl<S> Service<McpCall> for Authorize<S>
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
        if let Some(tool) = call.tool()
            && !self.layer.permits(call.identity(), tool)
        {
            let who = match call.identity() {
                Some(id) => format!("identity `{id}`"),
                None => "an anonymous caller".to_owned(),
            };
            let error = refusal("forbidden", format!("{who} may not call tool `{tool}`"));
            return Box::pin(std::future::ready(Err(error)));
        }
        Box::pin(self.inner.call(call))
    }
}
