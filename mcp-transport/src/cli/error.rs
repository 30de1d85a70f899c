//! Why the serving call stopped with an error.

/// Why [`ServeArgs::run`](super::ServeArgs::run) (or [`serve`](super::serve)) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The flags contradict each other or name something that cannot work.
    #[error("{0}")]
    Config(String),
    /// The HTTP server could not start (address in use, bad configuration).
    #[error(transparent)]
    Http(#[from] crate::http::ServeError),
    /// The stdio server stopped on an I/O error.
    #[error(transparent)]
    Stdio(#[from] crate::stdio::StdioError),
    /// A plugin's start hook failed (the plugins started before it were shut down).
    #[error(transparent)]
    Plugin(#[from] mcp_core::plugin::StartError),
}
