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
//! messages are dropped and such requests refused (`-32603`), except a request naming the
//! server's task (2025-11-25 `related-task` `_meta`): it goes to the call following that task.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use mcp_core::jsonrpc::{JsonObject, Request, RequestId};
use mcp_core::protocol::{
    CallToolResult, GetPromptResult, LoggingMessageParams, ReadResourceResult, methods,
};
use mcp_core::task::RELATED_TASK_KEY;
use mcp_core::{CallEvent, Context, ErrorCode, RequestError, RpcError};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::remote::{Link, Remote};
use crate::task::relayed;

/// Questions of the server for our caller, and where their answers go (in order).
pub(crate) struct Asked {
    requests: Vec<Request>,
    reply: oneshot::Sender<Vec<Result<JsonObject, RpcError>>>,
}

/// The calls in flight on a mounted server, for what the server sends outside any call.
#[derive(Default)]
pub(crate) struct InFlight {
    next: AtomicU64,
    /// Each call's inbox of questions.
    calls: Mutex<HashMap<u64, mpsc::UnboundedSender<Asked>>>,
    /// The connection's log messages, taken by the call in flight.
    logs: Mutex<Option<mpsc::UnboundedReceiver<LoggingMessageParams>>>,
    /// The calls following a task of the server's, by its task id: a request naming the task
    /// (2025-11-25 `related-task` `_meta`) is that call's, however many are in flight.
    tasks: Mutex<HashMap<String, u64>>,
    /// Requests naming a task no call follows yet (they may come before the answer that
    /// created the task is read), until a call follows it.
    parked: Mutex<HashMap<String, Vec<Asked>>>,
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
    pub(crate) fn enter(&self) -> Entered<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, asks) = mpsc::unbounded_channel();
        lock(&self.calls).insert(id, tx);
        let logs = lock(&self.logs).take().map(|mut rx| {
            // Queued before this call started: they belong to no call.
            while rx.try_recv().is_ok() {}
            rx
        });
        Entered {
            owner: self,
            id,
            logs,
            asks,
            answering: FuturesUnordered::new(),
            task: None,
        }
    }

    /// Answers questions of the server (sampling, elicitation, roots: one request in a
    /// session, every input request of an `input_required` round in the 2026-07-28 era) by
    /// asking the caller of the only call in flight, together.
    pub(crate) async fn ask(&self, requests: Vec<Request>) -> Vec<Result<JsonObject, RpcError>> {
        let refuse = |requests: &[Request], why: &str| {
            requests
                .iter()
                .map(|r| {
                    Err(RpcError::internal(format!(
                        "the gateway cannot relay `{}`: {why}",
                        r.method
                    )))
                })
                .collect()
        };
        let related = requests.first().and_then(related_task).map(str::to_owned);
        let count = requests.len();
        let (reply, answers) = oneshot::channel();
        let asked = Asked { requests, reply };
        let inbox = match related {
            Some(task) => {
                let following = lock(&self.tasks).get(&task).copied();
                match following.and_then(|id| lock(&self.calls).get(&id).cloned()) {
                    Some(inbox) => inbox,
                    None => {
                        // Until the call that created the task follows it (or the last call
                        // in flight ends).
                        lock(&self.parked).entry(task).or_default().push(asked);
                        return ended(count, answers.await);
                    }
                }
            }
            None => {
                let only = {
                    let calls = lock(&self.calls);
                    match calls.len() {
                        1 => calls.values().next().cloned(),
                        _ => None,
                    }
                };
                match only {
                    Some(inbox) => inbox,
                    None => {
                        return refuse(
                            &asked.requests,
                            "it relays questions only while one call is in flight, and cannot tell whose this is",
                        );
                    }
                }
            }
        };
        // A call that ended meanwhile drops the question, and with it the reply.
        let _ = inbox.send(asked);
        ended(count, answers.await)
    }
}

