//! The outbox of a POST whose answer is an SSE stream: the request's messages go from the task
//! that sends them (the tool reporting progress, the session answering) straight into the
//! stream, with no channel and no task in between.
//!
//! A request is first run by the POST's handler until it waits. What it sends meanwhile is
//! held here ([`Stage::Early`], at most as many messages as the stream's connection queue
//! holds): a request answered at once leaves as one response without a stream ever being
//! opened. Otherwise the handler opens the stream and hands the held messages over
//! ([`PostSink::stream_into`]); from then on every message is published in its sender's task.
//! The handoff may wait (for a client resuming the stream at that moment, or for a store
//! whose append waits: a full queue to Redis); a handler dropped meanwhile (its client went)
//! leaves the rest of it to a task, so no held message is lost and senders keep their turn.
//!
//! What a pump task did for such a stream is done here: the stream ends with the response
//! to its request (and is forgotten by its session), ends when the request's outbox is gone
//! without one (a cancelled call), and ends when its session does. Only a stream whose
//! connection went away while it is still open gets a task ([`Detached`]): it waits out the
//! resume window and reclaims the call if no client came back.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use mcp_core::jsonrpc::RequestId;
use mcp_core::server::Reclaimed;
use mcp_core::transport::{Closed, Outbound, OutboxSink, TakeFuture, TryTakeError};
use tokio::sync::Notify;

use super::session::{CountGuard, HttpSession};
use super::stream::{Answers, NotNow, StreamSlot, unreachable_error};
use crate::sync::lock;

/// Where a POST stream's messages are, as the request goes on.
enum Stage {
    /// Not streaming yet: held for the handler (the first message apart, so that a request
    /// answered at once allocates nothing more).
    Early {
        first: Option<Outbound>,
        rest: Vec<Outbound>,
    },
    /// The held messages are being published into this stream, oldest first, by the handler
    /// (or by a task, if the handler went meanwhile: see [`Handoff`]): senders wait their
    /// turn.
    Switching {
        slot: Arc<StreamSlot>,
        held: VecDeque<Outbound>,
    },
    /// Published into the stream by each sender.
    Streaming(Arc<StreamSlot>),
    /// Over: answered at once, or the stream ended, or nobody will ever stream it.
    Closed,
}

impl Stage {
    /// Whether nothing was held, nor ever streamed: the stage of a sink as it was made.
    fn is_unsent(&self) -> bool {
        matches!(self, Stage::Early { first: None, rest } if rest.is_empty())
    }
}

thread_local! {
    /// The sink of the last request this thread answered at once, kept for the next one.
    static SPARE: Cell<Option<Arc<PostSink>>> = const { Cell::new(None) };
}

/// A mutex's value, through exclusive access (a poisoned one's too).
fn get_mut<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(|e| e.into_inner())
}

/// The sink behind a streaming POST's outbox.
pub(crate) struct PostSink {
    stage: Mutex<Stage>,
    /// The requests whose responses end the stream. Locked only under the stream's lock
    /// (while publishing), never the other way round.
    answers: Mutex<Answers>,
    /// Signalled when the stage changes: senders waiting for room look again.
    changed: Notify,
    /// How many messages are held before the stream opens.
    early_room: usize,
    session: Weak<HttpSession>,
    number: u64,
    /// Counts the stream as open while it streams.
    open: Mutex<Option<CountGuard>>,
}

impl PostSink {
    /// The sink of stream `number` of `session`, which answers `id`. At most `early_room`
    /// messages are held before the stream opens (no more than its connection's queue holds).
    pub(crate) fn new(
        session: &Arc<HttpSession>,
        number: u64,
        id: RequestId,
        early_room: usize,
    ) -> Self {
        PostSink {
            stage: Mutex::new(Stage::Early {
                first: None,
                rest: Vec::new(),
            }),
            answers: Mutex::new(Answers::One(id)),
            changed: Notify::new(),
            early_room: early_room.max(1),
            session: Arc::downgrade(session),
            number,
            open: Mutex::new(None),
        }
    }

