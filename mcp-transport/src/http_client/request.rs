//! What both HTTP client transports share: the connection pool, headers, SSE reading with
//! resumption, and turning HTTP failures into JSON-RPC errors.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_core::RpcError;
use mcp_core::jsonrpc::{ErrorResponse, Message, RequestId};
use tokio::sync::mpsc;

use super::sse::SseParser;
use super::{HttpClientOptions, TRANSPORT_ERROR};
use crate::sync::lock;

/// The header carrying the streamable-HTTP session id.
pub(super) const SESSION_HEADER: &str = "mcp-session-id";
/// The header carrying the negotiated protocol revision.
pub(super) const VERSION_HEADER: &str = "mcp-protocol-version";
/// The largest JSON (non-SSE) response body read.
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

/// State shared by the tasks of one HTTP client transport.
pub(super) struct Shared {
    pub(super) pool: Pool<HttpConnector, Full<Bytes>>,
    pub(super) url: Uri,
    pub(super) options: HttpClientOptions,
    pub(super) incoming: mpsc::Sender<Message>,
    pub(super) session_id: Mutex<Option<HeaderValue>>,
    pub(super) protocol_version: Mutex<Option<HeaderValue>>,
    /// The `x-mcp-header` parameters of the tools listed so far (stateless requests).
    pub(super) mirrors: super::stateless::Mirrors,
}

/// How a read of an SSE stream ended.
pub(super) struct StreamEnd {
    /// The id of the last event received, for `Last-Event-ID`.
    pub(super) last_event_id: Option<String>,
    /// The server's `retry:` advice.
    pub(super) retry: Option<Duration>,
    /// Whether the awaited response arrived.
    pub(super) answered: bool,
}

impl Shared {
    pub(super) fn new(
        url: Uri,
        options: HttpClientOptions,
        incoming: mpsc::Sender<Message>,
    ) -> Self {
        let mut connector = HttpConnector::new();
        // Small SSE frames and JSON bodies: never let Nagle's algorithm hold them back.
        connector.set_nodelay(true);
        Shared {
            pool: Pool::builder(TokioExecutor::new()).build(connector),
            url,
            options,
            incoming,
            session_id: Mutex::new(None),
            protocol_version: Mutex::new(None),
            mirrors: Default::default(),
        }
    }

    /// A request to `uri` with the session, version and auth headers set.
    pub(super) fn request(&self, method: Method, uri: &Uri, body: Bytes) -> Request<Full<Bytes>> {
        let mut builder = Request::builder().method(method.clone()).uri(uri.clone());
        if method == Method::POST {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json, text/event-stream");
        } else {
            builder = builder.header(ACCEPT, "text/event-stream");
        }
        if let Some(sid) = lock(&self.session_id).clone() {
            builder = builder.header(SESSION_HEADER, sid);
        }
        if let Some(v) = lock(&self.protocol_version).clone() {
            builder = builder.header(VERSION_HEADER, v);
        }
        if let Some(token) = &self.options.bearer_token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        // Every part above is a valid header: building cannot fail.
        builder
            .body(Full::new(body))
            .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
    }

    /// Sends a request; the error text names what failed.
    pub(super) async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, String> {
        self.pool
            .request(request)
            .await
            .map_err(|e| format!("HTTP request to {} failed: {e}", self.url))
    }

    /// Delivers a message to the client; `false` when the client is gone.
    pub(super) async fn deliver(&self, message: Message) -> bool {
        if let Message::Response(r) = &message {
            // Remember the negotiated revision from the initialize result.
            if let Some(v) = r.result.get("protocolVersion").and_then(|v| v.as_str())
                && r.result.contains_key("serverInfo")
                && let Ok(v) = HeaderValue::from_str(v)
            {
                *lock(&self.protocol_version) = Some(v);
            }
        }
        self.incoming.send(message).await.is_ok()
    }

