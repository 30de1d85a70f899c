//! Many sessions at once, the first request after start-up, and graceful shutdown.

mod http_support;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http_support::*;
use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Content, Server};
use mcp_transport::http::{Bind, HttpConfig, serve};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::timeout;

const SESSIONS: usize = 200;

/// A tool that yields, then waits until every one of `n` calls has yielded: it can only
/// finish if the server runs all `n` streams at the same time.
fn together_server(n: usize) -> Server {
    let barrier = Arc::new(Barrier::new(n));
    let def: ToolDef = serde_json::from_value(json!({
        "name": "together",
        "description": "waits for all other calls",
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap();
    Server::builder("load", "0")
        .tool(FnTool::new(def, move |ctx, _args| {
            let barrier = barrier.clone();
            async move {
                ctx.progress("before").await;
                barrier.wait().await;
                ctx.progress("after").await;
                CallToolResult::success(vec![Content::text("together")])
            }
        }))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_stream_at_once() {
    timeout(LIMIT, async {
        let running = start(&together_server(SESSIONS), HttpConfig::default()).await;
        let addr = running.local_addr();
        let mut clients = JoinSet::new();
        for n in 0..SESSIONS {
            clients.spawn(async move {
                let session = initialize(addr).await;
                let x = send(
                    addr,
                    post(addr, Some(&session), &call_message(7, "together")),
                )
                .await;
                assert_eq!(x.status, StatusCode::OK);
                let mut events = x.sse();
                let mut seen = Vec::new();
                while let Some(message) = events.next_message().await {
                    seen.push(message);
                }
                assert_eq!(seen.len(), 3, "client {n}: {seen:?}");
                assert_eq!(progress_of(&seen[0]).1, "before");
                assert_eq!(progress_of(&seen[1]).1, "after");
                assert_eq!(seen[2]["result"]["content"][0]["text"], "together");
                session
            });
        }
        let mut sessions = Vec::new();
        while let Some(done) = clients.join_next().await {
            sessions.push(done.expect("a client failed"));
        }
        sessions.sort();
        sessions.dedup();
        assert_eq!(sessions.len(), SESSIONS, "every session id is distinct");
        let stats = running.service().stats();
        assert_eq!(stats.sessions, SESSIONS);
        assert_eq!(stats.open_streams, 0);
    })
    .await
    .expect("timed out: the server did not run every stream at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_request_after_serve_is_answered() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let server = fixture_server(&gate);
        for round in 0..20 {
            // Alternately a listener the caller bound and an address serve binds.
            let running = if round % 2 == 0 {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                serve(Bind::Listener(listener), &server, HttpConfig::default())
                    .await
                    .unwrap()
            } else {
                start(&server, HttpConfig::default()).await
            };
            let addr = running.local_addr();
            let x = send(addr, post(addr, None, &initialize_message(0))).await;
            assert_eq!(x.status, StatusCode::OK, "round {round}");
            assert!(x.session().is_some());
            assert_eq!(x.answer().await["id"], 0);
            running.shutdown().await;
        }
    })
    .await
    .expect("timed out: a request right after start-up hung");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_running_calls_finish() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut call = x.sse();
        assert_eq!(progress_of(&call.next_message().await.unwrap()).0, 1.0);
        let x = send(addr, get(addr, &session, None)).await;
        let mut listen = x.sse();
        assert_eq!(listen.next().await.unwrap().id.as_deref(), Some("0:0"));

        let stopping = tokio::spawn(running.shutdown());
        assert!(listen.next().await.is_none(), "the GET stream ends at once");
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "no new connections once shutting down"
        );
        // The running call is allowed to finish.
        gate.release();
        for i in 2..=ITEMS {
            assert_eq!(
                progress_of(&call.next_message().await.unwrap()).0,
                f64::from(i)
            );
            gate.release();
        }
        assert_eq!(call.next_message().await.unwrap()["id"], 1);
        assert!(call.next().await.is_none());
        stopping.await.unwrap();
    })
    .await
    .expect("timed out: shutdown hung");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_what_outlives_the_deadline_with_an_error() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let config = HttpConfig::default().shutdown_timeout(Duration::from_millis(200));
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let mut stats = running.service().watch_stats();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut call = x.sse();
        assert_eq!(progress_of(&call.next_message().await.unwrap()).0, 1.0);
        // Never released: the call outlives the deadline, and is ended with an error on its
        // stream, never cut off silently.
        running.shutdown().await;
        let end = call.next_message().await.expect("an answer before the end");
        assert_valid(&end);
        assert_eq!(end["id"], 1);
        assert_eq!(end["error"]["code"], -32000);
        assert_eq!(end["error"]["data"]["reason"], "shutdown");
        assert!(call.next().await.is_none(), "the stream is closed");
        stats
            .wait_for(|s| s.sessions == 0 && s.open_streams == 0 && s.connections == 0)
            .await
            .unwrap();
    })
    .await
    .expect("timed out: shutdown did not enforce its deadline");
}
