//! What several replicas of one streamable HTTP deployment share, so that a load balancer may
//! send any request of a 2025-era session to any of them.
//!
//! Each session lives on the replica that answered its `initialize` (its *home*): its
//! [`ServerSession`](mcp_core::server::ServerSession) (negotiated version, log level, pending
//! requests to the client, running calls) stays there. What the other replicas need goes
//! through a [`SharedStore`]:
//!
//! - the session record: which replica is the home of a session id;
//! - the events of every stream ([`EventStore`], replayed on resume) and their live fan-out:
//!   a replica serving a stream whose call runs elsewhere subscribes to the stream's channel
//!   and forwards each event as it is published;
//! - every client message for a session that reaches another replica (a request, a
//!   `notifications/cancelled`, a response to a request of the server, a `DELETE`): it is
//!   published to the home's channel and handled there, as if it had arrived there;
//! - a lease per replica, renewed by a heartbeat: a replica whose lease lapsed is dead, its
//!   sessions are gone (404) and its unfinished streams end with a JSON-RPC error for each of
//!   their requests.
//!
//! - tasks, when the store offers a [`TaskStore`] ([`SharedStore::tasks`]): any replica reads,
//!   awaits, answers and cancels a task, whichever runs it; a cancellation reaches the runner
//!   through the store; every replica sweeps the store on a timer, failing the tasks whose
//!   runner's lease lapsed (its replica died).
//!
//! Without a shared store ([`HttpConfig::shared_store`](super::HttpConfig::shared_store) not
//! set), none of this runs: one process keeps everything in memory.

mod route;
pub(crate) use route::{
    Cluster, Remote, forward_delete, forward_get, forward_message, forward_request,
};

#[cfg(feature = "redis-store")]
mod redis;
#[cfg(feature = "redis-store")]
pub use self::redis::RedisStore;
#[cfg(feature = "redis-store")]
mod redis_tasks;
#[cfg(feature = "redis-store")]
mod redis_writer;
#[cfg(feature = "redis-store")]
pub use self::redis_tasks::RedisTaskStore;
#[cfg(feature = "redis-store")]
pub use self::redis_writer::{
    DEFAULT_REDIS_WRITE_TIMEOUT, DEFAULT_WRITE_QUEUE_BYTES, DEFAULT_WRITE_QUEUE_EVENTS,
    RedisWriteError, WriteQueueLimits,
};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mcp_core::jsonrpc::RequestId;
use mcp_core::task::TaskStore;
use tokio::sync::mpsc;

use super::event_store::{EventStore, StoreFuture, StreamKey};

/// Why a [`SharedStore`] operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store's backend failed: it could not be reached, refused a command, or a queued
    /// write did not reach it. The source is the backend's own error (for the Redis store a
    /// `redis::RedisError` or a `RedisWriteError`, to downcast).
    #[error("shared store: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A message was published on `channel` and no replica listens there: its replica's
    /// pub/sub connection is down (reconnecting), or the replica is gone.
    #[error("shared store: nobody listens on {channel}")]
    NoListener {
        /// The channel published on.
        channel: String,
    },
    /// The store's pub/sub connection stayed down (reconnecting) for longer than a
    /// subscription may wait for it.
    #[error("shared store: the pub/sub connection is down (reconnecting)")]
    PubSubDown,
}

impl StoreError {
    /// A backend failure from the backend's own error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// The result of a [`SharedStore`] operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// How full a shared store's queue of writes is, and what happened to it (see
/// [`SharedStore::write_queue`]). Counts since the store connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteQueueStats {
    /// Stream events queued or being sent now.
    pub events: usize,
    /// What they take, in bytes (their commands plus an estimate of their bookkeeping).
    pub bytes: usize,
    /// The most events ever queued at once.
    pub peak_events: usize,
    /// The most bytes ever queued at once.
    pub peak_bytes: usize,
    /// The bound on `events`: an event that would exceed it waits for room.
    pub max_events: usize,
    /// The bound on `bytes`, likewise.
    pub max_bytes: usize,
    /// How many events waited for room (their stream's publisher was held back).
    pub waits: u64,
    /// How many writes did not reach the store (their batch failed): a resumption that
    /// replays their stream misses them.
    pub failed: u64,
}