    /// [`new`](Self::new), shared: this thread's spare sink when it has one (see
    /// [`recycle_unsent`](Self::recycle_unsent)), made anew otherwise.
    pub(crate) fn shared(
        session: &Arc<HttpSession>,
        number: u64,
        id: RequestId,
        early_room: usize,
    ) -> Arc<Self> {
        // (No spare while the thread's locals are being torn down.)
        if let Some(mut spare) = SPARE.try_with(Cell::take).ok().flatten()
            && let Some(sink) = Arc::get_mut(&mut spare)
        {
            // A spare was kept as it was made: holding nothing, never streamed.
            let stage = get_mut(&mut sink.stage);
            if !stage.is_unsent() {
                *stage = Stage::Early {
                    first: None,
                    rest: Vec::new(),
                };
            }
            *get_mut(&mut sink.answers) = Answers::One(id);
            sink.early_room = early_room.max(1);
            sink.session = Arc::downgrade(session);
            sink.number = number;
            let open = get_mut(&mut sink.open);
            if open.is_some() {
                *open = None;
            }
            return spare;
        }
        Arc::new(PostSink::new(session, number, id, early_room))
    }

    /// Keeps `sink` as this thread's spare (for [`shared`](Self::shared)) if nothing else
    /// holds it and nothing was sent into it: so it is after a request answered at once, by
    /// the session itself, whose call kept no outbox (the usual tool call), which then costs
    /// no allocation of a sink. Nothing can be sent into it any more (no outbox is left), so
    /// it is kept as it is, neither locked nor closed. Otherwise `sink` is handed back.
    fn recycle_unsent(mut sink: Arc<Self>) -> Result<(), Arc<Self>> {
        let Some(inner) = Arc::get_mut(&mut sink) else {
            return Err(sink);
        };
        if !get_mut(&mut inner.stage).is_unsent() {
            return Err(sink);
        }
        // What it points to is let go now, not when it is next used.
        *get_mut(&mut inner.answers) = Answers::None;
        inner.session = Weak::new();
        let _ = SPARE.try_with(|spare| spare.set(Some(sink)));
        Ok(())
    }

    /// Whether nothing was sent into `sink` before its request's answer, which the session
    /// handed back itself: then nothing more is taken (the answer leaves as the one
    /// response), and the sink is kept as this thread's spare if nothing else holds it (see
    /// [`recycle_unsent`](Self::recycle_unsent)). Otherwise `sink` is handed back.
    pub(crate) fn answered_unsent(sink: Arc<Self>) -> Result<(), Arc<Self>> {
        match PostSink::recycle_unsent(sink) {
            Ok(()) => Ok(()),
            Err(sink) if sink.answered_directly() => Ok(()),
            Err(sink) => Err(sink),
        }
    }

    /// The request's response, if it is the one message sent so far: the request was
    /// answered at once, and nothing more is taken.
    pub(crate) fn answered_at_once(&self) -> Option<Outbound> {
        let mut stage = lock(&self.stage);
        let Stage::Early { first, rest } = &mut *stage else {
            return None;
        };
        if !rest.is_empty() {
            return None;
        }
        let answer = first.take_if(|out| lock(&self.answers).completes(out))?;
        *stage = Stage::Closed;
        drop(stage);
        self.changed.notify_waiters();
        Some(answer)
    }

    /// Whether nothing was sent so far, in which case nothing more is taken: the request's
    /// answer, handed back by the session itself, leaves as the one response.
    pub(crate) fn answered_directly(&self) -> bool {
        let mut stage = lock(&self.stage);
        if !stage.is_unsent() {
            return false;
        }
        // No sender waits: with nothing held, there was room.
        *stage = Stage::Closed;
        true
    }

