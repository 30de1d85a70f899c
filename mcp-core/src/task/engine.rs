//! The server side of tasks: creating one from a tool call ([`call_as_task`]), running it
//! to its end while renewing its lease and watching for cancellation, and answering the
//! `tasks/*` methods ([`handle`]).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::store::{Lease, TaskChange, TaskOutcome, TaskRecord, TaskStatus, TaskStore};
use super::{TASKS_EXTENSION, wire};
use crate::context::Context;
use crate::error::{RequestError, RpcError};
use crate::jsonrpc::{JsonObject, Notification, RequestId};
use crate::protocol::{CallToolResult, InputRequest, TaskSupport, methods};
use crate::server::{Caller, Era, Server};
use crate::sync::lock;
use crate::tool::BoxFuture;
use crate::transport::Outbox;

/// How the server runs tasks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskConfig {
    /// The time to live of a task whose client asks for none (default one hour); `None`:
    /// kept until the server stops.
    pub default_ttl: Option<Duration>,
    /// The longest time to live granted (default one day): a longer request is shortened.
    pub max_ttl: Duration,
    /// The poll interval suggested to clients (default 500 ms).
    pub poll_interval: Duration,
    /// How long a runner's lease lasts (default 30 s; renewed every third of it). A task
    /// whose runner stopped renewing fails once its lease lapses.
    pub lease: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            default_ttl: Some(Duration::from_secs(60 * 60)),
            max_ttl: Duration::from_secs(24 * 60 * 60),
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(30),
        }
    }
}

impl TaskConfig {
    /// Sets the time to live of a task whose client asks for none.
    pub fn default_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Sets the longest time to live granted.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// Sets the poll interval suggested to clients.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets how long a runner's lease lasts.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// The tasks of one server: its store, its configuration and its name as a lease holder.
pub(crate) struct TaskEngine {
    store: Arc<dyn TaskStore>,
    config: TaskConfig,
    holder: String,
    /// When the store was last swept, in seconds since the epoch.
    last_sweep: AtomicU64,
}

impl std::fmt::Debug for TaskEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskEngine")
            .field("config", &self.config)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

fn random_hex(bytes: usize) -> Result<String, RpcError> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw)
        .map_err(|e| RpcError::internal(format!("no entropy for a task id: {e}")))?;
    Ok(crate::hex::lower_hex(&raw))
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn not_found() -> RpcError {
    RpcError::invalid_params("Failed to retrieve task: Task not found")
}

impl TaskEngine {
    pub(crate) fn new(store: Arc<dyn TaskStore>, config: TaskConfig) -> Self {
        let holder = random_hex(8).unwrap_or_else(|_| format!("pid-{}", std::process::id()));
        TaskEngine {
            store,
            config,
            holder,
            last_sweep: AtomicU64::new(0),
        }
    }

    pub(crate) fn config(&self) -> &TaskConfig {
        &self.config
    }

    pub(crate) fn store(&self) -> Arc<dyn TaskStore> {
        self.store.clone()
    }

    /// Deletes expired tasks and fails orphaned ones, at most once a second.
    async fn sweep(&self) {
        let now = SystemTime::now();
        let secs = unix_secs(now);
        if self.last_sweep.swap(secs, Ordering::Relaxed) == secs {
            return;
        }
        self.sweep_at(now).await;
    }

    /// Deletes expired tasks and fails orphaned ones, now.
    pub(crate) async fn sweep_now(&self) {
        let now = SystemTime::now();
        self.last_sweep.store(unix_secs(now), Ordering::Relaxed);
        self.sweep_at(now).await;
    }

