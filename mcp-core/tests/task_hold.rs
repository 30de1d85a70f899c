//! A call that may become a task holding the decision ([`TaskHold`]), as a gateway does while
//! the server behind decides: its progress stays on its request meanwhile (in lockstep: the
//! tool waits for the test, which releases it only once the progress arrived), a result ends
//! it plainly, and letting go makes it a task. And a tool whose call ends with a JSON-RPC
//! error fails its task with that error, in both eras.

use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, Started};
use mcp_core::protocol::{CallToolResult, Content, TaskSupport, ToolDefinition, ToolExecution};
use mcp_core::task::TaskStatus;
use mcp_core::tool::{BoxFuture, errors_as_results};
use mcp_core::{
    Client, Context, ErrorCode, Payload, RequestError, RpcError, Server, StartedEvent, Tool, memory,
};
use serde_json::json;
use tokio::sync::Semaphore;

const LIMIT: Duration = Duration::from_secs(20);

/// Released by the tests, one step at a time.
static STEP: Semaphore = Semaphore::const_new(0);

fn definition(name: &str) -> ToolDefinition {
    let schema = json!({"type": "object"}).as_object().unwrap().clone();
    let mut d = ToolDefinition::new(name, schema);
    d.execution = Some(ToolExecution {
        task_support: Some(TaskSupport::Optional),
    });
    d
}

fn text(t: &str) -> CallToolResult {
    CallToolResult::success(vec![Content::text(t)])
}

/// Holds the decision, reports `deciding`, waits for a release; then answers `early` at
/// once, or (with `"task": true`) lets go, reports `working`, waits again and answers `late`.
async fn deciding(ctx: Context, as_task: bool) -> Result<CallToolResult, RpcError> {
    let hold = ctx.hold_task().expect("a call that may become a task");
    assert!(!hold.is_task());
    ctx.progress("deciding").await;
    STEP.acquire().await.unwrap().forget();
    if !as_task {
        return Ok(text("early"));
    }
    hold.release();
    ctx.progress("working").await;
    STEP.acquire().await.unwrap().forget();
    Ok(text("late"))
}

/// Reports once, then fails with a JSON-RPC error (as a gateway's call does when its server
/// goes away).
async fn broken(ctx: Context) -> Result<CallToolResult, RpcError> {
    ctx.progress("breaking").await;
    Err(RpcError::new(
        ErrorCode::SERVER_ERROR,
        "the far side went away",
    ))
}

/// A hand-written tool (`#[tool]` has no `call_or_error`): `deciding` or `broken`.
struct Handmade(&'static str);

impl Tool for Handmade {
    fn definition(&self) -> ToolDefinition {
        definition(self.0)
    }

    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult> {
        errors_as_results(self.call_or_error(ctx, arguments))
    }

    fn call_or_error(
        &self,
        ctx: Context,
        arguments: Payload,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        let as_task = arguments.into_object().get("task") == Some(&json!(true));
        match self.0 {
            "deciding" => Box::pin(deciding(ctx, as_task)),
            _ => Box::pin(broken(ctx)),
        }
    }
}

fn server() -> Server {
    Server::builder("hold", "1")
        .tool(Handmade("deciding"))
        .tool(Handmade("broken"))
        .build()
        .unwrap()
}

async fn connect(server: &Server, era: ClientEra) -> Client {
    let options = ClientOptions {
        era,
        ..ClientOptions::default()
    };
    memory::connect_with(server, options).await.unwrap()
}

/// The next event of a call started as a task.
async fn next(call: &mut mcp_core::ToolCall) -> StartedEvent {
    tokio::time::timeout(LIMIT, call.next_started())
        .await
        .expect("timed out")
        .expect("the call ended without an answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_call_reports_on_its_request_and_ends_plainly_or_becomes_a_task() {
    let server = server();
    let client = connect(&server, ClientEra::Stateless).await;
    // Held, then a result: a plain answer, its progress on the request.
    let mut call = client
        .call_tool_streaming_as_task("deciding", json!({}), None)
        .await
        .unwrap();
    match next(&mut call).await {
        StartedEvent::Progress(p) => assert_eq!(p.message.as_deref(), Some("deciding")),
        other => panic!("{other:?}"),
    }
    STEP.add_permits(1);
    match next(&mut call).await {
        StartedEvent::Done(Ok(Started::Done(result))) => assert_eq!(result.text(), "early"),
        other => panic!("{other:?}"),
    }
    // Held, then let go: a task from then on.
    let mut call = client
        .call_tool_streaming_as_task("deciding", json!({"task": true}), None)
        .await
        .unwrap();
    match next(&mut call).await {
        StartedEvent::Progress(p) => assert_eq!(p.message.as_deref(), Some("deciding")),
        other => panic!("{other:?}"),
    }
    STEP.add_permits(1);
    let task = match next(&mut call).await {
        StartedEvent::Done(Ok(Started::Task(task))) => task,
        other => panic!("{other:?}"),
    };
    tokio::time::timeout(LIMIT, async {
        while client
            .get_task(&task.task_id)
            .await
            .unwrap()
            .status_message
            .as_deref()
            != Some("working")
        {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("timed out waiting for the status message");
    STEP.add_permits(1);
    let result = tokio::time::timeout(LIMIT, client.task_result(&task.task_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.text(), "late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ending_with_a_json_rpc_error_fails_its_task_with_it() {
    let server = server();
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let client = connect(&server, era).await;
        let task = match client
            .call_tool_as_task("broken", json!({}), None)
            .await
            .unwrap()
        {
            Started::Task(task) => task,
            Started::Done(r) => panic!("{era:?}: expected a task, got {r:?}"),
        };
        let error = tokio::time::timeout(LIMIT, client.task_result(&task.task_id))
            .await
            .unwrap()
            .unwrap_err();
        match error {
            RequestError::Rpc(e) => {
                assert_eq!(e.code, ErrorCode::SERVER_ERROR, "{era:?}");
                assert_eq!(e.message, "the far side went away", "{era:?}");
            }
            other => panic!("{era:?}: {other:?}"),
        }
        let got = client.get_task(&task.task_id).await.unwrap();
        assert_eq!(got.status, TaskStatus::Failed, "{era:?}");
    }
}
