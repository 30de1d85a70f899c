//! [`RedisStore`]: the [`SharedStore`] on Redis, through the `redis` crate (tokio, a
//! reconnecting [`ConnectionManager`] for commands, one pub/sub connection per process whose
//! messages are dispatched to local subscribers by channel).
//!
//! Keys (all under `mcp:`): `ev:<session>:<stream>` (a list of the stream's events),
//! `streams:<session>` (the set of its stream numbers), `done:<session>:<stream>`,
//! `req:<session>:<stream>` (the requests a stream answers), `session:<id>` (the home
//! replica) and `lease:<replica>`. Every key expires: events and records after
//! [`RedisStore::ttl`], leases after the lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use mcp_core::jsonrpc::RequestId;
use mcp_core::task::TaskStore;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, PubSubSink, PubSubStream};
use tokio::sync::mpsc;

use super::redis_writer::{RedisWriteError, Room, WriteQueueLimits, Writer};
use super::{
    SharedStore, StoreError, StoreResult, StreamNews, Subscription, WriteQueueStats, stream_channel,
};
use crate::http::event_store::{EventStore, StoreFuture, StoredEvent, StreamKey};
use crate::sync::lock;

/// How many events of one stream are kept by default.
const DEFAULT_MAX_EVENTS: usize = 1024;
/// How long keys live by default.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

type Subscribers = HashMap<String, Vec<(u64, mpsc::UnboundedSender<Bytes>)>>;

/// The longest wait between two attempts to reconnect pub/sub.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a subscriber waits for pub/sub to be connected before its subscription fails.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(10);

struct PubSub {
    /// The sink of the current connection; `None` while reconnecting.
    sink: tokio::sync::Mutex<Option<PubSubSink>>,
    subscribers: Mutex<Subscribers>,
    next: std::sync::atomic::AtomicU64,
    /// Bumped when a connection is up (so a subscriber waiting for one wakes).
    up: tokio::sync::watch::Sender<u64>,
}

impl PubSub {
    /// The connection was lost: every subscription ends (its receiver sees the end), so its
    /// holder subscribes again once reconnected and re-reads what it may have missed.
    async fn lost(&self) {
        let mut sink = self.sink.lock().await;
        *sink = None;
        lock(&self.subscribers).clear();
    }
}

/// Dispatches messages to local subscribers; when the connection drops, ends every
/// subscription and reconnects with a capped backoff (logged once per streak).
async fn supervise(client: redis::Client, pubsub: Weak<PubSub>, mut stream: PubSubStream) {
    loop {
        while let Some(msg) = stream.next().await {
            let Some(pubsub) = pubsub.upgrade() else {
                return;
            };
            let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
            let subscribers = lock(&pubsub.subscribers);
            for (_, tx) in subscribers
                .get(msg.get_channel_name())
                .into_iter()
                .flatten()
            {
                let _ = tx.send(payload.clone());
            }
        }
        let Some(strong) = pubsub.upgrade() else {
            return;
        };
        strong.lost().await;
        drop(strong);
        tracing::warn!("the Redis pub/sub connection closed: reconnecting");
        let mut backoff = Duration::from_millis(50);
        let mut attempts = 0u32;
        stream = loop {
            attempts += 1;
            match client.get_async_pubsub().await {
                Ok(conn) => {
                    let (sink, stream) = conn.split();
                    let Some(pubsub) = pubsub.upgrade() else {
                        return;
                    };
                    *pubsub.sink.lock().await = Some(sink);
                    pubsub.up.send_modify(|n| *n += 1);
                    tracing::info!(attempts, "the Redis pub/sub connection is back");
                    break stream;
                }
                Err(e) if attempts == 1 => {
                    tracing::warn!(error = %e, "cannot reconnect to Redis pub/sub yet: retrying with backoff");
                }
                Err(_) => {}
            }
            if pubsub.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        };
    }
}

/// A [`SharedStore`] (and [`EventStore`]) on a Redis server.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// The ordered write-behind queue of stream writes.
    writer: Writer,
    pubsub: Arc<PubSub>,
    max_events: usize,
    ttl: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("max_events", &self.max_events)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn err(e: redis::RedisError) -> StoreError {
    StoreError::backend(e)
}

impl From<RedisWriteError> for StoreError {
    fn from(e: RedisWriteError) -> Self {
        StoreError::backend(e)
    }
}

impl RedisStore {
    /// What the room of event `seq` of `stream` costs in the write queue (see
    /// [`queue_append`](Self::queue_append)).
    fn append_cost(stream: &StreamKey, bytes: &Bytes) -> usize {
        // Six commands naming the list, the set and the channel; the payload twice.
        let key = 16 + stream.session.len();
        Writer::cost(9 + bytes.len(), 6 * key, 6, 20)
    }

