//! The stateless era (2026-07-28) driven directly on a session: per-request `_meta`,
//! `server/discover`, the revision's errors, caching hints, request-scoped logging, multi
//! round-trip input (with a generator that reports progress before it asks) and
//! `subscriptions/listen`. Every message the server emits is validated against the
//! 2026-07-28 schema.

mod common;

use std::time::Duration;

use mcp_core::protocol::ToolDefinition;
use mcp_core::tool::FnTool;
use mcp_core::{
    CallToolResult, Content, Context, IntoCallToolResult, Message, Outbound, Outbox, Server,
    ServerSession, StaticResource,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(20);
const V: &str = "2026-07-28";

fn def(name: &str) -> ToolDefinition {
    serde_json::from_value(json!({
        "name": name,
        "description": format!("test tool {name}"),
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap()
}

fn name_form() -> mcp_core::JsonObject {
    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
        .as_object()
        .unwrap()
        .clone()
}

/// A generator that reports two steps, asks for a name, reports a third step, and greets.
async fn greet(ctx: Context) -> CallToolResult {
    ctx.progress("one").await;
    ctx.progress("two").await;
    let answer = match ctx.elicit("Who are you?", name_form()).await {
        Ok(a) => a,
        Err(e) => return CallToolResult::error(e.to_string()),
    };
    ctx.progress("three").await;
    let name = answer.content.and_then(|c| c.get("name").cloned());
    format!(
        "Hello, {}!",
        name.and_then(|n| n.as_str().map(str::to_owned))
            .unwrap_or_default()
    )
    .into_call_tool_result()
}

fn server_with_key(key: &str) -> Server {
    let resource = mcp_core::protocol::Resource::new("test://r", "r", "text/plain");
    Server::builder("stateless-test", "0.0.1")
        .request_state_key(key)
        .resource_subscriptions(true)
        .resources(StaticResource::text(resource, "hello"))
        .tool(FnTool::new(def("greet"), |ctx, _args| greet(ctx)))
        .tool(FnTool::new(
            def("chatty"),
            |ctx: Context, _args| async move {
                ctx.debug("debug line").await;
                ctx.info("info line").await;
                CallToolResult::success(vec![Content::text("done")])
            },
        ))
        .build()
        .unwrap()
}

fn server() -> Server {
    server_with_key("one secret for every replica")
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
    })
}

struct Driver {
    session: ServerSession,
    reply: Outbox,
    out: mpsc::Receiver<Outbound>,
}

impl Driver {
    fn new(server: &Server) -> Self {
        let (reply, out) = Outbox::channel(16);
        Driver {
            session: ServerSession::new(server, reply.clone()),
            reply,
            out,
        }
    }

    async fn send(&self, v: Value) {
        let m = Message::from_value(v).unwrap();
        self.session.receive(m, &self.reply).await;
    }

    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        self.next_json().await
    }

    async fn next_json(&mut self) -> Value {
        let o = tokio::time::timeout(LIMIT, self.out.recv())
            .await
            .expect("a message within the time limit")
            .expect("the outbox stays open");
        let v = serde_json::to_value(&o.message).unwrap();
        common::assert_valid(V, &v);
        v
    }
}

#[tokio::test]
async fn discover_describes_both_eras_with_caching_hints_and_identity() {
    let mut d = Driver::new(&server());
    let r = d
        .request(1, "server/discover", json!({"_meta": meta()}))
        .await;
    common::assert_valid_as(V, "DiscoverResult", &r["result"]);
    let result = &r["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"][0], V);
    assert!(
        result["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2025-11-25"))
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "stateless-test"
    );
    assert_eq!(result["cacheScope"], "public");
    assert!(result["ttlMs"].as_u64().is_some());
    let r = d.request(2, "tools/list", json!({"_meta": meta()})).await;
    common::assert_valid_as(V, "ListToolsResult", &r["result"]);
    let r = d
        .request(
            3,
            "resources/read",
            json!({"uri": "test://r", "_meta": meta()}),
        )
        .await;
    common::assert_valid_as(V, "ReadResourceResult", &r["result"]);
    assert_eq!(r["result"]["cacheScope"], "private");
}

