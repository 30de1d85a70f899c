//! The idle poll of an input (a stdin pipe, an HTTP connection's socket): after an answer,
//! look for the next request a little while before the serving thread sleeps (see
//! [`StdioServer::idle_poll`](crate::stdio::StdioServer::idle_poll) and
//! [`HttpConfig::idle_poll`](crate::http::HttpConfig::idle_poll)).
//!
//! A client that calls one tool after another sends its next request a few microseconds
//! after it reads the answer to the last. If the server's thread has gone to sleep in the
//! meantime, that request must wake it, and on a virtual machine whose idle CPUs halt at once
//! (no guest halt polling) that wake-up goes through the hypervisor: tens of microseconds,
//! more than the call itself. So when the input holds nothing after an answer, the serving task
//! keeps reading it, without waiting, for a window that the [`Governor`] adapts to the gaps
//! it sees (zero while they are long).
//!
//! The poll never holds the thread for long: it reads in slices of up to [`SLICE`] (a read,
//! a few spin-loop hints, a read again), and between two slices the task yields to the
//! runtime ([`tokio::task::yield_now`]), whose worker then runs its other tasks and looks at
//! its timers and I/O (without sleeping) before it polls the task again. Each poll of the
//! task counts against its cooperative budget. The poll stops when its window is over, and
//! at once when anything else is to be written (a running call's progress, an answer that
//! went through the queue): then the task waits for the reactor as usual (its waker is
//! registered before every yield, so nothing that arrives in between is missed).
//!
//! Why slices rather than a yield after every read: on tokio's multi-thread runtime a
//! yielded task is put on a list that the worker only looks at after it found its queues
//! empty, became a *searching* worker and polled its driver without sleeping; running the
//! task then takes the worker out of the searching state, and the last searcher to leave it
//! wakes a sleeping worker (tokio's `transition_worker_from_searching` and
//! `notify_parked_local`, 1.54). Yielding after every read woke the idle second worker about
//! once per cycle of its own, on the CPU the client needs. With slices, a request that comes
//! within the first slice (a lockstep client's usually does) costs no yield at all.
//!
//! It reads the reactor's own non-blocking descriptor (of the reopened stdin pipe, whose
//! process's descriptor 0 stays blocking; of a connection's socket): only a reactor-driven
//! input is polled.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, ReadBuf};

pub(crate) mod governor;

use governor::Governor;

/// The largest window of the idle poll, by default.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_micros(80);

/// The largest window of an HTTP connection's idle poll, by default: twice stdio's. The
/// largest window also sets what the [`Governor`] takes for a cheap wake-up (an unpolled gap
/// under a quarter of it) and how long a gap may be and still grow the window (twice it). A
/// lockstep HTTP client's turn is longer than a stdio client's (a TCP round on loopback, an
/// HTTP head to parse), and with 80 µs the governor kept polling for gaps of 20-40 µs that a
/// sleeping thread took in about as fast, while the spin, yielding every [`SLICE`], took the
/// CPU the client needed: 160 µs gave 1.4-1.6x the calls per second at one client, with a
/// third less server CPU per call, and changed nothing at 4 and 16 clients, where a
/// connection almost never polls (`BENCHMARKS.md`, "Seventh round: relay and idle-poll
/// window"). An idle client costs at most the window's halvings to zero: 160 + 80 + 40 µs of
/// spinning.
pub(crate) const DEFAULT_HTTP_IDLE_POLL: Duration = Duration::from_micros(160);

/// How long one poll of the serving task reads its input, at most, before it yields to the
/// runtime: each yield on a multi-thread runtime can wake an idle worker (see the module
/// docs), so the poll reads for a while between yields, and most requests come within one
/// slice. Also how long, at most, the poll keeps the runtime's other work on this worker
/// waiting.
pub(crate) const SLICE: Duration = Duration::from_micros(20);

/// How many spin-loop hints between two reads of an empty pipe within a slice (a fraction of
/// a microsecond: fewer system calls, and no read long after the request came).
const SPINS_BETWEEN_READS: u32 = 16;

