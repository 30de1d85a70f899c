//! [`serve`]: the accept loop on a TCP listener, and graceful shutdown.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use mcp_core::Server;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::body::McpBody;
use super::config::{HostPolicy, HttpConfig};
use super::error::ServeError;
use super::guard::HostSeen;
use super::relay::Relay;
use super::service::{McpService, ServiceFuture};
use super::watched::{Poller, Stall, Watched};

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
    /// streams, lets running calls finish within [`HttpConfig::shutdown_timeout`], ends each
    /// call still running then with a JSON-RPC error on its stream, and closes all.
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
/// `TCP_NODELAY`, so each SSE event leaves at once. The log says which `Host` and `Origin`
/// values the server accepts.
///
/// Each connection is bounded in time: its request headers by
/// [`HttpConfig::header_read_timeout`] (which also ends a kept-alive connection idle that
/// long), a request body by [`HttpConfig::request_body_timeout`], and a response its client
/// stopped reading by [`HttpConfig::send_timeout`]. When accepting fails (out of file
/// descriptors, for instance), the loop backs off and says so once, not once per attempt.
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
    // hyper's own `header_read_timeout` (on by default once it has a timer) would arm a timer
    // per request (an allocation and a timer-wheel entry each time, and an extra read after
    // each response); the connection's task enforces the same limit with the one timer it
    // already keeps.
    let mut http = http1::Builder::new();
    http.header_read_timeout(None);
    let limits = Limits::of(&config);
    // An IPv4 address mapped into IPv6 (`[::ffff:127.0.0.1]`) is loopback too.
    let loopback = super::config::canonical(local_addr.ip()).is_loopback();
    let auto = config.hosts == HostPolicy::Auto;
    let service = McpService::build(server, config, Some(loopback))?;
    let shutdown = Shutdown::default();
    let task = tokio::spawn(accept_loop(
        listener,
        service.clone(),
        Arc::new(http),
        shutdown.token.clone(),
        limits,
    ));
    tracing::info!(%local_addr, accepting = %service.accepted_hosts(), "MCP HTTP server listening");
    if auto && !loopback {
        tracing::warn!(
            "listening beyond loopback without a host allow-list: any Host is accepted and \
             browsers (requests with an Origin) are refused; name this server's hosts \
             (HttpConfig::hosts, or the --allowed-hosts flag) to check Host and let browsers in"
        );
    }
    Ok(RunningServer {
        local_addr,
        service,
        shutdown,
        task,
    })
}

/// The accept loop's time limits.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    /// How long a shutdown lets calls finish.
    grace: Duration,
    /// How long a response may wait for its client to read.
    send_timeout: Duration,
    /// How long a connection may wait for a request's headers (idle between requests
    /// included).
    header_read_timeout: Duration,
    /// The largest window of each connection's idle poll (zero: none).
    idle_poll: Duration,
}

impl Limits {
    /// The limits `config` sets.
    pub(super) fn of(config: &HttpConfig) -> Self {
        Limits {
            grace: config.shutdown_timeout,
            send_timeout: config.send_timeout,
            header_read_timeout: config.header_read_timeout,
            idle_poll: config.idle_poll,
        }
    }
}

/// The server's shutdown as its connections see it: `started` is read on every poll of a
/// connection (an atomic load; the token's own `is_cancelled` takes a lock, twice per call),
/// `token` wakes each connection's task when the shutdown starts.
#[derive(Default)]
pub(super) struct Closing {
    started: AtomicBool,
    token: CancellationToken,
}

impl Closing {
    /// Starts the shutdown for every connection.
    fn start(&self) {
        // Set before the wake-up, so that a connection woken by it reads it.
        self.started.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Whether the shutdown has started.
    fn has_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }
}

/// How long connections get, once the remaining calls were ended with an error, to write
/// those errors before they are closed.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The first pause after a failed accept; it doubles up to [`MAX_ACCEPT_BACKOFF`].
const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// While accepting keeps failing, how often the log is reminded.
const ACCEPT_REPORT_EVERY: Duration = Duration::from_secs(60);

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

/// A streak of failed accepts: paced with a growing pause, logged once at its start, every
/// [`ACCEPT_REPORT_EVERY`] while it lasts, and once at its end.
struct AcceptFailures {
    count: u64,
    backoff: Duration,
    reported: Option<Instant>,
}

