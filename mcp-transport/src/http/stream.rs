//! One resumable SSE stream of a streamable HTTP session, and how messages get into it.
//!
//! A stream outlives the connections that read it: each message published into it is framed
//! with an id, appended to the [`EventStore`], and handed to the connection attached at that
//! moment, if any. A client that disconnects leaves the stream open (disconnection is not
//! cancellation); a client that comes back with `Last-Event-ID` gets what it missed from the
//! store, then the live events.
//!
//! Messages are published by the task that sends them: a session's GET stream is the
//! [`OutboxSink`] of the session's own outbox, so a message that belongs to no request goes
//! from the tool's task straight to the connection's queue. A POST stream is fed the same way
//! (see `streamable::PostSink`), or by a [`pump`] task moving messages from a channel (a batch,
//! a request forwarded from another replica).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::jsonrpc::{ErrorResponse, Message, RequestId};
use mcp_core::server::{Reclaimed, ServerSession};
use mcp_core::transport::{Closed, Outbound, OutboxSink, TakeFuture, TryTakeError};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{Mutex, MutexGuard, Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::event_store::{EventId, EventStore, StreamKey};
use super::live::{self, GoneWatch, LiveReceiver, LiveSender, PushError};
use super::reject::Rejection;
use super::sse::{self, LiveEvent};
use crate::sync::lock;

/// One stream: its key, how far it got, and the connection reading it.
pub(crate) struct StreamSlot {
    key: StreamKey,
    /// Where its events are kept for replay.
    store: Arc<dyn EventStore>,
    /// An async lock: it is held while the store appends and the event is queued for the
    /// connection, so that events are numbered, stored and delivered in one order, and a
    /// resuming connection sees every event either in its replay or live, never in both and
    /// never in neither.
    state: Mutex<SlotState>,
    /// Set (under the lock) once the stream is complete; read without it.
    finished: AtomicBool,
    /// The connection reading the stream now, watched without the async lock (the reclaim
    /// watch must never queue for that lock: see [`StreamSlot::unreachable`]).
    reader: std::sync::Mutex<Option<GoneWatch>>,
    /// Signalled when a connection attaches, and when the stream completes.
    attached: Notify,
}

#[derive(Default)]
struct SlotState {
    last_seq: u64,
    live: Option<LiveSender>,
    finished: bool,
}

/// What a resuming connection gets: the events it missed, and the live rest if the stream is
/// still open.
pub(crate) struct Resumed {
    pub(crate) replay: Vec<Bytes>,
    pub(crate) live: Option<LiveReceiver>,
}

/// Why [`StreamSlot::try_publish`] published nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotNow {
    /// Publishing would wait: for the lock, for room at the reader, or for the store.
    Busy,
    /// The stream is complete: nothing follows.
    Finished,
}

impl StreamSlot {
    pub(crate) fn new(key: StreamKey, store: Arc<dyn EventStore>) -> Self {
        StreamSlot {
            key,
            store,
            state: Mutex::new(SlotState::default()),
            finished: AtomicBool::new(false),
            reader: std::sync::Mutex::new(None),
            attached: Notify::new(),
        }
    }

    /// Where the stream's events are kept.
    pub(crate) fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// Records the connection now reading the stream.
    fn reading(&self, tx: &LiveSender) {
        *lock(&self.reader) = Some(tx.watch_gone());
        self.attached.notify_waiters();
    }

