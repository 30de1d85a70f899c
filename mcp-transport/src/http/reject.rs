//! One rejection per way a request can fail, each with its status and message.

use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};
use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::jsonrpc::{ErrorResponse, Message, RequestId};

use super::body::McpBody;

/// A request the server refuses, before any session sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Rejection {
    #[error("the Host header is missing or not allowed")]
    BadHost,
    #[error("the Origin header is not allowed")]
    BadOrigin,
    #[error("the request carries more than one {0} header")]
    DuplicateHeader(&'static str),
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("no such path")]
    NotFound,
    #[error("method not allowed: use {0}")]
    MethodNotAllowed(&'static str),
    #[error("the Accept header must allow {0}")]
    NotAcceptable(&'static str),
    #[error("the Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("the body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the body could not be read")]
    BodyRead,
    #[error("missing Mcp-Session-Id header: send `initialize` first to start a session")]
    MissingSession,
    #[error("`initialize` starts a new session: send it without Mcp-Session-Id")]
    InitializeWithSession,
    #[error("unknown or ended session: send `initialize` to start a new one")]
    UnknownSession,
    #[error("unsupported MCP-Protocol-Version {0:?}")]
    BadProtocolVersion(String),
    #[error("malformed Last-Event-ID {0:?}")]
    BadLastEventId(String),
    #[error("this session already has an open GET stream")]
    StreamConflict,
    #[error("missing sessionId query parameter")]
    MissingLegacySession,
    #[error("the server has reached its session limit")]
    TooManySessions,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the server could not generate a session id")]
    NoEntropy,
    #[error("the body is not a valid JSON-RPC message")]
    Malformed(Box<ErrorResponse>),
    /// A stateless request refused by the protocol (malformed `_meta`, a header mismatch, an
    /// unsupported version, an unknown method), with the status the revision gives it.
    #[error("{}", .1.error.message)]
    Rpc(StatusCode, Box<ErrorResponse>),
    /// A refusal of a request whose id is known: the error body carries it.
    #[error("{0}")]
    ForRequest(Box<Rejection>, RequestId),
}

impl Rejection {
    /// A short name of the refusal, for metrics.
    pub(crate) fn reason(&self) -> &'static str {
        use Rejection::*;
        match self {
            BadHost => "bad_host",
            BadOrigin => "bad_origin",
            DuplicateHeader(_) => "duplicate_header",
            RequestTimeout => "request_timeout",
            Unauthorized => "unauthorized",
            NotFound => "not_found",
            MethodNotAllowed(_) => "method_not_allowed",
            NotAcceptable(_) => "not_acceptable",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge(_) => "payload_too_large",
            BodyRead => "body_read",
            MissingSession => "missing_session",
            InitializeWithSession => "initialize_with_session",
            UnknownSession => "unknown_session",
            BadProtocolVersion(_) => "bad_protocol_version",
            BadLastEventId(_) => "bad_last_event_id",
            StreamConflict => "stream_conflict",
            MissingLegacySession => "missing_legacy_session",
            TooManySessions => "too_many_sessions",
            ShuttingDown => "shutting_down",
            NoEntropy => "no_entropy",
            Malformed(_) => "malformed",
            Rpc(..) => "protocol_error",
            ForRequest(inner, _) => inner.reason(),
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        use Rejection::*;
        match self {
            BadHost | BadOrigin => StatusCode::FORBIDDEN,
            Unauthorized => StatusCode::UNAUTHORIZED,
            NotFound | UnknownSession => StatusCode::NOT_FOUND,
            MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            BodyRead
            | DuplicateHeader(_)
            | MissingSession
            | InitializeWithSession
            | BadProtocolVersion(_)
            | BadLastEventId(_)
            | MissingLegacySession
            | Malformed(_) => StatusCode::BAD_REQUEST,
            StreamConflict => StatusCode::CONFLICT,
            TooManySessions | ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            NoEntropy => StatusCode::INTERNAL_SERVER_ERROR,
            Rpc(status, _) => *status,
            ForRequest(inner, _) => inner.status(),
        }
    }

    /// The protocol's refusal of request `id` with `error`, with the HTTP status the
    /// revision gives that error.
    pub(crate) fn rpc(id: Option<RequestId>, error: RpcError) -> Self {
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Rejection::Rpc(status, Box::new(ErrorResponse::new(id, error)))
    }

    /// The same refusal, answering request `id` (its error body carries the id).
    pub(crate) fn answering(self, id: Option<&RequestId>) -> Self {
        match (self, id) {
            (r @ (Rejection::Rpc(..) | Rejection::ForRequest(..)), _) | (r, None) => r,
            (r, Some(id)) => Rejection::ForRequest(Box::new(r), id.clone()),
        }
    }

    /// The response: the status, and a JSON-RPC error without an id as the body (as the spec
    /// allows for every refused POST).
    pub(crate) fn into_response(self) -> Response<McpBody> {
        let status = self.status();
        let (rejection, id) = match self {
            Rejection::ForRequest(inner, id) => (*inner, Some(id)),
            other => (other, None),
        };
        let extra = match &rejection {
            Rejection::Unauthorized => Some((WWW_AUTHENTICATE, "Bearer")),
            Rejection::MethodNotAllowed(allow) => Some((ALLOW, *allow)),
            // Seconds: a session may be free by then (idle ones are reclaimed continually).
            Rejection::TooManySessions => Some((RETRY_AFTER, "10")),
            // Time for a restarted or another instance to take over.
            Rejection::ShuttingDown => Some((RETRY_AFTER, "5")),
            // The rest of the body may still be on its way: the connection cannot be reused.
            Rejection::RequestTimeout => Some((CONNECTION, "close")),
            _ => None,
        };
        let error = match rejection {
            Rejection::Malformed(error) | Rejection::Rpc(_, error) => {
                let mut error = *error;
                if error.id.is_none() {
                    error.id = id;
                }
                error
            }
            other => {
                let code = match other {
                    Rejection::TooManySessions | Rejection::ShuttingDown => ErrorCode(-32000),
                    Rejection::NoEntropy => ErrorCode::INTERNAL_ERROR,
                    _ => ErrorCode::INVALID_REQUEST,
                };
                ErrorResponse::new(id, RpcError::new(code, other.to_string()))
            }
        };
        let body = Message::Error(error).to_json();
        let mut response = Response::new(McpBody::full(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some((name, value)) = extra {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_headers() {
        let r = Rejection::Unauthorized.into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
        let r = Rejection::MethodNotAllowed("GET, POST, DELETE").into_response();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[ALLOW], "GET, POST, DELETE");
        assert_eq!(Rejection::PayloadTooLarge(1).status(), 413);
        assert_eq!(Rejection::TooManySessions.status(), 503);
        let r = Rejection::TooManySessions.into_response();
        assert_eq!(r.headers()[RETRY_AFTER], "10");
        let r = Rejection::ShuttingDown.into_response();
        assert_eq!(r.headers()[RETRY_AFTER], "5");
        let r = Rejection::RequestTimeout.into_response();
        assert_eq!(
            (r.status(), &r.headers()[CONNECTION]),
            (
                StatusCode::REQUEST_TIMEOUT,
                &HeaderValue::from_static("close")
            )
        );
        assert_eq!(Rejection::DuplicateHeader("Host").status(), 400);
    }
}
