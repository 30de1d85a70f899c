//! The session table: ids, admission (limits, eviction, expiry), and what each HTTP session
//! holds.

use std::cmp::Reverse;
use std::collections::HashMap;

use foldhash::fast::RandomState;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use mcp_core::server::{Server, ServerSession};
use mcp_core::transport::Outbox;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::event_store::{EventStore, StreamKey};
use super::peer::ClientKey;
use super::reject::Rejection;
use super::stream::StreamSlot;
use crate::sync::lock;

/// Counts the service exposes, for health checks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sessions alive, streamable and legacy together.
    pub sessions: usize,
    /// POST streams whose request has not been answered yet (each is still fed, whether or
    /// not a client reads it).
    pub open_streams: usize,
    /// SSE responses being written to a connection right now.
    pub connections: usize,
}

/// Shared, observable [`Stats`].
///
/// The counts live in atomics; the watch channel is told only while someone watches, so that
/// the requests of an unobserved server do not pay for notifying nobody.
#[derive(Clone)]
pub(crate) struct Counters(Arc<CountersInner>);

struct CountersInner {
    sessions: AtomicUsize,
    open_streams: AtomicUsize,
    connections: AtomicUsize,
    watch: watch::Sender<Stats>,
}

/// Which count a [`CountGuard`] holds.
#[derive(Clone, Copy)]
enum Count {
    OpenStreams,
    Connections,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters(Arc::new(CountersInner {
            sessions: AtomicUsize::new(0),
            open_streams: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            watch: watch::Sender::new(Stats::default()),
        }))
    }

    pub(crate) fn get(&self) -> Stats {
        Stats {
            sessions: self.0.sessions.load(Ordering::SeqCst),
            open_streams: self.0.open_streams.load(Ordering::SeqCst),
            connections: self.0.connections.load(Ordering::SeqCst),
        }
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Stats> {
        let rx = self.0.watch.subscribe();
        // Pairs with the fence in `publish`: either that update sees this receiver, or the
        // snapshot below sees that update.
        fence(Ordering::SeqCst);
        self.publish_now();
        rx
    }

    /// Tells the watchers, if any, about a change just made to the atomics.
    fn publish(&self) {
        fence(Ordering::SeqCst);
        if self.0.watch.receiver_count() > 0 {
            self.publish_now();
        }
    }

    fn publish_now(&self) {
        // The snapshot is taken under the channel's lock: the last one stored is the newest.
        self.0.watch.send_if_modified(|stats| {
            let now = self.get();
            let changed = *stats != now;
            *stats = now;
            changed
        });
    }

    fn counter(&self, count: Count) -> &AtomicUsize {
        match count {
            Count::OpenStreams => &self.0.open_streams,
            Count::Connections => &self.0.connections,
        }
    }

    fn hold(&self, count: Count) -> CountGuard {
        self.up(count);
        CountGuard(self.clone(), count)
    }

    fn up(&self, count: Count) {
        self.counter(count).fetch_add(1, Ordering::SeqCst);
        self.publish();
    }

    fn down(&self, count: Count) {
        self.counter(count).fetch_sub(1, Ordering::SeqCst);
        self.publish();
    }

    fn set_sessions(&self, n: usize) {
        self.0.sessions.store(n, Ordering::SeqCst);
        self.publish();
    }

    /// Counts one more SSE response until the guard drops.
    pub(crate) fn connection(&self) -> CountGuard {
        self.hold(Count::Connections)
    }

    /// Counts one more open POST stream until the guard drops.
    pub(crate) fn open_stream(&self) -> CountGuard {
        self.hold(Count::OpenStreams)
    }
}

/// Undoes a count when dropped.
pub(crate) struct CountGuard(Counters, Count);

impl Drop for CountGuard {
    fn drop(&mut self) {
        self.0.down(self.1);
    }
}

/// What kind of transport a session belongs to.
pub(crate) enum SessionKind {
    /// Streamable HTTP: a GET stream (number 0) and one stream per POSTed request.
    Streamable {
        standalone: Arc<StreamSlot>,
        next_stream: AtomicU64,
        open: Mutex<HashMap<u64, Arc<StreamSlot>>>,
    },
    /// Legacy HTTP+SSE: one outbox for everything, read by the session's one SSE stream.
    Legacy { outbox: Outbox },
}

