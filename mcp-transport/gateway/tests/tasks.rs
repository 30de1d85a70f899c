//! Tasks through the gateway: two servers mounted (`a` and `b`, each a real server in
//! process, spoken to in 2026-07-28 with the tasks extension), called by clients of the
//! gateway in both eras. A task-augmented call becomes a task of the gateway's that follows
//! the server's: `tasks/get` reports it, `tasks/result` gives its result, `tasks/cancel`
//! cancels the server's task (its tool is dropped), the server's questions reach the caller,
//! its progress stays live (in lockstep: each step waits for the test, which releases it only
//! once the progress reached the client), ids never cross mounts and unknown ids get
//! `-32602`, and a server that goes away fails the task with `-32000`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, RequestHandler, Started, TaskInfo};
use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::protocol::{ClientCapabilities, methods};
use mcp_core::task::{TaskConfig, TaskStatus};
use mcp_core::{Client, Context, Message, RequestError, RequestId, Server, memory, tool};
use mcp_gateway::{Gateway, Remote, RemoteOptions, Upstream};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

/// Bounds every wait: only a lost message or a deadlock reaches it.
const LIMIT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Released by the lockstep test, one step at a time.
static STEP: Semaphore = Semaphore::const_new(0);
/// Released by the test that reads the server's task id.
static WHO: Semaphore = Semaphore::const_new(0);
/// The tags of `hold` calls whose futures were dropped.
static DROPPED: Mutex<Option<mpsc::UnboundedSender<String>>> = Mutex::new(None);

/// Reports `step i` for each step, each time waiting for the test's release.
#[tool(task = "optional")]
async fn steps(steps: u64) -> String {
    for i in 1..=steps {
        yield_!(mcp_core::Progress::step(i, steps, format!("step {i}")));
        STEP.acquire().await.unwrap().forget();
    }
    format!("stepped {steps}")
}

struct Tagged(String);

impl Drop for Tagged {
    fn drop(&mut self) {
        if let Some(tx) = DROPPED.lock().unwrap().as_ref() {
            let _ = tx.send(std::mem::take(&mut self.0));
        }
    }
}

/// Says `holding <tag>`, then waits until its future is dropped (which it reports).
#[tool(task = "required")]
async fn hold(tag: String) -> String {
    let _guard = Tagged(tag.clone());
    yield_!(format!("holding {tag}"));
    std::future::pending::<()>().await;
    unreachable!()
}

/// Names the task it runs as (on the server behind the gateway), once released.
#[tool(task = "optional")]
async fn whoami(ctx: Context) -> String {
    yield_!("asked who I am");
    WHO.acquire().await.unwrap().forget();
    format!("task {}", ctx.task_id().unwrap_or("none"))
}

/// Asks the user's name during the task, then greets.
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

/// Says its task's time to live, in milliseconds, once it runs as a task.
#[tool(task = "optional")]
async fn lifetime(ctx: Context) -> String {
    yield_!("a task now");
    let ttl = ctx.hold_task().and_then(|hold| hold.ttl());
    format!("ttl {:?}", ttl.map(|t| t.as_millis()))
}

/// Answers at once (the server makes no task of it).
#[tool(task = "optional")]
async fn quick() -> String {
    "quick".into()
}

/// A server behind the gateway; it suggests a short poll interval, which only speeds the
/// tests up (nothing waits on time).
fn downstream() -> Server {
    downstream_builder().build().unwrap()
}

fn downstream_builder() -> mcp_core::ServerBuilder {
    Server::builder("down", "1")
        .tool(steps)
        .tool(hold)
        .tool(whoami)
        .tool(ask_name)
        .tool(quick)
        .tool(lifetime)
        .task_config(TaskConfig::default().poll_interval(Duration::from_millis(10)))
}

