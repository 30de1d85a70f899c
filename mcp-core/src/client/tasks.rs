//! Tasks from the client's side: start a tool call as a task, read it, wait for its result,
//! cancel it, in both eras (2025-11-25 `task` params and `tasks/result`; the 2026-07-28
//! `io.modelcontextprotocol/tasks` extension, polled with `tasks/get`).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::{Client, as_arguments, to_object};
use crate::error::{ErrorCode, RequestError, RpcError};
use crate::jsonrpc::{JsonObject, RequestId};
use crate::protocol::{CLIENT_CAPABILITIES_KEY, CallToolParams, CallToolResult, methods};
use crate::task::{TASKS_EXTENSION, TaskStatus};

/// A task as the server last described it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// Its id.
    pub task_id: String,
    /// Its status.
    pub status: TaskStatus,
    /// What the tool last said about its work.
    pub status_message: Option<String>,
    /// The poll interval the server suggests.
    pub poll_interval: Option<Duration>,
    /// How long after its creation the server keeps it (`None`: unlimited or not said).
    pub ttl: Option<Duration>,
    /// The result, inlined by the extension once completed.
    pub result: Option<CallToolResult>,
    /// The error, inlined by the extension once failed.
    pub error: Option<RpcError>,
    /// Requests waiting for the client's answer (the extension's `inputRequests`).
    pub input_requests: JsonObject,
}

impl TaskInfo {
    /// Reads a task object of either era.
    pub fn from_object(o: &JsonObject) -> Result<TaskInfo, String> {
        let task_id = o
            .get("taskId")
            .and_then(Value::as_str)
            .ok_or("a task without a taskId")?
            .to_owned();
        let status: TaskStatus = o
            .get("status")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .ok_or("a task without a known status")?;
        let millis = |keys: [&str; 2]| {
            keys.iter()
                .find_map(|k| o.get(*k).and_then(Value::as_u64))
                .map(Duration::from_millis)
        };
        let result = o
            .get("result")
            .and_then(|r| serde_json::from_value(r.clone()).ok());
        let error = o.get("error").and_then(Value::as_object).map(|e| RpcError {
            code: ErrorCode(e.get("code").and_then(Value::as_i64).unwrap_or(-32603)),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            data: e.get("data").cloned(),
        });
        Ok(TaskInfo {
            task_id,
            status,
            status_message: o
                .get("statusMessage")
                .and_then(Value::as_str)
                .map(str::to_owned),
            poll_interval: millis(["pollIntervalMs", "pollInterval"]),
            ttl: millis(["ttlMs", "ttl"]),
            result,
            error,
            input_requests: o
                .get("inputRequests")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// What a call started as a task came back as.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    /// The server answered at once (2026-07-28 lets it decide).
    Done(CallToolResult),
    /// The call runs as this task.
    Task(TaskInfo),
}

fn malformed(id: &str, why: impl std::fmt::Display) -> RequestError {
    RequestError::Rpc(RpcError::internal(format!(
        "the server's answer about task {id} is not understood: {why}"
    )))
}

/// What the answer to a `tools/call` of tool `name` asked to run as a task says: the task
/// (nested in 2025-11-25, flat with `resultType: "task"` in 2026-07-28) or the result.
pub(super) fn started(name: &str, result: JsonObject) -> Result<Started, RequestError> {
    let task = match result.get("task") {
        Some(Value::Object(task)) => Some(task),
        _ if result.get("resultType").and_then(Value::as_str) == Some("task") => Some(&result),
        _ => None,
    };
    match task {
        Some(task) => TaskInfo::from_object(task)
            .map(Started::Task)
            .map_err(|why| malformed(name, why)),
        None => serde_json::from_value(Value::Object(result))
            .map(Started::Done)
            .map_err(|e| malformed(name, e)),
    }
}

/// How long to wait between polls when the server suggests nothing.
const DEFAULT_POLL: Duration = Duration::from_millis(500);

impl Client {
    /// `params` with the tasks extension declared in the request's capabilities (stateless
    /// era; the other capabilities as configured).
    pub(super) fn with_tasks_extension(&self, params: JsonObject) -> JsonObject {
        let Some(mode) = self.inner.stateless.get() else {
            return params;
        };
        let mut params = params;
        let mut caps = match mode.capabilities() {
            Value::Object(o) => o,
            _ => JsonObject::new(),
        };
        let extensions = caps
            .entry("extensions")
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if let Value::Object(e) = extensions {
            e.insert(TASKS_EXTENSION.into(), Value::Object(JsonObject::new()));
        }
        let meta = params
            .entry("_meta")
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if let Value::Object(meta) = meta {
            meta.insert(CLIENT_CAPABILITIES_KEY.into(), Value::Object(caps));
        }
        params
    }

    async fn task_request(
        &self,
        method: &str,
        params: JsonObject,
    ) -> Result<JsonObject, RequestError> {
        self.request(method, Some(self.with_tasks_extension(params)))
            .await
    }

    /// Calls a tool as a task. In the 2025 era the call carries `task: {ttl}`; in 2026-07-28
    /// it declares the tasks extension and the server decides: a short call may come back
    /// [`Started::Done`] at once.
    pub async fn call_tool_as_task(
        &self,
        name: &str,
        arguments: Value,
        ttl: Option<Duration>,
    ) -> Result<Started, RequestError> {
        let params = CallToolParams {
            name: name.to_owned(),
            arguments: as_arguments(arguments),
            meta: None,
        };
        let params = self.as_task_params(to_object(&params), ttl);
        let result = self.request(methods::TOOLS_CALL, Some(params)).await?;
        started(name, result)
    }

    /// The params of a `tools/call` that asks to run as a task: `task: {ttl}` in the 2025
    /// era, the tasks extension declared in its capabilities in 2026-07-28.
    pub(super) fn as_task_params(
        &self,
        mut params: JsonObject,
        ttl: Option<Duration>,
    ) -> JsonObject {
        if self.inner.stateless.get().is_none() {
            let mut task = JsonObject::new();
            if let Some(ttl) = ttl {
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
                task.insert("ttl".into(), ms.into());
            }
            params.insert("task".into(), Value::Object(task));
        }
        self.with_tasks_extension(params)
    }

    /// The task's state now (`tasks/get`).
    pub async fn get_task(&self, task_id: &str) -> Result<TaskInfo, RequestError> {
        let mut params = JsonObject::new();
        params.insert("taskId".into(), task_id.into());
        let result = self.task_request(methods::TASKS_GET, params).await?;
        TaskInfo::from_object(&result).map_err(|why| malformed(task_id, why))
    }

    /// Cancels the task (`tasks/cancel`).
    pub async fn cancel_task(&self, task_id: &str) -> Result<(), RequestError> {
        let mut params = JsonObject::new();
        params.insert("taskId".into(), task_id.into());
        self.task_request(methods::TASKS_CANCEL, params)
            .await
            .map(drop)
    }

    /// Answers some of the task's input requests (`tasks/update`, 2026-07-28): `responses`
    /// maps input keys to the answers.
    pub async fn update_task(
        &self,
        task_id: &str,
        responses: JsonObject,
    ) -> Result<(), RequestError> {
        let mut params = JsonObject::new();
        params.insert("taskId".into(), task_id.into());
        params.insert("inputResponses".into(), Value::Object(responses));
        self.task_request(methods::TASKS_UPDATE, params)
            .await
            .map(drop)
    }

    /// The caller's tasks (`tasks/list`, 2025 era; every page).
    pub async fn list_tasks(&self) -> Result<Vec<TaskInfo>, RequestError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = JsonObject::new();
            if let Some(c) = &cursor {
                params.insert("cursor".into(), c.clone().into());
            }
            let page = self.task_request(methods::TASKS_LIST, params).await?;
            for task in page
                .get("tasks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(o) = task.as_object() {
                    out.push(TaskInfo::from_object(o).map_err(|why| malformed("list", why))?);
                }
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(out),
            }
        }
    }

