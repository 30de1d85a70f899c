//! [`Context`]: what a running tool can do besides compute its result.

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::error::{RequestError, RpcError};
use crate::input::InputRound;
use crate::jsonrpc::{JsonObject, Message, Notification, Payload, Request, RequestId};
use crate::progress::Progress;
use crate::protocol::{
    ClientCapabilities, CreateMessageParams, CreateMessageResult, ElicitParams, ElicitResult,
    Implementation, InputRequest, ListRootsResult, LoggingLevel, LoggingMessageParams,
    ProgressParams, ProgressToken, ProtocolVersion, methods,
};
use crate::server::{Caller, Era, SessionState, WeakServer};
use crate::sync::lock;
use crate::task::{TaskHold, TaskRun, TaskStatus};
use crate::transport::Outbox;

/// The context of one request: its id, its progress token, the way back to the client.
///
/// Cheap to clone. A tool receives it as a parameter of type `Context` (or `&Context`), and
/// `yield_!(item)` in a `#[tool]` body is `ctx.progress(item).await` on it.
#[derive(Clone, Debug)]
pub struct Context {
    inner: Arc<Slot>,
}

/// A context's allocation: its request while in use, nothing once recycled (see
/// [`Context::recycle`]): so that recycling lets go of what the request held, and the next
/// context fills the allocation, with nothing to write in between.
#[derive(Debug)]
struct Slot(Option<Inner>);

#[derive(Debug)]
struct Inner {
    request_id: RequestId,
    progress_token: Option<ProgressToken>,
    /// The request's `_meta`: usually its text, parsed when first read as an object.
    meta: Option<Payload>,
    reply: Outbox,
    caller: Caller,
    /// Stateless requests that may ask for input: the answers at hand and the questions asked.
    input: Option<Arc<InputRound>>,
    /// Made when something first asks for it (the tool, or the session cancelling the call):
    /// a call answered at once, the usual case, never needs one.
    cancel: OnceLock<CancellationToken>,
    progress: Mutex<ProgressState>,
    /// The server the request runs on (none for a detached context).
    server: Option<WeakServer>,
    /// The task this call runs as (or may become, in 2026-07-28).
    task: OnceLock<Arc<TaskRun>>,
    /// Told of each progress notification sent (set by middleware, such as metrics).
    on_progress: std::sync::OnceLock<ProgressObserver>,
}

thread_local! {
    /// The allocation of the last context this thread recycled ([`Context::recycle`]), kept
    /// for the next one: empty, so a spare keeps nothing of a request alive.
    static SPARE: Cell<Option<Arc<Slot>>> = const { Cell::new(None) };
}

/// What middleware runs for each progress notification a call sends.
pub(crate) struct ProgressObserver(pub(crate) Box<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for ProgressObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressObserver")
    }
}

#[derive(Debug, Default)]
struct ProgressState {
    last: Option<f64>,
    total: Option<f64>,
}

/// The params of `notifications/progress` ([`ProgressParams`] without `_meta`), borrowed, to
/// be encoded once.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressReport<'a> {
    progress_token: &'a ProgressToken,
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

fn to_object<T: Serialize>(value: &T) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    }
}

impl Context {
    pub(crate) fn new(
        request_id: RequestId,
        meta: Option<Payload>,
        reply: Outbox,
        caller: Caller,
        input: Option<Arc<InputRound>>,
        server: Option<WeakServer>,
    ) -> Self {
        // Read from the text when `_meta` is held as text, in one pass that skips the other
        // members (the last of repeated ones counts, as in the object); a token that is not
        // a string or an integer counts as absent.
        let progress_token = meta.as_ref().and_then(|m| {
            let [token] = match m.encoded() {
                // Text without a backslash names a member only as its plain text does.
                Some(text) if !text.contains('\\') && !text.contains("\"progressToken\"") => {
                    return None;
                }
                Some(text) => Payload::members_of(text, ["progressToken"]).ok()?,
                None => [m.get("progressToken").cloned()],
            };
            serde_json::from_value(token?).ok()
        });
        let inner = Inner {
            request_id,
            progress_token,
            meta,
            reply,
            caller,
            input,
            cancel: OnceLock::new(),
            progress: Mutex::new(ProgressState::default()),
            server,
            task: OnceLock::new(),
            on_progress: std::sync::OnceLock::new(),
        };
        // In this thread's spare (see `recycle`) when it has one: no allocation.
        if let Some(mut spare) = SPARE.try_with(Cell::take).ok().flatten()
            && let Some(slot) = Arc::get_mut(&mut spare)
        {
            slot.0 = Some(inner);
            return Context { inner: spare };
        }
        Context {
            inner: Arc::new(Slot(Some(inner))),
        }
    }

