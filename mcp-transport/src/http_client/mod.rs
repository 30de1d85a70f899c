//! HTTP client transports: streamable HTTP (2025-03-26 and later) and the legacy HTTP+SSE
//! transport (2024-11-05), with the spec's fallback from the first to the second.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::http_client::{self, HttpClientOptions};
//!
//! let client = http_client::connect("http://127.0.0.1:8000/mcp", HttpClientOptions::default()).await?;
//! let mut call = client.call_tool_streaming("count", serde_json::json!({"to": 3})).await?;
//! while let Some(event) = call.next_event().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! Both transports feed a [`mcp_core::Client`] through its [`ClientChannel`]: every message the
//! server sends, on any response stream, arrives in the order it was sent on that stream. When
//! an SSE response stream drops before its response, the client reconnects with
//! `Last-Event-ID` and the server replays what was missed. An HTTP failure of a request becomes
//! a JSON-RPC error for that request (code [`TRANSPORT_ERROR`]), so no caller waits forever.

mod legacy;
mod request;
pub mod sse;
mod stateless;
mod streamable;

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use mcp_core::client::{ClientChannel, ClientOptions, ConnectError};
use mcp_core::{Client, ErrorCode};
use tokio::sync::mpsc;

use request::Shared;

/// The JSON-RPC code of errors the HTTP client synthesizes when the transport fails a request
/// (connection refused, an HTTP error status, a stream that could not be resumed).
pub const TRANSPORT_ERROR: ErrorCode = ErrorCode(-32000);

/// Which HTTP transport to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMode {
    /// Streamable HTTP; if the server answers the initialize POST with 400, 404 or 405, fall
    /// back to the legacy HTTP+SSE transport at the same URL (the spec's compatibility rule).
    #[default]
    Auto,
    /// Streamable HTTP only.
    Streamable,
    /// Legacy HTTP+SSE only: the URL is the SSE endpoint (such as `/sse`).
    Legacy,
}

/// Options of the HTTP client transports.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Which transport to speak (default: [`HttpMode::Auto`]).
    pub mode: HttpMode,
    /// A bearer token sent as `Authorization: Bearer ...`.
    pub bearer_token: Option<String>,
    /// How many times a dropped SSE stream is resumed before the request fails (default 5).
    pub max_reconnects: u32,
    /// The wait before a reconnection when the server sent no `retry:` (default 100 ms).
    pub reconnect_delay: Duration,
    /// Whether to open the GET stream for messages unrelated to any request (default true).
    pub open_get_stream: bool,
    /// Options of the MCP client session itself.
    pub client: ClientOptions,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        HttpClientOptions {
            mode: HttpMode::Auto,
            bearer_token: None,
            max_reconnects: 5,
            reconnect_delay: Duration::from_millis(100),
            open_get_stream: true,
            client: ClientOptions::default(),
        }
    }
}

/// Why an HTTP client could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The URL could not be parsed or is not `http://`.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The MCP handshake failed (the server's error or the transport's, with its HTTP status).
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

/// Connects to an MCP server over HTTP: in the era the client options ask for (by default
/// 2026-07-28 if the server offers it, `initialize` otherwise; legacy HTTP+SSE is always
/// stateful).
pub async fn connect(url: &str, options: HttpClientOptions) -> Result<Client, HttpClientError> {
    let mut client_options = options.client.clone();
    if options.mode == HttpMode::Legacy {
        // HTTP+SSE is a transport of the stateful era: no probe.
        client_options.era = mcp_core::client::ClientEra::Stateful;
    }
    let channel = channel(url, options)?;
    Ok(Client::connect_with(channel, client_options).await?)
}

/// Starts the transport alone and returns the channel a [`Client`] runs on.
pub fn channel(url: &str, options: HttpClientOptions) -> Result<ClientChannel, HttpClientError> {
    let uri = parse_url(url)?;
    let (to_transport, outgoing) = mpsc::channel(64);
    let (incoming_tx, incoming) = mpsc::channel(64);
    let shared = Arc::new(Shared::new(uri, options, incoming_tx));
    tokio::spawn(async move {
        match shared.options.mode {
            HttpMode::Legacy => legacy::run(shared, outgoing, None).await,
            HttpMode::Auto | HttpMode::Streamable => streamable::run(shared, outgoing).await,
        }
    });
    Ok(ClientChannel {
        outgoing: to_transport,
        incoming,
    })
}

fn parse_url(url: &str) -> Result<Uri, HttpClientError> {
    let invalid = |reason: &str| HttpClientError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(invalid(&format!(
                "scheme {other} is not supported; use http"
            )));
        }
        None => return Err(invalid("an absolute http:// URL is needed")),
    }
    if uri.authority().is_none() {
        return Err(invalid("the URL has no host"));
    }
    Ok(uri)
}