    /// Waits for the task's result: `tasks/result` in the 2025 era; polling `tasks/get` at
    /// the suggested interval in 2026-07-28, answering its input requests with the client's
    /// request handler on the way. A failed task is its error; a cancelled one
    /// [`RequestError::Cancelled`].
    pub async fn task_result(&self, task_id: &str) -> Result<CallToolResult, RequestError> {
        if self.inner.stateless.get().is_none() {
            let mut params = JsonObject::new();
            params.insert("taskId".into(), task_id.into());
            let result = self.request(methods::TASKS_RESULT, Some(params)).await?;
            return serde_json::from_value(Value::Object(result))
                .map_err(|e| malformed(task_id, e));
        }
        let mut answered = BTreeSet::new();
        loop {
            let task = self.get_task(task_id).await?;
            match task.status {
                TaskStatus::Completed => {
                    return task
                        .result
                        .ok_or_else(|| malformed(task_id, "completed without a result"));
                }
                TaskStatus::Failed => {
                    return Err(RequestError::Rpc(task.error.unwrap_or_else(|| {
                        RpcError::internal(format!("task {task_id} failed"))
                    })));
                }
                TaskStatus::Cancelled => {
                    return Err(RequestError::Cancelled(RequestId::String(task_id.into())));
                }
                TaskStatus::InputRequired => {
                    let fresh: JsonObject = task
                        .input_requests
                        .into_iter()
                        .filter(|(k, _)| !answered.contains(k))
                        .collect();
                    if !fresh.is_empty() {
                        answered.extend(fresh.keys().cloned());
                        let mut interim = JsonObject::new();
                        interim.insert("inputRequests".into(), Value::Object(fresh));
                        let mut update = self.answer(JsonObject::new(), interim).await?;
                        update.remove("requestState");
                        update.insert("taskId".into(), task_id.into());
                        self.task_request(methods::TASKS_UPDATE, update).await?;
                        continue;
                    }
                }
                TaskStatus::Working => {}
            }
            tokio::time::sleep(task.poll_interval.unwrap_or(DEFAULT_POLL)).await;
        }
    }
}
