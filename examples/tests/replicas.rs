//! Two replicas of one server behind HAProxy round-robin (no stickiness) sharing a real
//! redis-server (see `replicas/deployment.rs`): a 2025-era client whose stream is cut mid-call
//! resumes through the balancer, on the other replica too, and receives every event exactly
//! once, live, until the result; a replica killed while running a call leaves a resuming client
//! with a JSON-RPC error once its lease lapsed, not a hang. (Tasks: `replicas_tasks.rs`.)
//!
//! The replicas are examples' fixture-server, whose `lockstep` tool a test outside the process
//! steers through files (the conformance server, the same serving code with the suite's
//! tools, goes through the same setup in scripts/conformance-replicas.sh).

mod common;
#[path = "replicas/deployment.rs"]
mod deployment;
#[path = "../../mcp-transport/tests/support/relay.rs"]
mod relay;

use common::TempDir;
use deployment::{Deployment, LIMIT, stateful_client};
use mcp_core::error::RequestError;
use mcp_core::{CallEvent, ToolCall};
use relay::cutting_relay;
use serde_json::json;

async fn next(call: &mut ToolCall, what: &str) -> CallEvent {
    tokio::time::timeout(LIMIT, call.next_event())
        .await
        .unwrap_or_else(|_| panic!("{what} never arrived"))
        .unwrap_or_else(|| panic!("the call ended before {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_stream_resumes_through_the_balancer_on_either_replica_exactly_once_and_live() {
    let deployment = Deployment::start().await;
    // Cut after step 2 and after step 4: the two resumptions are consecutive requests, so
    // round-robin sends them to different replicas, one of which does not run the call.
    let relay = cutting_relay(deployment.balancer, &["step 2", "step 4"]).await;
    let client = stateful_client(relay).await;
    let acks = TempDir::new("acks");
    let steps = 6;
    let mut call = client
        .call_tool_streaming("lockstep", json!({"steps": steps, "dir": acks.arg()}))
        .await
        .expect("the call starts");
    for i in 1..=steps {
        match next(&mut call, &format!("step {i}")).await {
            CallEvent::Progress(p) => {
                assert_eq!(p.progress, i as f64, "each step once, in order");
                assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()));
            }
            other => panic!("expected step {i}, got {other:?}"),
        }
        // Only now may the tool go on: the event came live, not after the call ended.
        std::fs::write(acks.join(&format!("ack-{i}")), b"").expect("ack");
    }
    match next(&mut call, "the result").await {
        CallEvent::Done(Ok(result)) => assert_eq!(result.text(), "done"),
        other => panic!("expected the result, got {other:?}"),
    }
    assert!(
        deployment.followers() >= 1,
        "a replica that does not run the call served part of it"
    );
    // The session goes on serving through either replica.
    client.ping().await.expect("ping through the balancer");
    client.ping().await.expect("ping through the other replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_replica_running_a_call_ends_it_with_an_error_for_a_resuming_client() {
    let mut deployment = Deployment::start().await;
    let relay = cutting_relay(deployment.balancer, &["step 1"]).await;
    let client = stateful_client(relay).await;
    let acks = TempDir::new("acks-kill");
    let mut call = client
        .call_tool_streaming("lockstep", json!({"steps": 3, "dir": acks.arg()}))
        .await
        .expect("the call starts");
    assert!(matches!(
        next(&mut call, "step 1").await,
        CallEvent::Progress(_)
    ));
    // The tool now waits for ack-1, which never comes: its replica dies with the call.
    let home = deployment.home();
    deployment.replicas[home]
        .0
        .kill()
        .await
        .expect("kill the replica running the call");
    match next(&mut call, "the end of the call").await {
        CallEvent::Done(Err(RequestError::Rpc(error))) => {
            assert_eq!(error.code.0, -32000, "{error:?}");
            assert_eq!(
                error.data.as_ref().and_then(|d| d.get("reason")),
                Some(&json!("replica-lost")),
                "{error:?}"
            );
        }
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

/// How many requests the replicas' logs say they forwarded to another replica.
fn forwarded(deployment: &Deployment) -> usize {
    deployment
        .replicas
        .iter()
        .map(|(_, log)| {
            log.lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains("a request for a session of another replica"))
                .count()
        })
        .sum()
}

/// Waits (bounded) until both replicas listen on their channels again and both have a
/// command connection (besides redis-cli's own).
async fn wait_reconnected(deployment: &Deployment) {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let channels = deployment.redis_cli(&["pubsub", "channels", "mcp:replica:*"]);
        let clients = deployment.redis_cli(&["client", "list", "type", "normal"]);
        if channels.lines().count() == 2 && clients.lines().count() >= 3 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas reconnect to Redis: {channels:?} {clients:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Redis drops every connection of both replicas (`CLIENT KILL`: what a network blip does;
/// the data stays) in the middle of a call, twice. The replicas reconnect and re-subscribe by
/// themselves, and each call goes on: of two consecutive calls through the round-robin
/// balancer, one reaches the replica that is not the session's home (forwarded there, its
/// stream followed through pub/sub, re-read from the store after the drop); every step arrives
/// once, live (lockstep), then the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_forwarded_and_followed_across_replicas_survive_redis_dropping_the_connections() {
    let deployment = Deployment::start().await;
    let client = stateful_client(deployment.balancer).await;
    wait_reconnected(&deployment).await;
    let before = forwarded(&deployment);
    for n in 0..2 {
        let acks = TempDir::new(&format!("acks-drop-{n}"));
        let mut call = client
            .call_tool_streaming("lockstep", json!({"steps": 3, "dir": acks.arg()}))
            .await
            .expect("the call starts");
        for i in 1..=3 {
            match next(&mut call, &format!("step {i}")).await {
                CallEvent::Progress(p) => assert_eq!(p.progress, i as f64, "each step once"),
                other => panic!("expected step {i}, got {other:?}"),
            }
            if i == 1 {
                // The tool waits for ack-1: drop every connection now.
                let killed = deployment.redis_cli(&["client", "kill", "type", "pubsub"]);
                assert_eq!(killed, "2", "one pub/sub connection per replica");
                deployment.redis_cli(&["client", "kill", "type", "normal"]);
                wait_reconnected(&deployment).await;
            }
            // Only now may the tool go on: the event came live.
            std::fs::write(acks.join(&format!("ack-{i}")), b"").expect("ack");
        }
        match next(&mut call, "the result").await {
            CallEvent::Done(Ok(result)) => assert_eq!(result.text(), "done"),
            other => panic!("expected the result, got {other:?}"),
        }
    }
    assert!(
        forwarded(&deployment) > before,
        "a call was forwarded to the session's home"
    );
}
