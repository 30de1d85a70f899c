//! Serving from the command line: one call that serves a [`Server`] on the transport the
//! flags (or the environment) choose, logs to stderr, and shuts down gracefully on SIGINT and
//! SIGTERM. Every binary of this project serves through it.
//!
//! The shortest form reads the flags itself, naming the program after the server:
//!
//! ```no_run
//! use mcp_core::{Server, tool};
//!
//! /// Says hello.
//! #[tool]
//! async fn hello(name: String) -> String {
//!     format!("Hello, {name}!")
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = Server::builder("hello", "1.0").tool(hello).build()?;
//!     // `hello --transport http --bind 127.0.0.1:8000`, `hello --help`, ...
//!     mcp_transport::serve(&server).await?;
//!     Ok(())
//! }
//! ```
//!
//! A program with flags of its own flattens [`ServeArgs`] into its clap parser and calls
//! [`ServeArgs::run`]:
//!
//! ```no_run
//! use clap::Parser;
//! use mcp_transport::ServeArgs;
//!
//! /// A server with a flag of its own.
//! #[derive(Parser)]
//! struct Args {
//!     /// Where the data is.
//!     #[arg(long)]
//!     data: std::path::PathBuf,
//!     #[command(flatten)]
//!     serve: ServeArgs,
//! }
//!
//! # async fn run(server: mcp_core::Server) -> Result<(), mcp_transport::cli::ServeError> {
//! let args = Args::parse();
//! args.serve.run(&server).await
//! # }
//! ```
//!
//! # The flags
//!
//! | flag | environment | default |
//! | --- | --- | --- |
//! | `--transport stdio\|http\|sse` | `MCP_TRANSPORT` | `stdio` |
//! | `--bind ADDR` | `MCP_BIND` | `127.0.0.1:8000` |
//! | `--allowed-hosts HOSTS` | `MCP_ALLOWED_HOSTS` | localhost names on a loopback address |
//! | `--bearer-token TOKEN` | `MCP_BEARER_TOKEN` | none |
//! | `--endpoint PATH` | `MCP_ENDPOINT` | `/mcp` |
//! | `--no-legacy-sse` | `MCP_NO_LEGACY_SSE` | legacy HTTP+SSE on |
//! | `--json-response` | `MCP_JSON_RESPONSE` | JSON when answered at once, else SSE |
//! | `--sse-response` | `MCP_SSE_RESPONSE` | JSON when answered at once, else SSE |
//! | `--max-body-bytes BYTES` | `MCP_MAX_BODY_BYTES` | 4 MiB |
//! | `--max-sessions N` | `MCP_MAX_SESSIONS` | 1024 |
//! | `--idle-timeout DURATION` | `MCP_IDLE_TIMEOUT` | `30m` |
//! | `--handshake-timeout DURATION` | `MCP_HANDSHAKE_TIMEOUT` | `30s` |
//! | `--resume-window DURATION` | `MCP_RESUME_WINDOW` | `60s` |
//! | `--keep-alive DURATION` | `MCP_KEEP_ALIVE` | `15s` |
//! | `--header-read-timeout DURATION` | `MCP_HEADER_READ_TIMEOUT` | `30s` |
//! | `--request-body-timeout DURATION` | `MCP_REQUEST_BODY_TIMEOUT` | `60s` |
//! | `--send-timeout DURATION` | `MCP_SEND_TIMEOUT` | `60s` |
//! | `--http-idle-poll DURATION` | `MCP_HTTP_IDLE_POLL` | `160us` (see [`HttpConfig::idle_poll`](crate::http::HttpConfig::idle_poll)) |
//! | `--trusted-proxies ADDRS` | `MCP_TRUSTED_PROXIES` | none |
//! | `--shutdown-timeout DURATION` | `MCP_SHUTDOWN_TIMEOUT` | `10s` |
//! | `--stdio-idle-poll DURATION` | `MCP_STDIO_IDLE_POLL` | `80us` (see [`StdioServer::idle_poll`]) |
//! | `--metrics` | `MCP_METRICS=1` | off (see [`crate::metrics`]) |
//! | `--store URL` | `MCP_STORE` | none (memory, one process) |
//! | `--replica-lease DURATION` | `MCP_REPLICA_LEASE` | `10s` |
//! | `--store-queue-events N` | `MCP_STORE_QUEUE_EVENTS` | 8192 |
//! | `--store-queue-bytes BYTES` | `MCP_STORE_QUEUE_BYTES` | 16 MiB |
//! | `--store-write-timeout DURATION` | `MCP_STORE_WRITE_TIMEOUT` | 30s |
//! | `--eras both\|stateful\|stateless` | `MCP_ERAS` | what the server was built with |
//! | `--request-state-key SECRET` | `MCP_REQUEST_STATE_KEY` | a random key per process |
//! | `--log-level FILTER` | `RUST_LOG` | `info` |
//!
//! # Stopping
//!
//! The first SIGINT or SIGTERM stops the server gracefully, over every transport: it stops
//! accepting (HTTP: connections and sessions; stdio: it reads no more requests), lets running
//! calls finish within `--shutdown-timeout`, then answers each call still running with a
//! JSON-RPC error (`-32000`, `data.reason` `"shutdown"`) on its stream before it closes: no
//! call is cut off silently. A second signal stops waiting. Over stdio the server also ends
//! when its client closes stdin (running calls are cancelled) or stdout. Every plugin's
//! shutdown hook runs once when serving ends (its start hook ran before serving began).

