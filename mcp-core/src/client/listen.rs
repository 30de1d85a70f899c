//! Resource subscriptions in the stateless era (2026-07-28), where `resources/subscribe` is
//! gone: one `subscriptions/listen` request stays open naming every resource the client
//! follows, and its `notifications/resources/updated` reach
//! [`Client::notifications`](super::Client::notifications) as a session's do.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;

use super::{Client, lock, to_object};
use crate::error::RequestError;
use crate::jsonrpc::{JsonObject, Request, RequestId};
use crate::protocol::{
    CancelledParams, ListenParams, SUBSCRIPTION_ID_KEY, SubscriptionFilter, methods,
};

/// The client's listen request, and who waits for an acknowledgement.
#[derive(Default)]
pub(super) struct Listening {
    /// The resources followed and the listen request that names them (a new subscription
    /// replaces the request: its filter is fixed when it opens). Held across the exchange,
    /// so subscriptions happen one at a time.
    open: tokio::sync::Mutex<Open>,
    /// Waiters for the acknowledgement of a listen request, by the request's id.
    acks: Mutex<HashMap<RequestId, oneshot::Sender<JsonObject>>>,
    /// Listen requests ended by this client: what the server still sends on them (before it
    /// sees the cancellation) would repeat what the request replacing them delivers.
    ended: Mutex<HashSet<RequestId>>,
}

#[derive(Default)]
struct Open {
    uris: Vec<String>,
    /// Whether the request also opts in to the three `list_changed` notifications.
    lists: bool,
    id: Option<RequestId>,
}

/// The listen request a notification arrived on, if it names one.
fn subscription_id(params: Option<&JsonObject>) -> Option<RequestId> {
    let id = params?.get("_meta")?.get(SUBSCRIPTION_ID_KEY)?;
    serde_json::from_value(id.clone()).ok()
}

impl Listening {
    /// Whether a notification arrived on a listen request this client ended.
    pub(super) fn is_from_ended(&self, params: Option<&JsonObject>) -> bool {
        subscription_id(params).is_some_and(|id| lock(&self.ended).contains(&id))
    }

    /// Hands an acknowledgement to the subscription waiting for it. Gives it back when none
    /// waits for it.
    pub(super) fn acknowledged(&self, params: Option<JsonObject>) -> Option<Option<JsonObject>> {
        match subscription_id(params.as_ref()).and_then(|id| lock(&self.acks).remove(&id)) {
            Some(waiter) => {
                let _ = waiter.send(params.unwrap_or_default());
                None
            }
            None => Some(params),
        }
    }
}

impl Client {
    /// Follows `uri` with a `subscriptions/listen` request naming it and every resource
    /// followed before, once the server acknowledges it; then ends the request it replaces.
    pub(super) async fn listen_for(&self, uri: &str) -> Result<(), RequestError> {
        self.relisten(Some(uri)).await
    }

    /// Opts in to `notifications/{tools,prompts,resources}/list_changed` on the listen
    /// request (keeping the resources followed).
    pub(super) async fn listen_for_lists(&self) -> Result<(), RequestError> {
        self.relisten(None).await
    }

