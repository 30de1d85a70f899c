//! The seam between sessions and transports: framed messages in, tagged messages out.
//!
//! A session never sees bytes. It hands every message it sends to an [`Outbox`] as an
//! [`Outbound`]: the message plus the id of the request it belongs to. A transport decides only
//! how to frame it: stdio writes one line each, streamable HTTP routes a message tagged with
//! request 7 to the SSE stream of the POST that carried request 7.
//!
//! Outboxes are bounded channels: a transport that writes slowly makes the tool that produces
//! the messages wait (back-pressure), so memory stays bounded.

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

/// Where a session sends messages: a bounded channel read by a transport.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// `None` for [`Outbox::nowhere`].
    tx: Option<mpsc::Sender<Outbound>>,
}

/// The default capacity of an outbox: enough to keep a writer busy, small enough that a slow
/// reader pushes back on a chatty tool at once.
pub const DEFAULT_OUTBOX_CAPACITY: usize = 64;

impl Outbox {
    /// A new outbox and the receiver a transport reads from.
    pub fn channel(capacity: usize) -> (Outbox, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Outbox { tx: Some(tx) }, rx)
    }

    /// An outbox whose transport is already gone: every send fails with [`Closed`]. The same
    /// as a channel whose receiver was dropped, without allocating one (a tokio channel
    /// allocates a block of 32 slots).
    pub fn nowhere() -> Outbox {
        Outbox { tx: None }
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
        match &self.tx {
            Some(tx) => tx.send(out).await.map_err(|_| Closed),
            None => Err(Closed),
        }
    }

    /// Sends without waiting; fails when the queue is full or closed.
    pub fn try_send(&self, message: Message, related: Option<RequestId>) -> Result<(), Closed> {
        let Some(tx) = &self.tx else {
            return Err(Closed);
        };
        tx.try_send(Outbound {
            message: Box::new(message),
            related,
        })
        .map_err(|_| Closed)
    }

    /// Whether the transport has dropped its receiver.
    pub fn is_closed(&self) -> bool {
        self.tx.as_ref().is_none_or(mpsc::Sender::is_closed)
    }
}

#[cfg(test)]
mod tests {
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
}
