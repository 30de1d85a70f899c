//! Where stream events are kept so a client can resume a broken stream with `Last-Event-ID`.
//!
//! Every SSE event the streamable HTTP server sends has an id `<stream>:<seq>`: the stream it
//! belongs to (within its session) and its position in that stream, counted from 1 (the
//! priming event of a new stream carries `<stream>:0`). Before an event is written to a
//! connection it is appended to the [`EventStore`]; a GET with `Last-Event-ID: 4:7` replays
//! the events of stream 4 after position 7, then continues live if the stream is still open.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{Future, ready};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// A boxed future returned by [`EventStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Names one SSE stream: its session and its number within that session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// The session id.
    pub session: Arc<str>,
    /// The stream's number: 0 is the session's GET stream, POST streams count from 1.
    pub stream: u64,
}

/// The id of one event within its session: `<stream>:<seq>` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    /// The stream's number.
    pub stream: u64,
    /// The event's position in its stream (0 for the priming event).
    pub seq: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.stream, self.seq)
    }
}

/// An event id that is not `<stream>:<seq>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed event id {0:?}: expected `<stream>:<seq>`")]
pub struct BadEventId(pub String);

impl FromStr for EventId {
    type Err = BadEventId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadEventId(s.to_owned());
        let (stream, seq) = s.trim().split_once(':').ok_or_else(bad)?;
        Ok(EventId {
            stream: stream.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// One stored event: its position and its framed bytes (exactly what went on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The event's position in its stream.
    pub seq: u64,
    /// The framed SSE event.
    pub bytes: Bytes,
}

/// Keeps events for replay. Implementations must be bounded: events nobody reads (a client
/// that never comes back) must not grow memory without limit.
///
/// The server calls [`append`](Self::append) for each event, in order, before writing it,
/// and never concurrently for one stream.
pub trait EventStore: Send + Sync + 'static {
    /// Records event `seq` of `stream`.
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()>;

    /// The events of `stream` after position `after`, oldest first; `None` when the store
    /// knows nothing of the stream. Events already evicted are simply missing.
    fn replay_after(
        &self,
        stream: StreamKey,
        after: u64,
    ) -> StoreFuture<'_, Option<Vec<StoredEvent>>>;

    /// Forgets every stream of a session (the session has ended).
    fn forget_session(&self, session: Arc<str>) -> StoreFuture<'_, ()>;
}

/// A bounded in-memory [`EventStore`]: at most `max_events_per_stream` events per stream (the
/// oldest go first) and at most `max_bytes` in total (whole streams go, oldest first, and
/// only then the oldest events of the stream being written).
///
/// The total counts what the store really holds: each event's bytes plus an estimate of its
/// bookkeeping (and of each stream's), so that `max_bytes` bounds its memory, not only its
/// payload.
pub struct MemoryEventStore {
    max_events_per_stream: usize,
    max_bytes: usize,
    inner: Mutex<Logs>,
}

#[derive(Default)]
struct Logs {
    streams: HashMap<StreamKey, VecDeque<StoredEvent>>,
    /// Streams in the order they were created, for eviction.
    order: VecDeque<StreamKey>,
    /// The events' bytes.
    bytes: usize,
    /// The estimated bookkeeping of the events and streams held.
    overhead: usize,
}

/// What holding one event costs besides its bytes: its slot in its stream's queue and the
/// shared buffer's header.
const EVENT_OVERHEAD: usize = 80;
/// What holding one stream costs besides its events: its key in the map and in the
/// eviction order, and its queue.
const STREAM_OVERHEAD: usize = 160;

impl Logs {
    fn total(&self) -> usize {
        self.bytes + self.overhead
    }

    /// Forgets the accounting of a removed stream and its events.
    fn removed_stream(&mut self, events: &VecDeque<StoredEvent>) {
        self.bytes -= events.iter().map(|e| e.bytes.len()).sum::<usize>();
        self.overhead -= STREAM_OVERHEAD + events.len() * EVENT_OVERHEAD;
    }

    /// Forgets the accounting of one removed event.
    fn removed_event(&mut self, event: &StoredEvent) {
        self.bytes -= event.bytes.len();
        self.overhead -= EVENT_OVERHEAD;
    }
}

impl Default for MemoryEventStore {
    /// 1024 events per stream, 64 MiB in all.
    fn default() -> Self {
        MemoryEventStore::new(1024, 64 * 1024 * 1024)
    }
}

impl fmt::Debug for MemoryEventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let logs = self.lock();
        f.debug_struct("MemoryEventStore")
            .field("streams", &logs.streams.len())
            .field("bytes", &logs.bytes)
            .finish()
    }
}

impl MemoryEventStore {
    /// A store with the given bounds (each at least 1).
    pub fn new(max_events_per_stream: usize, max_bytes: usize) -> Self {
        MemoryEventStore {
            max_events_per_stream: max_events_per_stream.max(1),
            max_bytes: max_bytes.max(1),
            inner: Mutex::new(Logs::default()),
        }
    }

