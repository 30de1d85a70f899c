//! The streamable HTTP endpoint (protocol 2025-03-26 and later): POST, GET and DELETE.

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::body::Body;
use mcp_core::error::RpcError;
use mcp_core::jsonrpc::{ErrorResponse, Incoming, Message, RequestId};
use mcp_core::protocol::methods;
use mcp_core::server::{Era, is_stateless};
use mcp_core::transport::{Outbound, Outbox};
use mcp_core::{ProtocolVersion, Server};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::{Looked, McpBody, first_look, read_rest};
use super::config::ResponseMode;
use super::event_store::{EventId, StreamKey};
use super::guard::{
    accepts, accepts_each, accepts_each_of, check_protocol_version, is_json_value, is_usual_accept,
};
use super::mirror::Mirrored;
use super::peer::ClientKey;
use super::post_sink::PostSink;
use super::reject::Rejection;
use super::respond::{self, SESSION_ID};
use super::scan::Scanned;
use super::service::Shared;
use super::session::{CountGuard, HttpSession, SessionSeen};
use super::shared::{self, Remote};
use super::sse::{self, Live, SseBody, StopWhen};
use super::stateless;
use super::stream::{Answers, Drained, Reclaim, Resumed, StreamSlot, publish_ready, pump, replay};

pub(crate) type Answer = Result<Response<McpBody>, Rejection>;

/// The session a request names: 400 without the header, 404 if unknown or ended.
fn session_of(shared: &Shared, headers: &HeaderMap) -> Result<Arc<HttpSession>, Rejection> {
    session_named(shared, headers.get(SESSION_ID))
}

/// [`session_of`] the `Mcp-Session-Id` value given.
fn session_named(shared: &Shared, id: Option<&HeaderValue>) -> Result<Arc<HttpSession>, Rejection> {
    let id = id.ok_or(Rejection::MissingSession)?;
    let id = id.to_str().map_err(|_| Rejection::UnknownSession)?;
    shared
        .table
        .get(id)
        .filter(|s| !s.is_legacy())
        .ok_or(Rejection::UnknownSession)
}

/// [`session_named`], through what the serving connection remembers, if it is given.
fn session_named_on(
    shared: &Shared,
    id: Option<&HeaderValue>,
    seen: Option<&SessionSeen>,
) -> Result<Arc<HttpSession>, Rejection> {
    let Some(seen) = seen else {
        return session_named(shared, id);
    };
    // (No refusal made beforehand: one made and dropped unused costs a call to its drop.)
    let Some(id) = id else {
        return Err(Rejection::MissingSession);
    };
    match shared.table.get_seen(id.as_bytes(), seen) {
        Some(session) if !session.is_legacy() => Ok(session),
        _ => Err(Rejection::UnknownSession),
    }
}

/// The session id a request names, when this replica does not know it and a shared store
/// may (the session may live on another replica).
fn elsewhere(
    shared: &Shared,
    headers: &HeaderMap,
    session: &Result<Arc<HttpSession>, Rejection>,
) -> Option<Arc<str>> {
    elsewhere_named(shared, headers.get(SESSION_ID), session)
}

/// [`elsewhere`], of the `Mcp-Session-Id` value given.
fn elsewhere_named(
    shared: &Shared,
    id: Option<&HeaderValue>,
    session: &Result<Arc<HttpSession>, Rejection>,
) -> Option<Arc<str>> {
    if shared.cluster.is_none() || !matches!(session, Err(Rejection::UnknownSession)) {
        return None;
    }
    id?.to_str().ok().map(Arc::from)
}

/// The other replica a session lives on, if the request names one; with `alive`, only while
/// that replica's lease is current (a session of a dead replica is gone: 404).
async fn remote(shared: &Shared, elsewhere: Option<Arc<str>>, alive: bool) -> Option<Remote> {
    let remote = shared.cluster.as_ref()?.remote(&elsewhere?).await?;
    (remote.alive || !alive).then_some(remote)
}

