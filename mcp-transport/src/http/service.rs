//! [`McpService`]: the hyper service that answers the MCP endpoints.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use http::{Method, Request, Response};
use hyper::body::Body;
use mcp_core::Server;
use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::jsonrpc::Notification;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::body::McpBody;
use super::config::HttpConfig;
use super::error::{ConfigError, NotifyError};
use super::guard::{HostCheck, HostSeen, check_bearer};
use super::peer::{ClientAddr, ClientKey};
use super::reject::Rejection;
use super::scan::Scanned;
use super::session::{Admitted, Counters, HttpSession, SessionTable, Stats};
use super::streamable::Answer;
use super::watched::Responding;
use super::{legacy, stateless, streamable};

/// Where metrics are served, when they are on.
const METRICS_PATH: &str = "/metrics";

/// An endpoint's answer, boxed: its response, or why the request is refused.
pub(crate) type Answering = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// The future of one response of an [`McpService`], as hyper wants it: the endpoint's
/// answer, boxed (the one allocation per request), and what the response's body holds for
/// its connection.
///
/// The box holds the endpoint's future itself, nothing around it: a refusal becomes its
/// response here, when the answer comes.
pub struct ServiceFuture {
    answer: Answering,
    responding: Option<Responding>,
}

impl std::fmt::Debug for ServiceFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceFuture").finish_non_exhaustive()
    }
}

impl Future for ServiceFuture {
    type Output = Result<Response<McpBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let answer = std::task::ready!(this.answer.as_mut().poll(cx));
        let mut response = answer.unwrap_or_else(refuse);
        // Given to the body where it lies: the response is not moved again.
        if let Some(responding) = this.responding.take() {
            response.body_mut().hold(responding);
        }
        Poll::Ready(Ok(response))
    }
}

/// Boxes an endpoint's answer.
fn answering(answer: impl Future<Output = Answer> + Send + 'static) -> Answering {
    Box::pin(answer)
}

/// The response to a refused request (marked with its reason, for metrics).
fn refuse(rejection: Rejection) -> Response<McpBody> {
    tracing::debug!(status = %rejection.status(), reason = %rejection, "request refused");
    let reason = Refused(rejection.reason());
    let mut response = rejection.into_response();
    response.extensions_mut().insert(reason);
    response
}

/// Why a response refuses its request.
#[derive(Debug, Clone, Copy)]
struct Refused(&'static str);

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) server: Server,
    pub(crate) config: HttpConfig,
    pub(crate) hosts: HostCheck,
    pub(crate) table: SessionTable,
    pub(crate) counters: Counters,
    /// Cancelled when a graceful shutdown begins.
    pub(crate) draining: CancellationToken,
    /// The stateless (2026-07-28) requests running now: they have no session in the table.
    pub(crate) stateless: Arc<stateless::Running>,
    /// This replica's part in a deployment of several, with a shared store.
    pub(crate) cluster: Option<super::shared::Cluster>,
}

impl Shared {
    /// Ends a session already removed from the table: cancels its calls, closes its streams,
    /// forgets its stored events.
    pub(crate) async fn end_session(&self, session: Arc<HttpSession>) {
        session.close();
        if !session.is_legacy() {
            self.config
                .event_store
                .forget_session(session.id.clone())
                .await;
        }
    }

    /// Ends the sessions that have been idle too long, or unused since `initialize` for the
    /// handshake timeout.
    pub(crate) async fn sweep(&self) {
        let (idle, handshake) = (self.config.idle_timeout, self.config.handshake_timeout);
        for session in self.table.expire(Instant::now(), idle, handshake) {
            tracing::debug!(session = %session.id, client = %session.client, "session expired");
            self.end_session(session).await;
        }
    }

