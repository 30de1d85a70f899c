//! The server's output: the writer and the session's outbound queue, shared by the read loop
//! (which writes a ready answer itself) and the write loop (which writes everything else).
//!
//! A request answered at once (most tool calls: they run inline until they first wait) would
//! otherwise travel through the outbox channel to the write loop: a wake-up of the serving
//! task by itself, which the multi-thread runtime answers by waking another worker thread.
//! Instead the read loop queues the answer behind what the writer already holds, and the
//! input ([`WriteBeforeRead`]) writes what is queued, without waiting, before it reads again:
//! one `write` per batch of requests read together, on the thread that read them. Whatever
//! the writer cannot take at once stays queued, in order, for the write loop, which the
//! writer wakes when it can take more.
//!
//! Order: an answer is queued directly only while the outbox queue is empty, so it never
//! overtakes a message sent before it (a call that completed at once may have sent progress
//! first); otherwise it goes through the queue like any other message. Back-pressure: beyond
//! [`MAX_BATCH_BYTES`] of unwritten output, answers go through the bounded queue too, and a
//! full queue makes the read loop wait.

use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use mcp_core::Outbound;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

use super::framing::{FrameWriter, MAX_BATCH_BYTES};
use crate::idle_poll::IdlePoll;
use crate::sync::lock;

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
        lock(&self.inner)
    }

    /// Queues `answer` behind what the writer holds if nothing sent earlier waits in the
    /// queue and less than a batch is unwritten; gives it back otherwise (the caller then
    /// sends it through the queue). Written by the next [`write_queued`](Self::write_queued)
    /// (or at once, once a batch is full), so that answers to requests read together leave
    /// together.
    pub(super) fn queue(&self, answer: Outbound, cx: &mut Context<'_>) -> Result<(), Outbound> {
        let mut inner = self.lock();
        if inner.failed.is_some()
            || !inner.outbound.is_empty()
            || inner.writer.queued_bytes() >= MAX_BATCH_BYTES
        {
            return Err(answer);
        }
        match inner.writer.queue(&answer.message) {
            Ok(()) if inner.writer.queued_bytes() >= MAX_BATCH_BYTES => inner.write(cx),
            Ok(()) => {}
            Err(e) => inner.fail(e, cx),
        }
        Ok(())
    }

    /// Writes what is queued, as far as the writer takes it without waiting. What it does not
    /// take stays queued for [`poll_write`](Self::poll_write), woken through `cx` when the
    /// writer can take more: call this from the task that also polls the write loop. A write
    /// error is kept for the write loop to report. Returns whether there was anything to
    /// write.
    pub(super) fn write_queued(&self, cx: &mut Context<'_>) -> bool {
        let mut inner = self.lock();
        let pending = inner.failed.is_none() && inner.writer.is_pending();
        if pending {
            inner.write(cx);
        }
        pending
    }

    /// Whether the write loop has something to do: a message in the queue, output the
    /// writer has not taken yet, or an error to report.
    pub(super) fn has_work(&self) -> bool {
        let inner = self.lock();
        inner.failed.is_some() || inner.writer.is_pending() || !inner.outbound.is_empty()
    }

    /// The write loop: writes every outbound message as a flushed line, gathering those
    /// already queued into one write (up to [`MAX_BATCH_BYTES`]), until every sender is
    /// gone and everything is written. Never waits for more output to accumulate.
    pub(super) fn poll_write(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send(cx, Until::Closed)
    }

    /// After a stop: writes what is queued now, then is done.
    pub(super) fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send(cx, Until::Empty)
    }

    /// Writes queued messages until `until` says the queue is done with.
    fn poll_send(&self, cx: &mut Context<'_>, until: Until) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        loop {
            if let Some(e) = inner.failed.take() {
                return Poll::Ready(Err(e));
            }
            if inner.writer.is_pending() {
                ready!(inner.writer.poll_write_queued(cx))?;
            }
            let next = match until {
                Until::Closed => ready!(inner.outbound.poll_recv(cx)),
                Until::Empty => inner.outbound.try_recv().ok(),
            };
            match next {
                Some(out) => inner.gather(out)?,
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// When [`Output::poll_send`] is done.
#[derive(Clone, Copy)]
enum Until {
    /// When every sender is gone and everything is written: waits for more meanwhile.
    Closed,
    /// When nothing is queued any more: never waits for more.
    Empty,
}

impl<W: AsyncWrite + Unpin> Inner<W> {
    /// Writes what is queued without waiting (see [`Output::write_queued`]).
    fn write(&mut self, cx: &mut Context<'_>) {
        if let Poll::Ready(Err(e)) = self.writer.poll_write_queued(cx) {
            self.fail(e, cx);
        }
    }

    /// Keeps `error` for the write loop, and makes sure the task polls it again.
    fn fail(&mut self, error: io::Error, cx: &mut Context<'_>) {
        self.failed = Some(error);
        cx.waker().wake_by_ref();
    }

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

/// The server's input, which writes the answers queued on the output before every read: a
/// read is where the read loop may wait, and the answers must not wait with it. (A read
/// buffer in front of it reads only once its lines are used up, so the answers to requests
/// read together still leave together.) Given an [`IdlePoll`], it looks for the next request
/// a little while after an answer before it waits for the reactor.
pub(super) struct WriteBeforeRead<'a, R, W> {
    reader: R,
    output: &'a Output<W>,
    idle_poll: Option<IdlePoll<R>>,
}

impl<'a, R, W> WriteBeforeRead<'a, R, W> {
    pub(super) fn new(reader: R, output: &'a Output<W>, idle_poll: Option<IdlePoll<R>>) -> Self {
        WriteBeforeRead {
            reader,
            output,
            idle_poll,
        }
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> AsyncRead for WriteBeforeRead<'_, R, W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let answered = this.output.write_queued(cx);
        match &mut this.idle_poll {
            Some(idle) => idle.poll_read(answered, &mut this.reader, cx, buf, || {
                this.output.has_work()
            }),
            None => Pin::new(&mut this.reader).poll_read(cx, buf),
        }
    }
}
