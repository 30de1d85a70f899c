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
use std::hash::BuildHasher;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
// Session ids are made by the server, not chosen by clients: a fast hash is safe for them.
use crate::sync::lock;
use foldhash::fast::RandomState;

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
    /// Records event `seq` of `stream`. It may wait (a store that queues its writes waits
    /// for room in a full queue: the stream's publisher is held back meanwhile); dropped
    /// before it completes, it must have recorded nothing (the next event published into the
    /// stream takes the same `seq`).
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()>;

    /// Records event `seq` of `stream` as [`append`](Self::append) does, if that needs no
    /// waiting; otherwise records nothing and hands the bytes back (the server then calls
    /// `append` and awaits it).
    ///
    /// A store that can append at once (in memory, or by queueing the write) should say so
    /// here: the server then publishes an event in the task that sends it, without boxing a
    /// future. The default hands every event back.
    fn try_append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> Result<(), Bytes> {
        let _ = (stream, seq);
        Err(bytes)
    }

    /// The events of `stream` after position `after`, oldest first; `None` when the store
    /// knows nothing of the stream. Events already evicted are simply missing.
    fn replay_after(
        &self,
        stream: StreamKey,
        after: u64,
    ) -> StoreFuture<'_, Option<Vec<StoredEvent>>>;

    /// Forgets every stream of a session (the session has ended).
    fn forget_session(&self, session: Arc<str>) -> StoreFuture<'_, ()>;

    /// `stream` is complete: its last event (the response) was appended. `delivered` says
    /// whether it was handed to a connection reading the stream; a store may then forget the
    /// stream soon (a client resumes only a stream it did not receive whole). The default
    /// keeps it like any other. Called once per finished request stream, so it must not
    /// wait: a store with remote storage spawns what it needs.
    fn finished(&self, stream: &StreamKey, delivered: bool) {
        let _ = (stream, delivered);
    }

    /// Records the only event of a stream answered at once (event `seq`, its response) and
    /// marks the stream finished, as [`append`](Self::append) then
    /// [`finished`](Self::finished) do (the default). A store may do both in one step.
    fn append_finished(
        &self,
        stream: StreamKey,
        seq: u64,
        bytes: Bytes,
        delivered: bool,
    ) -> StoreFuture<'_, ()> {
        let append = self.append(stream.clone(), seq, bytes);
        Box::pin(async move {
            append.await;
            self.finished(&stream, delivered);
        })
    }
}

/// A bounded in-memory [`EventStore`].
///
/// - At most `max_events_per_stream` events per stream (the oldest go first).
/// - At most `max_bytes` in total: whole streams go, oldest first, and only then the oldest
///   events of the stream being written. The total counts each event's bytes plus an
///   estimate of its bookkeeping (and of each stream's), so that `max_bytes` bounds memory,
///   not only payload.
/// - A stream whose response was delivered (handed to the connection reading it) stays
///   replayable for [`finished_grace`](Self::finished_grace) (default
///   [`DEFAULT_FINISHED_GRACE`]), and of those only the newest
///   [`max_finished`](Self::max_finished) (default [`DEFAULT_MAX_FINISHED`]): enough for a
///   client whose connection broke just as the response went out to reconnect (after the
///   `retry` delay its stream announced) and fetch it, while a busy server keeps about
///   `max_finished` small streams (about 0.6 KiB each for a short tool result: well under a
///   MiB) rather than filling `max_bytes` with responses everybody already has. A stream
///   whose response was not delivered (its client was gone) is kept until the byte budget or
///   the end of its session removes it.
///
/// The streams are kept in shards by session, each under its own lock, so that concurrent
/// sessions do not queue behind one lock, and ending a session touches only its own streams.
pub struct MemoryEventStore {
    max_events_per_stream: usize,
    max_bytes: usize,
    finished_grace: Duration,
    max_finished: usize,
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

/// How long a delivered stream stays replayable by default.
pub const DEFAULT_FINISHED_GRACE: Duration = Duration::from_secs(5);

/// How many delivered streams a [`MemoryEventStore`] keeps replayable at most by default.
pub const DEFAULT_MAX_FINISHED: usize = 1024;

/// The most shards a store has; smaller budgets get fewer (at least 1 MiB each).
const MAX_SHARDS: usize = 16;
const MIN_SHARD_BYTES: usize = 1024 * 1024;

/// A stream's events, oldest first. Most streams (a POST answered at once) hold one event:
/// it is kept inline, with no queue allocated for it.
enum Log {
    One(StoredEvent),
    Many(VecDeque<StoredEvent>),
}

impl Log {
    fn push_back(&mut self, event: StoredEvent) {
        match self {
            Log::Many(events) => events.push_back(event),
            Log::One(_) => {
                let Log::One(first) = std::mem::replace(self, Log::Many(VecDeque::new())) else {
                    unreachable!("matched above")
                };
                *self = Log::Many(VecDeque::from([first, event]));
            }
        }
    }

