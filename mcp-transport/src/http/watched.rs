//! A connection's socket, watched: how long its writes have been waiting for the client to
//! read, so that a client that stops reading cannot hold the connection forever; and how
//! long the connection has waited for its next request, so that a client that sends no
//! request (or sends its headers a byte at a time) cannot either. Given an [`IdlePoll`], the
//! read that waits for the next request on a kept-alive connection (a response has ended,
//! none is in progress, no byte of the next request has come, and no other connection of the
//! server has begun a request over this one's last round) looks for it a little while before
//! the task sleeps: see [`HttpConfig::idle_poll`](crate::http::HttpConfig::idle_poll).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::idle_poll::{IdlePoll, ReadNow};

/// When the connection's pending write started waiting, and since when it has had no
/// request to answer; shared with the connection's task and the responses it gives.
pub(crate) struct Stall {
    base: Instant,
    /// Nanoseconds after `base` plus one when a write started waiting; 0 while none waits.
    since: AtomicU64,
    /// Requests whose response has not ended yet.
    answering: AtomicUsize,
    /// Nanoseconds after `base` when the last response ended (0: the connection's start).
    idle_since: AtomicU64,
    /// How many responses have ended.
    ended: AtomicU64,
    /// Requests begun on every connection of the server (one counter shared by all); `None`
    /// when this connection has no idle poll: it neither counts nor looks.
    server: Option<Arc<AtomicU64>>,
    /// What `server` counted when this connection's last request began.
    began: AtomicU64,
    /// What `server` counted when the request before it began (or the connection opened).
    /// While `server` counts `began` and `began` is one more than this, no other connection
    /// has begun a request over this connection's last whole round (its request before
    /// last, the response, the gap, the last request, and the gap since), and this
    /// connection's idle poll may run. So several busy clients never make the server spin:
    /// their gaps are long because the client is busy with its other connections, not
    /// because a wake-up is dear, and a spin would take the CPU that the client and the
    /// other connections need. (Looking only at the requests begun since the last one of
    /// this connection was not enough: with 4 lockstep clients a third of the gaps still
    /// polled; see `BENCHMARKS.md`, "HTTP idle poll".)
    previous: AtomicU64,
}

impl Stall {
    fn block(&self) {
        if self.since.load(Ordering::Relaxed) == 0 {
            let at = Instant::now().saturating_duration_since(self.base);
            let nanos = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX - 1);
            self.since.store(nanos + 1, Ordering::Relaxed);
        }
    }

    fn unblock(&self) {
        self.since.store(0, Ordering::Relaxed);
    }

    fn blocked_since(&self) -> Option<Instant> {
        match self.since.load(Ordering::Relaxed) {
            0 => None,
            n => Some(self.base + Duration::from_nanos(n - 1)),
        }
    }

    /// How long the pending write has waited as of `now` (zero when none waits).
    pub(crate) fn blocked_for(&self, now: Instant) -> Duration {
        self.blocked_since()
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at))
    }

    /// When to look again: when the pending write will have waited `limit`, or `limit` from
    /// now when none waits.
    pub(crate) fn deadline(&self, limit: Duration) -> Instant {
        self.blocked_since().unwrap_or_else(Instant::now) + limit
    }

    /// A request's headers are in: the connection is answering it until the returned guard
    /// (kept by the response's body) drops.
    pub(crate) fn responding(self: &Arc<Self>) -> Responding {
        if let Some(server) = &self.server {
            let began = server.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            let previous = self.began.swap(began, Ordering::Relaxed);
            self.previous.store(previous, Ordering::Relaxed);
        }
        self.answering.fetch_add(1, Ordering::AcqRel);
        Responding(self.clone())
    }

    /// Since when the connection has waited for a request (no response in progress), or
    /// `None` while it answers one.
    fn waiting_since(&self) -> Option<Instant> {
        (self.answering.load(Ordering::Acquire) == 0)
            .then(|| self.base + Duration::from_nanos(self.idle_since.load(Ordering::Acquire)))
    }

    /// How long the connection has waited for a request as of `now` (zero while it answers
    /// one).
    pub(crate) fn waiting_for(&self, now: Instant) -> Duration {
        self.waiting_since()
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at))
    }

    /// When to look again: when the connection will have waited `limit` for a request, or
    /// `limit` from now while it answers one.
    pub(crate) fn request_deadline(&self, limit: Duration) -> Instant {
        self.waiting_since().unwrap_or_else(Instant::now) + limit
    }

    /// Whether no other connection of the server has begun a request since this one's
    /// request before last began (a heuristic: the counters are read without ordering);
    /// never without the server's count.
    pub(crate) fn alone(&self) -> bool {
        let Some(server) = &self.server else {
            return false;
        };
        let began = self.began.load(Ordering::Relaxed);
        server.load(Ordering::Relaxed) == began
            && began.wrapping_sub(self.previous.load(Ordering::Relaxed)) == 1
    }

    /// How many responses have ended, or `None` while one is in progress.
    fn ended_if_idle(&self) -> Option<u64> {
        let ended = self.ended.load(Ordering::Acquire);
        (self.answering.load(Ordering::Acquire) == 0).then_some(ended)
    }
}