    /// The request's context. A context in use always holds it: only [`recycle`](Self::recycle),
    /// which takes the last handle, empties the slot.
    fn inner(&self) -> &Inner {
        match &self.inner.0 {
            Some(inner) => inner,
            None => unreachable!("a context in use holds its request"),
        }
    }

    /// Keeps this context's allocation as the thread's spare, for the next [`Context::new`],
    /// if nothing else holds the context: so it is once a call answered at once is over (the
    /// usual tool call). What the context held is let go now (its outbox above all: a
    /// transport uses a sink again only once nothing else holds it).
    pub(crate) fn recycle(self) {
        let Context { mut inner } = self;
        let Some(slot) = Arc::get_mut(&mut inner) else {
            return;
        };
        slot.0 = None;
        let _ = SPARE.try_with(|spare| spare.set(Some(inner)));
    }

    /// A context attached to no client: progress and logs go nowhere. For calling a tool
    /// directly, in unit tests for example.
    pub fn detached() -> Self {
        let reply = Outbox::nowhere();
        Context::new(
            RequestId::Number(0),
            None,
            reply,
            Caller::session(Arc::new(SessionState::default())),
            None,
            None,
        )
    }

    /// Where messages about this request go.
    pub(crate) fn reply(&self) -> &Outbox {
        &self.inner().reply
    }

    /// Makes this call a task (or, in 2026-07-28, a call that may become one).
    pub(crate) fn attach_task(&self, run: Arc<TaskRun>) {
        let _ = self.inner().task.set(run);
    }

    /// The task this call runs as, once it runs as one.
    fn task(&self) -> Option<&Arc<TaskRun>> {
        self.inner().task.get().filter(|run| run.is_detached())
    }

    /// Whether the handler asked the client a question it has no answer to (a stateless
    /// request about to end with `input_required`).
    pub(crate) fn waits_for_input(&self) -> bool {
        self.inner()
            .input
            .as_ref()
            .is_some_and(|round| round.waits())
    }

    /// For a call that runs as a task or may become one (2026-07-28, see
    /// [`TaskHold`]): keeps it from becoming one until the hold is released or dropped, so
    /// that a call forwarding to another server can wait for that server to decide. `None`
    /// for a call that is not a task and cannot become one.
    pub fn hold_task(&self) -> Option<TaskHold> {
        self.inner()
            .task
            .get()
            .map(|run| TaskHold::new(run.clone()))
    }

    /// The id of the task this call runs as, if it runs as one: a tool that records its
    /// work elsewhere (a job queue, a log) can name the task there.
    pub fn task_id(&self) -> Option<&str> {
        self.task().map(|run| run.id.as_str())
    }

