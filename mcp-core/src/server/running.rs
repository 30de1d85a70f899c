//! [`Running`]: a request's answer future as the session runs it, without a box of its own
//! around a tool's future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use super::catalog::{Answer, to_payload};
use crate::context::Context;
use crate::error::RpcError;
use crate::jsonrpc::{Payload, RequestId};
use crate::protocol::CallToolResult;
use crate::tool::{BoxFuture, Reply, Tool};

/// A handler's future: a tool's call (its result encoded when it is ready), or any other
/// handler's answer. A tool call is the common case; holding the tool's future as it is
/// saves the box an adapter to [`Answer`] would cost.
pub(super) enum Running {
    /// A tool's call, not started: the tool is called on the first poll, so that nothing of
    /// it runs for a call refused before (by the session's bound, or a middleware layer).
    Call(Option<(Arc<dyn Tool>, Context, Payload)>),
    /// A tool's call under way: its result is encoded once it is ready, framed for the
    /// response to the request's id when that is a number (see [`Payload::framed`]).
    Tool(BoxFuture<Result<CallToolResult, RpcError>>, Option<i64>),
    /// The same, for a tool that answers with a [`Reply`] (`#[tool]`'s, which fails only
    /// with results).
    Reply(BoxFuture<Reply>, Option<i64>),
    /// Any other answer, already a [`Payload`].
    Answer(Answer),
}

impl From<Answer> for Running {
    fn from(answer: Answer) -> Self {
        Running::Answer(answer)
    }
}

impl Running {
    /// A call of `tool` with `arguments`, made when first polled.
    pub(super) fn call(tool: Arc<dyn Tool>, ctx: Context, arguments: Payload) -> Self {
        Running::Call(Some((tool, ctx, arguments)))
    }

    /// As an [`Answer`], for what takes one (the middleware): a tool's call is boxed with its
    /// encoding only then.
    pub(super) fn into_answer(self) -> Answer {
        match self {
            Running::Answer(answer) => answer,
            other => Box::pin(other),
        }
    }
}

impl Future for Running {
    type Output = Result<Payload, RpcError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Running::Call(start) = this {
            let (tool, ctx, arguments) = start.take().expect("a call starts once");
            let id = match ctx.request_id() {
                RequestId::Number(n) => Some(*n),
                RequestId::String(_) => None,
            };
            *this = match tool.call_reply(ctx, arguments) {
                Ok(call) => Running::Reply(call, id),
                Err((ctx, arguments)) => Running::Tool(tool.call_or_error(ctx, arguments), id),
            };
        }
        match this {
            // Encoded once, straight to the text the transport frames.
            Running::Tool(call, id) => call.as_mut().poll(cx).map(|r| r.map(|r| encoded(&r, *id))),
            Running::Reply(call, id) => call.as_mut().poll(cx).map(|r| Ok(encoded_reply(r, *id))),
            Running::Answer(answer) => answer.as_mut().poll(cx),
            Running::Call(_) => unreachable!("started above"),
        }
    }
}

/// A tool's result as the text a response carries, in a buffer of its exact size: within the
/// text of the response to request `id`, when given.
fn encoded(result: &CallToolResult, id: Option<i64>) -> Payload {
    let write = |out: &mut Vec<u8>| result.write_json(out).map_err(Into::into);
    match id {
        Some(id) => Payload::framed(id, write),
        None => Payload::written(write),
    }
    .unwrap_or_else(|_| to_payload(result))
}

/// A [`Reply`] as [`encoded`] encodes its result: text alone is written straight into the
/// response's text (see [`Payload::framed_text`]), with no [`CallToolResult`] built.
fn encoded_reply(reply: Reply, id: Option<i64>) -> Payload {
    match (reply, id) {
        (Reply::Text(text), Some(id)) => Payload::framed_text(id, &text),
        (reply, id) => encoded(&reply.into_result(), id),
    }
}