    /// Opens a listen request for what is followed plus `uri` (or plus the list changes),
    /// once the server acknowledges it; then ends the request it replaces.
    async fn relisten(&self, uri: Option<&str>) -> Result<(), RequestError> {
        let listening = &self.inner.listening;
        let mut open = listening.open.lock().await;
        let mut uris = open.uris.clone();
        let mut lists = open.lists;
        match uri {
            Some(uri) if open.uris.iter().any(|u| u == uri) => return Ok(()),
            Some(uri) => uris.push(uri.to_owned()),
            None if open.lists => return Ok(()),
            None => lists = true,
        }
        let params = ListenParams {
            notifications: SubscriptionFilter {
                resource_subscriptions: (!uris.is_empty()).then(|| uris.clone()),
                tools_list_changed: lists.then_some(true),
                prompts_list_changed: lists.then_some(true),
                resources_list_changed: lists.then_some(true),
                task_ids: None,
            },
            meta: None,
        };
        let params = self.outgoing_params(Some(to_object(&params)));
        let (id, agreed) = self.open_listen(params).await?;
        let offered = uri.is_none_or(|uri| {
            agreed
                .get("notifications")
                .and_then(|n| n.get("resourceSubscriptions"))
                .and_then(Value::as_array)
                .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(uri)))
        });
        if let (false, Some(uri)) = (offered, uri) {
            self.end_listen(id).await;
            return Err(RequestError::Unsupported(format!(
                "the server does not offer updates of {uri} (its subscriptions/listen acknowledgement leaves it out)"
            )));
        }
        if let Some(replaced) = open.id.replace(id) {
            self.end_listen(replaced).await;
        }
        open.uris = uris;
        open.lists = lists;
        Ok(())
    }

    /// Sends a `subscriptions/listen` request with `params` and waits for its
    /// acknowledgement: the request's id and what the server agreed to follow.
    async fn open_listen(
        &self,
        params: Option<JsonObject>,
    ) -> Result<(RequestId, JsonObject), RequestError> {
        let listening = &self.inner.listening;
        let (id, reply) = self.inner.pending.register();
        let (ack, acked) = oneshot::channel();
        lock(&listening.acks).insert(id.clone(), ack);
        let sent = self
            .send(
                Request::new(id.clone(), methods::SUBSCRIPTIONS_LISTEN, params).into(),
                &id,
            )
            .await;
        let agreed = match sent {
            Err(e) => Err(e),
            // The acknowledgement comes first; an answer first is a refusal.
            Ok(()) => tokio::select! {
                ack = acked => ack.map_err(|_| RequestError::Closed(id.clone())),
                reply = reply => Err(match reply {
                    Ok(Err(e)) => RequestError::Rpc(e),
                    _ => RequestError::Closed(id.clone()),
                }),
            },
        };
        lock(&listening.acks).remove(&id);
        Ok((id, agreed?))
    }

    /// Follows task `task_id` (2026-07-28, tasks extension): a `subscriptions/listen` request
    /// of its own names the task, and from its acknowledgement on, each change of the task
    /// (first its state now) comes as `notifications/tasks` carrying the task as `tasks/get`
    /// shows it, to [`notifications`](Client::notifications). The request stays open until
    /// the returned [`TaskFollow`] is dropped. `Unsupported` in a session (2025-11-25 sends
    /// `notifications/tasks/status` without asking) and when the server leaves the task out
    /// of its acknowledgement (not the caller's, or unknown).
    pub async fn follow_task(&self, task_id: &str) -> Result<TaskFollow, RequestError> {
        if self.inner.stateless.get().is_none() {
            return Err(RequestError::Unsupported(
                "following a task with subscriptions/listen is of 2026-07-28; a session gets notifications/tasks/status".into(),
            ));
        }
        let params = ListenParams {
            notifications: SubscriptionFilter {
                task_ids: Some(vec![task_id.to_owned()]),
                ..SubscriptionFilter::default()
            },
            meta: None,
        };
        let params = self.with_tasks_extension(to_object(&params));
        let params = self.outgoing_params(Some(params));
        let (id, agreed) = self.open_listen(params).await?;
        let follow = TaskFollow {
            client: self.clone(),
            id: Some(id),
        };
        let followed = agreed
            .get("notifications")
            .and_then(|n| n.get("taskIds"))
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(task_id)));
        if !followed {
            return Err(RequestError::Unsupported(format!(
                "the server does not follow task {task_id} (its subscriptions/listen acknowledgement leaves it out)"
            )));
        }
        Ok(follow)
    }

    /// Cancels a listen request: the server ends it without a result.
    async fn end_listen(&self, id: RequestId) {
        self.inner.pending.forget(&id);
        lock(&self.inner.listening.ended).insert(id.clone());
        let params = CancelledParams {
            request_id: id,
            reason: Some("replaced by a subscription to more resources".into()),
            meta: None,
        };
        let _ = self
            .notify(methods::CANCELLED, Some(to_object(&params)))
            .await;
    }
}

/// A task followed with [`Client::follow_task`]: its listen request is ended (cancelled)
/// when this is dropped.
#[derive(Debug)]
pub struct TaskFollow {
    client: Client,
    id: Option<RequestId>,
}

impl Drop for TaskFollow {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let inner = &self.client.inner;
        inner.pending.forget(&id);
        lock(&inner.listening.ended).insert(id.clone());
        let params = CancelledParams {
            request_id: id,
            reason: Some("the task is no longer followed".into()),
            meta: None,
        };
        let note = crate::jsonrpc::Notification::new(methods::CANCELLED, Some(to_object(&params)));
        let _ = inner.outgoing.try_send(note.into());
    }
}