/// The answers to `count` questions, or the error of each when the call asking ended first.
fn ended(
    count: usize,
    answers: Result<Vec<Result<JsonObject, RpcError>>, oneshot::error::RecvError>,
) -> Vec<Result<JsonObject, RpcError>> {
    answers.unwrap_or_else(|_| {
        (0..count)
            .map(|_| Err(RpcError::internal("the call asking ended")))
            .collect()
    })
}

/// The id of the server's task a request of the server names (`related-task` `_meta`).
fn related_task(request: &Request) -> Option<&str> {
    request
        .params
        .as_ref()?
        .get("_meta")?
        .get(RELATED_TASK_KEY)?
        .get("taskId")?
        .as_str()
}

/// A call registered in [`InFlight`].
pub(crate) struct Entered<'a> {
    owner: &'a InFlight,
    id: u64,
    logs: Option<mpsc::UnboundedReceiver<LoggingMessageParams>>,
    asks: mpsc::UnboundedReceiver<Asked>,
    /// Questions being put to our caller.
    answering: FuturesUnordered<BoxFuture<'static, ()>>,
    /// The server's task this call follows.
    task: Option<String>,
}

impl Entered<'_> {
    /// Marks this call as following the server's task `task_id`: the server's requests
    /// naming it come here.
    pub(crate) fn follow_task(&mut self, task_id: &str) {
        lock(&self.owner.tasks).insert(task_id.to_owned(), self.id);
        self.task = Some(task_id.to_owned());
        let parked = lock(&self.owner.parked).remove(task_id).unwrap_or_default();
        let inbox = lock(&self.owner.calls).get(&self.id).cloned();
        if let Some(inbox) = inbox {
            for asked in parked {
                let _ = inbox.send(asked);
            }
        }
    }

    /// Relays the log messages already received (they came before the result).
    pub(crate) async fn drain(&mut self, ctx: &Context) {
        let mut queued = Vec::new();
        if let Some(rx) = self.logs.as_mut() {
            while let Ok(log) = rx.try_recv() {
                queued.push(log);
            }
        }
        for log in queued {
            relay_log(self.owner, ctx, log).await;
        }
    }

    /// The next thing to do besides waiting for the downstream answer: a log message to relay,
    /// questions to put to our caller, or questions answered.
    pub(crate) async fn next(&mut self) -> Side {
        tokio::select! {
            Some(log) = next_log(&mut self.logs) => Side::Log(log),
            Some(asked) = self.asks.recv() => Side::Asked(asked),
            Some(()) = self.answering.next(), if !self.answering.is_empty() => Side::Answered,
        }
    }

    /// Acts on `side` for the caller of `ctx`.
    pub(crate) async fn handle(&mut self, ctx: &Context, side: Side) {
        match side {
            Side::Log(log) => relay_log(self.owner, ctx, log).await,
            Side::Asked(asked) => self.answering.push(Box::pin(put(ctx.clone(), asked))),
            Side::Answered => {}
        }
    }
}

/// Relays `log` to the caller of `ctx` if its call is the only one in flight.
async fn relay_log(owner: &InFlight, ctx: &Context, log: LoggingMessageParams) {
    let only = lock(&owner.calls).len() == 1;
    if only {
        ctx.log(log.level, log.logger.as_deref(), log.data).await;
    }
}

