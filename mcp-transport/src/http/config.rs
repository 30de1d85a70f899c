//! [`HttpConfig`]: every knob of the HTTP server, with its default.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::error::ConfigError;
use super::event_store::{EventStore, MemoryEventStore};
use super::shared::SharedStore;

/// How the server answers a POST that carries a request.
///
/// The streamable HTTP transport lets a server answer a request either with one
/// `application/json` object or with a `text/event-stream`, and requires clients to read
/// both: the mode only changes what goes on the wire, never what a conforming client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// The default: whatever each request needs. A request whose response is ready before
    /// anything else was sent for it, and before its handler first waited (no progress, no
    /// log message, no request to the client ahead of it), is answered with its response alone
    /// as one `application/json` body, like a plain HTTP API; nothing is stored for it, since
    /// there is nothing to resume. Any other request streams exactly as in
    /// [`ResponseMode::Sse`]: each progress or log message leaves the moment it is sent, and
    /// the stream can be resumed. `initialize` is answered as `application/json`; a JSON-RPC
    /// batch streams.
    #[default]
    Auto,
    /// An SSE stream for every request, carrying every message tagged with the request
    /// (progress, logs, requests to the client), then the response, each event stored for a
    /// client that resumes the stream; `initialize` is answered as one event too. For
    /// clients (or proxies) that expect a stream for every request.
    Sse,
    /// A single `application/json` body holding the response, on a session. Messages raised
    /// while the request runs (progress, logs) are dropped, and a tool that sends a request to
    /// the client gets no answer: use this only for clients that cannot read SSE. (A stateless
    /// 2026-07-28 request is answered as in [`ResponseMode::Auto`].)
    Json,
}

/// Which `Host` (and `Origin`) values the server accepts: its defence against DNS rebinding.
///
/// Whatever the policy, a request with two `Host` or two `Origin` headers is refused (400),
/// and a request target in absolute form (`POST http://name/mcp`) has its authority checked
/// like `Host`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HostPolicy {
    /// The default. [`serve`](super::serve) picks [`HostPolicy::Localhost`] when the listener is
    /// bound to a loopback address. Bound beyond loopback, where the server cannot know the
    /// names it is reached by, any `Host` is accepted but every request that carries an
    /// `Origin` (a browser's) is refused: list the names with [`HostPolicy::AllowList`] to let
    /// browsers in. An [`McpService`](super::McpService) built by hand treats it as
    /// [`HostPolicy::Localhost`].
    #[default]
    Auto,
    /// `localhost`, `127.0.0.1` and `[::1]`, with any port.
    Localhost,
    /// The listed names, for `Host` and for the host of `Origin`. An entry `name` allows any
    /// port, `name:port` only that port; IPv6 addresses are written in brackets (`[::1]`).
    /// Names compare case-insensitively.
    AllowList(Vec<String>),
    /// No check at all. Only for servers behind a proxy that checks these headers itself.
    Any,
}

impl HostPolicy {
    /// The policy a list of names from a flag or the environment describes: none (after
    /// trimming, blanks dropped) is [`HostPolicy::Auto`], `*` alone is [`HostPolicy::Any`],
    /// anything else an [`HostPolicy::AllowList`] (`mcp.example.com`, `localhost:8000`).
    pub fn from_names<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<HostPolicy, ConfigError> {
        let names: Vec<String> = names
            .into_iter()
            .map(|n| n.as_ref().trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if names.iter().any(|n| n == "*") {
            return match names.len() {
                1 => Ok(HostPolicy::Any),
                _ => Err(ConfigError::BadHost(
                    "`*` accepts every host, so list nothing beside it".into(),
                )),
            };
        }
        if let Some(bad) = names.iter().find(|n| n.contains(['/', ' ', '@'])) {
            return Err(ConfigError::BadHost(format!(
                "`{bad}` is not a host name (write `example.com` or `example.com:8443`)"
            )));
        }
        Ok(if names.is_empty() {
            HostPolicy::Auto
        } else {
            HostPolicy::AllowList(names)
        })
    }
}

/// A network whose peers are trusted to tell the client's address (`X-Forwarded-For`,
/// `Forwarded`): an address, or an address with a prefix length (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    addr: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `peer` lies in this network.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        match (self.addr, peer) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) compares as the IPv4 address.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadProxy(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(TrustedProxy { addr, prefix })
    }
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

