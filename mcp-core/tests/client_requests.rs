//! Requests a tool sends to the client: `Context::create_message` (sampling) and
//! `Context::elicit` (elicitation), typed, checked against the client's capabilities, and
//! valid against the official 2025-11-25 schema on the wire.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientOptions, RequestHandler};
use mcp_core::jsonrpc::{Message, Request};
use mcp_core::protocol::{
    ClientCapabilities, CreateMessageParams, ElicitAction, SamplingMessage, ToolDefinition,
};
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Client, Content, JsonObject, RequestError, Server, memory};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

fn definition(name: &str) -> ToolDefinition {
    serde_json::from_value(json!({
        "name": name,
        "description": "test tool",
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap()
}

/// A tool that samples "Say hello" and reports the reply or the error's kind.
fn sampling_tool() -> impl mcp_core::Tool {
    FnTool::new(definition("sample"), |ctx, _args| async move {
        let params = CreateMessageParams::new(vec![SamplingMessage::user("Say hello")], 50)
            .system_prompt("Be brief.");
        match ctx.create_message(params).await {
            Ok(reply) => CallToolResult::success(vec![Content::text(format!(
                "{} said: {} ({:?})",
                reply.model,
                reply.text(),
                reply.stop_reason
            ))]),
            Err(RequestError::Unsupported(why)) => {
                CallToolResult::error(format!("unsupported: {why}"))
            }
            Err(RequestError::Decode { id, .. }) => CallToolResult::error(format!("decode: {id}")),
            Err(e) => CallToolResult::error(format!("other: {e}")),
        }
    })
}

/// A tool that elicits a name and reports what the user did.
fn elicit_tool() -> impl mcp_core::Tool {
    FnTool::new(definition("ask"), |ctx, _args| async move {
        let schema = object(json!({
            "type": "object",
            "properties": {"name": {"type": "string", "default": "Ada"}},
            "required": ["name"]
        }));
        match ctx.elicit("Who are you?", schema).await {
            Ok(answer) => {
                let name = answer
                    .content
                    .as_ref()
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .to_owned();
                let action = match answer.action {
                    ElicitAction::Accept => "accept",
                    ElicitAction::Decline => "decline",
                    ElicitAction::Cancel => "cancel",
                };
                CallToolResult::success(vec![Content::text(format!("{action} {name}"))])
            }
            Err(RequestError::Unsupported(why)) => {
                CallToolResult::error(format!("unsupported: {why}"))
            }
            Err(e) => CallToolResult::error(format!("other: {e}")),
        }
    })
}

fn server() -> Server {
    Server::builder("client-requests", "1")
        .tool(sampling_tool())
        .tool(elicit_tool())
        .build()
        .unwrap()
}

/// Connects a client declaring `capabilities` whose request handler records each request
/// and answers it with `answer`.
async fn connect(
    capabilities: ClientCapabilities,
    answer: Value,
) -> (Client, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler: RequestHandler = Arc::new(move |request: Request| {
        record.lock().unwrap().push(request);
        let answer = object(answer.clone());
        Box::pin(async move { Ok(answer) })
    });
    let options = ClientOptions {
        capabilities,
        on_request: Some(handler),
        // The stateful era: server-to-client requests on the call's stream.
        era: mcp_core::client::ClientEra::Stateful,
        ..ClientOptions::default()
    };
    let client = memory::connect_with(&server(), options).await.unwrap();
    (client, seen)
}

fn capabilities(sampling: bool, elicitation: bool) -> ClientCapabilities {
    ClientCapabilities {
        sampling: sampling.then(JsonObject::new),
        elicitation: elicitation.then(JsonObject::new),
        ..ClientCapabilities::default()
    }
}

async fn call(client: &Client, tool: &str) -> CallToolResult {
    tokio::time::timeout(LIMIT, client.call_tool(tool, json!({})))
        .await
        .expect("the call finished in time")
        .expect("the call succeeded")
}

/// The one request the client received, checked against the official schema.
fn only_request(seen: &Mutex<Vec<Request>>) -> Request {
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = seen[0].clone();
    let wire = serde_json::to_value(Message::Request(request.clone())).unwrap();
    common::assert_valid("2025-11-25", &wire);
    request
}

#[tokio::test]
async fn create_message_sends_a_valid_request_and_decodes_the_reply() {
    let reply = json!({
        "role": "assistant",
        "content": {"type": "text", "text": "Hello!"},
        "model": "test-model",
        "stopReason": "endTurn"
    });
    let (client, seen) = connect(capabilities(true, false), reply).await;
    let result = call(&client, "sample").await;
    assert_eq!(
        result.text(),
        "test-model said: Hello! (Some(\"endTurn\"))",
        "{result:?}"
    );
    let request = only_request(&seen);
    assert_eq!(request.method, "sampling/createMessage");
    let params = Value::Object(request.params.unwrap().into_object());
    assert_eq!(params["maxTokens"], 50);
    assert_eq!(params["systemPrompt"], "Be brief.");
    assert_eq!(
        params["messages"],
        json!([{"role": "user", "content": {"type": "text", "text": "Say hello"}}])
    );
}

#[tokio::test]
async fn create_message_accepts_several_content_blocks() {
    let reply = json!({
        "role": "assistant",
        "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        "model": "m"
    });
    let (client, _seen) = connect(capabilities(true, false), reply).await;
    assert_eq!(
        call(&client, "sample").await.text(),
        "m said: one\ntwo (None)"
    );
}

#[tokio::test]
async fn create_message_without_the_capability_sends_nothing() {
    let (client, seen) = connect(capabilities(false, true), json!({})).await;
    let result = call(&client, "sample").await;
    assert!(result.is_error(), "{result:?}");
    assert!(result.text().starts_with("unsupported:"), "{result:?}");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_malformed_reply_is_a_decode_error_naming_the_sent_request() {
    // No `model`: not a CreateMessageResult.
    let reply = json!({"role": "assistant", "content": {"type": "text", "text": "hi"}});
    let (client, seen) = connect(capabilities(true, false), reply).await;
    let result = call(&client, "sample").await;
    let request = only_request(&seen);
    assert_eq!(
        result.text(),
        format!("decode: {}", request.id),
        "{result:?}"
    );
}

#[tokio::test]
async fn elicit_sends_a_valid_form_request_and_decodes_the_answer() {
    let answer = json!({"action": "accept", "content": {"name": "Grace"}});
    let (client, seen) = connect(capabilities(false, true), answer).await;
    assert_eq!(call(&client, "ask").await.text(), "accept Grace");
    let request = only_request(&seen);
    assert_eq!(request.method, "elicitation/create");
    let params = Value::Object(request.params.unwrap().into_object());
    assert_eq!(params["message"], "Who are you?");
    assert_eq!(
        params["requestedSchema"]["properties"]["name"]["default"],
        "Ada"
    );
}

#[tokio::test]
async fn a_declined_elicitation_has_no_content() {
    let (client, _seen) = connect(capabilities(false, true), json!({"action": "decline"})).await;
    assert_eq!(call(&client, "ask").await.text(), "decline -");
}

#[tokio::test]
async fn elicit_without_the_capability_sends_nothing() {
    let (client, seen) = connect(capabilities(true, false), json!({})).await;
    let result = call(&client, "ask").await;
    assert!(result.text().starts_with("unsupported:"), "{result:?}");
    assert!(seen.lock().unwrap().is_empty());
}