/// One HTTP session.
pub(crate) struct HttpSession {
    pub(crate) id: Arc<str>,
    pub(crate) session: ServerSession,
    pub(crate) kind: SessionKind,
    /// Cancelled when the session ends: its streams close (and the pumps of those fed by one
    /// stop).
    pub(crate) closed: CancellationToken,
    last_seen: Mutex<Instant>,
    /// Requests being handled plus connections attached: a busy session never expires.
    busy: AtomicU32,
    /// Who opened the session.
    pub(crate) client: ClientKey,
    /// Whether the client came back after `initialize` (any request or stream since).
    returned: AtomicBool,
    /// Set, under the table's lock, when the session leaves the table: a connection that
    /// remembers it (see [`SessionSeen`]) then finds it as the table would, gone.
    removed: AtomicBool,
    /// The service's counts, for an [`Attached`] response to count itself.
    counters: Counters,
}

impl HttpSession {
    /// A streamable HTTP session. Its GET stream is the sink of the session's own outbox:
    /// a message that belongs to no request is published into it by the task that sends it.
    pub(crate) fn streamable(
        id: Arc<str>,
        server: &Server,
        store: Arc<dyn EventStore>,
        client: ClientKey,
        counters: Counters,
    ) -> Arc<Self> {
        let standalone = Arc::new(StreamSlot::new(
            StreamKey {
                session: id.clone(),
                stream: 0,
            },
            store,
        ));
        let session = ServerSession::new(server, Outbox::sink(standalone.clone()));
        if let ClientKey::Identity(name) = &client {
            session.set_principal(name.clone());
        }
        Arc::new(HttpSession {
            session,
            kind: SessionKind::Streamable {
                standalone,
                next_stream: AtomicU64::new(1),
                open: Mutex::new(HashMap::new()),
            },
            id,
            closed: CancellationToken::new(),
            last_seen: Mutex::new(Instant::now()),
            busy: AtomicU32::new(0),
            client,
            returned: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            counters,
        })
    }

    /// A legacy HTTP+SSE session, and the receiver its SSE stream reads.
    pub(crate) fn legacy(
        id: Arc<str>,
        server: &Server,
        client: ClientKey,
        counters: Counters,
    ) -> (Arc<Self>, tokio::sync::mpsc::Receiver<mcp_core::Outbound>) {
        let (outbox, rx) = Outbox::channel(server.outbox_capacity());
        // HTTP+SSE stays a transport of the stateful era.
        let stateful = ServerSession::stateful(server, outbox.clone());
        if let ClientKey::Identity(name) = &client {
            stateful.set_principal(name.clone());
        }
        let session = Arc::new(HttpSession {
            session: stateful,
            kind: SessionKind::Legacy { outbox },
            id,
            closed: CancellationToken::new(),
            last_seen: Mutex::new(Instant::now()),
            busy: AtomicU32::new(0),
            client,
            // Its stream is open from the start: there is no handshake to wait for.
            returned: AtomicBool::new(true),
            removed: AtomicBool::new(false),
            counters,
        });
        (session, rx)
    }

    pub(crate) fn is_legacy(&self) -> bool {
        matches!(self.kind, SessionKind::Legacy { .. })
    }

