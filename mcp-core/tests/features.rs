//! Prompts, resources, subscriptions and completion, on the wire.

mod common;

use std::time::Duration;

use mcp_core::protocol::{
    Completion, GetPromptResult, PromptDefinition as PromptDef, PromptMessage, Resource,
    ResourceTemplate,
};
use mcp_core::tool::BoxFuture;
use mcp_core::{
    Context, FnPrompt, Message, Outbound, Outbox, ResourceProvider, RpcError, Server,
    ServerSession, StaticResource,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Templated;

impl ResourceProvider for Templated {
    fn resources(&self) -> Vec<Resource> {
        Vec::new()
    }
    fn templates(&self) -> Vec<ResourceTemplate> {
        vec![serde_json::from_value(json!({
            "uriTemplate": "test://template/{id}/data", "name": "data", "mimeType": "application/json"
        }))
        .unwrap()]
    }
    fn read(
        &self,
        _ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<mcp_core::protocol::ReadResourceResult, RpcError>>> {
        let id = uri
            .strip_prefix("test://template/")?
            .strip_suffix("/data")?
            .to_owned();
        let uri = uri.to_owned();
        Some(Box::pin(async move {
            Ok(serde_json::from_value(json!({"contents": [
                {"uri": uri, "mimeType": "application/json", "text": format!("{{\"id\":\"{id}\"}}")}
            ]}))
            .unwrap())
        }))
    }
    fn complete(&self, template: &str, argument: &str, value: &str) -> Option<Completion> {
        (template == "test://template/{id}/data" && argument == "id").then(|| Completion {
            values: ["alpha", "beta", "alps"]
                .into_iter()
                .filter(|v| v.starts_with(value))
                .map(String::from)
                .collect(),
            ..Completion::default()
        })
    }
}

fn server() -> Server {
    let prompt: PromptDef = serde_json::from_value(json!({
        "name": "greet", "description": "Greets someone",
        "arguments": [{"name": "who", "required": true}]
    }))
    .unwrap();
    Server::builder("features", "1")
        .prompt(FnPrompt::new(prompt, |_ctx, args| async move {
            Ok(GetPromptResult {
                description: None,
                messages: vec![PromptMessage::user(format!("Hello, {}!", args["who"]))],
                meta: None,
            })
        }))
        .resources(StaticResource::text(
            Resource::new("test://static-text", "static", "text/plain"),
            "static text",
        ))
        .resources(Templated)
        .resource_subscriptions(true)
        .build()
        .unwrap()
}

struct Driver {
    session: ServerSession,
    reply: Outbox,
    out: mpsc::Receiver<Outbound>,
    next_id: i64,
}

impl Driver {
    async fn new(server: &Server) -> Self {
        let (reply, out) = Outbox::channel(16);
        let mut d = Driver {
            session: ServerSession::new(server, reply.clone()),
            reply,
            out,
            next_id: 0,
        };
        let r = d
            .call(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}),
            )
            .await;
        let caps = &r["result"]["capabilities"];
        assert_eq!(caps["resources"]["subscribe"], true);
        assert!(caps["prompts"].is_object() && caps["completions"].is_object());
        d
    }

    async fn next(&mut self) -> Value {
        let o = tokio::time::timeout(Duration::from_secs(20), self.out.recv())
            .await
            .unwrap()
            .unwrap();
        let v = serde_json::to_value(&o.message).unwrap();
        common::assert_valid("2025-11-25", &v);
        v
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let m = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        self.session
            .receive(Message::from_value(m).unwrap(), &self.reply)
            .await;
        let r = self.next().await;
        assert_eq!(r["id"], self.next_id);
        r
    }
}

#[tokio::test]
async fn prompts_list_and_get() {
    let mut d = Driver::new(&server()).await;
    let r = d.call("prompts/list", json!({})).await;
    assert_eq!(r["result"]["prompts"][0]["name"], "greet");
    let r = d
        .call(
            "prompts/get",
            json!({"name": "greet", "arguments": {"who": "Ada"}}),
        )
        .await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "Hello, Ada!");
    let r = d.call("prompts/get", json!({"name": "greet"})).await;
    assert_eq!(
        r["error"]["code"], -32602,
        "a missing required argument: {r}"
    );
    let r = d.call("prompts/get", json!({"name": "nope"})).await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn resources_list_read_templates() {
    let mut d = Driver::new(&server()).await;
    let r = d.call("resources/list", json!({})).await;
    assert_eq!(r["result"]["resources"][0]["uri"], "test://static-text");
    let r = d
        .call("resources/read", json!({"uri": "test://static-text"}))
        .await;
    assert_eq!(r["result"]["contents"][0]["text"], "static text");
    let r = d.call("resources/templates/list", json!({})).await;
    assert_eq!(
        r["result"]["resourceTemplates"][0]["uriTemplate"],
        "test://template/{id}/data"
    );
    let r = d
        .call("resources/read", json!({"uri": "test://template/42/data"}))
        .await;
    assert_eq!(r["result"]["contents"][0]["text"], "{\"id\":\"42\"}");
    let r = d
        .call("resources/read", json!({"uri": "test://missing"}))
        .await;
    assert_eq!(r["error"]["code"], -32002);
}

#[tokio::test]
async fn completion_for_templates() {
    let mut d = Driver::new(&server()).await;
    let r = d
        .call(
            "completion/complete",
            json!({
            "ref": {"type": "ref/resource", "uri": "test://template/{id}/data"},
            "argument": {"name": "id", "value": "al"}}),
        )
        .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["alpha", "alps"])
    );
}

#[tokio::test]
async fn subscriptions_deliver_updates_to_subscribers_only() {
    let server = server();
    let mut a = Driver::new(&server).await;
    let mut b = Driver::new(&server).await;
    let r = a
        .call("resources/subscribe", json!({"uri": "test://static-text"}))
        .await;
    assert_eq!(r["result"], json!({}));
    server.notify_resource_updated("test://static-text").await;
    let n = a.next().await;
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "test://static-text");
    // b never subscribed: its next message is the answer to its own ping.
    let r = b.call("ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
    a.call(
        "resources/unsubscribe",
        json!({"uri": "test://static-text"}),
    )
    .await;
    server.notify_resource_updated("test://static-text").await;
    let r = a.call("ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
}

#[tokio::test]
async fn features_not_offered_are_method_not_found() {
    let bare = Server::builder("bare", "1").build().unwrap();
    let mut d = Driver {
        session: ServerSession::new(&bare, Outbox::channel(1).0),
        reply: Outbox::channel(16).0,
        out: mpsc::channel(1).1,
        next_id: 0,
    };
    let (reply, out) = Outbox::channel(16);
    d.reply = reply;
    d.out = out;
    d.call(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}),
    )
    .await;
    for method in [
        "prompts/list",
        "resources/list",
        "resources/subscribe",
        "completion/complete",
    ] {
        let r = d.call(method, json!({})).await;
        assert_eq!(r["error"]["code"], -32601, "{method}: {r}");
    }
}
