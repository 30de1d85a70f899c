//! The streamable HTTP client: one POST per message, SSE or JSON answers, a GET stream for
//! messages unrelated to any request, DELETE when the client goes away.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::protocol::methods;
use tokio::sync::mpsc;

use super::HttpMode;
use super::request::{SESSION_HEADER, Shared, is_event_stream, status_error};
use super::stateless;
use crate::sync::lock;
use std::collections::HashMap;

/// Runs the transport until the client drops its sender.
///
/// Stateless requests (2026-07-28) go out as POSTs of their own, each cancelled by closing
/// its stream (a `notifications/cancelled` for one aborts its POST instead of being sent);
/// the first message that is not one (`initialize`) opens the session as before.
pub(super) async fn run(shared: Arc<Shared>, mut outgoing: mpsc::Receiver<Message>) {
    let mut stateless_calls: HashMap<RequestId, tokio::task::AbortHandle> = HashMap::new();
    let first = loop {
        let Some(message) = outgoing.recv().await else {
            return;
        };
        if !forward_stateless(&shared, message.clone(), &mut stateless_calls) {
            break message;
        }
    };
    match post(&shared, first.clone()).await {
        Posted::Done => {}
        Posted::Legacy if shared.options.mode == HttpMode::Auto => {
            tracing::info!(url = %shared.url, "falling back to the legacy HTTP+SSE transport");
            return super::legacy::run(shared, outgoing, Some(first)).await;
        }
        Posted::Legacy => {
            shared
                .fail(
                    first_id(&first),
                    "the server rejected the initialize POST".into(),
                )
                .await;
        }
    }
    let has_session = lock(&shared.session_id).is_some();
    if shared.options.open_get_stream && has_session {
        tokio::spawn(get_stream(shared.clone()));
    }
    while let Some(message) = outgoing.recv().await {
        if forward_stateless(&shared, message.clone(), &mut stateless_calls) {
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            post(&shared, message).await;
        });
    }
    // The client is gone: end the session on the server.
    let session_id = lock(&shared.session_id).clone();
    if let Some(sid) = session_id {
        let mut request = shared.request(Method::DELETE, &shared.url, Bytes::new());
        request.headers_mut().insert(SESSION_HEADER, sid);
        let _ = shared.send(request).await;
    }
}

/// Sends a stateless request, or cancels one by aborting its POST; `false` when `message`
/// belongs to the session instead.
fn forward_stateless(
    shared: &Arc<Shared>,
    message: Message,
    calls: &mut HashMap<RequestId, tokio::task::AbortHandle>,
) -> bool {
    calls.retain(|_, handle| !handle.is_finished());
    if let Message::Notification(n) = &message
        && n.method == methods::CANCELLED
        && let Some(id) = n
            .params
            .as_ref()
            .and_then(|p| p.get("requestId"))
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok())
        && let Some(handle) = calls.remove(&id)
    {
        handle.abort();
        return true;
    }
    let Some(id) = stateless::is_stateless(&message).cloned() else {
        return false;
    };
    let Message::Request(request) = message else {
        return false;
    };
    let shared = shared.clone();
    let task = tokio::spawn(async move { stateless::post(&shared, request).await });
    calls.insert(id, task.abort_handle());
    true
}

fn first_id(message: &Message) -> Option<&RequestId> {
    match message {
        Message::Request(r) => Some(&r.id),
        _ => None,
    }
}

enum Posted {
    Done,
    /// 400, 404 or 405 to an initialize POST: the server may speak only the legacy transport.
    Legacy,
}

async fn post(shared: &Shared, message: Message) -> Posted {
    let id = first_id(&message).cloned();
    let is_initialize = message.method() == Some(methods::INITIALIZE);
    let body = Bytes::from(message.to_json());
    let response = match shared
        .send(shared.request(Method::POST, &shared.url, body))
        .await
    {
        Ok(r) => r,
        Err(why) => {
            shared.fail(id.as_ref(), why).await;
            return Posted::Done;
        }
    };
    if let Some(sid) = response.headers().get(SESSION_HEADER) {
        let mut current = lock(&shared.session_id);
        if current.is_none() {
            *current = Some(sid.clone());
        }
    }
    let status = response.status();
    if is_initialize
        && matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        )
    {
        return Posted::Legacy;
    }
    if status == StatusCode::ACCEPTED {
        return Posted::Done;
    }
    if !status.is_success() {
        let why = status_error(response).await;
        shared.fail(id.as_ref(), why).await;
        return Posted::Done;
    }
    if is_event_stream(&response) {
        if !shared.read_resuming(response, id.as_ref()).await && !shared.incoming.is_closed() {
            shared
                .fail(
                    id.as_ref(),
                    "the response stream ended before the response".into(),
                )
                .await;
        }
    } else if let Err(why) = shared.read_json(response).await {
        shared.fail(id.as_ref(), why).await;
    }
    Posted::Done
}

/// The session's GET stream: server messages that belong to no request. Resumed when it drops.
async fn get_stream(shared: Arc<Shared>) {
    let request = shared.request(Method::GET, &shared.url, Bytes::new());
    match shared.send(request).await {
        Ok(r) if r.status() == StatusCode::OK && is_event_stream(&r) => {
            shared.read_resuming(r, None).await;
        }
        Ok(r) => tracing::debug!(status = %r.status(), "the server offers no GET stream"),
        Err(why) => tracing::debug!(%why, "could not open the GET stream"),
    }
}
