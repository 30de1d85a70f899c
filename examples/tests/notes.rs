//! The notes server of the guide's chapter "Prompts and resources", through a client.

use std::collections::HashMap;
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions};
use mcp_core::protocol::{CompletionRef, Role};
use mcp_core::{Client, ErrorCode, RequestError, memory};
use serde_json::json;

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("in time")
}

#[tokio::test]
async fn prompts_resources_and_the_tool_work_together() {
    // A session (2025-11-25), and a client of the stateless era (2026-07-28), whose
    // subscription is a subscriptions/listen stream.
    for era in [ClientEra::Stateful, ClientEra::Auto] {
        let options = ClientOptions {
            era,
            ..ClientOptions::default()
        };
        let server = examples::notes::server().unwrap();
        let client = within(memory::connect_with(&server, options))
            .await
            .unwrap();
        work_together(&client, era).await;
    }
}

async fn work_together(client: &Client, era: ClientEra) {
    let prompts = within(client.list_prompts()).await.unwrap();
    let names: Vec<_> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["summarize", "review"]);
    let args = HashMap::from([("text".to_owned(), "Rust is fast.".to_owned())]);
    let r = within(client.get_prompt("summarize", args)).await.unwrap();
    assert_eq!(r.messages[0].role, Role::User);
    assert_eq!(
        r.messages[0].content.as_text(),
        Some("Summarize this text (brief):\n\nRust is fast.")
    );
    let c = within(client.complete(
        CompletionRef::Prompt {
            name: "summarize".into(),
        },
        "style",
        "b",
    ))
    .await
    .unwrap();
    assert_eq!(c.values, ["brief", "bullet points"]);

    let mut updates = client.notifications();
    within(client.subscribe_resource("notes://all"))
        .await
        .unwrap();
    let r = within(client.call_tool("add_note", json!({"text": "buy milk"})))
        .await
        .unwrap();
    assert_eq!(r.text(), "1 notes");
    let note = within(updates.recv()).await.unwrap();
    assert_eq!(note.params.unwrap()["uri"], "notes://all");

    let r = within(client.read_resource("notes://all")).await.unwrap();
    assert_eq!(
        r.contents[0].as_text(),
        Some(r#"{"count":1,"notes":["buy milk"]}"#)
    );
    let r = within(client.read_resource("notes://1")).await.unwrap();
    assert_eq!(r.contents[0].as_text(), Some("buy milk"));
    match within(client.read_resource("notes://2")).await {
        // The stateless era retired -32002: a missing resource is invalid params there.
        Err(RequestError::Rpc(e)) if era == ClientEra::Stateful => {
            assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND)
        }
        Err(RequestError::Rpc(e)) => assert_eq!(e.code, ErrorCode::INVALID_PARAMS),
        other => panic!("expected resource-not-found, got {other:?}"),
    }
    let r = within(client.read_resource("notes://guide")).await.unwrap();
    assert!(r.contents[0].as_text().unwrap().starts_with("# Notes"));
    let r = within(client.get_prompt("review", HashMap::new()))
        .await
        .unwrap();
    assert!(
        r.messages[0]
            .content
            .as_text()
            .unwrap()
            .ends_with("buy milk")
    );
}