    /// Streams into `slot` from now on: publishes what was held (it fits in the queue of the
    /// connection just attached, so this waits for no reader, only for a store whose append
    /// waits), then lets every sender publish itself. `open` counts the stream until it ends.
    ///
    /// Dropped before it is done (the handler went with its client), it leaves the rest of
    /// the handoff to a task ([`Handoff`]): every held message is still published, in order,
    /// before any later one.
    pub(crate) async fn stream_into(self: &Arc<Self>, slot: &Arc<StreamSlot>, open: CountGuard) {
        {
            let mut stage = lock(&self.stage);
            // Otherwise closed by a session that ended meanwhile: nothing to stream.
            let Stage::Early { first, rest } = &mut *stage else {
                return;
            };
            let held = first.take().into_iter().chain(rest.drain(..)).collect();
            *stage = Stage::Switching {
                slot: slot.clone(),
                held,
            };
        }
        *lock(&self.open) = Some(open);
        Handoff {
            sink: self.clone(),
            slot: slot.clone(),
            current: None,
            done: false,
            by_task: false,
        }
        .run()
        .await;
    }

    /// The held messages were published, or the stream ended meanwhile: senders publish
    /// themselves from now on.
    fn switched(&self, slot: &Arc<StreamSlot>, ended: bool) {
        *lock(&self.stage) = if ended {
            Stage::Closed
        } else {
            Stage::Streaming(slot.clone())
        };
        self.changed.notify_waiters();
        // Ended at once, or by the session meanwhile (it found no slot to finish yet).
        if ended
            || self
                .session
                .upgrade()
                .is_none_or(|s| s.closed.is_cancelled())
        {
            self.end(slot);
        }
    }

    /// The next held message to hand over, if the handoff goes on.
    fn next_held(&self) -> Option<Outbound> {
        match &mut *lock(&self.stage) {
            Stage::Switching { held, .. } => held.pop_front(),
            _ => None,
        }
    }

    /// Completes once the held messages were handed over (at once if they were).
    async fn handed_over(&self) {
        loop {
            let changed = self.changed.notified();
            if !matches!(*lock(&self.stage), Stage::Switching { .. }) {
                return;
            }
            changed.await;
        }
    }

    /// The handler went away: a sink that never streamed refuses its senders; one whose
    /// held messages are being handed over goes on (a task finishes the handoff).
    pub(crate) fn abandon(&self) {
        let mut stage = lock(&self.stage);
        if matches!(*stage, Stage::Early { .. }) {
            *stage = Stage::Closed;
            drop(stage);
            self.changed.notify_waiters();
        }
    }

    /// Publishes `out` into `slot`, waiting while its reader is behind; ends the stream after
    /// the last response.
    async fn publish(&self, slot: &StreamSlot, out: &Outbound) -> Result<(), Closed> {
        let mut last = false;
        let published = slot
            .publish(&out.message, || {
                last = lock(&self.answers).completes(out);
                last
            })
            .await;
        if last {
            self.ended();
        }
        published
    }

    /// As [`publish`](Self::publish), without waiting.
    fn try_publish(&self, slot: &StreamSlot, out: &Outbound) -> Result<(), NotNow> {
        let mut last = false;
        let published = slot.try_publish(&out.message, || {
            last = lock(&self.answers).completes(out);
            last
        });
        if last {
            self.ended();
        }
        published
    }

    /// The stream is complete: its session forgets it, and it no longer counts as open.
    fn ended(&self) {
        *lock(&self.stage) = Stage::Closed;
        if let Some(session) = self.session.upgrade() {
            session.stream_done(self.number);
        }
        lock(&self.open).take();
        self.changed.notify_waiters();
    }

    /// Ends the stream without its response (a cancelled call, an ended session).
    fn end(&self, slot: &Arc<StreamSlot>) {
        slot.finish_soon();
        self.ended();
    }

    /// The stream this sink publishes into, or why a sender cannot publish now.
    fn streaming(&self) -> Result<Arc<StreamSlot>, Option<Closed>> {
        match &*lock(&self.stage) {
            Stage::Streaming(slot) => Ok(slot.clone()),
            Stage::Closed => Err(Some(Closed)),
            Stage::Early { .. } | Stage::Switching { .. } => Err(None),
        }
    }