    async fn sweep_at(&self, now: SystemTime) {
        match self.store.sweep(now).await {
            Ok(sweep) if !sweep.orphaned.is_empty() => {
                tracing::warn!(tasks = ?sweep.orphaned, "tasks failed: their runner's lease lapsed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweeping the task store failed"),
        }
    }

    /// The time to live granted for a request of `requested` milliseconds.
    fn ttl(&self, requested: Option<u64>) -> Option<Duration> {
        match requested {
            Some(ms) => Some(Duration::from_millis(ms).min(self.config.max_ttl)),
            None => self.config.default_ttl,
        }
    }

    /// The caller's task, or "not found" (also for another caller's task).
    async fn find(&self, owner: &str, params: &JsonObject) -> Result<TaskRecord, RpcError> {
        let id = params
            .get("taskId")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::invalid_params("taskId is required (a string)"))?;
        self.sweep().await;
        match self.store.get(id).await? {
            Some(record) if record.owner == owner => Ok(record),
            _ => Err(not_found()),
        }
    }
}

/// Whether a stateless request's capabilities declare the tasks extension.
pub(crate) fn declares_extension(caller: &Caller) -> bool {
    caller
        .client_capabilities()
        .and_then(|c| c.other.get("extensions"))
        .and_then(Value::as_object)
        .is_some_and(|e| e.contains_key(TASKS_EXTENSION))
}

/// `-32021` naming the tasks extension.
pub(crate) fn missing_extension() -> RpcError {
    let mut ext = JsonObject::new();
    ext.insert(TASKS_EXTENSION.into(), Value::Object(JsonObject::new()));
    RpcError::missing_capability("extensions").with_data(serde_json::json!({
        "requiredCapabilities": { "extensions": ext }
    }))
}

/// How a `tools/call` of a tool with `support` runs for this caller: `Ok(Some(ttl request))`
/// as a task, `Ok(None)` as a plain call, or an error.
pub(crate) fn task_mode(
    caller: &Caller,
    params: Option<&JsonObject>,
    tool: &str,
    support: TaskSupport,
) -> Result<Option<Option<u64>>, RpcError> {
    match caller.era() {
        Era::Stateful => {
            let asked = params.and_then(|p| p.get("task"));
            match (asked, support) {
                (Some(Value::Object(task)), TaskSupport::Optional | TaskSupport::Required) => {
                    Ok(Some(task.get("ttl").and_then(Value::as_u64)))
                }
                (Some(Value::Object(_)), TaskSupport::Forbidden) => Err(RpcError::new(
                    crate::error::ErrorCode::METHOD_NOT_FOUND,
                    format!("tool `{tool}` does not run as a task: call it without `task`"),
                )),
                (Some(_), _) => Err(RpcError::invalid_params(
                    "task must be an object: {\"ttl\": milliseconds}",
                )),
                (None, TaskSupport::Required) => Err(RpcError::new(
                    crate::error::ErrorCode::METHOD_NOT_FOUND,
                    format!("tool `{tool}` runs only as a task: add `\"task\": {{}}` to the call"),
                )),
                (None, _) => Ok(None),
            }
        }
        Era::Stateless => match (declares_extension(caller), support) {
            (_, TaskSupport::Forbidden) => Ok(None),
            (true, _) => Ok(Some(None)),
            (false, TaskSupport::Required) => Err(missing_extension()),
            (false, TaskSupport::Optional) => Ok(None),
        },
    }
}

/// A task in the making or running, as its tool's [`Context`] sees it.
pub(crate) struct TaskRun {
    pub(crate) id: String,
    pub(crate) modern: bool,
    store: Arc<dyn TaskStore>,
    /// Whether the call became a task (before that, a 2026-07-28 call answers on its request).
    detached: AtomicBool,
    /// Whether the record exists in the store.
    created: tokio::sync::watch::Sender<bool>,
    /// A status message reported before the record existed.
    first_message: Mutex<Option<String>>,
    next_key: AtomicU64,
    /// The session's stream of unrelated messages (2025 era): progress, requests to the
    /// client and status notifications of the task go there once its request is answered.
    notify: Option<Outbox>,
    /// How many [`TaskHold`](super::TaskHold)s keep the call on its request.
    pub(crate) holds: tokio::sync::watch::Sender<usize>,
    /// The task's time to live (what the caller asked, within the engine's bounds).
    pub(crate) ttl: Option<Duration>,
}

impl std::fmt::Debug for TaskRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRun")
            .field("id", &self.id)
            .field("modern", &self.modern)
            .field("detached", &self.is_detached())
            .finish_non_exhaustive()
    }
}

