//! Tasks over streamable HTTP with bearer authentication: a task belongs to the identity that
//! created it, in both eras. The same token reaches it from a later session or request (a
//! reconnect); another token gets "task not found", as for an id that never existed.

use std::time::Duration;

use mcp_core::client::{ClientEra, Started};
use mcp_core::task::TaskStatus;
use mcp_core::{Client, RequestError, Server, tool};
use mcp_transport::http::{HttpConfig, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions};
use serde_json::json;
use tokio::sync::Semaphore;

const LIMIT: Duration = Duration::from_secs(30);

/// Released by the test, once per era.
static GO: Semaphore = Semaphore::const_new(0);

/// Says it started, waits for the test, then ends.
#[tool(task = "optional")]
async fn job() -> String {
    yield_!("started");
    GO.acquire().await.unwrap().forget();
    "job done".into()
}

async fn start() -> RunningServer {
    let server = Server::builder("tasks", "1").tool(job).build().unwrap();
    let config = HttpConfig::default()
        .bearer_identity("alice", "alice-token")
        .bearer_identity("bob", "bob-token");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    serve(addr, &server, config).await.unwrap()
}

async fn connect(running: &RunningServer, token: &str, era: ClientEra) -> Client {
    let mut options = HttpClientOptions {
        bearer_token: Some(token.into()),
        ..HttpClientOptions::default()
    };
    options.client.era = era;
    let url = format!("http://{}/mcp", running.local_addr());
    http_client::connect(&url, options).await.unwrap()
}

fn not_found(result: Result<impl std::fmt::Debug, RequestError>) {
    match result {
        Err(RequestError::Rpc(e)) => assert_eq!(e.code.0, -32602, "{e}"),
        other => panic!("expected task not found, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_belongs_to_the_identity_that_created_it_in_both_eras() {
    tokio::time::timeout(LIMIT, async {
        let running = start().await;
        for era in [ClientEra::Stateless, ClientEra::Stateful] {
            let alice = connect(&running, "alice-token", era).await;
            let id = match alice
                .call_tool_as_task("job", json!({}), None)
                .await
                .unwrap()
            {
                Started::Task(t) => t.task_id,
                Started::Done(r) => panic!("{era:?}: not a task: {r:?}"),
            };
            drop(alice);
            let bob = connect(&running, "bob-token", era).await;
            not_found(bob.get_task(&id).await);
            not_found(bob.cancel_task(&id).await);
            // Alice again, from a new session (or request): her task is there.
            let again = connect(&running, "alice-token", era).await;
            let task = again.get_task(&id).await.unwrap();
            assert_eq!(task.status, TaskStatus::Working, "{era:?}");
            if era == ClientEra::Stateful {
                assert!(bob.list_tasks().await.unwrap().is_empty());
                // Hers from both eras: the identity, not the era, owns them.
                let listed = again.list_tasks().await.unwrap();
                assert_eq!(listed.len(), 2);
                assert!(listed.iter().any(|t| t.task_id == id));
            }
            GO.add_permits(1);
            let result = again.task_result(&id).await.unwrap();
            assert_eq!(result.text(), "job done", "{era:?}");
        }
    })
    .await
    .unwrap();
}