    /// Completes once no connection has read the stream for `window` (none attached, or the
    /// one attached went away, and no client resumed within the window), or once the stream
    /// is complete.
    ///
    /// It never takes the slot's async lock: it is polled beside publishing, and a queued
    /// acquisition that is not being polled would hold the lock from it.
    pub(crate) async fn unreachable(&self, window: Duration) {
        loop {
            let mut attached = std::pin::pin!(self.attached.notified());
            attached.as_mut().enable();
            if self.is_finished() {
                return;
            }
            let reader = lock(&self.reader).clone().filter(|r| !r.is_gone());
            match reader {
                Some(reader) => {
                    tokio::select! {
                        () = reader.wait() => {}
                        () = &mut attached => {}
                    }
                }
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(window) => return,
                        () = &mut attached => {}
                    }
                }
            }
        }
    }

    /// A connection on another replica reads the stream: the window of
    /// [`unreachable`](Self::unreachable) starts again.
    pub(crate) fn read_elsewhere(&self) {
        self.attached.notify_waiters();
    }

    pub(crate) fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Attaches a new connection and returns its receiver and the id of the last event so far
    /// (the priming event's id). With `exclusive`, a connection still attached is a conflict;
    /// without, it is replaced.
    pub(crate) async fn attach(
        &self,
        capacity: usize,
        exclusive: bool,
    ) -> Result<(LiveReceiver, EventId), Rejection> {
        let mut state = self.state.lock().await;
        if exclusive && state.live.as_ref().is_some_and(|tx| !tx.is_closed()) {
            return Err(Rejection::StreamConflict);
        }
        let (tx, rx) = live::queue(capacity);
        if !state.finished {
            self.reading(&tx);
            state.live = Some(tx);
        }
        let id = EventId {
            stream: self.key.stream,
            seq: state.last_seq,
        };
        Ok((rx, id))
    }

    /// Replays the events after `after` and, if the stream is still open, attaches the new
    /// connection for the rest (replacing any connection still attached).
    pub(crate) async fn resume(&self, after: u64, capacity: usize) -> Resumed {
        let mut state = self.state.lock().await;
        let replay = replay(&*self.store, self.key.clone(), after).await;
        let live = if state.finished {
            None
        } else {
            let (tx, rx) = live::queue(capacity);
            self.reading(&tx);
            state.live = Some(tx);
            Some(rx)
        };
        Resumed { replay, live }
    }

    /// The framed event `seq` of this stream.
    fn frame(&self, seq: u64, message: &Message) -> Bytes {
        let id = EventId {
            stream: self.key.stream,
            seq,
        };
        sse::message_event(Some(id), None, message)
    }

    /// Publishes `message` if that needs no waiting: the lock is free, the connection attached
    /// (if any) has room, and the store appends at once. `last` is asked, under the lock,
    /// whether this message completes the stream (so the message that completes it is the
    /// last one published).
    pub(crate) fn try_publish(
        &self,
        message: &Message,
        last: impl FnOnce() -> bool,
    ) -> Result<(), NotNow> {
        let Ok(mut state) = self.state.try_lock() else {
            return Err(NotNow::Busy);
        };
        if state.finished {
            return Err(NotNow::Finished);
        }
        if state.live.as_ref().is_some_and(LiveSender::is_full) {
            return Err(NotNow::Busy);
        }
        let seq = state.last_seq + 1;
        let bytes = self.frame(seq, message);
        if self
            .store
            .try_append(self.key.clone(), seq, bytes.clone())
            .is_err()
        {
            return Err(NotNow::Busy);
        }
        state.last_seq = seq;
        self.deliver(&mut state, bytes, last());
        Ok(())
    }

    /// Frames, stores and delivers one message. Waits while the attached connection is behind
    /// (back-pressure); without a connection it only stores. `last` is asked, under the lock,
    /// whether this message completes the stream: the connection then ends right after it.
    /// Fails once the stream is complete (nothing more is published).
    pub(crate) async fn publish(
        &self,
        message: &Message,
        last: impl FnOnce() -> bool,
    ) -> Result<(), Closed> {
        loop {
            let mut state = self.state.lock().await;
            if state.finished {
                // Ended already (by a shutdown or a reclaimed call's error): nothing follows.
                return Err(Closed);
            }
            if let Some(watch) = state
                .live
                .as_ref()
                .filter(|tx| tx.is_full())
                .map(LiveSender::watch_gone)
            {
                // Wait for room without the lock (a resuming client must be able to take
                // over), then look again: the reader may have changed meanwhile.
                drop(state);
                watch.room().await;
                continue;
            }
            let seq = state.last_seq + 1;
            let bytes = self.frame(seq, message);
            // The store may wait (a queue to Redis that is full). Numbered once stored: a
            // publisher dropped meanwhile (its caller went) stored nothing and leaves no gap.
            self.store
                .append(self.key.clone(), seq, bytes.clone())
                .await;
            state.last_seq = seq;
            // Still room: only publishers push, and they hold the lock.
            self.deliver(&mut state, bytes, last());
            return Ok(());
        }
    }

    /// Queues a stored event for the connection, if one is attached (the caller made sure it
    /// has room), and completes the stream with `last`.
    fn deliver(&self, state: &mut MutexGuard<'_, SlotState>, bytes: Bytes, last: bool) {
        let delivered = match &state.live {
            Some(tx) => match tx.try_push(LiveEvent { bytes, last }) {
                Ok(()) => true,
                Err(PushError::Gone | PushError::Full(_)) => {
                    // The client went away: keep storing, stop delivering.
                    state.live = None;
                    false
                }
            },
            None => false,
        };
        if last {
            self.complete(state);
            // A stream handed whole to its connection need not be kept long for replay.
            self.store.finished(&self.key, delivered);
        }
    }

    fn complete(&self, state: &mut SlotState) {
        state.finished = true;
        state.live = None;
        self.finished.store(true, Ordering::Release);
        // A reclaim watch looks again, and stops.
        self.attached.notify_waiters();
    }

    /// Whether the stream is complete (a hint read without the lock: a publisher finds out
    /// for sure under it).
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Marks the stream complete: the attached connection ends after its last event, and a
    /// later resumption gets only the replay.
    pub(crate) async fn finish(&self) {
        let mut state = self.state.lock().await;
        self.complete(&mut state);
    }

    /// [`finish`](Self::finish) from code that cannot wait: at once if the lock is free,
    /// else by a task.
    pub(crate) fn finish_soon(self: &Arc<Self>) {
        // Refuses publishers at once; the connection ends once `live` is dropped.
        self.finished.store(true, Ordering::Release);
        if let Ok(mut state) = self.state.try_lock() {
            self.complete(&mut state);
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let slot = self.clone();
            runtime.spawn(async move { slot.finish().await });
        }
    }
}

