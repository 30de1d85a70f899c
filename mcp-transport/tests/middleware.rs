//! Middleware over real HTTP, in both protocol eras: an authorization layer refuses a tool
//! for one bearer token and allows it for another (the refused call never reaches the tool);
//! a timeout layer drops the tool's future (its drop guard signals) and the client gets the
//! error; progress passes in lockstep, and cancellation drops the tool, through a stack of
//! layers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_core::client::ClientEra;
use mcp_core::middleware::{AuthorizationLayer, ConcurrencyLimitLayer, TimeoutLayer, TraceLayer};
use mcp_core::{CallEvent, ClientOptions, Context, RequestError, Server, tools};
use mcp_transport::http::{HttpConfig, RunningServer, serve};
use mcp_transport::http_client::{self, HttpClientOptions};
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::timeout;

/// Every test's bound: a deadlock fails it instead of hanging.
const LIMIT: Duration = Duration::from_secs(60);
const STEPS: u64 = 4;

/// Sends on its channel when dropped: the proof that a tool's future was dropped.
struct DropSignal(mpsc::UnboundedSender<&'static str>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

/// What the tools share with the test.
struct Probe {
    /// How many times `secret` ran.
    secret_runs: AtomicUsize,
    /// One permit lets `steps` past one yielded step.
    permits: Semaphore,
    /// `stall` and `steps` report their drop here.
    dropped: mpsc::UnboundedSender<&'static str>,
}

#[derive(Clone)]
struct Tools(Arc<Probe>);

#[tools]
impl Tools {
    /// A tool only some may call.
    #[tool]
    async fn secret(&self) -> String {
        self.0.secret_runs.fetch_add(1, Ordering::SeqCst);
        "the secret".into()
    }

    /// Never finishes on its own; signals when dropped.
    #[tool]
    async fn stall(&self) -> String {
        let _guard = DropSignal(self.0.dropped.clone());
        std::future::pending().await
    }

    /// Reports each step, then waits for the test's permit; signals when dropped.
    #[tool]
    async fn steps(&self, ctx: Context) -> String {
        let _guard = DropSignal(self.0.dropped.clone());
        for i in 1..=STEPS {
            ctx.progress(format!("step {i}")).await;
            self.0.permits.acquire().await.expect("open").forget();
        }
        "all steps".into()
    }
}

fn probe() -> (Arc<Probe>, mpsc::UnboundedReceiver<&'static str>) {
    let (dropped, rx) = mpsc::unbounded_channel();
    let probe = Arc::new(Probe {
        secret_runs: AtomicUsize::new(0),
        permits: Semaphore::new(0),
        dropped,
    });
    (probe, rx)
}

async fn start(server: &Server) -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let config = HttpConfig::default()
        .bearer_identity("alice", "alice-token")
        .bearer_identity("bob", "bob-token");
    serve(addr, server, config).await.expect("server starts")
}

async fn client(running: &RunningServer, token: &str, era: ClientEra) -> mcp_core::Client {
    let url = format!("http://{}/mcp", running.local_addr());
    let options = HttpClientOptions {
        bearer_token: Some(token.into()),
        client: ClientOptions {
            era,
            ..ClientOptions::default()
        },
        ..HttpClientOptions::default()
    };
    http_client::connect(&url, options).await.expect("connects")
}

/// The `data.reason` of a JSON-RPC error.
fn reason(error: &RequestError) -> String {
    match error {
        RequestError::Rpc(e) => e
            .data
            .as_ref()
            .and_then(|d| d["reason"].as_str())
            .unwrap_or_default()
            .to_owned(),
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_refuses_a_tool_for_one_token_and_allows_it_for_another() {
    timeout(LIMIT, async {
        let (probe, _) = probe();
        let server = Server::builder("guarded", "1")
            .tools(Tools(probe.clone()))
            .layer(
                AuthorizationLayer::new()
                    .allow("alice", ["secret", "steps"])
                    .allow("bob", ["steps"]),
            )
            .build()
            .unwrap();
        let running = start(&server).await;
        for era in [ClientEra::Stateless, ClientEra::Stateful] {
            let bob = client(&running, "bob-token", era).await;
            let refused = bob.call_tool("secret", json!({})).await.unwrap_err();
            assert_eq!(reason(&refused), "forbidden", "{era:?}");
            assert!(
                refused
                    .to_string()
                    .contains("identity `bob` may not call tool `secret`"),
                "{refused}"
            );
            assert_eq!(
                probe.secret_runs.load(Ordering::SeqCst),
                0,
                "a refused call never reaches the tool"
            );
            let alice = client(&running, "alice-token", era).await;
            let allowed = alice.call_tool("secret", json!({})).await.unwrap();
            assert_eq!(allowed.text(), "the secret");
            assert_eq!(probe.secret_runs.swap(0, Ordering::SeqCst), 1);
        }
    })
    .await
    .expect("within the limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_drops_the_tools_future_and_the_client_gets_the_error() {
    timeout(LIMIT, async {
        let (probe, mut dropped) = probe();
        let server = Server::builder("bounded", "1")
            .tools(Tools(probe))
            .layer(TimeoutLayer::new(LIMIT).tool("stall", Duration::from_millis(200)))
            .build()
            .unwrap();
        let running = start(&server).await;
        for era in [ClientEra::Stateless, ClientEra::Stateful] {
            let alice = client(&running, "alice-token", era).await;
            let error = alice.call_tool("stall", json!({})).await.unwrap_err();
            assert_eq!(reason(&error), "timeout", "{era:?}: {error}");
            assert!(error.to_string().contains("tool `stall`"), "{error}");
            assert_eq!(dropped.recv().await, Some("dropped"), "{era:?}");
        }
    })
    .await
    .expect("within the limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_in_lockstep_and_cancellation_pass_through_a_stack_of_layers() {
    timeout(LIMIT, async {
        let (probe, mut dropped) = probe();
        let server = Server::builder("layered", "1")
            .tools(Tools(probe.clone()))
            .layer(TraceLayer::new())
            .layer(AuthorizationLayer::new().allow_all("alice"))
            .layer(TimeoutLayer::new(LIMIT))
            .layer(ConcurrencyLimitLayer::new(4))
            .build()
            .unwrap();
        let running = start(&server).await;
        for era in [ClientEra::Stateless, ClientEra::Stateful] {
            let alice = client(&running, "alice-token", era).await;
            let mut call = alice.call_tool_streaming("steps", json!({})).await.unwrap();
            for i in 1..=STEPS {
                match call.next_event().await {
                    Some(CallEvent::Progress(p)) => {
                        assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()))
                    }
                    other => panic!("{era:?}: expected step {i}, got {other:?}"),
                }
                // Only now may the tool go on: any buffering deadlocks the test.
                probe.permits.add_permits(1);
            }
            match call.next_event().await {
                Some(CallEvent::Done(Ok(result))) => assert_eq!(result.text(), "all steps"),
                other => panic!("{era:?}: expected the result, got {other:?}"),
            }
            assert_eq!(dropped.recv().await, Some("dropped"));

            // Cancelling mid-call drops the tool through every layer.
            let mut call = alice.call_tool_streaming("steps", json!({})).await.unwrap();
            assert!(matches!(
                call.next_event().await,
                Some(CallEvent::Progress(_))
            ));
            call.cancel("enough").await.unwrap();
            assert_eq!(dropped.recv().await, Some("dropped"), "{era:?}");
        }
    })
    .await
    .expect("deadlock: progress or cancellation was held back by a layer");
}
