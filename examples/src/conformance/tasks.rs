//! The tools the suite's `tasks-*` scenarios call (the `io.modelcontextprotocol/tasks`
//! extension, SEP-2663), written as ordinary tools with `#[tool(task = ...)]`: what they yield
//! becomes the task's status message, a question to the client `input_required`, their
//! return value the task's result. The same tools run as 2025-11-25 tasks.

use std::time::Duration;

use mcp_core::{Context, JsonObject, RequestError, ServerBuilder, tool};
use serde_json::json;

use super::tools::object;

/// A form asking one boolean, `confirm`.
fn confirm_form() -> JsonObject {
    object(json!({
        "type": "object",
        "properties": {"confirm": {"type": "boolean"}},
        "required": ["confirm"]
    }))
}

/// Greets `name` at once (never a task).
#[tool]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Works for `seconds` seconds, reporting each one, then says it is done. With `seconds: 0`
/// it answers at once, without a task.
#[tool(task = "optional")]
async fn slow_compute(seconds: u64, label: Option<String>) -> String {
    let label = label.unwrap_or_else(|| "job".into());
    for second in 0..seconds {
        yield_!(format!("{label}: second {} of {seconds}", second + 1));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    format!("{label}: computed in {seconds} s")
}

/// Fails after a second of work, as a tool fails: a result with `isError: true`. Runs only
/// as a task.
#[tool(task = "required")]
async fn failing_job() -> Result<String, String> {
    yield_!("starting a job that will fail");
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err("the job failed: its input was rejected".into())
}

/// Breaks down with an internal error (a panic) after a short while: the task fails with a
/// JSON-RPC error.
#[tool(task = "optional")]
async fn protocol_error_job() -> String {
    yield_!("starting a job that will crash");
    tokio::time::sleep(Duration::from_millis(200)).await;
    panic!("protocol_error_job crashed on purpose")
}

/// Asks the user to confirm deleting `filename` (a task waiting for input), then answers.
#[tool(task = "optional")]
async fn confirm_delete(filename: String, ctx: Context) -> Result<String, RequestError> {
    yield_!(format!("about to delete {filename}"));
    let answer = ctx
        .elicit(format!("Delete {filename}?"), confirm_form())
        .await?;
    let confirmed = answer
        .content
        .as_ref()
        .and_then(|c| c.get("confirm"))
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    Ok(if confirmed {
        format!("Deleted {filename}")
    } else {
        format!("Kept {filename}")
    })
}

/// Asks two questions at once, so that a task waits for two inputs together.
#[tool(task = "optional")]
async fn multi_input(ctx: Context) -> Result<String, RequestError> {
    yield_!("asking two questions");
    let name = object(json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"]
    }));
    let (first, second) = tokio::join!(
        ctx.elicit("What is your name?", name),
        ctx.elicit("Do you confirm?", confirm_form()),
    );
    let (first, second) = (first?, second?);
    Ok(format!(
        "answers: {} and {}",
        first.action.as_str(),
        second.action.as_str()
    ))
}

/// Asks the user's name on the request itself (multi round-trip, key `user_name`), then
/// works on as a task and greets them.
#[tool(task = "required")]
async fn test_tool_with_task(ctx: Context) -> Result<String, RequestError> {
    let form = object(json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"]
    }));
    let answer = ctx
        .input("user_name")
        .elicit("What is your name?", form)
        .await?;
    let name = answer
        .content
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("stranger")
        .to_owned();
    yield_!(format!("preparing a greeting for {name}"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(format!("Hello, {name}!"))
}

/// Adds the task tools.
pub(super) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(greet)
        .tool(slow_compute)
        .tool(failing_job)
        .tool(protocol_error_job)
        .tool(confirm_delete)
        .tool(multi_input)
        .tool(test_tool_with_task)
}
