//! MCP over HTTP, server side: streamable HTTP (protocol 2025-03-26 to 2025-11-25 in
//! sessions, 2026-07-28 statelessly) and the legacy HTTP+SSE transport (2024-11-05), on tokio
//! and hyper 1.
//!
//! [`serve`] binds a listener and runs everything; [`McpService`] is the same server as a
//! plain hyper service, to mount inside an existing hyper or axum application.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_core::Server;
//! use mcp_transport::http::{serve, HttpConfig};
//!
//! let server = Server::builder("demo", "1.0").build()?;
//! let running = serve("127.0.0.1:8080", &server, HttpConfig::default()).await?;
//! running.wait().await;
//! # Ok(()) }
//! ```
//!
//! # Streamable HTTP (default endpoint `/mcp`)
//!
//! - `POST` carries one client message. `initialize` (sent without `Mcp-Session-Id`) starts a
//!   session and its response carries the new `Mcp-Session-Id`. A request answered at once
//!   (its response is ready before anything else was sent for it, before its handler first
//!   waited) gets its response alone as `application/json`. Any other request is answered
//!   with an SSE stream carrying, in order, every message the session raises while handling it
//!   (progress, logs, requests to the client), each the moment it is sent, and then its
//!   response, after which the stream ends. [`ResponseMode`] changes that: `Sse` streams every
//!   answer, `Json` never streams (the response alone comes back as `application/json`).
//!   Notifications and responses get `202 Accepted`.
//! - `GET` opens the session's stream for messages that belong to no request; with
//!   `Last-Event-ID` it resumes a broken stream instead.
//! - `DELETE` ends the session.
//!
//! Every event is its own body frame, written the moment it exists, with
//! `Cache-Control: no-cache` and `X-Accel-Buffering: no` so that proxies pass it on; idle
//! streams get keep-alive comments.
//!
//! Event ids are `<stream>:<seq>`. A stream of a session negotiated at 2025-11-25 or later
//! starts with a priming event (an id, empty data and a `retry:` field). Events are kept in an
//! [`EventStore`] (by default a bounded [`MemoryEventStore`]), and a client that lost a stream
//! gets what it missed with `GET` and `Last-Event-ID`. Losing the connection does not cancel
//! the request: the call runs on, and its events are stored; only
//! `notifications/cancelled`, DELETE, the session's expiry, or nobody resuming the stream
//! within [`HttpConfig::resume_window`] cancel it.
//!
//! # Bounds
//!
//! Every resource a client can take is bounded, and what it abandons is reclaimed: a request's
//! headers and body must arrive in time ([`HttpConfig::header_read_timeout`],
//! [`HttpConfig::request_body_timeout`]), a response must be read
//! ([`HttpConfig::send_timeout`]), sessions are limited ([`HttpConfig::max_sessions`], with
//! unused sessions of the client holding the most making room for a newcomer), expire when
//! unused after `initialize` ([`HttpConfig::handshake_timeout`]) or idle
//! ([`HttpConfig::idle_timeout`]), and calls are limited per session
//! ([`Server::max_calls_in_flight`](mcp_core::Server::max_calls_in_flight)). A shutdown answers
//! every call still running after its grace with a JSON-RPC error.
//!
//! # Stateless requests (2026-07-28)
//!
//! A POST without `Mcp-Session-Id` whose request is stateless (its `_meta` names 2026-07-28,
//! its method is `server/discover` or `subscriptions/listen`, or its `MCP-Protocol-Version`
//! is not a stateful revision) runs on a session of its own. The headers that mirror the body
//! are checked first (`-32020`, 400), the version next (`-32022`, 400). The first message the
//! request produces shapes the response: the answer alone as `application/json` (an error
//! with 404 for `-32601`, 400 for a malformed request), or an SSE stream carrying that
//! message and the rest, ending with the answer. Closing the stream cancels the request.
//!
//! # Refusals
//!
//! | status | when |
//! | --- | --- |
//! | 400 | no `Mcp-Session-Id` on a request other than `initialize`; unsupported `MCP-Protocol-Version`; malformed JSON (body: a JSON-RPC `-32700` error) or message (`-32600`); a JSON-RPC batch on a session that did not negotiate 2025-03-26; malformed `Last-Event-ID`; two `Host` or two `Origin` headers |
//! | 401 | a bearer token is configured and the request lacks it (`WWW-Authenticate: Bearer`) |
//! | 403 | `Host`, the authority of an absolute-form target, or `Origin` not allowed ([`HostPolicy`]) |
//! | 404 | unknown or ended session; unknown path |
//! | 405 | a method the path does not serve (`Allow` lists those it does) |
//! | 406 | a POST whose `Accept` does not allow both `application/json` and `text/event-stream`, or a GET that does not allow `text/event-stream` |
//! | 409 | a second GET stream for a session |
//! | 413 | a body over [`HttpConfig::max_body_bytes`], refused while reading |
//! | 408 | a request body still incomplete at [`HttpConfig::request_body_timeout`] (`Connection: close`) |
//! | 415 | a POST whose `Content-Type` is not `application/json` |
//! | 503 | the session limit is reached with every session in use, or the server is shutting down (`Retry-After`) |
//!
//! # Legacy HTTP+SSE (default `/sse` and `/messages`)
//!
//! `GET /sse` starts a session whose stream's first event is `endpoint`, with data
//! `/messages?sessionId=<id>`. Each `POST /messages?sessionId=<id>` gets `202`, and what it
//! causes travels on the stream as `message` events. The session ends with its stream.

mod batch;
mod body;
mod config;
mod error;
mod event_store;
mod guard;
mod legacy;
mod live;
mod mirror;
mod peer;
mod post_sink;
mod reject;
mod relay;
mod respond;
mod scan;
mod serve;
mod service;
mod session;
mod shared;
#[cfg(test)]
mod sizes;
mod sse;
mod stateless;
mod stream;
mod streamable;
mod watched;

pub use body::McpBody;
pub use config::{
    DEFAULT_REPLICA_LEASE, HostPolicy, HttpConfig, LegacyPaths, ResponseMode, TrustedProxy,
};
pub use error::{ConfigError, NotifyError, ServeError};
pub use event_store::{
    BadEventId, DEFAULT_FINISHED_GRACE, DEFAULT_MAX_FINISHED, EventId, EventStore,
    MemoryEventStore, StoreFuture, StoredEvent, StreamKey,
};
pub use peer::ClientAddr;
pub use serve::{Bind, RunningServer, Shutdown, serve};
pub use service::McpService;
pub use session::Stats;
#[cfg(feature = "redis-store")]
pub use shared::{
    DEFAULT_REDIS_WRITE_TIMEOUT, DEFAULT_WRITE_QUEUE_BYTES, DEFAULT_WRITE_QUEUE_EVENTS, RedisStore,
    RedisTaskStore, RedisWriteError, WriteQueueLimits,
};
pub use shared::{
    SharedStore, StoreError, StoreResult, StreamNews, Subscription, WriteQueueStats,
    replica_channel, stream_channel,
};

#[cfg(test)]
pub(crate) mod test_headers {
    //! Header maps for unit tests.

    use http::{HeaderMap, HeaderValue};

    /// A header map holding `pairs`, repeated names appended.
    pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }
}
