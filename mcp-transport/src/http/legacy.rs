//! The legacy HTTP+SSE transport (protocol revision 2024-11-05): `GET /sse` opens a session's
//! one stream, whose first event names the endpoint (`/messages?sessionId=<id>`) where the
//! client POSTs its messages; every answer travels on the stream as a `message` event.
//!
//! A legacy session lives exactly as long as its stream: when the client disconnects, the
//! session ends and its running calls are cancelled.

use std::error::Error as StdError;
use std::sync::Arc;

use http::header::CONTENT_LENGTH;
use http::{Request, StatusCode};
use hyper::body::Body;
use mcp_core::jsonrpc::Message;

use super::body::read_limited;
use super::guard::{accepts, is_json};
use super::peer::ClientKey;
use super::reject::Rejection;
use super::respond;
use super::service::Shared;
use super::session::{HttpSession, SessionKind};
use super::sse::{self, Live, SseBody, StopWhen};

type Answer = Result<http::Response<super::body::McpBody>, Rejection>;

/// Ends the session when its stream's body is dropped (the client went away).
struct EndOnDrop {
    shared: Arc<Shared>,
    session: Arc<HttpSession>,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        if let Some(session) = self.shared.table.remove(&self.session.id) {
            tracing::debug!(session = %session.id, "legacy SSE stream closed: session ended");
            session.close();
        }
    }
}

/// `GET /sse`: a new session and its stream.
pub(crate) async fn open<B>(
    shared: &Arc<Shared>,
    request: Request<B>,
    client: ClientKey,
) -> Answer {
    let headers = request.headers();
    if headers.contains_key(http::header::ACCEPT) && !accepts(headers, "text/event-stream") {
        return Err(Rejection::NotAcceptable("text/event-stream"));
    }
    shared.accepting()?;
    shared.sweep().await;
    let (session, rx) = shared
        .admit(|id| HttpSession::legacy(id, &shared.server, client, shared.counters.clone()))
        .await?;
    let messages = shared
        .config
        .legacy
        .as_ref()
        .map_or("/messages", |p| p.messages.as_str());
    let endpoint = sse::event(
        None,
        Some("endpoint"),
        &format!("{messages}?sessionId={}", session.id),
        None,
    );
    let calls = session.session.clone();
    let body = SseBody::new([endpoint], Live::Legacy(rx))
        .keep_alive(shared.config.keep_alive)
        .stop_when(StopWhen::on(session.closed.clone()))
        // On shutdown, end once the last running call has been answered.
        .stop_when(StopWhen::on_and(shared.draining.clone(), move || {
            calls.in_flight() == 0
        }))
        .guard((
            shared.counters.connection(),
            EndOnDrop {
                shared: shared.clone(),
                session: session.clone(),
            },
        ));
    tracing::debug!(session = %session.id, "legacy SSE session started");
    Ok(respond::sse(body, None))
}

/// The `sessionId` query parameter.
fn session_param<B>(request: &Request<B>) -> Option<&str> {
    request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sessionId="))
}

/// `POST /messages?sessionId=<id>`: one message; whatever it causes goes out on the stream.
pub(crate) async fn post<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer
where
    B: Body + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let id = session_param(&request).ok_or(Rejection::MissingLegacySession)?;
    let session = shared
        .table
        .get(id)
        .filter(|s| s.is_legacy())
        .ok_or(Rejection::UnknownSession)?;
    if !is_json(request.headers()) {
        return Err(Rejection::UnsupportedMediaType);
    }
    let length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let limit = shared.config.max_body_bytes;
    let timeout = shared.config.request_body_timeout;
    let bytes = read_limited(request.into_body(), length, limit, timeout).await?;
    let message = Message::parse(&bytes).map_err(Rejection::Malformed)?;
    let SessionKind::Legacy { outbox } = &session.kind else {
        return Err(Rejection::UnknownSession);
    };
    let _busy = session.busy();
    session.session.receive(message, outbox).await;
    Ok(respond::empty(StatusCode::ACCEPTED))
}
