//! `subscriptions/listen` (2026-07-28): long-lived streams of change notifications, each
//! acknowledged first and tagged with its subscription id, ended by the client (cancel) or by
//! the server (a completion result).

use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::Server;
use crate::error::RpcError;
use crate::jsonrpc::{JsonObject, Notification, RequestId};
use crate::protocol::{ListenParams, SUBSCRIPTION_ID_KEY, SubscriptionFilter, methods};
use crate::sync::lock;
use crate::task;
use crate::tool::BoxFuture;
use crate::transport::Outbox;

/// A list whose change clients can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChanged {
    /// `notifications/tools/list_changed`.
    Tools,
    /// `notifications/prompts/list_changed`.
    Prompts,
    /// `notifications/resources/list_changed`.
    Resources,
}

impl ListChanged {
    pub(crate) fn method(self) -> &'static str {
        match self {
            ListChanged::Tools => methods::TOOLS_LIST_CHANGED,
            ListChanged::Prompts => methods::PROMPTS_LIST_CHANGED,
            ListChanged::Resources => methods::RESOURCES_LIST_CHANGED,
        }
    }
}

/// One open listen stream.
struct Listener {
    id: RequestId,
    filter: SubscriptionFilter,
    reply: Outbox,
    /// Set once the acknowledgement is on its way: nothing else goes out before it.
    acknowledged: CancellationToken,
}

impl Listener {
    fn wants(&self, list: ListChanged) -> bool {
        let f = &self.filter;
        match list {
            ListChanged::Tools => f.tools_list_changed == Some(true),
            ListChanged::Prompts => f.prompts_list_changed == Some(true),
            ListChanged::Resources => f.resources_list_changed == Some(true),
        }
    }

    /// Sends a notification the stream opted in to, after the acknowledgement.
    async fn deliver(&self, method: &str, params: Option<JsonObject>) {
        self.acknowledged.cancelled().await;
        self.send(method, params).await;
    }

    async fn send(&self, method: &str, params: Option<JsonObject>) {
        let mut params = params.unwrap_or_default();
        let mut meta = params
            .remove("_meta")
            .and_then(|m| match m {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .unwrap_or_default();
        meta.insert(SUBSCRIPTION_ID_KEY.into(), id_value(&self.id));
        params.insert("_meta".into(), Value::Object(meta));
        let note = Notification::new(method, Some(params));
        let _ = self.reply.send(note.into(), Some(self.id.clone())).await;
    }
}

fn id_value(id: &RequestId) -> Value {
    serde_json::to_value(id).unwrap_or(Value::Null)
}

/// The open listen streams of a server.
#[derive(Default)]
pub(crate) struct Listeners {
    open: Mutex<Vec<Weak<Listener>>>,
    closing: CancellationToken,
}

impl Listeners {
    fn live(&self) -> Vec<Arc<Listener>> {
        let mut open = lock(&self.open);
        open.retain(|w| w.strong_count() > 0);
        open.iter().filter_map(Weak::upgrade).collect()
    }

    pub(crate) async fn resource_updated(&self, uri: &str, params: &JsonObject) {
        for l in self.live() {
            let wanted = l
                .filter
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|u| u == uri));
            if wanted {
                l.deliver(methods::RESOURCES_UPDATED, Some(params.clone()))
                    .await;
            }
        }
    }

    pub(crate) async fn list_changed(&self, list: ListChanged) {
        for l in self.live() {
            if l.wants(list) {
                l.deliver(list.method(), None).await;
            }
        }
    }

    pub(crate) fn close(&self) {
        self.closing.cancel();
    }
}

