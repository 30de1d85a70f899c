//! Building the responses the service gives: SSE streams, JSON documents, 202s.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use mcp_core::jsonrpc::Message;

use super::body::McpBody;
use super::session::Attached;
use super::sse::SseBody;

/// The `Mcp-Session-Id` header.
pub(crate) const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// Tells nginx (and proxies that copy it) not to buffer the stream.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

fn with_session(mut response: Response<McpBody>, session: Option<&str>) -> Response<McpBody> {
    if let Some(value) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        response.headers_mut().insert(SESSION_ID, value);
    }
    response
}

/// A `200 text/event-stream` response that streams `body`.
pub(crate) fn sse(body: SseBody, session: Option<&str>) -> Response<McpBody> {
    sse_with(HeaderMap::new(), body, session)
}

/// As [`sse`], for a stream that usually holds its connection for the rest of the
/// connection's life (a GET stream): its header map is made for exactly its three headers.
///
/// hyper keeps a response's header map, emptied, to parse the connection's next request
/// into; a POST's response keeps the default room (six headers, as many as a typical POST
/// has), while an idle session's GET stream holds half as much memory in it.
pub(crate) fn long_sse(body: SseBody) -> Response<McpBody> {
    sse_with(HeaderMap::with_capacity(3), body, None)
}

/// A `200 text/event-stream` response whose events are all in `events`, its headers written
/// into `headers` (the request's map, emptied: hyper keeps a response's map to parse the
/// connection's next request into, so a request's map serves its response and no new one is
/// made per request).
pub(crate) fn answered_sse(
    headers: HeaderMap,
    events: bytes::Bytes,
    attached: Attached,
) -> Response<McpBody> {
    sse_headers(headers, McpBody::answered(events, attached), None)
}

fn sse_with(headers: HeaderMap, body: SseBody, session: Option<&str>) -> Response<McpBody> {
    sse_headers(headers, McpBody::sse(body), session)
}

fn sse_headers(headers: HeaderMap, body: McpBody, session: Option<&str>) -> Response<McpBody> {
    let mut response = Response::new(body);
    *response.headers_mut() = headers;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    with_session(response, session)
}

/// A `200 application/json` response holding one message.
pub(crate) fn json(message: &Message, session: Option<&str>) -> Response<McpBody> {
    json_in(HeaderMap::new(), message, session)
}

/// As [`json`], its headers written into `headers` (see [`answered_sse`]).
pub(crate) fn json_in(
    headers: HeaderMap,
    message: &Message,
    session: Option<&str>,
) -> Response<McpBody> {
    json_text_in(headers, message.to_json(), session)
}

/// A `200 application/json` response holding one message, consumed (a tool's result usually
/// holds the response's text already: see [`Message::into_json`]), its headers written into
/// `headers` (the request's map, emptied; see [`answered_sse`]). The maps are swapped:
/// `headers` is left holding the response's own new map, empty, for its owner to drop (one
/// map dropped per response, not two).
pub(crate) fn json_owned_swapped(headers: &mut HeaderMap, message: Message) -> Response<McpBody> {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = Response::new(McpBody::full(message.into_json()));
    std::mem::swap(response.headers_mut(), headers);
    response
}

/// A `200 application/json` response holding `text`, its headers written into `headers`.
fn json_text_in(mut headers: HeaderMap, text: String, session: Option<&str>) -> Response<McpBody> {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        headers.insert(SESSION_ID, value);
    }
    let mut response = Response::new(McpBody::full(text));
    *response.headers_mut() = headers;
    response
}

/// A `200 application/json` response holding an array of messages (the answer to a batch).
pub(crate) fn json_batch(messages: &[Message]) -> Response<McpBody> {
    let body = serde_json::to_string(messages).unwrap_or_else(|_| String::from("[]"));
    let mut response = Response::new(McpBody::full(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A response with a status and no body (`202 Accepted`, `200` for DELETE).
pub(crate) fn empty(status: StatusCode) -> Response<McpBody> {
    let mut response = Response::new(McpBody::empty());
    *response.status_mut() = status;
    response
}