impl TaskRun {
    pub(crate) fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    pub(crate) fn detach(&self) {
        self.detached.store(true, Ordering::Release);
    }

    /// Whether a [`TaskHold`](super::TaskHold) keeps the call on its request.
    pub(crate) fn is_held(&self) -> bool {
        *self.holds.borrow() > 0
    }

    pub(crate) fn notify_outbox(&self) -> Option<&Outbox> {
        self.notify.as_ref()
    }

    /// A fresh key for a question the tool did not name, unique over the task's life.
    pub(crate) fn next_key(&self, kind: &str) -> String {
        let n = self.next_key.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{kind}-{n}")
    }

    /// Records what the tool said about its work.
    pub(crate) async fn set_message(&self, message: String) {
        if !*self.created.borrow() {
            *lock(&self.first_message) = Some(message);
            return;
        }
        let change = TaskChange::Message(Some(message));
        if let Err(e) = self.store.update(&self.id, change, SystemTime::now()).await {
            tracing::warn!(task = %self.id, error = %e, "a task's status message was not stored");
        }
    }

    /// Sets a non-terminal status (2025 era: input required while a request to the client
    /// is out) and announces it.
    pub(crate) async fn set_status(&self, status: TaskStatus) {
        let change = TaskChange::Status(status);
        match self.store.update(&self.id, change, SystemTime::now()).await {
            Ok(Some(record)) => self.announce(&record).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(task = %self.id, error = %e, "a task's status was not stored"),
        }
    }

    /// `notifications/tasks/status` on the session's stream (2025 era).
    async fn announce(&self, record: &TaskRecord) {
        if let (false, Some(outbox)) = (self.modern, &self.notify) {
            let note = Notification::new(methods::TASKS_STATUS, Some(wire::task(record)));
            let _ = outbox.send(note.into(), None).await;
        }
    }

    /// Asks the client through the task (2026-07-28): the question waits in the task's
    /// `inputRequests` until `tasks/update` answers it.
    pub(crate) async fn ask(
        &self,
        key: String,
        request: InputRequest,
        cancel: &CancellationToken,
    ) -> Result<JsonObject, RequestError> {
        let closed = || RequestError::Closed(RequestId::String(key.as_str().into()));
        let store_error = |e: super::StoreError| RequestError::Rpc(e.into());
        // A question asked in the same turn that made the call a task waits for the record.
        let _ = self.created.subscribe().wait_for(|created| *created).await;
        let change = TaskChange::Ask {
            key: key.clone(),
            request,
        };
        self.store
            .update(&self.id, change, SystemTime::now())
            .await
            .map_err(store_error)?
            .ok_or_else(closed)?;
        loop {
            let record = self
                .store
                .get(&self.id)
                .await
                .map_err(store_error)?
                .ok_or_else(closed)?;
            if let Some(answer) = record.answers.get(&key) {
                let answer = answer.clone();
                let take = TaskChange::Take(key.clone());
                let _ = self.store.update(&self.id, take, SystemTime::now()).await;
                return Ok(answer);
            }
            if record.status.is_terminal() {
                return Err(closed());
            }
            tokio::select! {
                changed = self.store.changed(&self.id, record.revision) => {
                    changed.map_err(store_error)?;
                }
                () = cancel.cancelled() => return Err(closed()),
            }
        }
    }
}

/// What a task's call ends with: a result, or a JSON-RPC error (a gateway's server failed).
type CallOutcome = Result<CallToolResult, RpcError>;