    /// The session left the table (called under the table's lock).
    fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }

    /// Marks the session busy until the guard drops, and records the activity (the client
    /// came back after `initialize`).
    pub(crate) fn busy(&self) -> BusyGuard<'_> {
        self.enter();
        BusyGuard(self)
    }

    fn enter(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.returned.store(true, Ordering::Relaxed);
        // No `touch` here: a busy session is neither idle nor evicted, whenever it was last
        // seen (both ask `is_unused` first), and `leave` records the time it stops being busy.
    }

    fn leave(&self) {
        self.touch();
        self.busy.fetch_sub(1, Ordering::AcqRel);
    }

    /// As [`busy`](Self::busy), and counts one more SSE response being written (see
    /// [`Counters::connection`]) until the guard drops: one pointer for both, for a response
    /// body to hold.
    pub(crate) fn attached(self: &Arc<Self>) -> Attached {
        self.enter();
        self.counters.up(Count::Connections);
        Attached(self.clone())
    }

    fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    fn last_seen(&self) -> Instant {
        *lock(&self.last_seen)
    }

    /// Whether nothing runs in the session: no request being handled, no stream attached, no
    /// call in flight. Only such a session may be ended to make room.
    fn is_unused(&self) -> bool {
        !self.is_legacy() && self.busy.load(Ordering::Acquire) == 0 && self.session.in_flight() == 0
    }

    /// Whether the session has had nothing to do since `now - idle`.
    fn is_idle(&self, now: Instant, idle: Duration) -> bool {
        self.is_unused() && now.saturating_duration_since(self.last_seen()) >= idle
    }

    /// Whether the session expires as of `now`: idle for `idle`, or never used after
    /// `initialize` for `handshake`.
    fn expires(&self, now: Instant, idle: Option<Duration>, handshake: Duration) -> bool {
        let unconfirmed = !self.returned.load(Ordering::Relaxed);
        idle.is_some_and(|idle| self.is_idle(now, idle))
            || (unconfirmed && self.is_idle(now, handshake))
    }

    /// A new POST stream of a streamable session, registered until [`Self::stream_done`].
    pub(crate) fn new_stream(&self) -> Option<Arc<StreamSlot>> {
        let number = self.stream_number()?;
        self.open_stream(number)
    }

    /// The number of a new POST stream of a streamable session, not registered yet: a stream
    /// answered at once is never registered (its events go straight to the store and its
    /// response), one that goes on is opened with [`Self::open_stream`].
    pub(crate) fn stream_number(&self) -> Option<u64> {
        match &self.kind {
            SessionKind::Streamable { next_stream, .. } => {
                Some(next_stream.fetch_add(1, Ordering::Relaxed))
            }
            SessionKind::Legacy { .. } => None,
        }
    }

    /// The key under which the events of this session's stream `number` are stored.
    pub(crate) fn stream_key(&self, number: u64) -> StreamKey {
        StreamKey {
            session: self.id.clone(),
            stream: number,
        }
    }

    /// Registers POST stream `number` (from [`Self::stream_number`]) until
    /// [`Self::stream_done`].
    pub(crate) fn open_stream(&self, number: u64) -> Option<Arc<StreamSlot>> {
        let SessionKind::Streamable {
            open, standalone, ..
        } = &self.kind
        else {
            return None;
        };
        let store = standalone.store().clone();
        let slot = Arc::new(StreamSlot::new(self.stream_key(number), store));
        lock(open).insert(number, slot.clone());
        Some(slot)
    }

    /// Forgets a finished POST stream (its events stay in the store for replay).
    pub(crate) fn stream_done(&self, number: u64) {
        if let SessionKind::Streamable { open, .. } = &self.kind {
            lock(open).remove(&number);
        }
    }

    /// A live stream by number: the GET stream or an unfinished POST stream.
    pub(crate) fn stream(&self, number: u64) -> Option<Arc<StreamSlot>> {
        match &self.kind {
            SessionKind::Streamable { standalone, .. } if number == 0 => Some(standalone.clone()),
            SessionKind::Streamable { open, .. } => lock(open).get(&number).cloned(),
            SessionKind::Legacy { .. } => None,
        }
    }

    /// Ends the session: cancels its running calls and closes its streams.
    pub(crate) fn close(&self) {
        self.closed.cancel();
        if let SessionKind::Streamable {
            standalone, open, ..
        } = &self.kind
        {
            standalone.finish_soon();
            // POST streams fed in their senders' tasks end here (a pump ends its own).
            for slot in lock(open).values() {
                slot.finish_soon();
            }
        }
        self.session.close();
    }
}

/// Keeps a session from expiring while alive.
pub(crate) struct BusyGuard<'a>(&'a HttpSession);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// An SSE response of a session being written: keeps the session busy, and is counted in
/// [`Stats::connections`], until dropped.
pub(crate) struct Attached(Arc<HttpSession>);

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.counters.down(Count::Connections);
        self.0.leave();
    }
}

