//! The serving call's protocol flags, end to end through the `conformance-server` binary:
//! `--eras` (or `MCP_ERAS`) chooses the eras served, and processes that share
//! `--request-state-key` (or `MCP_REQUEST_STATE_KEY`) resume each other's multi round-trip
//! requests, as replicas behind one balancer must.

mod common;

use std::process::Stdio;

use common::stdio_common::raw::{RawPeer, error_code, within};
use common::stdio_common::schema::STATELESS_SCHEMA_VERSION;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const SERVER: &str = env!("CARGO_BIN_EXE_conformance-server");

/// Starts the server over stdio with `args` and `env`, and a raw peer on its pipes.
fn spawn(args: &[&str], env: &[(&str, &str)]) -> (RawPeer, Child) {
    let mut child = Command::new(SERVER)
        .args(args)
        .env_remove("MCP_ERAS")
        .env_remove("MCP_REQUEST_STATE_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("conformance-server starts");
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut peer = RawPeer::new(stdout, stdin);
    peer.schema = STATELESS_SCHEMA_VERSION;
    (peer, child)
}

/// The `_meta` of a 2026-07-28 request from a client that can elicit.
fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "flags-test", "version": "0"}
    })
}

async fn stop(mut peer: RawPeer, mut child: Child) {
    peer.close_input().await;
    let status = within("the server exits", child.wait()).await.unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_eras_flag_and_variable_choose_what_is_served() {
    // --eras stateful: a server of the older era, to which server/discover is unknown.
    let (mut peer, child) = spawn(&["--eras", "stateful"], &[]);
    let r = peer
        .request(1, "server/discover", json!({"_meta": meta()}))
        .await;
    assert_eq!(error_code(&r), -32601, "{r}");
    peer.schema = common::stdio_common::schema::SCHEMA_VERSION;
    peer.initialize().await;
    stop(peer, child).await;

    // MCP_ERAS=stateless: initialize is refused, naming the one version served.
    let (mut peer, child) = spawn(&[], &[("MCP_ERAS", "stateless")]);
    let params = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "flags-test", "version": "0"}
    });
    let r = peer.request(1, "initialize", params).await;
    assert_eq!(error_code(&r), -32022, "{r}");
    assert_eq!(
        r["error"]["data"]["supported"],
        json!(["2026-07-28"]),
        "{r}"
    );
    let r = peer
        .request(2, "server/discover", json!({"_meta": meta()}))
        .await;
    assert_eq!(
        r["result"]["supportedVersions"],
        json!(["2026-07-28"]),
        "{r}"
    );
    stop(peer, child).await;
}

#[tokio::test]
async fn replicas_sharing_the_key_resume_each_others_requests() {
    within("three replicas", async {
        let call = |extra: Value| {
            let mut params = json!({
                "name": "test_input_required_result_elicitation",
                "arguments": {},
                "_meta": meta()
            });
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            params
        };
        // The first round on one replica (key from the environment)...
        let (mut first, child) = spawn(&[], &[("MCP_REQUEST_STATE_KEY", "one secret")]);
        let r = first.request(1, "tools/call", call(json!({}))).await;
        assert_eq!(r["result"]["resultType"], "input_required", "{r}");
        let state = r["result"]["requestState"].clone();
        assert!(state.is_string(), "{r}");
        assert!(r["result"]["inputRequests"]["user_name"].is_object(), "{r}");
        stop(first, child).await;

        // ...answered on another (key from the flag)...
        let retry = call(json!({
            "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Ada"}}},
            "requestState": state
        }));
        let (mut second, child) = spawn(&["--request-state-key", "one secret"], &[]);
        let r = second.request(2, "tools/call", retry.clone()).await;
        assert_eq!(r["result"]["content"][0]["text"], "Hello, Ada!", "{r}");
        stop(second, child).await;

        // ...and refused by a replica with another key.
        let (mut third, child) = spawn(&["--request-state-key", "another secret"], &[]);
        let r = third.request(3, "tools/call", retry).await;
        assert_eq!(error_code(&r), -32602, "{r}");
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("signed with another key"), "{r}");
        stop(third, child).await;
    })
    .await;
}
