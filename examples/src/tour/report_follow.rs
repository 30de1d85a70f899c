//! Tasks: a 2026-07-28 client that follows the report's task as it changes.

// ANCHOR: follow
use mcp_core::client::{Started, TaskInfo};
use mcp_core::protocol::methods;
use mcp_core::{Client, RequestError};
use serde_json::json;

/// Starts `build_report` as a task and follows it: each status message as the task reports
/// it, then the result's text.
pub async fn follow_report(
    client: &Client,
    sections: u64,
) -> Result<(Vec<String>, String), RequestError> {
    let mut notes = client.notifications();
    let started = client
        .call_tool_as_task("build_report", json!({ "sections": sections }), None)
        .await?;
    let task = match started {
        Started::Done(result) => return Ok((Vec::new(), result.text())),
        Started::Task(task) => task,
    };
    // A listen request naming the task: first the task as it is now, then each change.
    let _follow = client.follow_task(&task.task_id).await?;
    let mut messages: Vec<String> = Vec::new();
    while let Some(note) = notes.recv().await {
        if note.method != methods::TASKS_NOTIFICATION {
            continue;
        }
        let params = note.params.map(Into::into).unwrap_or_default();
        let now = TaskInfo::from_object(&params).map_err(RequestError::Unsupported)?;
        if let Some(message) = now.status_message.filter(|m| messages.last() != Some(m)) {
            messages.push(message);
        }
        if now.status.is_terminal() {
            // A finished task's notification carries its result.
            let text = match now.result {
                Some(result) => result.text(),
                None => client.task_result(&task.task_id).await?.text(),
            };
            return Ok((messages, text));
        }
    }
    Err(RequestError::Closed(task.task_id.as_str().into()))
}
// ANCHOR_END: follow
