//! A server mounted in process, behind a gateway server, called by a client of the gateway:
//! progress in lockstep through the mount, cancellation reaching the mounted tool, list changes
//! and resource updates propagated, clashes refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions};
use mcp_core::protocol::{ReadResourceResult, Resource, ResourceContents, methods};
use mcp_core::server::ListChanged;
use mcp_core::tool::BoxFuture;
use mcp_core::{
    BuildError, CallEvent, Client, Context, Progress, ResourceProvider, RpcError, Server, memory,
    tool,
};
use mcp_gateway::{Gateway, Remote, RemoteOptions, Upstream};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// Bounds every wait: only a deadlock (buffered progress) or a lost message reaches it.
const LIMIT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// The acknowledgements the lockstep tool waits for, one per step.
static ACKS: Mutex<Option<Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<u64>>>>> =
    Mutex::new(None);

/// Reports `step i`, then waits for the test's acknowledgement of step i, for each step.
#[tool]
async fn stepper(steps: u64) -> String {
    let acks = ACKS.lock().unwrap().clone().expect("acks set by the test");
    let mut acks = acks.lock().await;
    for i in 1..=steps {
        yield_!(Progress::step(i, steps, format!("step {i}")));
        assert_eq!(acks.recv().await, Some(i));
    }
    format!("{steps} steps")
}

/// Signals when its future is dropped.
static DROPPED: Mutex<Option<oneshot::Sender<()>>> = Mutex::new(None);

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(tx) = DROPPED.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

/// Reports `started`, then waits forever.
#[tool]
async fn hang() -> String {
    let _guard = Guard;
    yield_!("started");
    std::future::pending().await
}

/// Resources that change while the server runs.
#[derive(Clone, Default)]
struct Shelf(Arc<Mutex<Vec<String>>>);

impl ResourceProvider for Shelf {
    fn resources(&self) -> Vec<Resource> {
        let uris = self.0.lock().unwrap().clone();
        uris.into_iter()
            .map(|u| Resource::new(u.clone(), u, "text/plain"))
            .collect()
    }

    fn read(
        &self,
        _ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        let listed = self.0.lock().unwrap().iter().any(|u| u == uri);
        let uri = uri.to_owned();
        listed.then(|| {
            Box::pin(async move {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(
                    uri.clone(),
                    format!("contents of {uri}"),
                )]))
            }) as BoxFuture<_>
        })
    }
}

fn downstream(shelf: Shelf) -> Server {
    Server::builder("down", "1")
        .tool(stepper)
        .tool(hang)
        .resources(shelf)
        .list_changed(true)
        .build()
        .unwrap()
}

