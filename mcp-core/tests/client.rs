//! The client session against an in-memory server: streaming calls, cancellation, logs.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::protocol::{LoggingLevel, ToolDefinition as ToolDef};
use mcp_core::tool::FnTool;
use mcp_core::{CallEvent, CallToolResult, IntoCallToolResult, Progress, Server, memory};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

/// These tests cover the stateful era (a session opened by `initialize`): the client is pinned
/// to it (tests/client_stateless.rs covers the other era).
async fn connect_stateful(
    server: &mcp_core::Server,
) -> Result<mcp_core::Client, mcp_core::client::ConnectError> {
    let options = mcp_core::ClientOptions {
        era: mcp_core::client::ClientEra::Stateful,
        ..Default::default()
    };
    memory::connect_with(server, options).await
}

const LIMIT: Duration = Duration::from_secs(20);

fn def(name: &str) -> ToolDef {
    serde_json::from_value(json!({
        "name": name, "description": "t",
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap()
}

struct OnDrop(Arc<Notify>);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[tokio::test]
async fn streaming_call_in_lockstep() {
    let release = Arc::new(Semaphore::new(0));
    let r = release.clone();
    let server = Server::builder("s", "1")
        .tool(FnTool::new(def("steps"), move |ctx, _| {
            let r = r.clone();
            async move {
                ctx.set_total(4.0);
                for i in 1..=4u64 {
                    ctx.progress(format!("step {i}")).await;
                    r.acquire().await.unwrap().forget();
                }
                "done".to_string().into_call_tool_result()
            }
        }))
        .build()
        .unwrap();
    let client = connect_stateful(&server).await.unwrap();
    let mut call = client
        .call_tool_streaming("steps", json!({}))
        .await
        .unwrap();
    for i in 1..=4 {
        let event = tokio::time::timeout(LIMIT, call.next_event())
            .await
            .unwrap();
        match event {
            Some(CallEvent::Progress(p)) => {
                assert_eq!(p.progress, i as f64);
                assert_eq!(p.total, Some(4.0));
                assert_eq!(p.message.as_deref(), Some(format!("step {i}").as_str()));
            }
            other => panic!("expected progress {i}, got {other:?}"),
        }
        release.add_permits(1);
    }
    match call.next_event().await {
        Some(CallEvent::Done(Ok(r))) => assert_eq!(r.text(), "done"),
        other => panic!("expected the result, got {other:?}"),
    }
    assert!(call.next_event().await.is_none());
}

#[tokio::test]
async fn explicit_progress_values_pass_through() {
    let server = Server::builder("s", "1")
        .tool(FnTool::new(def("p"), |ctx, _| async move {
            for v in [0.0, 50.0, 100.0] {
                ctx.progress(Progress::new().at(v).of(100.0)).await;
            }
            CallToolResult::default()
        }))
        .build()
        .unwrap();
    let client = connect_stateful(&server).await.unwrap();
    let mut call = client.call_tool_streaming("p", json!({})).await.unwrap();
    let mut seen = Vec::new();
    while let Some(e) = call.next_event().await {
        match e {
            CallEvent::Progress(p) => seen.push((p.progress, p.total)),
            CallEvent::Done(r) => assert!(!r.unwrap().is_error()),
        }
    }
    assert_eq!(
        seen,
        [
            (0.0, Some(100.0)),
            (50.0, Some(100.0)),
            (100.0, Some(100.0))
        ]
    );
}

#[tokio::test]
async fn dropping_a_call_cancels_it_on_the_server() {
    let started = Arc::new(Notify::new());
    let dropped = Arc::new(Notify::new());
    let (s, d) = (started.clone(), dropped.clone());
    let server = Server::builder("s", "1")
        .tool(FnTool::new(def("hang"), move |_, _| {
            let (s, guard) = (s.clone(), OnDrop(d.clone()));
            async move {
                let _guard = guard;
                s.notify_one();
                std::future::pending::<CallToolResult>().await
            }
        }))
        .build()
        .unwrap();
    let client = connect_stateful(&server).await.unwrap();
    let call = client.call_tool_streaming("hang", json!({})).await.unwrap();
    started.notified().await;
    let was_dropped = dropped.notified();
    drop(call);
    tokio::time::timeout(LIMIT, was_dropped).await.unwrap();
    client.ping().await.unwrap();
}

#[tokio::test]
async fn explicit_cancel_and_logs() {
    let started = Arc::new(Notify::new());
    let dropped = Arc::new(Notify::new());
    let (s, d) = (started.clone(), dropped.clone());
    let server = Server::builder("s", "1")
        .tool(FnTool::new(def("hang"), move |ctx, _| {
            let (s, guard) = (s.clone(), OnDrop(d.clone()));
            async move {
                let _guard = guard;
                ctx.log(LoggingLevel::Warning, Some("t"), "about to hang")
                    .await;
                ctx.debug("filtered out").await;
                s.notify_one();
                std::future::pending::<CallToolResult>().await
            }
        }))
        .build()
        .unwrap();
    let client = connect_stateful(&server).await.unwrap();
    client.set_logging_level(LoggingLevel::Info).await.unwrap();
    let mut logs = client.log_messages();
    let call = client.call_tool_streaming("hang", json!({})).await.unwrap();
    started.notified().await;
    let log = tokio::time::timeout(LIMIT, logs.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(log.level, LoggingLevel::Warning);
    assert_eq!(log.data, json!("about to hang"));
    let was_dropped = dropped.notified();
    call.cancel("test").await.unwrap();
    tokio::time::timeout(LIMIT, was_dropped).await.unwrap();
    assert!(logs.try_recv().is_err(), "the debug message was filtered");
}

#[tokio::test]
async fn rpc_errors_reach_the_caller_typed() {
    let server = Server::builder("s", "1").build().unwrap();
    let client = connect_stateful(&server).await.unwrap();
    match client.call_tool("missing", json!({})).await {
        Err(mcp_core::RequestError::Rpc(e)) => {
            assert_eq!(e.code, mcp_core::ErrorCode::INVALID_PARAMS)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client.protocol_version(),
        Some(mcp_core::ProtocolVersion::LATEST)
    );
    assert!(client.list_tools().await.unwrap().is_empty());
}

#[tokio::test]
async fn prompts_resources_and_updates_through_the_client() {
    use mcp_core::protocol::{GetPromptResult, PromptMessage, Resource};
    let prompt = serde_json::from_value(json!({"name": "p", "description": "d"})).unwrap();
    let server = Server::builder("s", "1")
        .prompt(mcp_core::FnPrompt::new(prompt, |_, _| async {
            Ok(GetPromptResult {
                description: None,
                messages: vec![PromptMessage::user("hi")],
                meta: None,
            })
        }))
        .resources(mcp_core::StaticResource::text(
            Resource::new("test://r", "r", "text/plain"),
            "body",
        ))
        .resource_subscriptions(true)
        .build()
        .unwrap();
    let client = connect_stateful(&server).await.unwrap();
    assert_eq!(client.list_prompts().await.unwrap()[0].name, "p");
    let got = client.get_prompt("p", Default::default()).await.unwrap();
    assert_eq!(got.messages[0].content.as_text(), Some("hi"));
    assert_eq!(client.list_resources().await.unwrap()[0].uri, "test://r");
    let read = client.read_resource("test://r").await.unwrap();
    assert!(
        matches!(&read.contents[0], mcp_core::protocol::ResourceContents::Text(t) if t.text == "body")
    );
    let mut notes = client.notifications();
    let mut params = mcp_core::JsonObject::new();
    params.insert("uri".into(), "test://r".into());
    client
        .request("resources/subscribe", Some(params))
        .await
        .unwrap();
    server.notify_resource_updated("test://r").await;
    let n = tokio::time::timeout(LIMIT, notes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.method, "notifications/resources/updated");
}

#[tokio::test]
async fn list_tools_follows_every_page() {
    let mut builder = Server::builder("s", "1").page_size(2);
    for i in 0..5 {
        builder = builder.tool(FnTool::new(def(&format!("t{i}")), |_, _| async {
            CallToolResult::default()
        }));
    }
    let client = connect_stateful(&builder.build().unwrap()).await.unwrap();
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);
}
