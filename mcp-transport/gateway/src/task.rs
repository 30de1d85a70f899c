//! A tool call our caller made a task (or, in 2026-07-28, one that may become a task),
//! forwarded to a mounted server that offers tasks.
//!
//! The task our caller sees is the gateway's own, run by the server's task engine: its id,
//! its owner (our caller), its time to live and its era's wire shape are ours, so ids of two
//! mounts cannot collide and an id of the server behind never reaches our caller (nor one of
//! ours the server). The server's task is asked for our task's time to live. Its work is the server's task: the call goes down asking to run as a
//! task, and while the server decides our call stays on its request ([`TaskHold`]): a plain
//! result or an `input_required` round comes back as it would from the server, and a task
//! makes ours a task too. From then on the server's task is followed as it reports: a
//! 2025-11-25 server's progress notifications (the call's progress token lives as long as the
//! task) are relayed as they come, and its status notifications are read as they come; a
//! 2026-07-28 server is asked to tell each change of the task on a `subscriptions/listen`
//! request naming it. Besides, the task is read with `tasks/get` at the interval the server
//! suggests (a safety net for a notification lost or never sent). Its status message becomes our task's (and, for a 2025-11-25
//! caller, progress), its input requests our task's (answered with `tasks/update` as each
//! answer comes), its result, tool error or JSON-RPC error our task's end. Our task cancelled
//! (or dropped) sends `tasks/cancel` down; the server going away fails our task with
//! `-32000`.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use mcp_core::client::{Started, TaskInfo};
use mcp_core::jsonrpc::JsonObject;
use mcp_core::protocol::{CallToolResult, ProgressParams, ServerCapabilities};
use mcp_core::task::{TASKS_EXTENSION, TaskHold, TaskStatus};
use mcp_core::{Client, Context, ErrorCode, Progress, RequestError, RpcError, StartedEvent};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::remote::{Link, Remote};

/// How often to look at a server's task when it suggests no interval.
const DEFAULT_POLL: Duration = Duration::from_millis(500);
/// How long a 2026-07-28 server may take to acknowledge following a task.
const FOLLOW_WAIT: Duration = Duration::from_secs(5);

/// Whether a server with `capabilities` runs tool calls as tasks: the 2025-11-25 `tasks`
/// capability for `tools/call`, or the 2026-07-28 tasks extension.
pub(crate) fn offers_tasks(capabilities: &ServerCapabilities) -> bool {
    let extension = capabilities
        .extensions
        .as_ref()
        .is_some_and(|e| e.contains_key(TASKS_EXTENSION));
    let legacy = capabilities
        .tasks
        .as_ref()
        .and_then(|t| t.get("requests"))
        .and_then(|r| r.get("tools"))
        .and_then(|t| t.get("call"))
        .is_some();
    extension || legacy
}

/// Whether a task status notification's task is `task_id`.
fn is_about(task: &JsonObject, task_id: &str) -> bool {
    task.get("taskId").and_then(Value::as_str) == Some(task_id)
}

/// A progress notification of the server as our caller's progress.
pub(crate) fn relayed(p: ProgressParams) -> Progress {
    Progress {
        progress: Some(p.progress),
        total: p.total,
        message: p.message,
    }
}

/// Sends `tasks/cancel` for the server's task when dropped armed: our task was cancelled, or
/// our caller went away, before the server's task ended.
struct CancelDownstream {
    client: Client,
    task_id: String,
    armed: bool,
}

impl Drop for CancelDownstream {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let client = self.client.clone();
        let task_id = std::mem::take(&mut self.task_id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = client.cancel_task(&task_id).await {
                    tracing::debug!(task = %task_id, "cancelling the mounted server's task: {e}");
                }
            });
        }
    }
}

/// One input request of the server's task, put to our caller under the server's key.
async fn ask(ctx: Context, key: String, request: Value) -> (String, Result<JsonObject, RpcError>) {
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let params = request.get("params").and_then(Value::as_object).cloned();
    let answer = ctx
        .input(&key)
        .request(&method, params)
        .await
        .map_err(|e| match e {
            RequestError::Rpc(e) => e,
            other => RpcError::internal(format!("the caller did not answer: {other}")),
        });
    (key, answer)
}