/// Messages published on one channel, received in order; unsubscribes when dropped.
pub struct Subscription {
    /// The payloads, in the order they were published.
    pub messages: mpsc::UnboundedReceiver<Bytes>,
    /// Kept alive for as long as the subscription: its drop unsubscribes.
    pub guard: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

/// The store the replicas of one deployment share: stream events (its [`EventStore`] side,
/// which must also publish each appended event on [`stream_channel`] and an end marker when a
/// stream [`finished`](EventStore::finished)), session records, stream records, leases, and
/// channels.
///
/// Payloads published by the [`EventStore`] side on a stream's channel are
/// [`StreamNews`]-encoded.
pub trait SharedStore: EventStore {
    /// The task store on the same backend, if it has one: the replicas then share their
    /// tasks too (the service keeps its server's tasks there, and sweeps them on a timer).
    fn tasks(&self) -> Option<Arc<dyn TaskStore>> {
        None
    }

    /// How full the store's queue of writes is, if it queues its writes (reported at
    /// `/metrics` when the server has [`Metrics`](crate::metrics::Metrics)). The default:
    /// `None`, the store writes as it is called.
    fn write_queue(&self) -> Option<WriteQueueStats> {
        None
    }

    /// Records `session` (an opaque record: the home replica and what other replicas need to
    /// serve its streams).
    fn put_session(&self, session: &str, record: &str) -> StoreFuture<'_, StoreResult<()>>;

    /// The record of `session`, if the store knows the session.
    fn session_record(&self, session: &str) -> StoreFuture<'_, StoreResult<Option<String>>>;

    /// Records which requests stream `key` answers (to end it with their errors if its
    /// replica dies).
    fn put_stream_requests(
        &self,
        key: &StreamKey,
        requests: &[RequestId],
    ) -> StoreFuture<'_, StoreResult<()>>;

    /// The requests stream `key` answers, as recorded.
    fn stream_requests(&self, key: &StreamKey) -> StoreFuture<'_, StoreResult<Vec<RequestId>>>;

    /// Whether stream `key` is complete (its end marker was recorded).
    fn stream_done(&self, key: &StreamKey) -> StoreFuture<'_, StoreResult<bool>>;

    /// Renews the lease of `replica` for `lease`.
    fn heartbeat(&self, replica: &str, lease: Duration) -> StoreFuture<'_, StoreResult<()>>;

    /// Whether the lease of `replica` is current.
    fn is_alive(&self, replica: &str) -> StoreFuture<'_, StoreResult<bool>>;

    /// Publishes `payload` on `channel`, after every stream write this store made before; an
    /// error if nobody received it (its subscriber is reconnecting, or gone).
    fn publish(&self, channel: String, payload: Bytes) -> StoreFuture<'_, StoreResult<()>>;

    /// Subscribes to `channel`; what is published after this returns is received.
    ///
    /// The subscription's messages end when the store lost its connection to the channel:
    /// what was published meanwhile may be missing, so its holder subscribes again (the store
    /// reconnects; `subscribe` waits a bounded time for that) and re-reads the store.
    fn subscribe(&self, channel: String) -> StoreFuture<'_, StoreResult<Subscription>>;
}

/// The channel carrying the live events of stream `key`.
pub fn stream_channel(key: &StreamKey) -> String {
    format!("mcp:live:{}:{}", key.session, key.stream)
}

/// The channel a replica receives forwarded client messages on.
pub fn replica_channel(replica: &str) -> String {
    format!("mcp:replica:{replica}")
}

/// One message on a stream's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamNews {
    /// Event `seq`, framed.
    Event(u64, Bytes),
    /// The stream is complete.
    End,
}

impl StreamNews {
    /// The payload: `e`, the sequence number (8 bytes, big-endian) and the event; or `d`.
    pub fn encode(&self) -> Bytes {
        match self {
            StreamNews::Event(seq, bytes) => {
                let mut out = Vec::with_capacity(9 + bytes.len());
                out.push(b'e');
                out.extend_from_slice(&seq.to_be_bytes());
                out.extend_from_slice(bytes);
                out.into()
            }
            StreamNews::End => Bytes::from_static(b"d"),
        }
    }

    /// Reads a payload written by [`encode`](Self::encode).
    pub fn decode(payload: &Bytes) -> Option<Self> {
        match payload.first()? {
            b'd' => Some(StreamNews::End),
            b'e' if payload.len() >= 9 => {
                let seq = u64::from_be_bytes(payload[1..9].try_into().ok()?);
                Some(StreamNews::Event(seq, payload.slice(9..)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_news_round_trips() {
        for news in [
            StreamNews::Event(7, Bytes::from_static(b"id: 1:7\ndata: {}\n\n")),
            StreamNews::End,
        ] {
            assert_eq!(StreamNews::decode(&news.encode()), Some(news));
        }
        assert_eq!(StreamNews::decode(&Bytes::from_static(b"e12")), None);
        assert_eq!(StreamNews::decode(&Bytes::new()), None);
    }
}