    /// The stream this sink publishes into or is handing its held messages to.
    fn opened(&self) -> Option<Arc<StreamSlot>> {
        match &*lock(&self.stage) {
            Stage::Streaming(slot) | Stage::Switching { slot, .. } => Some(slot.clone()),
            Stage::Early { .. } | Stage::Closed => None,
        }
    }

    /// Holds `out` while the stream is not open yet, if there is room.
    fn hold(&self, out: Outbound) -> Result<(), TryTakeError> {
        let mut stage = lock(&self.stage);
        match &mut *stage {
            Stage::Early {
                first: first @ None,
                ..
            } => {
                *first = Some(out);
                Ok(())
            }
            Stage::Early { rest, .. } if rest.len() + 1 < self.early_room => {
                rest.push(out);
                Ok(())
            }
            Stage::Closed => Err(TryTakeError::Closed),
            _ => Err(TryTakeError::Busy(out)),
        }
    }

    /// Watches the stream once its connection went away while it is still open: when no
    /// client has read it for `window`, the unanswered call is cancelled and the stream ends
    /// with an error for it (stored for a client that resumes even later).
    pub(crate) fn detached(self: &Arc<Self>, window: Duration) -> Detached {
        Detached {
            sink: Arc::downgrade(self),
            window,
        }
    }
}

impl OutboxSink for PostSink {
    fn try_take(&self, out: Outbound) -> Result<(), TryTakeError> {
        match self.streaming() {
            Ok(slot) => match self.try_publish(&slot, &out) {
                Ok(()) => Ok(()),
                Err(NotNow::Busy) => Err(TryTakeError::Busy(out)),
                Err(NotNow::Finished) => Err(TryTakeError::Closed),
            },
            Err(Some(Closed)) => Err(TryTakeError::Closed),
            Err(None) => self.hold(out),
        }
    }

    fn take(&self, mut out: Outbound) -> TakeFuture<'_> {
        Box::pin(async move {
            loop {
                let changed = self.changed.notified();
                match self.streaming() {
                    Ok(slot) => return self.publish(&slot, &out).await,
                    Err(Some(closed)) => return Err(closed),
                    Err(None) => match self.hold(out) {
                        Ok(()) => return Ok(()),
                        Err(TryTakeError::Closed) => return Err(Closed),
                        Err(TryTakeError::Busy(back)) => out = back,
                    },
                }
                changed.await;
            }
        })
    }

    fn is_closed(&self) -> bool {
        matches!(*lock(&self.stage), Stage::Closed)
    }
}

impl Drop for PostSink {
    fn drop(&mut self) {
        // Every outbox is gone (the call ended without a response: it was cancelled): the
        // stream ends, as it does when a channel's senders are all dropped.
        let stage = std::mem::replace(&mut *lock(&self.stage), Stage::Closed);
        if let Stage::Streaming(slot) = stage {
            self.end(&slot);
        }
    }
}

/// Publishes a sink's held messages into its stream, oldest first, then lets the senders
/// publish themselves.
///
/// Dropped before it is done (the handler's future went with its client while a publish
/// waited), it puts the message being published back first (a publish dropped while waiting
/// published nothing: see [`EventStore::append`](super::event_store::EventStore::append))
/// and spawns a task that finishes the handoff. That task's own handoff, dropped (the runtime
/// is shutting down), gives up: the senders then publish what comes, the rest is lost with the
/// process.
struct Handoff {
    sink: Arc<PostSink>,
    slot: Arc<StreamSlot>,
    /// The message being published.
    current: Option<Outbound>,
    done: bool,
    by_task: bool,
}