/// Runs `call` as a task of `owner` (or, in 2026-07-28, on its request if it ends or asks
/// for input before it does anything else, or while it holds a
/// [`TaskHold`](super::TaskHold)). The future answers the request: with the task, or with
/// the plain result.
pub(crate) fn call_as_task(
    server: &Server,
    ctx: &Context,
    ttl: Option<u64>,
    owner: String,
    make_call: impl FnOnce(Context) -> BoxFuture<CallOutcome>,
) -> Result<BoxFuture<Result<JsonObject, RpcError>>, RpcError> {
    let engine = server.tasks.clone();
    let caller = ctx.caller();
    let modern = caller.era() == Era::Stateless;
    let run = Arc::new(TaskRun {
        id: random_hex(16)?,
        modern,
        store: engine.store.clone(),
        detached: AtomicBool::new(!modern),
        created: tokio::sync::watch::channel(false).0,
        first_message: Mutex::new(None),
        next_key: AtomicU64::new(0),
        notify: caller
            .session_state()
            .and_then(|s| s.notify_outbox().cloned()),
        holds: tokio::sync::watch::channel(0).0,
        ttl: engine.ttl(ttl),
    });
    ctx.attach_task(run.clone());
    let ctx = ctx.clone();
    let mut call = make_call(ctx.clone());
    Ok(Box::pin(async move {
        let mut finished = None;
        if !run.is_detached() {
            // The request's own turn: a call that ends, or asks the client, right away is
            // answered here.
            let polled = std::future::poll_fn(|cx| match call.as_mut().poll(cx) {
                Poll::Ready(result) => Poll::Ready(Some(result)),
                Poll::Pending => Poll::Ready(None),
            })
            .await;
            let polled = match polled {
                // Held: the call goes on on its request until it ends, asks the client (the
                // multi round-trip wrapper then answers) or lets go.
                None if !ctx.waits_for_input() && run.is_held() => {
                    let mut holds = run.holds.subscribe();
                    tokio::select! {
                        result = &mut call => Some(result),
                        _ = holds.wait_for(|n| *n == 0) => None,
                    }
                }
                other => other,
            };
            match polled {
                Some(result) if !run.is_detached() => return result.map(|r| to_object(&r)),
                Some(result) => finished = Some(result),
                None if ctx.waits_for_input() => {
                    // The multi round-trip wrapper answers with `input_required`.
                    std::future::pending::<()>().await;
                }
                None => {}
            }
        }
        run.detach();
        let now = SystemTime::now();
        let mut record = TaskRecord::new(
            run.id.clone(),
            owner,
            methods::TOOLS_CALL,
            modern,
            run.ttl,
            engine.config.poll_interval,
            now,
        );
        record.status_message = lock(&run.first_message).take();
        record.lease = Some(Lease {
            holder: engine.holder.clone(),
            expires_at: now + engine.config.lease,
        });
        engine.store.create(record.clone()).await?;
        run.created.send_replace(true);
        let answer = wire::created(&record);
        tokio::spawn(drive(engine, run, ctx, call, finished));
        Ok(answer)
    }))
}

fn to_object<T: serde::Serialize>(value: &T) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    }
}

/// Runs a task's call to its end: renews the lease, stops on cancellation (seen in the
/// store, so it reaches the runner wherever `tasks/cancel` arrived), stores the outcome.
async fn drive(
    engine: Arc<TaskEngine>,
    run: Arc<TaskRun>,
    ctx: Context,
    call: BoxFuture<CallOutcome>,
    finished: Option<CallOutcome>,
) {
    let id = run.id.clone();
    let outcome = match finished {
        Some(result) => Some(Ok(result)),
        None => {
            tokio::select! {
                outcome = AssertUnwindSafe(call).catch_unwind() => Some(outcome),
                () = watch_cancel(&engine, &id) => None,
                () = renew_lease(&engine, &id) => None,
            }
        }
    };
    // Work the tool handed to other tasks or processes stops too.
    ctx.cancellation_token().cancel();
    let (status, outcome, message) = match outcome {
        None => (
            TaskStatus::Cancelled,
            None,
            Some("cancelled by the client".to_owned()),
        ),
        Some(Ok(Err(error))) => {
            let message = format!("Tool execution failed: {}", error.message);
            (
                TaskStatus::Failed,
                Some(TaskOutcome::Error(error.into())),
                Some(message),
            )
        }
        Some(Ok(Ok(result))) => {
            // 2025-11-25 counts a tool error as a failed task; the extension does not.
            let status = if result.is_error == Some(true) && !run.modern {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            };
            (status, Some(TaskOutcome::Answer(to_object(&result))), None)
        }
        Some(Err(panic)) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(task = %id, %why, "a task's tool panicked");
            let error = RpcError::internal(format!("the tool panicked: {why}"));
            let message = format!("Tool execution failed: {}", error.message);
            (
                TaskStatus::Failed,
                Some(TaskOutcome::Error(error.into())),
                Some(message),
            )
        }
    };
    let change = TaskChange::Finish {
        status,
        outcome,
        message,
    };
    match engine.store.update(&id, change, SystemTime::now()).await {
        Ok(Some(record)) => run.announce(&record).await,
        Ok(None) => tracing::debug!(task = %id, "task gone before it ended (expired)"),
        Err(e) => tracing::error!(task = %id, error = %e, "a task's outcome was not stored"),
    }
}