/// How to read an input of type `R` without waiting and without the reactor: a `read` that
/// fails with `WouldBlock` when nothing is there.
pub(crate) type ReadNow<R> = fn(&R, &mut [u8]) -> io::Result<usize>;

/// The idle poll of one session's input.
pub(crate) struct IdlePoll<R> {
    read_now: ReadNow<R>,
    governor: Governor,
    /// When the last answer was written (the idle gap opens then), until the next input
    /// arrives.
    idle_since: Option<Instant>,
    /// While polling: when the window ends.
    until: Option<Instant>,
    /// How long one poll of the task reads before it yields.
    slice: Duration,
}

/// The most one read of the poll asks for. A read without the reactor needs initialized
/// memory, and the caller's buffer is often large, uninitialized and new to each read
/// (hyper offers 8 KiB for every read of a connection): zeroing it for each poll cost CPU
/// and, touching its pages, memory (1.6 KiB more RSS per idle HTTP session; 0.5 KiB when
/// only the first KiB was zeroed). So the poll reads into a buffer of its own on the stack
/// and copies what came, touching no more of the caller's buffer than a reactor read does.
/// A request longer than this is read on through the reactor, which finds the rest at once.
pub(crate) const POLL_READ_MAX: usize = 2048;

impl<R> IdlePoll<R> {
    /// Polls with `read_now` for a window of up to `max`; `None` for a zero `max`.
    pub(crate) fn new(read_now: ReadNow<R>, max: Duration) -> Option<Self> {
        (!max.is_zero()).then(|| Self::with(read_now, Governor::new(max), SLICE))
    }