impl Handoff {
    async fn run(mut self) {
        let ended = loop {
            if self.current.is_none() {
                self.current = self.sink.next_held();
            }
            let Some(out) = &self.current else {
                break false;
            };
            let ended =
                self.sink.publish(&self.slot, out).await.is_err() || self.slot.is_finished();
            self.current = None;
            if ended {
                break true;
            }
        };
        self.done = true;
        self.sink.switched(&self.slot, ended);
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(out) = self.current.take()
            && let Stage::Switching { held, .. } = &mut *lock(&self.sink.stage)
        {
            held.push_front(out);
        }
        let runtime = tokio::runtime::Handle::try_current();
        match runtime {
            Ok(runtime) if !self.by_task => {
                let rest = Handoff {
                    sink: self.sink.clone(),
                    slot: self.slot.clone(),
                    current: None,
                    done: false,
                    by_task: true,
                };
                runtime.spawn(rest.run());
            }
            _ => self.sink.switched(&self.slot, false),
        }
    }
}

/// Starts the watch of [`PostSink::detached`] when dropped with the stream's connection (or
/// with the handler, before it answered), unless the stream is already complete.
pub(crate) struct Detached {
    sink: Weak<PostSink>,
    window: Duration,
}

impl Drop for Detached {
    fn drop(&mut self) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        let Some(slot) = sink.opened() else { return };
        drop(sink);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (weak, window) = (self.sink.clone(), self.window);
        runtime.spawn(async move {
            // Returns at once when the stream completes meanwhile.
            slot.unreachable(window).await;
            let Some(sink) = weak.upgrade() else { return };
            // The held messages go first (a handoff that waits for the store may be going on).
            sink.handed_over().await;
            if slot.is_finished() {
                return;
            }
            let Some(session) = sink.session.upgrade() else {
                return;
            };
            let pending: Vec<RequestId> = lock(&sink.answers).pending().to_vec();
            for id in pending {
                if session.session.cancel_unreachable(&id) != Reclaimed::Cancelled {
                    // Exempt, or already over (its answer is on its way): carry on.
                    continue;
                }
                let out = Outbound {
                    message: Box::new(unreachable_error(&id, window)),
                    related: Some(id),
                };
                if sink.publish(&slot, &out).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Waker};

    use mcp_core::Server;
    use mcp_core::jsonrpc::{Message, Notification, Payload, Response};
    use mcp_core::transport::Outbox;

    use super::*;
    use crate::http::event_store::{EventStore, MemoryEventStore};
    use crate::http::peer::ClientKey;
    use crate::http::session::Counters;

    fn session() -> Arc<HttpSession> {
        session_on(Arc::new(MemoryEventStore::default()))
    }

    fn session_on(store: Arc<dyn EventStore>) -> Arc<HttpSession> {
        let server = Server::builder("t", "1").build().unwrap();
        let client = ClientKey::Addr([127, 0, 0, 1].into());
        let counters = crate::http::session::Counters::new();
        HttpSession::streamable("s".into(), &server, store, client, counters)
    }

    fn note() -> Message {
        Notification::new("notifications/message", None).into()
    }

    fn numbered(n: i64) -> Message {
        let mut params = mcp_core::JsonObject::new();
        params.insert("n".into(), n.into());
        Notification::new("notifications/message", Some(params)).into()
    }

    /// A memory store whose appends wait for a permit of `gate` each (as a full write queue
    /// makes them wait), and never append at once.
    struct Gated {
        inner: MemoryEventStore,
        gate: tokio::sync::Semaphore,
    }

    impl EventStore for Gated {
        fn append(
            &self,
            stream: crate::http::event_store::StreamKey,
            seq: u64,
            bytes: bytes::Bytes,
        ) -> crate::http::event_store::StoreFuture<'_, ()> {
            Box::pin(async move {
                self.gate.acquire().await.expect("open").forget();
                self.inner.append(stream, seq, bytes).await;
            })
        }

        fn replay_after(
            &self,
            stream: crate::http::event_store::StreamKey,
            after: u64,
        ) -> crate::http::event_store::StoreFuture<
            '_,
            Option<Vec<crate::http::event_store::StoredEvent>>,
        > {
            self.inner.replay_after(stream, after)
        }

        fn forget_session(
            &self,
            session: Arc<str>,
        ) -> crate::http::event_store::StoreFuture<'_, ()> {
            self.inner.forget_session(session)
        }
    }

