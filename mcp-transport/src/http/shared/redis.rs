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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use mcp_core::jsonrpc::RequestId;
use mcp_core::task::TaskStore;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, PubSubSink};
use tokio::sync::mpsc;

use super::redis_writer::Writer;
use super::{SharedStore, StoreError, StoreResult, StreamNews, Subscription, stream_channel};
use crate::http::event_store::{EventStore, StoreFuture, StoredEvent, StreamKey};

/// How many events of one stream are kept by default.
const DEFAULT_MAX_EVENTS: usize = 1024;
/// How long keys live by default.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

type Subscribers = HashMap<String, Vec<(u64, mpsc::UnboundedSender<Bytes>)>>;

struct PubSub {
    sink: tokio::sync::Mutex<PubSubSink>,
    subscribers: Mutex<Subscribers>,
    next: std::sync::atomic::AtomicU64,
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
    StoreError(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(err)?;
        let conn = client.get_connection_manager().await.map_err(err)?;
        let (sink, mut stream) = client.get_async_pubsub().await.map_err(err)?.split();
        let pubsub = Arc::new(PubSub {
            sink: tokio::sync::Mutex::new(sink),
            subscribers: Mutex::new(HashMap::new()),
            next: std::sync::atomic::AtomicU64::new(0),
        });
        let dispatch = Arc::downgrade(&pubsub);
        tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let Some(pubsub) = dispatch.upgrade() else {
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
            tracing::error!("the Redis pub/sub connection closed: live fan-out stopped");
        });
        Ok(RedisStore {
            writer: Writer::start(conn.clone()),
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

    /// The connection commands go through (multiplexed, reconnecting).
    pub(super) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
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
        // Queued, not awaited: the event goes to its client at once, and to Redis with the
        // writes queued with it (stored and published in the same round trip).
        let payload = StreamNews::Event(seq, bytes).encode();
        let list = events_key(&stream);
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
        publish.arg(stream_channel(&stream)).arg(payload.as_ref());
        self.writer
            .write(vec![push, trim, expire, member, expire_streams, publish]);
        Box::pin(std::future::ready(()))
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
            Some(
                raw.into_iter()
                    .filter_map(|r| match StreamNews::decode(&Bytes::from(r)) {
                        Some(StreamNews::Event(seq, bytes)) if seq > after => {
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
        let key = session_key(session);
        Box::pin(async move { self.conn.clone().get(key).await.map_err(err) })
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
        Box::pin(async move { self.writer.flush().await.map_err(StoreError) })
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
        let key = lease_key(replica);
        Box::pin(async move { self.conn.clone().exists(key).await.map_err(err) })
    }

    fn publish(&self, channel: String, payload: Bytes) -> StoreFuture<'_, StoreResult<()>> {
        // In the queue, after the events this replica wrote before: a replica told of a stream
        // (a forwarded request's answer) finds what the stream holds so far in Redis.
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(payload.as_ref());
        self.writer.write(vec![publish]);
        Box::pin(async move { self.writer.flush().await.map_err(StoreError) })
    }

    fn subscribe(&self, channel: String) -> StoreFuture<'_, StoreResult<Subscription>> {
        Box::pin(async move {
            let (tx, rx) = mpsc::unbounded_channel();
            let id = self
                .pubsub
                .next
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Subscribing and unsubscribing are serialized by the sink's lock, so that an
            // UNSUBSCRIBE never overtakes the SUBSCRIBE of a newer subscriber.
            let mut sink = self.pubsub.sink.lock().await;
            let first = {
                let mut subscribers = lock(&self.pubsub.subscribers);
                let list = subscribers.entry(channel.clone()).or_default();
                list.push((id, tx));
                list.len() == 1
            };
            if first && let Err(e) = sink.subscribe(&channel).await {
                lock(&self.pubsub.subscribers).remove(&channel);
                return Err(err(e));
            }
            drop(sink);
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
                if !lock(&pubsub.subscribers).contains_key(&channel) {
                    let _ = sink.unsubscribe(&channel).await;
                }
            });
        }
    }
}