/// The streamable session a connection's last POST named, as the table gave it: the next
/// POST on the connection usually names it again (see [`SessionTable::get_seen`]). Held
/// weakly: a connection does not keep a session's memory alive.
#[derive(Default)]
pub(crate) struct SessionSeen(std::cell::Cell<Option<Weak<HttpSession>>>);

impl SessionSeen {
    /// The session remembered, if its id is `id` and it is still in the table.
    fn get(&self, id: &[u8]) -> Option<Arc<HttpSession>> {
        let weak = self.0.take()?;
        let session = weak.upgrade();
        self.0.set(Some(weak));
        session.filter(|s| s.id.as_bytes() == id && !s.removed.load(Ordering::Acquire))
    }

    fn remember(&self, session: &Arc<HttpSession>) {
        if !session.is_legacy() {
            self.0.set(Some(Arc::downgrade(session)));
        }
    }
}

/// Every session, by id.
pub(crate) struct SessionTable {
    /// Keyed by ids the server made (no client chooses one): hashed with foldhash, seeded
    /// at random, not SipHash.
    map: Mutex<HashMap<Arc<str>, Arc<HttpSession>, RandomState>>,
    max: usize,
    counters: Counters,
}

impl SessionTable {
    pub(crate) fn new(max: usize, counters: Counters) -> Self {
        SessionTable {
            map: Mutex::new(HashMap::default()),
            max,
            counters,
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<HttpSession>> {
        lock(&self.map).get(id).cloned()
    }

    /// [`get`](Self::get), through what a connection remembers (`seen`): the session its
    /// last request named, when this request names the same one and it is still in the
    /// table (then neither the id's text is checked again nor the table locked), otherwise
    /// the table's answer, remembered. `id` is the `Mcp-Session-Id` value, as sent.
    pub(crate) fn get_seen(&self, id: &[u8], seen: &SessionSeen) -> Option<Arc<HttpSession>> {
        if let Some(session) = seen.get(id) {
            return Some(session);
        }
        let session = self.get(std::str::from_utf8(id).ok()?)?;
        seen.remember(&session);
        Some(session)
    }

    /// Creates and registers a session under a fresh id. At the limit, an unused session
    /// makes room (see [`choose_eviction`]): it is removed and returned for the caller to end.
    /// Refused when the table is full of sessions in use.
    pub(crate) fn insert<T>(
        &self,
        make: impl FnOnce(Arc<str>) -> (Arc<HttpSession>, T),
    ) -> Result<Admitted<T>, Rejection> {
        let id = new_session_id().ok_or(Rejection::NoEntropy)?;
        let mut map = lock(&self.map);
        let mut evicted = None;
        if map.len() >= self.max {
            let victim = choose_eviction(&map).ok_or(Rejection::TooManySessions)?;
            evicted = map.remove(&victim).inspect(|s| s.mark_removed());
        }
        let (session, extra) = make(id.clone());
        map.insert(id, session.clone());
        // Counted under the table's lock, so that concurrent changes store their counts in order.
        self.counters.set_sessions(map.len());
        drop(map);
        Ok(Admitted {
            session,
            extra,
            evicted,
        })
    }

    /// Every session, as of now.
    pub(crate) fn all(&self) -> Vec<Arc<HttpSession>> {
        lock(&self.map).values().cloned().collect()
    }

    /// Removes a session; the caller ends it.
    pub(crate) fn remove(&self, id: &str) -> Option<Arc<HttpSession>> {
        let mut map = lock(&self.map);
        let removed = map.remove(id).inspect(|s| s.mark_removed());
        self.counters.set_sessions(map.len());
        drop(map);
        removed
    }

    /// Removes the streamable sessions that expire as of `now` (idle for `idle`, or unused
    /// after `initialize` for `handshake`); the caller ends them.
    pub(crate) fn expire(
        &self,
        now: Instant,
        idle: Option<Duration>,
        handshake: Duration,
    ) -> Vec<Arc<HttpSession>> {
        let mut map = lock(&self.map);
        let expired: Vec<Arc<str>> = map
            .iter()
            .filter(|(_, s)| s.expires(now, idle, handshake))
            .map(|(id, _)| id.clone())
            .collect();
        let removed: Vec<_> = expired
            .iter()
            .filter_map(|id| map.remove(id))
            .inspect(|s| s.mark_removed())
            .collect();
        if !removed.is_empty() {
            self.counters.set_sessions(map.len());
        }
        drop(map);
        removed
    }

    /// How many requests are running in all sessions together.
    pub(crate) fn calls_in_flight(&self) -> usize {
        lock(&self.map)
            .values()
            .map(|s| s.session.in_flight())
            .sum()
    }

    /// Removes every session; the caller ends them.
    pub(crate) fn take_all(&self) -> Vec<Arc<HttpSession>> {
        let mut map = lock(&self.map);
        let removed: Vec<_> = map.drain().map(|(_, s)| s).collect();
        for session in &removed {
            session.mark_removed();
        }
        self.counters.set_sessions(0);
        drop(map);
        removed
    }
}

/// A session let in, and the session that made room for it, if one had to.
pub(crate) struct Admitted<T> {
    pub(crate) session: Arc<HttpSession>,
    pub(crate) extra: T,
    pub(crate) evicted: Option<Arc<HttpSession>>,
}

/// The session to end so a new one fits: an unused one (no request, no stream, no call), of
/// the client holding the most sessions, the least recently used of its. `None` when every
/// session is in use.
///
/// Counting by client first means a client that opens sessions by the thousand makes room
/// out of its own, while a client holding a few keeps them.
fn choose_eviction(map: &HashMap<Arc<str>, Arc<HttpSession>, RandomState>) -> Option<Arc<str>> {
    let mut held: HashMap<&ClientKey, usize> = HashMap::new();
    for session in map.values() {
        *held.entry(&session.client).or_default() += 1;
    }
    map.iter()
        .filter(|(_, s)| s.is_unused())
        .max_by_key(|(_, s)| (held[&s.client], Reverse(s.last_seen())))
        .map(|(id, _)| id.clone())
}

/// 128 bits from the OS's secure generator, as 32 lowercase hex digits (visible ASCII, as the
/// spec requires of session ids).
pub(crate) fn new_session_id() -> Option<Arc<str>> {
    let mut raw = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut raw) {
        tracing::error!(error = %e, "the OS random generator failed");
        return None;
    }
    let mut id = String::with_capacity(32);
    for byte in raw {
        id.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        id.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    Some(id.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::event_store::MemoryEventStore;
    use std::net::IpAddr;

    fn server() -> Server {
        Server::builder("t", "1").build().unwrap()
    }

    #[test]
    fn session_ids_are_random_visible_ascii() {
        let a = new_session_id().unwrap();
        let b = new_session_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| (0x21..=0x7e).contains(&c)));
    }

    #[tokio::test]
    async fn watchers_see_every_count_even_those_made_before_they_watched() {
        let counters = Counters::new();
        let early = counters.open_stream();
        let mut rx = counters.watch();
        assert_eq!(rx.borrow_and_update().open_streams, 1);
        let conn = counters.connection();
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().connections, 1);
        drop(early);
        drop(conn);
        let now = *rx
            .wait_for(|s| s.open_streams == 0 && s.connections == 0)
            .await
            .unwrap();
        assert_eq!(now, counters.get());
        // Nothing changed, nothing to see.
        drop(rx);
        let _unwatched = counters.open_stream();
        let rx = counters.watch();
        assert_eq!(rx.borrow().open_streams, 1);
    }