    /// Registers a new session (see [`SessionTable::insert`]), ending the unused session that
    /// made room for it, if one had to.
    pub(crate) async fn admit<T>(
        &self,
        make: impl FnOnce(Arc<str>) -> (Arc<HttpSession>, T),
    ) -> Result<(Arc<HttpSession>, T), Rejection> {
        let admitted = self.table.insert(make).inspect_err(|_| {
            tracing::warn!(
                limit = self.config.max_sessions,
                "session limit reached and every session is in use: refusing a new one"
            );
        })?;
        let Admitted {
            session,
            extra,
            evicted,
        } = admitted;
        if let Some(old) = evicted {
            tracing::debug!(
                session = %old.id,
                client = %old.client,
                "session limit reached: ended an unused session to make room"
            );
            self.end_session(old).await;
        }
        Ok((session, extra))
    }

    /// Ends every call still running, in every session, with a JSON-RPC error saying the
    /// server is shutting down; each goes out where the call's response would have. Returns
    /// how many calls were ended.
    pub(crate) async fn fail_remaining_calls(&self) -> usize {
        let error = RpcError::new(
            ErrorCode::SERVER_ERROR,
            "the server is shutting down: the request was stopped before it finished",
        )
        .with_data(serde_json::json!({"reason": "shutdown"}));
        let mut ended = self.stateless.fail_all(&error).await;
        for session in self.table.all() {
            ended += session.session.fail_all(error.clone()).await;
        }
        ended
    }

    /// Refuses new sessions while shutting down.
    pub(crate) fn accepting(&self) -> Result<(), Rejection> {
        if self.draining.is_cancelled() {
            Err(Rejection::ShuttingDown)
        } else {
            Ok(())
        }
    }
}