/// The gateway with two servers, `a` and `b`, and the remotes.
async fn gateway() -> (Server, Remote, Remote) {
    let a = start_ready("a").await;
    let b = start_ready("b").await;
    let gateway = Gateway::from_remotes(
        "gateway",
        vec![("a".to_owned(), a.clone()), ("b".to_owned(), b.clone())],
    )
    .server()
    .unwrap();
    gateway.start_plugins().await.unwrap();
    (gateway, a, b)
}

async fn start_ready(name: &str) -> Remote {
    start_server(name, downstream()).await
}

async fn start_server(name: &str, server: Server) -> Remote {
    let remote = Remote::start(name, Upstream::InProcess(server), RemoteOptions::default());
    within("ready", remote.ready(LIMIT)).await.unwrap();
    remote
}

/// A client of the gateway in `era` that declares elicitation and answers "Ada".
async fn connect(gateway: &Server, era: ClientEra) -> Client {
    let handler: RequestHandler = Arc::new(|_request| {
        Box::pin(async {
            Ok(json!({"action": "accept", "content": {"name": "Ada"}})
                .as_object()
                .unwrap()
                .clone())
        })
    });
    let options = ClientOptions {
        era,
        capabilities: ClientCapabilities {
            elicitation: Some(Default::default()),
            ..Default::default()
        },
        on_request: Some(handler),
        ..ClientOptions::default()
    };
    memory::connect_with(gateway, options).await.unwrap()
}

/// Calls `name` as a task, which it must become.
async fn start_task(client: &Client, name: &str, arguments: Value) -> TaskInfo {
    match client
        .call_tool_as_task(name, arguments, None)
        .await
        .unwrap()
    {
        Started::Task(t) => t,
        Started::Done(r) => panic!("expected a task, got the result {r:?}"),
    }
}

/// Runs `name` (an `ask_name` behind the gateway) as a task for a client of each era, who
/// answers its question.
async fn asks_and_greets(gateway: &Server, name: &str) {
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let client = connect(gateway, era).await;
        let t = start_task(&client, name, json!({})).await;
        let result = within("the result", client.task_result(&t.task_id))
            .await
            .unwrap();
        assert_eq!(result.text(), "Hello, Ada!", "{era:?}");
        assert_eq!(
            client.get_task(&t.task_id).await.unwrap().status,
            TaskStatus::Completed
        );
    }
}