    /// Queues an event's writes in the `room` taken for them: the event goes to its client at
    /// once, and to Redis with the writes queued with it (stored and published in the same
    /// round trip).
    fn queue_append(&self, room: Room, stream: &StreamKey, seq: u64, bytes: Bytes) {
        let payload = StreamNews::Event(seq, bytes).encode();
        let list = events_key(stream);
        let max = isize::try_from(self.max_events).unwrap_or(isize::MAX);
        let streams = streams_key(&stream.session);
        let mut push = redis::cmd("RPUSH");
        push.arg(&list).arg(payload.as_ref());
        let mut trim = redis::cmd("LTRIM");
        trim.arg(&list).arg(-max).arg(-1);
        let mut expire = redis::cmd("EXPIRE");
        expire.arg(&list).arg(self.ttl_secs());
        let mut member = redis::cmd("SADD");
        member.arg(&streams).arg(stream.stream);
        let mut expire_streams = redis::cmd("EXPIRE");
        expire_streams.arg(&streams).arg(self.ttl_secs());
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(stream_channel(stream)).arg(payload.as_ref());
        self.writer.write_event(
            room,
            vec![push, trim, expire, member, expire_streams, publish],
        );
    }

    /// Connects to the Redis server at `url` (`redis://host:port/db`), with the default
    /// bound of its write queue ([`WriteQueueLimits::default`]: 8192 events, 16 MiB, 30 s
    /// for a batch).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, WriteQueueLimits::default()).await
    }

    /// [`connect`](Self::connect), with `limits` on the queue of stream events waiting to be
    /// written to Redis: an event that finds the queue full waits for room, holding its
    /// stream's publisher back (a tool's `send` waits, as for a client that reads slowly).
    /// Nothing is dropped; the memory the queue takes stays under `limits.bytes`; a batch
    /// Redis has not answered within `limits.write_timeout` fails (its writes counted lost).
    pub async fn connect_with(url: &str, limits: WriteQueueLimits) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(err)?;
        let conn = client.get_connection_manager().await.map_err(err)?;
        // The writes have their own connection, which waits longer for an answer than reads
        // do: a slow Redis holds the queue (and its producers) back rather than failing it.
        // And it reconnects in one attempt per batch, without a backoff: a Redis that is gone
        // fails each batch at once (counted), rather than holding the queue for seconds.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(limits.write_timeout))
            .set_number_of_retries(0);
        let writes = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(err)?;
        let (sink, stream) = client.get_async_pubsub().await.map_err(err)?.split();
        let pubsub = Arc::new(PubSub {
            sink: tokio::sync::Mutex::new(Some(sink)),
            subscribers: Mutex::new(HashMap::new()),
            next: std::sync::atomic::AtomicU64::new(0),
            up: tokio::sync::watch::Sender::new(0),
        });
        tokio::spawn(supervise(client, Arc::downgrade(&pubsub), stream));
        Ok(RedisStore {
            writer: Writer::start(writes, limits),
            conn,
            pubsub,
            max_events: DEFAULT_MAX_EVENTS,
            ttl: DEFAULT_TTL,
        })
    }

    /// How many events of one stream are kept (default 1024; the oldest go first).
    #[must_use]
    pub fn max_events(mut self, events: usize) -> Self {
        self.max_events = events.max(1);
        self
    }

    /// How long events, session and stream records live (default 24 hours).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// How full the queue of writes to Redis is, and what happened to it. Also reported by
    /// [`SharedStore::write_queue`], hence at `/metrics`.
    pub fn write_queue(&self) -> WriteQueueStats {
        self.writer.stats()
    }

    /// Waits until every write queued so far reached Redis (say, before a replica stops);
    /// the error of the last batch if it failed.
    pub async fn flush(&self) -> Result<(), RedisWriteError> {
        self.writer.flush().await
    }

    /// The connection commands go through (multiplexed, reconnecting).
    pub(super) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Sends a read, once more if the connection dropped under it (the manager reconnects:
    /// a lookup right after a drop is answered, not refused).
    pub(super) async fn read<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> StoreResult<T> {
        match command.query_async(&mut self.conn.clone()).await {
            Err(e) if e.is_connection_dropped() || e.is_io_error() => command
                .query_async(&mut self.conn.clone())
                .await
                .map_err(err),
            sent => sent.map_err(err),
        }
    }

    fn ttl_secs(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)
    }
}

fn events_key(key: &StreamKey) -> String {
    format!("mcp:ev:{}:{}", key.session, key.stream)
}