    fn done(id: i64) -> Message {
        Response::new(RequestId::Number(id), Payload::new()).into()
    }

    fn pending<F: Future>(fut: std::pin::Pin<&mut F>) -> bool {
        fut.poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    }

    /// A sink that nothing else holds once its request was answered serves this thread's
    /// next request, as good as new; one still held elsewhere is left alone.
    #[tokio::test]
    async fn a_sink_answered_at_once_is_used_again_as_new() {
        let session = session();
        let first = PostSink::shared(&session, 1, RequestId::Number(1), 2);
        let at = Arc::as_ptr(&first);
        assert!(
            PostSink::recycle_unsent(first).is_ok(),
            "nothing held it, nothing sent"
        );
        let again = PostSink::shared(&session, 2, RequestId::Number(2), 2);
        assert_eq!(Arc::as_ptr(&again), at, "the spare is used");
        assert_eq!(again.number, 2);
        assert!(!again.is_closed(), "open again");
        // As new: holds what is sent before its answer, and is answered by its own id only.
        let outbox = Outbox::sink(again.clone());
        outbox.try_send(note(), Some(RequestId::Number(2))).unwrap();
        drop(outbox);
        // Something was sent into it: not kept, though nothing else holds it.
        let again = PostSink::recycle_unsent(again).expect_err("a message was held");
        assert!(!again.answered_directly(), "a message was held");
        let other = PostSink::shared(&session, 3, RequestId::Number(3), 2);
        assert_ne!(Arc::as_ptr(&other), at, "no spare was kept");
        // Held by an outbox still: not kept, though nothing was sent; the next sink is another.
        let held = Outbox::sink(other.clone());
        let other = PostSink::recycle_unsent(other).expect_err("held by an outbox");
        assert!(other.answered_directly(), "nothing was sent");
        let next = PostSink::shared(&session, 4, RequestId::Number(4), 2);
        assert_ne!(Arc::as_ptr(&next), Arc::as_ptr(&other));
        drop((held, again));
    }

    #[tokio::test]
    async fn held_until_the_stream_opens_then_published_by_each_sender_until_the_response() {
        let session = session();
        let id = RequestId::Number(7);
        let sink = Arc::new(PostSink::new(&session, 1, id.clone(), 2));
        let outbox = Outbox::sink(sink.clone());
        outbox.try_send(note(), Some(id.clone())).unwrap();
        outbox.try_send(note(), Some(id.clone())).unwrap();
        assert!(
            outbox.try_send(note(), Some(id.clone())).is_err(),
            "room for two"
        );
        let mut third = pin!(outbox.send(note(), Some(id.clone())));
        assert!(pending(third.as_mut()), "the sender waits for the stream");
        assert!(sink.answered_at_once().is_none());
        let slot = session.open_stream(1).unwrap();
        let (mut live, _) = slot.attach(4, false).await.unwrap();
        let counters = Counters::new();
        sink.stream_into(&slot, counters.open_stream()).await;
        assert_eq!(counters.get().open_streams, 1);
        third.await.unwrap();
        for seq in 1..=3 {
            let event = live.recv().await.unwrap();
            assert!(event.bytes.starts_with(format!("id: 1:{seq}\n").as_bytes()));
        }
        outbox.send(done(7), Some(id.clone())).await.unwrap();
        let last = live.recv().await.unwrap();
        assert!(last.bytes.starts_with(b"id: 1:4\n") && last.last);
        assert!(live.recv().await.is_none());
        // Complete: forgotten by its session, no longer open, and nothing more is taken.
        assert!(session.stream(1).is_none());
        assert_eq!(counters.get().open_streams, 0);
        assert!(outbox.is_closed());
        assert_eq!(outbox.send(note(), Some(id)).await, Err(Closed));
    }

