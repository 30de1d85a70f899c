//! Tasks in both eras, in memory: a generator tool run as a task (its yields become the
//! status message, its return value the result), waiting, listing, cancelling (the tool's
//! future is dropped), scoping to the caller, and a task that outlives the client that made
//! it. Steps are released by the test (semaphores), never by timing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, RequestHandler, Started, TaskInfo};
use mcp_core::protocol::{ClientCapabilities, TaskSupport};
use mcp_core::task::TaskStatus;
use mcp_core::{Client, Context, RequestError, Server, memory, tool};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

const LIMIT: Duration = Duration::from_secs(20);

/// Released by the tests, one step at a time (each test has tools of its own).
static STEP: Semaphore = Semaphore::const_new(0);
static STEP_MODERN: Semaphore = Semaphore::const_new(0);
static DROPPED: Notify = Notify::const_new();

/// Counts to three, one step per release.
#[tool(task = "optional")]
async fn count(ctx: Context) -> String {
    ctx.set_total(3.0);
    for i in 1..=3 {
        yield_!(format!("step {i} of 3"));
        STEP.acquire().await.unwrap().forget();
    }
    "counted to 3".into()
}

/// As `count`, for the 2026-07-28 tests.
#[tool(task = "optional")]
async fn count_modern() -> String {
    for i in 1..=2 {
        yield_!(format!("modern step {i}"));
        STEP_MODERN.acquire().await.unwrap().forget();
    }
    "counted to 2".into()
}

struct OnDrop;
impl Drop for OnDrop {
    fn drop(&mut self) {
        DROPPED.notify_one();
    }
}

/// Waits forever; tells the test when its future is dropped.
#[tool(task = "required")]
async fn forever() -> String {
    let _guard = OnDrop;
    yield_!("waiting forever");
    std::future::pending::<()>().await;
    unreachable!()
}

/// Asks the user's name, then greets.
#[tool(task = "optional")]
async fn ask_name(ctx: Context) -> Result<String, RequestError> {
    yield_!("asking");
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let answer = ctx
        .elicit("Who?", schema.as_object().unwrap().clone())
        .await?;
    let name = answer.content.unwrap()["name"].as_str().unwrap().to_owned();
    Ok(format!("Hello, {name}!"))
}

/// Never a task.
#[tool]
async fn plain() -> String {
    "plain".into()
}

fn server() -> Server {
    Server::builder("tasks", "1")
        .tool(count)
        .tool(count_modern)
        .tool(forever)
        .tool(ask_name)
        .tool(plain)
        .build()
        .unwrap()
}

fn options(era: ClientEra) -> ClientOptions {
    let handler: RequestHandler = Arc::new(|_request| {
        Box::pin(async {
            Ok(json!({"action": "accept", "content": {"name": "Ada"}})
                .as_object()
                .unwrap()
                .clone())
        })
    });
    ClientOptions {
        era,
        capabilities: ClientCapabilities {
            elicitation: Some(Default::default()),
            ..Default::default()
        },
        on_request: Some(handler),
        ..ClientOptions::default()
    }
}

async fn connect(server: &Server, era: ClientEra) -> Client {
    memory::connect_with(server, options(era)).await.unwrap()
}

fn task(started: Started) -> TaskInfo {
    match started {
        Started::Task(t) => t,
        Started::Done(r) => panic!("expected a task, got the result {r:?}"),
    }
}

/// Polls until the task says `message` (the runner stores it asynchronously).
async fn until_message(client: &Client, id: &str, message: &str) -> TaskInfo {
    loop {
        let t = client.get_task(id).await.unwrap();
        if t.status_message.as_deref() == Some(message) {
            return t;
        }
        tokio::task::yield_now().await;
    }
}