fn content_length(value: Option<&HeaderValue>) -> Option<u64> {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Whether streams of this session start with a priming event (revision 2025-11-25 on:
/// earlier clients may choke on an event with empty data).
fn primes(session: &HttpSession) -> bool {
    session
        .session
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V2025_11_25)
}

fn priming(shared: &Shared, id: EventId) -> bytes::Bytes {
    sse::priming_event(id, shared.config.retry)
}

/// What a POST's headers decide, before its body is read.
pub(crate) struct PostHead {
    content_length: Option<u64>,
    names_session: bool,
    /// The `MCP-Protocol-Version` header names a stateless revision, or one this server does
    /// not know (which only the stateless era answers, with -32022).
    stateless_version: bool,
    version: Result<(), Rejection>,
    session: Result<Arc<HttpSession>, Rejection>,
    /// The session id named, when it is not a session of this replica and a shared store
    /// may know it.
    elsewhere: Option<Arc<str>>,
    mirrored: Mirrored,
}

impl PostHead {
    /// Whether the POST names a session (`Mcp-Session-Id`).
    pub(crate) fn names_session(&self) -> bool {
        self.names_session
    }
}

#[cfg(test)]
impl PostHead {
    /// What headers naming nothing decide, unchecked (for measuring a POST's future).
    pub(crate) fn unchecked() -> Self {
        PostHead {
            content_length: None,
            names_session: false,
            stateless_version: false,
            version: Ok(()),
            session: Err(Rejection::MissingSession),
            elsewhere: None,
            mirrored: Mirrored::default(),
        }
    }
}

/// Checks a POST's headers (`headers`, whose usual ones were `scanned`); refusals that do
/// not depend on the body come first.
pub(crate) fn post_head(
    shared: &Shared,
    headers: &HeaderMap,
    scanned: &Scanned<'_>,
    seen: Option<&SessionSeen>,
) -> Result<PostHead, Rejection> {
    const BOTH: [&str; 2] = ["application/json", "text/event-stream"];
    let accepted = match scanned.accept.repeated() {
        // What clients send: both, without a parse.
        false if scanned.accept.first().is_some_and(is_usual_accept) => [true, true],
        false => accepts_each_of(scanned.accept.first(), BOTH),
        true => accepts_each(headers, BOTH),
    };
    if accepted != [true, true] {
        return Err(Rejection::NotAcceptable(
            "both application/json and text/event-stream",
        ));
    }
    if !is_json_value(scanned.content_type.first()) {
        return Err(Rejection::UnsupportedMediaType);
    }
    // Read once: whether it names a stateless revision (or one this server does not know,
    // which only the stateless era answers), and whether it is acceptable at all.
    let declared = scanned.protocol_version.first().map(|v| {
        // The usual value: a revision this server knows, exactly as its name is written.
        let bytes = v.as_bytes();
        // Newest first: what clients usually send.
        let mut revisions = ProtocolVersion::MODERN
            .into_iter()
            .chain(ProtocolVersion::ALL.into_iter().rev());
        if let Some(known) = revisions.find(|r| r.as_str().as_bytes() == bytes) {
            return (known.is_modern(), Ok(()));
        }
        let text = String::from_utf8_lossy(bytes);
        let trimmed = text.trim();
        let parsed = trimmed.parse::<ProtocolVersion>();
        let stateless = parsed.as_ref().map_or(true, |v| v.is_modern());
        // The check takes the value as sent, untrimmed.
        let known = if trimmed.len() == text.len() {
            parsed.is_ok()
        } else {
            text.parse::<ProtocolVersion>().is_ok()
        };
        let checked = match known {
            true => Ok(()),
            false => Err(Rejection::BadProtocolVersion(text.into_owned())),
        };
        (stateless, checked)
    });
    let (stateless_version, version) = declared.unwrap_or((false, Ok(())));
    let id = scanned.session_id.first();
    let session = session_named_on(shared, id, seen);
    Ok(PostHead {
        content_length: content_length(scanned.content_length.first()),
        names_session: id.is_some(),
        stateless_version,
        version,
        elsewhere: elsewhere_named(shared, id, &session),
        session,
        // Taken by `post` from the request's headers, where a POST may be stateless.
        mirrored: Mirrored::default(),
    })
}

/// Whether a POST is served statelessly: it names no session, the server serves the
/// stateless era, and the message says so (its `_meta`, its method, its version header), or
/// the server serves nothing else.
///
/// The version header is looked at before `_meta`: a stateless request must send it, and
/// then it decides without reading `_meta`, which the answer reads once
/// (`RequestMeta::read`). Only a request without it has `_meta` read here too.
fn is_stateless_post(server: &Server, head: &PostHead, message: &Message) -> bool {
    if head.names_session || !server.serves(Era::Stateless) {
        return false;
    }
    if !server.serves(Era::Stateful) {
        return true;
    }
    match message {
        // `initialize` opens a session, unless it carries a stateless request's `_meta`
        // (the revision then answers it as a method that does not exist).
        Message::Request(r) if r.method == methods::INITIALIZE => is_stateless(r),
        Message::Request(r) => head.stateless_version || is_stateless(r),
        _ => head.stateless_version,
    }
}

/// What a POST's message asks for, decided before anything waits.
enum Posted {
    /// A JSON-RPC batch, in a session.
    Batch(Vec<Result<Message, Box<ErrorResponse>>>),
    /// A stateless (2026-07-28) request.
    Stateless(mcp_core::jsonrpc::Request),
    /// Anything else a stateless POST carries.
    StatelessOther,
    /// `initialize`, starting a session.
    Initialize(mcp_core::jsonrpc::Request),
    /// A message in a session (or on another replica), and its id if it is a request.
    Session(Message, Option<RequestId>),
}

impl Posted {
    /// Parses the body of a POST whose headers decided `head`. The body is consumed here,
    /// and the message only moved after: the future of the POST never keeps either (a
    /// value borrowed in an async block keeps its room in the future until its scope ends).
    #[inline]
    fn of(server: &Server, head: &PostHead, bytes: Bytes) -> Result<Posted, Rejection> {
        let message = match Incoming::parse(&bytes).map_err(Rejection::Malformed)? {
            Incoming::Single(message) => message,
            Incoming::Batch(items) => return Ok(Posted::Batch(items)),
        };
        if is_stateless_post(server, head, &message) {
            return Ok(match message {
                Message::Request(request) => Posted::Stateless(request),
                _ => Posted::StatelessOther,
            });
        }
        let id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        if message.method() == Some(methods::INITIALIZE) {
            if head.names_session {
                return Err(Rejection::InitializeWithSession.answering(id.as_ref()));
            }
            if let Message::Request(init) = message {
                return Ok(Posted::Initialize(init));
            }
        }
        Ok(Posted::Session(message, id))
    }
}

/// POST: one JSON-RPC message from the client, whose headers decided `head` (see
/// [`post_head`]). `client` is read only by a POST that names no session (`initialize`, a
/// stateless request): one that names a session may pass [`ClientKey::Unknown`].
///
/// The headers are read at once (the request is not kept): the future holds only the body
/// and what the headers decided. That future is boxed for as long as the POST lasts, so it
/// is kept small (a test bounds its size): rare paths are boxed on their own, and nothing
/// large is held twice.
pub(crate) fn post<B>(
    shared: &Arc<Shared>,
    request: Request<B>,
    mut head: PostHead,
    client: ClientKey,
) -> impl Future<Output = Answer> + Send + 'static
where
    B: Body + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    // The map moved out, the rest dropped: no empty map is made in its place.
    let (http::request::Parts { mut headers, .. }, body) = request.into_parts();
    // Only a stateless POST checks them, and one that names a session never is.
    if !head.names_session {
        head.mirrored = Mirrored::take(&mut headers);
    }
    // Emptied, the request's header map holds a response's headers (see
    // `respond::answered_sse`).
    headers.clear();
    let shared = shared.clone();
    async move {
        let limit = shared.config.max_body_bytes;
        let timeout = shared.config.request_body_timeout;
        // The first look made here, in place (no future of its own held for it): it usually
        // finds the whole body.
        let mut body = std::pin::pin!(body);
        let look = std::future::poll_fn(|cx| {
            Poll::Ready(first_look(body.as_mut(), cx, head.content_length, limit))
        });
        let bytes = match look.await? {
            Looked::Whole(bytes) => bytes,
            Looked::Begun(first) => {
                read_rest(body, first, head.content_length, limit, timeout).await?
            }
        };
        let (message, id) = match Posted::of(&shared.server, &head, bytes)? {
            Posted::Session(message, id) => (message, id),
            // This era defines no client notifications over HTTP (closing a stream cancels);
            // accept and ignore them.
            Posted::StatelessOther => return Ok(respond::empty(StatusCode::ACCEPTED)),
            // Moved whole into a box of its own (as each was boxed before): what a value
            // only partly moved out of keeps its room in this future across every await.
            other => return other.answer(shared, head, headers, client).await,
        };
        head.version.map_err(|r| r.answering(id.as_ref()))?;
        // Named only where a shared store may know the session: no look otherwise.
        if head.elsewhere.is_some()
            && let Some(remote) = remote(&shared, head.elsewhere, true).await
        {
            return forwarded(&shared, remote, message).await;
        }
        let session = head.session.map_err(|r| r.answering(id.as_ref()))?;
        let _busy = session.busy();
        // Usually answered at once: then no future of the answer is made, nor kept.
        let later = match delivered(&shared, &session, message, id, &mut headers) {
            Delivered::Now(answer) => return answer,
            Delivered::Later(later) => later,
        };
        later.await
    }
}