    /// The message a report becomes as a task's status: its text, or the count.
    fn status_text(item: &Progress, value: f64, total: Option<f64>) -> String {
        match (&item.message, total) {
            (Some(m), _) => m.clone(),
            (None, Some(t)) => format!("{value}/{t}"),
            (None, None) => format!("{value}"),
        }
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> &RequestId {
        &self.inner().request_id
    }

    /// The progress token the client sent, if any.
    pub fn progress_token(&self) -> Option<&ProgressToken> {
        self.inner().progress_token.as_ref()
    }

    /// Whether the client asked for progress (sent a progress token).
    pub fn wants_progress(&self) -> bool {
        self.inner().progress_token.is_some()
    }

    /// The request's `_meta`, if any.
    pub fn meta(&self) -> Option<&JsonObject> {
        self.inner().meta.as_deref()
    }

    /// Who sent the request: era, protocol version, capabilities, identity, log level.
    pub fn caller(&self) -> &Caller {
        &self.inner().caller
    }

    /// The era of the request: a session opened by `initialize`, or a stateless request.
    /// Tools rarely need it: every method of `Context` works in both.
    pub fn era(&self) -> Era {
        self.inner().caller.era()
    }

    /// The protocol revision: negotiated for the session, or declared by the request.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner().caller.protocol_version()
    }