fn code(e: RequestError) -> i64 {
    match e {
        RequestError::Rpc(e) => e.code.0,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_2025_task_reports_its_yields_and_ends_with_its_result() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let client = connect(&server, ClientEra::Stateful).await;
        let caps = client.server().capabilities.tasks.clone().unwrap();
        assert!(caps.contains_key("list") && caps.contains_key("cancel"));
        assert_eq!(caps["requests"], json!({"tools": {"call": {}}}));
        let tools = client.list_tools().await.unwrap();
        let support = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .unwrap()
                .task_support()
        };
        assert_eq!(support("count"), TaskSupport::Optional);
        assert_eq!(support("forever"), TaskSupport::Required);
        assert_eq!(support("plain"), TaskSupport::Forbidden);

        let t = task(
            client
                .call_tool_as_task("count", json!({}), Some(Duration::from_secs(90)))
                .await
                .unwrap(),
        );
        assert_eq!(t.ttl, Some(Duration::from_secs(90)));
        until_message(&client, &t.task_id, "step 1 of 3").await;
        STEP.add_permits(1);
        let seen = until_message(&client, &t.task_id, "step 2 of 3").await;
        assert_eq!(seen.status, TaskStatus::Working);
        let listed = client.list_tasks().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].task_id, t.task_id);
        STEP.add_permits(2);
        let result = client.task_result(&t.task_id).await.unwrap();
        assert_eq!(result.text(), "counted to 3");
        let done = client.get_task(&t.task_id).await.unwrap();
        assert_eq!(done.status, TaskStatus::Completed);
        // 2025-11-25: a finished task cannot be cancelled.
        assert_eq!(
            code(client.cancel_task(&t.task_id).await.unwrap_err()),
            -32602
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn cancelling_a_task_drops_its_tool_and_it_stays_cancelled() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let client = connect(&server, ClientEra::Stateful).await;
        let dropped = DROPPED.notified();
        let t = task(
            client
                .call_tool_as_task("forever", json!({}), None)
                .await
                .unwrap(),
        );
        until_message(&client, &t.task_id, "waiting forever").await;
        client.cancel_task(&t.task_id).await.unwrap();
        // The runner sees the cancellation in the store and drops the tool's future.
        dropped.await;
        let after = client.get_task(&t.task_id).await.unwrap();
        assert_eq!(after.status, TaskStatus::Cancelled);
        match client.task_result(&t.task_id).await {
            Err(RequestError::Rpc(e)) => assert!(e.message.contains("cancelled"), "{e}"),
            other => panic!("a cancelled task has no result: {other:?}"),
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn task_support_is_enforced_in_the_2025_era() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let client = connect(&server, ClientEra::Stateful).await;
        // Required: a plain call is refused with -32601.
        let e = client.call_tool("forever", json!({})).await.unwrap_err();
        assert_eq!(code(e), -32601);
        // Forbidden: a task-augmented call is refused with -32601.
        let e = client
            .call_tool_as_task("plain", json!({}), None)
            .await
            .unwrap_err();
        assert_eq!(code(e), -32601);
        // Optional: a plain call is a plain call.
        assert_eq!(
            client.call_tool("plain", json!({})).await.unwrap().text(),
            "plain"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn nobody_reads_or_cancels_another_sessions_task() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let owner = connect(&server, ClientEra::Stateful).await;
        let other = connect(&server, ClientEra::Stateful).await;
        let t = task(
            owner
                .call_tool_as_task("ask_name", json!({}), None)
                .await
                .unwrap(),
        );
        assert_eq!(code(other.get_task(&t.task_id).await.unwrap_err()), -32602);
        assert_eq!(
            code(other.cancel_task(&t.task_id).await.unwrap_err()),
            -32602
        );
        assert!(other.list_tasks().await.unwrap().is_empty());
        // The owner's task asked its question through the session and finishes.
        let result = owner.task_result(&t.task_id).await.unwrap();
        assert_eq!(result.text(), "Hello, Ada!");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_2026_task_outlives_its_client_and_another_client_gets_its_result() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let first = connect(&server, ClientEra::Stateless).await;
        let described = first.server();
        let extensions = described.capabilities.extensions.clone().unwrap();
        assert!(extensions.contains_key("io.modelcontextprotocol/tasks"));
        assert!(described.capabilities.tasks.is_none());
        let t = task(
            first
                .call_tool_as_task("count_modern", json!({}), None)
                .await
                .unwrap(),
        );
        assert_eq!(t.status, TaskStatus::Working);
        assert_eq!(t.status_message.as_deref(), Some("modern step 1"));
        drop(first);
        // A new client (a reconnect) polls the task by id.
        let second = connect(&server, ClientEra::Stateless).await;
        STEP_MODERN.add_permits(1);
        until_message(&second, &t.task_id, "modern step 2").await;
        STEP_MODERN.add_permits(1);
        let result = second.task_result(&t.task_id).await.unwrap();
        assert_eq!(result.text(), "counted to 2");
        // A plain call of a task tool without the extension stays a plain call.
        let plain = second.call_tool("plain", json!({})).await.unwrap();
        assert_eq!(plain.text(), "plain");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_2026_task_asks_for_input_and_the_client_answers_it() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let client = connect(&server, ClientEra::Stateless).await;
        let t = task(
            client
                .call_tool_as_task("ask_name", json!({}), None)
                .await
                .unwrap(),
        );
        let waiting = loop {
            let now = client.get_task(&t.task_id).await.unwrap();
            if now.status == TaskStatus::InputRequired {
                break now;
            }
            tokio::task::yield_now().await;
        };
        let (key, request) = waiting.input_requests.iter().next().unwrap();
        assert_eq!(request["method"], "elicitation/create");
        assert!(key.starts_with("elicitation-"), "{key}");
        // task_result answers the input request with the client's handler.
        let result = client.task_result(&t.task_id).await.unwrap();
        assert_eq!(result.text(), "Hello, Ada!");
        // Without the extension, task methods are refused with -32021.
        let e = client
            .request(
                "tasks/get",
                Some(json!({"taskId": t.task_id}).as_object().unwrap().clone()),
            )
            .await
            .unwrap_err();
        assert_eq!(code(e), -32021);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn status_notifications_follow_a_2025_task() {
    tokio::time::timeout(LIMIT, async {
        let server = server();
        let client = connect(&server, ClientEra::Stateful).await;
        let mut notes = client.notifications();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let t = task(
            client
                .call_tool_as_task("ask_name", json!({}), None)
                .await
                .unwrap(),
        );
        let result = client.task_result(&t.task_id).await.unwrap();
        assert_eq!(result.text(), "Hello, Ada!");
        // input_required while the question was out, then working, then completed.
        while seen.lock().unwrap().last().map(String::as_str) != Some("completed") {
            let note = notes.recv().await.unwrap();
            if note.method == "notifications/tasks/status" {
                let params = note.params.unwrap();
                assert_eq!(params["taskId"], t.task_id.as_str());
                seen.lock()
                    .unwrap()
                    .push(params["status"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(
            *seen.lock().unwrap(),
            ["input_required", "working", "completed"]
        );
    })
    .await
    .unwrap();
}

static STEP_LISTEN: Semaphore = Semaphore::const_new(0);

/// Reports once, then ends when the test says so.
#[tool(task = "optional")]
async fn listened() -> String {
    yield_!("listened: working");
    STEP_LISTEN.acquire().await.unwrap().forget();
    "listened: done".into()
}

/// `_meta` of a 2026-07-28 request, with or without the tasks extension.
fn modern_meta(tasks: bool) -> serde_json::Value {
    let caps = if tasks {
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    } else {
        json!({})
    };
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
    })
}

#[tokio::test]
async fn a_listen_stream_follows_the_callers_tasks_until_they_end() {
    use mcp_core::jsonrpc::Message;
    use mcp_core::{Outbox, ServerSession};

    tokio::time::timeout(LIMIT, async {
        let server = Server::builder("tasks", "1")
            .tool(listened)
            .build()
            .unwrap();
        let session = ServerSession::stateless(&server);
        let (reply, mut out) = Outbox::channel(16);
        let send = |v: serde_json::Value| {
            let session = session.clone();
            let reply = reply.clone();
            async move {
                session
                    .receive(Message::from_value(v).unwrap(), &reply)
                    .await
            }
        };
        send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "listened", "_meta": modern_meta(true)}}))
        .await;
        let created = serde_json::to_value(&out.recv().await.unwrap().message).unwrap();
        assert_eq!(created["result"]["resultType"], "task", "{created}");
        let id = created["result"]["taskId"].as_str().unwrap().to_owned();

        // Without the extension, asking for task notifications is -32021.
        send(
            json!({"jsonrpc": "2.0", "id": 2, "method": "subscriptions/listen",
            "params": {"_meta": modern_meta(false), "notifications": {"taskIds": [id]}}}),
        )
        .await;
        let refused = serde_json::to_value(&out.recv().await.unwrap().message).unwrap();
        assert_eq!(refused["error"]["code"], -32021, "{refused}");

        // With it: only the caller's tasks are agreed (an unknown id is left out).
        send(
            json!({"jsonrpc": "2.0", "id": 3, "method": "subscriptions/listen",
            "params": {"_meta": modern_meta(true),
                "notifications": {"taskIds": [id, "not-a-task"]}}}),
        )
        .await;
        let mut messages = Vec::new();
        while messages.len() < 2 {
            let o = out.recv().await.unwrap();
            messages.push(serde_json::to_value(&o.message).unwrap());
        }
        assert_eq!(
            messages[0]["method"],
            "notifications/subscriptions/acknowledged"
        );
        assert_eq!(
            messages[0]["params"]["notifications"]["taskIds"],
            json!([id])
        );
        assert_eq!(messages[1]["method"], "notifications/tasks");
        assert_eq!(messages[1]["params"]["taskId"], id.as_str());
        assert_eq!(messages[1]["params"]["status"], "working");
        STEP_LISTEN.add_permits(1);
        let done = loop {
            let v = serde_json::to_value(&out.recv().await.unwrap().message).unwrap();
            assert_eq!(v["method"], "notifications/tasks", "{v}");
            if v["params"]["status"] == "completed" {
                break v;
            }
        };
        assert_eq!(
            done["params"]["result"]["content"][0]["text"],
            "listened: done"
        );
        assert_eq!(
            done["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            3
        );
    })
    .await
    .unwrap();
}

static STEP_FOLLOW: Semaphore = Semaphore::const_new(0);

/// Two steps, each after the test's release.
#[tool(task = "optional")]
async fn followed() -> String {
    for i in 1..=2 {
        yield_!(format!("followed step {i}"));
        STEP_FOLLOW.acquire().await.unwrap().forget();
    }
    "followed to the end".into()
}

/// `Client::follow_task` (2026-07-28): the task's state now, then each change, as
/// `notifications/tasks`, in lockstep (a step is released only once its notification is
/// here), the last carrying the result; refused for a task that is not the caller's, and in
/// a session.
#[tokio::test]
async fn follow_task_delivers_each_change_of_a_2026_task() {
    tokio::time::timeout(LIMIT, async {
        let server = Server::builder("follow", "1")
            .tool(followed)
            .build()
            .unwrap();
        let client = connect(&server, ClientEra::Stateless).await;
        let mut notes = client.notifications();
        let t = task(
            client
                .call_tool_as_task("followed", json!({}), None)
                .await
                .unwrap(),
        );
        let follow = client.follow_task(&t.task_id).await.unwrap();
        let mut next = async || loop {
            let note = notes.recv().await.unwrap();
            if note.method == "notifications/tasks" {
                let task = TaskInfo::from_object(&note.params.unwrap().into()).unwrap();
                assert_eq!(task.task_id, t.task_id);
                return task;
            }
        };
        assert_eq!(
            next().await.status_message.as_deref(),
            Some("followed step 1")
        );
        STEP_FOLLOW.add_permits(1);
        assert_eq!(
            next().await.status_message.as_deref(),
            Some("followed step 2")
        );
        STEP_FOLLOW.add_permits(1);
        let done = next().await;
        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(done.result.unwrap().text(), "followed to the end");
        drop(follow);

        assert!(matches!(
            client.follow_task("no-such-task").await,
            Err(RequestError::Unsupported(_))
        ));
        let session = connect(&server, ClientEra::Stateful).await;
        assert!(matches!(
            session.follow_task(&t.task_id).await,
            Err(RequestError::Unsupported(_))
        ));
    })
    .await
    .unwrap();
}