/// An answer's future, boxed.
type Boxed<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// What delivering a message to its session gave at once: the answer, or its future, boxed:
/// a POST's own future (boxed per request, and written into its box whole) holds only a
/// pointer for what only an answer that waits needs.
enum Delivered<'a> {
    Now(Answer),
    Later(Boxed<'a>),
}

/// A message sent to a session on another replica, boxed (shared stores only).
fn forwarded(
    shared: &Arc<Shared>,
    remote: Remote,
    message: Message,
) -> Pin<Box<dyn Future<Output = Answer> + Send + '_>> {
    match message {
        Message::Request(request) => Box::pin(shared::forward_request(shared, remote, request)),
        other => Box::pin(shared::forward_message(shared, remote, other)),
    }
}

/// A message delivered to `session`: a request's answer (a request has an `id`), or 202 for
/// anything else.
#[inline]
fn delivered<'a>(
    shared: &'a Arc<Shared>,
    session: &'a Arc<HttpSession>,
    message: Message,
    id: Option<RequestId>,
    headers: &'a mut HeaderMap,
) -> Delivered<'a> {
    match id {
        Some(id) => answer(shared, session, message, id, headers),
        None => {
            // Notifications and responses produce nothing to send back, and are handled
            // without waiting.
            let none = session.session.handle(message, &Outbox::nowhere());
            debug_assert!(
                none.is_none(),
                "an answer to a message that is not a request"
            );
            Delivered::Now(Ok(respond::empty(StatusCode::ACCEPTED)))
        }
    }
}

