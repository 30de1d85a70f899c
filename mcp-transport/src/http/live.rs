//! The queue between a stream and the connection reading it: bounded, with back-pressure, in
//! one small allocation.
//!
//! Events are pushed without waiting ([`LiveSender::try_push`]) by whoever publishes into the
//! stream, under the stream's lock, so that they arrive in the order they were numbered; a
//! publisher that finds the queue full waits for room with [`GoneWatch::room`] first.
//!
//! A tokio `mpsc` channel would do, but it allocates its slots 32 at a time (well over a
//! kilobyte for these events) plus a cache-padded header, for every GET stream an idle
//! session holds open and for every POST. This queue holds a `VecDeque` that grows only as
//! events wait in it.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::sse::LiveEvent;
use crate::sync::lock;

struct Shared {
    capacity: usize,
    senders: AtomicUsize,
    state: Mutex<State>,
    /// Signalled when an event leaves the queue, or the receiver goes.
    space: Notify,
    /// Signalled when the receiver goes (for [`GoneWatch`]; apart from `space`, so that a
    /// watcher never takes a wake-up meant for a sender).
    gone: Notify,
}

#[derive(Default)]
struct State {
    events: VecDeque<LiveEvent>,
    receiver_gone: bool,
    receiver: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// A queue holding at most `capacity` (at least 1) events.
pub(crate) fn queue(capacity: usize) -> (LiveSender, LiveReceiver) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
        state: Mutex::new(State::default()),
        space: Notify::new(),
        gone: Notify::new(),
    });
    (
        LiveSender {
            shared: shared.clone(),
        },
        LiveReceiver { shared },
    )
}

/// The stream's end. The receiver sees the end of the stream once every sender is gone.
pub(crate) struct LiveSender {
    shared: Arc<Shared>,
}

/// The receiver is gone: the connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gone;

/// Why [`LiveSender::try_push`] did not queue an event.
#[derive(Debug)]
pub(crate) enum PushError {
    /// The queue is full: the event is handed back.
    Full(LiveEvent),
    /// The receiver is gone.
    Gone,
}

impl LiveSender {
    /// Queues `event` if there is room, without waiting.
    pub(crate) fn try_push(&self, event: LiveEvent) -> Result<(), PushError> {
        let mut state = self.shared.lock();
        if state.receiver_gone {
            return Err(PushError::Gone);
        }
        if state.events.len() >= self.shared.capacity {
            return Err(PushError::Full(event));
        }
        state.events.push_back(event);
        let waker = state.receiver.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Queues `event`, waiting while the queue is full (for a queue with one sender: several
    /// would each wait for room, and the order of their events is not kept).
    pub(crate) async fn send(&self, mut event: LiveEvent) -> Result<(), Gone> {
        loop {
            match self.try_push(event) {
                Ok(()) => return Ok(()),
                Err(PushError::Gone) => return Err(Gone),
                Err(PushError::Full(back)) => event = back,
            }
            self.watch_gone().room().await;
        }
    }

    /// Whether the queue is full while its receiver is still there: a push would wait.
    pub(crate) fn is_full(&self) -> bool {
        let state = self.shared.lock();
        !state.receiver_gone && state.events.len() >= self.shared.capacity
    }

    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.lock().receiver_gone
    }

    /// A watch on the receiver (gone, or room made) that does not count as a sender: it keeps no
    /// stream open.
    pub(crate) fn watch_gone(&self) -> GoneWatch {
        GoneWatch {
            shared: self.shared.clone(),
        }
    }
}

/// Tells when a queue's receiver (the connection) has gone, or has made room.
#[derive(Clone)]
pub(crate) struct GoneWatch {
    shared: Arc<Shared>,
}

impl GoneWatch {
    /// Whether the receiver is gone.
    pub(crate) fn is_gone(&self) -> bool {
        self.shared.lock().receiver_gone
    }

    /// Waits until the queue has room or its receiver is gone.
    pub(crate) async fn room(&self) {
        loop {
            let mut space = pin!(self.shared.space.notified());
            // Registered before looking, so that room made in between is not missed.
            space.as_mut().enable();
            {
                let state = self.shared.lock();
                if state.receiver_gone || state.events.len() < self.shared.capacity {
                    return;
                }
            }
            space.await;
        }
    }