/// The gateway's server with `server` mounted under `prefix`, and a stateful client of it.
async fn front(server: Server, prefix: &str) -> (Remote, Server, Client) {
    let remote = start_ready("down", server).await;
    let gateway = Gateway::from_remotes("gateway", vec![(prefix.to_owned(), remote.clone())])
        .server()
        .unwrap();
    gateway.start_plugins().await.unwrap();
    let options = ClientOptions {
        era: ClientEra::Stateful,
        ..ClientOptions::default()
    };
    let client = memory::connect_with(&gateway, options).await.unwrap();
    (remote, gateway, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_passes_the_mount_in_lockstep() {
    let (ack, acks) = mpsc::unbounded_channel();
    *ACKS.lock().unwrap() = Some(Arc::new(tokio::sync::Mutex::new(acks)));
    let (_mounted, _gateway, client) = front(downstream(Shelf::default()), "down").await;
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["down_stepper", "down_hang"]);

    let steps = 5;
    let mut call = client
        .call_tool_streaming("down_stepper", json!({"steps": steps}))
        .await
        .unwrap();
    for i in 1..=steps {
        match within("progress", call.next_event()).await {
            Some(CallEvent::Progress(p)) => {
                assert_eq!(p.progress, i as f64);
                assert_eq!(p.total, Some(steps as f64));
                assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()));
            }
            other => panic!("step {i}: {other:?}"),
        }
        // Only now may the mounted tool go past step i.
        ack.send(i).unwrap();
    }
    match within("the result", call.next_event()).await {
        Some(CallEvent::Done(Ok(result))) => {
            assert_ne!(result.is_error, Some(true), "{result:?}");
            assert!(
                format!("{:?}", result.content).contains("5 steps"),
                "{result:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_drops_the_mounted_tool() {
    let (dropped_tx, dropped) = oneshot::channel();
    *DROPPED.lock().unwrap() = Some(dropped_tx);
    let (_mounted, _gateway, client) = front(downstream(Shelf::default()), "down").await;
    let mut call = client
        .call_tool_streaming("down_hang", json!({}))
        .await
        .unwrap();
    match within("started", call.next_event()).await {
        Some(CallEvent::Progress(p)) => assert_eq!(p.message.as_deref(), Some("started")),
        other => panic!("{other:?}"),
    }
    call.cancel("the test is done").await.unwrap();
    // The gateway's tool is dropped, so its downstream call is, which cancels the mounted one.
    within("the mounted tool's future dropped", dropped)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_change_downstream_reaches_the_gateways_clients() {
    let shelf = Shelf::default();
    shelf.0.lock().unwrap().push("mem://one".into());
    let server = downstream(shelf.clone());
    let (_mounted, _gateway, client) = front(server.clone(), "down").await;
    let mut notes = client.notifications();
    let before: Vec<String> = client
        .list_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri)
        .collect();
    assert_eq!(before, ["mem://down/one"]);

    shelf.0.lock().unwrap().push("mem://two".into());
    server.notify_list_changed(ListChanged::Resources).await;
    // The plugin's catalog is replaced as a whole: every kind it offers is announced.
    let mut seen = Vec::new();
    while !seen.iter().any(|m| m == methods::RESOURCES_LIST_CHANGED) {
        let note = within("list_changed at the gateway's client", notes.recv())
            .await
            .unwrap();
        seen.push(note.method);
    }
    assert!(
        seen.iter().all(|m| m.ends_with("/list_changed")),
        "{seen:?}"
    );
    let after: Vec<String> = client
        .list_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri)
        .collect();
    assert_eq!(after, ["mem://down/one", "mem://down/two"]);
    let read = client.read_resource("mem://down/two").await.unwrap();
    match &read.contents[..] {
        [ResourceContents::Text(t)] => {
            assert_eq!(t.uri, "mem://down/two");
            assert_eq!(t.text, "contents of mem://two");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_servers_offering_one_name_are_refused_naming_both() {
    let unprefixed = Gateway::from_remotes(
        "gateway",
        vec![
            (
                String::new(),
                start_ready("a", downstream(Shelf::default())).await,
            ),
            (
                String::new(),
                start_ready("b", downstream(Shelf::default())).await,
            ),
        ],
    );
    let e = unprefixed.server().unwrap_err();
    assert!(matches!(e, BuildError::Clash { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.contains("plugin `a`")
            && message.contains("plugin `b`")
            && message.contains("`stepper`"),
        "{message}"
    );
    // With prefixes both are served, and callable.
    let prefixed = Gateway::from_remotes(
        "gateway",
        vec![
            (
                "a".into(),
                start_ready("a", downstream(Shelf::default())).await,
            ),
            (
                "b".into(),
                start_ready("b", downstream(Shelf::default())).await,
            ),
        ],
    );
    let server = prefixed.server().unwrap();
    server.start_plugins().await.unwrap();
    let client = memory::connect(&server).await.unwrap();
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a_stepper", "a_hang", "b_stepper", "b_hang"]);
    let (dropped_a, _) = oneshot::channel();
    *DROPPED.lock().unwrap() = Some(dropped_a);
    for name in ["a_hang", "b_hang"] {
        let mut call = client.call_tool_streaming(name, json!({})).await.unwrap();
        match within("started", call.next_event()).await {
            Some(CallEvent::Progress(p)) => assert_eq!(p.message.as_deref(), Some("started")),
            other => panic!("{name}: {other:?}"),
        }
    }
}

async fn start_ready(name: &str, server: Server) -> Remote {
    let remote = Remote::start(name, Upstream::InProcess(server), RemoteOptions::default());
    within("ready", remote.ready(LIMIT)).await.unwrap();
    remote
}