#[tokio::test]
async fn malformed_meta_unsupported_versions_and_removed_methods_get_the_revisions_errors() {
    let mut d = Driver::new(&server());
    let r = d.request(1, "server/discover", json!({})).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let no_caps = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": V}});
    let r = d.request(2, "tools/list", no_caps).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let mut old = meta();
    old["io.modelcontextprotocol/protocolVersion"] = json!("v999");
    let r = d.request(3, "tools/list", json!({"_meta": old})).await;
    assert_eq!(r["error"]["code"], -32022, "{r}");
    assert_eq!(r["error"]["data"]["requested"], "v999");
    assert_eq!(r["error"]["data"]["supported"][0], V);
    for (id, method) in [
        (4, "initialize"),
        (5, "ping"),
        (6, "logging/setLevel"),
        (7, "resources/subscribe"),
    ] {
        let r = d.request(id, method, json!({"_meta": meta()})).await;
        assert_eq!(r["error"]["code"], -32601, "{method}: {r}");
        assert_eq!(r["id"], id);
    }
    let r = d
        .request(
            8,
            "resources/read",
            json!({"uri": "test://none", "_meta": meta()}),
        )
        .await;
    assert_eq!(
        r["error"]["code"], -32602,
        "a missing resource is -32602 now: {r}"
    );
    assert_eq!(r["error"]["data"]["uri"], "test://none");
    // The stateful era is untouched on the same connection: without `_meta`, a request
    // before `initialize` is refused as it always was.
    let r = d.request(9, "tools/list", json!({})).await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
}

#[tokio::test]
async fn log_messages_only_at_the_level_the_request_asks_for() {
    let mut d = Driver::new(&server());
    let r = d
        .request(1, "tools/call", json!({"name": "chatty", "_meta": meta()}))
        .await;
    assert_eq!(
        r["result"]["content"][0]["text"], "done",
        "no log without a level: {r}"
    );
    let mut m = meta();
    m["io.modelcontextprotocol/logLevel"] = json!("info");
    d.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "chatty", "_meta": m}}))
        .await;
    let log = d.next_json().await;
    assert_eq!(log["method"], "notifications/message");
    assert_eq!(
        log["params"]["data"], "info line",
        "debug is below info: {log}"
    );
    let done = d.next_json().await;
    assert_eq!(done["id"], 2);
    m["io.modelcontextprotocol/logLevel"] = json!("loud");
    let r = d
        .request(3, "tools/call", json!({"name": "chatty", "_meta": m}))
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
}

/// Calls `greet` with a progress token and returns its progress messages and its result.
async fn call_greet(d: &mut Driver, id: i64, extra: Value) -> (Vec<String>, Value) {
    let mut m = meta();
    m["progressToken"] = json!(format!("p{id}"));
    let mut params = json!({"name": "greet", "_meta": m});
    for (k, v) in extra.as_object().unwrap() {
        params[k] = v.clone();
    }
    d.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
        .await;
    let mut progress = Vec::new();
    loop {
        let m = d.next_json().await;
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], format!("p{id}"));
            progress.push(format!(
                "{}@{}",
                m["params"]["message"].as_str().unwrap(),
                m["params"]["progress"]
            ));
        } else {
            assert_eq!(m["id"], id);
            return (progress, m);
        }
    }
}