    /// What the client declared it can do (in `initialize`, or in this request's `_meta`).
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        self.inner().caller.client_capabilities()
    }

    /// Who the client says it is.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.inner().caller.client_info()
    }

    /// Sets the total that following progress reports carry.
    pub fn set_total(&self, total: f64) {
        self.lock_progress().total = Some(total);
    }

    fn lock_progress(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        lock(&self.inner().progress)
    }

    /// Reports progress: sends `notifications/progress` for the caller's token, on the
    /// response stream of this request, and waits only until the transport has room for it.
    ///
    /// The value increases by one per report unless the report sets it. Without a progress
    /// token this only counts the step: no message is built or sent.
    pub async fn progress(&self, item: impl Into<Progress>) {
        // A call that may become a task (2026-07-28) becomes one when it first reports,
        // unless it holds that back.
        if let Some(run) = self.inner().task.get()
            && !run.is_detached()
            && !run.is_held()
        {
            run.detach();
        }
        if let Some(run) = self.task() {
            let item = item.into();
            // Boxed: a task's report (a store's write) would otherwise make this future, and
            // so every streaming tool's, hundreds of bytes larger for the calls that are not
            // tasks (648 bytes against 400 for the rest of this future).
            Box::pin(self.task_progress(run, item)).await;
            return;
        }
        // A stateless request resumed after a round trip replays its handler: reports an
        // earlier round already sent only advance the count.
        let replayed = self
            .inner()
            .input
            .as_ref()
            .is_some_and(|round| !round.report_progress());
        if replayed {
            self.advance(&item.into());
            return;
        }
        let Some(token) = self.inner().progress_token.as_ref() else {
            let mut state = self.lock_progress();
            state.last = Some(state.last.map_or(1.0, |l| l + 1.0));
            return;
        };
        let item = item.into();
        let (value, total) = self.advance(&item);
        // Encoded once, straight to the text every transport copies into its frame.
        let params = Payload::encode(&ProgressReport {
            progress_token: token,
            progress: value,
            total,
            message: item.message.as_deref(),
        })
        .unwrap_or_default();
        let note = Notification::with_payload(methods::PROGRESS, params);
        // A closed transport means nobody listens any more: the tool carries on regardless.
        let sent = self
            .inner()
            .reply
            .send(note.into(), Some(self.inner().request_id.clone()))
            .await;
        if sent.is_ok()
            && let Some(observe) = self.inner().on_progress.get()
        {
            (observe.0)();
        }
    }

    /// Sets what runs for each progress notification sent (the first setter wins).
    pub(crate) fn observe_progress(&self, observer: ProgressObserver) {
        let _ = self.inner().on_progress.set(observer);
    }

    /// Counts a report: its value (the one it sets, or one past the last) and the total.
    fn advance(&self, item: &Progress) -> (f64, Option<f64>) {
        let mut state = self.lock_progress();
        let value = item
            .progress
            .unwrap_or_else(|| state.last.map_or(1.0, |l| l + 1.0));
        state.last = Some(value);
        if item.total.is_some() {
            state.total = item.total;
        }
        (value, state.total)
    }

    /// A report of a call run as a task: the task's status message, and in the 2025 era also
    /// `notifications/progress` for the call's token on the session's stream (the call's own
    /// stream ended with the task's creation). The extension has no progress for tasks.
    async fn task_progress(&self, run: &TaskRun, item: Progress) {
        let (value, total) = self.advance(&item);
        run.set_message(Self::status_text(&item, value, total))
            .await;
        if run.modern {
            return;
        }
        let (Some(token), Some(outbox)) =
            (self.inner().progress_token.clone(), run.notify_outbox())
        else {
            return;
        };
        let params = ProgressParams {
            progress_token: token,
            progress: value,
            total,
            message: item.message,
            meta: None,
        };
        let mut params = to_object(&params);
        params.insert(
            "_meta".into(),
            Value::Object(crate::task::related_meta(&run.id)),
        );
        let note = Notification::new(methods::PROGRESS, Some(params));
        let _ = outbox.send(note.into(), None).await;
    }

    /// Sends a log message (`notifications/message`) if the client's level lets it through.
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Into<Value>) {
        if !self.inner().caller.should_log(level) {
            return;
        }
        let params = LoggingMessageParams {
            level,
            logger: logger.map(str::to_owned),
            data: data.into(),
            meta: None,
        };
        let note = Notification::new(methods::LOG_MESSAGE, Some(to_object(&params)));
        let (outbox, related) = self.outbound();
        let Some(outbox) = outbox else {
            // A task of the extension has no stream for logs.
            return;
        };
        let _ = outbox.send(note.into(), related).await;
    }

    /// Where this call's messages go, and the request they are tagged with: the request's
    /// stream; for a task of the 2025 era the session's stream, untagged; for a task of the
    /// extension nowhere.
    fn outbound(&self) -> (Option<&Outbox>, Option<RequestId>) {
        match self.task() {
            None => (
                Some(&self.inner().reply),
                Some(self.inner().request_id.clone()),
            ),
            Some(run) if run.modern => (None, None),
            Some(run) => (run.notify_outbox(), None),
        }
    }

    /// Logs at `info` level.
    pub async fn info(&self, data: impl Into<Value>) {
        self.log(LoggingLevel::Info, None, data).await;
    }

    /// Logs at `debug` level.
    pub async fn debug(&self, data: impl Into<Value>) {
        self.log(LoggingLevel::Debug, None, data).await;
    }

    /// Logs at `warning` level.
    pub async fn warning(&self, data: impl Into<Value>) {
        self.log(LoggingLevel::Warning, None, data).await;
    }

    /// Sends a request to the client (sampling, elicitation, roots) and waits for its answer.
    ///
    /// In a session it travels on this request's stream; in a stateless request it becomes an
    /// entry of an `input_required` result, answered on the client's retry (see
    /// [`input`](Self::input)). Prefer the typed methods ([`elicit`](Self::elicit),
    /// [`create_message`](Self::create_message), [`list_roots`](Self::list_roots)).
    pub async fn request(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<JsonObject, RequestError> {
        self.ask(None, method, params.unwrap_or_default(), None)
            .await
            .map(|(_, result)| result)
    }

    /// Names the next question, for clients and tests that look for a given key in an
    /// `input_required` result: `ctx.input("user_name").elicit(..)`. Without a name, questions
    /// are keyed `<kind>-<n>` in the order the handler asks them. In a session the name is
    /// not sent anywhere.
    pub fn input<'a>(&'a self, key: &'a str) -> Input<'a> {
        Input { ctx: self, key }
    }

    /// Asks the client: a request on this request's stream (session), or a question for the
    /// `input_required` result (stateless). `capability` is the client capability the method
    /// needs, checked first.
    async fn ask(
        &self,
        key: Option<&str>,
        method: &str,
        params: JsonObject,
        capability: Option<&str>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let missing = capability.filter(|cap| !self.declared(cap));
        if let Some(run) = self.task() {
            if let Some(cap) = missing {
                return Err(RequestError::Unsupported(format!(
                    "the client did not declare the `{cap}` capability"
                )));
            }
            if run.modern {
                let key = match key {
                    Some(k) => k.to_owned(),
                    None => run.next_key(input_kind(method)),
                };
                let request = InputRequest {
                    method: method.to_owned(),
                    params,
                };
                let answer = run.ask(key.clone(), request, self.token()).await?;
                return Ok((RequestId::String(key.as_str().into()), answer));
            }
            // 2025-11-25: a request to the client naming the task, while it shows
            // `input_required`.
            let mut params = params;
            let meta = params
                .entry("_meta")
                .or_insert_with(|| Value::Object(JsonObject::new()));
            if let Value::Object(meta) = meta {
                meta.extend(crate::task::related_meta(&run.id));
            }
            run.set_status(TaskStatus::InputRequired).await;
            let answer = self.round_trip(method, Some(params)).await;
            run.set_status(TaskStatus::Working).await;
            return answer;
        }
        let Some(round) = self.inner().input.as_ref() else {
            if let Some(cap) = missing {
                return Err(RequestError::Unsupported(format!(
                    "the client did not declare the `{cap}` capability"
                )));
            }
            if self.era() == Era::Stateless {
                return Err(RequestError::Unsupported(format!(
                    "`{method}` cannot be asked while answering this request: only tools/call, prompts/get and resources/read may ask the client for input"
                )));
            }
            return self.round_trip(method, Some(params)).await;
        };
        if let Some(cap) = missing {
            // The revision's rule: a request that needs an undeclared capability fails with
            // -32021, naming it.
            round.fail(RpcError::missing_capability(cap));
            return self.wait_for_retry().await;
        }
        let key = match key {
            Some(k) => k.to_owned(),
            None => round.auto_key(input_kind(method)),
        };
        let id = RequestId::String(key.as_str().into());
        if let Some(answer) = round.answer(&key) {
            return Ok((id, answer));
        }
        round.ask(
            key,
            InputRequest {
                method: method.to_owned(),
                params,
            },
        );
        self.wait_for_retry().await
    }

    /// Waits until the session stops the handler (it does at once: the question went into
    /// the `input_required` result), or, for work handed to another task, until the request
    /// is cancelled.
    async fn wait_for_retry<T>(&self) -> Result<T, RequestError> {
        self.token().cancelled().await;
        Err(RequestError::Cancelled(self.inner().request_id.clone()))
    }

    fn declared(&self, capability: &str) -> bool {
        let Some(caps) = self.client_capabilities() else {
            return false;
        };
        match capability {
            "sampling" => caps.sampling.is_some(),
            "elicitation" => caps.elicitation.is_some(),
            "roots" => caps.roots.is_some(),
            other => caps.other.contains_key(other),
        }
    }

    /// A request to the client on this request's stream (the stateful era).
    async fn round_trip(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let Some(session) = self.inner().caller.session_state() else {
            return Err(RequestError::Unsupported(
                "this request has no session to send requests on".into(),
            ));
        };
        let pending = &session.pending;
        let (outbox, related) = self.outbound();
        let Some(outbox) = outbox else {
            return Err(RequestError::Unsupported(
                "this call has no stream to send requests on".into(),
            ));
        };
        let (id, rx) = pending.register();
        let request = Request::new(id.clone(), method, params);
        if outbox
            .send(Message::Request(request), related)
            .await
            .is_err()
        {
            pending.forget(&id);
            return Err(RequestError::Closed(id));
        }
        tokio::select! {
            reply = rx => match reply {
                Ok(Ok(result)) => Ok((id, result)),
                Ok(Err(e)) => Err(RequestError::Rpc(e)),
                Err(_) => Err(RequestError::Closed(id)),
            },
            () = self.token().cancelled() => {
                pending.forget(&id);
                Err(RequestError::Cancelled(id))
            }
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`) and waits for it.
    ///
    /// In a session the request travels on this request's stream, like progress; in a
    /// stateless request it is answered on the client's retry. Without the client's
    /// `sampling` capability nothing is sent: in a session this fails with
    /// [`RequestError::Unsupported`]; a stateless request fails as a whole with `-32021`
    /// (the revision's rule). A refusal is [`RequestError::Rpc`].
    ///
    /// ```no_run
    /// use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
    /// use mcp_core::{Context, tool};
    ///
    /// /// Asks the client's model to summarise `text`.
    /// #[tool]
    /// async fn summarise(text: String, ctx: Context) -> Result<String, mcp_core::RequestError> {
    ///     let ask = SamplingMessage::user(format!("Summarise: {text}"));
    ///     let reply = ctx.create_message(CreateMessageParams::new(vec![ask], 200)).await?;
    ///     Ok(reply.text())
    /// }
    /// ```
    pub async fn create_message(
        &self,
        params: CreateMessageParams,
    ) -> Result<CreateMessageResult, RequestError> {
        self.ask_typed(None, methods::SAMPLING_CREATE_MESSAGE, &params, "sampling")
            .await
    }

    /// Asks the user, through the client, for the values described by `requested_schema`
    /// (`elicitation/create` in form mode) and waits for the answer.
    ///
    /// `requested_schema` is a flat JSON Schema object: `{"type": "object", "properties":
    /// {...}, "required": [...]}` whose properties are strings, numbers, integers, booleans or
    /// enums. Without the client's `elicitation` capability nothing is sent (see
    /// [`create_message`](Self::create_message) for what happens then). Check
    /// [`ElicitResult::action`]: only an accepted form carries `content`.
    pub async fn elicit(
        &self,
        message: impl Into<String>,
        requested_schema: JsonObject,
    ) -> Result<ElicitResult, RequestError> {
        self.elicit_keyed(None, message.into(), requested_schema)
            .await
    }

    async fn elicit_keyed(
        &self,
        key: Option<&str>,
        message: String,
        requested_schema: JsonObject,
    ) -> Result<ElicitResult, RequestError> {
        let params = ElicitParams {
            message,
            requested_schema,
            meta: None,
        };
        self.ask_typed(key, methods::ELICITATION_CREATE, &params, "elicitation")
            .await
    }

    /// Asks the client for its roots (`roots/list`): the directories it lets the server work
    /// in. Without the client's `roots` capability nothing is sent (see
    /// [`create_message`](Self::create_message)).
    pub async fn list_roots(&self) -> Result<ListRootsResult, RequestError> {
        self.ask_typed(None, methods::ROOTS_LIST, &JsonObject::new(), "roots")
            .await
    }

    /// Asks with typed params and decodes the answer. An answer that does not decode is the
    /// client's mistake: in a stateless request the request fails with `-32602`.
    async fn ask_typed<P: Serialize, R: DeserializeOwned>(
        &self,
        key: Option<&str>,
        method: &str,
        params: &P,
        capability: &str,
    ) -> Result<R, RequestError> {
        let (id, result) = self
            .ask(key, method, to_object(params), Some(capability))
            .await?;
        match serde_json::from_value(Value::Object(result)) {
            Ok(decoded) => Ok(decoded),
            Err(source) => match &self.inner().input {
                Some(round) => {
                    round.fail(RpcError::invalid_params(format!(
                        "inputResponses.{id}: not a valid answer to `{method}`: {source}"
                    )));
                    self.wait_for_retry().await
                }
                None => Err(RequestError::Decode { id, source }),
            },
        }
    }

    /// Tells every session subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`), as [`Server::notify_resource_updated`] does: a
    /// tool that changes a resource announces it here. Does nothing on a detached context.
    ///
    /// [`Server::notify_resource_updated`]: crate::Server::notify_resource_updated
    pub async fn notify_resource_updated(&self, uri: &str) {
        if let Some(server) = self.inner().server.as_ref().and_then(WeakServer::upgrade) {
            server.notify_resource_updated(uri).await;
        }
    }

    /// Whether the client cancelled this request (or its task).
    pub fn is_cancelled(&self) -> bool {
        // Cancelling makes the token: without one, nothing cancelled the request.
        self.inner()
            .cancel
            .get()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Completes when the client cancels this request. The session also drops the tool's
    /// future on cancellation; this is for work the tool handed to other tasks or processes.
    pub async fn cancelled(&self) {
        self.token().cancelled().await;
    }

    /// A token cancelled with this request, for handing to spawned work.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.token().clone()
    }

    /// The request's token, made on first use.
    fn token(&self) -> &CancellationToken {
        self.inner().cancel.get_or_init(CancellationToken::new)
    }

    /// Cancels the request: what the session does when the client cancels it, or when it
    /// stops the call for another reason. Whatever holds the token, now or later, sees it
    /// cancelled.
    pub(crate) fn cancel(&self) {
        self.token().cancel();
    }
}

/// The kind of an input request, for its automatic key.
fn input_kind(method: &str) -> &'static str {
    match method {
        methods::ELICITATION_CREATE => "elicitation",
        methods::SAMPLING_CREATE_MESSAGE => "sampling",
        methods::ROOTS_LIST => "roots",
        _ => "input",
    }
}

/// A question with a name: see [`Context::input`].
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    ctx: &'a Context,
    key: &'a str,
}