/// A session's GET stream takes the session's messages that belong to no request straight
/// from the task that sends them.
impl OutboxSink for StreamSlot {
    fn try_take(&self, out: Outbound) -> Result<(), TryTakeError> {
        match self.try_publish(&out.message, || false) {
            Ok(()) => Ok(()),
            Err(NotNow::Busy) => Err(TryTakeError::Busy(out)),
            Err(NotNow::Finished) => Err(TryTakeError::Closed),
        }
    }

    fn take(&self, out: Outbound) -> TakeFuture<'_> {
        Box::pin(async move { self.publish(&out.message, || false).await })
    }

    fn is_closed(&self) -> bool {
        self.is_finished()
    }
}

/// Replays from the store: an unknown stream replays nothing.
pub(crate) async fn replay(store: &dyn EventStore, key: StreamKey, after: u64) -> Vec<Bytes> {
    store
        .replay_after(key, after)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.bytes)
        .collect()
}

/// The requests whose responses a POST stream carries (one, or those of a batch): the stream
/// ends with the last of them. The GET stream carries none and never ends this way.
#[derive(Debug, Clone, Default)]
pub(crate) enum Answers {
    /// None (the GET stream), or all answered.
    #[default]
    None,
    /// One request's (the usual case, without an allocation).
    One(RequestId),
    /// Several requests' (a batch), those still unanswered.
    Many(Vec<RequestId>),
}

impl Answers {
    /// Whether `out` completes the stream: it is the response to the last request still
    /// unanswered (it is crossed off either way).
    pub(crate) fn completes(&mut self, out: &Outbound) -> bool {
        if !out.is_final() {
            return false;
        }
        let Some(id) = &out.related else { return false };
        match self {
            Answers::None => false,
            Answers::One(pending) if pending == id => {
                *self = Answers::None;
                true
            }
            Answers::One(_) => false,
            Answers::Many(ids) => match ids.iter().position(|pending| pending == id) {
                Some(at) => {
                    ids.swap_remove(at);
                    ids.is_empty()
                }
                None => false,
            },
        }
    }

    /// The requests still unanswered.
    pub(crate) fn pending(&self) -> &[RequestId] {
        match self {
            Answers::None => &[],
            Answers::One(id) => std::slice::from_ref(id),
            Answers::Many(ids) => ids,
        }
    }
}

/// How a POST stream's call is reclaimed when nobody can receive its answer any more.
pub(crate) struct Reclaim {
    /// The session running the call.
    pub(crate) session: ServerSession,
    /// How long the stream may go unread before the call is cancelled.
    pub(crate) window: Duration,
}

/// The error that ends the stream of a call cancelled because nobody read it.
pub(crate) fn unreachable_error(id: &RequestId, window: Duration) -> Message {
    let error = RpcError::new(
        ErrorCode::SERVER_ERROR,
        format!(
            "the request was cancelled: its stream had no reader and no client resumed it \
             within {} s",
            window.as_secs_f64()
        ),
    )
    .with_data(serde_json::json!({"reason": "unreachable"}));
    Message::Error(ErrorResponse::new(Some(id.clone()), error))
}

