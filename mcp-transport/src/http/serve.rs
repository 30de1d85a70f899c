//! [`serve`]: the accept loop on a TCP listener, and graceful shutdown.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use mcp_core::Server;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::config::HttpConfig;
use super::error::ServeError;
use super::service::McpService;

/// Where to listen: an already bound listener, or an address to bind.
///
/// Anything that converts into it works as the first argument of [`serve`]: a
/// [`SocketAddr`], a `(ip, port)` pair, a [`TcpListener`], or a string (`"127.0.0.1:8000"`,
/// `"localhost:8000"`, `"[::1]:0"`).
#[derive(Debug)]
pub enum Bind {
    /// A listener bound by the caller.
    Listener(TcpListener),
    /// An address to bind (port 0 picks a free port; see [`RunningServer::local_addr`]).
    Addr(SocketAddr),
    /// A `host:port` to resolve, then bind (the first address that binds is used).
    Host(String),
}

impl From<&str> for Bind {
    /// An address (`127.0.0.1:8000`), or a name to resolve (`localhost:8000`).
    fn from(text: &str) -> Self {
        match text.parse::<SocketAddr>() {
            Ok(addr) => Bind::Addr(addr),
            Err(_) => Bind::Host(text.to_owned()),
        }
    }
}

impl From<String> for Bind {
    fn from(text: String) -> Self {
        Bind::from(text.as_str())
    }
}

impl From<&String> for Bind {
    fn from(text: &String) -> Self {
        Bind::from(text.as_str())
    }
}

impl From<TcpListener> for Bind {
    fn from(listener: TcpListener) -> Self {
        Bind::Listener(listener)
    }
}

impl From<SocketAddr> for Bind {
    fn from(addr: SocketAddr) -> Self {
        Bind::Addr(addr)
    }
}

impl From<(IpAddr, u16)> for Bind {
    fn from(addr: (IpAddr, u16)) -> Self {
        Bind::Addr(addr.into())
    }
}

impl From<([u8; 4], u16)> for Bind {
    /// An IPv4 address and port: `([127, 0, 0, 1], 0)`.
    fn from(addr: ([u8; 4], u16)) -> Self {
        Bind::Addr(addr.into())
    }
}

/// Starts a graceful shutdown of a running server; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// Starts the shutdown: the server stops accepting connections and sessions, ends GET
    /// streams, lets running calls finish within the configured deadline, then closes all.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether the shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// A server started by [`serve`].
///
/// Dropping it leaves the server running in the background; call
/// [`shutdown`](Self::shutdown) to stop it.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    service: McpService,
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The service answering requests (for its [`stats`](McpService::stats)).
    pub fn service(&self) -> &McpService {
        &self.service
    }

    /// A handle that starts the shutdown from elsewhere (a signal handler, for instance).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Shuts down gracefully and waits until every connection is closed.
    pub async fn shutdown(self) {
        self.shutdown.trigger();
        self.wait().await;
    }

    /// Waits until the server has stopped (after a [`Shutdown::trigger`]).
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the MCP HTTP accept loop failed");
        }
    }
}

/// Serves `server` over streamable HTTP (and legacy HTTP+SSE, unless turned off) on `bind`.
///
/// The listener is bound, and the service with its session table built, before this
/// returns: a request sent the moment it returns is answered. Accepted sockets get
/// `TCP_NODELAY`, so each SSE event leaves at once.
///
/// ```no_run
/// # async fn run(server: mcp_core::Server) -> Result<(), mcp_transport::http::ServeError> {
/// use mcp_transport::http::{serve, HttpConfig};
///
/// let running = serve("127.0.0.1:8080", &server, HttpConfig::default()).await?;
/// println!("listening on http://{}/mcp", running.local_addr());
/// let stop = running.shutdown_handle();
/// tokio::spawn(async move {
///     let _ = tokio::signal::ctrl_c().await;
///     stop.trigger();
/// });
/// running.wait().await;
/// # Ok(()) }
/// ```
pub async fn serve(
    bind: impl Into<Bind>,
    server: &Server,
    config: HttpConfig,
) -> Result<RunningServer, ServeError> {
    config.validate()?;
    let listener = match bind.into() {
        Bind::Listener(listener) => listener,
        Bind::Addr(addr) => TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?,
        Bind::Host(host) => TcpListener::bind(host.as_str())
            .await
            .map_err(|source| ServeError::BindHost { host, source })?,
    };
    let local_addr = listener.local_addr().map_err(ServeError::LocalAddr)?;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let deadline = config.shutdown_timeout;
    let service = McpService::build(server, config, Some(local_addr.ip().is_loopback()))?;
    let shutdown = Shutdown::default();
    let task = tokio::spawn(accept_loop(
        listener,
        service.clone(),
        http,
        shutdown.token.clone(),
        deadline,
    ));
    tracing::info!(%local_addr, "MCP HTTP server listening");
    Ok(RunningServer {
        local_addr,
        service,
        shutdown,
        task,
    })
}

/// How long connections get, after the deadline has ended every session, to write the end of
/// their streams before they are closed.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Accept errors that concern one connection only.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

async fn accept_loop(
    listener: TcpListener,
    service: McpService,
    http: http1::Builder,
    shutdown: CancellationToken,
    deadline: Duration,
) {
    let mut connections = JoinSet::new();
    let closing = CancellationToken::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
                    }
                    connections.spawn(connection(stream, service.clone(), http.clone(), closing.clone()));
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors, for instance: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(listener);
    service.begin_shutdown();
    closing.cancel();
    let drained = tokio::time::timeout(deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown deadline passed: closing the remaining connections"
        );
    }
    // Ending the sessions ends their streams; give the connections a moment to write those
    // ends, then close whatever is left.
    service.end_all_sessions().await;
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.shutdown().await;
}

/// Serves one connection; on shutdown, lets the response in progress finish, then closes.
async fn connection(
    stream: TcpStream,
    service: McpService,
    http: http1::Builder,
    closing: CancellationToken,
) {
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        () = closing.cancelled() => {}
    }
    conn.as_mut().graceful_shutdown();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error during shutdown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_addresses_or_names() {
        assert!(matches!(Bind::from("127.0.0.1:8000"), Bind::Addr(a) if a.port() == 8000));
        assert!(matches!(Bind::from("[::1]:0"), Bind::Addr(a) if a.is_ipv6()));
        assert!(matches!(Bind::from("localhost:8000"), Bind::Host(h) if h == "localhost:8000"));
    }

    #[tokio::test]
    async fn a_name_is_resolved_and_bound() {
        let server = Server::builder("t", "1").build().unwrap();
        let running = serve("localhost:0", &server, HttpConfig::default())
            .await
            .expect("localhost resolves and binds");
        assert!(running.local_addr().ip().is_loopback());
        running.shutdown().await;
        let error = serve("no-such-host.invalid:0", &server, HttpConfig::default())
            .await
            .unwrap_err();
        assert!(error.is_bind(), "{error}");
    }
}
