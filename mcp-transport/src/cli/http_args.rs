//! The HTTP flags: where to listen, who may connect, and the limits and timeouts of
//! [`HttpConfig`].

use std::time::Duration;

use super::{ServeError, duration};
use crate::http::{HostPolicy, HttpConfig, ResponseMode, TrustedProxy};

/// The flags of the HTTP transports (`--transport http` or `sse`). Each maps to a setting of
/// [`HttpConfig`], whose defaults they share.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
#[command(next_help_heading = "HTTP (with --transport http or sse)")]
pub struct HttpArgs {
    /// The address to listen on, `host:port` (port 0 picks a free port, which the log names).
    #[arg(
        long,
        env = "MCP_BIND",
        default_value = "127.0.0.1:8000",
        value_name = "ADDR"
    )]
    pub bind: String,

    /// The host names accepted in `Host` and `Origin` headers (the defence against DNS
    /// rebinding), comma-separated; `name:port` allows one port only, `*` accepts any.
    /// Default: `localhost`, `127.0.0.1` and `[::1]` on a loopback address, any otherwise.
    #[arg(
        long,
        env = "MCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOSTS"
    )]
    pub allowed_hosts: Vec<String>,

    /// Require `Authorization: Bearer TOKEN` on every request. Prefer the environment
    /// variable: other users of the machine can read a command line.
    #[arg(
        long,
        env = "MCP_BEARER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub bearer_token: Option<String>,

    /// The path of the streamable HTTP endpoint.
    #[arg(
        long,
        env = "MCP_ENDPOINT",
        default_value = "/mcp",
        value_name = "PATH"
    )]
    pub endpoint: String,

    /// Turn off the legacy HTTP+SSE transport (`/sse` and `/messages`).
    #[arg(long, env = "MCP_NO_LEGACY_SSE")]
    pub no_legacy_sse: bool,

    /// Serve metrics in the Prometheus text format at `/metrics` on the HTTP listener: calls,
    /// errors and duration per tool, progress sent, sessions and streams open, refusals by
    /// reason, bytes sent (HTTP transports only).
    /// `MCP_METRICS` takes `1`/`0` as well as `true`/`false`, `yes`/`no`, `on`/`off`.
    #[arg(
        long,
        env = "MCP_METRICS",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub metrics: bool,

    /// Answer each request with one JSON body instead of an SSE stream. Progress is then
    /// lost: only for clients that cannot read SSE. (By default a request answered at once
    /// gets one JSON body, and any other an SSE stream.)
    #[arg(long, env = "MCP_JSON_RESPONSE", conflicts_with = "sse_response")]
    pub json_response: bool,

    /// Answer each request with an SSE stream, also one answered at once (by default such a
    /// request gets one JSON body): for clients or proxies that expect a stream every time.
    #[arg(long, env = "MCP_SSE_RESPONSE")]
    pub sse_response: bool,

    /// The largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "MCP_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024, value_name = "BYTES")]
    pub max_body_bytes: usize,

    /// How many sessions may exist at once. At the limit a new session takes the place of an
    /// unused one (of the client holding the most); when every session is in use, an
    /// `initialize` gets 503 with `Retry-After`.
    #[arg(
        long,
        env = "MCP_MAX_SESSIONS",
        default_value_t = 1024,
        value_name = "N"
    )]
    pub max_sessions: usize,

    /// How long a session may stay unused before it ends (`0`: never). Durations are written
    /// `500ms`, `30s`, `15m` or `2h`.
    #[arg(long, env = "MCP_IDLE_TIMEOUT", default_value = "30m", value_parser = duration::parse, value_name = "DURATION")]
    pub idle_timeout: Duration,

    /// How long a new session may go unused after `initialize` before it ends.
    #[arg(long, env = "MCP_HANDSHAKE_TIMEOUT", default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    pub handshake_timeout: Duration,

    /// How long a request's stream may go unread, with no client resuming it, before its call
    /// is cancelled.
    #[arg(long, env = "MCP_RESUME_WINDOW", default_value = "60s", value_parser = duration::parse, value_name = "DURATION")]
    pub resume_window: Duration,

    /// How long a stream may stay silent before a keep-alive comment (`0`: never).
    #[arg(long, env = "MCP_KEEP_ALIVE", default_value = "15s", value_parser = duration::parse, value_name = "DURATION")]
    pub keep_alive: Duration,

    /// How long a connection may take to send a request's headers.
    #[arg(long, env = "MCP_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    pub header_read_timeout: Duration,

    /// How long a request's body may take to arrive once its headers are in (then 408 and the
    /// connection closes).
    #[arg(long, env = "MCP_REQUEST_BODY_TIMEOUT", default_value = "60s", value_parser = duration::parse, value_name = "DURATION")]
    pub request_body_timeout: Duration,

    /// How long a response may wait for its client to read before the connection closes.
    #[arg(long, env = "MCP_SEND_TIMEOUT", default_value = "60s", value_parser = duration::parse, value_name = "DURATION")]
    pub send_timeout: Duration,

    /// After a response, how long at most a kept-alive connection keeps reading its socket
    /// for the next request before its task sleeps (`0`: off). The window adapts per
    /// connection: it grows while requests follow responses closely (a client calling tools
    /// one after another then gets answers without waking the server) and drops to zero while
    /// they do not, or while waking the server is cheap anyway (CPUs kept awake by other
    /// work). A connection polls only while no other connection has begun a request over its
    /// last round (several busy clients: no poll). It costs up to this much CPU time per gap.
    /// See `HttpConfig::idle_poll`.
    #[arg(long, env = "MCP_HTTP_IDLE_POLL", default_value = "160us", value_parser = duration::parse, value_name = "DURATION")]
    pub http_idle_poll: Duration,

    /// The reverse proxies whose `X-Forwarded-For` names the client, comma-separated addresses
    /// or networks (`10.0.0.5,10.1.0.0/16`). From anyone else the header is ignored.
    #[arg(
        long,
        env = "MCP_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "ADDRS"
    )]
    pub trusted_proxies: Vec<String>,

    /// On SIGINT or SIGTERM, how long running calls get to finish before each is answered
    /// with a JSON-RPC error and the server closes.
    #[arg(long, env = "MCP_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = duration::parse, value_name = "DURATION")]
    pub shutdown_timeout: Duration,

    /// Serve as one replica of several sharing this store: `redis://host:port/db` (see the
    /// guide's "Running several replicas"). Every replica needs the same store and the same
    /// `--request-state-key`. Default: none, everything stays in this process's memory.
    #[arg(long, env = "MCP_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// With --store: how long this replica counts as alive without renewing its lease; once
    /// it lapsed, the other replicas end its unfinished calls with a JSON-RPC error.
    #[arg(long, env = "MCP_REPLICA_LEASE", default_value = "10s", value_parser = duration::parse, value_name = "DURATION")]
    pub replica_lease: Duration,

    /// With --store: how many stream events may wait to be written to the store. At the
    /// bound a stream's next event waits for room (its tool's sends wait, as for a slow
    /// client); nothing is dropped.
    #[arg(
        long,
        env = "MCP_STORE_QUEUE_EVENTS",
        default_value_t = 8192,
        value_name = "N"
    )]
    pub store_queue_events: usize,

    /// With --store: how many bytes the stream events waiting to be written to the store may
    /// take (their memory), with the same waiting at the bound.
    #[arg(long, env = "MCP_STORE_QUEUE_BYTES", default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
    pub store_queue_bytes: usize,

    /// With --store: how long one batch of queued writes may wait for the store's answer
    /// before it counts as failed (its writes lost from the store, counted). Long by
    /// default, so that a slow store holds the queue back rather than losing writes.
    #[arg(long, env = "MCP_STORE_WRITE_TIMEOUT", default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    pub store_write_timeout: Duration,
}