    fn pop_front(&mut self) -> Option<StoredEvent> {
        match self {
            Log::Many(events) => events.pop_front(),
            Log::One(_) => match std::mem::replace(self, Log::Many(VecDeque::new())) {
                Log::One(only) => Some(only),
                Log::Many(_) => unreachable!("matched above"),
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Log::One(_) => 1,
            Log::Many(events) => events.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &StoredEvent> {
        let (front, back): (&[StoredEvent], &[StoredEvent]) = match self {
            Log::One(only) => (std::slice::from_ref(only), &[]),
            Log::Many(events) => events.as_slices(),
        };
        front.iter().chain(back)
    }
}

/// One shard: the streams of the sessions that hash to it.
#[derive(Default)]
struct Shard {
    sessions: HashMap<Arc<str>, HashMap<u64, Log, RandomState>, RandomState>,
    /// Streams in the order they were created, for eviction. May name streams that are gone
    /// (skipped, and compacted away when they pile up).
    order: VecDeque<StreamKey>,
    /// Delivered streams in the order they finished, with the time they may be forgotten.
    finished: VecDeque<(Instant, StreamKey)>,
    /// How many streams the shard holds.
    streams: usize,
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

impl Shard {
    fn total(&self) -> usize {
        self.bytes + self.overhead
    }

    fn log_mut(&mut self, key: &StreamKey) -> Option<&mut Log> {
        self.sessions.get_mut(&key.session)?.get_mut(&key.stream)
    }

    /// Removes a stream (if it is still there) and its accounting.
    fn remove(&mut self, key: &StreamKey) {
        let Some(streams) = self.sessions.get_mut(&key.session) else {
            return;
        };
        if let Some(events) = streams.remove(&key.stream) {
            if streams.is_empty() {
                self.sessions.remove(&key.session);
            }
            self.removed_stream(&events);
        }
    }

    /// Forgets the accounting of a removed stream and its events.
    fn removed_stream(&mut self, events: &Log) {
        self.streams -= 1;
        self.bytes -= events.iter().map(|e| e.bytes.len()).sum::<usize>();
        self.overhead -= STREAM_OVERHEAD + events.len() * EVENT_OVERHEAD;
    }

    /// Forgets the accounting of one removed event.
    fn removed_event(&mut self, event: &StoredEvent) {
        self.bytes -= event.bytes.len();
        self.overhead -= EVENT_OVERHEAD;
    }

    /// Forgets delivered streams whose grace is over, and the oldest beyond `max`.
    fn expire(&mut self, now: Instant, max: usize) {
        while let Some((deadline, _)) = self.finished.front() {
            if *deadline > now && self.finished.len() <= max {
                break;
            }
            if let Some((_, key)) = self.finished.pop_front() {
                self.remove(&key);
            }
        }
    }

    /// Drops names of streams that are gone from the eviction order once they outnumber the
    /// streams held, so the order stays proportional to what the shard holds.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.streams + 64 {
            let sessions = &self.sessions;
            self.order.retain(|k| {
                sessions
                    .get(&k.session)
                    .is_some_and(|s| s.contains_key(&k.stream))
            });
        }
    }

    fn contains(&self, key: &StreamKey) -> bool {
        self.sessions
            .get(&key.session)
            .is_some_and(|s| s.contains_key(&key.stream))
    }
}

impl Default for MemoryEventStore {
    /// 1024 events per stream, 64 MiB in all; delivered streams as the type's docs say.
    fn default() -> Self {
        MemoryEventStore::new(1024, 64 * 1024 * 1024)
    }
}

impl fmt::Debug for MemoryEventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryEventStore")
            .field("streams", &self.streams())
            .field("bytes", &self.bytes())
            .field("finished_grace", &self.finished_grace)
            .field("max_finished", &self.max_finished)
            .finish()
    }
}

impl MemoryEventStore {
    /// A store with the given bounds (each at least 1).
    pub fn new(max_events_per_stream: usize, max_bytes: usize) -> Self {
        let max_bytes = max_bytes.max(1);
        let shards = (max_bytes / MIN_SHARD_BYTES).clamp(1, MAX_SHARDS);
        MemoryEventStore {
            max_events_per_stream: max_events_per_stream.max(1),
            max_bytes,
            finished_grace: DEFAULT_FINISHED_GRACE,
            max_finished: DEFAULT_MAX_FINISHED,
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::default(),
        }
    }

