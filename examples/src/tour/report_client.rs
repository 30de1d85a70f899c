//! Tasks: the client that runs `build_report` as a task.

// ANCHOR: client
use mcp_core::client::Started;
use mcp_core::{Client, RequestError};
use serde_json::json;

/// Starts `build_report` as a task, looks at it once, then waits for its result.
pub async fn report_as_task(client: &Client, sections: u64) -> Result<String, RequestError> {
    let started = client
        .call_tool_as_task("build_report", json!({ "sections": sections }), None)
        .await?;
    let task = match started {
        // In 2026-07-28 the server decides: a call that ends at once comes back as a result.
        Started::Done(result) => return Ok(result.text()),
        Started::Task(task) => task,
    };
    // The id is all a client needs to come back, from this connection or another one.
    let now = client.get_task(&task.task_id).await?;
    tracing::info!(status = ?now.status, message = ?now.status_message, "task running");
    let result = client.task_result(&task.task_id).await?;
    Ok(result.text())
}
// ANCHOR_END: client