impl Remote {
    /// Calls tool `name` for a caller whose call runs as a task, or may become one (`hold`):
    /// forwarded as a task to a server that offers tasks; to any other server as a plain
    /// call that our task wraps.
    pub(crate) async fn call_tool_task(
        &self,
        ctx: &Context,
        name: &str,
        arguments: JsonObject,
        hold: TaskHold,
    ) -> Result<CallToolResult, RpcError> {
        let link = self.link().await?;
        if !offers_tasks(&link.client.server().capabilities) {
            drop(hold);
            return self.call_tool(ctx, name, arguments).await;
        }
        let mut entered = self.shared.calls.enter();
        // Before the call goes down, so that no notification of its task is missed.
        let mut news = self.shared.task_news.subscribe();
        let mut call = link
            .client
            // The server's task lives as long as ours may need it.
            .call_tool_streaming_as_task(name, Value::Object(arguments), hold.ttl())
            .await
            .map_err(|e| self.downstream(&link, e))?;
        let started = loop {
            tokio::select! {
                biased;
                event = call.next_started() => match event {
                    Some(StartedEvent::Progress(p)) => ctx.progress(relayed(p)).await,
                    Some(StartedEvent::Done(started)) => {
                        break started.map_err(|e| self.downstream(&link, e))?;
                    }
                    None => return Err(self.lost(&link)),
                },
                side = entered.next() => entered.handle(ctx, side).await,
                () = link.gone.cancelled() => return Err(self.lost(&link)),
            }
        };
        let task = match started {
            Started::Done(result) => {
                entered.drain(ctx).await;
                return Ok(result);
            }
            Started::Task(task) => task,
        };
        // The server made a task of it: ours becomes one too.
        drop(hold);
        entered.follow_task(&task.task_id);
        // A 2026-07-28 server tells each change of the task on a listen request naming it
        // (refused or unanswered, the task is followed by polling alone).
        let _follow = tokio::time::timeout(FOLLOW_WAIT, link.client.follow_task(&task.task_id))
            .await
            .ok()
            .and_then(Result::ok);
        let mut cancel = CancelDownstream {
            client: link.client.clone(),
            task_id: task.task_id.clone(),
            armed: true,
        };
        let mut asking: FuturesUnordered<
            BoxFuture<'static, (String, Result<JsonObject, RpcError>)>,
        > = FuturesUnordered::new();
        let mut asked = HashSet::new();
        let mut message: Option<String> = None;
        let mut info = task;
        let mut listening = true;
        let mut live = false;
        loop {
            // A server whose progress comes live is not echoed from its status, which may
            // be older than the progress relayed already.
            if !live && info.status_message.is_some() && info.status_message != message {
                message.clone_from(&info.status_message);
                if let Some(text) = &message {
                    ctx.progress(Progress::new().message(text.clone())).await;
                }
            }
            if info.status.is_terminal() {
                cancel.armed = false;
                entered.drain(ctx).await;
                return self.ended(&link, info).await;
            }
            for (key, request) in &info.input_requests {
                if asked.insert(key.clone()) {
                    asking.push(Box::pin(ask(ctx.clone(), key.clone(), request.clone())));
                }
            }
            let pause = tokio::time::sleep(info.poll_interval.unwrap_or(DEFAULT_POLL));
            tokio::pin!(pause);
            let mut told = None;
            loop {
                tokio::select! {
                    Some((key, answer)) = asking.next(), if !asking.is_empty() => {
                        let mut responses = JsonObject::new();
                        responses.insert(key, Value::Object(answer?));
                        link.client
                            .update_task(&info.task_id, responses)
                            .await
                            .map_err(|e| self.downstream(&link, e))?;
                        break;
                    }
                    Some(p) = call.next_task_progress() => {
                        // A 2025-11-25 server's progress for the task, live: relayed as it
                        // comes (our task's status message follows it).
                        live = true;
                        ctx.progress(relayed(p)).await;
                    }
                    note = news.recv(), if listening => match note {
                        Ok(task) if is_about(&task, &info.task_id) => {
                            // The task as it is now; unreadable, it is read with `tasks/get`.
                            told = TaskInfo::from_object(&task).ok();
                            break;
                        }
                        Ok(_) => {}
                        // Some were missed: `tasks/get` says where the task is.
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        // Not while the remote lives; polling goes on.
                        Err(broadcast::error::RecvError::Closed) => listening = false,
                    },
                    () = &mut pause => break,
                    side = entered.next() => entered.handle(ctx, side).await,
                    () = link.gone.cancelled() => return Err(self.lost(&link)),
                }
            }
            info = match told {
                Some(task) => task,
                None => link
                    .client
                    .get_task(&info.task_id)
                    .await
                    .map_err(|e| self.downstream(&link, e))?,
            };
        }
    }

    /// What the server's task ended with, as our call's outcome (the result of a 2025-11-25
    /// server comes from `tasks/result`).
    async fn ended(&self, link: &Link, info: TaskInfo) -> Result<CallToolResult, RpcError> {
        match (info.status, info.result, info.error) {
            (TaskStatus::Cancelled, _, _) => Err(RpcError::new(
                ErrorCode::SERVER_ERROR,
                format!(
                    "the mounted server `{}` cancelled the task running this call",
                    self.name()
                ),
            )
            .with_data(serde_json::json!({"server": self.name(), "reason": "cancelled"}))),
            (_, Some(result), _) => Ok(result),
            (_, None, Some(error)) => Err(error),
            (_, None, None) => link
                .client
                .task_result(&info.task_id)
                .await
                .map_err(|e| self.downstream(link, e)),
        }
    }
}