    fn store() -> Arc<dyn EventStore> {
        Arc::new(MemoryEventStore::default())
    }

    fn from(client: &ClientKey) -> impl Fn(Arc<str>) -> (Arc<HttpSession>, ()) + '_ {
        let store = store();
        move |id| {
            let counters = Counters::new();
            let s = HttpSession::streamable(id, &server(), store.clone(), client.clone(), counters);
            (s, ())
        }
    }

    fn addr(last: u8) -> ClientKey {
        ClientKey::Addr(IpAddr::from([10, 0, 0, last]))
    }

    /// A connection's remembered session is found again only while the table has it, and
    /// only for its own id; whichever way a session leaves the table, it is gone for the
    /// connection too.
    #[tokio::test]
    async fn a_remembered_session_is_found_as_the_table_finds_it() {
        let table = SessionTable::new(2, Counters::new());
        let me = addr(1);
        let a = table.insert(from(&me)).unwrap().session;
        let b = table.insert(from(&me)).unwrap().session;
        let seen = SessionSeen::default();
        let got = |id: &str| table.get_seen(id.as_bytes(), &seen).map(|s| s.id.clone());
        assert_eq!(got(&a.id), Some(a.id.clone()));
        assert_eq!(got(&b.id), Some(b.id.clone()), "another id is looked up");
        assert_eq!(got("no-such-session"), None);
        assert_eq!(got(&b.id), Some(b.id.clone()));
        // Removed by a DELETE (on another connection), then by expiry and shutdown.
        table.remove(&b.id).unwrap().close();
        assert_eq!(
            got(&b.id),
            None,
            "a removed session is not remembered into life"
        );
        assert_eq!(got(&a.id), Some(a.id.clone()));
        drop(a.busy());
        let expired = table.expire(
            Instant::now() + Duration::from_secs(60),
            Some(Duration::ZERO),
            Duration::ZERO,
        );
        assert_eq!(expired.len(), 1);
        assert_eq!(got(&a.id), None);
        let c = table.insert(from(&me)).unwrap().session;
        assert_eq!(got(&c.id), Some(c.id.clone()));
        table.take_all();
        assert_eq!(got(&c.id), None);
    }

    #[tokio::test]
    async fn the_table_refuses_only_when_every_session_is_in_use() {
        let counters = Counters::new();
        let table = SessionTable::new(2, counters.clone());
        let me = addr(1);
        let a = table.insert(from(&me)).unwrap().session;
        let b = table.insert(from(&me)).unwrap().session;
        let (_a_busy, _b_busy) = (a.busy(), b.busy());
        assert_eq!(
            table.insert(from(&me)).err().map(|e| e.to_string()),
            Some(Rejection::TooManySessions.to_string())
        );
        assert_eq!(counters.get().sessions, 2);
        table.remove(&a.id).unwrap().close();
        assert_eq!(counters.get().sessions, 1);
        assert!(table.get(&a.id).is_none());
    }

    #[tokio::test]
    async fn at_the_limit_the_top_clients_least_recently_used_idle_session_makes_room() {
        let table = SessionTable::new(4, Counters::new());
        let (flooder, other) = (addr(1), addr(2));
        let mine = table.insert(from(&other)).unwrap().session;
        let oldest = table.insert(from(&flooder)).unwrap().session;
        let busy = table.insert(from(&flooder)).unwrap().session;
        let _in_use = busy.busy();
        let newest = table.insert(from(&flooder)).unwrap().session;
        // The flooder holds three; its oldest unused session goes, though `mine` is older.
        let room = table.insert(from(&other)).unwrap();
        assert_eq!(room.evicted.map(|s| s.id.clone()), Some(oldest.id.clone()));
        // Now two each: the older unused session of the two clients goes (`mine`, used least
        // recently), never the busy one.
        newest.touch();
        let room = table.insert(from(&flooder)).unwrap();
        assert_eq!(room.evicted.map(|s| s.id.clone()), Some(mine.id.clone()));
        assert!(table.get(&busy.id).is_some());
    }

    #[tokio::test]
    async fn idle_sessions_expire_and_unconfirmed_ones_sooner() {
        let table = SessionTable::new(8, Counters::new());
        let me = addr(1);
        let unconfirmed = table.insert(from(&me)).unwrap().session;
        let idle = table.insert(from(&me)).unwrap().session;
        drop(idle.busy());
        let busy = table.insert(from(&me)).unwrap().session;
        let _guard = busy.busy();
        let (minute, hour) = (Duration::from_secs(60), Duration::from_secs(3600));
        // Not yet idle long enough.
        assert!(table.expire(Instant::now(), Some(hour), minute).is_empty());
        let later = Instant::now() + minute;
        let expired = table.expire(later, Some(hour), minute);
        assert_eq!(
            expired.len(),
            1,
            "only the session never used after initialize"
        );
        assert_eq!(expired[0].id, unconfirmed.id);
        let much_later = Instant::now() + hour;
        let expired = table.expire(much_later, Some(hour), minute);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].id, idle.id);
        assert!(table.get(&busy.id).is_some());
        assert!(table.expire(much_later, None, minute).is_empty());
    }
}