    /// Waits until the receiver is gone.
    pub(crate) async fn wait(&self) {
        loop {
            let mut gone = pin!(self.shared.gone.notified());
            gone.as_mut().enable();
            if self.is_gone() {
                return;
            }
            gone.await;
        }
    }
}

impl Clone for LiveSender {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        LiveSender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for LiveSender {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Taken under the lock: a receiver that saw a sender left has stored its waker.
            let waker = self.shared.lock().receiver.take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The connection's end.
pub(crate) struct LiveReceiver {
    shared: Arc<Shared>,
}

impl LiveReceiver {
    /// The next event; `None` once the queue is empty and every sender is gone.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<LiveEvent>> {
        let mut state = self.shared.lock();
        if let Some(event) = state.events.pop_front() {
            drop(state);
            // Every waiting publisher looks again: one that is woken and then publishes
            // nothing (its stream ended) must not swallow the wake-up of another.
            self.shared.space.notify_waiters();
            return Poll::Ready(Some(event));
        }
        if self.shared.senders.load(Ordering::Acquire) == 0 {
            return Poll::Ready(None);
        }
        match &mut state.receiver {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Waits for the next event (see [`poll_recv`](Self::poll_recv)).
    #[cfg(test)]
    pub(crate) async fn recv(&mut self) -> Option<LiveEvent> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

impl Drop for LiveReceiver {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.receiver_gone = true;
            state.events.clear();
        }
        self.shared.space.notify_waiters();
        self.shared.gone.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;

    fn event(n: u8) -> LiveEvent {
        LiveEvent {
            bytes: Bytes::from(vec![n]),
            last: false,
        }
    }

    #[tokio::test]
    async fn delivers_in_order_then_ends_when_the_senders_go() {
        let (tx, mut rx) = queue(4);
        let tx2 = tx.clone();
        tx.send(event(1)).await.unwrap();
        tx2.send(event(2)).await.unwrap();
        drop(tx);
        assert_eq!(rx.recv().await.unwrap().bytes[0], 1);
        assert_eq!(rx.recv().await.unwrap().bytes[0], 2);
        let pending = tokio::spawn(async move { rx.recv().await.is_none() });
        tokio::task::yield_now().await;
        drop(tx2);
        assert!(pending.await.unwrap(), "the end wakes a waiting receiver");
    }

    #[tokio::test]
    async fn a_full_queue_holds_the_sender_until_the_receiver_reads() {
        let (tx, mut rx) = queue(2);
        tx.send(event(1)).await.unwrap();
        tx.send(event(2)).await.unwrap();
        let third = tokio::spawn(async move {
            tx.send(event(3)).await.unwrap();
            tx
        });
        // One thread: each yield lets the sender run until it waits.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(!third.is_finished(), "a full queue pushes back");
        assert_eq!(rx.recv().await.unwrap().bytes[0], 1);
        let tx = tokio::time::timeout(Duration::from_secs(30), third)
            .await
            .expect("room wakes the sender")
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().bytes[0], 2);
        assert_eq!(rx.recv().await.unwrap().bytes[0], 3);
        drop(tx);
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_gone_receiver_fails_senders_even_waiting_ones() {
        let (tx, rx) = queue(1);
        tx.send(event(1)).await.unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(event(2)).await }
        });
        tokio::task::yield_now().await;
        assert!(!tx.is_closed());
        drop(rx);
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(30), waiting)
                .await
                .expect("the waiting sender is released")
                .unwrap(),
            Err(Gone)
        );
        assert!(tx.is_closed());
        assert_eq!(tx.send(event(3)).await, Err(Gone));
    }

    #[tokio::test]
    async fn a_watch_sees_the_receiver_go_without_holding_the_stream_open() {
        let (tx, mut rx) = queue(1);
        let watch = tx.watch_gone();
        drop(tx);
        // The watch is no sender: the stream ends.
        assert!(rx.recv().await.is_none());
        assert!(!watch.is_gone());
        let waiting = tokio::spawn({
            let watch = watch.clone();
            async move { watch.wait().await }
        });
        tokio::task::yield_now().await;
        drop(rx);
        tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("the watch wakes")
            .unwrap();
        assert!(watch.is_gone());
    }
}
