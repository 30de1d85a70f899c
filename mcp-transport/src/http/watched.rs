//! A connection's socket, watched: how long its writes have been waiting for the client to
//! read, so that a client that stops reading cannot hold the connection forever; and how
//! long the connection has waited for its next request, so that a client that sends no
//! request (or sends its headers a byte at a time) cannot either.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

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
        stall.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket whose writes report when they wait (the peer's window is full).
pub(crate) struct Watched<T> {
    io: T,
    stall: Arc<Stall>,
}

impl<T> Watched<T> {
    pub(crate) fn new(io: T) -> (Self, Arc<Stall>) {
        let stall = Arc::new(Stall {
            base: Instant::now(),
            since: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
        });
        (
            Watched {
                io,
                stall: stall.clone(),
            },
            stall,
        )
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
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
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
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_does_not_read_is_seen_waiting() {
        // A pipe of 64 bytes that nobody reads.
        let (near, _far) = tokio::io::duplex(64);
        let (mut io, stall) = Watched::new(near);
        io.write_all(&[0; 64]).await.unwrap();
        assert_eq!(stall.blocked_for(Instant::now()), Duration::ZERO);
        let stuck = tokio::time::timeout(Duration::from_secs(5), io.write_all(&[1; 8])).await;
        assert!(stuck.is_err(), "the pipe is full");
        assert!(stall.blocked_for(Instant::now()) >= Duration::from_secs(5));
        let limit = Duration::from_secs(60);
        assert!(stall.deadline(limit) <= Instant::now() + limit - Duration::from_secs(5));
    }
}
