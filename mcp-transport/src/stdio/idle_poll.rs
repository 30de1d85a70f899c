//! The idle poll of stdin: after an answer, look for the next request a little while before
//! the serving thread sleeps (see [`StdioServer::idle_poll`](super::StdioServer::idle_poll)).
//!
//! A client that calls one tool after another sends its next request a few microseconds
//! after it reads the answer to the last. If the server's thread has gone to sleep in the
//! meantime, that request must wake it, and on a virtual machine whose idle CPUs halt at once
//! (no guest halt polling) that wake-up goes through the hypervisor: tens of microseconds,
//! more than the call itself. So when stdin holds nothing after an answer, the serving task
//! keeps reading it, without waiting, for a window that the [`Governor`] adapts to the gaps
//! it sees (zero while they are long).
//!
//! The poll never holds the thread: between two reads the task yields to the runtime
//! ([`tokio::task::yield_now`]), whose worker then runs its other tasks and looks at its
//! timers and I/O (without sleeping) before it polls the task again. Each read counts against
//! the task's cooperative budget. The poll stops when its window is over, and at once when
//! anything else is to be written (a running call's progress, an answer that went through the
//! queue): then the task waits for the reactor as usual (its waker is registered before every
//! read, so nothing that arrives in between is missed).
//!
//! It reads the reactor's own non-blocking descriptor of the reopened stdin pipe (the
//! process's descriptor 0 stays blocking): only a reactor-driven pipe is polled.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, ReadBuf};

use super::governor::Governor;

/// The largest window of the idle poll, by default.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_micros(80);

/// How to read an input of type `R` without waiting and without the reactor: a `read` that
/// fails with `WouldBlock` when nothing is there.
pub(super) type ReadNow<R> = fn(&R, &mut [u8]) -> io::Result<usize>;

/// The idle poll of one session's input.
pub(super) struct IdlePoll<R> {
    read_now: ReadNow<R>,
    governor: Governor,
    /// When the last answer was written (the idle gap opens then), until the next input
    /// arrives.
    idle_since: Option<Instant>,
    /// While polling: when the window ends.
    until: Option<Instant>,
}

impl<R> IdlePoll<R> {
    /// Polls with `read_now` for a window of up to `max`; `None` for a zero `max`.
    pub(super) fn new(read_now: ReadNow<R>, max: Duration) -> Option<Self> {
        (!max.is_zero()).then(|| Self::with(read_now, Governor::new(max)))
    }

    /// Polls with `read_now` for the windows `governor` gives.
    pub(super) fn with(read_now: ReadNow<R>, governor: Governor) -> Self {
        IdlePoll {
            read_now,
            governor,
            idle_since: None,
            until: None,
        }
    }

    /// Input arrived (through the reactor or the poll): the idle gap, if one was open, is
    /// over and the governor learns how long it was.
    fn arrived(&mut self) {
        self.until = None;
        if let Some(since) = self.idle_since.take() {
            self.governor.observe(since.elapsed());
        }
    }

    /// Reads `input` for the read loop. After an answer (`answered`) this opens an idle gap
    /// and, if the governor gives it a window, starts polling: while the window lasts and
    /// `busy` (something else is to be written) is false, each call reads `input` first
    /// without the reactor, and, finding nothing, registers with the reactor and yields (the
    /// task is polled again once the runtime has looked at its other work). Otherwise this is
    /// `input`'s own read.
    pub(super) fn poll_read(
        &mut self,
        answered: bool,
        input: &mut R,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        busy: impl FnOnce() -> bool,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + Unpin,
    {
        if answered && self.idle_since.is_none() {
            let now = Instant::now();
            self.idle_since = Some(now);
            let window = self.governor.window();
            self.until = (!window.is_zero()).then(|| now + window);
        }
        let polling = self
            .until
            .is_some_and(|until| !busy() && Instant::now() < until);
        if polling {
            // Reads without the reactor must still count against the task's budget, or a
            // client that keeps sending could keep this task from ever giving up the
            // thread. (A spent budget wakes the task once the runtime had its turn.)
            let Poll::Ready(coop) = tokio::task::coop::poll_proceed(cx) else {
                return Poll::Pending;
            };
            match (self.read_now)(input, buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    coop.made_progress();
                    self.arrived();
                    return Poll::Ready(Ok(()));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        } else {
            self.until = None;
        }
        // The reactor's waker is registered by this read when it finds nothing: whatever
        // arrives after the poll gave up wakes the task.
        let read = Pin::new(&mut *input).poll_read(cx, buf);
        if read.is_ready() {
            self.arrived();
        } else if polling {
            // Nothing yet: let the runtime run its other tasks, timers and I/O, then look
            // again.
            let yielded = std::pin::pin!(tokio::task::yield_now()).poll(cx);
            debug_assert!(yielded.is_pending());
        }
        read
    }
}
