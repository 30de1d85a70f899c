//! Why a stdio connection failed.

use std::io;

use mcp_core::client::ConnectError;

/// Why a stdio server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StdioError {
    /// Reading the input (stdin) failed.
    #[error("reading the input failed: {0}")]
    Read(#[source] io::Error),
    /// Writing the output (stdout) failed.
    #[error("writing the output failed: {0}")]
    Write(#[source] io::Error),
    /// The client closed the server's output (its end of the stdout pipe): nobody can receive
    /// an answer any more, so the server cancelled its calls and stopped.
    #[error(
        "the client closed the server's output (stdout): stopped and cancelled the calls still running"
    )]
    OutputClosed,
}

impl StdioError {
    /// Whether the output was closed by the peer: the client has gone.
    pub fn is_peer_gone(&self) -> bool {
        match self {
            StdioError::OutputClosed => true,
            StdioError::Write(e) => e.kind() == io::ErrorKind::BrokenPipe,
            StdioError::Read(_) => false,
        }
    }
}

/// Why starting or talking to a server child process failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StdioClientError {
    /// The program could not be started.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program that was to run.
        program: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The child started without the pipe it needs (its stdin or stdout).
    #[error("the child process has no {0} pipe")]
    MissingPipe(&'static str),
    /// The `initialize` handshake failed.
    #[error("the MCP handshake with the child process failed: {0}")]
    Connect(#[from] ConnectError),
    /// The `initialize` handshake did not complete in time.
    #[error("the child process did not complete the MCP handshake within {0:?}")]
    Timeout(std::time::Duration),
    /// Waiting for, or killing, the child failed.
    #[error("managing the child process failed: {0}")]
    Process(#[source] io::Error),
}
