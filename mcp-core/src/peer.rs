//! Requests this side sends to its peer, and the responses that answer them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::oneshot;

use crate::error::RpcError;
use crate::jsonrpc::{JsonObject, RequestId};
use crate::sync::lock;

/// The outcome of one request: its result object or the peer's error.
pub(crate) type Reply = Result<JsonObject, RpcError>;

/// Requests awaiting their response, by id.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    next_id: AtomicI64,
    waiting: Mutex<HashMap<RequestId, oneshot::Sender<Reply>>>,
}

impl Pending {
    /// A fresh id and the receiver its response will arrive on.
    pub(crate) fn register(&self) -> (RequestId, oneshot::Receiver<Reply>) {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id.clone(), tx);
        (id, rx)
    }

    /// Delivers a response; returns `false` when nothing waited for that id.
    pub(crate) fn resolve(&self, id: &RequestId, reply: Reply) -> bool {
        match self.lock().remove(id) {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// Forgets a request (cancelled or timed out).
    pub(crate) fn forget(&self, id: &RequestId) {
        self.lock().remove(id);
    }

    /// Drops every waiter: their receivers see the connection as closed.
    pub(crate) fn close_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, oneshot::Sender<Reply>>> {
        // A poisoned map still holds valid senders: keep going.
        lock(&self.waiting)
    }
}
