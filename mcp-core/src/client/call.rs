//! [`ToolCall`]: a tool call in flight, read as a stream of its progress then its result.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use tokio::sync::{mpsc, oneshot};

use super::tasks::Started;
use super::{Client, decode, lock, tasks, to_object};
use crate::error::RequestError;
use crate::jsonrpc::{JsonObject, Notification, RequestId};
use crate::protocol::{CallToolResult, CancelledParams, ProgressParams, ProgressToken, methods};

/// One event of a streaming tool call.
#[derive(Debug)]
pub enum CallEvent {
    /// A progress notification.
    Progress(ProgressParams),
    /// The result; no event follows.
    Done(Result<CallToolResult, RequestError>),
}

/// A tool call in flight. Read it as a [`Stream`] of [`CallEvent`]s (or with
/// [`next_event`](Self::next_event)); dropping it before the result cancels the call.
#[derive(Debug)]
pub struct ToolCall {
    client: Client,
    id: RequestId,
    /// The id of the round in flight (a multi round-trip call retries under new ids).
    current: Arc<Mutex<RequestId>>,
    token: ProgressToken,
    progress: mpsc::Receiver<Vec<ProgressParams>>,
    /// The rest of the batch of progress received last.
    ready: std::vec::IntoIter<ProgressParams>,
    result: Option<oneshot::Receiver<Final>>,
    reply: Option<Option<Final>>,
    done: bool,
    /// The server made a task of the call (2025-11-25): its progress token stays registered,
    /// and [`next_task_progress`](Self::next_task_progress) reads the task's progress.
    task: bool,
}

/// The final answer of a call: its last round's id and result.
pub(super) type Final = Result<(RequestId, JsonObject), RequestError>;

impl ToolCall {
    /// A call sent as `id` (its rounds' ids in `current`), its progress arriving on
    /// `progress` and its final answer on `result`.
    pub(super) fn new(
        client: Client,
        id: RequestId,
        current: Arc<Mutex<RequestId>>,
        token: ProgressToken,
        progress: mpsc::Receiver<Vec<ProgressParams>>,
        result: oneshot::Receiver<Final>,
    ) -> Self {
        ToolCall {
            client,
            id,
            current,
            token,
            progress,
            ready: Vec::new().into_iter(),
            result: Some(result),
            reply: None,
            done: false,
            task: false,
        }
    }

    /// The request id the call was sent with (a multi round-trip call's later rounds have
    /// ids of their own).
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The next event: progress in arrival order, then the result, then `None`.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event of a call started with
    /// [`Client::call_tool_streaming_as_task`]: progress in arrival order, then what the call
    /// came back as (a task, or the result), then `None`.
    pub async fn next_started(&mut self) -> Option<StartedEvent> {
        let event = std::future::poll_fn(|cx| self.poll_raw(cx)).await?;
        Some(match event {
            Raw::Progress(p) => StartedEvent::Progress(p),
            Raw::Done(id, reply) => {
                let name = id.to_string();
                let started = reply.and_then(|result| tasks::started(&name, result));
                if matches!(started, Ok(Started::Task(_)))
                    && self.client.inner.stateless.get().is_none()
                {
                    self.task = true;
                } else {
                    self.release_token();
                }
                StartedEvent::Done(started)
            }
        })
    }

    /// After [`next_started`](Self::next_started) said the server made a task of the call, in
    /// 2025-11-25: the next progress notification of the task (its progress token stays
    /// valid for the task's life), as the server sends it. Waits while the task runs; the
    /// task's end comes from the task (`tasks/get`, a status notification), not from here.
    /// `None` at once for a call that did not become such a task (2026-07-28 tasks report
    /// through their status instead).
    pub async fn next_task_progress(&mut self) -> Option<ProgressParams> {
        if !self.task {
            return None;
        }
        if let Some(p) = self.next_ready() {
            return Some(p);
        }
        let batch = self.progress.recv().await?;
        self.ready = batch.into_iter();
        self.next_ready()
    }

