//! Streamable HTTP in the stateless era (2026-07-28), with raw requests: live progress in
//! lockstep on the request's own SSE stream, answers alone as JSON with the revision's
//! statuses and the request's id, header checks, and a closed stream cancelling the request.
//! Every message the server sends is checked against the 2026-07-28 schema.

mod http_support;

use std::sync::{Arc, OnceLock};

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, Request};
use http_support::{
    Exchange, Gate, ITEMS, LIMIT, ReqBody, builder, fixture_server, full, send, start,
};
use mcp_core::protocol::ToolDefinition;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Server};
use mcp_transport::http::{HttpConfig, ResponseMode};
use serde_json::{Value, json};
use tokio::sync::Notify;

const V: &str = "2026-07-28";

fn validate(message: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/mcp-schema/2026-07-28/schema.json"
        );
        let mut schema: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        schema["$ref"] = "#/$defs/JSONRPCMessage".into();
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "not a 2026-07-28 message: {message:#}\n{}",
        errors.join("\n")
    );
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"}
    })
}

/// A stateless POST with the headers that mirror `body`.
fn post(addr: std::net::SocketAddr, id: i64, method: &str, params: Value) -> Request<ReqBody> {
    let mut b = builder(addr, Method::POST, "/mcp")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header("mcp-protocol-version", V)
        .header("mcp-method", method);
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        b = b.header("mcp-name", name);
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    b.body(full(body.to_string())).unwrap()
}

async fn json_answer(x: Exchange) -> Value {
    assert_eq!(x.header("content-type"), Some("application/json"));
    let bytes = x.bytes().await;
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    validate(&v);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_streams_live_in_lockstep_and_quick_answers_come_alone() {
    let gate = Gate::new();
    let running = start(&fixture_server(&gate), HttpConfig::default()).await;
    let addr = running.local_addr();
    tokio::time::timeout(LIMIT, async {
        let mut params = json!({"name": "lockstep", "_meta": meta()});
        params["_meta"]["progressToken"] = json!("t");
        let mut yielded = gate.take_yielded();
        let mut events = send(addr, post(addr, 7, "tools/call", params)).await.sse();
        for i in 1..=ITEMS {
            // The tool waits after item i until released: item i must be here first.
            let m = events.next().await.expect("an event").message_as(validate);
            assert_eq!(m["params"]["message"], format!("item {i}"));
            assert_eq!(yielded.recv().await, Some(i));
            gate.release();
        }
        let done = events
            .next()
            .await
            .expect("the response")
            .message_as(validate);
        assert_eq!(
            (done["id"].clone(), done["result"]["resultType"].clone()),
            (json!(7), json!("complete"))
        );
        assert!(
            events.next().await.is_none(),
            "the stream ends with the response"
        );
        // A request answered at once: the answer alone, as JSON.
        let r =
            json_answer(send(addr, post(addr, 8, "tools/list", json!({"_meta": meta()}))).await)
                .await;
        assert_eq!(r["result"]["cacheScope"], "public");
    })
    .await
    .expect("in time");
}

#[tokio::test]
async fn sse_mode_streams_an_answer_ready_at_once() {
    let config = HttpConfig::default().response_mode(ResponseMode::Sse);
    let running = start(&fixture_server(&Gate::new()), config).await;
    let addr = running.local_addr();
    let x = send(addr, post(addr, 1, "tools/list", json!({"_meta": meta()}))).await;
    assert_eq!(x.status, 200);
    let mut events = x.sse();
    let r = events
        .next()
        .await
        .expect("the response")
        .message_as(validate);
    assert_eq!(r["result"]["cacheScope"], "public");
    assert!(events.next().await.is_none(), "the stream ends with it");
}

#[tokio::test]
async fn refusals_carry_the_revisions_status_code_and_the_request_id() {
    let running = start(&fixture_server(&Gate::new()), HttpConfig::default()).await;
    let addr = running.local_addr();
    let x = send(addr, post(addr, 1, "ping", json!({"_meta": meta()}))).await;
    assert_eq!(x.status, 404);
    let r = json_answer(x).await;
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(1), json!(-32601))
    );
    // The body says tools/list, the header something else: -32020.
    let mut request = post(addr, 2, "tools/list", json!({"_meta": meta()}));
    request
        .headers_mut()
        .insert("mcp-method", "prompts/list".parse().unwrap());
    let x = send(addr, request).await;
    assert_eq!(x.status, 400);
    let r = json_answer(x).await;
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(2), json!(-32020))
    );
    // A version this server does not serve: -32022 naming the versions it does.
    let mut old = meta();
    old["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let mut request = post(addr, 3, "tools/list", json!({"_meta": old}));
    request
        .headers_mut()
        .insert("mcp-protocol-version", "2099-01-01".parse().unwrap());
    let x = send(addr, request).await;
    assert_eq!(x.status, 400);
    let r = json_answer(x).await;
    assert_eq!(r["error"]["code"], -32022);
    assert_eq!(r["error"]["data"]["supported"][0], V);
}

struct DropFlag(Arc<Notify>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_stream_cancels_the_request() {
    let dropped = Arc::new(Notify::new());
    let flag = dropped.clone();
    let def: ToolDefinition = serde_json::from_value(json!({
        "name": "hang", "description": "reports, then waits forever",
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap();
    let server = Server::builder("t", "1")
        .tool(FnTool::new(def, move |ctx, _| {
            let guard = DropFlag(flag.clone());
            async move {
                let _guard = guard;
                ctx.progress("started").await;
                std::future::pending::<()>().await;
                CallToolResult::default()
            }
        }))
        .build()
        .unwrap();
    let running = start(&server, HttpConfig::default()).await;
    let addr = running.local_addr();
    tokio::time::timeout(LIMIT, async {
        let mut params = json!({"name": "hang", "_meta": meta()});
        params["_meta"]["progressToken"] = json!(1);
        let mut events = send(addr, post(addr, 1, "tools/call", params)).await.sse();
        let m = events.next().await.unwrap().message_as(validate);
        assert_eq!(m["params"]["message"], "started");
        // The client goes away: the tool's future is dropped (the revision's cancellation).
        drop(events);
        dropped.notified().await;
    })
    .await
    .expect("the request is cancelled when its stream closes");
}