    /// Answers request `id` with a transport error, so its caller stops waiting.
    pub(super) async fn fail(&self, id: Option<&RequestId>, why: String) {
        tracing::warn!(%why, "HTTP transport error");
        if let Some(id) = id {
            let error = RpcError::new(TRANSPORT_ERROR, why);
            let _ = self
                .incoming
                .send(ErrorResponse::new(Some(id.clone()), error).into())
                .await;
        }
    }

    /// Reads a JSON response body holding one message (or an array of them).
    pub(super) async fn read_json(&self, response: Response<Incoming>) -> Result<(), String> {
        let body = Limited::new(response.into_body(), MAX_JSON_BODY)
            .collect()
            .await
            .map_err(|e| format!("reading the JSON response failed: {e}"))?
            .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the server sent invalid JSON: {e}"))?;
        let values = match value {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for v in values {
            match Message::from_value(v) {
                Ok(m) => {
                    self.deliver(m).await;
                }
                Err(e) => tracing::warn!(error = ?e.error, "ignoring an invalid message"),
            }
        }
        Ok(())
    }

    /// Reads an SSE body, delivering each message event at once, until it ends or the
    /// response to `awaiting` arrives. `event_name` filters by event type (legacy: `message`).
    pub(super) async fn read_sse(
        &self,
        response: Response<Incoming>,
        awaiting: Option<&RequestId>,
        last_event_id: Option<String>,
    ) -> StreamEnd {
        let mut body = response.into_body();
        let mut parser = SseParser::new();
        let mut end = StreamEnd {
            last_event_id,
            retry: None,
            answered: false,
        };
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            let Some(chunk) = frame.data_ref() else {
                continue;
            };
            for event in parser.push(chunk) {
                if event.id.is_some() {
                    end.last_event_id = event.id.clone();
                }
                if let Some(ms) = event.retry {
                    end.retry = Some(Duration::from_millis(ms));
                }
                if event.data.is_empty() || event.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                let message = match Message::parse(event.data.as_bytes()) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = ?e.error, "ignoring an invalid SSE message");
                        continue;
                    }
                };
                let is_answer = awaiting.is_some()
                    && matches!(message, Message::Response(_) | Message::Error(_))
                    && message.id() == awaiting;
                if !self.deliver(message).await {
                    return end;
                }
                if is_answer {
                    end.answered = true;
                    return end;
                }
            }
        }
        end
    }

    /// Reads a stream and, while it drops before the awaited response, resumes it with
    /// `Last-Event-ID`. Returns whether the awaited response arrived.
    pub(super) async fn read_resuming(
        &self,
        response: Response<Incoming>,
        awaiting: Option<&RequestId>,
    ) -> bool {
        let mut end = self.read_sse(response, awaiting, None).await;
        let mut attempts = 0;
        while !end.answered && !self.incoming.is_closed() {
            let Some(last) = end.last_event_id.clone() else {
                return false; // nothing to resume from
            };
            if attempts >= self.options.max_reconnects {
                return false;
            }
            attempts += 1;
            tokio::time::sleep(end.retry.unwrap_or(self.options.reconnect_delay)).await;
            let mut request = self.request(Method::GET, &self.url, Bytes::new());
            if let Ok(v) = HeaderValue::from_str(&last) {
                request.headers_mut().insert("last-event-id", v);
            }
            match self.send(request).await {
                Ok(r) if r.status() == StatusCode::OK => {
                    attempts = 0;
                    let retry = end.retry;
                    end = self.read_sse(r, awaiting, Some(last)).await;
                    end.retry = end.retry.or(retry);
                }
                Ok(r) if r.status().is_client_error() => return false,
                _ => {}
            }
        }
        end.answered
    }
}

/// The error text of a failed HTTP exchange: status and the start of the body.
pub(super) async fn status_error(response: Response<Incoming>) -> String {
    let status = response.status();
    let body = Limited::new(response.into_body(), 4096)
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    format!("HTTP {status}: {}", body.trim())
}

/// Whether a response is an SSE stream.
pub(super) fn is_event_stream(response: &Response<Incoming>) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}
