//! Serving from several replicas: the home side (a replica running a session's calls, taking
//! messages forwarded by the others) and the remote side (a replica that received a request
//! for a session living elsewhere: it forwards the message and follows the stream).

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use mcp_core::ProtocolVersion;
use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::jsonrpc::{ErrorResponse, Message, Request, RequestId};
use mcp_core::transport::Outbox;
use serde_json::{Value, json};

use super::{SharedStore, StreamNews, Subscription, replica_channel, stream_channel};
use crate::http::event_store::{EventId, StreamKey};
use crate::http::live::{self, LiveSender};
use crate::http::reject::Rejection;
use crate::http::respond;
use crate::http::service::Shared;
use crate::http::session::{HttpSession, new_session_id};
use crate::http::sse::{self, Live, LiveEvent, SseBody, StopWhen};
use crate::http::stream::Answers;
use crate::http::streamable::{Answer, PostStream};

/// This replica's part in a deployment of several: its id, its lease, the shared store.
pub(crate) struct Cluster {
    pub(crate) store: Arc<dyn SharedStore>,
    pub(crate) replica: Arc<str>,
    pub(crate) lease: Duration,
}

/// A session that lives on another replica (alive at the time of asking).
pub(crate) struct Remote {
    session: Arc<str>,
    home: String,
    /// Whether the session's streams start with a priming event.
    primes: bool,
    /// Whether the home replica's lease was current when asked.
    pub(crate) alive: bool,
}

impl Cluster {
    /// A cluster member with a fresh replica id.
    pub(crate) fn new(store: Arc<dyn SharedStore>, lease: Duration) -> Option<Self> {
        Some(Cluster {
            store,
            replica: new_session_id()?,
            lease,
        })
    }

    /// Starts the heartbeat and the listener of forwarded messages; both end with `shared`.
    pub(crate) fn start(shared: &Arc<Shared>) {
        let Some(cluster) = &shared.cluster else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, replica, lease) = (
            cluster.store.clone(),
            cluster.replica.clone(),
            cluster.lease,
        );
        let alive = Arc::downgrade(shared);
        runtime.spawn(async move {
            while alive.strong_count() > 0 {
                if let Err(e) = store.heartbeat(&replica, lease).await {
                    tracing::warn!(error = %e, "could not renew this replica's lease");
                }
                tokio::time::sleep(lease / 3).await;
            }
        });
        if cluster.store.tasks().is_some() {
            // Fails the tasks of dead replicas without waiting for someone to ask about them.
            let alive = Arc::downgrade(shared);
            runtime.spawn(async move {
                while let Some(shared) = alive.upgrade() {
                    let server = shared.server.clone();
                    drop(shared);
                    server.sweep_tasks().await;
                    drop(server);
                    tokio::time::sleep(lease / 3).await;
                }
            });
        }
        let channel = replica_channel(&cluster.replica);
        let (store, weak) = (cluster.store.clone(), Arc::downgrade(shared));
        runtime.spawn(async move {
            // A subscription ends when the store's pub/sub connection dropped: subscribe again
            // (the store reconnects). What was published meanwhile reached nobody, and its
            // publisher was told so (`publish` fails when no replica received it).
            let mut failing = false;
            while weak.strong_count() > 0 {
                match store.subscribe(channel.clone()).await {
                    Ok(subscription) => {
                        if failing {
                            tracing::info!("receiving forwarded messages again");
                        }
                        failing = false;
                        listen(weak.clone(), subscription).await;
                    }
                    Err(e) => {
                        if !failing {
                            tracing::error!(error = %e, "cannot receive forwarded messages: retrying");
                        }
                        failing = true;
                    }
                }
            }
        });
        tracing::info!(replica = %cluster.replica, "serving as one replica of several (shared store)");
    }

    /// Records a session that just started here.
    pub(crate) async fn register(&self, session: &HttpSession) {
        let primes = session
            .session
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V2025_11_25);
        let record = format!("{} {}", self.replica, u8::from(primes));
        if let Err(e) = self.store.put_session(&session.id, &record).await {
            tracing::warn!(error = %e, "could not record a session in the shared store");
        }
    }

    /// Records the requests a stream of a local session answers.
    pub(crate) async fn record_stream(&self, key: &StreamKey, ids: &[RequestId]) {
        if let Err(e) = self.store.put_stream_requests(key, ids).await {
            tracing::warn!(error = %e, "could not record a stream in the shared store");
        }
    }

    /// The replica a session unknown here lives on: `None` (404) when the store does not
    /// know it or it lives here (it ended). Whether that replica is alive is in the answer:
    /// only a resumption may go to a dead one (to end its streams with an error).
    pub(crate) async fn remote(&self, session: &str) -> Option<Remote> {
        let record = self.store.session_record(session).await.ok()??;
        let (home, primes) = record.split_once(' ')?;
        if home == &*self.replica {
            return None;
        }
        // A store that cannot answer (reconnecting) says nothing of the home: assumed alive,
        // a follower asks again on its next tick.
        let alive = self.store.is_alive(home).await.unwrap_or(true);
        tracing::debug!(
            session,
            home,
            alive,
            "a request for a session of another replica"
        );
        Some(Remote {
            session: session.into(),
            home: home.to_owned(),
            primes: primes == "1",
            alive,
        })
    }
}

