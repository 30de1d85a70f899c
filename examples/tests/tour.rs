//! Every tool of the guide's tour, called through a client as a host would call it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, RequestHandler};
use mcp_core::protocol::{ClientCapabilities, LoggingLevel};
use mcp_core::server::Era;
use mcp_core::{CallEvent, Content, memory};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn parameters_defaults_and_options() {
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    let r = client
        .call_tool("greet", json!({"name": "Ada"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "Hello, Ada!");
    let r = client
        .call_tool("greet", json!({"name": "Ada", "times": 2, "prefix": "Oh,"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "Oh, Hello, Ada!\nOh, Hello, Ada!");
    let r = client
        .call_tool("greet", json!({"times": 2}))
        .await
        .unwrap();
    assert!(r.is_error() && r.text().contains("name"), "{r:?}");
    let tools = client.list_tools().await.unwrap();
    let greet = tools.iter().find(|t| t.name == "greet").unwrap();
    assert_eq!(greet.input_schema["required"], json!(["name"]));
    assert_eq!(greet.input_schema["properties"]["times"]["default"], 1);
    assert_eq!(
        greet.description.as_deref(),
        Some("Greets someone, optionally several times.")
    );
}

#[tokio::test]
async fn structured_output_and_errors() {
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    let r = client
        .call_tool("summarize", json!({"values": [1.0, 2.0, 6.0]}))
        .await
        .unwrap();
    let s = r.structured_content.unwrap();
    assert_eq!(
        (s["count"].clone(), s["mean"].clone()),
        (json!(3), json!(3.0))
    );
    let r = client
        .call_tool("summarize", json!({"values": []}))
        .await
        .unwrap();
    assert!(r.is_error());
    assert_eq!(r.text(), "give at least one number");
    let tools = client.list_tools().await.unwrap();
    let summarize = tools.iter().find(|t| t.name == "summarize").unwrap();
    assert_eq!(summarize.output_schema.as_ref().unwrap()["type"], "object");
    assert_eq!(
        summarize.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
}

#[tokio::test]
async fn streaming_with_total_logs_and_question_mark() {
    let dir = std::env::temp_dir().join(format!("tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
    std::fs::write(&a, "12345").unwrap();
    std::fs::write(&b, "123").unwrap();
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    client.set_logging_level(LoggingLevel::Debug).await.unwrap();
    let mut logs = client.log_messages();
    let paths = [a.to_str().unwrap(), b.to_str().unwrap()];
    let mut call = client
        .call_tool_streaming("measure_files", json!({"paths": paths}))
        .await
        .unwrap();
    let mut progress = Vec::new();
    while let Some(event) = tokio::time::timeout(LIMIT, call.next_event())
        .await
        .unwrap()
    {
        match event {
            CallEvent::Progress(p) => progress.push((p.progress, p.total, p.message.unwrap())),
            CallEvent::Done(r) => assert_eq!(r.unwrap().text(), "2 files, 8 bytes"),
        }
    }
    assert_eq!(
        progress,
        [
            (1.0, Some(2.0), format!("{}: 5 bytes", paths[0])),
            (2.0, Some(2.0), format!("{}: 3 bytes", paths[1])),
        ]
    );
    assert_eq!(
        logs.recv().await.unwrap().data,
        json!(format!("reading {}", paths[0]))
    );
    let r = client
        .call_tool("measure_files", json!({"paths": ["/no/such/file"]}))
        .await
        .unwrap();
    // The error names the file, not only the operating system's reason.
    assert!(
        r.is_error() && r.text().contains("cannot read /no/such/file: No such file"),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_the_wait() {
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    let mut call = client
        .call_tool_streaming("wait", json!({"seconds": 1000}))
        .await
        .unwrap();
    match call.next_event().await {
        Some(CallEvent::Progress(p)) => assert_eq!(p.message.as_deref(), Some("1 s")),
        other => panic!("{other:?}"),
    }
    call.cancel("enough").await.unwrap();
    client.ping().await.unwrap();
}

#[tokio::test]
async fn content_blocks_and_methods() {
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    let r = client.call_tool("pixel", json!({})).await.unwrap();
    assert!(matches!(&r.content[1], Content::Image(i) if i.mime_type == "image/png"));
    let r = client.call_tool("always_fails", json!({})).await.unwrap();
    assert!(r.is_error());
    client
        .call_tool("add_note", json!({"text": "one"}))
        .await
        .unwrap();
    let r = client
        .call_tool("add_note", json!({"text": "two"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "2 notes");
    let r = client.call_tool("list_notes", json!({})).await.unwrap();
    assert_eq!(r.text(), "one\ntwo");
}

#[tokio::test]
async fn out_of_range_arguments_fail_before_the_body_runs() {
    let client = memory::connect(&examples::tour::server().unwrap())
        .await
        .unwrap();
    let tools = client.list_tools().await.unwrap();
    let repeat = tools.iter().find(|t| t.name == "repeat").unwrap();
    let props = &repeat.input_schema["properties"];
    assert_eq!(
        (&props["times"]["minimum"], &props["times"]["maximum"]),
        (&json!(1), &json!(10))
    );
    assert_eq!(props["word"]["pattern"], "^[a-z]+$");

    // The body reports progress as its first act: a call that ran it would show some.
    let mut call = client
        .call_tool_streaming("repeat", json!({"word": "Hello", "times": 11}))
        .await
        .unwrap();
    let mut progress = 0;
    let result = loop {
        match tokio::time::timeout(LIMIT, call.next_event())
            .await
            .unwrap()
        {
            Some(CallEvent::Progress(_)) => progress += 1,
            Some(CallEvent::Done(result)) => break result.unwrap(),
            None => panic!("the call ended without a result"),
        }
    };
    assert_eq!(progress, 0, "the body ran");
    assert!(result.is_error());
    assert_eq!(
        result.text(),
        "Invalid arguments for tool `repeat`: `word` must match the pattern `^[a-z]+$` (got \"Hello\"); \
         `times` must be at most 10 (got 11)"
    );

    let r = client
        .call_tool_streaming("repeat", json!({"word": "ok", "times": 2}))
        .await
        .unwrap();
    let r = tokio::time::timeout(LIMIT, r.result())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.text(), "ok ok");
}

/// A client that answers `plan_trip`'s questions (Lisbon, 3 days) and records them.
fn answering(era: ClientEra, asked: Arc<Mutex<Vec<String>>>) -> ClientOptions {
    let handler: RequestHandler = Arc::new(move |request| {
        let params = request.params.unwrap_or_default();
        let message = params["message"].as_str().unwrap_or_default().to_owned();
        asked.lock().unwrap().push(message.clone());
        let content = if message == "Where to?" {
            json!({"place": "Lisbon"})
        } else {
            json!({"days": "3"})
        };
        let answer = json!({"action": "accept", "content": content});
        Box::pin(async move { Ok(answer.as_object().unwrap().clone()) })
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
async fn asking_the_user_works_the_same_in_both_eras_and_reports_progress_once() {
    for (era, expected) in [
        (ClientEra::Stateful, Era::Stateful),
        (ClientEra::Auto, Era::Stateless),
    ] {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let server = examples::tour::server().unwrap();
        let client = memory::connect_with(&server, answering(era, asked.clone()))
            .await
            .unwrap();
        assert_eq!(client.era(), expected);
        let mut call = client
            .call_tool_streaming("plan_trip", json!({}))
            .await
            .unwrap();
        let mut progress = Vec::new();
        let result = tokio::time::timeout(LIMIT, async {
            loop {
                match call.next_event().await.expect("the call ended early") {
                    CallEvent::Progress(p) => progress.push((p.progress, p.message.unwrap())),
                    CallEvent::Done(r) => break r.unwrap(),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(result.text(), "3 days in Lisbon", "{expected:?}");
        // Each report once, numbered on across the rounds of the stateless era.
        assert_eq!(
            progress,
            [
                (1.0, "looking at the map".to_owned()),
                (2.0, "checking the weather in Lisbon".to_owned()),
            ],
            "{expected:?}"
        );
        assert_eq!(
            *asked.lock().unwrap(),
            ["Where to?", "How many days in Lisbon?"],
            "{expected:?}"
        );
    }
}

/// The tasks chapter: the report runs as a task in both eras, and the client waits for it.
#[tokio::test]
async fn the_report_runs_as_a_task_in_both_eras() {
    let server = examples::tour::server().unwrap();
    for era in [ClientEra::Stateful, ClientEra::Stateless] {
        let options = ClientOptions {
            era,
            ..ClientOptions::default()
        };
        let client = memory::connect_with(&server, options).await.unwrap();
        let tools = client.list_tools().await.unwrap();
        let report = tools.iter().find(|t| t.name == "build_report").unwrap();
        let declared = report.task_support() == mcp_core::protocol::TaskSupport::Optional;
        // `execution` is a 2025-11-25 field; the extension needs no per-tool flag.
        assert_eq!(declared, era == ClientEra::Stateful, "{era:?}");
        let text = tokio::time::timeout(LIMIT, examples::tour::report_as_task(&client, 1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(text, "a report of 1 sections", "{era:?}");
    }
}

/// The tasks chapter: a 2026-07-28 client follows the report's task and sees each section's
/// message as the task reports it, then the result.
#[tokio::test]
async fn a_2026_client_follows_the_report_as_it_changes() {
    let server = examples::tour::server().unwrap();
    let options = ClientOptions {
        era: ClientEra::Stateless,
        ..ClientOptions::default()
    };
    let client = memory::connect_with(&server, options).await.unwrap();
    let (messages, text) = tokio::time::timeout(LIMIT, examples::tour::follow_report(&client, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        messages,
        ["section 1 of 2 written", "section 2 of 2 written"]
    );
    assert_eq!(text, "a report of 2 sections");
}