    /// How long a stream whose response was delivered stays replayable (default
    /// [`DEFAULT_FINISHED_GRACE`]). Zero forgets it at once.
    #[must_use]
    pub fn finished_grace(mut self, grace: Duration) -> Self {
        self.finished_grace = grace;
        self
    }

    /// How many streams whose response was delivered stay replayable at most, the newest
    /// kept (default [`DEFAULT_MAX_FINISHED`]); each costs about the size of its events plus
    /// 0.25 KiB.
    #[must_use]
    pub fn max_finished(mut self, streams: usize) -> Self {
        self.max_finished = streams;
        self
    }

    /// How many bytes of events the store holds.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| lock(s).bytes).sum()
    }

    /// How many streams the store holds events of.
    pub fn streams(&self) -> usize {
        self.shards.iter().map(|s| lock(s).streams).sum()
    }

    fn shard(&self, session: &str) -> std::sync::MutexGuard<'_, Shard> {
        let i = self.hasher.hash_one(session) as usize % self.shards.len();
        lock(&self.shards[i])
    }

    fn shard_bytes(&self) -> usize {
        self.max_bytes / self.shards.len()
    }

    fn shard_finished(&self) -> usize {
        self.max_finished.div_ceil(self.shards.len())
    }

    fn append_now(&self, key: StreamKey, seq: u64, bytes: Bytes) {
        let mut shard = self.shard(&key.session);
        self.append_in(&mut shard, key, seq, bytes);
    }

    fn append_in(&self, shard: &mut Shard, key: StreamKey, seq: u64, bytes: Bytes) {
        shard.bytes += bytes.len();
        shard.overhead += EVENT_OVERHEAD;
        let streams = shard.sessions.entry(key.session.clone()).or_default();
        let event = StoredEvent { seq, bytes };
        let log = match streams.entry(key.stream) {
            Entry::Occupied(log) => {
                let log = log.into_mut();
                log.push_back(event);
                log
            }
            Entry::Vacant(slot) => {
                shard.order.push_back(key.clone());
                shard.overhead += STREAM_OVERHEAD;
                shard.streams += 1;
                slot.insert(Log::One(event))
            }
        };
        if log.len() > self.max_events_per_stream
            && let Some(old) = log.pop_front()
        {
            shard.removed_event(&old);
        }
        self.evict(shard, &key);
    }

    /// Brings a shard back within its byte budget: other streams first, oldest first; then
    /// the oldest events of `key`, which is being written.
    fn evict(&self, shard: &mut Shard, key: &StreamKey) {
        let budget = self.shard_bytes();
        let mut writing = None;
        while shard.total() > budget {
            match shard.order.pop_front() {
                Some(old) if old == *key => writing = Some(old),
                Some(old) => shard.remove(&old),
                None => {
                    // Only the stream being written is left: drop its oldest events, but
                    // keep the newest one.
                    let log = shard.log_mut(key).filter(|l| l.len() > 1);
                    match log.and_then(Log::pop_front) {
                        Some(old) => shard.removed_event(&old),
                        None => break,
                    }
                }
            }
        }
        if let Some(key) = writing {
            shard.order.push_front(key);
        }
        shard.compact();
    }

    fn replay_now(&self, key: &StreamKey, after: u64) -> Option<Vec<StoredEvent>> {
        let shard = self.shard(&key.session);
        let log = shard.sessions.get(&key.session)?.get(&key.stream)?;
        Some(log.iter().filter(|e| e.seq > after).cloned().collect())
    }

    fn forget_now(&self, session: &str) {
        let mut shard = self.shard(session);
        if let Some(streams) = shard.sessions.remove(session) {
            for events in streams.values() {
                shard.removed_stream(events);
            }
        }
        // The session's names in the eviction and grace queues are skipped or compacted
        // away later.
        shard.compact();
    }

    fn finished_now(&self, key: &StreamKey, delivered: bool) {
        let mut shard = self.shard(&key.session);
        self.finished_in(&mut shard, key, delivered);
    }

    fn finished_in(&self, shard: &mut Shard, key: &StreamKey, delivered: bool) {
        let held = delivered && shard.contains(key);
        self.finished_held(shard, key, held);
    }

    /// [`finished_in`](Self::finished_in) when the caller knows whether the store holds the
    /// delivered stream `key` (`held`): no lookup for it.
    fn finished_held(&self, shard: &mut Shard, key: &StreamKey, held: bool) {
        let now = Instant::now();
        if held {
            shard
                .finished
                .push_back((now + self.finished_grace, key.clone()));
        }
        shard.expire(now, self.shard_finished());
    }
}