impl AcceptFailures {
    fn new() -> Self {
        AcceptFailures {
            count: 0,
            backoff: MIN_ACCEPT_BACKOFF,
            reported: None,
        }
    }

    /// Records a failure; returns how long to pause before the next attempt.
    fn failed(&mut self, error: &io::Error) -> Duration {
        self.count += 1;
        let now = Instant::now();
        match self.reported {
            None => tracing::warn!(
                %error,
                "accepting connections failed; backing off and retrying (further failures \
                 are counted, not logged one by one)"
            ),
            Some(at) if now.duration_since(at) >= ACCEPT_REPORT_EVERY => tracing::warn!(
                %error,
                failures = self.count,
                "accepting connections still fails"
            ),
            Some(_) => return self.next_pause(),
        }
        self.reported = Some(now);
        self.next_pause()
    }

    fn next_pause(&mut self) -> Duration {
        let pause = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_ACCEPT_BACKOFF);
        pause
    }

    /// Records a success, ending the streak.
    fn succeeded(&mut self) {
        if self.count > 0 {
            tracing::info!(
                failures = self.count,
                "accepting connections again after failed attempts"
            );
            *self = AcceptFailures::new();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    service: McpService,
    http: Arc<http1::Builder>,
    shutdown: CancellationToken,
    limits: Limits,
) {
    let mut connections = JoinSet::new();
    let closing = Arc::new(Closing::default());
    let mut failures = AcceptFailures::new();
    // Requests begun on every connection that has an idle poll: a connection's poll runs only
    // while no other connection has begun one over its last round (see `Watched::new`).
    let begun = Arc::new(std::sync::atomic::AtomicU64::new(0));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    failures.succeeded();
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
                    }
                    let served = connection(
                        stream,
                        peer,
                        service.clone(),
                        http.clone(),
                        closing.clone(),
                        limits,
                        begun.clone(),
                    );
                    connections.spawn(served);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors, for instance: wait instead of spinning, and
                    // keep listening for the shutdown meanwhile.
                    let pause = failures.failed(&e);
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }
    drop(listener);
    shut_down(&service, &mut connections, &closing, limits.grace).await;
}

/// The shutdown after the listener closed: no new sessions, connections finish what they
/// are answering, calls get `grace` to finish; then each call still running is ended with a
/// JSON-RPC error on its stream, the connections get a moment to write those, and everything
/// left is closed.
async fn shut_down(
    service: &McpService,
    connections: &mut JoinSet<()>,
    closing: &Closing,
    grace: Duration,
) {
    service.begin_shutdown();
    closing.start();
    let mut stats = service.watch_stats();
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
        // Calls whose connection dropped run on, waiting for a client to resume them.
        let _ = stats.wait_for(|s| s.open_streams == 0).await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace over with calls still running"
        );
    }
    let ended = service.fail_remaining_calls().await;
    if ended > 0 {
        tracing::warn!(
            calls = ended,
            "ended the calls still running with a JSON-RPC error (the server is shutting down)"
        );
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    service.end_all_sessions().await;
    connections.shutdown().await;
}

