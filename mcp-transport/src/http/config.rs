//! [`HttpConfig`]: every knob of the HTTP server, with its default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::error::ConfigError;
use super::event_store::{EventStore, MemoryEventStore};

/// How the server answers a POST that carries a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// An SSE stream carrying every message tagged with the request (progress, logs,
    /// requests to the client), then the response. The default, and the only mode that
    /// streams.
    #[default]
    Sse,
    /// A single `application/json` body holding the response. Messages raised while the
    /// request runs (progress, logs) are dropped, and a tool that sends a request to the client
    /// gets no answer: use this only for clients that cannot read SSE.
    Json,
}

/// Which `Host` (and `Origin`) values the server accepts: its defence against DNS rebinding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HostPolicy {
    /// The default. [`serve`](super::serve) picks [`HostPolicy::Localhost`] when the listener is
    /// bound to a loopback address and [`HostPolicy::Any`] otherwise (with a warning in the log);
    /// an [`McpService`](super::McpService) built by hand treats it as
    /// [`HostPolicy::Localhost`].
    #[default]
    Auto,
    /// `localhost`, `127.0.0.1` and `[::1]`, with any port.
    Localhost,
    /// The listed names. An entry `name` allows any port, `name:port` only that port; IPv6
    /// addresses are written in brackets (`[::1]`). Names compare case-insensitively.
    AllowList(Vec<String>),
    /// No check at all. Only for servers behind a proxy that checks these headers itself.
    Any,
}

/// The legacy HTTP+SSE transport's two paths (protocol revision 2024-11-05).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyPaths {
    /// Where a client opens its SSE stream with GET (default `/sse`).
    pub sse: String,
    /// Where the client POSTs its messages (default `/messages`); the `endpoint` event tells
    /// the client this path followed by `?sessionId=<id>`.
    pub messages: String,
}

impl Default for LegacyPaths {
    fn default() -> Self {
        LegacyPaths {
            sse: "/sse".into(),
            messages: "/messages".into(),
        }
    }
}

