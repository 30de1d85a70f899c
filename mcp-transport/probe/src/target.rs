//! Where the server is: a command to start (stdio) or a URL (streamable HTTP, or legacy
//! HTTP+SSE when the path ends in `/sse`), and the connection to it.

use std::process::Stdio as ProcessStdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::Client;
use mcp_core::client::{ClientEra, ClientOptions};
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use mcp_transport::stdio::{self, ChildProcess, StderrMode, StdioClientOptions};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// The flags that say which server to talk to.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Target {
    /// The server's URL: `http://HOST:PORT/mcp` (streamable HTTP, falling back to legacy
    /// HTTP+SSE) or `http://HOST:PORT/sse` (legacy HTTP+SSE).
    #[arg(
        long,
        env = "MCP_PROBE_URL",
        conflicts_with = "command",
        value_name = "URL"
    )]
    pub(crate) url: Option<String>,
    /// Sent as `Authorization: Bearer TOKEN` over HTTP.
    #[arg(
        long,
        env = "MCP_BEARER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) bearer_token: Option<String>,
    /// The protocol era to speak: `auto` (2026-07-28 when the server offers it through
    /// `server/discover`, the `initialize` handshake otherwise), `stateless` (2026-07-28 only)
    /// or `stateful` (`initialize`, 2024-11-05 to 2025-11-25). Legacy HTTP+SSE is always
    /// stateful.
    #[arg(long, env = "MCP_PROBE_ERA", value_enum, default_value_t = Era::Auto)]
    pub(crate) era: Era,
    /// Show the server's own log (its stderr) as it runs, instead of only when it fails.
    #[arg(long)]
    pub(crate) server_log: bool,
    /// The server to start, after `--`: `mcp-probe list -- ./my-server --transport stdio`.
    #[arg(last = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}

/// Which protocol era the probe speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Era {
    /// 2026-07-28 if the server offers it, `initialize` otherwise.
    Auto,
    /// 2026-07-28 only.
    Stateless,
    /// `initialize` only.
    Stateful,
}

impl Target {
    /// The client's options for the era asked for.
    fn client_options(&self) -> ClientOptions {
        ClientOptions {
            era: match self.era {
                Era::Auto => ClientEra::Auto,
                Era::Stateless => ClientEra::Stateless,
                Era::Stateful => ClientEra::Stateful,
            },
            ..ClientOptions::default()
        }
    }
}

/// A connected client, and the process it owns over stdio.
pub(crate) struct Connection {
    pub(crate) client: Client,
    /// What the probe is talking over, for the output.
    pub(crate) transport: &'static str,
    child: Option<ChildProcess>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// How much of a server's stderr is kept to show when it fails.
const STDERR_TAIL: usize = 8 * 1024;

impl Target {
    /// Connects and performs the handshake.
    pub(crate) async fn connect(&self) -> Result<Connection, String> {
        match (&self.url, self.command.split_first()) {
            (Some(url), _) => {
                let legacy = url.trim_end_matches('/').ends_with("/sse");
                let options = HttpClientOptions {
                    mode: if legacy { HttpMode::Legacy } else { HttpMode::Auto },
                    bearer_token: self.bearer_token.clone(),
                    client: self.client_options(),
                    ..HttpClientOptions::default()
                };
                let client = http_client::connect(url, options)
                    .await
                    .map_err(|e| format!("cannot connect to {url}: {e}"))?;
                Ok(Connection {
                    client,
                    transport: if legacy { "legacy HTTP+SSE" } else { "HTTP" },
                    child: None,
                    stderr: Arc::default(),
                })
            }
            (None, Some((program, args))) => self.spawn(program, args).await,
            (None, None) => Err(
                "say which server: --url http://HOST:PORT/mcp, or a command after `--` (mcp-probe list -- ./my-server)"
                    .into(),
            ),
        }
    }

    async fn spawn(&self, program: &str, args: &[String]) -> Result<Connection, String> {
        let mut command = Command::new(program);
        command.args(args).stdin(ProcessStdio::piped());
        let options = StdioClientOptions {
            stderr: if self.server_log {
                StderrMode::Inherit
            } else {
                StderrMode::Capture
            },
            client: self.client_options(),
            ..StdioClientOptions::default()
        };
        let stderr: Arc<Mutex<Vec<u8>>> = Arc::default();
        let (channel, mut process) = stdio::spawn_with(command, &options)
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        if let Some(mut pipe) = process.take_stderr() {
            let kept = stderr.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    kept.extend_from_slice(&buf[..n]);
                    let excess = kept.len().saturating_sub(STDERR_TAIL);
                    kept.drain(..excess);
                }
            });
        }
        let handshake = Client::connect_with(channel, options.client);
        let connected = match tokio::time::timeout(options.connect_timeout, handshake).await {
            Ok(connected) => connected.map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "no answer to the handshake (server/discover, then initialize) within {} s",
                options.connect_timeout.as_secs()
            )),
        };
        match connected {
            Ok(client) => Ok(Connection {
                client,
                transport: "stdio",
                child: Some(process),
                stderr,
            }),
            Err(e) => {
                // Give the reader a moment to collect what the server said before it died.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let said =
                    String::from_utf8_lossy(&stderr.lock().unwrap_or_else(|e| e.into_inner()))
                        .into_owned();
                let said = if said.trim().is_empty() {
                    String::new()
                } else {
                    format!("\nthe server's stderr:\n{}", said.trim_end())
                };
                Err(format!("cannot connect to {program}: {e}{said}"))
            }
        }
    }
}

impl Connection {
    /// The end of the server's stderr, when it was captured.
    pub(crate) fn server_log(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Ends the session (and the server process, over stdio).
    pub(crate) async fn close(self) {
        if let Some(child) = self.child {
            let _ = child.shutdown(Duration::from_secs(5)).await;
        }
    }
}