    #[tokio::test]
    async fn a_response_sent_at_once_is_taken_back_and_nothing_more_is_taken() {
        let session = session();
        let id = RequestId::Number(1);
        let sink = Arc::new(PostSink::new(&session, 1, id.clone(), 4));
        let outbox = Outbox::sink(sink.clone());
        outbox.send(done(1), Some(id.clone())).await.unwrap();
        let answer = sink.answered_at_once().unwrap();
        assert!(answer.is_final());
        assert!(outbox.is_closed());
        assert_eq!(outbox.send(note(), Some(id)).await, Err(Closed));
    }

    #[tokio::test]
    async fn a_stream_whose_outboxes_are_all_gone_ends_without_a_response() {
        let session = session();
        let id = RequestId::Number(1);
        let sink = Arc::new(PostSink::new(&session, 1, id.clone(), 4));
        let outbox = Outbox::sink(sink.clone());
        let slot = session.open_stream(1).unwrap();
        let (mut live, _) = slot.attach(4, false).await.unwrap();
        sink.stream_into(&slot, Counters::new().open_stream()).await;
        drop(sink);
        outbox.send(note(), Some(id)).await.unwrap();
        assert!(!live.recv().await.unwrap().last);
        // The call was cancelled: its outbox goes, and with it the stream.
        drop(outbox);
        assert!(live.recv().await.is_none());
        assert!(slot.is_finished());
        assert!(session.stream(1).is_none());
    }

    #[tokio::test]
    async fn a_handler_gone_before_the_stream_opened_refuses_the_senders() {
        let session = session();
        let id = RequestId::Number(1);
        let sink = Arc::new(PostSink::new(&session, 1, id.clone(), 1));
        let outbox = Outbox::sink(sink.clone());
        outbox.send(note(), Some(id.clone())).await.unwrap();
        let mut waiting = pin!(outbox.send(note(), Some(id.clone())));
        assert!(pending(waiting.as_mut()));
        sink.abandon();
        assert_eq!(waiting.await, Err(Closed));
        assert!(outbox.is_closed());
    }

    /// The edge a store whose append waits opens: the handler is dropped (its client went)
    /// while it hands the held messages over, the first of them waiting for the store. None
    /// is lost: a task finishes the handoff once the store has room, and a message sent
    /// meanwhile goes after them, each under the next number.
    #[tokio::test]
    async fn a_handler_dropped_mid_handoff_loses_no_held_message() {
        let store = Arc::new(Gated {
            inner: MemoryEventStore::default(),
            gate: tokio::sync::Semaphore::new(0),
        });
        let session = session_on(store.clone());
        let id = RequestId::Number(1);
        let sink = Arc::new(PostSink::new(&session, 1, id.clone(), 4));
        let outbox = Outbox::sink(sink.clone());
        for n in 1..=3 {
            outbox.send(numbered(n), Some(id.clone())).await.unwrap();
        }
        let slot = session.open_stream(1).unwrap();
        let (live, _) = slot.attach(4, false).await.unwrap();
        {
            let mut handoff = pin!(sink.stream_into(&slot, Counters::new().open_stream()));
            assert!(pending(handoff.as_mut()), "the first held message waits");
            // The handler goes with its client: its future and its connection are dropped.
        }
        drop(live);
        sink.abandon();
        assert!(!outbox.is_closed(), "the stream goes on");
        let mut fourth = pin!(outbox.send(numbered(4), Some(id.clone())));
        assert!(pending(fourth.as_mut()), "a sender waits for the handoff");
        store.gate.add_permits(5);
        fourth.await.unwrap();
        let replayed = slot.resume(0, 4).await.replay;
        let seen: Vec<String> = replayed
            .iter()
            .map(|e| {
                let text = std::str::from_utf8(e).unwrap();
                let id = text.lines().next().unwrap().to_owned();
                let n = text.split("\"n\":").nth(1).unwrap();
                format!("{id} n={}", &n[..1])
            })
            .collect();
        assert_eq!(
            seen,
            ["id: 1:1 n=1", "id: 1:2 n=2", "id: 1:3 n=3", "id: 1:4 n=4"],
            "every held message, in order, once, then the later one"
        );
        outbox.send(done(1), Some(id)).await.unwrap();
        assert!(slot.is_finished());
    }
}
