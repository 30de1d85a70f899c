//! JSON-RPC batches on streamable HTTP. Revision 2025-03-26 defines them (and only it: 2025-06-18
//! removed them), so a batch is answered on a session that negotiated 2025-03-26 and refused
//! with a clear error on any other.
//!
//! A batch of notifications and responses gets `202`. One with requests is answered like a
//! single request: an SSE stream carrying every message raised while handling any of them,
//! ending after the last response (or, in JSON mode, one array of responses). Elements that
//! are not valid messages, and an `initialize` (which must not be batched), get their error
//! responses in the same answer.

use std::sync::Arc;

use http::StatusCode;
use mcp_core::ProtocolVersion;
use mcp_core::error::RpcError;
use mcp_core::jsonrpc::{ErrorResponse, Message, Request, RequestId};
use mcp_core::protocol::methods;
use mcp_core::transport::Outbox;

use super::config::ResponseMode;
use super::reject::Rejection;
use super::respond;
use super::service::Shared;
use super::session::HttpSession;
use super::sse;
use super::stream::Answers;
use super::streamable::{Answer, CancelOnDrop, PostStream, final_answer, streaming};

/// Refuses a batch unless the session negotiated 2025-03-26.
fn check_revision(session: &HttpSession) -> Result<(), Rejection> {
    let version = session.session.protocol_version();
    if version == Some(ProtocolVersion::V2025_03_26) {
        return Ok(());
    }
    let uses = version.map_or("none yet".to_owned(), |v| v.as_str().to_owned());
    Err(Rejection::Malformed(Box::new(ErrorResponse::new(
        None,
        RpcError::invalid_request(format!(
            "JSON-RPC batches are accepted only on sessions that negotiated protocol revision \
             2025-03-26, the one revision that defines them; this session's revision is {uses}: \
             send one message per request"
        )),
    ))))
}

/// Answers a batch in `session`.
pub(crate) async fn answer(
    shared: &Arc<Shared>,
    session: &Arc<HttpSession>,
    items: Vec<Result<Message, Box<ErrorResponse>>>,
) -> Answer {
    check_revision(session)?;
    let mut errors = Vec::new();
    let mut requests = Vec::new();
    let nowhere = Outbox::nowhere();
    for item in items {
        match item {
            Err(error) => errors.push(Message::Error(*error)),
            Ok(Message::Request(r)) if r.method == methods::INITIALIZE => {
                let why = "`initialize` must not be part of a JSON-RPC batch";
                let error = ErrorResponse::new(Some(r.id), RpcError::invalid_request(why));
                errors.push(Message::Error(error));
            }
            Ok(Message::Request(r)) => requests.push(r),
            // Notifications and responses: nothing to send back for them.
            Ok(other) => session.session.receive(other, &nowhere).await,
        }
    }
    if requests.is_empty() {
        return Ok(if errors.is_empty() {
            respond::empty(StatusCode::ACCEPTED)
        } else {
            respond::json_batch(&errors)
        });
    }
    let ids: Vec<RequestId> = requests.iter().map(|r| r.id.clone()).collect();
    let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
    // Nobody reads the answer before the handler returns: the requests are fed from a task of
    // their own, or their answers (more than a queue holds) would wait for a reader forever.
    let feed = feed(session.clone(), requests, outbox);
    if shared.config.response_mode == ResponseMode::Json {
        let _cancel = CancelOnDrop::new(session, &ids);
        let collect = async {
            let mut replies = errors;
            let mut pending = Answers::Many(ids.clone());
            while let Some(out) = rx.recv().await {
                let before = pending.pending().len();
                let last = pending.completes(&out);
                if pending.pending().len() < before {
                    replies.push(*out.message);
                }
                if last {
                    break;
                }
            }
            // The session ended first: the rest get an error each, never silence.
            for id in pending.pending() {
                let reply = final_answer(&mut rx, id).await;
                replies.push(reply);
            }
            replies
        };
        let ((), replies) = tokio::join!(feed, collect);
        return Ok(respond::json_batch(&replies));
    }
    let Some(slot) = session.new_stream() else {
        return Err(Rejection::UnknownSession);
    };
    let (live, primer) = slot.attach(shared.config.stream_buffer, false).await?;
    // Dropped at once: the pump task carries the stream from here.
    drop(PostStream::new(
        shared,
        session,
        slot,
        rx,
        Answers::Many(ids),
    ));
    tokio::spawn(feed);
    let queued = errors
        .iter()
        .map(|e| sse::message_event(None, None, e))
        .collect();
    Ok(streaming(shared, session, queued, live, primer, ()))
}

/// Hands each request to the session, in order; their answers go to `outbox`.
async fn feed(session: Arc<HttpSession>, requests: Vec<Request>, outbox: Outbox) {
    let _busy = session.busy();
    for request in requests {
        session.session.receive(request.into(), &outbox).await;
    }
}
