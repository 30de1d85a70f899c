//! The server's output: the writer and the session's outbound queue, shared by the read loop
//! (which writes a ready answer itself) and the write loop (which writes everything else).
//!
//! A request answered at once (most tool calls: they run inline until they first wait) would
//! otherwise travel through the outbox channel to the write loop: a wake-up of the serving
//! task by itself, which the multi-thread runtime answers by waking another worker thread.
//! Instead the read loop queues the answer behind what the writer already holds and writes
//! it without waiting: one `write` per call, on the thread that read the request. Whatever
//! the writer cannot take at once stays queued, in order, for the write loop, which the
//! writer wakes when it can take more.
//!
//! Order: an answer is written directly only while the outbox queue is empty, so it never
//! overtakes a message sent before it (a call that completed at once may have sent progress
//! first); otherwise it goes through the queue like any other message. Back-pressure: beyond
//! [`MAX_BATCH_BYTES`] of unwritten output, answers go through the bounded queue too, and a
//! full queue makes the read loop wait.

use std::io;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use mcp_core::Outbound;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use super::framing::{FrameWriter, MAX_BATCH_BYTES};

/// The writer and the queue feeding it, behind a lock that is only ever taken within one
/// poll (never across an await), by the one task that serves the session: it is never
/// contended, and it keeps the serving future `Send`.
pub(super) struct Output<W> {
    inner: Mutex<Inner<W>>,
}

struct Inner<W> {
    writer: FrameWriter<W>,
    outbound: mpsc::Receiver<Outbound>,
    /// A write error met by the read loop, for the write loop to report.
    failed: Option<io::Error>,
}

impl<W: AsyncWrite + Unpin> Output<W> {
    pub(super) fn new(writer: FrameWriter<W>, outbound: mpsc::Receiver<Outbound>) -> Self {
        Output {
            inner: Mutex::new(Inner {
                writer,
                outbound,
                failed: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<W>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `answer` now if nothing sent earlier waits in the queue and the writer is not
    /// far behind; gives it back otherwise (the caller then sends it through the queue).
    ///
    /// What the writer does not take at once stays queued for [`poll_write`](Self::poll_write),
    /// woken through `cx` when the writer can take more: call this from the task that also
    /// polls the write loop. A write error is kept for the write loop to report.
    pub(super) fn write_now(&self, answer: Outbound, cx: &mut Context<'_>) -> Result<(), Outbound> {
        let mut inner = self.lock();
        if inner.failed.is_some()
            || !inner.outbound.is_empty()
            || inner.writer.queued_bytes() >= MAX_BATCH_BYTES
        {
            return Err(answer);
        }
        let written = match inner.writer.queue(&answer.message) {
            Ok(()) => match inner.writer.poll_write_queued(cx) {
                Poll::Ready(written) => written,
                Poll::Pending => Ok(()),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            inner.failed = Some(e);
            // The write loop reports it; it is polled again by this same task.
            cx.waker().wake_by_ref();
        }
        Ok(())
    }

    /// The write loop: writes every outbound message as a flushed line, gathering those
    /// already queued into one write (up to [`MAX_BATCH_BYTES`]), until every sender is
    /// gone and everything is written. Never waits for more output to accumulate.
    pub(super) fn poll_write(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        loop {
            if let Some(e) = inner.failed.take() {
                return Poll::Ready(Err(e));
            }
            if inner.writer.is_pending() {
                ready!(inner.writer.poll_write_queued(cx))?;
            }
            match inner.outbound.poll_recv(cx) {
                Poll::Ready(Some(out)) => inner.gather(out)?,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// After a stop: writes what is queued now, then is done.
    pub(super) fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        loop {
            if let Some(e) = inner.failed.take() {
                return Poll::Ready(Err(e));
            }
            if inner.writer.is_pending() {
                ready!(inner.writer.poll_write_queued(cx))?;
            }
            match inner.outbound.try_recv() {
                Ok(out) => inner.gather(out)?,
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<W: AsyncWrite + Unpin> Inner<W> {
    /// Queues `out` and whatever else waits, up to a batch.
    fn gather(&mut self, out: Outbound) -> io::Result<()> {
        self.writer.queue(&out.message)?;
        while self.writer.queued_bytes() < MAX_BATCH_BYTES {
            let Ok(out) = self.outbound.try_recv() else {
                break;
            };
            self.writer.queue(&out.message)?;
        }
        Ok(())
    }
}