fn code(e: RequestError) -> i64 {
    match e {
        RequestError::Rpc(e) => e.code.0,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

/// Polls the gateway until the task says `message` (the gateway follows the server's task).
async fn until_message(client: &Client, id: &str, message: &str) -> TaskInfo {
    within(&format!("status message {message:?}"), async {
        loop {
            let t = client.get_task(id).await.unwrap();
            if t.status_message.as_deref() == Some(message) {
                return t;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
}

/// A 2025-11-25 session spoken to message by message, to see each notification.
struct Raw {
    tx: mpsc::Sender<Message>,
    rx: mpsc::Receiver<Message>,
    next_id: i64,
}

impl Raw {
    async fn open(gateway: &Server) -> Raw {
        let channel = memory::serve(gateway);
        let mut raw = Raw {
            tx: channel.outgoing,
            rx: channel.incoming,
            next_id: 0,
        };
        let init = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}
        });
        raw.request(methods::INITIALIZE, init).await.unwrap();
        let note = Notification::new(methods::INITIALIZED, None);
        raw.tx.send(note.into()).await.unwrap();
        raw
    }

    /// Sends a request and reads until its answer, skipping what comes meanwhile.
    async fn request(&mut self, method: &str, params: Value) -> Result<Value, i64> {
        self.next_id += 1;
        let id = RequestId::Number(self.next_id);
        let params = params.as_object().cloned();
        let request = Request::new(id.clone(), method, params);
        self.tx.send(request.into()).await.unwrap();
        loop {
            match self.next().await {
                Message::Response(r) if r.id == id => {
                    return Ok(Value::Object(r.result.into_object()));
                }
                Message::Error(e) if e.id.as_ref() == Some(&id) => return Err(e.error.code),
                _ => {}
            }
        }
    }

    async fn next(&mut self) -> Message {
        within("a message from the gateway", self.rx.recv())
            .await
            .expect("the gateway closed the session")
    }

    /// Reads until a progress notification for `token`, skipping the rest.
    async fn progress(&mut self, token: &str) -> Value {
        loop {
            if let Message::Notification(n) = self.next().await
                && n.method == methods::PROGRESS
            {
                let params = Value::Object(n.params.unwrap().into_object());
                if params["progressToken"] == token {
                    return params;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_task_reports_progress_in_lockstep_and_tasks_result_gives_its_result() {
    let (gateway, _a, _b) = gateway().await;
    let mut raw = Raw::open(&gateway).await;
    let call = json!({
        "name": "a_steps",
        "arguments": {"steps": 3},
        "task": {"ttl": 60000},
        "_meta": {"progressToken": "p"}
    });
    let created = raw.request(methods::TOOLS_CALL, call).await.unwrap();
    let id = created["task"]["taskId"].as_str().unwrap().to_owned();
    assert_eq!(created["task"]["status"], "working");
    for i in 1..=3 {
        // The tool waits for this step's release, which comes only once its progress is here.
        let p = raw.progress("p").await;
        assert_eq!(p["message"], format!("step {i}"));
        assert_eq!(
            p["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
            id.as_str()
        );
        let got = raw
            .request(methods::TASKS_GET, json!({"taskId": id}))
            .await
            .unwrap();
        assert_eq!(got["taskId"], id.as_str());
        assert_eq!(got["status"], "working");
        assert_eq!(got["statusMessage"], format!("step {i}"));
        STEP.add_permits(1);
    }
    let result = raw
        .request(methods::TASKS_RESULT, json!({"taskId": id}))
        .await
        .unwrap();
    assert_eq!(result["content"][0]["text"], "stepped 3");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    let got = raw
        .request(methods::TASKS_GET, json!({"taskId": id}))
        .await
        .unwrap();
    assert_eq!(got["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_task_cancels_the_servers_task_and_only_that_one() {
    let (tx, mut dropped) = mpsc::unbounded_channel();
    *DROPPED.lock().unwrap() = Some(tx);
    let (gateway, _a, _b) = gateway().await;
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let client = connect(&gateway, era).await;
        let on_a = start_task(&client, "a_hold", json!({"tag": "a"})).await;
        let on_b = start_task(&client, "b_hold", json!({"tag": "b"})).await;
        assert_ne!(on_a.task_id, on_b.task_id);
        let seen = until_message(&client, &on_a.task_id, "holding a").await;
        assert_eq!(seen.status, TaskStatus::Working);
        until_message(&client, &on_b.task_id, "holding b").await;
        client.cancel_task(&on_a.task_id).await.unwrap();
        // The server's task was cancelled: its tool's future is dropped.
        assert_eq!(next_drop(&mut dropped).await, "a");
        assert_eq!(
            client.get_task(&on_a.task_id).await.unwrap().status,
            TaskStatus::Cancelled
        );
        // The other mount's task goes on.
        assert_eq!(
            client.get_task(&on_b.task_id).await.unwrap().status,
            TaskStatus::Working
        );
        client.cancel_task(&on_b.task_id).await.unwrap();
        assert_eq!(next_drop(&mut dropped).await, "b");
    }
}

/// The next drop of a `hold` of this test (tagged `a` or `b`; other tests' tags are skipped).
async fn next_drop(dropped: &mut mpsc::UnboundedReceiver<String>) -> String {
    within("a drop", async {
        loop {
            let tag = dropped.recv().await.unwrap();
            if tag == "a" || tag == "b" {
                return tag;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_ids_are_the_gateways_and_unknown_ones_get_invalid_params() {
    let (gateway, _a, _b) = gateway().await;
    let client = connect(&gateway, ClientEra::Stateless).await;
    let ours = start_task(&client, "a_whoami", json!({})).await;
    until_message(&client, &ours.task_id, "asked who I am").await;
    WHO.add_permits(1);
    let result = within("the result", client.task_result(&ours.task_id))
        .await
        .unwrap();
    let text = result.text();
    let theirs = text.strip_prefix("task ").unwrap().to_owned();
    // The server's task is another, and its id means nothing to the gateway: no id of a
    // mount reaches the gateway's clients, nor does one of theirs reach a mount.
    assert_ne!(theirs, ours.task_id);
    assert_ne!(theirs, "none");
    assert_eq!(code(client.get_task(&theirs).await.unwrap_err()), -32602);
    assert_eq!(code(client.cancel_task(&theirs).await.unwrap_err()), -32602);
    assert_eq!(
        code(client.get_task("no-such-task").await.unwrap_err()),
        -32602
    );
    // A session's task is that session's (2025-11-25 scoping, as on the server).
    let first = connect(&gateway, ClientEra::Stateful).await;
    let second = connect(&gateway, ClientEra::Stateful).await;
    let held = start_task(&first, "b_hold", json!({"tag": "scoped"})).await;
    assert_eq!(
        code(second.get_task(&held.task_id).await.unwrap_err()),
        -32602
    );
    assert_eq!(
        code(second.cancel_task(&held.task_id).await.unwrap_err()),
        -32602
    );
    first.cancel_task(&held.task_id).await.unwrap();
}

/// A 2025-11-25 server sends a status notification for each change of its task: the gateway
/// follows the task from them, not from `tasks/get` at the interval the server suggests.
/// The server here suggests an hour, so a gateway that only polled would leave each step
/// unseen and the test, which releases a step only once its status reached the caller, would
/// wait forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_25_servers_status_notifications_drive_the_gateways_task() {
    let old = downstream_builder()
        .eras(mcp_core::Eras::Stateful)
        .task_config(TaskConfig::default().poll_interval(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let remote = start_server("slow", old).await;
    let gateway = Gateway::from_remotes("gateway", vec![("slow".to_owned(), remote)])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    let mut raw = Raw::open(&gateway).await;
    let call = json!({
        "name": "slow_steps",
        "arguments": {"steps": 3},
        "task": {},
        "_meta": {"progressToken": "p"}
    });
    let created = raw.request(methods::TOOLS_CALL, call).await.unwrap();
    let id = created["task"]["taskId"].as_str().unwrap().to_owned();
    for i in 1..=3 {
        let p = raw.progress("p").await;
        assert_eq!(p["message"], format!("step {i}"));
        STEP.add_permits(1);
    }
    let result = raw
        .request(methods::TASKS_RESULT, json!({"taskId": id}))
        .await
        .unwrap();
    assert_eq!(result["content"][0]["text"], "stepped 3");
}

/// A 2026-07-28 server is asked to tell each change of its task on a `subscriptions/listen`
/// request naming it: the gateway follows the task from those notifications. The server here
/// suggests polling once an hour, so a gateway that only polled would never see a step, and
/// the test, which releases each step only once the gateway's task shows it, would wait
/// forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_servers_task_notifications_drive_the_gateways_task() {
    let modern = downstream_builder()
        .eras(mcp_core::Eras::Stateless)
        .task_config(TaskConfig::default().poll_interval(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let remote = start_server("told", modern).await;
    let gateway = Gateway::from_remotes("gateway", vec![("told".to_owned(), remote)])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let client = connect(&gateway, era).await;
        let task = start_task(&client, "told_steps", json!({"steps": 3})).await;
        for i in 1..=3 {
            until_message(&client, &task.task_id, &format!("step {i}")).await;
            STEP.add_permits(1);
        }
        let result = within("the result", client.task_result(&task.task_id))
            .await
            .unwrap();
        assert_eq!(result.text(), "stepped 3", "{era:?}");
    }
}

/// A 2025-11-25 server's task is asked for the time to live of the gateway's task: what the
/// caller asked, or the gateway's default (1 h) when it asked nothing, as a 2026-07-28 caller
/// cannot. (In 2026-07-28 no client asks a time to live, so none goes down to such a server.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_task_lives_as_long_as_the_gateways() {
    let old = downstream_builder()
        .eras(mcp_core::Eras::Stateful)
        .build()
        .unwrap();
    let remote = start_server("old", old).await;
    let gateway = Gateway::from_remotes("gateway", vec![("old".to_owned(), remote)])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    for (era, asked, expected) in [
        (
            ClientEra::Stateful,
            Some(Duration::from_secs(45)),
            "ttl Some(45000)",
        ),
        (ClientEra::Stateful, None, "ttl Some(3600000)"),
        (ClientEra::Stateless, None, "ttl Some(3600000)"),
    ] {
        let client = connect(&gateway, era).await;
        let task = match client
            .call_tool_as_task("old_lifetime", json!({}), asked)
            .await
            .unwrap()
        {
            Started::Task(t) => t,
            Started::Done(r) => panic!("expected a task, got {r:?}"),
        };
        let result = within("the result", client.task_result(&task.task_id))
            .await
            .unwrap();
        assert_eq!(result.text(), expected, "{era:?}, asked {asked:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_question_during_a_task_reaches_the_caller_in_both_eras() {
    let (gateway, _a, _b) = gateway().await;
    asks_and_greets(&gateway, "b_ask_name").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_server_answers_at_once_is_answered_at_once() {
    let (gateway, _a, _b) = gateway().await;
    let client = connect(&gateway, ClientEra::Stateless).await;
    match client
        .call_tool_as_task("a_quick", json!({}), None)
        .await
        .unwrap()
    {
        Started::Done(result) => assert_eq!(result.text(), "quick"),
        Started::Task(t) => panic!("the server answered at once, the gateway made task {t:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_going_away_fails_its_tasks_with_a_clear_error() {
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let (gateway, a, _b) = gateway().await;
        let client = connect(&gateway, era).await;
        let t = start_task(&client, "a_hold", json!({"tag": "gone"})).await;
        until_message(&client, &t.task_id, "holding gone").await;
        a.shutdown().await;
        let error = within("the result", client.task_result(&t.task_id))
            .await
            .unwrap_err();
        let RequestError::Rpc(error) = error else {
            panic!("{era:?}: expected a JSON-RPC error, got {error:?}");
        };
        assert_eq!(error.code.0, -32000, "{era:?}: {error:?}");
        assert!(
            error.message.contains("mounted server `a`"),
            "{era:?}: {}",
            error.message
        );
        assert_eq!(
            client.get_task(&t.task_id).await.unwrap().status,
            TaskStatus::Failed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_25_server_behind_runs_the_task_for_a_caller_of_either_era() {
    // A server of the stateful era only: the gateway speaks `initialize` to it, sends `task`
    // with the call, relays its question (a request naming its task) and takes the result
    // from `tasks/result`.
    let old = downstream_builder()
        .eras(mcp_core::Eras::Stateful)
        .build()
        .unwrap();
    let remote = start_server("old", old).await;
    let gateway = Gateway::from_remotes("gateway", vec![("old".to_owned(), remote)])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    asks_and_greets(&gateway, "old_ask_name").await;
    // Two tasks asking at once: each request names its task, so each reaches its caller
    // (without the name the gateway could not tell whose it is, and would refuse both).
    let client = connect(&gateway, ClientEra::Stateful).await;
    let first = start_task(&client, "old_steps", json!({"steps": 1})).await;
    until_message(&client, &first.task_id, "step 1").await;
    let second = start_task(&client, "old_ask_name", json!({})).await;
    let greeting = within("the result", client.task_result(&second.task_id))
        .await
        .unwrap();
    assert_eq!(greeting.text(), "Hello, Ada!");
    STEP.add_permits(1);
    let stepped = within("the result", client.task_result(&first.task_id))
        .await
        .unwrap();
    assert_eq!(stepped.text(), "stepped 1");
}
