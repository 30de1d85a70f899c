//! The client's read loop: routes every incoming message to whoever waits for it.
//!
//! Progress notifications go to their call in batches: while more messages are already
//! queued, the loop gathers the progress it reads; the moment the queue is empty (or a batch
//! is full, or any other message arrives) it hands each call what it gathered. Nothing waits
//! for more input, so a lone event is delivered at once, while a flood wakes the caller once
//! per batch rather than once per event.

use std::sync::Weak;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::{Inner, RequestHandler, lock, parse};
use crate::error::RpcError;
use crate::jsonrpc::{ErrorResponse, JsonObject, Message, Notification, Response};
use crate::protocol::{LoggingMessageParams, ProgressParams, methods};

/// The most progress events handed to a call at once.
pub(super) fn batch_len(call_buffer: usize) -> usize {
    (call_buffer / 4).max(1)
}

/// How many batches a call's queue holds: together about `call_buffer` events.
pub(super) fn queue_len(call_buffer: usize) -> usize {
    call_buffer.div_ceil(batch_len(call_buffer)).max(1)
}

/// Progress gathered for calls and not yet handed over.
struct Gathered {
    max: usize,
    calls: Vec<(mpsc::Sender<Vec<ProgressParams>>, Vec<ProgressParams>)>,
}

impl Gathered {
    fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds one event for the call behind `tx`; returns whether that call's batch is full.
    fn add(&mut self, tx: &mpsc::Sender<Vec<ProgressParams>>, p: ProgressParams) -> bool {
        let at = match self.calls.iter().position(|(t, _)| t.same_channel(tx)) {
            Some(at) => at,
            None => {
                self.calls.push((tx.clone(), Vec::with_capacity(self.max)));
                self.calls.len() - 1
            }
        };
        let batch = &mut self.calls[at].1;
        batch.push(p);
        batch.len() >= self.max
    }

    /// Hands every call its batch, waiting while a caller is behind: back-pressure all the
    /// way to the tool.
    async fn deliver(&mut self) {
        for (tx, batch) in self.calls.drain(..) {
            // A call dropped meanwhile simply misses its events.
            let _ = tx.send(batch).await;
        }
    }
}

pub(super) async fn read_loop(
    inner: Weak<Inner>,
    mut incoming: mpsc::Receiver<Message>,
    on_request: Option<RequestHandler>,
    call_buffer: usize,
) {
    let mut gathered = Gathered {
        max: batch_len(call_buffer),
        calls: Vec::new(),
    };
    loop {
        let message = match incoming.try_recv() {
            Ok(message) => message,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                // Nothing more is queued: deliver what was gathered before waiting.
                gathered.deliver().await;
                match incoming.recv().await {
                    Some(message) => message,
                    None => break,
                }
            }
        };
        let Some(client) = inner.upgrade() else {
            return;
        };
        let message = match message {
            Message::Notification(n) if n.method == methods::PROGRESS => {
                let Ok(p) = parse::<ProgressParams>(n.params.map(Into::into)) else {
                    continue;
                };
                let tx = lock(&client.calls).get(&p.progress_token).cloned();
                if let Some(tx) = tx
                    && gathered.add(&tx, p)
                {
                    gathered.deliver().await;
                }
                continue;
            }
            other => other,
        };
        // Everything else keeps its order with the progress before it: a response, above
        // all, must come after its call's last progress event.
        if !gathered.is_empty() {
            gathered.deliver().await;
        }
        match message {
            Message::Response(r) => {
                client.pending.resolve(&r.id, Ok(r.result.into_object()));
            }
            Message::Error(e) => {
                if let Some(id) = e.id {
                    client.pending.resolve(&id, Err(e.error.into()));
                }
            }
            Message::Notification(n) => route_notification(&client, n),
            Message::Request(r) => {
                let outgoing = client.outgoing.clone();
                let handler = on_request.clone();
                tokio::spawn(async move {
                    let id = r.id.clone();
                    let answer = if r.method == methods::PING {
                        Ok(JsonObject::new())
                    } else if let Some(handler) = handler {
                        handler(r).await
                    } else {
                        Err(RpcError::method_not_found(&r.method))
                    };
                    let message = match answer {
                        Ok(result) => Message::Response(Response::new(id, result)),
                        Err(e) => Message::Error(ErrorResponse::new(Some(id), e)),
                    };
                    let _ = outgoing.send(message).await;
                });
            }
        }
    }
    gathered.deliver().await;
    if let Some(client) = inner.upgrade() {
        client.pending.close_all();
        lock(&client.calls).clear();
    }
}

