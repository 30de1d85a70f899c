//! The stdio transport: newline-delimited JSON-RPC over a process's stdin and stdout.
//!
//! Each message is one line of compact JSON ending in `\n`. The server reads requests from
//! stdin and writes every message (responses, progress, logs) to stdout, **one line per
//! message, written and flushed at once**: a tool's progress reaches the client while the
//! tool still runs. Logs belong on stderr, never on stdout.
//!
//! # Serving
//!
//! ```no_run
//! # async fn run(server: mcp_core::Server) -> Result<(), mcp_transport::stdio::StdioError> {
//! // Runs until stdin ends; then cancels running calls and returns.
//! mcp_transport::stdio::serve(&server).await
//! # }
//! ```
//!
//! [`serve_io`] does the same on any `AsyncRead`/`AsyncWrite` pair, and [`StdioServer`] sets
//! the line limit. An unreadable line is answered with `-32700` or `-32600` (no id when none
//! could be read), a line over the limit with `-32600`, and the server keeps serving.
//!
//! [`StdioServer::serve_until`] also stops on a signal (the serving call of [`crate::cli`]
//! uses it): it stops reading, lets running calls finish within
//! [`StdioServer::shutdown_timeout`], then answers each call still running with a JSON-RPC
//! error before it returns. A server whose stdout is closed by its client stops at once,
//! cancelling its calls, with [`StdioError::OutputClosed`].
//!
//! A session that negotiated revision 2025-03-26 may send JSON-RPC batches (that revision
//! defines them): each element is handled as if it came on its own line, and each response
//! goes out on its own line the moment it is ready, progress included (collecting them into
//! one array, as JSON-RPC 2.0 describes, would hold every answer back until the slowest).
//! On other revisions a batch is answered with `-32600`.
//!
//! # Connecting to a server process
//!
//! [`connect`] spawns a server (in its own process group, killed when the returned
//! [`StdioClient`] is dropped) and performs the `initialize` handshake; [`spawn`] stops short
//! of the handshake and returns a [`ClientChannel`](mcp_core::ClientChannel).
//! [`client_channel`] wires any other pair of streams into a client.
//!
//! # Framing on other streams
//!
//! [`FrameReader`] and [`FrameWriter`] are the framing on its own, for any byte stream.

mod client;
mod error;
mod fifo;
mod framing;
mod output;
mod process;
mod server;
mod stdin;
mod stdout_watch;

pub use crate::idle_poll::DEFAULT_IDLE_POLL;
pub use client::{ChannelOptions, client_channel, client_channel_with};
pub use error::{StdioClientError, StdioError};
pub use framing::{DEFAULT_MAX_LINE_BYTES, Frame, FrameReader, FrameRef, FrameWriter};
pub use process::{
    ChildProcess, StderrMode, StdioClient, StdioClientOptions, connect, connect_with, spawn,
    spawn_with,
};
pub use server::{DEFAULT_SHUTDOWN_GRACE, DEFAULT_SHUTDOWN_TIMEOUT, StdioServer, serve, serve_io};
