//! The seam between sessions and transports: framed messages in, tagged messages out.
//!
//! A session never sees bytes. It hands every message it sends to an [`Outbox`] as an
//! [`Outbound`]: the message plus the id of the request it belongs to. A transport decides only
//! how to frame it: stdio writes one line each, streamable HTTP routes a message tagged with
//! request 7 to the SSE stream of the POST that carried request 7.
//!
//! An outbox is either a bounded channel a transport reads ([`Outbox::channel`]) or a
//! destination the transport provides itself ([`Outbox::sink`], an [`OutboxSink`]), which
//! takes each message in the sender's own task: no channel, and no task of the transport
//! woken to move the message along. Either way a transport that writes slowly makes the tool
//! that produces the messages wait (back-pressure), so memory stays bounded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::jsonrpc::{Message, RequestId};

/// One message on its way out, tagged with the request it belongs to.
///
/// The message is boxed so that an outbox slot stays small: a tokio channel allocates its
/// slots 32 at a time, and every session and every request stream has one.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The message.
    pub message: Box<Message>,
    /// The id of the inbound request this message was raised while handling (the response
    /// itself included), or `None` for messages that belong to the session as a whole.
    pub related: Option<RequestId>,
}

impl Outbound {
    /// An answer to a request (a response or an error), related to the request it answers:
    /// its own id.
    pub fn answer(message: Box<Message>) -> Self {
        Outbound {
            related: message.id().cloned(),
            message,
        }
    }

    /// Whether this message is the final response (or error) to `related`.
    pub fn is_final(&self) -> bool {
        matches!(*self.message, Message::Response(_) | Message::Error(_))
            && self.message.id().is_some()
            && self.message.id() == self.related.as_ref()
    }
}

/// The receiving side was dropped: the transport has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct Closed;

/// Why an [`OutboxSink`] did not take a message without waiting.
#[derive(Debug)]
pub enum TryTakeError {
    /// Taking it would wait (the transport is behind, or busy): the message is handed back.
    Busy(Outbound),
    /// The transport is gone: nothing will be taken any more.
    Closed,
}

/// The future of [`OutboxSink::take`].
pub type TakeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Closed>> + Send + 'a>>;

/// A destination a transport provides for an [`Outbox`] ([`Outbox::sink`]): it takes each
/// message in the task that sends it, instead of a channel that a task of the transport reads.
///
/// [`Outbox::send`] calls [`try_take`](Self::try_take) first and awaits
/// [`take`](Self::take) only when that is busy, so a sink that can take most messages at
/// once costs no allocation per message. A sink must push back as a channel does: `take`
/// waits while the reader is behind (or memory stays bounded some other way), and once
/// [`is_closed`](Self::is_closed) holds, every later message is refused with [`Closed`].
/// Messages sent one after another by one task are taken in that order.
pub trait OutboxSink: Send + Sync + 'static {
    /// Takes `out` if that needs no waiting; hands it back otherwise.
    fn try_take(&self, out: Outbound) -> Result<(), TryTakeError>;

    /// Takes `out`, waiting while the transport is behind.
    fn take(&self, out: Outbound) -> TakeFuture<'_>;

    /// Whether the transport is gone: every later message is refused.
    fn is_closed(&self) -> bool;
}

/// Where a session sends messages: a bounded channel read by a transport, or a transport's
/// own [`OutboxSink`].
#[derive(Clone)]
pub struct Outbox {
    route: Route,
}

#[derive(Clone)]
enum Route {
    /// [`Outbox::nowhere`].
    Nowhere,
    Channel(mpsc::Sender<Outbound>),
    Sink(Arc<dyn OutboxSink>),
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.route {
            Route::Nowhere => "nowhere",
            Route::Channel(_) => "channel",
            Route::Sink(_) => "sink",
        };
        f.debug_struct("Outbox")
            .field("route", &kind)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The default capacity of an outbox: enough to keep a writer busy, small enough that a slow
/// reader pushes back on a chatty tool at once.
pub const DEFAULT_OUTBOX_CAPACITY: usize = 64;

impl Outbox {
    /// A new outbox and the receiver a transport reads from.
    pub fn channel(capacity: usize) -> (Outbox, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let route = Route::Channel(tx);
        (Outbox { route }, rx)
    }

    /// An outbox that hands every message to `sink`, in the sending task.
    pub fn sink(sink: Arc<dyn OutboxSink>) -> Outbox {
        Outbox {
            route: Route::Sink(sink),
        }
    }

    /// An outbox whose transport is already gone: every send fails with [`Closed`]. The same
    /// as a channel whose receiver was dropped, without allocating one (a tokio channel
    /// allocates a block of 32 slots).
    pub fn nowhere() -> Outbox {
        Outbox {
            route: Route::Nowhere,
        }
    }