/// A future that is already complete, with no size: boxing it allocates nothing (a boxed
/// `ready(())` allocates a byte), so a memory store's append costs no allocation.
struct Done;

impl Future for Done {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Ready(())
    }
}

impl EventStore for MemoryEventStore {
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()> {
        self.append_now(stream, seq, bytes);
        Box::pin(Done)
    }

    fn try_append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> Result<(), Bytes> {
        self.append_now(stream, seq, bytes);
        Ok(())
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
        Box::pin(Done)
    }

    fn finished(&self, stream: &StreamKey, delivered: bool) {
        self.finished_now(stream, delivered);
    }

    fn append_finished(
        &self,
        stream: StreamKey,
        seq: u64,
        bytes: Bytes,
        delivered: bool,
    ) -> StoreFuture<'_, ()> {
        // Both under one lock of the stream's shard.
        let mut shard = self.shard(&stream.session);
        self.append_in(&mut shard, stream.clone(), seq, bytes);
        // Just appended, and eviction keeps the newest event of the stream being written:
        // the stream is held.
        self.finished_held(&mut shard, &stream, delivered);
        Box::pin(Done)
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

    /// A stream answered at once, stored in one step, replays as one appended and finished
    /// apart would, and is forgotten as they would be; a stream of one event kept inline
    /// grows like any other.
    #[tokio::test]
    async fn a_stream_answered_at_once_is_stored_and_forgotten_as_any() {
        let store = MemoryEventStore::default().finished_grace(Duration::ZERO);
        store
            .append_finished(key("s", 1), 1, Bytes::from_static(b"r"), false)
            .await;
        let got = store.replay_after(key("s", 1), 0).await.unwrap();
        assert_eq!(
            got,
            [StoredEvent {
                seq: 1,
                bytes: Bytes::from_static(b"r")
            }]
        );
        // Delivered, with no grace: gone at once.
        store
            .append_finished(key("s", 2), 1, Bytes::from_static(b"r"), true)
            .await;
        assert_eq!(store.replay_after(key("s", 2), 0).await, None);
        assert_eq!(store.streams(), 1);
        // Undelivered: kept.
        assert!(store.replay_after(key("s", 1), 0).await.is_some());
        // One event, then more: the log grows past one, oldest first.
        for seq in 2..=3 {
            store
                .append(key("s", 1), seq, Bytes::from_static(b"e"))
                .await;
        }
        let got = store.replay_after(key("s", 1), 1).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(store.bytes(), 3);
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
        assert_eq!(lock(&store.shards[0]).overhead, 0);
    }