fn done_key(key: &StreamKey) -> String {
    format!("mcp:done:{}:{}", key.session, key.stream)
}

fn requests_key(key: &StreamKey) -> String {
    format!("mcp:req:{}:{}", key.session, key.stream)
}

fn streams_key(session: &str) -> String {
    format!("mcp:streams:{session}")
}

fn session_key(session: &str) -> String {
    format!("mcp:session:{session}")
}

fn lease_key(replica: &str) -> String {
    format!("mcp:lease:{replica}")
}

impl EventStore for RedisStore {
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            // Cancel-safe: nothing is queued before the room is there, then nothing waits.
            let room = self.writer.room(Self::append_cost(&stream, &bytes)).await;
            self.queue_append(room, &stream, seq, bytes);
        })
    }

    fn try_append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> Result<(), Bytes> {
        match self.writer.try_room(Self::append_cost(&stream, &bytes)) {
            Some(room) => {
                self.queue_append(room, &stream, seq, bytes);
                Ok(())
            }
            // The queue is full: the server awaits `append`.
            None => Err(bytes),
        }
    }

    fn replay_after(
        &self,
        stream: StreamKey,
        after: u64,
    ) -> StoreFuture<'_, Option<Vec<StoredEvent>>> {
        Box::pin(async move {
            let _ = self.writer.flush().await;
            let mut conn = self.conn.clone();
            let raw: Vec<Vec<u8>> = match conn.lrange(events_key(&stream), 0, -1).await {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read events from Redis");
                    return None;
                }
            };
            if raw.is_empty() {
                return None;
            }
            // Each event once, in order: a batch sent again after its connection dropped
            // may have been run twice.
            let mut last = after;
            Some(
                raw.into_iter()
                    .filter_map(|r| match StreamNews::decode(&Bytes::from(r)) {
                        Some(StreamNews::Event(seq, bytes)) if seq > last => {
                            last = seq;
                            Some(StoredEvent { seq, bytes })
                        }
                        _ => None,
                    })
                    .collect(),
            )
        })
    }

    fn forget_session(&self, session: Arc<str>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.writer.flush().await;
            let mut conn = self.conn.clone();
            let streams: Vec<u64> = conn
                .smembers(streams_key(&session))
                .await
                .unwrap_or_default();
            let mut keys = vec![streams_key(&session), session_key(&session)];
            for stream in streams {
                let key = StreamKey {
                    session: session.clone(),
                    stream,
                };
                keys.extend([events_key(&key), done_key(&key), requests_key(&key)]);
            }
            if let Err(e) = conn.del::<_, ()>(keys).await {
                tracing::warn!(error = %e, "could not forget a session in Redis");
            }
        })
    }

    fn finished(&self, stream: &StreamKey, _delivered: bool) {
        // After the stream's events, in the same queue.
        let mut done = redis::cmd("SET");
        done.arg(done_key(stream))
            .arg(1)
            .arg("EX")
            .arg(self.ttl_secs());
        let mut member = redis::cmd("SADD");
        member.arg(streams_key(&stream.session)).arg(stream.stream);
        let mut publish = redis::cmd("PUBLISH");
        publish
            .arg(stream_channel(stream))
            .arg(StreamNews::End.encode().as_ref());
        self.writer.write(vec![done, member, publish]);
    }
}

impl SharedStore for RedisStore {
    fn tasks(&self) -> Option<Arc<dyn TaskStore>> {
        Some(Arc::new(self.task_store()))
    }

    fn write_queue(&self) -> Option<WriteQueueStats> {
        Some(self.writer.stats())
    }