    /// Sends a message, waiting while the transport is behind.
    ///
    /// The message is boxed at once, so the future holds only the small [`Outbound`].
    pub fn send(
        &self,
        message: Message,
        related: Option<RequestId>,
    ) -> impl Future<Output = Result<(), Closed>> + Send + '_ {
        self.send_outbound(Outbound {
            message: Box::new(message),
            related,
        })
    }

    /// Sends an already built [`Outbound`], waiting while the transport is behind.
    pub async fn send_outbound(&self, out: Outbound) -> Result<(), Closed> {
        match &self.route {
            Route::Channel(tx) => tx.send(out).await.map_err(|_| Closed),
            Route::Sink(sink) => match sink.try_take(out) {
                Ok(()) => Ok(()),
                Err(TryTakeError::Busy(out)) => sink.take(out).await,
                Err(TryTakeError::Closed) => Err(Closed),
            },
            Route::Nowhere => Err(Closed),
        }
    }

    /// Sends without waiting; fails when the queue is full (the sink busy) or closed.
    pub fn try_send(&self, message: Message, related: Option<RequestId>) -> Result<(), Closed> {
        let out = Outbound {
            message: Box::new(message),
            related,
        };
        match &self.route {
            Route::Channel(tx) => tx.try_send(out).map_err(|_| Closed),
            Route::Sink(sink) => sink.try_take(out).map_err(|_| Closed),
            Route::Nowhere => Err(Closed),
        }
    }

    /// Whether the transport has dropped its receiver (or its sink is closed).
    pub fn is_closed(&self) -> bool {
        match &self.route {
            Route::Channel(tx) => tx.is_closed(),
            Route::Sink(sink) => sink.is_closed(),
            Route::Nowhere => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::Notify;

    use super::*;
    use crate::jsonrpc::Notification;

    fn note() -> Message {
        Notification::new("notifications/message", None).into()
    }

    #[tokio::test]
    async fn nowhere_behaves_as_a_channel_whose_receiver_is_gone() {
        let (gone, rx) = Outbox::channel(1);
        drop(rx);
        for outbox in [gone, Outbox::nowhere()] {
            assert!(outbox.is_closed());
            assert_eq!(outbox.send(note(), None).await, Err(Closed));
            assert_eq!(outbox.try_send(note(), None), Err(Closed));
        }
        let (open, _rx) = Outbox::channel(1);
        assert!(!open.is_closed());
        assert_eq!(open.try_send(note(), None), Ok(()));
    }

    /// A sink holding at most `room` messages until the test takes them out.
    #[derive(Default)]
    struct Held {
        room: usize,
        held: Mutex<Vec<Outbound>>,
        closed: AtomicBool,
        space: Notify,
    }

    impl Held {
        fn take_out(&self) -> Vec<Outbound> {
            let taken = std::mem::take(&mut *self.held.lock().unwrap());
            self.space.notify_waiters();
            taken
        }
    }

    impl OutboxSink for Held {
        fn try_take(&self, out: Outbound) -> Result<(), TryTakeError> {
            if self.is_closed() {
                return Err(TryTakeError::Closed);
            }
            let mut held = self.held.lock().unwrap();
            if held.len() >= self.room {
                return Err(TryTakeError::Busy(out));
            }
            held.push(out);
            Ok(())
        }

        fn take(&self, mut out: Outbound) -> TakeFuture<'_> {
            Box::pin(async move {
                loop {
                    let space = self.space.notified();
                    match self.try_take(out) {
                        Ok(()) => return Ok(()),
                        Err(TryTakeError::Closed) => return Err(Closed),
                        Err(TryTakeError::Busy(back)) => out = back,
                    }
                    space.await;
                }
            })
        }

        fn is_closed(&self) -> bool {
            self.closed.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn a_sink_takes_in_the_sending_task_and_pushes_back_when_busy() {
        let sink = Arc::new(Held {
            room: 1,
            ..Held::default()
        });
        let outbox = Outbox::sink(sink.clone());
        assert!(!outbox.is_closed());
        outbox.send(note(), None).await.unwrap();
        // Taken at once, in this task: nothing else ran.
        assert_eq!(sink.held.lock().unwrap().len(), 1);
        assert_eq!(outbox.try_send(note(), None), Err(Closed), "busy");
        let mut second = std::pin::pin!(outbox.send(note(), Some(RequestId::Number(2))));
        assert!(
            futures_poll_once(second.as_mut()).is_none(),
            "a busy sink makes the sender wait"
        );
        assert_eq!(sink.take_out().len(), 1);
        assert_eq!(second.await, Ok(()));
        let taken = sink.take_out();
        assert_eq!(taken[0].related, Some(RequestId::Number(2)));
        sink.closed.store(true, Ordering::SeqCst);
        assert!(outbox.is_closed());
        assert_eq!(outbox.send(note(), None).await, Err(Closed));
        assert_eq!(outbox.try_send(note(), None), Err(Closed));
    }

    fn futures_poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.poll(&mut cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        }
    }
}