/// Moves messages from `rx` into `slot` until the responses to `answers` went out (for a
/// POST stream), `rx` closes, or the session ends. Then finishes the stream.
///
/// With `reclaim`, a POST stream that no connection reads for the window gets its calls
/// cancelled (unless they outlive their stream by design) and ends with a JSON-RPC error for
/// each, stored for a client that resumes even later.
pub(crate) async fn pump(
    slot: Arc<StreamSlot>,
    mut rx: mpsc::Receiver<Outbound>,
    mut answers: Answers,
    closed: CancellationToken,
    reclaim: Option<Reclaim>,
) {
    let window = reclaim.as_ref().map_or(Duration::MAX, |r| r.window);
    // Only a POST stream with calls to reclaim watches for readers. The watch, and the rare
    // reclaim below, are boxed: a session's GET stream keeps its pump task (one per session,
    // idle for most of its life) small.
    let mut unreachable = (reclaim.is_some() && !answers.pending().is_empty())
        .then(|| Box::pin(slot.unreachable(window)));
    loop {
        let out = tokio::select! {
            biased;
            out = rx.recv() => out,
            () = closed.cancelled() => None,
            () = async { unreachable.as_mut().expect("watching").await }, if unreachable.is_some() => {
                unreachable = None;
                if let Some(reclaim) = &reclaim
                    && Box::pin(reclaim_all(&slot, &mut answers, reclaim)).await
                {
                    break;
                }
                // Exempt, or already over (an answer, if any, is in `rx`): carry on.
                continue;
            }
        };
        let Some(out) = out else { break };
        let last = answers.completes(&out);
        let _ = slot.publish(&out.message, || last).await;
        if last {
            break;
        }
    }
    slot.finish().await;
}

/// Cancels the unanswered calls of an unread stream and publishes an error for each; returns
/// whether that answered them all (the stream is then complete).
async fn reclaim_all(slot: &StreamSlot, answers: &mut Answers, reclaim: &Reclaim) -> bool {
    let cancelled: Vec<RequestId> = answers
        .pending()
        .iter()
        .filter(|id| reclaim.session.cancel_unreachable(id) == Reclaimed::Cancelled)
        .cloned()
        .collect();
    for id in cancelled {
        let error = unreachable_error(&id, reclaim.window);
        let out = Outbound {
            message: Box::new(error),
            related: Some(id),
        };
        let last = answers.completes(&out);
        let _ = slot.publish(&out.message, || last).await;
        if last {
            return true;
        }
    }
    false
}

/// What is left of a POST stream after [`publish_ready`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// The stream is complete: no pump is needed.
    Finished,
    /// More is to come: a [`pump`] must carry on.
    Open,
}

