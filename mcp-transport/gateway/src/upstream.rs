//! How the gateway reaches a server it mounts: a command started as a stdio server, or a URL
//! (streamable HTTP, or legacy HTTP+SSE), and one connection to it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::{Client, ClientOptions};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use mcp_transport::stdio::{ChildProcess, StdioClientOptions};
use serde::Deserialize;

/// Where a mounted server is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Upstream {
    /// A program started as a stdio server (and restarted when it dies).
    Command {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Environment variables set for it.
        env: BTreeMap<String, String>,
        /// Its working directory.
        cwd: Option<PathBuf>,
    },
    /// A server already running, reached over HTTP.
    Url {
        /// Its URL: the streamable HTTP endpoint, or the legacy SSE endpoint.
        url: String,
        /// Which HTTP transport to speak.
        transport: HttpTransport,
        /// A bearer token to send.
        bearer_token: Option<String>,
    },
    /// A server in this process, reached over an in-memory channel (no bytes, no sockets):
    /// for tests, and to put a server of one's own behind the same relay.
    InProcess(mcp_core::Server),
}

impl Upstream {
    /// A stdio server started as `program args...`.
    pub fn command<I, S>(program: impl Into<String>, args: I) -> Upstream
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Upstream::Command {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: None,
        }
    }

    /// A server at `url` (streamable HTTP, falling back to legacy HTTP+SSE).
    pub fn url(url: impl Into<String>) -> Upstream {
        Upstream::Url {
            url: url.into(),
            transport: HttpTransport::Auto,
            bearer_token: None,
        }
    }

    /// Whether the gateway starts (and restarts) this server itself.
    pub fn is_command(&self) -> bool {
        matches!(self, Upstream::Command { .. })
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upstream::Command { program, args, .. } => {
                write!(f, "`{program}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                write!(f, "` (stdio)")
            }
            Upstream::Url { url, .. } => write!(f, "{url}"),
            Upstream::InProcess(server) => write!(f, "`{}` (in process)", server.info().name),
        }
    }
}

/// Which HTTP transport a URL speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HttpTransport {
    /// Streamable HTTP, falling back to legacy HTTP+SSE when the server refuses the first
    /// POST (the spec's compatibility rule).
    #[default]
    Auto,
    /// Streamable HTTP only.
    Streamable,
    /// Legacy HTTP+SSE: the URL is the SSE endpoint.
    Sse,
}

/// Why connecting to a mounted server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The stdio server could not be started or did not finish its handshake.
    #[error(transparent)]
    Stdio(#[from] mcp_transport::stdio::StdioClientError),
    /// The HTTP server could not be reached or refused the handshake.
    #[error(transparent)]
    Http(#[from] mcp_transport::http_client::HttpClientError),
    /// The in-process server refused the handshake.
    #[error("the in-process server refused the handshake: {0}")]
    InProcess(#[source] mcp_core::client::ConnectError),
    /// The handshake took too long.
    #[error("no answer to the handshake within {0:?}")]
    Timeout(Duration),
}

/// One live connection: the client, and the process behind it when the gateway started it.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) process: Option<ChildProcess>,
}

/// Connects to `upstream` with `options`, within `timeout`.
pub(crate) async fn connect(
    upstream: &Upstream,
    options: ClientOptions,
    timeout: Duration,
) -> Result<Connection, UpstreamError> {
    match upstream {
        Upstream::Command {
            program,
            args,
            env,
            cwd,
        } => {
            let mut command = tokio::process::Command::new(program);
            command.args(args).envs(env);
            if let Some(cwd) = cwd {
                command.current_dir(cwd);
            }
            let stdio = StdioClientOptions {
                client: options,
                connect_timeout: timeout,
                ..StdioClientOptions::default()
            };
            let (client, process) = mcp_transport::stdio::connect_with(command, stdio)
                .await?
                .into_parts();
            Ok(Connection {
                client,
                process: Some(process),
            })
        }
        Upstream::Url {
            url,
            transport,
            bearer_token,
        } => {
            let http = HttpClientOptions {
                mode: match transport {
                    HttpTransport::Auto => HttpMode::Auto,
                    HttpTransport::Streamable => HttpMode::Streamable,
                    HttpTransport::Sse => HttpMode::Legacy,
                },
                bearer_token: bearer_token.clone(),
                client: options,
                ..HttpClientOptions::default()
            };
            let client = tokio::time::timeout(timeout, http_client::connect(url, http))
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))??;
            Ok(Connection {
                client,
                process: None,
            })
        }
        Upstream::InProcess(server) => {
            let handshake = Client::connect_with(mcp_core::memory::serve(server), options);
            let client = tokio::time::timeout(timeout, handshake)
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))?
                .map_err(UpstreamError::InProcess)?;
            Ok(Connection {
                client,
                process: None,
            })
        }
    }
}
