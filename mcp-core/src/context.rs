//! [`Context`]: what a running tool can do besides compute its result.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::error::RequestError;
use crate::jsonrpc::{JsonObject, Message, Notification, Request, RequestId};
use crate::progress::Progress;
use crate::protocol::{
    ClientCapabilities, CreateMessageParams, CreateMessageResult, ElicitParams, ElicitResult,
    LoggingLevel, LoggingMessageParams, ProgressParams, ProgressToken, ProtocolVersion, methods,
};
use crate::server::SessionState;
use crate::transport::Outbox;

/// The context of one request: its id, its progress token, the way back to the client.
///
/// Cheap to clone. A tool receives it as a parameter of type `Context` (or `&Context`), and
/// `yield_!(item)` in a `#[tool]` body is `ctx.progress(item).await` on it.
#[derive(Clone, Debug)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    request_id: RequestId,
    progress_token: Option<ProgressToken>,
    meta: Option<JsonObject>,
    reply: Outbox,
    session: Arc<SessionState>,
    cancel: CancellationToken,
    progress: Mutex<ProgressState>,
}

#[derive(Debug, Default)]
struct ProgressState {
    last: Option<f64>,
    total: Option<f64>,
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
        meta: Option<JsonObject>,
        reply: Outbox,
        session: Arc<SessionState>,
        cancel: CancellationToken,
    ) -> Self {
        let progress_token = meta
            .as_ref()
            .and_then(|m| m.get("progressToken"))
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        Context {
            inner: Arc::new(Inner {
                request_id,
                progress_token,
                meta,
                reply,
                session,
                cancel,
                progress: Mutex::new(ProgressState::default()),
            }),
        }
    }

    /// A context attached to no client: progress and logs go nowhere. For calling a tool
    /// directly, in unit tests for example.
    pub fn detached() -> Self {
        let (reply, _rx) = Outbox::channel(1);
        Context::new(
            RequestId::Number(0),
            None,
            reply,
            Arc::new(SessionState::default()),
            CancellationToken::new(),
        )
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The progress token the client sent, if any.
    pub fn progress_token(&self) -> Option<&ProgressToken> {
        self.inner.progress_token.as_ref()
    }

    /// Whether the client asked for progress (sent a progress token).
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some()
    }

    /// The request's `_meta`, if any.
    pub fn meta(&self) -> Option<&JsonObject> {
        self.inner.meta.as_ref()
    }

    /// The protocol revision negotiated for this session, once `initialize` has run.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.session.protocol_version()
    }

    /// What the client declared it can do in `initialize`, once the session is initialized.
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        self.inner.session.client().map(|c| &c.capabilities)
    }

    /// Sets the total that following progress reports carry.
    pub fn set_total(&self, total: f64) {
        self.lock_progress().total = Some(total);
    }

    fn lock_progress(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Reports progress: sends `notifications/progress` for the caller's token, on the
    /// response stream of this request, and waits only until the transport has room for it.
    ///
    /// The value increases by one per report unless the report sets it. Without a progress
    /// token this only counts the step: no message is built or sent.
    pub async fn progress(&self, item: impl Into<Progress>) {
        let Some(token) = self.inner.progress_token.clone() else {
            let mut state = self.lock_progress();
            state.last = Some(state.last.map_or(1.0, |l| l + 1.0));
            return;
        };
        let item = item.into();
        let params = {
            let mut state = self.lock_progress();
            let value = item
                .progress
                .unwrap_or_else(|| state.last.map_or(1.0, |l| l + 1.0));
            state.last = Some(value);
            if item.total.is_some() {
                state.total = item.total;
            }
            ProgressParams {
                progress_token: token,
                progress: value,
                total: state.total,
                message: item.message,
                meta: None,
            }
        };
        let note = Notification::new(methods::PROGRESS, Some(to_object(&params)));
        // A closed transport means nobody listens any more: the tool carries on regardless.
        let _ = self
            .inner
            .reply
            .send(note.into(), Some(self.inner.request_id.clone()))
            .await;
    }

    /// Sends a log message (`notifications/message`) if the client's level lets it through.
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Into<Value>) {
        if !self.inner.session.should_log(level) {
            return;
        }
        let params = LoggingMessageParams {
            level,
            logger: logger.map(str::to_owned),
            data: data.into(),
            meta: None,
        };
        let note = Notification::new(methods::LOG_MESSAGE, Some(to_object(&params)));
        let _ = self
            .inner
            .reply
            .send(note.into(), Some(self.inner.request_id.clone()))
            .await;
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

    /// Sends a request to the client (sampling, elicitation, roots) on this request's stream
    /// and waits for its answer.
    pub async fn request(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<JsonObject, RequestError> {
        self.round_trip(method, params)
            .await
            .map(|(_, result)| result)
    }

    /// [`request`](Self::request), also returning the id the request was sent with.
    async fn round_trip(
        &self,
        method: &str,
        params: Option<JsonObject>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let pending = &self.inner.session.pending;
        let (id, rx) = pending.register();
        let request = Request::new(id.clone(), method, params);
        if self
            .inner
            .reply
            .send(
                Message::Request(request),
                Some(self.inner.request_id.clone()),
            )
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
            () = self.inner.cancel.cancelled() => {
                pending.forget(&id);
                Err(RequestError::Cancelled(id))
            }
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`) and waits for it.
    ///
    /// The request travels on this request's stream, like progress. Fails with
    /// [`RequestError::Unsupported`] without sending anything when the client did not declare
    /// the `sampling` capability, and with [`RequestError::Rpc`] when the client refuses.
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
        if self
            .client_capabilities()
            .is_none_or(|c| c.sampling.is_none())
        {
            return Err(RequestError::Unsupported(
                "the client did not declare the `sampling` capability".into(),
            ));
        }
        self.request_typed(methods::SAMPLING_CREATE_MESSAGE, &params)
            .await
    }

    /// Asks the user, through the client, for the values described by `requested_schema`
    /// (`elicitation/create` in form mode) and waits for the answer.
    ///
    /// `requested_schema` is a flat JSON Schema object: `{"type": "object", "properties":
    /// {...}, "required": [...]}` whose properties are strings, numbers, integers, booleans or
    /// enums. Fails with [`RequestError::Unsupported`] without sending anything when the client
    /// did not declare the `elicitation` capability. Check [`ElicitResult::action`]: only an
    /// accepted form carries `content`.
    pub async fn elicit(
        &self,
        message: impl Into<String>,
        requested_schema: JsonObject,
    ) -> Result<ElicitResult, RequestError> {
        if self
            .client_capabilities()
            .is_none_or(|c| c.elicitation.is_none())
        {
            return Err(RequestError::Unsupported(
                "the client did not declare the `elicitation` capability".into(),
            ));
        }
        let params = ElicitParams {
            message: message.into(),
            requested_schema,
            meta: None,
        };
        self.request_typed(methods::ELICITATION_CREATE, &params)
            .await
    }

    /// Sends a request with typed params and decodes its result.
    async fn request_typed<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R, RequestError> {
        let (id, result) = self.round_trip(method, Some(to_object(params))).await?;
        serde_json::from_value(Value::Object(result))
            .map_err(|source| RequestError::Decode { id, source })
    }

    /// Tells every session subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`), as [`Server::notify_resource_updated`] does: a
    /// tool that changes a resource announces it here. Does nothing on a detached context.
    ///
    /// [`Server::notify_resource_updated`]: crate::Server::notify_resource_updated
    pub async fn notify_resource_updated(&self, uri: &str) {
        if let Some(server) = self.inner.session.server() {
            server.notify_resource_updated(uri).await;
        }
    }

    /// Whether the client cancelled this request.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Completes when the client cancels this request. The session also drops the tool's
    /// future on cancellation; this is for work the tool handed to other tasks or processes.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await;
    }

    /// A token cancelled with this request, for handing to spawned work.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }
}