mod duration;
mod error;
mod http_args;
mod log;
mod protocol_args;
mod shutdown;
mod stdio_args;

pub use error::ServeError;
pub use http_args::HttpArgs;
pub use log::LogArgs;
pub use protocol_args::ProtocolArgs;
pub use stdio_args::StdioArgs;

use clap::{Args as _, FromArgMatches as _};
use mcp_core::Server;

use crate::http;
use crate::metrics::Metrics;
use crate::stdio::StdioServer;
use shutdown::Signals;

/// How clients reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum Transport {
    /// Newline-delimited JSON-RPC on stdin and stdout: the client starts the server.
    Stdio,
    /// HTTP on `--bind`: streamable HTTP at `--endpoint` and legacy HTTP+SSE at `/sse`.
    Http,
    /// The same HTTP listener, announced by its legacy HTTP+SSE address (`/sse`).
    Sse,
}

/// Every flag of the serving call: the transport, the HTTP and stdio settings, the protocol
/// eras and the log level. A
/// `clap::Args`: flatten it into a parser of your own (`#[command(flatten)]`), or let
/// [`serve`] parse the command line.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
#[command(next_help_heading = "Serving")]
pub struct ServeArgs {
    /// How clients reach the server: `stdio` (the client starts this program and speaks on its
    /// stdin and stdout), `http` (streamable HTTP at --endpoint and legacy HTTP+SSE at /sse, on
    /// --bind) or `sse` (the same listener, announced by its legacy address).
    #[arg(long, value_enum, env = "MCP_TRANSPORT", default_value_t = Transport::Stdio)]
    pub transport: Transport,

    /// The HTTP flags.
    #[command(flatten)]
    pub http: HttpArgs,

    /// The stdio flags.
    #[command(flatten)]
    pub stdio: StdioArgs,

    /// The protocol flags.
    #[command(flatten)]
    pub protocol: ProtocolArgs,

    /// The logging flag.
    #[command(flatten)]
    pub log: LogArgs,
}

