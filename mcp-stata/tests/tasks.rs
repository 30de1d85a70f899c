//! A long Stata run as a task over streamable HTTP (the stand-in as Stata): the run outlives
//! the client that started it, a new client sees its status (the log's last line) and fetches
//! its result; cancelling the task stops Stata. Lockstep: the do-file waits for a file the
//! test creates only after it saw the wait's own command line in the task's status.
//!
//! The status is the latest progress message: the log lines that arrived together. Whether
//! `display "first part done"` and the next command's echo arrive in one read or two is up
//! to the scheduler, so a line before the wait may be in the status for microseconds only;
//! the echo of the command the run blocks in stays there until the test releases it.

mod common;
mod support;

use mcp_core::Client;
use mcp_core::client::{ClientEra, Started, TaskInfo};
use mcp_core::task::TaskStatus;
use mcp_transport::http::{HttpConfig, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions};
use serde_json::json;
use support::*;

use common::{PATIENCE, release};

async fn start(h: &Harness) -> RunningServer {
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    serve(addr, &h.server, HttpConfig::default()).await.unwrap()
}

async fn connect(running: &RunningServer, era: ClientEra) -> Client {
    let mut options = HttpClientOptions::default();
    options.client.era = era;
    let url = format!("http://{}/mcp", running.local_addr());
    http_client::connect(&url, options).await.unwrap()
}

/// The line Stata echoes when it runs `_standin_wait_file` on `signal`: the last line of
/// the log while the run waits.
fn wait_line(signal: &std::path::Path) -> String {
    format!(". _standin_wait_file {}", q(signal))
}

/// Polls the task until its status message (the log lines of the latest report) holds
/// `line` (bounded by the patience).
async fn until_status(client: &Client, id: &str, line: &str) -> TaskInfo {
    let last = std::sync::Mutex::new(None);
    tokio::time::timeout(PATIENCE, async {
        loop {
            let task = client.get_task(id).await.unwrap();
            if task
                .status_message
                .as_deref()
                .is_some_and(|m| m.lines().any(|l| l == line))
            {
                return task;
            }
            assert!(!task.status.is_terminal(), "ended early: {task:?}");
            *last.lock().unwrap() = Some(task);
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the task never said {line:?}; last seen: {:?}",
            last.lock().unwrap()
        )
    })
}

fn task(started: Started) -> TaskInfo {
    match started {
        Started::Task(t) => t,
        Started::Done(r) => panic!("the run ended before it became a task: {r:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_run_as_a_task_outlives_its_client() {
    let h = harness(&[]).await;
    let running = start(&h).await;
    let go = h.fx.signal("go");
    let do_file = h.fx.write(
        "project/long.do",
        &format!(
            "display \"first part done\"\n_standin_wait_file {}\ndisplay \"second part done\"\n",
            q(&go)
        ),
    );
    let first = connect(&running, ClientEra::Stateless).await;
    let started = first
        .call_tool_as_task("stata_run_do_file", json!({ "path": do_file }), None)
        .await
        .unwrap();
    let id = task(started).task_id;
    // The client goes away (a closed laptop); the run goes on.
    drop(first);
    let second = connect(&running, ClientEra::Stateless).await;
    let seen = until_status(&second, &id, &wait_line(&go)).await;
    assert_eq!(seen.status, TaskStatus::Working);
    assert!(!go.exists());
    release(&go);
    let result = tokio::time::timeout(PATIENCE, second.task_result(&id))
        .await
        .unwrap()
        .unwrap();
    assert!(!result.is_error(), "{}", result.text());
    let report = result.structured_content.clone().unwrap();
    assert_eq!(report["status"], "success");
    let text = result.text();
    let first_part = text
        .find("first part done")
        .expect("the first part in the log");
    let second_part = text.find("second part done").expect("the second part");
    assert!(first_part < second_part, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_session_runs_a_do_file_as_a_task_and_cancelling_it_stops_stata() {
    let h = harness(&[]).await;
    let running = start(&h).await;
    let never = h.fx.signal("never");
    let do_file = h.fx.write(
        "project/stuck.do",
        &format!("display \"waiting\"\n_standin_wait_file {}\n", q(&never)),
    );
    let client = connect(&running, ClientEra::Stateful).await;
    let started = client
        .call_tool_as_task("stata_run_do_file", json!({ "path": do_file }), None)
        .await
        .unwrap();
    let id = task(started).task_id;
    until_status(&client, &id, &wait_line(&never)).await;
    let pids = h.stata_pids();
    assert!(!pids.is_empty(), "Stata runs");
    client.cancel_task(&id).await.unwrap();
    assert_eq!(
        client.get_task(&id).await.unwrap().status,
        TaskStatus::Cancelled
    );
    assert_gone(&pids).await;
}
