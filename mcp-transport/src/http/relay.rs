//! [`Relay`]: the waker a connection's task polls hyper with, so that a wake-up hyper gives
//! while the task is polling it costs one more look inside that same poll, not a second trip
//! through the scheduler.
//!
//! hyper wakes the connection's task from inside its own poll once per request that has a
//! body: reading the body's one chunk from hyper's body channel wakes the waker hyper's
//! dispatcher registered to send the next chunk (hyper 1.12's `body::chan`, which wakes it
//! even when the body is complete and the sending side gone). A task woken while it runs is
//! queued again when its poll returns, as if it had yielded: tokio then wakes a parked worker
//! thread to share the work (a futex call and a thread that finds nothing to do) and polls
//! the task a second time. Measured with uprobes on a release build, the connection task was
//! polled 1.9-2.0 times per `tools/call` at 1, 4 and 16 clients, and one of those polls was
//! that wake-up.
//!
//! With the relay, a wake-up during the poll is noted and the future is polled again at once
//! (a few times at most, then the task yields as before); a wake-up at any other time goes to
//! the task's own waker. One state word decides which, so no wake-up is lost: a waker that
//! finds the poll running marks it, and the poll swaps the mark out before it returns.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// Nothing is polling: a wake-up goes to the task.
const IDLE: u8 = 0;
/// The future is being polled: a wake-up is noted.
const POLLING: u8 = 1;
/// The future is being polled and was woken meanwhile: it is polled again.
const WOKEN: u8 = 2;

/// How many times a poll looks again after wake-ups during it, before it yields to the
/// scheduler instead (so that a future that keeps waking itself cannot hold the thread).
const LOOKS_AGAIN: usize = 3;

/// The waker between one task and the future it polls; see the module's documentation.
pub(crate) struct Relay {
    state: AtomicU8,
    task: AtomicWaker,
}

impl Relay {
    /// A relay, and the waker to poll with (made once: the same waker every poll, so that
    /// what registers it can tell it already has it).
    pub(crate) fn new() -> (Arc<Relay>, Waker) {
        let relay = Arc::new(Relay {
            state: AtomicU8::new(IDLE),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(relay.clone());
        (relay, waker)
    }

    /// Polls `future` with `waker` (this relay's) on behalf of the task polled with `cx`:
    /// again at once if it was woken meanwhile, up to [`LOOKS_AGAIN`] times, after which the
    /// task is woken to be polled later. Unless `relayed`: then `future` is polled with
    /// `cx` itself, as without a relay (a wake-up during the poll is the task's).
    pub(crate) fn poll<F: Future + ?Sized>(
        &self,
        waker: &Waker,
        cx: &mut Context<'_>,
        mut future: Pin<&mut F>,
        relayed: bool,
    ) -> Poll<F::Output> {
        if !relayed {
            return future.poll(cx);
        }
        self.task.register(cx.waker());
        let mut inner = Context::from_waker(waker);
        for _ in 0..=LOOKS_AGAIN {
            self.state.store(POLLING, Ordering::Release);
            let polled = future.as_mut().poll(&mut inner);
            let during = self.state.swap(IDLE, Ordering::AcqRel);
            if polled.is_ready() || during != WOKEN {
                return polled;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
        {
            // The poll running now looks again before it returns.
            Ok(_) | Err(WOKEN) => {}
            Err(_) => self.task.wake(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Counts the wake-ups of the task.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A relay with its waker, polled for a task whose wake-ups are counted.
    struct Rig {
        count: Arc<Count>,
        task: Waker,
        relay: Arc<Relay>,
        waker: Waker,
    }

    impl Rig {
        fn new() -> Rig {
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let task = Waker::from(count.clone());
            let (relay, waker) = Relay::new();
            Rig {
                count,
                task,
                relay,
                waker,
            }
        }

        /// One poll of `future` by the task, through the relay when `relayed`.
        fn poll(&self, future: &mut Wakes, relayed: bool) -> Poll<usize> {
            let mut cx = Context::from_waker(&self.task);
            self.relay
                .poll(&self.waker, &mut cx, Pin::new(future), relayed)
        }

        /// The task's wake-ups so far.
        fn woken(&self) -> usize {
            self.count.0.load(Ordering::SeqCst)
        }
    }

    /// A future that wakes itself during its first `wakes` polls, keeps its waker, and is
    /// ready after `ready_after` polls.
    struct Wakes {
        polls: usize,
        wakes: usize,
        ready_after: usize,
        kept: Option<Waker>,
    }

    impl Future for Wakes {
        type Output = usize;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            self.polls += 1;
            self.kept = Some(cx.waker().clone());
            if self.polls >= self.ready_after {
                return Poll::Ready(self.polls);
            }
            if self.polls <= self.wakes {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        }
    }

    fn wakes(wakes: usize, ready_after: usize) -> Wakes {
        Wakes {
            polls: 0,
            wakes,
            ready_after,
            kept: None,
        }
    }

    /// A wake-up during the poll is a second look within it, not a wake-up of the task.
    #[test]
    fn a_wake_during_the_poll_looks_again_without_waking_the_task() {
        let rig = Rig::new();
        let mut future = wakes(1, 3);
        assert!(rig.poll(&mut future, true).is_pending());
        assert_eq!(future.polls, 2, "polled again once after waking itself");
        assert_eq!(rig.woken(), 0, "the task is not woken");
        // Woken later (from elsewhere), the task is woken, and the next poll is ready.
        future.kept.take().unwrap().wake();
        assert_eq!(rig.woken(), 1);
        assert_eq!(rig.poll(&mut future, true), Poll::Ready(3));
    }

    /// Not relayed, a wake-up during the poll wakes the task, and there is no second look;
    /// a waker the future kept from a relayed poll still reaches the task.
    #[test]
    fn a_poll_not_relayed_is_the_task_s_own() {
        let rig = Rig::new();
        let mut future = wakes(usize::MAX, usize::MAX);
        assert!(rig.poll(&mut future, false).is_pending());
        assert_eq!(future.polls, 1, "no second look");
        assert_eq!(rig.woken(), 1, "the task is woken");
        let mut quiet = wakes(0, usize::MAX);
        assert!(rig.poll(&mut quiet, true).is_pending());
        let kept = quiet.kept.take().unwrap();
        assert!(rig.poll(&mut quiet, false).is_pending());
        kept.wake();
        assert_eq!(rig.woken(), 2, "the relay's waker wakes the task");
    }

    /// A future that keeps waking itself gets a few looks, then the task yields.
    #[test]
    fn a_future_that_keeps_waking_itself_makes_the_task_yield() {
        let rig = Rig::new();
        let mut future = wakes(usize::MAX, usize::MAX);
        assert!(rig.poll(&mut future, true).is_pending());
        assert_eq!(future.polls, LOOKS_AGAIN + 1);
        assert_eq!(rig.woken(), 1, "the task is woken to go on");
    }

    /// A wake-up from another thread while nothing polls reaches the task, each time it was
    /// polled since.
    #[test]
    fn a_wake_from_another_thread_reaches_the_task() {
        let rig = Rig::new();
        let mut future = wakes(0, usize::MAX);
        for round in 1..=3 {
            assert!(rig.poll(&mut future, true).is_pending());
            let kept = future.kept.clone().unwrap();
            std::thread::spawn(move || kept.wake()).join().unwrap();
            assert_eq!(rig.woken(), round);
        }
        assert_eq!(
            future.polls, 3,
            "no extra looks without wake-ups during a poll"
        );
    }
}