/// Serves one connection from `peer`: closes it when a response waits for the client to read
/// for `send_timeout`, or when it waits for a request's headers (idle between requests
/// included) for `header_read_timeout`; on shutdown, lets the response in progress finish,
/// then closes.
///
/// One timer serves both limits: it is looked at when it fires (rarely: the limits are
/// seconds long), never moved per request. `begun` counts the requests begun on every
/// connection of the server (see [`Watched::new`]).
///
/// Its future is the task of each connection, for as long as the connection is open: the
/// `sizes` test bounds it (see there). It sets the connection up itself, on the
/// connection's task (so its buffers come from the allocator of the thread that serves
/// it), and holds the connection once: an `async fn` would move each argument into a local
/// and, with `tokio::pin!`, keep the connection twice (a release build: 1552 -> 1232 bytes,
/// 13 -> 11 of the task's 128-byte lines).
// clippy's `async fn` form is 128 bytes larger (1376 against 1248 in a debug build).
#[allow(clippy::manual_async_fn)]
pub(super) fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: McpService,
    http: Arc<http1::Builder>,
    closing: Arc<Closing>,
    limits: Limits,
    begun: Arc<std::sync::atomic::AtomicU64>,
) -> impl Future<Output = ()> + Send + 'static {
    // An `async` block: its captures are used where they lie.
    async move {
        let idle_poll = Poller::new(TcpStream::try_read, limits.idle_poll);
        let (io, stall) = Watched::new(stream, idle_poll, begun);
        let service = Connected {
            service,
            peer: peer.ip(),
            stall: stall.clone(),
            host_seen: HostSeen::default(),
        };
        let mut conn = http.serve_connection(TokioIo::new(io), service);
        let mut conn = Pin::new(&mut conn);
        // While the connection is alone (as its idle poll counts it: no other connection
        // began a request over its last round), hyper is polled through the relay: its
        // wake-up of the task during a poll (once per request with a body) becomes a second
        // look within that poll. With several busy clients it is polled as it is (the relay
        // made 4 lockstep clients slower: `BENCHMARKS.md`, "HTTP idle poll").
        let relay = Relay::new();
        let mut draining = false;
        loop {
            let check = stall
                .deadline(limits.send_timeout)
                .min(stall.request_deadline(limits.header_read_timeout));
            let timer = std::pin::pin!(tokio::time::sleep_until(check));
            let closed = std::pin::pin!(closing.token.cancelled());
            match next_event(
                &relay,
                &stall,
                conn.as_mut(),
                closed,
                timer,
                &closing,
                draining,
            )
            .await
            {
                Event::Done(result) => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                Event::Closing => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                Event::Timer => {
                    let now = Instant::now();
                    if stall.blocked_for(now) >= limits.send_timeout {
                        tracing::debug!(%peer, "the client stopped reading its response: closing the connection");
                        return;
                    }
                    if stall.blocked_for(now).is_zero()
                        && stall.waiting_for(now) >= limits.header_read_timeout
                    {
                        tracing::debug!(%peer, "no request headers within the header read timeout: closing the connection");
                        return;
                    }
                }
            }
        }
    }
}

/// What ends a connection task's wait.
enum Event<R> {
    /// The connection ended.
    Done(R),
    /// The server began its shutdown.
    Closing,
    /// The connection's timer fired.
    Timer,
}

/// Waits for the connection to end, for the shutdown (unless `draining` already), or for
/// the timer; the connection is polled first, through `relay` (its [`Relay`] and waker)
/// while the connection is alone (`stall` says so: [`Stall::alone`]).
///
/// The shutdown and the timer fire rarely (a shutdown, a timer seconds long), while the
/// connection wakes its task for every read and write. So they are polled only until they
/// have the task's waker; on later wake-ups with that same waker (`will_wake`) their state
/// is only looked at (`is_cancelled`, `is_elapsed`), which costs a fraction of a poll: both
/// wake the waker they were given when they fire. A different waker polls them again.
async fn next_event<F: Future>(
    (relay, relay_waker): &(Arc<Relay>, Waker),
    stall: &Stall,
    mut conn: Pin<&mut F>,
    mut closed: Pin<&mut WaitForCancellationFuture<'_>>,
    mut timer: Pin<&mut tokio::time::Sleep>,
    closing: &Closing,
    draining: bool,
) -> Event<F::Output> {
    let mut registered: Option<Waker> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(result) = relay.poll(relay_waker, cx, conn.as_mut(), stall.alone()) {
            return Poll::Ready(Event::Done(result));
        }
        if registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            if !draining && closing.has_started() {
                return Poll::Ready(Event::Closing);
            }
            if timer.is_elapsed() {
                return Poll::Ready(Event::Timer);
            }
            return Poll::Pending;
        }
        if !draining && closed.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Event::Closing);
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Event::Timer);
        }
        registered = Some(cx.waker().clone());
        Poll::Pending
    })
    .await
}

/// The service of one connection: the MCP service, told the peer's address and the `Host`
/// this connection's requests were last accepted with; each response tells the connection
/// when it ends.
struct Connected {
    service: McpService,
    peer: IpAddr,
    stall: Arc<Stall>,
    host_seen: HostSeen,
}

impl hyper::service::Service<Request<Incoming>> for Connected {
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.service.respond(
            request,
            Some(self.peer),
            Some(self.stall.responding()),
            Some(&self.host_seen),
        )
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