/// Completes when the task is cancelled, ends (by another hand), or disappears.
async fn watch_cancel(engine: &TaskEngine, id: &str) {
    loop {
        let record = match engine.store.get(id).await {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(task = %id, error = %e, "the task store failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if record.cancel_requested || record.status.is_terminal() {
            return;
        }
        if let Err(e) = engine.store.changed(id, record.revision).await {
            tracing::warn!(task = %id, error = %e, "waiting on the task store failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Renews the runner's lease every third of its length; never completes.
async fn renew_lease(engine: &TaskEngine, id: &str) {
    let period = (engine.config.lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(period).await;
        let now = SystemTime::now();
        let lease = Lease {
            holder: engine.holder.clone(),
            expires_at: now + engine.config.lease,
        };
        if let Err(e) = engine.store.update(id, TaskChange::Lease(lease), now).await {
            tracing::warn!(task = %id, error = %e, "a task's lease was not renewed");
        }
    }
}

/// Task `id` if it is `owner`'s.
pub(crate) async fn owned(server: &Server, id: &str, owner: &str) -> bool {
    matches!(server.tasks.store.get(id).await, Ok(Some(r)) if r.owner == owner)
}

/// Calls `notify` with the task's state (as `tasks/get` shows it) now and after each change,
/// until the task ends or disappears: the `notifications/tasks` of a `subscriptions/listen`
/// stream.
pub(crate) async fn follow<F, Fut>(server: &Server, id: &str, mut notify: F)
where
    F: FnMut(JsonObject) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let store = server.tasks.store.clone();
    loop {
        let record = match store.get(id).await {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(task = %id, error = %e, "a followed task could not be read");
                return;
            }
        };
        notify(wire::detailed(&record)).await;
        if record.status.is_terminal() {
            return;
        }
        if store.changed(id, record.revision).await.is_err() {
            return;
        }
    }
}

/// Answers `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel` and `tasks/update`.
pub(crate) fn handle(
    server: &Server,
    ctx: &Context,
    method: &str,
    params: Option<JsonObject>,
    owner: String,
) -> Result<BoxFuture<Result<JsonObject, RpcError>>, RpcError> {
    let caller = ctx.caller();
    let modern = caller.era() == Era::Stateless;
    if !server.has_task_tools() {
        return Err(RpcError::method_not_found(method));
    }
    if modern && !declares_extension(caller) {
        return Err(missing_extension());
    }
    let engine = server.tasks.clone();
    let params = params.unwrap_or_default();
    let method = method.to_owned();
    Ok(Box::pin(async move {
        match method.as_str() {
            methods::TASKS_GET => {
                let record = engine.find(&owner, &params).await?;
                Ok(wire::detailed(&record))
            }
            methods::TASKS_RESULT => result(&engine, &owner, &params).await,
            methods::TASKS_LIST => list(&engine, &owner, &params).await,
            methods::TASKS_CANCEL => cancel(&engine, &owner, &params, modern).await,
            methods::TASKS_UPDATE => update(&engine, &owner, &params).await,
            other => Err(RpcError::method_not_found(other)),
        }
    }))
}

/// `tasks/result` (2025 era): waits for the end, then answers what the call would have.
async fn result(
    engine: &TaskEngine,
    owner: &str,
    params: &JsonObject,
) -> Result<JsonObject, RpcError> {
    loop {
        let record = engine.find(owner, params).await?;
        if !record.status.is_terminal() {
            engine
                .store
                .changed(&record.task_id, record.revision)
                .await?;
            continue;
        }
        return match record.outcome {
            Some(TaskOutcome::Answer(mut result)) => {
                let meta = result
                    .entry("_meta")
                    .or_insert_with(|| Value::Object(JsonObject::new()));
                if let Value::Object(meta) = meta {
                    meta.extend(wire::related_task_meta(&record.task_id));
                }
                Ok(result)
            }
            Some(TaskOutcome::Error(error)) => Err(error.into()),
            None => Err(RpcError::internal(format!(
                "task {} was cancelled: it has no result",
                record.task_id
            ))),
        };
    }
}

/// How many tasks one `tasks/list` page holds.
const LIST_PAGE: usize = 50;

async fn list(
    engine: &TaskEngine,
    owner: &str,
    params: &JsonObject,
) -> Result<JsonObject, RpcError> {
    engine.sweep().await;
    let cursor = match params.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.as_str()),
        Some(_) => return Err(RpcError::invalid_params("cursor must be a string")),
    };
    if let Some(c) = cursor {
        // A cursor is a task id of the caller's: anything else is invalid.
        let known = engine.store.get(c).await?;
        if known.is_none_or(|r| r.owner != owner) {
            return Err(RpcError::invalid_params("unknown cursor"));
        }
    }
    let mut page = engine.store.list(owner, cursor, LIST_PAGE + 1).await?;
    let more = page.len() > LIST_PAGE;
    page.truncate(LIST_PAGE);
    let mut o = JsonObject::new();
    if more && let Some(last) = page.last() {
        o.insert("nextCursor".into(), last.task_id.clone().into());
    }
    let tasks = page.iter().map(|r| Value::Object(wire::task(r))).collect();
    o.insert("tasks".into(), Value::Array(tasks));
    Ok(o)
}

/// `tasks/cancel`: the task is cancelled at once (its runner stops when it sees it). In the
/// 2025 era a finished task cannot be cancelled (`-32602`) and the answer is the task; the
/// extension acknowledges either way.
async fn cancel(
    engine: &TaskEngine,
    owner: &str,
    params: &JsonObject,
    modern: bool,
) -> Result<JsonObject, RpcError> {
    let record = engine.find(owner, params).await?;
    if record.status.is_terminal() {
        if modern {
            return Ok(JsonObject::new());
        }
        return Err(RpcError::invalid_params(format!(
            "task {} is already {}: it cannot be cancelled",
            record.task_id,
            record.status.as_str()
        )));
    }
    let id = record.task_id;
    let now = SystemTime::now();
    engine
        .store
        .update(&id, TaskChange::RequestCancel, now)
        .await?;
    let finish = TaskChange::Finish {
        status: TaskStatus::Cancelled,
        outcome: None,
        message: Some("cancelled by the client".into()),
    };
    let after = engine.store.update(&id, finish, now).await?;
    match (modern, after) {
        (true, _) => Ok(JsonObject::new()),
        (false, Some(record)) => Ok(wire::task(&record)),
        (false, None) => Err(not_found()),
    }
}

/// `tasks/update` (2026-07-28): answers input requests; answers to keys not outstanding
/// are ignored, as the extension says.
async fn update(
    engine: &TaskEngine,
    owner: &str,
    params: &JsonObject,
) -> Result<JsonObject, RpcError> {
    let responses = match params.get("inputResponses") {
        Some(Value::Object(o)) => o,
        _ => {
            return Err(RpcError::invalid_params(
                "inputResponses must be an object mapping input keys to results",
            ));
        }
    };
    let record = engine.find(owner, params).await?;
    let answers: BTreeMap<String, JsonObject> = responses
        .iter()
        .filter_map(|(k, v)| v.as_object().map(|o| (k.clone(), o.clone())))
        .collect();
    if !answers.is_empty() {
        let change = TaskChange::Answer(answers);
        engine
            .store
            .update(&record.task_id, change, SystemTime::now())
            .await?;
    }
    Ok(JsonObject::new())
}