impl Posted {
    /// The answer of a batch, a stateless request or `initialize` (not
    /// [`Posted::Session`], nor [`Posted::StatelessOther`]), boxed.
    fn answer(
        self,
        shared: Arc<Shared>,
        head: PostHead,
        headers: HeaderMap,
        client: ClientKey,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>> {
        Box::pin(async move {
            match self {
                Posted::Batch(items) => {
                    head.version?;
                    let session = head.session?;
                    let _busy = session.busy();
                    super::batch::answer(&shared, &session, items).await
                }
                Posted::Stateless(request) => {
                    stateless::answer(&shared, head.mirrored, request, &client, headers).await
                }
                Posted::Initialize(init) => initialize(&shared, init, client).await,
                Posted::StatelessOther | Posted::Session(..) => {
                    unreachable!("answered in the POST's own future")
                }
            }
        })
    }
}

/// Waits for the response to `id` on `rx`, dropping what comes before it.
pub(crate) async fn final_answer(rx: &mut mpsc::Receiver<Outbound>, id: &RequestId) -> Message {
    while let Some(out) = rx.recv().await {
        if out.is_final() && out.related.as_ref() == Some(id) {
            return *out.message;
        }
        tracing::debug!(request = %id, "dropping a message that a JSON response cannot carry");
    }
    Message::Error(ErrorResponse::new(
        Some(id.clone()),
        RpcError::internal("the session ended before the request was answered"),
    ))
}

/// `initialize`: starts a session, and answers with its id unless the handshake failed.
async fn initialize(
    shared: &Arc<Shared>,
    request: mcp_core::jsonrpc::Request,
    client: ClientKey,
) -> Answer {
    shared.accepting()?;
    shared.sweep().await;
    let store = shared.config.event_store.clone();
    let make = |id| {
        let counters = shared.counters.clone();
        let session = HttpSession::streamable(id, &shared.server, store, client, counters);
        (session, ())
    };
    let (session, ()) = shared.admit(make).await?;
    let id = request.id.clone();
    let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
    session.session.receive(request.into(), &outbox).await;
    drop(outbox);
    let reply = final_answer(&mut rx, &id).await;
    let session_id = if matches!(reply, Message::Response(_)) {
        tracing::debug!(session = %session.id, "session started");
        if let Some(cluster) = &shared.cluster {
            cluster.register(&session).await;
        }
        Some(session.id.clone())
    } else {
        if let Some(session) = shared.table.remove(&session.id) {
            shared.end_session(session).await;
        }
        None
    };
    // Nothing but the response is ever sent for `initialize`: nothing to stream.
    Ok(match shared.config.response_mode {
        ResponseMode::Auto | ResponseMode::Json => respond::json(&reply, session_id.as_deref()),
        ResponseMode::Sse => {
            let event = sse::event(None, None, &reply.to_json(), None);
            respond::sse(SseBody::new([event], Live::Done), session_id.as_deref())
        }
    })
}

/// The answer to `request`, which the session runs now, until it first waits: the future
/// returned holds what answering needs from then on, not the request nor the session's
/// handling of it (a POST's future is boxed per request: small enough, its allocation is
/// one of malloc's cached sizes).
///
/// A request answered at once (the usual tool call) gets its response here, straight from
/// the session (in auto mode, before this returns); otherwise the request's messages go
/// through its [`PostSink`] into a stream. `message` is the request, `id` its id.
fn answer<'a>(
    shared: &'a Arc<Shared>,
    session: &'a Arc<HttpSession>,
    message: Message,
    id: RequestId,
    headers: &'a mut HeaderMap,
) -> Delivered<'a> {
    if shared.config.response_mode == ResponseMode::Json {
        // Boxed, as the way a replica records its streams first below: modes other than
        // the default keep their own futures out of every POST's.
        let json: Boxed<'a> = Box::pin(answer_json(shared, session, message, id));
        return Delivered::Later(json);
    }
    // In auto mode an answer sent at once cannot be resumed: its stream is recorded only once
    // it is known to stream.
    let stores_at_once = shared.config.response_mode == ResponseMode::Sse;
    if stores_at_once && shared.cluster.is_some() {
        let recorded: Boxed<'a> = Box::pin(answer_recorded(shared, session, message, id, headers));
        return Delivered::Later(recorded);
    }
    let Some(number) = session.stream_number() else {
        return Delivered::Now(Err(Rejection::UnknownSession));
    };
    // Kept only where it is recorded later.
    let unrecorded = shared.cluster.is_some().then(|| id.clone());
    let buffer = shared.config.stream_buffer;
    // The request's messages go from their senders' tasks straight into its stream; what
    // is sent before the stream opens is held, up to what the stream's queue holds.
    let sink = PostSink::shared(session, number, id, buffer);
    let answered = session.session.handle(message, &Outbox::sink(sink.clone()));
    // Nothing was sent before the answer: in auto mode it leaves as one JSON body (which
    // nothing can resume: nothing is stored), written with its head, no stream registered
    // and no other task woken. Its sink serves this thread's next request.
    let (answered, sink) = match answered {
        Some(answer) if !stores_at_once => match PostSink::answered_unsent(sink) {
            Ok(()) => {
                let response = respond::json_owned_swapped(headers, answer);
                return Delivered::Now(Ok(response));
            }
            Err(sink) => (Some(answer), sink),
        },
        answered => (answered, sink),
    };
    // Owned by the future from here, so that a future dropped unpolled abandons it too.
    let abandon = Abandon(sink);
    // Boxed, so that the future (boxed per request) holds a pointer, not a message.
    let answered = answered.map(Box::new);
    Delivered::Later(Box::pin(async move {
        let abandon = abandon;
        let sink = &abandon.0;
        let at_once = match answered {
            // Nothing was sent before the answer: it leaves in one write (head and body
            // together) with no stream registered and no other task woken.
            Some(answer) if sink.answered_directly() => Some(*answer),
            Some(answer) => {
                // Messages the request sent first are held: the answer goes after them.
                let _ = Outbox::sink(sink.clone())
                    .send_outbound(Outbound::answer(answer))
                    .await;
                sink.answered_at_once().map(|out| *out.message)
            }
            // Answered meanwhile by the call's own task (it was spawned when it first waited).
            None => sink.answered_at_once().map(|out| *out.message),
        };
        if let Some(answer) = at_once {
            // In auto mode one JSON body, which nothing can resume: nothing is stored. In SSE
            // mode its event is stored as any stream's final event is, for a client that
            // resumes within the grace.
            if !stores_at_once {
                return Ok(respond::json_owned_swapped(headers, answer));
            }
            return Ok(answered_at_once(shared, session, number, &answer, headers).await);
        }
        if let Some(id) = &unrecorded {
            // Before the stream opens: no client knows of it yet, so none can resume it
            // before another replica could learn which request it answers.
            record_stream(shared, session, number, id).await;
        }
        stream_answer(shared, session, number, abandon).await
    }))
}