    fn put_session(&self, session: &str, record: &str) -> StoreFuture<'_, StoreResult<()>> {
        let (key, record) = (session_key(session), record.to_owned());
        Box::pin(async move {
            self.conn
                .clone()
                .set_ex(key, record, self.ttl.as_secs())
                .await
                .map_err(err)
        })
    }

    fn session_record(&self, session: &str) -> StoreFuture<'_, StoreResult<Option<String>>> {
        let mut get = redis::cmd("GET");
        get.arg(session_key(session));
        Box::pin(async move { self.read(&get).await })
    }

    fn put_stream_requests(
        &self,
        key: &StreamKey,
        requests: &[RequestId],
    ) -> StoreFuture<'_, StoreResult<()>> {
        let ids = serde_json::to_string(requests).unwrap_or_default();
        let mut record = redis::cmd("SET");
        record
            .arg(requests_key(key))
            .arg(ids)
            .arg("EX")
            .arg(self.ttl.as_secs());
        let mut member = redis::cmd("SADD");
        member.arg(streams_key(&key.session)).arg(key.stream);
        self.writer.write(vec![record, member]);
        // Awaited (with whatever else is queued, in one round trip): the record is in Redis
        // before the call runs, so that the call's end is known if this replica dies.
        Box::pin(async move { Ok(self.writer.flush().await?) })
    }

    fn stream_requests(&self, key: &StreamKey) -> StoreFuture<'_, StoreResult<Vec<RequestId>>> {
        let key = requests_key(key);
        Box::pin(async move {
            let _ = self.writer.flush().await;
            let raw: Option<String> = self.conn.clone().get(key).await.map_err(err)?;
            Ok(raw
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or_default())
        })
    }

    fn stream_done(&self, key: &StreamKey) -> StoreFuture<'_, StoreResult<bool>> {
        let key = done_key(key);
        Box::pin(async move {
            let _ = self.writer.flush().await;
            self.conn.clone().exists(key).await.map_err(err)
        })
    }

    fn heartbeat(&self, replica: &str, lease: Duration) -> StoreFuture<'_, StoreResult<()>> {
        let key = lease_key(replica);
        let millis = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
        Box::pin(async move {
            redis::cmd("SET")
                .arg(key)
                .arg(1)
                .arg("PX")
                .arg(millis)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(err)
        })
    }

    fn is_alive(&self, replica: &str) -> StoreFuture<'_, StoreResult<bool>> {
        let mut exists = redis::cmd("EXISTS");
        exists.arg(lease_key(replica));
        Box::pin(async move { self.read(&exists).await })
    }

    fn publish(&self, channel: String, payload: Bytes) -> StoreFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            // After the events this replica queued before: a replica told of a stream (a
            // forwarded request's answer) finds what the stream holds so far in Redis.
            self.writer.flush().await?;
            let receivers: u64 = self
                .conn
                .clone()
                .publish(&channel, payload.as_ref())
                .await
                .map_err(err)?;
            if receivers == 0 {
                // Its replica's pub/sub connection is down (reconnecting), or it is gone.
                return Err(StoreError::NoListener { channel });
            }
            Ok(())
        })
    }

    fn subscribe(&self, channel: String) -> StoreFuture<'_, StoreResult<Subscription>> {
        Box::pin(async move {
            let (tx, rx) = mpsc::unbounded_channel();
            let id = self
                .pubsub
                .next
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let deadline = tokio::time::Instant::now() + SUBSCRIBE_WAIT;
            let mut up = self.pubsub.up.subscribe();
            loop {
                // Subscribing and unsubscribing are serialized by the sink's lock, so that an
                // UNSUBSCRIBE never overtakes the SUBSCRIBE of a newer subscriber.
                let mut guard = self.pubsub.sink.lock().await;
                if let Some(sink) = guard.as_mut() {
                    let first = {
                        let mut subscribers = lock(&self.pubsub.subscribers);
                        let list = subscribers.entry(channel.clone()).or_default();
                        list.push((id, tx.clone()));
                        list.len() == 1
                    };
                    if !first {
                        break;
                    }
                    match sink.subscribe(&channel).await {
                        Ok(()) => break,
                        Err(e) => {
                            // The connection is going: wait for the next one.
                            lock(&self.pubsub.subscribers).remove(&channel);
                            tracing::debug!(error = %e, "subscribing failed; waiting for pub/sub");
                        }
                    }
                }
                up.mark_unchanged();
                drop(guard);
                match tokio::time::timeout_at(deadline, up.changed()).await {
                    Ok(Ok(())) => {}
                    _ => {
                        return Err(StoreError::PubSubDown);
                    }
                }
            }
            let guard = Unsubscribe {
                pubsub: self.pubsub.clone(),
                channel,
                id,
            };
            Ok(Subscription {
                messages: rx,
                guard: Box::new(guard),
            })
        })
    }
}

/// Removes a local subscriber; the last one of a channel unsubscribes from Redis.
struct Unsubscribe {
    pubsub: Arc<PubSub>,
    channel: String,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let last = {
            let mut subscribers = lock(&self.pubsub.subscribers);
            let Some(list) = subscribers.get_mut(&self.channel) else {
                return;
            };
            list.retain(|(id, _)| *id != self.id);
            let last = list.is_empty();
            if last {
                subscribers.remove(&self.channel);
            }
            last
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if last {
            let (pubsub, channel) = (self.pubsub.clone(), std::mem::take(&mut self.channel));
            runtime.spawn(async move {
                let mut sink = pubsub.sink.lock().await;
                if let Some(sink) = sink.as_mut()
                    && !lock(&pubsub.subscribers).contains_key(&channel)
                {
                    let _ = sink.unsubscribe(&channel).await;
                }
            });
        }
    }
}