/// What the server agrees to send of what `asked` opts in to.
fn agreed(server: &Server, asked: &SubscriptionFilter) -> SubscriptionFilter {
    let inner = &server.inner;
    let lists = inner.list_changed;
    let offered = server.capabilities();
    let yes = |asked: Option<bool>, offered: bool| (asked == Some(true) && offered).then_some(true);
    SubscriptionFilter {
        tools_list_changed: yes(asked.tools_list_changed, lists),
        prompts_list_changed: yes(
            asked.prompts_list_changed,
            lists && offered.prompts.is_some(),
        ),
        resources_list_changed: yes(
            asked.resources_list_changed,
            lists && offered.resources.is_some(),
        ),
        resource_subscriptions: asked
            .resource_subscriptions
            .clone()
            .filter(|_| server.resource_subscriptions() && offered.resources.is_some()),
        // Decided once the tasks are looked up (see `listen`).
        task_ids: None,
    }
}

/// Runs one `subscriptions/listen` request: acknowledges it, delivers what it opted in to
/// until the request is cancelled (the result is then never sent) or the server closes its
/// subscriptions (the completion result is sent).
///
/// `tasks` is the caller's task scope when it declared the tasks extension: the stream then
/// follows those of the `taskIds` it asks for that are the caller's (`notifications/tasks`
/// with the task's state after each change, until it ends). Asking for tasks without the
/// extension is `-32021`.
pub(crate) fn listen(
    server: &Server,
    id: RequestId,
    params: Option<JsonObject>,
    reply: &Outbox,
    cancel: CancellationToken,
    tasks: Option<String>,
) -> Result<BoxFuture<Result<JsonObject, RpcError>>, RpcError> {
    let params: ListenParams = serde_json::from_value(Value::Object(params.unwrap_or_default()))
        .map_err(RpcError::invalid_params)?;
    let asked_tasks = params.notifications.task_ids.clone();
    if asked_tasks.is_some() && tasks.is_none() {
        return Err(task::missing_extension());
    }
    let mut filter = agreed(server, &params.notifications);
    let reply = reply.clone();
    let server = server.clone();
    let listeners = server.inner.clone();
    Ok(Box::pin(async move {
        if let (Some(asked), Some(owner)) = (asked_tasks, tasks) {
            let mut mine = Vec::new();
            for task_id in asked {
                if task::owned(&server, &task_id, &owner).await && !mine.contains(&task_id) {
                    mine.push(task_id);
                }
            }
            filter.task_ids = Some(mine);
        }
        let listener = Arc::new(Listener {
            id: id.clone(),
            filter,
            reply,
            acknowledged: CancellationToken::new(),
        });
        // Cancelled however this ends, so that no notifier waits on an acknowledgement that
        // will never be sent.
        let _acknowledged = listener.acknowledged.clone().drop_guard();
        let mut ack = JsonObject::new();
        ack.insert(
            "notifications".into(),
            serde_json::to_value(&listener.filter).unwrap_or(Value::Null),
        );
        // Registered before the acknowledgement, so that a change made once the client has
        // the acknowledgement reaches it; acknowledged before anything else is sent.
        lock(&listeners.listeners.open).push(Arc::downgrade(&listener));
        listener
            .send(methods::SUBSCRIPTIONS_ACKNOWLEDGED, Some(ack))
            .await;
        listener.acknowledged.cancel();
        let followed = listener.filter.task_ids.clone().unwrap_or_default();
        let follow_all = futures_util::future::join_all(followed.iter().map(|task_id| {
            let listener = listener.clone();
            task::follow(&server, task_id, move |state| {
                let listener = listener.clone();
                async move {
                    listener
                        .send(methods::TASKS_NOTIFICATION, Some(state))
                        .await
                }
            })
        }));
        tokio::select! {
            () = cancel.cancelled() => {}
            () = listeners.listeners.closing.cancelled() => {}
            // Every followed task ended: the stream stays open for whatever else it follows.
            _ = follow_all => {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = listeners.listeners.closing.cancelled() => {}
                }
            }
        }
        drop(listener);
        let mut meta = JsonObject::new();
        meta.insert(SUBSCRIPTION_ID_KEY.into(), id_value(&id));
        let mut result = JsonObject::new();
        result.insert("_meta".into(), Value::Object(meta));
        Ok(result)
    }))
}