/// [`answer`] in SSE mode on a replica sharing a store: the stream is recorded before the
/// request runs (see [`record_stream`]).
async fn answer_recorded(
    shared: &Arc<Shared>,
    session: &Arc<HttpSession>,
    message: Message,
    id: RequestId,
    headers: &mut HeaderMap,
) -> Answer {
    let Some(number) = session.stream_number() else {
        return Err(Rejection::UnknownSession);
    };
    record_stream(shared, session, number, &id).await;
    let buffer = shared.config.stream_buffer;
    let sink = Arc::new(PostSink::new(session, number, id, buffer));
    let abandon = Abandon(sink);
    let sink = &abandon.0;
    let outbox = Outbox::sink(sink.clone());
    session.session.receive(message, &outbox).await;
    drop(outbox);
    if let Some(out) = sink.answered_at_once() {
        return Ok(answered_at_once(shared, session, number, &out.message, headers).await);
    }
    stream_answer(shared, session, number, abandon).await
}

/// Opens request stream `number` for the sink `abandon` holds, whose request was not answered
/// at once, and answers the POST with it: what the request sent so far, then the rest as it
/// is sent.
async fn stream_answer(
    shared: &Arc<Shared>,
    session: &Arc<HttpSession>,
    number: u64,
    abandon: Abandon,
) -> Answer {
    // Dropped in reverse order (the parameter is moved into a local declared after
    // `detached`): a handler that goes before it answered first lets the sink stream (or
    // refuse) on its own, then, if it streams, starts the watch of its reader.
    let detached;
    let abandon = abandon;
    let sink = &abandon.0;
    let Some(slot) = session.open_stream(number) else {
        return Err(Rejection::UnknownSession);
    };
    let (live, primer) = slot.attach(shared.config.stream_buffer, false).await?;
    detached = sink.detached(shared.config.resume_window);
    // What was held fits in the queue of the connection just attached: nothing waits here.
    // Boxed: the largest step, and only a streaming answer takes it.
    Box::pin(sink.stream_into(&slot, shared.counters.open_stream())).await;
    Ok(streaming(
        shared,
        session,
        Vec::new(),
        live,
        primer,
        detached,
    ))
}