async fn publish(
    store: &dyn SharedStore,
    channel: String,
    envelope: &Value,
    id: Option<&RequestId>,
) -> Result<(), Rejection> {
    let payload = Bytes::from(envelope.to_string());
    store.publish(channel, payload).await.map_err(|e| {
        tracing::warn!(error = %e, "could not forward a message to another replica");
        // Not a 404: the session lives on; its home cannot be reached right now.
        let error = RpcError::new(
            ErrorCode::INTERNAL_ERROR,
            "the message could not be forwarded to the replica serving this session; retry",
        )
        .with_data(json!({"reason": "replica-unreachable"}));
        Rejection::Rpc(
            http::StatusCode::SERVICE_UNAVAILABLE,
            Box::new(ErrorResponse::new(id.cloned(), error)),
        )
    })
}

/// A request for a session living on another replica: forwarded there, and answered here
/// with the stream the home replica runs it on.
pub(crate) async fn forward_request(
    shared: &Arc<Shared>,
    remote: Remote,
    request: Request,
) -> Answer {
    let cluster = shared.cluster.as_ref().ok_or(Rejection::UnknownSession)?;
    let id = request.id.clone();
    let reply = format!(
        "mcp:reply:{}",
        new_session_id().ok_or(Rejection::NoEntropy)?
    );
    let mut answer = cluster
        .store
        .subscribe(reply.clone())
        .await
        .map_err(|_| Rejection::UnknownSession)?;
    let envelope = json!({
        "op": "request",
        "session": &*remote.session,
        "reply": reply,
        "message": Message::from(request).to_json(),
    });
    publish(
        &*cluster.store,
        replica_channel(&remote.home),
        &envelope,
        Some(&id),
    )
    .await?;
    let got = tokio::time::timeout(cluster.lease, answer.messages.recv()).await;
    let stream = got
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("stream").and_then(Value::as_u64))
        .ok_or(Rejection::UnknownSession)
        .map_err(|r| r.answering(Some(&id)))?;
    let key = StreamKey {
        session: remote.session.clone(),
        stream,
    };
    let first = remote
        .primes
        .then(|| sse::priming_event(EventId { stream, seq: 0 }, shared.config.retry));
    Ok(follow(shared, remote, key, 0, first.into_iter().collect()).await)
}

