//! Forwarding one request to a mounted server and relaying what comes back: progress as our
//! own progress the moment it arrives, the result or the server's JSON-RPC error, and a clean
//! error when the server dies; dropping the forwarding future (our caller cancelled) drops the
//! downstream call, which sends `notifications/cancelled` to the server.
//!
//! What the server sends that is not tied to a request on the wire (log messages, and
//! sampling, elicitation and roots requests in a session; `input_required` rounds in the
//! 2026-07-28 era are tied to their call) goes to the call in flight when exactly one is: the
//! protocol does not say which request such a message belongs to, and guessing between two
//! callers would leak one caller's traffic to another. With several calls in flight, log
//! messages are dropped and such requests refused (`-32603`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_core::jsonrpc::{JsonObject, Request};
use mcp_core::protocol::{
    CallToolResult, GetPromptResult, LoggingMessageParams, ReadResourceResult,
};
use mcp_core::{CallEvent, Context, ErrorCode, Progress, RequestError, RpcError};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::remote::{Link, Remote};

/// The calls in flight on a mounted server, for what the server sends outside any call.
#[derive(Default)]
pub(crate) struct InFlight {
    next: AtomicU64,
    calls: Mutex<HashMap<u64, Context>>,
    /// The connection's log messages, taken by the call in flight.
    logs: Mutex<Option<mpsc::UnboundedReceiver<LoggingMessageParams>>>,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("calls", &lock(&self.calls).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl InFlight {
    /// A new connection's log messages.
    pub(crate) fn set_logs(&self, logs: mpsc::UnboundedReceiver<LoggingMessageParams>) {
        *lock(&self.logs) = Some(logs);
    }

    /// Registers a call until the guard drops.
    fn enter(&self, ctx: &Context) -> Entered<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.calls).insert(id, ctx.clone());
        let logs = lock(&self.logs).take().map(|mut rx| {
            // Queued before this call started: they belong to no call.
            while rx.try_recv().is_ok() {}
            rx
        });
        Entered {
            owner: self,
            id,
            logs,
        }
    }

    /// The context of the only call in flight.
    fn only(&self) -> Option<Context> {
        let calls = lock(&self.calls);
        match calls.len() {
            1 => calls.values().next().cloned(),
            _ => None,
        }
    }

    /// Answers a request of the server (sampling, elicitation, roots; or an input request of
    /// a 2026-07-28 `input_required` round) by asking our own caller.
    pub(crate) async fn ask(&self, request: Request) -> Result<JsonObject, RpcError> {
        let Some(ctx) = self.only() else {
            return Err(RpcError::internal(format!(
                "the gateway cannot tell which of its callers `{}` is for (it relays such requests only while one call is in flight)",
                request.method
            )));
        };
        ctx.request(&request.method, request.params)
            .await
            .map_err(|e| match e {
                RequestError::Rpc(e) => e,
                other => RpcError::internal(format!("the caller did not answer: {other}")),
            })
    }
}

/// A call registered in [`InFlight`].
struct Entered<'a> {
    owner: &'a InFlight,
    id: u64,
    logs: Option<mpsc::UnboundedReceiver<LoggingMessageParams>>,
}

impl Entered<'_> {
    /// Relays `log` to the call if it is the only one in flight.
    async fn relay(&self, ctx: &Context, log: LoggingMessageParams) {
        if lock(&self.owner.calls).len() == 1 {
            ctx.log(log.level, log.logger.as_deref(), log.data).await;
        }
    }

    /// Relays the log messages already received (they came before the result).
    async fn drain(&mut self, ctx: &Context) {
        let mut queued = Vec::new();
        if let Some(rx) = self.logs.as_mut() {
            while let Ok(log) = rx.try_recv() {
                queued.push(log);
            }
        }
        for log in queued {
            self.relay(ctx, log).await;
        }
    }

    async fn next_log(&mut self) -> Option<LoggingMessageParams> {
        match self.logs.as_mut() {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        lock(&self.owner.calls).remove(&self.id);
        if let Some(rx) = self.logs.take() {
            let mut slot = lock(&self.owner.logs);
            if slot.is_none() {
                *slot = Some(rx);
            }
        }
    }
}

impl Remote {
    /// Calls tool `name` of the mounted server for the caller of `ctx`: each progress event
    /// becomes progress of `ctx` the moment it arrives; the result comes back as the server
    /// sent it; the server's JSON-RPC errors pass through; a server that dies or is down gives
    /// `-32000`. Dropping the future cancels the downstream call.
    pub async fn call_tool(
        &self,
        ctx: &Context,
        name: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, RpcError> {
        let link = self.link().await?;
        let mut entered = self.shared.calls.enter(ctx);
        let mut call = link
            .client
            .call_tool_streaming(name, Value::Object(arguments))
            .await
            .map_err(|e| self.downstream(&link, e))?;
        loop {
            tokio::select! {
                biased;
                event = call.next_event() => match event {
                    Some(CallEvent::Progress(p)) => {
                        let progress = Progress {
                            progress: Some(p.progress),
                            total: p.total,
                            message: p.message,
                        };
                        ctx.progress(progress).await;
                    }
                    Some(CallEvent::Done(result)) => {
                        entered.drain(ctx).await;
                        return result.map_err(|e| self.downstream(&link, e));
                    }
                    None => return Err(self.lost(&link)),
                },
                Some(log) = entered.next_log() => entered.relay(ctx, log).await,
                () = link.gone.cancelled() => return Err(self.lost(&link)),
            }
        }
    }

    /// Expands prompt `name` of the mounted server.
    pub async fn get_prompt(
        &self,
        ctx: &Context,
        name: &str,
        arguments: HashMap<String, String>,
    ) -> Result<GetPromptResult, RpcError> {
        let link = self.link().await?;
        let _entered = self.shared.calls.enter(ctx);
        let asked = link.client.get_prompt(name, arguments);
        tokio::select! {
            result = asked => result.map_err(|e| self.downstream(&link, e)),
            () = link.gone.cancelled() => Err(self.lost(&link)),
        }
    }

    /// Reads resource `uri` of the mounted server.
    pub async fn read_resource(
        &self,
        ctx: &Context,
        uri: &str,
    ) -> Result<ReadResourceResult, RpcError> {
        let link = self.link().await?;
        let _entered = self.shared.calls.enter(ctx);
        let read = link.client.read_resource(uri);
        tokio::select! {
            result = read => result.map_err(|e| self.downstream(&link, e)),
            () = link.gone.cancelled() => Err(self.lost(&link)),
        }
    }

    /// The error of a call whose connection died under it.
    fn lost(&self, link: &Link) -> RpcError {
        RpcError::new(
            ErrorCode::SERVER_ERROR,
            format!(
                "the mounted server `{}` went away before answering (connection {})",
                self.name(),
                link.generation
            ),
        )
        .with_data(serde_json::json!({"server": self.name(), "reason": "disconnected"}))
    }

    /// A downstream failure as our caller's error: the server's own errors pass through.
    fn downstream(&self, link: &Link, e: RequestError) -> RpcError {
        match e {
            RequestError::Rpc(e) => e,
            RequestError::Closed(_) => self.lost(link),
            other => RpcError::new(
                ErrorCode::SERVER_ERROR,
                format!("the mounted server `{}`: {other}", self.name()),
            )
            .with_data(serde_json::json!({"server": self.name(), "reason": "transport"})),
        }
    }
}