impl Input<'_> {
    /// [`Context::request`] under this key: any request to the client (a relay passing on a
    /// question it was asked). For `elicitation/create`, `sampling/createMessage` and
    /// `roots/list` the client's capability is checked as the typed methods check it.
    pub async fn request(
        self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<JsonObject, RequestError> {
        let capability = match method {
            methods::ELICITATION_CREATE => Some("elicitation"),
            methods::SAMPLING_CREATE_MESSAGE => Some("sampling"),
            methods::ROOTS_LIST => Some("roots"),
            _ => None,
        };
        self.ctx
            .ask(
                Some(self.key),
                method,
                params.unwrap_or_default(),
                capability,
            )
            .await
            .map(|(_, result)| result)
    }

    /// [`Context::elicit`] under this key.
    pub async fn elicit(
        self,
        message: impl Into<String>,
        requested_schema: JsonObject,
    ) -> Result<ElicitResult, RequestError> {
        self.ctx
            .elicit_keyed(Some(self.key), message.into(), requested_schema)
            .await
    }

    /// [`Context::create_message`] under this key.
    pub async fn create_message(
        self,
        params: CreateMessageParams,
    ) -> Result<CreateMessageResult, RequestError> {
        self.ctx
            .ask_typed(
                Some(self.key),
                methods::SAMPLING_CREATE_MESSAGE,
                &params,
                "sampling",
            )
            .await
    }

    /// [`Context::list_roots`] under this key.
    pub async fn list_roots(self) -> Result<ListRootsResult, RequestError> {
        self.ctx
            .ask_typed(
                Some(self.key),
                methods::ROOTS_LIST,
                &JsonObject::new(),
                "roots",
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(id: i64, reply: Outbox) -> Context {
        let caller = Caller::session(Arc::new(SessionState::default()));
        Context::new(RequestId::Number(id), None, reply, caller, None, None)
    }

    /// A context nothing else holds lets go of what it held when recycled, and its
    /// allocation serves the thread's next context, as new; one still held is left alone.
    #[test]
    fn a_recycled_context_lets_go_and_serves_the_next_one() {
        let (outbox, mut rx) = Outbox::channel(1);
        let first = context(1, outbox);
        let at = Arc::as_ptr(&first.inner);
        first.recycle();
        assert!(
            rx.try_recv().is_err() && rx.is_closed(),
            "its outbox was let go"
        );
        let (outbox, _rx) = Outbox::channel(1);
        let second = context(2, outbox);
        assert_eq!(Arc::as_ptr(&second.inner), at, "the spare is used");
        assert_eq!(second.request_id(), &RequestId::Number(2));
        assert!(!second.reply().is_closed());
        assert!(!second.is_cancelled());
        // Held elsewhere (a task the call spawned): not kept.
        let held = second.clone();
        second.recycle();
        assert!(!held.reply().is_closed(), "untouched");
        let third = context(3, Outbox::nowhere());
        assert_ne!(Arc::as_ptr(&third.inner), at);
    }
}