async fn next_log(
    logs: &mut Option<mpsc::UnboundedReceiver<LoggingMessageParams>>,
) -> Option<LoggingMessageParams> {
    match logs.as_mut() {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// What a call in flight does besides waiting for its answer.
pub(crate) enum Side {
    Log(LoggingMessageParams),
    Asked(Asked),
    Answered,
}

/// Puts the server's questions to our caller, all at once (keyed as the server keyed them,
/// so that a 2026-07-28 caller sees the same input keys), and hands the answers back.
async fn put(ctx: Context, asked: Asked) {
    let questions = asked.requests.into_iter().map(|request| {
        let ctx = ctx.clone();
        async move {
            let relayed = match &request.id {
                // A 2026-07-28 round: keyed as the server keyed it (the caller's retry
                // answers under the same key when the call is replayed).
                RequestId::String(key) => {
                    ctx.input(key)
                        .request(&request.method, request.params.map(Into::into))
                        .await
                }
                // A server-to-client request of a session: its id changes from one replay to
                // the next, so the question takes the caller's own numbering.
                RequestId::Number(_) => match missing_capability(&ctx, &request.method) {
                    Some(refusal) => return Err(refusal),
                    None => {
                        ctx.request(&request.method, request.params.map(Into::into))
                            .await
                    }
                },
            };
            relayed.map_err(|e| match e {
                RequestError::Rpc(e) => e,
                other => RpcError::internal(format!("the caller did not answer: {other}")),
            })
        }
    });
    let answers = futures_util::future::join_all(questions).await;
    let _ = asked.reply.send(answers);
}

/// The refusal of a question our caller did not declare it can answer.
fn missing_capability(ctx: &Context, method: &str) -> Option<RpcError> {
    let caps = ctx.client_capabilities();
    let declared = match method {
        methods::ELICITATION_CREATE => caps.is_some_and(|c| c.elicitation.is_some()),
        methods::SAMPLING_CREATE_MESSAGE => caps.is_some_and(|c| c.sampling.is_some()),
        methods::ROOTS_LIST => caps.is_some_and(|c| c.roots.is_some()),
        _ => true,
    };
    (!declared).then(|| RpcError::method_not_found(method))
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let last = {
            let mut calls = lock(&self.owner.calls);
            calls.remove(&self.id);
            calls.is_empty()
        };
        if last {
            // Nobody is left to follow the tasks they name: their askers get an error.
            lock(&self.owner.parked).clear();
        }
        if let Some(task) = self.task.take() {
            lock(&self.owner.tasks).remove(&task);
        }
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
        let mut entered = self.shared.calls.enter();
        let mut call = link
            .client
            .call_tool_streaming(name, Value::Object(arguments))
            .await
            .map_err(|e| self.downstream(&link, e))?;
        loop {
            tokio::select! {
                biased;
                event = call.next_event() => match event {
                    Some(CallEvent::Progress(p)) => ctx.progress(relayed(p)).await,
                    Some(CallEvent::Done(result)) => {
                        entered.drain(ctx).await;
                        return result.map_err(|e| self.downstream(&link, e));
                    }
                    None => return Err(self.lost(&link)),
                },
                side = entered.next() => entered.handle(ctx, side).await,
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
        let asked = link.client.get_prompt(name, arguments);
        self.relay(ctx, &link, asked).await
    }

    /// Reads resource `uri` of the mounted server.
    pub async fn read_resource(
        &self,
        ctx: &Context,
        uri: &str,
    ) -> Result<ReadResourceResult, RpcError> {
        let link = self.link().await?;
        let read = link.client.read_resource(uri);
        self.relay(ctx, &link, read).await
    }

    /// Waits for a downstream request's answer while relaying what the server sends meanwhile.
    async fn relay<T>(
        &self,
        ctx: &Context,
        link: &Link,
        request: impl Future<Output = Result<T, RequestError>>,
    ) -> Result<T, RpcError> {
        let mut entered = self.shared.calls.enter();
        let mut request = std::pin::pin!(request);
        loop {
            tokio::select! {
                biased;
                result = &mut request => {
                    entered.drain(ctx).await;
                    return result.map_err(|e| self.downstream(link, e));
                }
                side = entered.next() => entered.handle(ctx, side).await,
                () = link.gone.cancelled() => return Err(self.lost(link)),
            }
        }
    }

    /// The error of a call whose connection died under it.
    pub(crate) fn lost(&self, link: &Link) -> RpcError {
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
    pub(crate) fn downstream(&self, link: &Link, e: RequestError) -> RpcError {
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
