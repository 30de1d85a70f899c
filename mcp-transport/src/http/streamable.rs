//! The streamable HTTP endpoint (protocol 2025-03-26 and later): POST, GET and DELETE.

use std::error::Error as StdError;
use std::sync::Arc;

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Body;
use mcp_core::ProtocolVersion;
use mcp_core::error::RpcError;
use mcp_core::jsonrpc::{ErrorResponse, Message, RequestId};
use mcp_core::protocol::methods;
use mcp_core::transport::{Outbound, Outbox};
use tokio::sync::mpsc;

use super::body::{McpBody, read_limited};
use super::config::ResponseMode;
use super::event_store::{EventId, StreamKey};
use super::guard::{accepts, check_protocol_version, is_json};
use super::reject::Rejection;
use super::respond::{self, SESSION_ID};
use super::service::Shared;
use super::session::HttpSession;
use super::sse::{self, Live, SseBody, StopWhen};
use super::stream::{Resumed, pump, replay};

type Answer = Result<Response<McpBody>, Rejection>;

/// The session a request names: 400 without the header, 404 if unknown or ended.
fn session_of(shared: &Shared, headers: &HeaderMap) -> Result<Arc<HttpSession>, Rejection> {
    let id = headers.get(SESSION_ID).ok_or(Rejection::MissingSession)?;
    let id = id.to_str().map_err(|_| Rejection::UnknownSession)?;
    shared
        .table
        .get(id)
        .filter(|s| !s.is_legacy())
        .ok_or(Rejection::UnknownSession)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Whether streams of this session start with a priming event (revision 2025-11-25 on:
/// earlier clients may choke on an event with empty data).
fn primes(session: &HttpSession) -> bool {
    session
        .session
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V2025_11_25)
}

fn priming(shared: &Shared, id: EventId) -> bytes::Bytes {
    sse::event(Some(&id.to_string()), None, "", Some(shared.config.retry))
}

/// POST: one JSON-RPC message from the client.
pub(crate) async fn post<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer
where
    B: Body + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    if !(accepts(headers, "application/json") && accepts(headers, "text/event-stream")) {
        return Err(Rejection::NotAcceptable(
            "both application/json and text/event-stream",
        ));
    }
    if !is_json(headers) {
        return Err(Rejection::UnsupportedMediaType);
    }
    let bytes = read_limited(body, content_length(headers), shared.config.max_body_bytes).await?;
    let message = Message::parse(&bytes).map_err(Rejection::Malformed)?;
    if message.method() == Some(methods::INITIALIZE) {
        if headers.contains_key(SESSION_ID) {
            return Err(Rejection::InitializeWithSession);
        }
        if let Message::Request(init) = message {
            return initialize(shared, init).await;
        }
    }
    check_protocol_version(headers)?;
    let session = session_of(shared, headers)?;
    let _busy = session.busy();
    match message {
        Message::Request(request) => answer(shared, &session, request).await,
        other => {
            // Notifications and responses produce nothing to send back here.
            let (nowhere, _) = Outbox::channel(1);
            session.session.receive(other, &nowhere).await;
            Ok(respond::empty(StatusCode::ACCEPTED))
        }
    }
}

/// Waits for the response to `id` on `rx`, dropping what comes before it.
async fn final_answer(rx: &mut mpsc::Receiver<Outbound>, id: &RequestId) -> Message {
    while let Some(out) = rx.recv().await {
        if out.is_final() && out.related.as_ref() == Some(id) {
            return out.message;
        }
        tracing::debug!(request = %id, "dropping a message that a JSON response cannot carry");
    }
    Message::Error(ErrorResponse::new(
        Some(id.clone()),
        RpcError::internal("the session ended before the request was answered"),
    ))
}