#[tokio::test]
async fn a_generator_that_asks_is_resumed_on_retry_without_repeating_its_progress() {
    let mut d = Driver::new(&server());
    let (progress, r) = call_greet(&mut d, 1, json!({})).await;
    assert_eq!(progress, ["one@1.0", "two@2.0"]);
    let result = &r["result"];
    common::assert_valid_as(V, "InputRequiredResult", result);
    assert_eq!(result["resultType"], "input_required");
    let (key, ask) = result["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(key, "elicitation-1");
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["message"], "Who are you?");
    let state = result["requestState"].clone();
    assert!(
        result.get("ttlMs").is_none(),
        "interim results carry no caching hints"
    );

    // The retry: a new id, the answer under the same key, the state echoed. The handler runs
    // again from the top; the two steps already reported are not reported again.
    let answer = json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});
    let (progress, r) = call_greet(
        &mut d,
        2,
        json!({"inputResponses": answer, "requestState": state}),
    )
    .await;
    assert_eq!(progress, ["three@3.0"]);
    common::assert_valid_as(V, "CallToolResult", &r["result"]);
    assert_eq!(r["result"]["resultType"], "complete");
    assert_eq!(r["result"]["content"][0]["text"], "Hello, Ada!");

    // Tampered, or presented to a replica with another key: refused, clearly.
    let tampered = json!(format!("{}x", state.as_str().unwrap()));
    let (_, r) = call_greet(
        &mut d,
        3,
        json!({"inputResponses": answer, "requestState": tampered}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requestState rejected"),
        "{r}"
    );
    let mut other = Driver::new(&server_with_key("another key"));
    let (_, r) = call_greet(
        &mut other,
        4,
        json!({"inputResponses": answer, "requestState": state}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A replica sharing the key resumes it.
    let mut replica = Driver::new(&server());
    let (progress, r) = call_greet(
        &mut replica,
        5,
        json!({"inputResponses": answer, "requestState": state}),
    )
    .await;
    assert_eq!(
        (progress.len(), &r["result"]["content"][0]["text"]),
        (1, &json!("Hello, Ada!"))
    );
}

#[tokio::test]
async fn asking_for_an_undeclared_capability_fails_with_32021() {
    let mut d = Driver::new(&server());
    let mut m = meta();
    m["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let (progress, r) = {
        d.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "greet", "_meta": m}}))
            .await;
        (Vec::<Value>::new(), d.next_json().await)
    };
    assert!(progress.is_empty());
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert_eq!(
        r["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
}

#[tokio::test]
async fn listen_acknowledges_tags_and_completes() {
    let server = server();
    let mut d = Driver::new(&server);
    d.send(
        json!({"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen",
        "params": {"_meta": meta(), "notifications": {
            "toolsListChanged": true, "resourceSubscriptions": ["test://r"]}}}),
    )
    .await;
    let ack = d.next_json().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub"
    );
    // List changes are not offered by this server: only the resource subscription is agreed.
    assert_eq!(
        ack["params"]["notifications"],
        json!({"resourceSubscriptions": ["test://r"]})
    );
    server.notify_resource_updated("test://other").await;
    server.notify_resource_updated("test://r").await;
    let update = d.next_json().await;
    assert_eq!(update["method"], "notifications/resources/updated");
    assert_eq!(update["params"]["uri"], "test://r");
    assert_eq!(
        update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub"
    );
    server.close_subscriptions();
    let done = d.next_json().await;
    assert_eq!(done["id"], "sub");
    common::assert_valid_as(V, "SubscriptionsListenResult", &done["result"]);
    assert_eq!(
        done["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub"
    );
}

#[tokio::test]
async fn the_same_tool_asks_by_request_in_a_session() {
    // The stateful era: the question is a request on the call's stream, answered in place.
    let mut d = Driver::new(&server());
    d.send(
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": "2025-11-25", "capabilities": {"elicitation": {}},
        "clientInfo": {"name":"t","version":"1"}}}),
    )
    .await;
    let _ = d.out.recv().await;
    d.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet"}}))
        .await;
    let ask = loop {
        let o = d.out.recv().await.unwrap();
        let v = serde_json::to_value(&o.message).unwrap();
        common::assert_valid("2025-11-25", &v);
        if v["method"] == "elicitation/create" {
            break v;
        }
    };
    d.send(json!({"jsonrpc":"2.0","id": ask["id"], "result": {"action": "accept", "content": {"name": "Bo"}}}))
        .await;
    let done = loop {
        let o = d.out.recv().await.unwrap();
        let v = serde_json::to_value(&o.message).unwrap();
        common::assert_valid("2025-11-25", &v);
        if v["id"] == 1 {
            break v;
        }
    };
    assert_eq!(done["result"]["content"][0]["text"], "Hello, Bo!");
    assert!(
        done["result"].get("resultType").is_none(),
        "the stateful era is unchanged"
    );
}