/// A notification or response for a session living on another replica: handled there.
pub(crate) async fn forward_message(
    shared: &Arc<Shared>,
    remote: Remote,
    message: Message,
) -> Answer {
    let cluster = shared.cluster.as_ref().ok_or(Rejection::UnknownSession)?;
    let envelope =
        json!({"op": "message", "session": &*remote.session, "message": message.to_json()});
    let home = replica_channel(&remote.home);
    publish(&*cluster.store, home, &envelope, None).await?;
    Ok(respond::empty(http::StatusCode::ACCEPTED))
}

/// A DELETE for a session living on another replica.
pub(crate) async fn forward_delete(shared: &Arc<Shared>, remote: Remote) -> Answer {
    let cluster = shared.cluster.as_ref().ok_or(Rejection::UnknownSession)?;
    let envelope = json!({"op": "delete", "session": &*remote.session});
    let home = replica_channel(&remote.home);
    publish(&*cluster.store, home, &envelope, None).await?;
    Ok(respond::empty(http::StatusCode::OK))
}

/// A GET for a session living on another replica: its GET stream (live), or with
/// `last` the rest of one of its streams (replayed, then live).
pub(crate) async fn forward_get(
    shared: &Arc<Shared>,
    remote: Remote,
    last: Option<EventId>,
) -> Answer {
    let cluster = shared.cluster.as_ref().ok_or(Rejection::UnknownSession)?;
    let (key, after, first) = match last {
        Some(last) => (
            StreamKey {
                session: remote.session.clone(),
                stream: last.stream,
            },
            last.seq,
            Vec::new(),
        ),
        None => {
            shared.accepting()?;
            let key = StreamKey {
                session: remote.session.clone(),
                stream: 0,
            };
            let seq = cluster
                .store
                .replay_after(key.clone(), 0)
                .await
                .and_then(|events| events.last().map(|e| e.seq))
                .unwrap_or(0);
            let first = remote
                .primes
                .then(|| sse::priming_event(EventId { stream: 0, seq }, shared.config.retry));
            (key, seq, first.into_iter().collect())
        }
    };
    Ok(follow(shared, remote, key, after, first).await)
}

/// The SSE response following stream `key` from `after`: replayed from the store, then live
/// from its channel (each event once), until its end, the death of its replica (then a
/// JSON-RPC error for each of its requests), or the client going.
async fn follow(
    shared: &Arc<Shared>,
    remote: Remote,
    key: StreamKey,
    after: u64,
    first: Vec<Bytes>,
) -> Response {
    let (tx, rx) = live::queue(shared.config.stream_buffer);
    let get_stream = key.stream == 0;
    let task = Follower {
        shared: Arc::downgrade(shared),
        remote,
        key,
        after,
        tx,
    };
    tokio::spawn(task.run());
    let body = SseBody::new(first, Live::Events(rx)).keep_alive(shared.config.keep_alive);
    let body = if get_stream {
        body.stop_when(StopWhen::on(shared.draining.clone()))
    } else {
        body
    };
    respond::sse(body.guard(shared.counters.connection()), None)
}

type Response = http::Response<crate::http::McpBody>;

struct Follower {
    shared: Weak<Shared>,
    remote: Remote,
    key: StreamKey,
    after: u64,
    tx: LiveSender,
}

/// How a followed stream ended.
enum Ended {
    /// Its last event went out (or the client went).
    Done,
    /// Its replica died before it ended.
    Lost,
    /// The store's pub/sub connection dropped: subscribe again and re-read.
    Resubscribe,
}

impl Follower {
    async fn run(mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let Some(cluster) = shared.cluster.as_ref() else {
            return;
        };
        let store = cluster.store.clone();
        let lease = cluster.lease;
        drop(shared);
        loop {
            // Subscribed before replaying: an event published in between is in both, and sent
            // once. After a dropped pub/sub connection, the same again from the last event sent:
            // what was published while disconnected is read from the store.
            let Ok(subscription) = store.subscribe(stream_channel(&self.key)).await else {
                // Pub/sub stayed down longer than the store waits: the response ends (the
                // client resumes from its last event id), the call goes on at its home.
                tracing::warn!(
                    stream = self.key.stream,
                    "cannot follow a stream: the shared store's pub/sub is down"
                );
                return;
            };
            match self.relay(&*store, subscription, lease).await {
                Ended::Done => return,
                Ended::Lost => return self.fail(&*store).await,
                Ended::Resubscribe => {}
            }
        }
    }

