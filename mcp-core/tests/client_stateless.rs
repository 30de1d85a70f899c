//! The client in the stateless era (2026-07-28), in memory: it picks the era with
//! `server/discover`, falls back to `initialize`, and answers `input_required` with the same
//! handler that answers server-to-client requests in a session, a streaming call keeping its
//! progress across the rounds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, RequestHandler};
use mcp_core::protocol::{ClientCapabilities, ToolDefinition};
use mcp_core::server::Era;
use mcp_core::tool::FnTool;
use mcp_core::{CallEvent, CallToolResult, Context, Eras, IntoCallToolResult, Server, memory};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(20);

fn server(eras: Eras) -> Server {
    let def: ToolDefinition = serde_json::from_value(json!({
        "name": "greet", "description": "asks a name, greets",
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap();
    Server::builder("s", "1")
        .eras(eras)
        .tool(FnTool::new(def, |ctx: Context, _args| async move {
            ctx.progress("one").await;
            ctx.progress("two").await;
            let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
            let answer = match ctx
                .elicit("Who?", schema.as_object().unwrap().clone())
                .await
            {
                Ok(a) => a,
                Err(e) => return CallToolResult::error(e.to_string()),
            };
            ctx.progress("three").await;
            let name = answer.content.unwrap()["name"].as_str().unwrap().to_owned();
            format!("Hello, {name}!").into_call_tool_result()
        }))
        .build()
        .unwrap()
}

fn options(era: ClientEra, asked: Arc<Mutex<Vec<String>>>) -> ClientOptions {
    let handler: RequestHandler = Arc::new(move |request| {
        asked
            .lock()
            .unwrap()
            .push(format!("{} {}", request.id, request.method));
        Box::pin(async move {
            Ok(json!({"action": "accept", "content": {"name": "Ada"}})
                .as_object()
                .unwrap()
                .clone())
        })
    });
    ClientOptions {
        era,
        capabilities: ClientCapabilities {
            elicitation: Some(Default::default()),
            ..Default::default()
        },
        on_request: Some(handler),
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn auto_speaks_2026_07_28_and_answers_input_required_with_the_handler() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let client = memory::connect_with(&server(Eras::Both), options(ClientEra::Auto, asked.clone()))
        .await
        .unwrap();
    assert_eq!(client.era(), Era::Stateless);
    assert_eq!(client.server().server_info.name, "s");
    assert_eq!(client.list_tools().await.unwrap().len(), 1);
    let mut call = client
        .call_tool_streaming("greet", json!({}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let result = tokio::time::timeout(LIMIT, async {
        loop {
            match call.next_event().await {
                Some(CallEvent::Progress(p)) => seen.push(p.message.unwrap()),
                Some(CallEvent::Done(r)) => break r.unwrap(),
                None => panic!("the call ended without a result"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(result.text(), "Hello, Ada!");
    // Each report once, across both rounds; the question went to the handler under its key.
    assert_eq!(seen, ["one", "two", "three"]);
    assert_eq!(
        *asked.lock().unwrap(),
        ["\"elicitation-1\" elicitation/create"]
    );
}

#[tokio::test]
async fn auto_falls_back_to_initialize_and_the_stateful_era_asks_in_place() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let client = memory::connect_with(
        &server(Eras::Stateful),
        options(ClientEra::Auto, asked.clone()),
    )
    .await
    .unwrap();
    assert_eq!(client.era(), Era::Stateful);
    assert_eq!(client.protocol_version().unwrap().as_str(), "2025-11-25");
    let result = client.call_tool("greet", json!({})).await.unwrap();
    assert_eq!(result.text(), "Hello, Ada!");
    assert_eq!(asked.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_client_pinned_to_2026_07_28_fails_clearly_on_a_stateful_only_server() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let e = memory::connect_with(
        &server(Eras::Stateful),
        options(ClientEra::Stateless, asked),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("2026-07-28"), "{e}");
}

fn resources(subscriptions: bool) -> Server {
    let text = |uri: &str| {
        mcp_core::StaticResource::text(
            mcp_core::protocol::Resource::new(uri, uri, "text/plain"),
            "body",
        )
    };
    Server::builder("r", "1")
        .resources(text("test://a"))
        .resources(text("test://b"))
        .resource_subscriptions(subscriptions)
        .build()
        .unwrap()
}

#[tokio::test]
async fn subscriptions_are_one_listen_stream_and_each_update_arrives_once() {
    let server = resources(true);
    let client = memory::connect(&server).await.unwrap();
    assert_eq!(client.era(), Era::Stateless);
    let mut notes = client.notifications();
    // The second subscription replaces the listen request with one naming both; a third to
    // a followed resource changes nothing.
    for uri in ["test://a", "test://b", "test://a"] {
        tokio::time::timeout(LIMIT, client.subscribe_resource(uri))
            .await
            .unwrap()
            .unwrap();
    }
    for uri in ["test://a", "test://b"] {
        server.notify_resource_updated(uri).await;
        let note = tokio::time::timeout(LIMIT, notes.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(note.method, "notifications/resources/updated");
        assert_eq!(note.params.unwrap()["uri"], uri);
    }
    // Whatever the replaced request still carried was dropped: nothing arrives twice.
    client.ping().await.unwrap();
    assert!(notes.try_recv().is_err(), "an update arrived twice");

    // A server that offers no subscriptions says so in its acknowledgement.
    let client = memory::connect(&resources(false)).await.unwrap();
    let e = client.subscribe_resource("test://a").await.unwrap_err();
    assert!(
        matches!(&e, mcp_core::RequestError::Unsupported(why) if why.contains("test://a")),
        "{e:?}"
    );
}
