//! Streamable HTTP for the stateless era (2026-07-28): one POST, one request, no session.
//!
//! The headers that mirror the body are checked first (`-32020` on a mismatch), then the
//! request runs on a [`ServerSession::stateless`] of its own. Its answer decides the shape of
//! the response: when the response (or an error) is the first thing the request produces, it
//! goes back as one `application/json` document, an error with the status the revision gives
//! it (404 for an unknown method, 400 for a malformed request), unless
//! [`ResponseMode::Sse`] asks for a stream every time; when a notification (progress,
//! a log message, a subscription's acknowledgement) comes first, the response is an SSE
//! stream that carries it at once, then everything else, and ends with the response. A silent
//! request gets its stream after the keep-alive interval, so that no proxy times it out.
//!
//! The stream owns the session: a client that closes it cancels the request (the revision's
//! rule for this era), and nothing is stored for resumption. While it runs, the request is
//! also listed in [`Running`], so that a shutdown ends it with an error once its grace is
//! over, as it ends a session's calls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Response, StatusCode};
use mcp_core::error::RpcError;
use mcp_core::jsonrpc::{Message, Request};
use mcp_core::server::{RequestMeta, ServerSession};
use mcp_core::transport::Outbox;

use super::body::McpBody;
use super::config::ResponseMode;
use super::mirror::Mirrored;
use super::peer::ClientKey;
use super::reject::Rejection;
use super::respond;
use super::service::Shared;
use super::sse::{self, Live, SseBody};
use crate::sync::lock;

type Answer = Result<Response<McpBody>, Rejection>;

/// The stateless requests running now, each on its session.
#[derive(Default)]
pub(crate) struct Running {
    next: AtomicU64,
    sessions: Mutex<HashMap<u64, ServerSession>>,
}

/// A request's place in [`Running`], given up when dropped (with the response, or its
/// stream).
struct Listed {
    running: Arc<Running>,
    key: u64,
}

impl Drop for Listed {
    fn drop(&mut self) {
        self.running.lock().remove(&self.key);
    }
}

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, ServerSession>> {
        lock(&self.sessions)
    }

    fn list(self: &Arc<Self>, session: &ServerSession) -> Listed {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, session.clone());
        Listed {
            running: Arc::clone(self),
            key,
        }
    }

    /// How many stateless requests are running.
    pub(crate) fn calls_in_flight(&self) -> usize {
        self.lock().values().map(ServerSession::in_flight).sum()
    }

    /// Ends every running stateless request with `error` on its stream; returns how many.
    pub(crate) async fn fail_all(&self, error: &RpcError) -> usize {
        let sessions: Vec<ServerSession> = self.lock().values().cloned().collect();
        let mut ended = 0;
        for session in sessions {
            ended += session.fail_all(error.clone()).await;
        }
        ended
    }
}

/// How long a request may stay silent before its SSE stream starts anyway, when no keep-alive
/// interval is configured.
const FIRST_EVENT_WAIT: Duration = Duration::from_secs(15);

/// Checks a stateless request against its headers; the error answers it. Its `_meta`, read,
/// is handed on to the session.
fn check(shared: &Shared, mirrored: &Mirrored, request: &Request) -> Result<RequestMeta, RpcError> {
    let meta = RequestMeta::read(request.params.as_ref())?;
    mirrored.check_version(meta.protocol_version())?;
    shared.server.check_version(meta.protocol_version())?;
    mirrored.check_request(&shared.server, request)?;
    Ok(meta)
}

/// Answers one stateless request.
pub(crate) async fn answer(
    shared: &Arc<Shared>,
    mirrored: Mirrored,
    request: Request,
    client: &ClientKey,
    headers: http::HeaderMap,
) -> Answer {
    let id = request.id.clone();
    shared.accepting().map_err(|r| r.answering(Some(&id)))?;
    let meta = match check(shared, &mirrored, &request) {
        Ok(meta) => meta,
        Err(error) => return Err(Rejection::rpc(Some(id), error)),
    };
    let session = ServerSession::stateless(&shared.server);
    if let ClientKey::Identity(name) = client {
        session.set_principal(name.clone());
    }
    let listed = shared.stateless.list(&session);
    let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
    session.receive_stateless(request, meta, &outbox).await;
    drop(outbox);
    let wait = shared.config.keep_alive.unwrap_or(FIRST_EVENT_WAIT);
    // A request answered at once (the session ran it until it first waited) has its answer
    // queued already: no timer for it.
    let ready = match rx.try_recv() {
        Ok(first) => Ok(Some(first)),
        Err(_) => tokio::time::timeout(wait, rx.recv()).await,
    };
    let first = match ready {
        Ok(Some(first)) => Some(first),
        // The session ended without answering: it cannot, but say so rather than hang.
        Ok(None) => {
            return Err(Rejection::rpc(
                Some(id),
                RpcError::internal("the request ended without an answer"),
            ));
        }
        Err(_) => None,
    };
    if let Some(out) = &first
        && out.is_final()
        && out.related.as_ref() == Some(&id)
    {
        if shared.config.response_mode == ResponseMode::Sse {
            // Streamed all the same: one event, and the stream ends.
            let event = sse::message_event(None, None, &out.message);
            let body = SseBody::new([event], Live::Done).guard(shared.counters.connection());
            return Ok(respond::sse(body, None));
        }
        return Ok(single(headers, &out.message));
    }
    let queued = first.map(|out| sse::message_event(None, None, &out.message));
    let body = SseBody::new(queued, Live::Request(rx, id))
        .keep_alive(shared.config.keep_alive)
        // Dropping the body (the client closed the stream) drops the session: the request is
        // cancelled.
        .guard((shared.counters.connection(), listed, session));
    Ok(respond::sse(body, None))
}

/// The answer alone, as `application/json`: an error with the status the revision gives it.
fn single(headers: http::HeaderMap, message: &Message) -> Response<McpBody> {
    let mut response = respond::json_in(headers, message, None);
    if let Message::Error(e) = message {
        let error = RpcError::from(e.error.clone());
        *response.status_mut() =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::OK);
    }
    response
}