impl ServeArgs {
    /// Parses the flags from `args` (the first item is the program's name); unset flags still
    /// come from the environment.
    pub fn try_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches =
            ServeArgs::augment_args(clap::Command::new("serve")).try_get_matches_from(args)?;
        ServeArgs::from_arg_matches(&matches)
    }

    /// Sends logs to stderr, filtered by `--log-level`; [`run`](Self::run) does this first.
    /// Call it earlier to see logs from building the server.
    pub fn init_logging(&self) -> Result<(), ServeError> {
        self.log.init()
    }

    /// Serves `server` as the flags say, until the client goes (stdio) or a signal stops the
    /// server (see the [module docs](self)).
    ///
    /// Every plugin's start hook runs before serving begins, and every plugin's shutdown hook
    /// once when serving ends (gracefully, by a signal, or on an error).
    pub async fn run(&self, server: &Server) -> Result<(), ServeError> {
        self.init_logging()?;
        let server = &self.protocol.apply(server)?;
        // Listen before serving: a signal during start-up is not lost.
        let signals = Signals::listen();
        server.start_plugins().await?;
        let served = self.serve_started(server, signals).await;
        server.shutdown_plugins().await;
        served
    }

    async fn serve_started(&self, server: &Server, mut signals: Signals) -> Result<(), ServeError> {
        match self.transport {
            Transport::Stdio if self.http.metrics => {
                return Err(ServeError::Config(
                    "--metrics serves /metrics on the HTTP listener: use --transport http or sse"
                        .into(),
                ));
            }
            Transport::Stdio => {
                tracing::info!(
                    server = %server.info().name,
                    eras = %server.eras(),
                    "serving on stdio"
                );
                let mut second = signals.clone();
                let stop = async {
                    signals.nth(1).await;
                    tracing::info!(
                        "shutting down: no more requests are read; running calls get up to {} \
                         to finish",
                        duration::format(self.http.shutdown_timeout)
                    );
                };
                let served = self
                    .stdio
                    .apply(StdioServer::new(server))
                    .shutdown_timeout(self.http.shutdown_timeout)
                    .serve_until(stop);
                tokio::select! {
                    served = served => served?,
                    () = second.nth(2) => tracing::warn!("second signal: stopping now"),
                }
            }
            Transport::Http | Transport::Sse => {
                if self.transport == Transport::Sse && self.http.no_legacy_sse {
                    return Err(ServeError::Config(
                        "--transport sse serves the legacy HTTP+SSE transport: drop --no-legacy-sse".into(),
                    ));
                }
                let mut config = self.http.connect().await?;
                if self.http.store.is_some() && self.protocol.request_state_key.is_none() {
                    tracing::warn!(
                        "--store without --request-state-key: each replica draws its own key, \
                         so a requestState issued by one is refused by the others"
                    );
                }
                let metered;
                let server = if self.http.metrics {
                    let metrics = Metrics::new();
                    config = config.metrics(metrics.clone());
                    metered = server.with_layer(metrics.layer());
                    &metered
                } else {
                    server
                };
                let running = http::serve(self.http.bind.as_str(), server, config).await?;
                self.announce(server, &running);
                signals.nth(1).await;
                tracing::info!(
                    "shutting down: running calls get up to {} to finish",
                    duration::format(self.http.shutdown_timeout)
                );
                tokio::select! {
                    () = running.shutdown() => {}
                    () = signals.nth(2) => tracing::warn!("second signal: stopping now"),
                }
            }
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Logs where clients connect, which hosts may, how they authenticate, and the protocol
    /// eras served.
    fn announce(&self, server: &Server, running: &http::RunningServer) {
        let addr = running.local_addr();
        let http = &self.http;
        let legacy = if http.no_legacy_sse {
            "legacy HTTP+SSE off".to_owned()
        } else {
            "legacy HTTP+SSE at /sse".to_owned()
        };
        match self.transport {
            Transport::Sse => tracing::info!(
                "serving legacy HTTP+SSE at http://{addr}/sse (streamable HTTP at {})",
                http.endpoint
            ),
            _ => tracing::info!(
                "serving streamable HTTP at http://{addr}{} ({legacy})",
                http.endpoint
            ),
        }
        let auth = if http.bearer_token.is_some() {
            "a bearer token"
        } else {
            "no authentication"
        };
        tracing::info!("accepting {}; {auth}", running.service().accepted_hosts());
        if http.metrics {
            tracing::info!("metrics (Prometheus text format) at http://{addr}/metrics");
        }
        tracing::info!(
            "protocol eras: {} ({})",
            server.eras(),
            server.supported_versions().join(", ")
        );
    }
}

/// Serves `server` with the flags of the command line (see [`ServeArgs`]): the one-line
/// `main` of a server. `--help` and `--version` name the program after the server's name and
/// version; a wrong flag prints the usage and exits with status 2.
pub async fn serve(server: &Server) -> Result<(), ServeError> {
    let info = server.info();
    let mut command = clap::Command::new(info.name.clone()).version(info.version.clone());
    if let Some(title) = &info.title {
        command = command.about(title.clone());
    }
    let matches = ServeArgs::augment_args(command).get_matches();
    let args = ServeArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    args.run(server).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_those_of_http_config() {
        let args = ServeArgs::try_from_args(["serve"]).unwrap();
        assert_eq!(args.transport, Transport::Stdio);
        let config = args.http.config().unwrap();
        assert_eq!(
            format!("{config:?}"),
            format!("{:?}", crate::http::HttpConfig::default())
        );
    }

    #[test]
    fn flags_reach_the_config() {
        let args = ServeArgs::try_from_args([
            "serve",
            "--transport",
            "http",
            "--allowed-hosts",
            "example.com,example.com:8443",
            "--bearer-token",
            "s3cret",
            "--idle-timeout",
            "0",
            "--keep-alive",
            "500ms",
            "--max-sessions",
            "3",
            "--no-legacy-sse",
            "--json-response",
            "--http-idle-poll",
            "50us",
        ])
        .unwrap();
        assert_eq!(args.transport, Transport::Http);
        let config = format!("{:?}", args.http.config().unwrap());
        for part in [
            "legacy: None",
            "response_mode: Json",
            "keep_alive: Some(500ms)",
            "max_sessions: 3",
            "idle_timeout: None",
            "idle_poll: 50µs",
            "bearer_identities: [\"bearer (token <redacted>)\"]",
            "AllowList([\"example.com\", \"example.com:8443\"])",
        ] {
            assert!(config.contains(part), "{part} not in {config}");
        }
    }

    #[test]
    fn the_http_idle_poll_defaults_to_the_configs_and_zero_turns_it_off() {
        let args = ServeArgs::try_from_args(["serve"]).unwrap();
        let config = format!("{:?}", args.http.config().unwrap());
        assert!(config.contains("idle_poll: 160µs"), "{config}");
        let args = ServeArgs::try_from_args(["serve", "--http-idle-poll", "0"]).unwrap();
        let config = format!("{:?}", args.http.config().unwrap());
        assert!(config.contains("idle_poll: 0ns"), "{config}");
    }

    #[cfg(feature = "redis-store")]
    #[test]
    fn store_write_timeout_defaults_to_the_stores_and_parses() {
        let args = ServeArgs::try_from_args(["serve"]).unwrap();
        assert_eq!(
            args.http.store_write_timeout,
            crate::http::DEFAULT_REDIS_WRITE_TIMEOUT
        );
        let args = ServeArgs::try_from_args(["serve", "--store-write-timeout", "2s"]).unwrap();
        assert_eq!(
            args.http.store_write_timeout,
            std::time::Duration::from_secs(2)
        );
    }

    #[test]
    fn contradictions_are_refused() {
        let any = ServeArgs::try_from_args(["serve", "--allowed-hosts", "*"]).unwrap();
        assert!(format!("{:?}", any.http.config().unwrap()).contains("hosts: Any"));
        let mixed = ServeArgs::try_from_args(["serve", "--allowed-hosts", "*,a"]).unwrap();
        assert!(mixed.http.config().is_err());
        let empty = ServeArgs::try_from_args(["serve", "--bearer-token", " "]).unwrap();
        assert!(empty.http.config().is_err());
        let bad = ServeArgs::try_from_args(["serve", "--idle-timeout", "soon"]).unwrap_err();
        assert!(bad.to_string().contains("not a duration"), "{bad}");
    }

    #[test]
    fn protocol_flags_replace_what_the_server_was_built_with() {
        let built = Server::builder("t", "1")
            .eras(mcp_core::Eras::Stateful)
            .build()
            .unwrap();
        let unset = ServeArgs::try_from_args(["serve"]).unwrap();
        let kept = unset.protocol.apply(&built).unwrap();
        assert_eq!(kept.eras(), mcp_core::Eras::Stateful);
        let given = ServeArgs::try_from_args(["serve", "--eras", "stateless"]).unwrap();
        let served = given.protocol.apply(&built).unwrap();
        assert_eq!(served.eras(), mcp_core::Eras::Stateless);
        assert_eq!(served.supported_versions(), ["2026-07-28"]);
        // The built server is unchanged: the flags give the serving call a server of its own.
        assert_eq!(built.eras(), mcp_core::Eras::Stateful);

        let bad = ServeArgs::try_from_args(["serve", "--eras", "modern"]).unwrap_err();
        assert!(
            bad.to_string().contains("both, stateful, stateless"),
            "{bad}"
        );
        let blank = ServeArgs::try_from_args(["serve", "--request-state-key", " "]).unwrap();
        let e = blank.protocol.apply(&built).unwrap_err();
        assert!(
            e.to_string().contains("--request-state-key is empty"),
            "{e}"
        );
    }
}