    /// Polls with `read_now` for the windows `governor` gives, yielding to the runtime
    /// after each `slice` of reads.
    pub(crate) fn with(read_now: ReadNow<R>, governor: Governor, slice: Duration) -> Self {
        IdlePoll {
            read_now,
            governor,
            idle_since: None,
            until: None,
            slice,
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

    /// Reads `input` without the reactor, again and again for up to a [`SLICE`] (never past
    /// the window), until it finds input (`true`, in `buf`), `busy` says something else is
    /// to be written, or the slice is over (`false`).
    fn read_for_a_slice(
        &self,
        input: &R,
        buf: &mut ReadBuf<'_>,
        busy: &impl Fn() -> bool,
    ) -> io::Result<bool> {
        let Some(until) = self.until else {
            return Ok(false);
        };
        let end = (Instant::now() + self.slice).min(until);
        let mut chunk = [0u8; POLL_READ_MAX];
        let chunk = &mut chunk[..buf.remaining().min(POLL_READ_MAX)];
        loop {
            match (self.read_now)(input, chunk) {
                Ok(n) => {
                    buf.put_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
            if busy() || Instant::now() >= end {
                return Ok(false);
            }
            for _ in 0..SPINS_BETWEEN_READS {
                std::hint::spin_loop();
            }
        }
    }

    /// Reads `input` for the read loop. After an answer (`answered`) this opens an idle gap
    /// and, if the governor gives it a window, starts polling: while the window lasts and
    /// `busy` (something else is to be written) is false, each call reads `input` without
    /// the reactor for up to a [`SLICE`], and, finding nothing, registers with the reactor
    /// and yields (the task is polled again once the runtime has looked at its other work).
    /// Otherwise this is `input`'s own read.
    pub(crate) fn poll_read(
        &mut self,
        answered: bool,
        input: &mut R,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        busy: impl Fn() -> bool,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + Unpin,
    {
        if answered && self.idle_since.is_none() {
            let now = Instant::now();
            self.idle_since = Some(now);
            let window = self.governor.open_gap();
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
            match self.read_for_a_slice(input, buf, &busy) {
                Ok(true) => {
                    coop.made_progress();
                    self.arrived();
                    return Poll::Ready(Ok(()));
                }
                Ok(false) => {}
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    /// An input whose reactor read always waits, and whose read without the reactor finds a
    /// byte from its `found_at`-th read on.
    struct Input {
        reads: Rc<Cell<u32>>,
        found_at: u32,
    }

    impl Input {
        fn new(found_at: u32) -> Self {
            Input {
                reads: Rc::default(),
                found_at,
            }
        }
    }

    impl AsyncRead for Input {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    fn read_now(input: &Input, buf: &mut [u8]) -> io::Result<usize> {
        let n = input.reads.get() + 1;
        input.reads.set(n);
        if n >= input.found_at {
            buf[0] = b'x';
            Ok(1)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    const LONG: Duration = Duration::from_secs(60);

    /// Polls `poll` once, right after an answer, as the read loop does.
    fn poll_once(
        poll: &mut IdlePoll<Input>,
        input: &mut Input,
        busy: impl Fn() -> bool,
    ) -> Poll<io::Result<usize>> {
        let mut bytes = [0u8; 16];
        let mut buf = ReadBuf::new(&mut bytes);
        let mut cx = Context::from_waker(Waker::noop());
        poll.poll_read(true, input, &mut cx, &mut buf, busy)
            .map_ok(|()| buf.filled().len())
    }

    #[test]
    fn one_poll_of_the_task_reads_until_input_comes_within_its_slice() {
        let mut poll = IdlePoll::with(read_now, Governor::at_max(LONG), LONG);
        let mut input = Input::new(50);
        let read = poll_once(&mut poll, &mut input, || false);
        assert!(matches!(read, Poll::Ready(Ok(1))), "{read:?}");
        assert_eq!(input.reads.get(), 50, "49 empty reads, then the input");
    }

    #[test]
    fn other_output_ends_the_slice_at_once() {
        let mut poll = IdlePoll::with(read_now, Governor::at_max(LONG), LONG);
        let mut input = Input::new(u32::MAX);
        let reads = input.reads.clone();
        let read = poll_once(&mut poll, &mut input, move || reads.get() >= 5);
        assert!(read.is_pending());
        assert_eq!(
            input.reads.get(),
            5,
            "no read after something else is to be written"
        );
    }

    /// The poll initializes no more of the caller's buffer than the bytes it read.
    #[test]
    fn a_poll_initializes_only_what_it_read_of_the_buffer() {
        let mut poll = IdlePoll::with(read_now, Governor::at_max(LONG), Duration::ZERO);
        let mut input = Input::new(2);
        let mut bytes = vec![std::mem::MaybeUninit::<u8>::uninit(); 8192];
        let mut buf = ReadBuf::uninit(&mut bytes);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            poll.poll_read(true, &mut input, &mut cx, &mut buf, || false)
                .is_pending()
        );
        assert_eq!(buf.initialized().len(), 0);
        let read = poll.poll_read(true, &mut input, &mut cx, &mut buf, || false);
        assert!(matches!(read, Poll::Ready(Ok(()))), "{read:?}");
        assert_eq!(buf.filled(), b"x");
        assert_eq!(buf.initialized().len(), 1);
    }

    #[test]
    fn a_zero_slice_reads_once_per_poll_of_the_task() {
        let mut poll = IdlePoll::with(read_now, Governor::at_max(LONG), Duration::ZERO);
        let mut input = Input::new(3);
        assert!(poll_once(&mut poll, &mut input, || false).is_pending());
        assert_eq!(input.reads.get(), 1);
        assert!(poll_once(&mut poll, &mut input, || false).is_pending());
        assert_eq!(input.reads.get(), 2);
        let read = poll_once(&mut poll, &mut input, || false);
        assert!(matches!(read, Poll::Ready(Ok(1))), "{read:?}");
    }

    #[test]
    fn the_window_ends_a_slice() {
        let window = Duration::from_millis(2);
        let mut poll = IdlePoll::with(read_now, Governor::at_max(window), LONG);
        let mut input = Input::new(u32::MAX);
        let started = Instant::now();
        assert!(poll_once(&mut poll, &mut input, || false).is_pending());
        assert!(
            started.elapsed() >= window,
            "the slice ran to the window's end"
        );
        assert!(started.elapsed() < LONG);
        assert!(input.reads.get() > 1);
        // The window is over: the next poll reads only through the reactor.
        let reads = input.reads.get();
        assert!(poll_once(&mut poll, &mut input, || false).is_pending());
        assert_eq!(input.reads.get(), reads);
    }
}
