//! The errors of the HTTP server's public API.

use std::io;
use std::net::SocketAddr;

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A path that does not start with `/` or holds `?`, `#` or a space.
    #[error("the {what} `{path}` must start with `/` and hold no `?`, `#` or space")]
    BadPath {
        /// Which path.
        what: &'static str,
        /// Its value.
        path: String,
    },
    /// Two endpoints share a path.
    #[error("two endpoints share the path `{0}`")]
    PathClash(String),
    /// A limit set to zero.
    #[error("`{0}` must be at least 1")]
    Zero(&'static str),
    /// A timeout set to zero.
    #[error("`{0}` must be longer than zero")]
    ZeroDuration(&'static str),
    /// An allowed host that cannot be one.
    #[error("allowed hosts: {0}")]
    BadHost(String),
    /// A trusted proxy that is not an address or a network (`10.0.0.0/8`).
    #[error("trusted proxy {0:?} is not an IP address or a network like 10.0.0.0/8")]
    BadProxy(String),
    /// The OS random generator failed (a replica id could not be drawn).
    #[error("the OS random generator failed")]
    NoEntropy,
}

/// Why [`serve`](super::serve) could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The `host:port` could not be resolved or bound.
    #[error("cannot bind {host}: {source}")]
    BindHost {
        /// The address as given.
        host: String,
        /// What the resolver or the OS said.
        source: io::Error,
    },
    /// The listener's local address could not be read.
    #[error("cannot read the listener's local address: {0}")]
    LocalAddr(#[source] io::Error),
}

impl ServeError {
    /// Whether the configuration was at fault.
    pub fn is_config(&self) -> bool {
        matches!(self, ServeError::Config(_))
    }

    /// Whether binding the socket failed (address in use, permission denied, ...).
    pub fn is_bind(&self) -> bool {
        matches!(self, ServeError::Bind { .. } | ServeError::BindHost { .. })
    }
}

/// Why [`McpService::notify`](super::McpService::notify) could not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// No session has this id (it never existed, or it ended).
    #[error("no session {0:?}")]
    UnknownSession(String),
    /// The session is ending: its stream is closed.
    #[error("the session's stream is closed")]
    Closed,
}