/// The MCP server as a hyper [`Service`](hyper::service::Service): streamable HTTP at the
/// configured endpoint and, unless turned off, the legacy HTTP+SSE transport beside it.
///
/// Cheap to clone: clones share sessions. Use it with hyper's connection builders, or call
/// [`handle`](Self::handle) from any framework's handler (an axum fallback, for instance).
/// [`serve`](super::serve) runs it on a TCP listener with everything set up.
///
/// ```no_run
/// # async fn run(server: mcp_core::Server) -> Result<(), Box<dyn std::error::Error>> {
/// use hyper_util::rt::TokioIo;
/// use mcp_transport::http::{HttpConfig, McpService};
///
/// let service = McpService::new(&server, HttpConfig::default())?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// loop {
///     let (stream, _) = listener.accept().await?;
///     stream.set_nodelay(true)?;
///     let service = service.clone();
///     tokio::spawn(async move {
///         let io = TokioIo::new(stream);
///         let _ = hyper::server::conn::http1::Builder::new()
///             .serve_connection(io, service)
///             .await;
///     });
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct McpService {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpService")
            .field("server", &self.shared.server)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl McpService {
    /// A service for `server`. [`HostPolicy::Auto`](super::HostPolicy::Auto) means localhost
    /// names only here, since the service cannot know where it is reachable.
    ///
    /// Inside a tokio runtime this also starts the task that ends idle sessions; elsewhere,
    /// idle sessions are swept whenever a new session starts.
    ///
    /// Tell it each request's client address with a [`ClientAddr`] extension (see there):
    /// session admission counts sessions per client.
    pub fn new(server: &Server, config: HttpConfig) -> Result<Self, ConfigError> {
        Self::build(server, config, None)
    }

    pub(crate) fn build(
        server: &Server,
        config: HttpConfig,
        loopback: Option<bool>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let counters = Counters::new();
        let cluster = match &config.shared_store {
            Some(store) => Some(
                super::shared::Cluster::new(store.clone(), config.replica_lease)
                    .ok_or(ConfigError::NoEntropy)?,
            ),
            None => None,
        };
        // Replicas sharing a store share their tasks too, with the replicas' lease.
        let server = match config.shared_store.as_ref().and_then(|s| s.tasks()) {
            Some(tasks) => server
                .with_task_store(tasks)
                .with_task_config(server.task_config().clone().lease(config.replica_lease)),
            None => server.clone(),
        };
        let shared = Arc::new(Shared {
            server,
            hosts: HostCheck::resolve(&config.hosts, loopback),
            table: SessionTable::new(config.max_sessions, counters.clone()),
            counters,
            draining: CancellationToken::new(),
            stateless: Arc::default(),
            cluster,
            config,
        });
        super::shared::Cluster::start(&shared);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let soonest = shared
                .config
                .idle_timeout
                .map_or(shared.config.handshake_timeout, |idle| {
                    idle.min(shared.config.handshake_timeout)
                });
            runtime.spawn(reap(Arc::downgrade(&shared), soonest));
        }
        Ok(McpService { shared })
    }

    /// Answers one request. Never fails: every refusal is a response with its status.
    ///
    /// The client's address is read from the request's [`ClientAddr`] extension, if any.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<McpBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let peer = request.extensions().get::<ClientAddr>().map(|a| a.0.ip());
        match self.respond(request, peer, None, None).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// Routes `request` from `peer` at once and returns the boxed future of its answer: the
    /// one allocation per request holds only the endpoint's own state, not the request again
    /// for every layer of routing.
    ///
    /// `responding`, when given, is kept by the response's body until it ends (the serving
    /// connection then starts waiting for its next request); `seen`, when given, is the
    /// serving connection's memory of the `Host` it accepted last.
    #[inline]
    pub(crate) fn respond<B>(
        &self,
        request: Request<B>,
        peer: Option<IpAddr>,
        responding: Option<Responding>,
        seen: Option<&HostSeen>,
    ) -> ServiceFuture
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let answer = match self.route(request, peer, seen) {
            Ok(answer) => answer,
            Err(rejection) => Box::pin(std::future::ready(Err(rejection))),
        };
        let answer = match &self.shared.config.metrics {
            None => answer,
            Some(metrics) => {
                let metrics = metrics.clone();
                Box::pin(answer.map(move |answer| {
                    let response = answer.unwrap_or_else(refuse);
                    if let Some(Refused(reason)) = response.extensions().get::<Refused>() {
                        metrics.refused(reason);
                    }
                    Ok(response.map(|body| body.metered(metrics)))
                }))
            }
        };
        ServiceFuture { answer, responding }
    }

    fn route<B>(
        &self,
        request: Request<B>,
        peer: Option<IpAddr>,
        seen: Option<&HostSeen>,
    ) -> Result<Answering, Rejection>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let shared = &self.shared;
        // The usual headers, found in one pass: the host check and a POST's read them.
        let scanned = Scanned::of(request.headers());
        shared.hosts.check_on(&scanned, request.uri(), seen)?;
        let identity = check_bearer(request.headers(), &shared.config.bearer)?;
        let client = |request: &Request<B>| {
            let proxies = &shared.config.trusted_proxies;
            ClientKey::of(identity.clone(), peer, request.headers(), proxies)
        };
        let path = request.uri().path();
        let at_endpoint = path == shared.config.endpoint;
        let metrics_at = |path: &str| path == METRICS_PATH && shared.config.metrics.is_some();
        // The usual request first: a POST to the endpoint.
        if at_endpoint && request.method() == Method::POST {
            let remembered = seen.map(|seen| &seen.session);
            let head = streamable::post_head(shared, request.headers(), &scanned, remembered)?;
            if metrics_at(path) {
                return Err(Rejection::MethodNotAllowed("GET"));
            }
            // Only a POST that opens a session or runs statelessly reads the client's key, and
            // one that names a session does neither.
            let client = match head.names_session() {
                true => ClientKey::Unknown,
                false => client(&request),
            };
            return Ok(answering(streamable::post(shared, request, head, client)));
        }
        let method = request.method().clone();
        if metrics_at(path)
            && let Some(metrics) = &shared.config.metrics
        {
            if method != Method::GET {
                return Err(Rejection::MethodNotAllowed("GET"));
            }
            let text = metrics.render(Some(shared.counters.get()));
            let response = Response::builder()
                .header(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)
                .body(McpBody::full(text))
                .expect("a valid response");
            return Ok(Box::pin(std::future::ready(Ok(response))));
        }
        let owned = shared.clone();
        if at_endpoint {
            return match method {
                Method::GET => Ok(answering(
                    async move { streamable::get(&owned, request).await },
                )),
                Method::DELETE => Ok(answering(async move {
                    streamable::delete(&owned, request).await
                })),
                _ => Err(Rejection::MethodNotAllowed("GET, POST, DELETE")),
            };
        }
        if let Some(paths) = &shared.config.legacy {
            if path == paths.sse {
                return match method {
                    Method::GET => {
                        let client = client(&request);
                        Ok(answering(async move {
                            legacy::open(&owned, request, client).await
                        }))
                    }
                    _ => Err(Rejection::MethodNotAllowed("GET")),
                };
            }
            if path == paths.messages {
                return match method {
                    Method::POST => Ok(answering(
                        async move { legacy::post(&owned, request).await },
                    )),
                    _ => Err(Rejection::MethodNotAllowed("POST")),
                };
            }
        }
        Err(Rejection::NotFound)
    }

    /// What every handler shares.
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The counts right now.
    pub fn stats(&self) -> Stats {
        self.shared.counters.get()
    }

    /// How many requests are running in all sessions together, and as stateless (2026-07-28)
    /// requests (tool calls and the other requests that run as tasks): the server's count of
    /// live calls.
    pub fn calls_in_flight(&self) -> usize {
        self.shared.table.calls_in_flight() + self.shared.stateless.calls_in_flight()
    }

    /// What the `Host` and `Origin` checks accept, as said in the start-up log.
    pub fn accepted_hosts(&self) -> String {
        self.shared.hosts.describe()
    }

    /// A receiver that sees every change of the counts: `rx.wait_for(|s| ...)` waits for a
    /// condition without polling.
    pub fn watch_stats(&self) -> watch::Receiver<Stats> {
        self.shared.counters.watch()
    }

    /// Ends a session as a DELETE would. Returns whether it existed.
    pub async fn end_session(&self, id: &str) -> bool {
        match self.shared.table.remove(id) {
            Some(session) => {
                self.shared.end_session(session).await;
                true
            }
            None => false,
        }
    }

    /// Sends a notification that belongs to no request (a list change, a resource update) to
    /// one session: on streamable HTTP it goes to the session's GET stream (and is stored for
    /// resumption if no GET stream is open), on legacy HTTP+SSE to its stream. Waits while
    /// that stream is behind.
    pub async fn notify(
        &self,
        session: &str,
        notification: Notification,
    ) -> Result<(), NotifyError> {
        let target = self
            .shared
            .table
            .get(session)
            .ok_or_else(|| NotifyError::UnknownSession(session.to_owned()))?;
        target
            .session
            .notify(notification)
            .await
            .map_err(|_| NotifyError::Closed)
    }

    /// Sends a notification to every initialized session; returns how many took it.
    pub async fn notify_all(&self, notification: Notification) -> usize {
        let mut delivered = 0;
        for target in self.shared.table.all() {
            if target.session.is_initialized()
                && target.session.notify(notification.clone()).await.is_ok()
            {
                delivered += 1;
            }
        }
        delivered
    }

    /// Starts a graceful shutdown: no new sessions, GET streams end, running calls go on.
    pub(crate) fn begin_shutdown(&self) {
        self.shared.draining.cancel();
        // Stateless listen streams end with their completion result.
        self.shared.server.close_subscriptions();
    }

    /// Ends every call still running with a JSON-RPC error; see [`Shared::fail_remaining_calls`].
    pub(crate) async fn fail_remaining_calls(&self) -> usize {
        self.shared.fail_remaining_calls().await
    }

    /// Ends every session.
    pub(crate) async fn end_all_sessions(&self) {
        for session in self.shared.table.take_all() {
            self.shared.end_session(session).await;
        }
    }
}

/// Ends expired sessions every so often, until the service is gone: at least four times per
/// `soonest`, the shortest of the expiry timeouts.
async fn reap(shared: Weak<Shared>, soonest: Duration) {
    let period = (soonest / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
    loop {
        tokio::time::sleep(period).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.sweep().await;
    }
}

impl<B> hyper::service::Service<Request<B>> for McpService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, request: Request<B>) -> Self::Future {
        let peer = request.extensions().get::<ClientAddr>().map(|a| a.0.ip());
        self.respond(request, peer, None, None)
    }
}
