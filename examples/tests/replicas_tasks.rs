//! Tasks across two replicas behind HAProxy round-robin (no stickiness) sharing a real
//! redis-server (see `replicas/deployment.rs`): a task created through one replica is read,
//! awaited and cancelled through the other (both eras); a 2025-era task's status
//! notifications and requests to the client reach a GET stream on the replica that does not
//! run it, and the client's answer reaches the runner; a task whose replica is killed turns
//! `failed` once its lease lapsed, with nobody asking; the guide's replica listing shares tasks.

mod common;
#[path = "replicas/deployment.rs"]
mod deployment;

use std::net::SocketAddr;
use std::process::Command as StdCommand;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TempDir, wait_for_file};
use deployment::{Deployment, LIMIT, stateful_client, stateful_client_with};
use mcp_core::client::{Client, ClientEra, Started, TaskInfo};
use mcp_core::error::RequestError;
use mcp_core::task::TaskStatus;
use mcp_transport::http_client::{self, HttpClientOptions, HttpMode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A 2026-07-28 client of one replica (no balancer: the test chooses the replica).
async fn modern_client(addr: &str) -> Client {
    let mut options = HttpClientOptions {
        mode: HttpMode::Streamable,
        ..HttpClientOptions::default()
    };
    options.client.era = ClientEra::Stateless;
    let url = format!("http://{addr}/mcp");
    tokio::time::timeout(LIMIT, http_client::connect(&url, options))
        .await
        .expect("the discovery ends")
        .expect("the client connects to the replica")
}

/// Starts `tool` as a task through `client`.
async fn start_task(client: &Client, tool: &str, arguments: serde_json::Value) -> String {
    match client.call_tool_as_task(tool, arguments, None).await {
        Ok(Started::Task(task)) => task.task_id,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// Reads the task through `client` until `done` holds (the state is written by another
/// replica: polling is how a client learns of it), within the test's limit.
async fn task_until(client: &Client, id: &str, done: impl Fn(&TaskInfo) -> bool) -> TaskInfo {
    tokio::time::timeout(LIMIT, async {
        loop {
            let task = client.get_task(id).await.expect("tasks/get");
            if done(&task) {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the task reached the state awaited")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_through_one_replica_is_read_awaited_and_cancelled_through_the_other() {
    let deployment = Deployment::start().await;
    // 2026-07-28: each client talks to one replica; the task runs on the first.
    let (one, other) = (
        modern_client(&deployment.addrs[0]).await,
        modern_client(&deployment.addrs[1]).await,
    );
    let acks = TempDir::new("acks-task");
    let id = start_task(&one, "lockstep", json!({"steps": 2, "dir": acks.arg()})).await;
    for i in 1..=2 {
        // Each step is seen through the other replica before the tool may go on.
        let message = format!("step {i}");
        let seen = task_until(&other, &id, |t| {
            t.status_message.as_deref() == Some(&message)
        })
        .await;
        assert_eq!(seen.status, TaskStatus::Working);
        std::fs::write(acks.join(&format!("ack-{i}")), b"").expect("ack");
    }
    let result = tokio::time::timeout(LIMIT, other.task_result(&id))
        .await
        .expect("the result came")
        .expect("the task completed");
    assert_eq!(result.text(), "done");
    // Cancelled through the other replica: the runner on the first drops the tool.
    let marks = TempDir::new("hang-task");
    let id = start_task(&one, "hang", json!({"dir": marks.arg()})).await;
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("started")))
        .await
        .expect("the tool started");
    other.cancel_task(&id).await.expect("tasks/cancel");
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("dropped")))
        .await
        .expect("the cancellation reached the replica running the tool");
    let cancelled = one.get_task(&id).await.expect("tasks/get on the first");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);

    // 2025-11-25: one session through the balancer; its requests alternate between the
    // replicas, and those reaching the other are forwarded to the session's home. Its GET
    // stream (on either replica) carries the task's status notifications.
    let client = stateful_client_with(deployment.balancer, true).await;
    let mut notes = client.notifications();
    let acks = TempDir::new("acks-task-2025");
    let id = start_task(&client, "lockstep", json!({"steps": 1, "dir": acks.arg()})).await;
    task_until(&client, &id, |t| {
        t.status_message.as_deref() == Some("step 1")
    })
    .await;
    let waiting = tokio::spawn({
        let (client, id) = (client.clone(), id.clone());
        async move { client.task_result(&id).await }
    });
    std::fs::write(acks.join("ack-1"), b"").expect("ack");
    let result = tokio::time::timeout(LIMIT, waiting)
        .await
        .expect("tasks/result answered")
        .expect("joined")
        .expect("the task completed");
    assert_eq!(result.text(), "done");
    let completed = tokio::time::timeout(LIMIT, async {
        while let Some(note) = notes.recv().await {
            let params = note.params.unwrap_or_default();
            if note.method == "notifications/tasks/status"
                && params.get("taskId") == Some(&json!(id))
                && params.get("status") == Some(&json!("completed"))
            {
                return true;
            }
        }
        false
    })
    .await
    .expect("the status notification came");
    assert!(completed, "the status notification came on the GET stream");
    // A task asking the client: the question goes out on the GET stream, the answer comes
    // back through the balancer (to either replica) and reaches the runner.
    let id = start_task(&client, "ask", json!({})).await;
    let answered = tokio::time::timeout(LIMIT, client.task_result(&id))
        .await
        .expect("tasks/result answered")
        .expect("the task completed");
    assert_eq!(answered.text(), "hello, Ada");
    let marks = TempDir::new("hang-task-2025");
    let id = start_task(&client, "hang", json!({"dir": marks.arg()})).await;
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("started")))
        .await
        .expect("the tool started");
    client.cancel_task(&id).await.expect("tasks/cancel");
    tokio::time::timeout(LIMIT, wait_for_file(&marks.join("dropped")))
        .await
        .expect("the cancellation reached the tool");
    let cancelled = client.get_task(&id).await.expect("tasks/get");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(
        deployment.followers() >= 1,
        "a replica that does not hold the session served some of its task requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_replica_running_a_task_turns_it_failed_once_its_lease_lapsed() {
    let mut deployment = Deployment::start().await;
    let (one, other) = (
        modern_client(&deployment.addrs[0]).await,
        modern_client(&deployment.addrs[1]).await,
    );
    let acks = TempDir::new("acks-task-kill");
    let id = start_task(&one, "lockstep", json!({"steps": 2, "dir": acks.arg()})).await;
    task_until(&other, &id, |t| {
        t.status_message.as_deref() == Some("step 1")
    })
    .await;
    // The tool now waits for ack-1, which never comes: its replica dies with the task.
    deployment.replicas[0]
        .0
        .kill()
        .await
        .expect("kill the replica running the task");
    // Nobody asks about the task: the other replica's sweep timer fails it in the store.
    let key = format!("mcp:task:{id}");
    tokio::time::timeout(LIMIT, async {
        loop {
            let out = StdCommand::new("redis-cli")
                .args(["-p", &deployment.redis_port.to_string()])
                .args(["hget", &key, "rec"])
                .output()
                .expect("redis-cli runs");
            if String::from_utf8_lossy(&out.stdout).contains("\"status\":\"failed\"") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the task failed without anyone asking");
    let failed = other.get_task(&id).await.expect("tasks/get");
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(failed.error.as_ref().map(|e| e.code.0), Some(-32603));
    match other.task_result(&id).await {
        Err(RequestError::Rpc(error)) => assert_eq!(error.code.0, -32603, "{error:?}"),
        other => panic!("expected the task's error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_replicas_share_a_task() {
    let deployment = Deployment::start().await;
    let url = format!("redis://127.0.0.1:{}/", deployment.redis_port);
    let server = examples::tour::server().expect("the tour's server");
    let bind: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let replica = examples::tour::serve_replica(&server, bind, &url, b"one key for all")
            .await
            .expect("a replica serves");
        replicas.push(replica);
    }
    let one = modern_client(&replicas[0].local_addr().to_string()).await;
    let other = modern_client(&replicas[1].local_addr().to_string()).await;
    let id = start_task(&one, "build_report", json!({"sections": 1})).await;
    let result = tokio::time::timeout(LIMIT, other.task_result(&id))
        .await
        .expect("the result came")
        .expect("the task completed");
    assert_eq!(result.text(), "a report of 1 sections");
}

/// An HTTP/1.1 exchange on a connection of its own to `addr`: the request, then whatever the
/// server sends until `enough` holds for what was read so far, or the server closes the
/// connection (what was read is returned).
async fn raw_exchange(addr: &str, request: String, enough: impl Fn(&str) -> bool) -> String {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect to the replica");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut seen = String::new();
    let mut buf = vec![0u8; 16 * 1024];
    tokio::time::timeout(LIMIT, async {
        while !enough(&seen) {
            let n = stream.read(&mut buf).await.expect("read the response");
            if n == 0 {
                return;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the server never sent what was awaited; read so far: {seen}"));
    seen
}

/// The headers of a request of 2025-11-25 session `session`.
fn session_headers(session: &str) -> String {
    format!(
        "Host: 127.0.0.1\r\nMcp-Session-Id: {session}\r\nMcp-Protocol-Version: 2025-11-25\r\n\
         Accept: application/json, text/event-stream\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_task_reaches_its_client_through_a_get_stream_on_the_replica_that_does_not_run_it() {
    let deployment = Deployment::start().await;
    // The session's requests go through the balancer; its GET stream, opened by hand, on the
    // replica that is not the session's home (where its tasks run).
    let client = stateful_client(deployment.balancer).await;
    let home = deployment.home();
    let other = &deployment.addrs[1 - home];
    let cli = StdCommand::new("redis-cli")
        .args(["-p", &deployment.redis_port.to_string()])
        .args(["--scan", "--pattern", "mcp:session:*"])
        .output()
        .expect("redis-cli runs");
    let session = String::from_utf8_lossy(&cli.stdout)
        .trim()
        .trim_start_matches("mcp:session:")
        .to_owned();
    let (found, mut found_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (opened, head) = tokio::sync::oneshot::channel::<String>();
    let opened = std::sync::Mutex::new(Some(opened));
    let get = format!("GET /mcp HTTP/1.1\r\n{}\r\n", session_headers(&session));
    let stream_addr = other.clone();
    // The GET stream: its response head is sent to the test once it came, then each data
    // line it carries, once, in order.
    tokio::spawn(async move {
        let sent = AtomicUsize::new(0);
        raw_exchange(&stream_addr, get, move |seen| {
            if let Some(end) = seen.find("\r\n\r\n")
                && let Some(opened) = opened.lock().unwrap().take()
            {
                let _ = opened.send(seen[..end].to_owned());
            }
            let complete = &seen[..seen.rfind('\n').map_or(0, |end| end + 1)];
            let lines: Vec<&str> = complete.lines().collect();
            for line in &lines[sent.load(Ordering::Relaxed)..] {
                if let Some(data) = line.strip_prefix("data: ") {
                    let _ = found.send(data.to_owned());
                }
            }
            sent.store(lines.len(), Ordering::Relaxed);
            false
        })
        .await;
    });
    let mut next_message = async |what: &str, test: &dyn Fn(&serde_json::Value) -> bool| {
        tokio::time::timeout(LIMIT, async {
            while let Some(data) = found_rx.recv().await {
                if let Ok(message) = serde_json::from_str::<serde_json::Value>(&data)
                    && test(&message)
                {
                    return message;
                }
            }
            panic!("the GET stream ended before {what}");
        })
        .await
        .unwrap_or_else(|_| panic!("{what} never came on the GET stream"))
    };
    // The task starts only once the GET stream is open. The replica that is not the home
    // answers a GET with the session's messages after the last one it stored when the GET
    // came: a GET still on its way when the task's status was stored (its task descheduled
    // on a loaded machine) never carried it, and the test waited out its limit.
    let head = tokio::time::timeout(LIMIT, head)
        .await
        .expect("the GET stream opened in time")
        .expect("the GET stream's response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let id = start_task(&client, "ask", json!({})).await;
    // The task's status, then the question asked by the runner on the home, come on the
    // other replica's stream.
    next_message("input_required", &|m| {
        m["method"] == "notifications/tasks/status"
            && m["params"]["taskId"] == json!(id)
            && m["params"]["status"] == "input_required"
    })
    .await;
    let question = next_message("the elicitation", &|m| {
        m["method"] == "elicitation/create"
            && m["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == json!(id)
    })
    .await;
    // The answer, POSTed to the replica that is not the home, reaches the runner there.
    let answer = json!({"jsonrpc": "2.0", "id": question["id"],
        "result": {"action": "accept", "content": {"name": "Ada"}}})
    .to_string();
    let post = format!(
        "POST /mcp HTTP/1.1\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
        session_headers(&session),
        answer.len()
    );
    let accepted = raw_exchange(other, post, |seen| seen.contains("\r\n\r\n")).await;
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    next_message("completed", &|m| {
        m["method"] == "notifications/tasks/status"
            && m["params"]["taskId"] == json!(id)
            && m["params"]["status"] == "completed"
    })
    .await;
    let result = tokio::time::timeout(LIMIT, client.task_result(&id))
        .await
        .expect("tasks/result answered")
        .expect("the task completed");
    assert_eq!(result.text(), "hello, Ada");
}