/// The configuration of the HTTP server: build it with the chained methods, starting from
/// [`HttpConfig::default()`]. Each method documents its default.
///
/// ```
/// use std::time::Duration;
/// use mcp_transport::http::HttpConfig;
///
/// let config = HttpConfig::default()
///     .endpoint("/mcp")
///     .keep_alive(Some(Duration::from_secs(10)))
///     .bearer_token("s3cret");
/// # let _ = config;
/// ```
#[derive(Clone)]
#[must_use]
pub struct HttpConfig {
    pub(crate) endpoint: String,
    pub(crate) legacy: Option<LegacyPaths>,
    pub(crate) response_mode: ResponseMode,
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) retry: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_sessions: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) bearer_token: Option<Arc<[u8]>>,
    pub(crate) hosts: HostPolicy,
    pub(crate) event_store: Arc<dyn EventStore>,
    pub(crate) stream_buffer: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "/mcp".into(),
            legacy: Some(LegacyPaths::default()),
            response_mode: ResponseMode::Sse,
            keep_alive: Some(Duration::from_secs(15)),
            retry: Duration::from_millis(1000),
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 1024,
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            bearer_token: None,
            hosts: HostPolicy::Auto,
            event_store: Arc::new(MemoryEventStore::default()),
            stream_buffer: 16,
            shutdown_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("endpoint", &self.endpoint)
            .field("legacy", &self.legacy)
            .field("response_mode", &self.response_mode)
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("idle_timeout", &self.idle_timeout)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("hosts", &self.hosts)
            .field("stream_buffer", &self.stream_buffer)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpConfig {
    /// The path of the streamable HTTP endpoint (default `/mcp`).
    pub fn endpoint(mut self, path: impl Into<String>) -> Self {
        self.endpoint = path.into();
        self
    }

    /// The paths of the legacy HTTP+SSE transport, or `None` to turn it off (default: on, at
    /// `/sse` and `/messages`).
    pub fn legacy_sse(mut self, paths: Option<LegacyPaths>) -> Self {
        self.legacy = paths;
        self
    }

    /// How a POST carrying a request is answered (default [`ResponseMode::Sse`]).
    pub fn response_mode(mut self, mode: ResponseMode) -> Self {
        self.response_mode = mode;
        self
    }

    /// How long an SSE stream may stay silent before the server sends a comment line to keep
    /// proxies from closing it, or `None` for never (default 15 s).
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// The `retry:` value sent in each stream's priming event: how long a client waits before
    /// reconnecting (default 1 s).
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = delay;
        self
    }

    /// The largest request body accepted, in bytes (default 4 MiB). Larger bodies get 413,
    /// decided while reading: the server never holds more than this.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How many sessions (streamable and legacy together) may exist at once (default 1024).
    /// An `initialize` beyond that gets 503.
    pub fn max_sessions(mut self, limit: usize) -> Self {
        self.max_sessions = limit;
        self
    }

    /// How long a streamable HTTP session may go without a request, a running call or an open
    /// stream before it is ended, or `None` to keep sessions until DELETE (default 30 min).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout.filter(|d| !d.is_zero());
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (default: no authentication).
    /// Requests without it get 401 with `WWW-Authenticate: Bearer`; the comparison takes
    /// constant time.
    pub fn bearer_token(mut self, token: impl AsRef<[u8]>) -> Self {
        self.bearer_token = Some(Arc::from(token.as_ref()));
        self
    }

    /// Which `Host` and `Origin` values are accepted (default [`HostPolicy::Auto`]: localhost
    /// names only on a loopback listener).
    pub fn hosts(mut self, policy: HostPolicy) -> Self {
        self.hosts = policy;
        self
    }

    /// Where stream events are kept for resumption with `Last-Event-ID` (default a
    /// [`MemoryEventStore`] with its default bounds).
    pub fn event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.event_store = store;
        self
    }

    /// How many events may wait between a stream and the connection writing it (default 16).
    /// A slower client makes the tool wait once this and the server's outbox are full.
    pub fn stream_buffer(mut self, events: usize) -> Self {
        self.stream_buffer = events;
        self
    }

    /// How long a graceful shutdown lets running streams finish before closing them
    /// (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a connection may take to send a request's headers (default 30 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Checks that the paths are usable and the limits are not zero.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let mut paths = vec![("endpoint", self.endpoint.as_str())];
        if let Some(legacy) = &self.legacy {
            paths.push(("legacy SSE path", legacy.sse.as_str()));
            paths.push(("legacy messages path", legacy.messages.as_str()));
        }
        for (what, path) in &paths {
            if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
                return Err(ConfigError::BadPath {
                    what,
                    path: (*path).to_owned(),
                });
            }
        }
        for (i, (_, a)) in paths.iter().enumerate() {
            if paths[i + 1..].iter().any(|(_, b)| a == b) {
                return Err(ConfigError::PathClash((*a).to_owned()));
            }
        }
        for (what, value) in [
            ("max_body_bytes", self.max_body_bytes),
            ("max_sessions", self.max_sessions),
            ("stream_buffer", self.stream_buffer),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(what));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_rejected() {
        assert!(HttpConfig::default().validate().is_ok());
        let e = HttpConfig::default()
            .endpoint("mcp")
            .validate()
            .unwrap_err();
        assert!(matches!(e, ConfigError::BadPath { .. }));
        let e = HttpConfig::default()
            .endpoint("/sse")
            .validate()
            .unwrap_err();
        assert_eq!(e, ConfigError::PathClash("/sse".into()));
        let e = HttpConfig::default()
            .max_sessions(0)
            .validate()
            .unwrap_err();
        assert_eq!(e, ConfigError::Zero("max_sessions"));
        assert!(
            HttpConfig::default()
                .endpoint("/sse")
                .legacy_sse(None)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let text = format!("{:?}", HttpConfig::default().bearer_token("hunter2"));
        assert!(!text.contains("hunter2"));
        assert!(text.contains("<redacted>"));
    }
}