/// Publishes what `rx` already holds, at most `max` messages, without waiting for more: the
/// handler of a POST does this itself before it answers, so a request whose response is
/// already there needs no pump task. Finishes the stream as [`pump`] would when the responses
/// to `answers` went out, the outbox closed, or the session ended.
///
/// `max` must not exceed the room of the connection attached to the stream, which nobody
/// reads yet: publishing then never waits.
pub(crate) async fn publish_ready(
    slot: &StreamSlot,
    rx: &mut mpsc::Receiver<Outbound>,
    answers: &mut Answers,
    closed: &CancellationToken,
    max: usize,
) -> Drained {
    let mut published = 0;
    loop {
        if published == max {
            return Drained::Open;
        }
        match rx.try_recv() {
            Ok(out) => {
                let last = answers.completes(&out);
                let _ = slot.publish(&out.message, || last).await;
                published += 1;
                if last {
                    break;
                }
            }
            Err(TryRecvError::Empty) if !closed.is_cancelled() => return Drained::Open,
            // Closed outbox, or ended session with nothing left: as `pump` does.
            Err(_) => break,
        }
    }
    slot.finish().await;
    Drained::Finished
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::event_store::MemoryEventStore;
    use mcp_core::jsonrpc::{Notification, Payload, Response};
    use mcp_core::transport::Outbox;

    fn slot() -> Arc<StreamSlot> {
        let store: Arc<dyn EventStore> = Arc::new(MemoryEventStore::default());
        Arc::new(StreamSlot::new(
            StreamKey {
                session: "s".into(),
                stream: 3,
            },
            store,
        ))
    }

    fn note(n: i64) -> Message {
        let mut p = mcp_core::JsonObject::new();
        p.insert("n".into(), n.into());
        Notification::new("notifications/message", Some(p)).into()
    }

    #[tokio::test]
    async fn delivers_live_then_stores_while_detached_then_resumes_exactly_once() {
        let slot = slot();
        let (mut rx, priming) = slot.attach(4, false).await.unwrap();
        assert_eq!(priming.to_string(), "3:0");
        slot.publish(&note(1), || false).await.unwrap();
        let first = rx.recv().await.unwrap();
        assert!(first.bytes.starts_with(b"id: 3:1\n"));
        drop(rx);
        // Nobody listens: publishing neither blocks nor loses the events.
        slot.publish(&note(2), || false).await.unwrap();
        slot.publish(&note(3), || false).await.unwrap();
        let resumed = slot.resume(1, 4).await;
        assert_eq!(resumed.replay.len(), 2);
        assert!(resumed.replay[0].starts_with(b"id: 3:2\n"));
        let mut live = resumed.live.unwrap();
        slot.publish(&note(4), || false).await.unwrap();
        assert!(live.recv().await.unwrap().bytes.starts_with(b"id: 3:4\n"));
        slot.finish().await;
        assert!(live.recv().await.is_none());
        let late = slot.resume(3, 4).await;
        assert_eq!(late.replay.len(), 1);
        assert!(late.live.is_none());
    }

    #[tokio::test]
    async fn an_exclusive_attach_conflicts_with_an_open_connection() {
        let slot = slot();
        let (rx, _) = slot.attach(1, true).await.unwrap();
        assert!(matches!(
            slot.attach(1, true).await,
            Err(Rejection::StreamConflict)
        ));
        drop(rx);
        assert!(slot.attach(1, true).await.is_ok());
    }

    #[tokio::test]
    async fn the_pump_stops_after_the_answer() {
        let slot = slot();
        let (mut live, _) = slot.attach(8, false).await.unwrap();
        let (outbox, rx) = Outbox::channel(8);
        let id = RequestId::Number(7);
        let task = tokio::spawn(pump(
            slot.clone(),
            rx,
            Answers::One(id.clone()),
            CancellationToken::new(),
            None,
        ));
        outbox.send(note(1), Some(id.clone())).await.unwrap();
        let done = Response::new(id.clone(), Payload::new());
        outbox.send(done.into(), Some(id.clone())).await.unwrap();
        task.await.unwrap();
        let first = live.recv().await.unwrap();
        assert!(first.bytes.starts_with(b"id: 3:1\n") && !first.last);
        let answer = live.recv().await.unwrap();
        assert!(answer.bytes.starts_with(b"id: 3:2\n") && answer.last);
        assert!(
            live.recv().await.is_none(),
            "the stream ends after the response"
        );
        // The outbox is still open (a tool's context may hold it), yet the pump is gone.
        assert!(outbox.is_closed());
    }

    #[tokio::test]
    async fn a_ready_answer_is_published_without_a_pump() {
        let slot = slot();
        let (mut live, _) = slot.attach(8, false).await.unwrap();
        let (outbox, mut rx) = Outbox::channel(8);
        let id = RequestId::Number(7);
        let mut answers = Answers::One(id.clone());
        let closed = CancellationToken::new();
        outbox.send(note(1), Some(id.clone())).await.unwrap();
        // Nothing else yet: the stream stays open for a pump.
        let ready = publish_ready(&slot, &mut rx, &mut answers, &closed, 8).await;
        assert_eq!(ready, Drained::Open);
        let done = Response::new(id.clone(), Payload::new());
        outbox.send(note(2), Some(id.clone())).await.unwrap();
        outbox.send(done.into(), Some(id.clone())).await.unwrap();
        outbox.send(note(3), Some(id.clone())).await.unwrap();
        let ready = publish_ready(&slot, &mut rx, &mut answers, &closed, 8).await;
        assert_eq!(ready, Drained::Finished);
        let seen: Vec<_> = [
            live.recv().await.unwrap(),
            live.recv().await.unwrap(),
            live.recv().await.unwrap(),
        ]
        .into_iter()
        .map(|e| (e.bytes[..8].to_vec(), e.last))
        .collect();
        assert_eq!(
            seen,
            [
                (b"id: 3:1\n".to_vec(), false),
                (b"id: 3:2\n".to_vec(), false),
                (b"id: 3:3\n".to_vec(), true)
            ]
        );
        assert!(live.recv().await.is_none(), "nothing after the response");
        // The answer is stored for a client that resumes.
        assert_eq!(slot.resume(2, 4).await.replay.len(), 1);
    }

    #[tokio::test]
    async fn publishing_ready_messages_stops_at_the_limit_and_at_the_end() {
        let id = RequestId::Number(1);
        let mut answers = Answers::One(id.clone());
        let closed = CancellationToken::new();
        let slot_a = slot();
        let (_live, _) = slot_a.attach(8, false).await.unwrap();
        let (outbox, mut rx) = Outbox::channel(8);
        for n in 0..3 {
            outbox.send(note(n), Some(id.clone())).await.unwrap();
        }
        let ready = publish_ready(&slot_a, &mut rx, &mut answers, &closed, 2).await;
        assert_eq!(ready, Drained::Open);
        assert!(rx.try_recv().is_ok(), "the third is left for the pump");
        // An outbox closed without an answer (the call was cancelled) ends the stream.
        drop(outbox);
        let ready = publish_ready(&slot_a, &mut rx, &mut answers, &closed, 2).await;
        assert_eq!(ready, Drained::Finished);
        // So does an ended session.
        let slot_b = slot();
        let (_outbox, mut rx) = Outbox::channel(8);
        closed.cancel();
        let ready = publish_ready(&slot_b, &mut rx, &mut answers, &closed, 2).await;
        assert_eq!(ready, Drained::Finished);
    }

    fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.poll(&mut cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        }
    }

    #[tokio::test]
    async fn as_an_outbox_sink_the_stream_takes_messages_in_the_senders_task() {
        let slot = slot();
        let outbox = Outbox::sink(slot.clone());
        // Nobody attached: stored at once, never waiting.
        for n in 1..=3 {
            let mut send = std::pin::pin!(outbox.send(note(n), None));
            assert_eq!(poll_once(send.as_mut()), Some(Ok(())));
        }
        assert_eq!(slot.resume(0, 4).await.replay.len(), 3);
        // A reader with room for two that does not read: the third send waits for it.
        let (mut live, primer) = slot.attach(2, false).await.unwrap();
        assert_eq!(primer.to_string(), "3:3");
        outbox.send(note(4), None).await.unwrap();
        outbox.send(note(5), None).await.unwrap();
        assert_eq!(outbox.try_send(note(6), None), Err(Closed), "full: busy");
        let mut third = std::pin::pin!(outbox.send(note(6), None));
        assert_eq!(poll_once(third.as_mut()), None, "a slow reader pushes back");
        assert!(live.recv().await.unwrap().bytes.starts_with(b"id: 3:4\n"));
        assert_eq!(third.await, Ok(()));
        assert!(live.recv().await.unwrap().bytes.starts_with(b"id: 3:5\n"));
        assert!(live.recv().await.unwrap().bytes.starts_with(b"id: 3:6\n"));
        // Ended (the session closed): the reader's stream ends and senders are refused.
        assert!(!outbox.is_closed());
        slot.finish_soon();
        assert!(outbox.is_closed());
        assert!(live.recv().await.is_none());
        assert_eq!(outbox.send(note(7), None).await, Err(Closed));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_senders_are_delivered_in_the_order_they_were_numbered() {
        let slot = slot();
        let (mut live, _) = slot.attach(1, false).await.unwrap();
        let outbox = Outbox::sink(slot.clone());
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let outbox = outbox.clone();
                tokio::spawn(async move {
                    for n in 0..50 {
                        outbox.send(note(n), None).await.unwrap();
                    }
                })
            })
            .collect();
        let reader = tokio::spawn(async move {
            let mut seqs = Vec::new();
            while seqs.len() < 200 {
                let event = live.recv().await.unwrap();
                let text = std::str::from_utf8(&event.bytes).unwrap();
                let id = text.lines().next().unwrap().trim_start_matches("id: 3:");
                seqs.push(id.parse::<u64>().unwrap());
            }
            seqs
        });
        for sender in senders {
            sender.await.unwrap();
        }
        let seqs = reader.await.unwrap();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    }
}