    /// Waits for the result, discarding progress.
    pub async fn result(mut self) -> Result<CallToolResult, RequestError> {
        while let Some(event) = self.next_event().await {
            if let CallEvent::Done(result) = event {
                return result;
            }
        }
        Err(RequestError::Closed(self.id.clone()))
    }

    /// Cancels the call: sends `notifications/cancelled` and stops waiting.
    pub async fn cancel(mut self, reason: &str) -> Result<(), RequestError> {
        self.finish();
        self.release_token();
        let params = CancelledParams {
            request_id: lock(&self.current).clone(),
            reason: Some(reason.to_owned()),
            meta: None,
        };
        self.client
            .notify(methods::CANCELLED, Some(to_object(&params)))
            .await
    }

    fn next_ready(&mut self) -> Option<ProgressParams> {
        self.ready.next()
    }

    /// The call is answered (or given up): no round is waited for any more.
    fn finish(&mut self) {
        self.done = true;
        self.result = None;
        let current = lock(&self.current).clone();
        self.client.inner.pending.forget(&current);
    }

    /// No more progress is routed to this call.
    fn release_token(&mut self) {
        self.task = false;
        lock(&self.client.inner.calls).remove(&self.token);
    }
}

impl Stream for ToolCall {
    type Item = CallEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<CallEvent>> {
        self.poll_raw(cx).map(|event| {
            event.map(|event| match event {
                Raw::Progress(p) => CallEvent::Progress(p),
                Raw::Done(id, reply) => {
                    self.release_token();
                    CallEvent::Done(reply.and_then(|r| decode(id, Ok(r))))
                }
            })
        })
    }
}

/// An event of a call before its answer is decoded.
enum Raw {
    Progress(ProgressParams),
    /// The id of the last round, and its answer.
    Done(RequestId, Result<JsonObject, RequestError>),
}

/// One event of a call started with [`Client::call_tool_streaming_as_task`].
#[derive(Debug)]
pub enum StartedEvent {
    /// A progress notification.
    Progress(ProgressParams),
    /// What the call came back as; no event follows.
    Done(Result<Started, RequestError>),
}

impl ToolCall {
    fn poll_raw(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Raw>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Progress first: one task routes progress and the response in arrival order, so
        // every progress event sent before the response is queued by the time it arrives.
        if let Some(p) = self.next_ready() {
            return Poll::Ready(Some(Raw::Progress(p)));
        }
        if let Poll::Ready(Some(batch)) = self.progress.poll_recv(cx) {
            self.ready = batch.into_iter();
            if let Some(p) = self.next_ready() {
                return Poll::Ready(Some(Raw::Progress(p)));
            }
        }
        if self.reply.is_none() {
            let Some(rx) = self.result.as_mut() else {
                return Poll::Ready(None);
            };
            let reply = match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(reply) => reply.ok(),
            };
            self.result = None;
            self.reply = Some(reply);
            // Progress may have been queued between the two polls above.
            if let Ok(batch) = self.progress.try_recv() {
                self.ready = batch.into_iter();
                if let Some(p) = self.next_ready() {
                    return Poll::Ready(Some(Raw::Progress(p)));
                }
            }
        }
        let id = self.id.clone();
        let reply = self.reply.take().flatten();
        self.finish();
        Poll::Ready(Some(match reply {
            Some(Ok((id, result))) => Raw::Done(id, Ok(result)),
            Some(Err(e)) => Raw::Done(id, Err(e)),
            None => Raw::Done(id.clone(), Err(RequestError::Closed(id))),
        }))
    }
}

impl Drop for ToolCall {
    fn drop(&mut self) {
        self.release_token();
        if self.done {
            return;
        }
        self.finish();
        let params = CancelledParams {
            request_id: lock(&self.current).clone(),
            reason: Some("the caller dropped the call".into()),
            meta: None,
        };
        let note = Notification::new(methods::CANCELLED, Some(to_object(&params)));
        let _ = self.client.inner.outgoing.try_send(note.into());
    }
}