/// `initialize`: starts a session, and answers with its id unless the handshake failed.
async fn initialize(shared: &Arc<Shared>, request: mcp_core::jsonrpc::Request) -> Answer {
    shared.accepting()?;
    shared.sweep().await;
    let store = shared.config.event_store.clone();
    let (session, ()) = shared
        .table
        .insert(|id| (HttpSession::streamable(id, &shared.server, store), ()))?;
    let id = request.id.clone();
    let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
    session.session.receive(request.into(), &outbox).await;
    drop(outbox);
    let reply = final_answer(&mut rx, &id).await;
    let session_id = if matches!(reply, Message::Response(_)) {
        tracing::debug!(session = %session.id, "session started");
        Some(session.id.clone())
    } else {
        if let Some(session) = shared.table.remove(&session.id) {
            shared.end_session(session).await;
        }
        None
    };
    Ok(match shared.config.response_mode {
        ResponseMode::Json => respond::json(&reply, session_id.as_deref()),
        ResponseMode::Sse => {
            let event = sse::event(None, None, &reply.to_json(), None);
            respond::sse(SseBody::new([event], Live::Done), session_id.as_deref())
        }
    })
}

/// A request in an existing session: an SSE stream of everything tagged with its id, ending
/// with its response (or, in JSON mode, the response alone).
async fn answer(
    shared: &Arc<Shared>,
    session: &Arc<HttpSession>,
    request: mcp_core::jsonrpc::Request,
) -> Answer {
    let id = request.id.clone();
    let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
    if shared.config.response_mode == ResponseMode::Json {
        session.session.receive(request.into(), &outbox).await;
        drop(outbox);
        return Ok(respond::json(&final_answer(&mut rx, &id).await, None));
    }
    let Some(slot) = session.new_stream() else {
        return Err(Rejection::UnknownSession);
    };
    let (live, primer) = slot.attach(shared.config.stream_buffer, false).await?;
    let open = shared.counters.open_stream();
    let number = slot.key().stream;
    let owner = session.clone();
    let store = shared.config.event_store.clone();
    tokio::spawn(async move {
        let closed = owner.closed.clone();
        pump(slot, rx, Some(id), store, closed).await;
        owner.stream_done(number);
        drop(open);
    });
    session.session.receive(request.into(), &outbox).await;
    drop(outbox);
    let first = primes(session).then(|| priming(shared, primer));
    let body = SseBody::new(first, Live::Events(live))
        .keep_alive(shared.config.keep_alive)
        .guard((shared.counters.connection(), session.busy()));
    Ok(respond::sse(body, None))
}

/// GET: the session's stream for messages that belong to no request, or, with
/// `Last-Event-ID`, the rest of a broken stream.
pub(crate) async fn get<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer {
    let headers = request.headers();
    if !accepts(headers, "text/event-stream") {
        return Err(Rejection::NotAcceptable("text/event-stream"));
    }
    check_protocol_version(headers)?;
    let session = session_of(shared, headers)?;
    let buffer = shared.config.stream_buffer;
    let store = &*shared.config.event_store;
    let guard = (shared.counters.connection(), session.busy());
    let body = match headers.get("last-event-id") {
        Some(last) => {
            let text = String::from_utf8_lossy(last.as_bytes());
            let last: EventId = text
                .parse()
                .map_err(|_| Rejection::BadLastEventId(text.into_owned()))?;
            let resumed = match session.stream(last.stream) {
                Some(slot) => slot.resume(store, last.seq, buffer).await,
                None => {
                    let key = StreamKey {
                        session: session.id.clone(),
                        stream: last.stream,
                    };
                    Resumed {
                        replay: replay(store, key, last.seq).await,
                        live: None,
                    }
                }
            };
            let live = resumed.live.map_or(Live::Done, Live::Events);
            let body = SseBody::new(resumed.replay, live);
            if last.stream == 0 {
                body.stop_when(StopWhen::on(shared.draining.clone()))
            } else {
                body
            }
        }
        None => {
            shared.accepting()?;
            let Some(slot) = session.stream(0) else {
                return Err(Rejection::UnknownSession);
            };
            let (live, primer) = slot.attach(buffer, true).await?;
            let first = primes(&session).then(|| priming(shared, primer));
            SseBody::new(first, Live::Events(live)).stop_when(StopWhen::on(shared.draining.clone()))
        }
    };
    let body = body.keep_alive(shared.config.keep_alive).guard(guard);
    Ok(respond::sse(body, None))
}

/// DELETE: ends the session.
pub(crate) async fn delete<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer {
    let headers = request.headers();
    check_protocol_version(headers)?;
    let session = session_of(shared, headers)?;
    if let Some(session) = shared.table.remove(&session.id) {
        tracing::debug!(session = %session.id, "session deleted by the client");
        shared.end_session(session).await;
    }
    Ok(respond::empty(StatusCode::OK))
}