/// Notifications other than progress: log messages, and the rest to whoever listens.
fn route_notification(client: &Inner, n: Notification) {
    match n.method.as_str() {
        methods::LOG_MESSAGE => {
            if let Ok(p) = parse::<LoggingMessageParams>(n.params.map(Into::into)) {
                let logs = lock(&client.logs);
                if let Some(tx) = logs.as_ref() {
                    let _ = tx.send(p);
                }
            }
        }
        methods::SUBSCRIPTIONS_ACKNOWLEDGED => {
            if let Some(params) = client.listening.acknowledged(n.params.map(Into::into)) {
                forward(
                    client,
                    Notification::new(methods::SUBSCRIPTIONS_ACKNOWLEDGED, params),
                );
            }
        }
        _ if client.listening.is_from_ended(n.params.as_deref()) => {
            tracing::debug!(method = %n.method, "dropping a notification of an ended listen request");
        }
        _ => forward(client, n),
    }
}

/// A notification for whoever listens ([`Client::notifications`](super::Client::notifications)).
fn forward(client: &Inner, n: Notification) {
    let other = lock(&client.other);
    match other.as_ref() {
        Some(tx) => {
            let _ = tx.send(n);
        }
        None => tracing::debug!(method = %n.method, "client ignoring notification"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::client::{Client, ClientChannel, ClientOptions};
    use crate::jsonrpc::RequestId;
    use crate::{CallEvent, JsonObject};

    fn object(value: serde_json::Value) -> JsonObject {
        match value {
            serde_json::Value::Object(o) => o,
            _ => unreachable!(),
        }
    }

    /// A client whose peer is this test: answers `initialize`, then returns the raw ends.
    async fn connect(
        call_buffer: usize,
    ) -> (Client, mpsc::Receiver<Message>, mpsc::Sender<Message>) {
        let (outgoing, mut sent) = mpsc::channel(16);
        let (incoming_tx, incoming) = mpsc::channel(1024);
        let peer = incoming_tx.clone();
        let handshake = tokio::spawn(async move {
            let Some(Message::Request(init)) = sent.recv().await else {
                panic!("expected initialize");
            };
            let result = object(json!({
                "protocolVersion": "2025-11-25", "capabilities": {},
                "serverInfo": {"name": "peer", "version": "1"}}));
            peer.send(Response::new(init.id, result).into())
                .await
                .unwrap();
            assert!(matches!(sent.recv().await, Some(Message::Notification(_))));
            sent
        });
        let options = ClientOptions {
            call_buffer,
            era: crate::client::ClientEra::Stateful,
            ..ClientOptions::default()
        };
        let channel = ClientChannel { outgoing, incoming };
        let client = Client::connect_with(channel, options).await.unwrap();
        (client, handshake.await.unwrap(), incoming_tx)
    }

    fn progress(token: &RequestId, n: u64) -> Message {
        let token = match token {
            RequestId::Number(n) => json!(n),
            RequestId::String(s) => json!(&**s),
        };
        let params = object(json!({"progressToken": token, "progress": n as f64}));
        Notification::new(methods::PROGRESS, Some(params)).into()
    }

    #[tokio::test]
    async fn a_queued_flood_arrives_whole_and_in_order_before_the_result() {
        for call_buffer in [1, 2, 64] {
            let (client, mut sent, peer) = connect(call_buffer).await;
            let mut call = client
                .call_tool_streaming("flood", json!({}))
                .await
                .unwrap();
            let Some(Message::Request(request)) = sent.recv().await else {
                panic!("expected the call");
            };
            // Everything is queued before the client reads a single event: the router
            // gathers batches, yet back-pressure (call_buffer) holds.
            let feeder = tokio::spawn(async move {
                for n in 0..300 {
                    peer.send(progress(&request.id, n)).await.unwrap();
                }
                let result = object(json!({"content": []}));
                peer.send(Response::new(request.id, result).into())
                    .await
                    .unwrap();
                peer
            });
            for n in 0..300 {
                match call.next_event().await {
                    Some(CallEvent::Progress(p)) => assert_eq!(p.progress, n as f64),
                    other => panic!("buffer {call_buffer}: event {n}: {other:?}"),
                }
            }
            assert!(matches!(
                call.next_event().await,
                Some(CallEvent::Done(Ok(_)))
            ));
            assert!(call.next_event().await.is_none());
            drop(feeder.await.unwrap());
        }
    }

    #[test]
    fn batches_fit_the_call_buffer() {
        for buffer in [1, 2, 3, 4, 5, 63, 64, 1000] {
            let (batch, queue) = (batch_len(buffer), queue_len(buffer));
            assert!(batch >= 1 && queue >= 1);
            assert!(batch * queue <= buffer.max(1) + batch, "{buffer}");
        }
    }
}