/// Tells the other replicas, if any, which request stream `number` of `session` answers: one
/// that resumes the stream after this replica died ends it with an error for that request.
async fn record_stream(shared: &Shared, session: &HttpSession, number: u64, id: &RequestId) {
    if let Some(cluster) = &shared.cluster {
        cluster
            .record_stream(&session.stream_key(number), std::slice::from_ref(id))
            .await;
    }
}

/// [`answer`] in JSON mode: nothing can resume a JSON response, so if the connection goes,
/// so does the call.
// Not an `async fn`, which would keep the message twice (see `answer`).
#[allow(clippy::manual_async_fn)]
fn answer_json<'a>(
    shared: &'a Arc<Shared>,
    session: &'a Arc<HttpSession>,
    message: Message,
    id: RequestId,
) -> impl Future<Output = Answer> + Send + 'a {
    async move {
        let (outbox, mut rx) = Outbox::channel(shared.server.outbox_capacity());
        let _cancel = CancelOnDrop::new(session, std::slice::from_ref(&id));
        session.session.receive(message, &outbox).await;
        drop(outbox);
        Ok(respond::json(&final_answer(&mut rx, &id).await, None))
    }
}

/// Abandons a POST's sink when its handler goes (see [`PostSink::abandon`]).
struct Abandon(Arc<PostSink>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// The response of a POST whose request was answered before anything else was sent: the
/// priming event and the response, stored under stream `number` as its only event; both
/// framed into one buffer, sent as one frame, the response's headers written into `headers`.
async fn answered_at_once(
    shared: &Shared,
    session: &Arc<HttpSession>,
    number: u64,
    message: &Message,
    headers: &mut HeaderMap,
) -> Response<McpBody> {
    let key = session.stream_key(number);
    let primer = EventId {
        stream: number,
        seq: 0,
    };
    let id = EventId {
        stream: number,
        seq: 1,
    };
    let primer = primes(session).then_some((primer, shared.config.retry));
    let (events, event) = sse::primed_message_event(primer, id, message);
    let store = &*shared.config.event_store;
    // Handed whole to its connection, as a finished stream's last event is.
    store.append_finished(key, 1, event, true).await;
    respond::answered_sse(std::mem::take(headers), events, session.attached())
}

/// The `200 text/event-stream` response of a POST stream: the priming event (where the
/// revision has one), `queued` events, then the stream's live events.
///
/// `held` is dropped with the body (when the connection goes, or the stream ends).
pub(crate) fn streaming(
    shared: &Shared,
    session: &Arc<HttpSession>,
    queued: Vec<bytes::Bytes>,
    live: super::live::LiveReceiver,
    primer: EventId,
    held: impl Send + 'static,
) -> Response<McpBody> {
    let first = primes(session).then(|| priming(shared, primer));
    let body = SseBody::new(first.into_iter().chain(queued), Live::Events(live))
        .keep_alive(shared.config.keep_alive)
        .guard((session.attached(), held));
    respond::sse(body, None)
}

/// Cancels calls when dropped: the calls of a JSON response, when its handler goes with its
/// connection (calls already answered are no longer running, and are left alone).
pub(crate) struct CancelOnDrop {
    session: Arc<HttpSession>,
    ids: Vec<RequestId>,
}

impl CancelOnDrop {
    pub(crate) fn new(session: &Arc<HttpSession>, ids: &[RequestId]) -> Self {
        CancelOnDrop {
            session: session.clone(),
            ids: ids.to_vec(),
        }
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        // A call already answered is no longer running: cancelling it does nothing.
        for id in &self.ids {
            self.session.session.cancel_unreachable(id);
        }
    }
}

/// The messages of a POST stream on their way from a channel outbox to the stream: for a
/// batch, and for a request forwarded from another replica (a single request on this replica
/// streams through a [`PostSink`] instead).
///
/// The handler publishes what is ready before it answers; whatever remains goes to a pump
/// task, started at the latest when this is dropped (the handler may be dropped with its
/// connection: the request's messages are still stored for a resuming client, and the call
/// is reclaimed if none resumes within the resume window).
pub(crate) struct PostStream {
    number: u64,
    slot: Arc<StreamSlot>,
    rx: Option<mpsc::Receiver<Outbound>>,
    answers: Answers,
    window: std::time::Duration,
    closed: CancellationToken,
    owner: Arc<HttpSession>,
    open: Option<CountGuard>,
}

impl PostStream {
    /// A POST stream of `session` carrying what `rx` receives until `answers` are answered.
    pub(crate) fn new(
        shared: &Shared,
        session: &Arc<HttpSession>,
        slot: Arc<StreamSlot>,
        rx: mpsc::Receiver<Outbound>,
        answers: Answers,
    ) -> Self {
        PostStream {
            number: slot.key().stream,
            slot,
            rx: Some(rx),
            answers,
            window: shared.config.resume_window,
            closed: session.closed.clone(),
            owner: session.clone(),
            open: Some(shared.counters.open_stream()),
        }
    }

    /// Publishes what is ready (see [`publish_ready`]); ends the stream if that was all.
    pub(crate) async fn publish_ready(&mut self, max: usize) {
        let Some(rx) = self.rx.as_mut() else { return };
        let answers = &mut self.answers;
        let ready = publish_ready(&self.slot, rx, answers, &self.closed, max);
        if ready.await == Drained::Finished {
            self.rx = None;
            self.owner.stream_done(self.number);
            self.open = None;
        }
    }
}

impl Drop for PostStream {
    fn drop(&mut self) {
        let Some(rx) = self.rx.take() else { return };
        // Outside a runtime (or when it shuts down) there is nothing left to deliver to.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (slot, answers) = (self.slot.clone(), std::mem::take(&mut self.answers));
        let (closed, owner, number, open) = (
            self.closed.clone(),
            self.owner.clone(),
            self.number,
            self.open.take(),
        );
        let reclaim = Reclaim {
            session: owner.session.clone(),
            window: self.window,
        };
        runtime.spawn(async move {
            pump(slot, rx, answers, closed, Some(reclaim)).await;
            owner.stream_done(number);
            drop(open);
        });
    }
}

/// GET: the session's stream for messages that belong to no request, or, with
/// `Last-Event-ID`, the rest of a broken stream.
pub(crate) async fn get<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer {
    let headers = request.headers();
    if !accepts(headers, "text/event-stream") {
        return Err(Rejection::NotAcceptable("text/event-stream"));
    }
    check_protocol_version(headers)?;
    let found = session_of(shared, headers);
    let resuming = headers.contains_key("last-event-id");
    if let Some(remote) = remote(shared, elsewhere(shared, headers, &found), !resuming).await {
        let last = match headers.get("last-event-id") {
            Some(last) => {
                let text = String::from_utf8_lossy(last.as_bytes());
                Some(
                    text.parse::<EventId>()
                        .map_err(|_| Rejection::BadLastEventId(text.into_owned()))?,
                )
            }
            None => None,
        };
        return shared::forward_get(shared, remote, last).await;
    }
    let session = found?;
    let buffer = shared.config.stream_buffer;
    let store = &*shared.config.event_store;
    let guard = session.attached();
    let body = match headers.get("last-event-id") {
        Some(last) => {
            let text = String::from_utf8_lossy(last.as_bytes());
            let last: EventId = text
                .parse()
                .map_err(|_| Rejection::BadLastEventId(text.into_owned()))?;
            let resumed = match session.stream(last.stream) {
                Some(slot) => slot.resume(last.seq, buffer).await,
                None => {
                    let key = StreamKey {
                        session: session.id.clone(),
                        stream: last.stream,
                    };
                    Resumed {
                        replay: replay(store, key, last.seq).await,
                        live: None,
                    }
                }
            };
            let live = resumed.live.map_or(Live::Done, Live::Events);
            let body = SseBody::new(resumed.replay, live);
            if last.stream == 0 {
                body.stop_when(StopWhen::on(shared.draining.clone()))
            } else {
                body
            }
        }
        None => {
            shared.accepting()?;
            let Some(slot) = session.stream(0) else {
                return Err(Rejection::UnknownSession);
            };
            let (live, primer) = slot.attach(buffer, true).await?;
            let first = primes(&session).then(|| priming(shared, primer));
            SseBody::new(first, Live::Events(live)).stop_when(StopWhen::on(shared.draining.clone()))
        }
    };
    let body = body.keep_alive(shared.config.keep_alive).guard(guard);
    Ok(respond::long_sse(body))
}

/// DELETE: ends the session.
pub(crate) async fn delete<B>(shared: &Arc<Shared>, request: Request<B>) -> Answer {
    let headers = request.headers();
    check_protocol_version(headers)?;
    let found = session_of(shared, headers);
    if let Some(remote) = remote(shared, elsewhere(shared, headers, &found), true).await {
        return shared::forward_delete(shared, remote).await;
    }
    let session = found?;
    if let Some(session) = shared.table.remove(&session.id) {
        tracing::debug!(session = %session.id, "session deleted by the client");
        shared.end_session(session).await;
    }
    Ok(respond::empty(StatusCode::OK))
}