/// How long a replica's lease lasts by default (see [`HttpConfig::replica_lease`]).
pub const DEFAULT_REPLICA_LEASE: Duration = Duration::from_secs(10);

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
    pub(crate) handshake_timeout: Duration,
    pub(crate) resume_window: Duration,
    pub(crate) bearer: Vec<BearerIdentity>,
    pub(crate) hosts: HostPolicy,
    pub(crate) trusted_proxies: Vec<TrustedProxy>,
    pub(crate) event_store: Arc<dyn EventStore>,
    pub(crate) shared_store: Option<Arc<dyn SharedStore>>,
    pub(crate) replica_lease: Duration,
    pub(crate) stream_buffer: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) request_body_timeout: Duration,
    pub(crate) send_timeout: Duration,
    pub(crate) idle_poll: Duration,
    pub(crate) metrics: Option<crate::metrics::Metrics>,
}

/// One accepted bearer token and the identity it stands for.
#[derive(Clone)]
pub(crate) struct BearerIdentity {
    pub(crate) name: Arc<str>,
    pub(crate) token: Arc<[u8]>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "/mcp".into(),
            legacy: Some(LegacyPaths::default()),
            response_mode: ResponseMode::Auto,
            keep_alive: Some(Duration::from_secs(15)),
            retry: Duration::from_millis(1000),
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 1024,
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            handshake_timeout: Duration::from_secs(30),
            resume_window: Duration::from_secs(60),
            bearer: Vec::new(),
            hosts: HostPolicy::Auto,
            trusted_proxies: Vec::new(),
            event_store: Arc::new(MemoryEventStore::default()),
            shared_store: None,
            replica_lease: DEFAULT_REPLICA_LEASE,
            stream_buffer: 16,
            shutdown_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            request_body_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
            idle_poll: crate::idle_poll::DEFAULT_HTTP_IDLE_POLL,
            metrics: None,
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
            .field("handshake_timeout", &self.handshake_timeout)
            .field("resume_window", &self.resume_window)
            .field(
                "bearer_identities",
                &self
                    .bearer
                    .iter()
                    .map(|b| format!("{} (token <redacted>)", b.name))
                    .collect::<Vec<_>>(),
            )
            .field("hosts", &self.hosts)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("stream_buffer", &self.stream_buffer)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("request_body_timeout", &self.request_body_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("idle_poll", &self.idle_poll)
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpConfig {
    /// Serves `metrics` at `GET /metrics` in the Prometheus text format (default: off), and
    /// counts refused requests and bytes sent into them. Behind the same host check and
    /// bearer authentication as the MCP endpoint. Add [`Metrics::layer`] to the server to
    /// count its calls (the serving call's `--metrics` does both).
    ///
    /// [`Metrics::layer`]: crate::metrics::Metrics::layer
    pub fn metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self.watch_write_queue();
        self
    }

    /// Reports the shared store's write queue in the metrics, once both are set.
    fn watch_write_queue(&self) {
        let (Some(metrics), Some(store)) = (&self.metrics, &self.shared_store) else {
            return;
        };
        let store = Arc::downgrade(store);
        metrics.watch_write_queue(move || store.upgrade()?.write_queue());
    }

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

    /// How a POST carrying a request is answered (default [`ResponseMode::Auto`]: one JSON body
    /// for a request answered at once, a stream for any other).
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
    ///
    /// At the limit, a new session first takes the place of an idle one (no call running, no
    /// stream open): the least recently used session of the client holding the most sessions
    /// is ended. Only when no session is idle is the `initialize` refused, with 503 and
    /// `Retry-After`. A client is its address (see [`trusted_proxies`](Self::trusted_proxies))
    /// or, with bearer authentication, its identity.
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

    /// How long a new session waits, after `initialize`, for the client to come back (with
    /// `notifications/initialized` or any other request) before it is ended (default 30 s).
    /// Sessions opened and forgotten are reclaimed this soon, not after the idle timeout.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// How long a request's stream whose connection dropped waits for the client to resume
    /// it (`GET` with `Last-Event-ID`) before the call is cancelled, its tool's future
    /// dropped, and a JSON-RPC error stored as the stream's end (default 60 s). Calls that
    /// outlive their stream by design (tasks) are exempt. In [`ResponseMode::Json`] nothing
    /// can be resumed: a call whose connection drops is cancelled at once.
    pub fn resume_window(mut self, window: Duration) -> Self {
        self.resume_window = window;
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (default: no authentication).
    /// Requests without it get 401 with `WWW-Authenticate: Bearer`; the comparison takes
    /// constant time. The same as `bearer_identity("bearer", token)`.
    pub fn bearer_token(self, token: impl AsRef<[u8]>) -> Self {
        self.bearer_identity("bearer", token)
    }

    /// Accepts `Authorization: Bearer <token>` as the identity `name` (call it once per
    /// identity; any of the tokens is accepted). Session admission counts sessions per
    /// identity, so that one token holder cannot crowd out the others.
    pub fn bearer_identity(mut self, name: impl Into<Arc<str>>, token: impl AsRef<[u8]>) -> Self {
        self.bearer.push(BearerIdentity {
            name: name.into(),
            token: Arc::from(token.as_ref()),
        });
        self
    }

    /// Which `Host` and `Origin` values are accepted (default [`HostPolicy::Auto`]: localhost
    /// names only on a loopback listener; beyond loopback any `Host`, but no browser `Origin`).
    pub fn hosts(mut self, policy: HostPolicy) -> Self {
        self.hosts = policy;
        self
    }

    /// Peers trusted to report the client's address in `X-Forwarded-For` or `Forwarded`
    /// (default: none, so the TCP peer is the client). Set it to your reverse proxies'
    /// addresses; from anyone else these headers are ignored, since any client can write them.
    /// The address is the first one, counting from the right, that is not itself a trusted
    /// proxy.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Where stream events are kept for resumption with `Last-Event-ID` (default a
    /// [`MemoryEventStore`] with its default bounds).
    pub fn event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.event_store = store;
        self
    }

    /// Serve as one replica of several sharing `store` (see the guide's "Running several
    /// replicas"): sessions, stream events (replacing the [`event_store`](Self::event_store)),
    /// live fan-out and the messages of a session that reach another replica go through it.
    /// Default: none, everything stays in this process's memory.
    pub fn shared_store<S: SharedStore>(mut self, store: Arc<S>) -> Self {
        self.event_store = store.clone();
        self.shared_store = Some(store);
        self.watch_write_queue();
        self
    }

    /// How long a replica stays alive in the shared store without renewing its lease
    /// (renewed every third of it; default [`DEFAULT_REPLICA_LEASE`]). Once it lapsed, other
    /// replicas end the replica's unfinished streams with a JSON-RPC error and answer 404
    /// for its sessions.
    pub fn replica_lease(mut self, lease: Duration) -> Self {
        self.replica_lease = lease.max(Duration::from_millis(300));
        self
    }

    /// How many events may wait between a stream and the connection writing it (default 16).
    /// A slower client makes the tool wait once this and the server's outbox are full.
    pub fn stream_buffer(mut self, events: usize) -> Self {
        self.stream_buffer = events;
        self
    }

    /// How long a graceful shutdown lets running calls finish (default 10 s). Calls still
    /// running then are ended with a JSON-RPC error on their streams before the connections
    /// close: no stream is cut without an answer.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a connection may take to send a request's headers, counted from the moment it
    /// is ready for a request (default 30 s): also how long a kept-alive connection may sit
    /// idle between requests. The connection is then closed (without a response).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a request's body may take to arrive once its headers are in (default 60 s).
    /// A body still incomplete then gets 408 and its connection is closed: a client that
    /// declares a length and sends less cannot hold a connection.
    pub fn request_body_timeout(mut self, timeout: Duration) -> Self {
        self.request_body_timeout = timeout;
        self
    }

    /// How long a response may wait for its client to read before the connection is closed
    /// (default 60 s, at least the keep-alive interval): a client that stops reading a stream
    /// cannot hold its connection forever. (Its call is then treated as any call whose
    /// connection dropped: see [`resume_window`](Self::resume_window).)
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// After a response, how long at most a kept-alive connection keeps reading its socket
    /// for the next request (without waiting) before its task sleeps (default 160 µs, twice
    /// stdio's; zero: never).
    ///
    /// A client calling tools one after another sends its next request a few microseconds
    /// after it read the last response. On a virtual machine whose idle CPUs halt at once, a
    /// request that must wake the server's sleeping thread waits for the hypervisor (tens of
    /// microseconds, more than the call). So when the socket holds nothing after a response,
    /// the connection's task reads it again and again (in slices of at most 20 µs, yielding
    /// to the runtime between them) for a window that adapts, per connection, to the gaps it
    /// sees: it grows while requests follow responses closely and stays at zero while they
    /// do not, or while waking the thread is cheap anyway (the CPUs kept awake by other work).
    /// A connection polls only while no other connection of the server has begun a request
    /// over its last round (from its request before last to now): with several busy clients
    /// the gaps are long because the clients are busy with their other connections, not
    /// because a wake-up is dear, and a spin would take the CPU they need. An event stream
    /// that another connection keeps open (a `GET` stream) does not count, only requests
    /// begun. Only the read that waits for the next request polls: never within a request,
    /// nor while a response or an event stream is being sent. It costs up to `max` of CPU
    /// time per gap, and a client that goes idle at most `max` and its halves (`7/4 max`)
    /// in all (see `BENCHMARKS.md`, "HTTP idle poll"). The same poll as
    /// [`StdioServer::idle_poll`](crate::stdio::StdioServer::idle_poll), per connection.
    pub fn idle_poll(mut self, max: Duration) -> Self {
        self.idle_poll = max;
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
            ("request_body_timeout", self.request_body_timeout),
            ("header_read_timeout", self.header_read_timeout),
            ("send_timeout", self.send_timeout),
            ("handshake_timeout", self.handshake_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(what));
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

    #[test]
    fn host_lists_and_proxies_parse() {
        let none: [&str; 0] = [];
        assert_eq!(HostPolicy::from_names(none), Ok(HostPolicy::Auto));
        assert_eq!(HostPolicy::from_names([" * "]), Ok(HostPolicy::Any));
        assert!(HostPolicy::from_names(["*", "a"]).is_err());
        assert!(HostPolicy::from_names(["a b"]).is_err());
        assert_eq!(
            HostPolicy::from_names(["a.example", " localhost:8000", ""]),
            Ok(HostPolicy::AllowList(vec![
                "a.example".into(),
                "localhost:8000".into()
            ]))
        );
        let net: TrustedProxy = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let one: TrustedProxy = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("127.0.0.1".parse().unwrap()));
        let all: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "x", "10.0.0.1/", "::1/129"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
        assert_eq!(
            HttpConfig::default()
                .request_body_timeout(Duration::ZERO)
                .validate(),
            Err(ConfigError::ZeroDuration("request_body_timeout"))
        );
    }
}