    async fn send(&mut self, seq: u64, bytes: Bytes) -> bool {
        if seq <= self.after {
            return true;
        }
        self.after = seq;
        self.tx.send(LiveEvent { bytes, last: false }).await.is_ok()
    }

    async fn relay(
        &mut self,
        store: &dyn SharedStore,
        mut sub: Subscription,
        lease: Duration,
    ) -> Ended {
        for event in store
            .replay_after(self.key.clone(), self.after)
            .await
            .unwrap_or_default()
        {
            if !self.send(event.seq, event.bytes).await {
                return Ended::Done;
            }
        }
        if store.stream_done(&self.key).await.unwrap_or(false) {
            // Its end is stored after its events: what it stored since the replay above is
            // all in the store now (the channel may not have delivered it yet).
            for event in store
                .replay_after(self.key.clone(), self.after)
                .await
                .unwrap_or_default()
            {
                if !self.send(event.seq, event.bytes).await {
                    return Ended::Done;
                }
            }
            return Ended::Done;
        }
        if !self.remote.alive {
            // Resuming a stream of a replica already dead: what it stored, then the errors.
            return match self.drain(&mut sub).await {
                Ended::Done if store.stream_done(&self.key).await.unwrap_or(false) => Ended::Done,
                _ => Ended::Lost,
            };
        }
        let gone = self.tx.watch_gone();
        let mut tick = tokio::time::interval(lease / 3);
        tick.tick().await;
        loop {
            tokio::select! {
                news = sub.messages.recv() => match news.as_ref().and_then(StreamNews::decode) {
                    Some(StreamNews::Event(seq, bytes)) => {
                        if !self.send(seq, bytes).await {
                            return Ended::Done;
                        }
                    }
                    Some(StreamNews::End) => return Ended::Done,
                    None => return Ended::Resubscribe,
                },
                () = gone.wait() => return Ended::Done,
                _ = tick.tick() => {
                    // Unknown (the store is reconnecting) is not dead: asked again next tick.
                    if !store.is_alive(&self.remote.home).await.unwrap_or(true) {
                        // Whatever was published before the lease lapsed is delivered first.
                        return match self.drain(&mut sub).await {
                            Ended::Done if store.stream_done(&self.key).await.unwrap_or(false) => Ended::Done,
                            _ => Ended::Lost,
                        };
                    }
                    if self.key.stream != 0 {
                        // Keeps the home replica from reclaiming a call whose stream is read here.
                        let envelope = json!({"op": "reading", "session": &*self.remote.session, "stream": self.key.stream});
                        let _ = publish(store, replica_channel(&self.remote.home), &envelope, None).await;
                    }
                }
            }
        }
    }

    /// Sends what the subscription already holds; `Done` if the stream's end is among it.
    async fn drain(&mut self, sub: &mut Subscription) -> Ended {
        while let Ok(news) = sub.messages.try_recv() {
            let Some(news) = StreamNews::decode(&news) else {
                continue;
            };
            let StreamNews::Event(seq, bytes) = news else {
                return Ended::Done;
            };
            if !self.send(seq, bytes).await {
                return Ended::Done;
            }
        }
        Ended::Done
    }