    /// How many bytes of events the store holds.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many streams the store holds events of.
    pub fn streams(&self) -> usize {
        self.lock().streams.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Logs> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append_now(&self, key: StreamKey, seq: u64, bytes: Bytes) {
        let mut logs = self.lock();
        let logs = &mut *logs;
        logs.bytes += bytes.len();
        logs.overhead += EVENT_OVERHEAD;
        let log = match logs.streams.entry(key.clone()) {
            Entry::Occupied(log) => log.into_mut(),
            Entry::Vacant(slot) => {
                logs.order.push_back(slot.key().clone());
                logs.overhead += STREAM_OVERHEAD;
                slot.insert(VecDeque::with_capacity(1))
            }
        };
        log.push_back(StoredEvent { seq, bytes });
        if log.len() > self.max_events_per_stream
            && let Some(old) = log.pop_front()
        {
            logs.removed_event(&old);
        }
        while logs.total() > self.max_bytes {
            let oldest = logs.order.iter().position(|k| *k != key);
            match oldest.and_then(|i| logs.order.remove(i)) {
                Some(old) => {
                    if let Some(events) = logs.streams.remove(&old) {
                        logs.removed_stream(&events);
                    }
                }
                None => {
                    // Only the stream being written is left: drop its oldest events, but
                    // keep the newest one.
                    let log = logs.streams.get_mut(&key).filter(|l| l.len() > 1);
                    match log.and_then(VecDeque::pop_front) {
                        Some(old) => logs.removed_event(&old),
                        None => break,
                    }
                }
            }
        }
    }

    fn replay_now(&self, key: &StreamKey, after: u64) -> Option<Vec<StoredEvent>> {
        let logs = self.lock();
        let log = logs.streams.get(key)?;
        Some(log.iter().filter(|e| e.seq > after).cloned().collect())
    }

    fn forget_now(&self, session: &str) {
        let mut logs = self.lock();
        let logs = &mut *logs;
        logs.order.retain(|k| &*k.session != session);
        let mut gone = Vec::new();
        logs.streams.retain(|k, events| {
            let keep = &*k.session != session;
            if !keep {
                gone.push(std::mem::take(events));
            }
            keep
        });
        for events in &gone {
            logs.removed_stream(events);
        }
    }
}

impl EventStore for MemoryEventStore {
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()> {
        self.append_now(stream, seq, bytes);
        Box::pin(ready(()))
    }

    fn replay_after(
        &self,
        stream: StreamKey,
        after: u64,
    ) -> StoreFuture<'_, Option<Vec<StoredEvent>>> {
        Box::pin(ready(self.replay_now(&stream, after)))
    }

    fn forget_session(&self, session: Arc<str>) -> StoreFuture<'_, ()> {
        self.forget_now(&session);
        Box::pin(ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(session: &str, stream: u64) -> StreamKey {
        StreamKey {
            session: session.into(),
            stream,
        }
    }

    #[test]
    fn event_ids_round_trip_and_reject_garbage() {
        let id: EventId = "4:17".parse().unwrap();
        assert_eq!(id, EventId { stream: 4, seq: 17 });
        assert_eq!(id.to_string(), "4:17");
        assert!("4".parse::<EventId>().is_err());
        assert!("a:1".parse::<EventId>().is_err());
        assert!("1:-1".parse::<EventId>().is_err());
    }

    #[tokio::test]
    async fn replays_after_a_position_and_knows_unknown_streams() {
        let store = MemoryEventStore::default();
        for seq in 1..=4 {
            store
                .append(key("s", 1), seq, Bytes::from(format!("e{seq}")))
                .await;
        }
        let got = store.replay_after(key("s", 1), 2).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(store.replay_after(key("s", 2), 0).await, None);
        assert_eq!(store.replay_after(key("t", 1), 0).await, None);
    }

    #[tokio::test]
    async fn stays_within_its_bounds() {
        let store = MemoryEventStore::new(3, 1000);
        for seq in 1..=10 {
            store
                .append(key("s", 1), seq, Bytes::from_static(b"xx"))
                .await;
        }
        let got = store.replay_after(key("s", 1), 0).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [8, 9, 10]);
        assert_eq!(store.bytes(), 6);

        // A byte budget of 10: a new stream pushes the old one out.
        let store = MemoryEventStore::new(100, 10);
        store
            .append(key("s", 1), 1, Bytes::from_static(b"123456"))
            .await;
        store
            .append(key("s", 2), 1, Bytes::from_static(b"123456"))
            .await;
        assert_eq!(store.replay_after(key("s", 1), 0).await, None);
        assert_eq!(store.streams(), 1);
        assert_eq!(store.bytes(), 6);
        // One stream alone over budget keeps only its newest events.
        store
            .append(key("s", 2), 2, Bytes::from_static(b"123456"))
            .await;
        let got = store.replay_after(key("s", 2), 0).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    }

    #[tokio::test]
    async fn the_bound_counts_bookkeeping_too() {
        // Many one-event streams: their bookkeeping outweighs their bytes.
        let store = MemoryEventStore::new(1024, 10_000);
        for stream in 0..1_000 {
            store
                .append(key("s", stream), 1, Bytes::from_static(b"0123456789"))
                .await;
        }
        let per_stream = 10 + EVENT_OVERHEAD + STREAM_OVERHEAD;
        assert_eq!(store.streams(), 10_000 / per_stream);
        assert_eq!(store.bytes(), 10 * store.streams());
        // The newest streams are the ones kept.
        assert!(store.replay_after(key("s", 999), 0).await.is_some());
        assert!(store.replay_after(key("s", 0), 0).await.is_none());
        store.forget_session("s".into()).await;
        assert_eq!((store.streams(), store.bytes()), (0, 0));
        assert_eq!(store.lock().overhead, 0);
    }

    #[tokio::test]
    async fn forgets_a_session() {
        let store = MemoryEventStore::default();
        store.append(key("a", 1), 1, Bytes::from_static(b"x")).await;
        store
            .append(key("b", 1), 1, Bytes::from_static(b"yy"))
            .await;
        store.forget_session("a".into()).await;
        assert_eq!(store.replay_after(key("a", 1), 0).await, None);
        assert_eq!(store.bytes(), 2);
    }
}