    #[tokio::test]
    async fn delivered_streams_are_kept_only_for_their_grace_and_up_to_a_count() {
        let store = MemoryEventStore::default().finished_grace(Duration::ZERO);
        store.append(key("s", 1), 1, Bytes::from_static(b"a")).await;
        store.append(key("s", 2), 1, Bytes::from_static(b"b")).await;
        // Delivered with no grace: gone at once. Not delivered: kept for a resuming client.
        store.finished(&key("s", 1), true);
        store.finished(&key("s", 2), false);
        assert_eq!(store.replay_after(key("s", 1), 0).await, None);
        assert_eq!(store.replay_after(key("s", 2), 0).await.unwrap().len(), 1);

        // With a grace: replayable until it is over (looked at on the next call).
        let store = MemoryEventStore::default().finished_grace(Duration::from_millis(30));
        store.append(key("s", 1), 1, Bytes::from_static(b"a")).await;
        store.finished(&key("s", 1), true);
        assert!(store.replay_after(key("s", 1), 0).await.is_some());
        std::thread::sleep(Duration::from_millis(40));
        store.append(key("s", 2), 1, Bytes::from_static(b"b")).await;
        store.finished(&key("s", 2), true);
        assert_eq!(store.replay_after(key("s", 1), 0).await, None);
        assert!(store.replay_after(key("s", 2), 0).await.is_some());

        // And only the newest few, however long the grace.
        let store = MemoryEventStore::new(8, 1000).max_finished(2);
        for stream in 1..=5 {
            store
                .append(key("s", stream), 1, Bytes::from_static(b"x"))
                .await;
            store.finished(&key("s", stream), true);
        }
        let kept: Vec<u64> = (1..=5)
            .filter(|&n| {
                futures_util::FutureExt::now_or_never(store.replay_after(key("s", n), 0))
                    .flatten()
                    .is_some()
            })
            .collect();
        assert_eq!(kept, [4, 5]);
        assert_eq!(store.streams(), 2);
        assert_eq!(store.bytes(), 2);
    }

    #[tokio::test]
    async fn a_busy_store_stays_small_and_ending_sessions_frees_everything() {
        // 64 MiB by default, spread over shards: many sessions, each with many delivered
        // one-event streams, hold only the newest delivered ones.
        let store = MemoryEventStore::default();
        assert!(store.shards.len() > 1);
        let event = Bytes::from(vec![b'e'; 200]);
        for session in 0..64 {
            let name = format!("session-{session}");
            for stream in 1..=100 {
                store.append(key(&name, stream), 1, event.clone()).await;
                store.finished(&key(&name, stream), true);
            }
        }
        assert!(store.streams() <= DEFAULT_MAX_FINISHED + store.shards.len());
        assert!(store.bytes() <= (DEFAULT_MAX_FINISHED + store.shards.len()) * 200);
        // Undelivered streams stay, and ending their sessions takes them all.
        for session in 0..64 {
            let name = format!("session-{session}");
            store.append(key(&name, 1000), 1, event.clone()).await;
            store.finished(&key(&name, 1000), false);
        }
        for session in 0..64 {
            let name = format!("session-{session}");
            assert!(store.replay_after(key(&name, 1000), 0).await.is_some());
            store.forget_session(name.into()).await;
        }
        assert_eq!((store.streams(), store.bytes()), (0, 0));
        for shard in store.shards.iter() {
            let shard = lock(shard);
            assert_eq!(shard.overhead, 0);
            assert!(shard.sessions.is_empty());
        }
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