    /// The stream's replica died: an error for each of its requests, stored for a client
    /// that resumes later, and the stream ends.
    async fn fail(&mut self, store: &dyn SharedStore) {
        if self.key.stream == 0 {
            return;
        }
        let ids = store.stream_requests(&self.key).await.unwrap_or_default();
        let count = ids.len();
        for (n, id) in ids.into_iter().enumerate() {
            let message = lost_error(&id);
            // `after` moves only once the event is stored: were this future dropped while
            // the store waits, `after` still names the last event that is there.
            let seq = self.after + 1;
            let event_id = EventId {
                stream: self.key.stream,
                seq,
            };
            let bytes = sse::message_event(Some(event_id), None, &message);
            store.append(self.key.clone(), seq, bytes.clone()).await;
            self.after = seq;
            let last = n + 1 == count;
            if last {
                store.finished(&self.key, false);
            }
            if self.tx.send(LiveEvent { bytes, last }).await.is_err() {
                return;
            }
        }
    }
}

/// The error ending a call whose replica died.
pub(crate) fn lost_error(id: &RequestId) -> Message {
    let error = RpcError::new(
        ErrorCode::SERVER_ERROR,
        "the replica running the request stopped: its lease lapsed before the request was answered",
    )
    .with_data(json!({"reason": "replica-lost"}));
    Message::Error(ErrorResponse::new(Some(id.clone()), error))
}

/// Takes the messages other replicas forward to this one, until the service is gone.
async fn listen(shared: Weak<Shared>, mut subscription: Subscription) {
    while let Some(payload) = subscription.messages.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Ok(envelope) = serde_json::from_slice::<Value>(&payload) else {
            tracing::warn!("ignoring a malformed forwarded message");
            continue;
        };
        handle(&shared, envelope).await;
    }
}

async fn handle(shared: &Arc<Shared>, envelope: Value) {
    let field = |name: &str| {
        envelope
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let Some(session) = shared
        .table
        .get(field("session"))
        .filter(|s| !s.is_legacy())
    else {
        return;
    };
    let message = envelope
        .get("message")
        .and_then(Value::as_str)
        .and_then(|m| Message::parse(m.as_bytes()).ok());
    match (field("op"), message) {
        ("request", Some(Message::Request(request))) => {
            let stream = run_forwarded(shared, &session, request).await;
            if let (Some(cluster), Some(stream)) = (&shared.cluster, stream) {
                let reply = json!({"stream": stream});
                let _ = publish(&*cluster.store, field("reply").to_owned(), &reply, None).await;
            }
        }
        ("message", Some(message)) => {
            let _busy = session.busy();
            let (nowhere, _) = Outbox::channel(1);
            session.session.receive(message, &nowhere).await;
        }
        ("delete", _) => {
            if let Some(session) = shared.table.remove(&session.id) {
                tracing::debug!(session = %session.id, "session deleted through another replica");
                shared.end_session(session).await;
            }
        }
        ("reading", _) => {
            let number = envelope.get("stream").and_then(Value::as_u64).unwrap_or(0);
            if let Some(slot) = session.stream(number) {
                slot.read_elsewhere();
            }
        }
        _ => tracing::warn!("ignoring a forwarded message of an unknown kind"),
    }
}

/// Runs a request forwarded by another replica on a new stream of `session`; returns the
/// stream's number.
async fn run_forwarded(
    shared: &Arc<Shared>,
    session: &Arc<HttpSession>,
    request: Request,
) -> Option<u64> {
    let id = request.id.clone();
    let slot = session.new_stream()?;
    let number = slot.key().stream;
    if let Some(cluster) = &shared.cluster {
        cluster
            .record_stream(slot.key(), std::slice::from_ref(&id))
            .await;
    }
    let _busy = session.busy();
    let (outbox, rx) = Outbox::channel(shared.server.outbox_capacity());
    let mut work = PostStream::new(shared, session, slot, rx, Answers::One(id));
    session.session.receive(request.into(), &outbox).await;
    drop(outbox);
    work.publish_ready(shared.config.stream_buffer).await;
    // Dropping it hands the rest to a pump, with the usual reclaim of an unread stream.
    drop(work);
    Some(number)
}