impl HttpArgs {
    /// The [`HttpConfig`] these flags describe.
    pub fn config(&self) -> Result<HttpConfig, ServeError> {
        let mut config = HttpConfig::default()
            .endpoint(self.endpoint.clone())
            .max_body_bytes(self.max_body_bytes)
            .max_sessions(self.max_sessions)
            .idle_timeout(Some(self.idle_timeout))
            .keep_alive(Some(self.keep_alive))
            .header_read_timeout(self.header_read_timeout)
            .request_body_timeout(self.request_body_timeout)
            .send_timeout(self.send_timeout)
            .idle_poll(self.http_idle_poll)
            .handshake_timeout(self.handshake_timeout)
            .resume_window(self.resume_window)
            .shutdown_timeout(self.shutdown_timeout)
            .replica_lease(self.replica_lease)
            .trusted_proxies(self.trusted_proxies()?)
            .hosts(HostPolicy::from_names(&self.allowed_hosts).map_err(config_error)?);
        if self.no_legacy_sse {
            config = config.legacy_sse(None);
        }
        if self.json_response {
            config = config.response_mode(ResponseMode::Json);
        }
        if self.sse_response {
            config = config.response_mode(ResponseMode::Sse);
        }
        if let Some(token) = &self.bearer_token {
            if token.trim().is_empty() {
                return Err(ServeError::Config(
                    "--bearer-token (MCP_BEARER_TOKEN) is empty: give a token, or unset it".into(),
                ));
            }
            config = config.bearer_token(token);
        }
        Ok(config)
    }

    fn trusted_proxies(&self) -> Result<Vec<TrustedProxy>, ServeError> {
        self.trusted_proxies
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(config_error))
            .collect()
    }
}

impl HttpArgs {
    /// [`config`](Self::config), connected to the shared store that `--store` names, if any.
    pub async fn connect(&self) -> Result<HttpConfig, ServeError> {
        let config = self.config()?;
        let Some(url) = self
            .store
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(config);
        };
        connect_store(self, config, url).await
    }
}

#[cfg(feature = "redis-store")]
async fn connect_store(
    args: &HttpArgs,
    config: HttpConfig,
    url: &str,
) -> Result<HttpConfig, ServeError> {
    if !url.starts_with("redis://") && !url.starts_with("rediss://") && !url.starts_with("unix://")
    {
        return Err(ServeError::Config(format!(
            "--store {url:?}: only Redis is supported (redis://host:port/db)"
        )));
    }
    let limits = crate::http::WriteQueueLimits {
        events: args.store_queue_events,
        bytes: args.store_queue_bytes,
        write_timeout: args.store_write_timeout,
    };
    let store = crate::http::RedisStore::connect_with(url, limits)
        .await
        .map_err(|e| ServeError::Config(format!("--store {url:?}: {e}")))?;
    Ok(config.shared_store(std::sync::Arc::new(store)))
}

#[cfg(not(feature = "redis-store"))]
async fn connect_store(
    _args: &HttpArgs,
    _config: HttpConfig,
    url: &str,
) -> Result<HttpConfig, ServeError> {
    Err(ServeError::Config(format!(
        "--store {url:?}: this build has no store backend (mcp-transport's `redis-store` feature)"
    )))
}

fn config_error(error: crate::http::ConfigError) -> ServeError {
    ServeError::Config(error.to_string())
}