/// Held by a response's body: while it lives, the connection is answering a request (and not
/// waiting for one); when it drops (the response ended, or the connection went), the wait for
/// the next request starts.
pub(crate) struct Responding(Arc<Stall>);

impl Drop for Responding {
    fn drop(&mut self) {
        let stall = &self.0;
        let at = Instant::now().saturating_duration_since(stall.base);
        let nanos = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        // Stamped before the count drops, so that a watcher seeing no request in progress
        // reads this stamp, not an older one.
        stall.idle_since.fetch_max(nanos, Ordering::AcqRel);
        stall.ended.fetch_add(1, Ordering::AcqRel);
        stall.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's idle poll, made when the connection first polls: a connection that never
/// waits for a next request (one that holds a `GET` event stream, the usual idle session)
/// carries only its settings, not the poll's state (about 100 bytes less per connection).
pub(crate) enum Poller<T> {
    /// No idle poll.
    Off,
    /// To be made with these when the connection first polls.
    Unmade(ReadNow<T>, Duration),
    /// Made.
    Made(Box<IdlePoll<T>>),
}

impl<T> Poller<T> {
    /// A poll with `read_now` for windows of up to `max`, made when first needed; `Off` for
    /// a zero `max`.
    pub(crate) fn new(read_now: ReadNow<T>, max: Duration) -> Self {
        if max.is_zero() {
            Poller::Off
        } else {
            Poller::Unmade(read_now, max)
        }
    }

    /// The poll, made now if it was not yet; `None` if off.
    fn make(&mut self) -> Option<&mut IdlePoll<T>> {
        if let Poller::Unmade(read_now, max) = *self {
            *self = IdlePoll::new(read_now, max).map_or(Poller::Off, |p| Poller::Made(Box::new(p)));
        }
        self.made()
    }

    /// The poll, if it was made.
    fn made(&mut self) -> Option<&mut IdlePoll<T>> {
        match self {
            Poller::Made(poll) => Some(poll),
            _ => None,
        }
    }
}

impl<T> From<Option<IdlePoll<T>>> for Poller<T> {
    fn from(poll: Option<IdlePoll<T>>) -> Self {
        poll.map_or(Poller::Off, |p| Poller::Made(Box::new(p)))
    }
}

/// A socket whose writes report when they wait (the peer's window is full), and whose read
/// for the next request may poll it for a while (its [`IdlePoll`]).
pub(crate) struct Watched<T> {
    io: T,
    stall: Arc<Stall>,
    idle_poll: Poller<T>,
    /// How many responses had ended when the last bytes were read: while it is the count
    /// now (and no response is in progress), the next request has begun or none ended yet.
    read_at: u64,
}

impl<T> Watched<T> {
    /// `io`, watched; with `idle_poll`, the read for the next request polls it while no
    /// other connection of the server has begun a request since this one's request before
    /// last began (`server` counts the requests begun: one counter shared by every
    /// connection of a server). Without an idle poll the connection leaves `server` alone:
    /// its requests cost no write to a count that every connection's thread writes.
    pub(crate) fn new(
        io: T,
        idle_poll: impl Into<Poller<T>>,
        server: Arc<AtomicU64>,
    ) -> (Self, Arc<Stall>) {
        let idle_poll = idle_poll.into();
        let server = (!matches!(idle_poll, Poller::Off)).then_some(server);
        let began = server.as_ref().map_or(0, |s| s.load(Ordering::Relaxed));
        let stall = Arc::new(Stall {
            base: Instant::now(),
            since: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            ended: AtomicU64::new(0),
            server,
            began: AtomicU64::new(began),
            previous: AtomicU64::new(began),
        });
        (
            Watched {
                io,
                stall: stall.clone(),
                idle_poll,
                read_at: 0,
            },
            stall,
        )
    }

    /// Whether a read now waits for the next request: a response ended since the last bytes
    /// were read and none is in progress (so not mid-request, not while a response or a
    /// stream is being sent).
    fn awaits_request(&self) -> bool {
        self.stall
            .ended_if_idle()
            .is_some_and(|ended| ended != self.read_at)
    }

    fn note<R>(&self, polled: Poll<R>) -> Poll<R> {
        match polled {
            Poll::Pending => self.stall.block(),
            Poll::Ready(_) => self.stall.unblock(),
        }
        polled
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A full buffer reads nothing, which a read without the reactor would take for the
        // end of the stream: only a read with room polls. A gap that opens after another
        // connection began a request is not polled (it stays so: only this connection's next
        // request makes it alone again), and its governor does not see it: its length says
        // how busy the other clients keep this one's client, not what a wake-up costs. The
        // server's count (a cache line every connection's thread writes) is read last: only
        // by a read that waits for the next request.
        let polls = !matches!(this.idle_poll, Poller::Off)
            && buf.remaining() > 0
            && this.awaits_request()
            && this.stall.alone();
        let idle_poll = if polls {
            this.idle_poll.make()
        } else {
            this.idle_poll.made()
        };
        let Some(idle_poll) = idle_poll else {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        };
        let stall = &this.stall;
        let before = buf.filled().len();
        // Another connection began a request: a spin under way stops.
        let read = idle_poll.poll_read(polls, &mut this.io, cx, buf, || !stall.alone());
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            // The next request has begun (or more of this one came): no poll until a
            // response ends again.
            this.read_at = this.stall.ended.load(Ordering::Acquire);
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.note(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.note(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.note(polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idle_poll::governor::Governor;
    use std::cell::Cell;
    use std::task::Waker;
    use tokio::io::{AsyncWriteExt, DuplexStream};

    thread_local! {
        /// Reads without the reactor, on this test's thread.
        static POLLED: Cell<u32> = const { Cell::new(0) };
    }

    /// A read without the reactor that counts and never finds anything (the reactor's read
    /// takes what comes).
    fn read_now(_: &DuplexStream, _: &mut [u8]) -> io::Result<usize> {
        POLLED.set(POLLED.get() + 1);
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// Reads `io` once with a waker that does nothing: the bytes read, or `None` for pending.
    fn read_once(io: &mut Watched<DuplexStream>) -> Option<usize> {
        let mut bytes = [0u8; 64];
        let mut buf = ReadBuf::new(&mut bytes);
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(io).poll_read(&mut cx, &mut buf) {
            Poll::Ready(read) => {
                read.unwrap();
                Some(buf.filled().len())
            }
            Poll::Pending => None,
        }
    }

    #[tokio::test]
    async fn only_the_read_for_the_next_request_polls() {
        let (near, mut far) = tokio::io::duplex(64);
        // A poll of one read per poll of the task (a zero slice), with a long window.
        let poll = IdlePoll::with(
            read_now,
            Governor::at_max(Duration::from_secs(60)),
            Duration::ZERO,
        );
        let (mut io, stall) = Watched::new(near, Some(poll), Arc::default());
        assert_eq!(read_once(&mut io), None);
        assert_eq!(
            POLLED.get(),
            0,
            "no response has ended: the first request is awaited"
        );
        far.write_all(b"GET / HT").await.unwrap();
        assert_eq!(read_once(&mut io), Some(8));
        let responding = stall.responding();
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 0, "a response is in progress");
        drop(responding);
        assert_eq!(read_once(&mut io), None);
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 2, "the response ended: each read polls");
        far.write_all(b"POST").await.unwrap();
        assert_eq!(read_once(&mut io), Some(4));
        assert_eq!(POLLED.get(), 3);
        assert_eq!(read_once(&mut io), None);
        assert_eq!(
            POLLED.get(),
            3,
            "the next request has begun: mid-request reads wait"
        );
        // The next response ends: its gap is polled again.
        drop(stall.responding());
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 4);
    }

    /// One round on `io`: the client sends a request, the connection reads it and answers.
    async fn round(io: &mut Watched<DuplexStream>, far: &mut DuplexStream, stall: &Arc<Stall>) {
        far.write_all(b"POST").await.unwrap();
        assert_eq!(read_once(io), Some(4));
        drop(stall.responding());
    }

    #[tokio::test]
    async fn a_connection_polls_only_while_no_other_began_a_request_over_its_last_round() {
        let server = Arc::new(AtomicU64::new(0));
        let poll = || {
            IdlePoll::with(
                read_now,
                Governor::at_max(Duration::from_secs(60)),
                Duration::ZERO,
            )
        };
        let (near, mut far) = tokio::io::duplex(64);
        let (mut io, stall) = Watched::new(near, Some(poll()), server.clone());
        let (other_near, _other_far) = tokio::io::duplex(64);
        let (_other_io, other) = Watched::new(other_near, Some(poll()), server.clone());
        // The other connection opens a stream that it keeps (a GET stream).
        let stream = other.responding();
        // This connection's first request and response: the stream began within its round.
        drop(stall.responding());
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 0, "another connection began a request");
        round(&mut io, &mut far, &stall).await;
        // Its second: no other request began over its round (the stream still open does not
        // count).
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 1, "alone over its last round: the read polls");
        // Another connection begins a request: the poll stops...
        drop(other.responding());
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 1, "another connection began a request");
        // ...for the rest of this gap, although that request has ended...
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 1, "the gap is not polled again");
        // ...and for the next gap, whose round it began in.
        round(&mut io, &mut far, &stall).await;
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 1, "the other request began within this round");
        // A round with no other request: polled again.
        round(&mut io, &mut far, &stall).await;
        assert_eq!(POLLED.get(), 1);
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 2, "alone again: the read polls");
        drop(stream);
    }

    #[tokio::test]
    async fn the_poll_is_made_when_the_connection_first_polls() {
        let (near, mut far) = tokio::io::duplex(64);
        let (mut io, stall) = Watched::new(
            near,
            Poller::new(read_now, Duration::from_secs(60)),
            Arc::default(),
        );
        far.write_all(b"GET").await.unwrap();
        assert_eq!(read_once(&mut io), Some(3));
        // A stream held open: its connection never waits for a next request.
        let stream = stall.responding();
        assert_eq!(read_once(&mut io), None);
        assert!(matches!(io.idle_poll, Poller::Unmade(..)));
        drop(stream);
        assert_eq!(read_once(&mut io), None);
        assert!(matches!(io.idle_poll, Poller::Made(_)));
        let (near, _far) = tokio::io::duplex(64);
        let (io, _) = Watched::new(near, Poller::new(read_now, Duration::ZERO), Arc::default());
        assert!(matches!(io.idle_poll, Poller::Off));
    }

    #[tokio::test]
    async fn only_a_connection_with_a_poll_counts_its_requests() {
        let server = Arc::new(AtomicU64::new(0));
        let (near, _far) = tokio::io::duplex(64);
        let (_io, stall) = Watched::new(
            near,
            Poller::new(read_now, Duration::from_secs(60)),
            server.clone(),
        );
        drop(stall.responding());
        assert_eq!(
            server.load(Ordering::Relaxed),
            1,
            "a connection with a poll"
        );
        let (near, _far) = tokio::io::duplex(64);
        let (_io, stall) =
            Watched::new(near, Poller::new(read_now, Duration::ZERO), server.clone());
        drop(stall.responding());
        drop(stall.responding());
        assert_eq!(
            server.load(Ordering::Relaxed),
            1,
            "a connection without one leaves the count alone"
        );
        assert!(!stall.alone(), "and never polls");
    }

    #[tokio::test]
    async fn a_read_without_room_is_not_polled() {
        let (near, _far) = tokio::io::duplex(64);
        let poll = IdlePoll::with(
            read_now,
            Governor::at_max(Duration::from_secs(60)),
            Duration::ZERO,
        );
        let (mut io, stall) = Watched::new(near, Some(poll), Arc::default());
        drop(stall.responding());
        let mut cx = Context::from_waker(Waker::noop());
        let mut buf = ReadBuf::new(&mut []);
        // Whatever the duplex's own read of no room says, the poll did not answer it.
        let _ = Pin::new(&mut io).poll_read(&mut cx, &mut buf);
        assert_eq!(POLLED.get(), 0);
        // With room, the same read polls.
        assert_eq!(read_once(&mut io), None);
        assert_eq!(POLLED.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_does_not_read_is_seen_waiting() {
        // A pipe of 64 bytes that nobody reads.
        let (near, _far) = tokio::io::duplex(64);
        let (mut io, stall) = Watched::new(near, None, Arc::default());
        io.write_all(&[0; 64]).await.unwrap();
        assert_eq!(stall.blocked_for(Instant::now()), Duration::ZERO);
        let stuck = tokio::time::timeout(Duration::from_secs(5), io.write_all(&[1; 8])).await;
        assert!(stuck.is_err(), "the pipe is full");
        assert!(stall.blocked_for(Instant::now()) >= Duration::from_secs(5));
        let limit = Duration::from_secs(60);
        assert!(stall.deadline(limit) <= Instant::now() + limit - Duration::from_secs(5));
    }
}
